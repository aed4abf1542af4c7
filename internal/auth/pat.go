package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// PAT secrets are lookup secrets (lookupsecret.go) with the prefix "firnpat_".
const PATPrefix = "firnpat_"

// FactorPAT is the LOGIN_HISTORY first_authentication_factor of PAT logins.
const FactorPAT = "PROGRAMMATIC_ACCESS_TOKEN"

// NewPATSecret returns a fresh token secret, its lookup id and the SHA-256 hash to store.
func NewPATSecret() (secret, id string, hash []byte, err error) {
	return NewLookupSecret(PATPrefix)
}

// ParsePATSecret returns the lookup id of a well-formed PAT secret.
func ParsePATSecret(secret string) (id string, ok bool) {
	return ParseLookupSecret(PATPrefix, secret)
}

// LooksLikePAT reports whether s has the shape of a PAT secret.
func LooksLikePAT(s string) bool {
	_, ok := ParsePATSecret(s)
	return ok
}

// patInvalid is Snowflake's refusal of an unknown, removed, expired, disabled or
// otherwise unusable programmatic access token.
func patInvalid() *sferr.Error {
	e := sferr.New("394400", "08004", "Programmatic access token is invalid.")
	e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "PAT"}
	return e
}

// patNetworkPolicyRequired refuses a PAT whose user is not subject to a network policy.
func patNetworkPolicyRequired() *sferr.Error {
	e := sferr.New("394400", "08004", "Programmatic access token is invalid. Network policy is required.")
	e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "PAT"}
	return e
}

// IsServiceType reports whether a user TYPE is a service type for PAT rules
// (SERVICE, LEGACY_SERVICE): role restriction required, network policy required
// to generate and to use a token.
func IsServiceType(typ string) bool { return typ == "SERVICE" || typ == "LEGACY_SERVICE" }

// PATNetworkPolicyOK applies Snowflake's default network-policy prerequisite
// (NETWORK_POLICY_EVALUATION = ENFORCED_REQUIRED) to using token p of user u at now:
// the user must be subject to a network policy, except that a PERSON user's token
// may be used without one during its MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT
// window after creation. SERVICE_AGENT users are exempt.
func PATNetworkPolicyOK(ctx context.Context, tx store.Tx, account string, u *catalog.User, p *catalog.PAT, now time.Time) (bool, error) {
	if u.Type == "SERVICE_AGENT" {
		return true, nil
	}
	has, err := catalog.NetworkPolicies().UserHasNetworkPolicy(ctx, tx, account, u.Name)
	if err != nil || has {
		return has, err
	}
	if IsServiceType(u.Type) {
		return false, nil
	}
	bypass := time.Duration(p.MinsToBypassNetworkPolicy) * time.Minute
	return bypass > 0 && now.Before(p.CreatedAt.Add(bypass)), nil
}

// PAT is the PROGRAMMATIC_ACCESS_TOKEN authenticator. The secret comes in TOKEN, or
// in PASSWORD when TOKEN is empty (Node's PAT mode without a token sends the
// password field there).
type PAT struct {
	Now func() time.Time
}

// Factor implements Authenticator.
func (*PAT) Factor() string { return FactorPAT }

// Authenticate implements Authenticator. Every refusal is 394400; when the user can
// be identified (by the token or by LOGIN_NAME) it is returned in the Outcome so the
// attempt is recorded in LOGIN_HISTORY. PAT failures never count toward lockout.
func (a *PAT) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	secret := req.Token
	if secret == "" {
		secret = req.Password
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	refuse := func(u *catalog.User, e *sferr.Error) (*Outcome, error) {
		if u == nil && req.LoginName != "" {
			u, _ = catalog.UserByLogin(ctx, tx, acct.Name, req.LoginName)
		}
		if u == nil {
			return nil, e
		}
		return &Outcome{User: u, Err: e}, nil
	}
	id, ok := ParsePATSecret(secret)
	if !ok {
		return refuse(nil, patInvalid())
	}
	p, err := catalog.PATByID(ctx, tx, acct.Name, id)
	if catalog.IsNotFound(err) {
		return refuse(nil, patInvalid())
	}
	if err != nil {
		return nil, err
	}
	u, err := catalog.GetUser(ctx, tx, acct.Name, p.User)
	if catalog.IsNotFound(err) {
		return refuse(nil, patInvalid())
	}
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(h[:], p.Hash) != 1 {
		return refuse(u, patInvalid())
	}
	// The token names its user; a LOGIN_NAME, when sent, must name the same user.
	if req.LoginName != "" && !strings.EqualFold(req.LoginName, u.LoginName) && !strings.EqualFold(req.LoginName, u.Name) {
		return refuse(nil, patInvalid())
	}
	if p.Disabled || !now.Before(p.ExpiresAt) {
		return refuse(u, patInvalid())
	}
	if p.RoleRestriction != "" {
		// Revoking or dropping the restricted role invalidates the token.
		ok, err := authz.CanUseRole(ctx, tx, acct.Name, u.Name, p.RoleRestriction)
		if err != nil {
			return nil, err
		}
		if !ok {
			return refuse(u, patInvalid())
		}
	} else if IsServiceType(u.Type) {
		return refuse(u, patInvalid())
	}
	ok, err = PATNetworkPolicyOK(ctx, tx, acct.Name, u, p, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return refuse(u, patNetworkPolicyRequired())
	}
	return &Outcome{User: u, RoleRestriction: p.RoleRestriction}, nil
}

// patOrPassword is the password authenticator that also accepts a PAT secret in
// place of the password, as Snowflake's drivers allow.
type patOrPassword struct {
	pw  Authenticator
	pat *PAT
}

// Factor implements Authenticator.
func (a *patOrPassword) Factor() string { return a.pw.Factor() }

// Authenticate implements Authenticator: a password with the shape of a PAT secret
// is checked as a PAT (and the request is marked as a PAT login so the session
// records its factor), anything else as a password.
func (a *patOrPassword) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	if LooksLikePAT(req.Password) && req.Token == "" {
		out, err := a.pat.Authenticate(ctx, tx, acct, req)
		if err == nil && out.Err == nil {
			req.Authenticator = FactorPAT
		}
		return out, err
	}
	return a.pw.Authenticate(ctx, tx, acct, req)
}

// registerPAT registers the PROGRAMMATIC_ACCESS_TOKEN authenticator and lets the
// password authenticators accept a PAT secret as the password.
func (s *Service) registerPAT() {
	pat := &PAT{Now: s.now}
	s.Register(FactorPAT, pat)
	for _, name := range []string{"", "SNOWFLAKE"} {
		if pw, ok := s.authns[name]; ok {
			s.authns[name] = &patOrPassword{pw: pw, pat: pat}
		}
	}
}
