package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha256" // RS256
	_ "crypto/sha512" // RS384, RS512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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

// jwtHeader is the part of a JOSE header a key-pair JWT is checked on.
type jwtHeader struct {
	Alg string `json:"alg"`
}

// claimString is a string claim; any other JSON kind reads as "" (no error), as
// golang-jwt's GetSubject / GetIssuer did.
type claimString string

// UnmarshalJSON implements json.Unmarshaler.
func (c *claimString) UnmarshalJSON(b []byte) error {
	*c = ""
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			*c = claimString(s)
		}
	}
	return nil
}

// jwtClaims are the claims a key-pair JWT is checked on. The time claims are kept raw
// so that only JSON numbers are accepted (see numericDate).
type jwtClaims struct {
	Iss claimString     `json:"iss"`
	Sub claimString     `json:"sub"`
	Iat json.RawMessage `json:"iat"`
	Exp json.RawMessage `json:"exp"`
	Nbf json.RawMessage `json:"nbf"`
}

// splitJWT splits a compact JWS into its three segments.
func splitJWT(tok string) (header, claims, sig string, ok bool) {
	i := strings.IndexByte(tok, '.')
	j := strings.LastIndexByte(tok, '.')
	if i < 0 || i == j || strings.IndexByte(tok[i+1:j], '.') >= 0 {
		return "", "", "", false
	}
	return tok[:i], tok[i+1 : j], tok[j+1:], true
}

// parseUnverified decodes a token's header and claims without checking anything.
func parseUnverified(tok string) (*jwtHeader, *jwtClaims, error) {
	h64, c64, _, ok := splitJWT(tok)
	if !ok {
		return nil, nil, errors.New("jwt: token is not three dot-separated segments")
	}
	hb, err := base64.RawURLEncoding.DecodeString(h64)
	if err != nil {
		return nil, nil, fmt.Errorf("jwt: header: %w", err)
	}
	var h jwtHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, nil, fmt.Errorf("jwt: header: %w", err)
	}
	cb, err := base64.RawURLEncoding.DecodeString(c64)
	if err != nil {
		return nil, nil, fmt.Errorf("jwt: claims: %w", err)
	}
	var c jwtClaims
	if err := json.Unmarshal(cb, &c); err != nil {
		return nil, nil, fmt.Errorf("jwt: claims: %w", err)
	}
	return &h, &c, nil
}

// hashOf is the digest each accepted algorithm signs with.
func hashOf(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256":
		return crypto.SHA256, true
	case "RS384":
		return crypto.SHA384, true
	case "RS512":
		return crypto.SHA512, true
	}
	return 0, false
}

// verifySignature checks tok's RSASSA-PKCS1-v1_5 signature under alg with pub.
func verifySignature(tok, alg string, pub *rsa.PublicKey) error {
	h, ok := hashOf(alg)
	if !ok {
		return fmt.Errorf("jwt: signing method %q is not accepted", alg)
	}
	_, _, s64, _ := splitJWT(tok)
	sig, err := base64.RawURLEncoding.DecodeString(s64)
	if err != nil {
		return fmt.Errorf("jwt: signature: %w", err)
	}
	hh := h.New()
	hh.Write([]byte(tok[:len(tok)-len(s64)-1]))
	if err := rsa.VerifyPKCS1v15(pub, h, hh.Sum(nil), sig); err != nil {
		return fmt.Errorf("jwt: signature: %w", err)
	}
	return nil
}

// Authenticate implements Authenticator. The user is identified from the claims
// before the signature is checked, so that refusals of a known user are recorded in
// its login history; only a verified signature (RS256, RS384 or RS512 with the key
// slot iss names) and valid time claims succeed. The token is parsed by hand into
// the few claims checked (a golang-jwt MapClaims parse cost more than the checks).
func (j *JWT) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	h, c, err := parseUnverified(req.Token)
	if err != nil {
		e := JWTInvalid()
		e.Cause = fmt.Errorf("jwt: unreadable token: %w", err)
		return nil, e
	}
	id, err := j.identify(ctx, tx, acct, string(c.Sub), string(c.Iss))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("jwt: find user: %w", err)
	}
	switch {
	case !slices.Contains(jwtMethods, h.Alg):
		err = fmt.Errorf("jwt: signing method %q is not accepted", h.Alg)
	case id.bad != nil:
		err = id.bad
	case id.key == nil:
		err = errors.New("jwt: fingerprint matches no key of the user")
	default:
		if err = verifySignature(req.Token, h.Alg, id.key); err == nil {
			err = j.checkTimes(c)
		}
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
func (j *JWT) identify(ctx context.Context, tx store.Tx, acct *catalog.Account, sub, iss string) (*jwtIdentity, error) {
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
func (j *JWT) checkTimes(c *jwtClaims) error {
	iat, err := numericDate(c.Iat, "iat", true)
	if err != nil {
		return err
	}
	exp, err := numericDate(c.Exp, "exp", true)
	if err != nil {
		return err
	}
	nbf, err := numericDate(c.Nbf, "nbf", false)
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

// numericDate reads a JSON number claim (raw; nil when absent) as a time, treating
// values above 1e11 as milliseconds. Any other JSON kind, null included, is refused.
func numericDate(raw json.RawMessage, name string, required bool) (time.Time, error) {
	if raw == nil {
		if required {
			return time.Time{}, fmt.Errorf("jwt: missing %s", name)
		}
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || raw[0] == '"' || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
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
