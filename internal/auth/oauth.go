package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// OAuth token parameters.
const (
	// OAuthAudience is the audience of tokens meant for driver logins.
	OAuthAudience = "snowflake"
	// MaxOAuthTokenTTL is the longest lifetime MintOAuthToken grants.
	MaxOAuthTokenTTL = time.Hour
	// DefaultOAuthTokenTTL is used when MintOAuthToken is given ttl 0.
	DefaultOAuthTokenTTL = 10 * time.Minute
	// KindOAuthKey is the store kind of an account's OAuth signing key. The record is
	// read only by this package; the key never leaves the server and is stored only
	// sealed with the account's data key (see oauthkey.go and docs/identity.md,
	// "OAuth").
	KindOAuthKey = "OAUTH_SIGNING_KEY"

	oauthIssuer  = "firn"
	oauthKeyName = "CURRENT"
	oauthMethod  = "HS256"
)

// OAuthInvalid answers a token that is malformed, forged, tampered with, or bound to
// another account, user or audience.
func OAuthInvalid() *sferr.Error {
	e := sferr.New("390303", "08004", "Invalid OAuth access token.")
	e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "OAUTH"}
	return e
}

// OAuthExpired answers a genuine token whose lifetime is over.
func OAuthExpired() *sferr.Error {
	e := sferr.New("390318", "08004", "OAuth access token expired.")
	e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "OAUTH"}
	return e
}

// oauthClaims are the claims of a firn OAuth access token: iss "firn", sub the user
// name, aud the audience, iat/exp/jti, the account name and an optional role to which
// sessions are restricted.
type oauthClaims struct {
	jwt.RegisteredClaims
	Account string `json:"acct"`
	Role    string `json:"role,omitempty"`
}

// MintOAuthToken issues an OAuth access token for user of account, valid for ttl
// (0 means DefaultOAuthTokenTTL; at most MaxOAuthTokenTTL) and for audience ("" means
// OAuthAudience, the one driver logins accept). A non-empty role restricts sessions
// made with the token to that role. The token is an HS256 JWT signed with a random
// per-account key kept sealed in the store, so it is useless in any other account.
// Creating an account's key needs a keyring (SetKeyring).
func (s *Service) MintOAuthToken(ctx context.Context, account, user, role, audience string, ttl time.Duration) (string, error) {
	switch {
	case ttl == 0:
		ttl = DefaultOAuthTokenTTL
	case ttl < 0 || ttl > MaxOAuthTokenTTL:
		return "", fmt.Errorf("oauth: ttl %s outside (0, %s]", ttl, MaxOAuthTokenTTL)
	}
	if audience == "" {
		audience = OAuthAudience
	}
	keys := s.oauthKeys()
	if keys == nil {
		return "", errors.New("oauth: the OAUTH authenticator is not registered")
	}
	var acctName, userName string
	err := s.st.View(ctx, func(tx store.Tx) error {
		acct, err := FindAccount(ctx, tx, account)
		if err != nil {
			return err
		}
		u, err := catalog.GetUser(ctx, tx, acct.Name, user)
		if catalog.IsNotFound(err) {
			u, err = catalog.GetUser(ctx, tx, acct.Name, resolveIdent(user))
		}
		if err != nil {
			return err
		}
		acctName, userName = acct.Name, u.Name
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("oauth: mint for %s.%s: %w", account, user, err)
	}
	// Outside any transaction: creating the key seals it, which may store the
	// account's first data key in a transaction of its own.
	key, err := keys.forMint(ctx, s.st, acctName)
	if err != nil {
		return "", fmt.Errorf("oauth: mint for %s.%s: %w", account, user, err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := s.now()
	c := oauthClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: oauthIssuer, Subject: userName, Audience: jwt.ClaimStrings{audience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID: base64.RawURLEncoding.EncodeToString(jti),
		},
		Account: acctName,
	}
	if role != "" {
		c.Role = resolveIdent(role)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
}

// OAuth is the OAUTH authenticator for tokens minted by MintOAuthToken. Invalid
// tokens answer 390303, expired ones 390318.
type OAuth struct {
	parser *jwt.Parser
	keys   *oauthKeys
}

// NewOAuth returns the OAUTH authenticator using now as its clock.
func NewOAuth(now func() time.Time) *OAuth {
	return &OAuth{parser: jwt.NewParser(
		jwt.WithValidMethods([]string{oauthMethod}), jwt.WithIssuer(oauthIssuer),
		jwt.WithAudience(OAuthAudience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	), keys: newOAuthKeys()}
}

// Factor implements Authenticator.
func (*OAuth) Factor() string { return "OAUTH_ACCESS_TOKEN" }

// RefuseUnknown implements UnknownRefuser.
func (*OAuth) RefuseUnknown() *sferr.Error { return OAuthInvalid() }

// Authenticate implements Authenticator.
func (o *OAuth) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	var c oauthClaims
	_, err := o.parser.ParseWithClaims(req.Token, &c, func(t *jwt.Token) (any, error) {
		if c.Account != acct.Name {
			return nil, fmt.Errorf("oauth: token of account %q used in %q", c.Account, acct.Name)
		}
		return o.keys.forLogin(ctx, tx, acct.Name)
	})
	// Name the user for its login history even when the token is refused; the claims
	// were decoded before any check failed, or are decoded here.
	if c.Subject == "" {
		if _, _, perr := o.parser.ParseUnverified(req.Token, &c); perr != nil {
			e := OAuthInvalid()
			e.Cause = fmt.Errorf("oauth: unreadable token: %w", perr)
			return nil, e
		}
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("oauth: token names no user: %w", store.ErrNotFound)
	}
	u, uerr := catalog.GetUser(ctx, tx, acct.Name, c.Subject)
	if uerr != nil {
		return nil, uerr
	}
	if err == nil && (c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxOAuthTokenTTL) {
		err = errors.New("oauth: no iat, or lifetime exceeds one hour")
	}
	if err == nil && req.LoginName != "" && !strings.EqualFold(req.LoginName, u.LoginName) && !strings.EqualFold(req.LoginName, u.Name) {
		err = fmt.Errorf("oauth: LOGIN_NAME %q is not the token's user", req.LoginName)
	}
	if err != nil {
		e := OAuthInvalid()
		if errors.Is(err, jwt.ErrTokenExpired) {
			// Claims are validated only after the signature verified.
			e = OAuthExpired()
		}
		e.Cause = err
		return &Outcome{User: u, Err: e}, nil
	}
	return &Outcome{User: u, RoleRestriction: c.Role}, nil
}
