// Package auth authenticates logins: it resolves the account and user, runs the
// authenticator the client asked for (password today; key-pair JWT, OAuth and
// programmatic access tokens plug into the same registry), applies lockout, and
// returns the identity a session is created for. It knows nothing of HTTP.
package auth

import (
	"net/netip"

	"github.com/firn/firn/internal/session"
)

// LoginRequest is what a client presented at login, independent of transport.
type LoginRequest struct {
	Account       string // ACCOUNT_NAME (text before the first dot) or Host-derived account
	LoginName     string // LOGIN_NAME; empty for key-pair JWT (taken from the token)
	Authenticator string // upper-case AUTHENTICATOR; "" means SNOWFLAKE (password)
	Password      string
	Token         string // JWT, OAuth token or PAT
	Passcode      string
	ClientApp     string
	ClientVersion string
	ClientIP      netip.Addr
	// Requested context from the login URL's query parameters (may be empty).
	Database, Schema, Warehouse, Role string
	// SessionParams are the client's SESSION_PARAMETERS, values as sent (string, bool, number).
	SessionParams map[string]any
	// Sessions, when set, makes Login store the new session in its login transaction
	// (one commit for the outcome, LOGIN_HISTORY and the session); the returned
	// session then carries its tokens (session.Session.IssuedTokens).
	Sessions *session.Manager
}
