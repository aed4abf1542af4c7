package creds

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// stsAPI is the part of the STS client the broker uses.
type stsAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// token returns the secret's token from the cache, or fetches one. Concurrent
// callers of one secret share one upstream call.
func (b *Broker) token(ctx context.Context, p Principal, d *decision) (Credential, string, error) {
	key := d.tokKey
	now := b.cfg.Now()
	b.tmu.RLock()
	e := b.tokens[key]
	b.tmu.RUnlock()
	if e != nil && e.version == d.version && now.Before(e.refreshAt) {
		e.hits.Add(1)
		c := e.cred
		c.Integration = d.eai
		return c, SourceCache, nil
	}
	type result struct {
		e       *entry
		fetched bool
	}
	v, err, _ := b.flight.Do(key, func() (any, error) {
		now := b.cfg.Now()
		b.tmu.RLock()
		old := b.tokens[key]
		b.tmu.RUnlock()
		if old != nil && old.version == d.version && now.Before(old.refreshAt) {
			return result{e: old}, nil
		}
		// The upstream call outlives a cancelled caller: other callers wait on it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.UpstreamTimeout)
		defer cancel()
		var pending *rotation
		if old != nil {
			pending = old.pending
		}
		ne, err := b.fetch(uctx, p, d, now, pending)
		if err != nil {
			if old != nil && old.version == d.version && now.Before(old.expires) {
				// Keep serving the still-valid token; retry on the next call.
				msg := errorText(err)
				old.lastErr.Store(&msg)
				b.log.Warn("credential refresh failed; serving the current token until it expires",
					slog.String("account", p.Account), slog.String("secret", d.secret.Ref.String()), slog.String("err", msg))
				return result{e: old}, nil
			}
			return nil, err
		}
		ne.account, ne.secret, ne.typ, ne.version = p.Account, d.secret.Ref.String(), d.secret.Type, d.version
		if old != nil && old.version == d.version {
			ne.hits.Store(old.hits.Load())
			ne.fetches.Store(old.fetches.Load())
		}
		ne.fetches.Add(1)
		b.tmu.Lock()
		b.tokens[key] = ne
		b.tmu.Unlock()
		return result{e: ne, fetched: true}, nil
	})
	if err != nil {
		return Credential{}, "", err
	}
	r := v.(result)
	r.e.hits.Add(1)
	c := r.e.cred
	c.Integration = d.eai
	if r.fetched {
		return c, SourceUpstream, nil
	}
	return c, SourceCache, nil
}

// fetch obtains a new token for the decision's secret. pending is the rotated
// refresh token the previous fetch could not store, if any.
func (b *Broker) fetch(ctx context.Context, p Principal, d *decision, now time.Time, pending *rotation) (*entry, error) {
	switch d.secret.Type {
	case TypeCloudProviderToken:
		return b.assumeRole(ctx, p, d, now)
	case TypeOAuth2:
		return b.oauthToken(ctx, p, d, now, pending)
	}
	return nil, fmt.Errorf("creds: secret type %s has no token", d.secret.Type)
}

func newEntry(cred Credential, now time.Time, lifetime time.Duration) *entry {
	e := &entry{cred: cred, issued: now, expires: now.Add(lifetime)}
	e.refreshAt = now.Add(time.Duration(float64(lifetime) * RefreshFraction))
	e.cred.Expires = e.expires
	return e
}

// SessionName is the RoleSessionName firn uses for a CLOUD_PROVIDER_TOKEN secret:
// "firn-<ACCOUNT>-<DB>.<SCHEMA>.<SECRET>", with characters STS does not accept
// ([^\w+=,.@-]) replaced by '-', and, when longer than STS's 64 characters, cut to 55
// characters plus '-' and the first 8 hex digits of the full name's SHA-256. It is
// deterministic, so resource policies can name the assumed-role session ARN
// arn:aws:sts::<acct>:assumed-role/<role>/<session name>.
func SessionName(account string, ref SecretRef) string {
	full := "firn-" + account + "-" + ref.String()
	b := []byte(full)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0
		if !ok {
			b[i] = '-'
		}
	}
	s := string(b)
	if len(s) > 64 {
		sum := sha256.Sum256([]byte(full))
		s = s[:55] + "-" + hex.EncodeToString(sum[:4])
	}
	return s
}

// stsClient returns the STS client, building it from the AWS configuration on first
// use (a failure is retried on the next call).
func (b *Broker) stsClient(ctx context.Context) (stsAPI, error) {
	b.stsMu.Lock()
	defer b.stsMu.Unlock()
	if b.sts != nil {
		return b.sts, nil
	}
	load := b.cfg.AWSConfig
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	cfg, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("creds: aws configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	b.sts = sts.NewFromConfig(cfg)
	return b.sts, nil
}

// assumeRole calls STS AssumeRole for a CLOUD_PROVIDER_TOKEN secret.
func (b *Broker) assumeRole(ctx context.Context, p Principal, d *decision, now time.Time) (*entry, error) {
	in := d.integ
	if in.RoleARN == "" || in.ExternalID == "" {
		return nil, errors.New("the AWS_IAM integration has no AWS_ROLE_ARN or external ID")
	}
	client, err := b.stsClient(ctx)
	if err != nil {
		return nil, err
	}
	dur := b.cfg.STSDuration
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(in.RoleARN),
		RoleSessionName: aws.String(SessionName(p.Account, d.secret.Ref)),
		ExternalId:      aws.String(in.ExternalID),
		DurationSeconds: aws.Int32(int32(dur / time.Second)),
	})
	if err != nil {
		return nil, stsError(err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return nil, errors.New("STS AssumeRole returned no credentials")
	}
	lifetime := dur
	if c.Expiration != nil {
		// STS's expiry is absolute on the real clock; map it onto the broker's clock.
		if l := time.Until(*c.Expiration); l < lifetime {
			lifetime = l
		}
	}
	if lifetime <= 0 {
		return nil, errors.New("STS AssumeRole returned expired credentials")
	}
	return newEntry(Credential{Type: TypeCloudProviderToken, AWS: AWSCredentials{AccessKeyID: *c.AccessKeyId,
		SecretAccessKey: Sensitive(*c.SecretAccessKey), SessionToken: Sensitive(*c.SessionToken)}}, now, lifetime), nil
}

// stsError reduces an STS error to its code and message (no request details).
func stsError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("STS AssumeRole: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return fmt.Errorf("STS AssumeRole: %s", oe.Err.Error())
	}
	return fmt.Errorf("STS AssumeRole: %w", err)
}

// checkTokenEndpoint requires https, except to a loopback address.
func checkTokenEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("the OAuth token endpoint is not a valid URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || strings.EqualFold(host, "localhost") {
			return nil
		}
	}
	return errors.New("the OAuth token endpoint must use https")
}

// oauthToken runs the client-credentials flow, or the refresh-token flow for a secret
// with an OAUTH_REFRESH_TOKEN.
func (b *Broker) oauthToken(ctx context.Context, p Principal, d *decision, now time.Time, pending *rotation) (*entry, error) {
	in, s := d.integ, d.secret
	if err := checkTokenEndpoint(in.TokenEndpoint); err != nil {
		return nil, err
	}
	style := oauth2.AuthStyleInHeader
	if strings.EqualFold(in.ClientAuthMethod, "CLIENT_SECRET_POST") {
		style = oauth2.AuthStyleInParams
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, b.cfg.HTTPClient)
	if s.RefreshToken != "" {
		return b.refreshFlow(ctx, p, d, now, style, pending)
	}
	scopes := s.Scopes
	if len(scopes) == 0 {
		scopes = in.AllowedScopes
	}
	conf := &clientcredentials.Config{ClientID: in.ClientID, ClientSecret: in.ClientSecret.Reveal(),
		TokenURL: in.TokenEndpoint, Scopes: scopes, AuthStyle: style}
	tok, err := conf.Token(ctx)
	if err != nil {
		// A token endpoint may echo what it was sent: never pass that on.
		return nil, scrub(oauthError(err), in.ClientSecret.Reveal())
	}
	return b.oauthEntry(in, tok, now)
}

// rotation is a refresh token the OAuth server rotated that could not be stored in
// the secret: next replaces spent, which the server will refuse from now on. It is
// used while the secret still holds spent.
type rotation struct {
	spent, next Sensitive
}

// refreshFlow runs the refresh-token grant with the refresh token stored in the
// secret now — read again, not taken from the cached decision, so that a token
// another replica (or an earlier run) rotated and stored is the one used — and stores
// the token the server rotates into the secret (saveRotated).
func (b *Broker) refreshFlow(ctx context.Context, p Principal, d *decision, now time.Time, style oauth2.AuthStyle, pending *rotation) (*entry, error) {
	in := d.integ
	cur, err := b.currentSecret(ctx, p.Account, d.secret.Ref)
	if err != nil {
		return nil, err
	}
	if !cur.RefreshTokenExpiry.IsZero() && !now.Before(cur.RefreshTokenExpiry) {
		return nil, errors.New("the secret's OAUTH_REFRESH_TOKEN has expired")
	}
	conf := &oauth2.Config{ClientID: in.ClientID, ClientSecret: in.ClientSecret.Reveal(),
		Endpoint: oauth2.Endpoint{TokenURL: in.TokenEndpoint, AuthStyle: style}}
	use := cur.RefreshToken
	if pending != nil && sameValue(pending.spent, cur.RefreshToken) {
		use = pending.next
	}
	tok, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: use.Reveal()}).Token()
	if err != nil && isInvalidGrant(err) {
		// Another refresher may have spent and rotated the stored token since it was
		// read: if the secret now holds another one, try that once.
		if again, rerr := b.currentSecret(ctx, p.Account, d.secret.Ref); rerr == nil && again.RefreshToken != "" &&
			!sameValue(again.RefreshToken, cur.RefreshToken) {
			cur, use = again, again.RefreshToken
			tok, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: use.Reveal()}).Token()
		}
	}
	if err != nil {
		// A token endpoint may echo what it was sent: never pass that on.
		return nil, scrub(oauthError(err), in.ClientSecret.Reveal(), use.Reveal(), cur.RefreshToken.Reveal())
	}
	e, err := b.oauthEntry(in, tok, now)
	if err != nil {
		return nil, err
	}
	// The token to keep is the one the server rotated to, or — when it did not
	// rotate — the one just used, if the secret does not hold it yet (a pending one).
	keep := use
	if tok.RefreshToken != "" {
		keep = Sensitive(tok.RefreshToken)
	}
	if !sameValue(keep, cur.RefreshToken) {
		e.pending = b.saveRotated(ctx, p, d, cur, keep)
	}
	return e, nil
}

// currentSecret reads the secret from the store now.
func (b *Broker) currentSecret(ctx context.Context, account string, ref SecretRef) (*Secret, error) {
	var s *Secret
	err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		s, err = b.cfg.Source.Secret(ctx, tx, account, ref)
		return err
	})
	if catalog.IsNotFound(err) {
		return nil, errors.New("the secret no longer exists")
	}
	if err != nil {
		return nil, fmt.Errorf("reading the secret: %w", err)
	}
	if s.Type != TypeOAuth2 || s.RefreshToken == "" {
		return nil, errors.New("the secret no longer holds an OAUTH_REFRESH_TOKEN")
	}
	return s, nil
}

// saveRotated stores next, the refresh token the server rotated to, into the
// secret, if the secret is still the record cur was read from (compare-and-swap on
// its Revision), and audits the rotation (never a value). When it cannot be stored,
// the returned rotation keeps it for the next refresh, as long as the secret still
// holds the spent token.
func (b *Broker) saveRotated(ctx context.Context, p Principal, d *decision, cur *Secret, next Sensitive) *rotation {
	rec := &store.CredsAuditRecord{Account: p.Account, EventTime: b.cfg.Now(), Role: p.Role, Workload: p.Workload,
		Secret: d.secret.Ref.String(), SecretType: TypeOAuth2, Integration: d.eai, Outcome: OutcomeRotated, Source: SourceUpstream}
	pending := &rotation{spent: cur.RefreshToken, next: next}
	saver, ok := b.cfg.Source.(RefreshTokenSaver)
	stored := false
	switch {
	case !ok || cur.Revision == "":
		rec.Reason = "refresh token rotated; kept in memory only: the secret source cannot store it"
	default:
		saved, err := saver.SaveRefreshToken(ctx, b.cfg.Store, p.Account, d.secret.Ref, cur.Revision, next)
		switch {
		case err != nil:
			msg := scrub(err, next.Reveal(), cur.RefreshToken.Reveal()).Error()
			rec.Reason = "refresh token rotated; not stored: " + msg
			b.log.Error("rotated refresh token not stored", slog.String("account", p.Account),
				slog.String("secret", d.secret.Ref.String()), slog.String("err", msg))
		case !saved:
			rec.Reason = "refresh token rotated; not stored: the secret was altered, replaced or dropped meanwhile"
		default:
			rec.Reason = "refresh token rotated; stored in the secret"
			stored, pending = true, nil
		}
	}
	b.log.Info("oauth refresh token rotated", slog.String("account", p.Account),
		slog.String("secret", d.secret.Ref.String()), slog.Bool("stored", stored))
	b.audit.add(rec)
	return pending
}

// sameValue compares two credential values in constant time.
func sameValue(a, b Sensitive) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// isInvalidGrant reports an OAuth invalid_grant error (a refresh token the server
// no longer accepts).
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// oauthEntry makes the cache entry of a token response.
func (b *Broker) oauthEntry(in *SecurityIntegration, tok *oauth2.Token, now time.Time) (*entry, error) {
	if tok.AccessToken == "" {
		return nil, errors.New("the OAuth token endpoint returned no access_token")
	}
	lifetime := expiresIn(tok)
	if v := in.AccessTokenValidity; v > 0 && (lifetime <= 0 || v < lifetime) {
		lifetime = v
	}
	if lifetime <= 0 {
		lifetime = b.cfg.TokenLifetime
	}
	typ := tok.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return newEntry(Credential{Type: TypeOAuth2, AccessToken: Sensitive(tok.AccessToken), TokenType: typ}, now, lifetime), nil
}

// expiresIn is the token response's expires_in (0 when absent).
func expiresIn(tok *oauth2.Token) time.Duration {
	if tok.ExpiresIn > 0 {
		return time.Duration(tok.ExpiresIn) * time.Second
	}
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		return time.Duration(v * float64(time.Second))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	if !tok.Expiry.IsZero() {
		return time.Until(tok.Expiry)
	}
	return 0
}

// oauthError reduces a token-endpoint error to its status, error code and
// description: the response body is never passed on.
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := "OAuth token endpoint"
		if re.Response != nil {
			msg += fmt.Sprintf(" answered %d", re.Response.StatusCode)
		}
		if re.ErrorCode != "" {
			msg += ": " + re.ErrorCode
		}
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		return errors.New(msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("OAuth token endpoint unreachable: %v", ue.Err)
	}
	// Other x/oauth2 errors ("oauth2: server response missing access_token", ...)
	// carry no response body; the caller scrubs them of the secrets sent.
	return fmt.Errorf("OAuth token request failed: %v", err)
}

// scrub replaces every occurrence of the given values in err's text.
func scrub(err error, values ...string) error {
	msg := err.Error()
	changed := false
	for _, v := range values {
		if v != "" && strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	return errors.New(msg)
}

// CacheEntry describes one cached token, without its value.
type CacheEntry struct {
	Account   string    `json:"account"`
	Secret    string    `json:"secret"`
	Type      string    `json:"type"`
	Issued    time.Time `json:"issued"`
	Expires   time.Time `json:"expires"`
	RefreshAt time.Time `json:"refresh_at"`
	// Hits counts credentials issued from the entry; Fetches counts upstream calls.
	Hits      int64  `json:"hits"`
	Fetches   int64  `json:"fetches"`
	LastError string `json:"last_error,omitempty"`
}

// CacheState lists the cached tokens, ordered by account and secret.
func (b *Broker) CacheState() []CacheEntry {
	b.tmu.RLock()
	out := make([]CacheEntry, 0, len(b.tokens))
	for _, e := range b.tokens {
		ce := CacheEntry{Account: e.account, Secret: e.secret, Type: e.typ, Issued: e.issued, Expires: e.expires,
			RefreshAt: e.refreshAt, Hits: e.hits.Load(), Fetches: e.fetches.Load()}
		if p := e.lastErr.Load(); p != nil {
			ce.LastError = *p
		}
		out = append(out, ce)
	}
	b.tmu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Secret < out[j].Secret
	})
	return out
}
