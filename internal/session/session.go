// Package session keeps login sessions: their session and master tokens (random, stored
// only as SHA-256 hashes), validity and idle timeouts, and per-session state (role,
// secondary roles, database, schema, warehouse and session parameters).
package session

import "time"

// Session is the state of one logged-in client. It is persisted through the store so
// that any replica can serve it.
type Session struct {
	ID       int64  `json:"-"`
	Account  string `json:"-"`
	User     string `json:"user"`
	UserType string `json:"user_type"` // PERSON, SERVICE, LEGACY_SERVICE, SNOWFLAKE_SERVICE
	Role     string `json:"role"`
	// SecondaryRoles is nil for none, ["ALL"] for all granted roles, or explicit names.
	SecondaryRoles []string `json:"secondary_roles,omitempty"`
	Database       string   `json:"database,omitempty"`
	Schema         string   `json:"schema,omitempty"`
	Warehouse      string   `json:"warehouse,omitempty"`
	// Params holds session-level parameter values (upper-case name → value text) set
	// at login or with ALTER SESSION.
	Params        map[string]string `json:"params,omitempty"`
	ClientApp     string            `json:"client_app,omitempty"`
	ClientVersion string            `json:"client_version,omitempty"`
	ClientIP      string            `json:"client_ip,omitempty"`
	// AuthMethod is the login's first authentication factor (PASSWORD, RSA_KEYPAIR, ...).
	AuthMethod   string `json:"auth_method,omitempty"`
	LoginEventID int64  `json:"login_event_id,omitempty"`
	// RoleRestriction, when set, is the only role the session may use (PAT logins).
	RoleRestriction string `json:"role_restriction,omitempty"`

	Created      time.Time `json:"-"`
	LastUsed     time.Time `json:"-"`
	TokenExpiry  time.Time `json:"-"`
	MasterExpiry time.Time `json:"-"`

	// masterHash identifies the stored session across token renewals; it is set by
	// Manager and used by Save.
	masterHash []byte
	// issued holds the tokens of a session stored by Pending.Insert.
	issued *Tokens
}

// Tokens are the bearer tokens handed to a client at login or renewal. They exist in
// plain text only in this value and on the wire.
type Tokens struct {
	SessionToken    string
	MasterToken     string
	SessionValidity time.Duration
	MasterValidity  time.Duration
}
