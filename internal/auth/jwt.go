package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Key-pair JWT limits.
const (
	// DefaultJWTClockSkew is the clock skew tolerated on iat, nbf and exp.
	DefaultJWTClockSkew = 60 * time.Second
	// MaxJWTLifetime is the longest exp − iat a key-pair JWT may span.
	MaxJWTLifetime = time.Hour
	// jwtMillisThreshold: numeric dates above it are milliseconds (the Node driver
	// sends Date.now()); 1e11 seconds is the year 5138.
	jwtMillisThreshold = 1e11
	// maxCachedKeys bounds the parsed-key cache; it is cleared when full.
	maxCachedKeys = 10000
)

// jwtMethods are the only signing algorithms a key-pair JWT may use.
var jwtMethods = []string{"RS256", "RS384", "RS512"}

// JWTInvalid is Snowflake's answer to any rejected key-pair JWT.
func JWTInvalid() *sferr.Error {
	e := sferr.New("390144", "08004", "JWT token is invalid.")
	e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "KEY_PAIR"}
	return e
}

// JWT is the SNOWFLAKE_JWT (key-pair) authenticator. The token's sub names
// ACCOUNT.USER, its iss ACCOUNT.USER.SHA256:<fingerprint>; the fingerprint selects
// RSA_PUBLIC_KEY or RSA_PUBLIC_KEY_2 and the signature must verify with that key
// under RS256, RS384 or RS512. Every refusal is 390144.
type JWT struct {
	now          func() time.Time
	skew         time.Duration
	organization string
	parser       *jwt.Parser
	keys         keyCache
}

// NewJWT returns a key-pair authenticator using now as its clock, tolerating skew on
// time claims (0 means DefaultJWTClockSkew) and accepting org-account forms for the
// organisation org ("" means FIRN).
func NewJWT(now func() time.Time, skew time.Duration, org string) *JWT {
	if skew <= 0 {
		skew = DefaultJWTClockSkew
	}
	if org == "" {
		org = "FIRN"
	}
	return &JWT{
		now: now, skew: skew, organization: strings.ToUpper(org),
		// Time claims are checked by hand: Node sends milliseconds.
		parser: jwt.NewParser(jwt.WithValidMethods(jwtMethods), jwt.WithoutClaimsValidation()),
	}
}

// Factor implements Authenticator.
func (*JWT) Factor() string { return "RSA_KEYPAIR" }

// RefuseUnknown implements UnknownRefuser: an unknown account or user gets the same
// 390144 as a bad signature.
func (*JWT) RefuseUnknown() *sferr.Error { return JWTInvalid() }

// errUnknownUser marks a token whose sub names no user of the account.
var errUnknownUser = fmt.Errorf("jwt: unknown user: %w", store.ErrNotFound)

// jwtIdentity is what the token's unverified claims name.
type jwtIdentity struct {
	user *catalog.User
	key  *rsa.PublicKey // the slot whose fingerprint matches iss; nil when none
	bad  error          // a claim problem found while identifying
}

// Authenticate implements Authenticator. The user is identified from the claims
// before the signature is checked, so that refusals of a known user are recorded in
// its login history; only a verified signature and valid time claims succeed.
func (j *JWT) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	var id *jwtIdentity
	var lookupErr error
	tok, err := j.parser.Parse(req.Token, func(t *jwt.Token) (any, error) {
		id, lookupErr = j.identify(ctx, tx, acct, t.Claims)
		switch {
		case lookupErr != nil:
			return nil, lookupErr
		case id.bad != nil:
			return nil, id.bad
		case id.key == nil:
			return nil, errors.New("jwt: fingerprint matches no key of the user")
		}
		return id.key, nil
	})
	if id == nil && lookupErr == nil {
		// The key function did not run (malformed token or a refused algorithm): still
		// name the user when the claims can be read, for its login history.
		if t, _, perr := j.parser.ParseUnverified(req.Token, jwt.MapClaims{}); perr == nil {
			id, lookupErr = j.identify(ctx, tx, acct, t.Claims)
		}
	}
	if lookupErr != nil {
		if errors.Is(lookupErr, store.ErrNotFound) {
			return nil, lookupErr
		}
		return nil, fmt.Errorf("jwt: find user: %w", lookupErr)
	}
	if id == nil {
		e := JWTInvalid()
		e.Cause = fmt.Errorf("jwt: unreadable token: %w", err)
		return nil, e
	}
	if err == nil {
		err = j.checkTimes(tok.Claims)
	}
	if err != nil {
		e := JWTInvalid()
		e.Cause = err
		return &Outcome{User: id.user, Err: e}, nil
	}
	return &Outcome{User: id.user}, nil
}

// identify reads iss and sub, resolves the user in acct and picks the key slot whose
// fingerprint iss names. Problems with the claims are reported in bad once the user is
// known; an unknown user is an error wrapping store.ErrNotFound.
func (j *JWT) identify(ctx context.Context, tx store.Tx, acct *catalog.Account, c jwt.Claims) (*jwtIdentity, error) {
	sub, _ := c.GetSubject()
	iss, _ := c.GetIssuer()
	acctPart, userPart, ok := strings.Cut(sub, ".")
	if !ok || acctPart == "" || userPart == "" {
		return nil, fmt.Errorf("jwt: sub %q is not ACCOUNT.USER: %w", sub, store.ErrNotFound)
	}
	u, err := catalog.UserByLogin(ctx, tx, acct.Name, userPart)
	if err != nil {
		if catalog.IsNotFound(err) {
			return nil, errUnknownUser
		}
		return nil, err
	}
	id := &jwtIdentity{user: u}
	// iss is sub + ".SHA256:<fingerprint>"; the user part may itself contain dots.
	var fp string
	if len(iss) > len(sub)+1 && strings.EqualFold(iss[:len(sub)], sub) && iss[len(sub)] == '.' {
		fp = iss[len(sub)+1:]
	}
	switch {
	case !j.accountMatches(acctPart, acct.Name):
		id.bad = fmt.Errorf("jwt: token names account %q, login is for %q", acctPart, acct.Name)
	case fp == "":
		id.bad = fmt.Errorf("jwt: iss %q does not match sub %q", iss, sub)
	case !strings.HasPrefix(strings.ToUpper(fp), "SHA256:"):
		id.bad = errors.New("jwt: iss fingerprint lacks SHA256: prefix")
	default:
		fp = "SHA256:" + fp[len("SHA256:"):]
		for _, body := range []string{u.RSAPublicKey, u.RSAPublicKey2} {
			if body == "" {
				continue
			}
			k, err := j.keys.get(body)
			if err != nil {
				continue // an unparsable stored key matches nothing
			}
			if k.fp == fp {
				id.key = k.pub
				break
			}
		}
	}
	return id, nil
}

// accountMatches reports whether a token's account part names account: the name
// itself or ORG-ACCOUNT, case-insensitively.
func (j *JWT) accountMatches(part, account string) bool {
	if strings.EqualFold(part, account) {
		return true
	}
	org, name, ok := strings.Cut(part, "-")
	return ok && strings.EqualFold(org, j.organization) && strings.EqualFold(name, account)
}

// checkTimes validates iat, exp and nbf, reading values above 1e11 as milliseconds.
func (j *JWT) checkTimes(c jwt.Claims) error {
	mc, ok := c.(jwt.MapClaims)
	if !ok {
		return errors.New("jwt: unexpected claims type")
	}
	iat, err := numericDate(mc, "iat", true)
	if err != nil {
		return err
	}
	exp, err := numericDate(mc, "exp", true)
	if err != nil {
		return err
	}
	nbf, err := numericDate(mc, "nbf", false)
	if err != nil {
		return err
	}
	now := j.now()
	switch {
	case exp.Before(iat):
		return errors.New("jwt: exp before iat")
	case exp.Sub(iat) > MaxJWTLifetime:
		return fmt.Errorf("jwt: lifetime %s exceeds %s", exp.Sub(iat), MaxJWTLifetime)
	case iat.After(now.Add(j.skew)):
		return errors.New("jwt: issued in the future")
	case !now.Before(exp.Add(j.skew)):
		return errors.New("jwt: expired")
	case !nbf.IsZero() && nbf.After(now.Add(j.skew)):
		return errors.New("jwt: not valid yet")
	}
	return nil
}

// numericDate reads a JSON number claim as a time, treating values above 1e11 as
// milliseconds.
func numericDate(mc jwt.MapClaims, name string, required bool) (time.Time, error) {
	v, ok := mc[name]
	if !ok {
		if required {
			return time.Time{}, fmt.Errorf("jwt: missing %s", name)
		}
		return time.Time{}, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
		return time.Time{}, fmt.Errorf("jwt: %s is not a numeric date", name)
	}
	if f > jwtMillisThreshold {
		return time.UnixMilli(int64(f)), nil
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// cachedKey is a parsed RSA public key and its fingerprint.
type cachedKey struct {
	pub *rsa.PublicKey
	fp  string
}

// keyCache maps a stored key body (base64 DER SPKI) to its parsed form, so a login
// costs one signature verification and no parsing. The body is the key itself, so an
// ALTER USER that changes or unsets a key is seen at once.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]*cachedKey
}

func (c *keyCache) get(body string) (*cachedKey, error) {
	c.mu.RLock()
	k, ok := c.m[body]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	pub, err := ParseRSAPublicKey(body)
	if err != nil {
		return nil, err
	}
	k = &cachedKey{pub: pub, fp: Fingerprint(pub)}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[string]*cachedKey)
	}
	c.m[body] = k
	c.mu.Unlock()
	return k, nil
}
