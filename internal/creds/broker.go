package creds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/singleflight"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Audit outcomes and sources (creds_audit.outcome / .source).
const (
	OutcomeIssued = "ISSUED"
	OutcomeDenied = "DENIED"
	OutcomeFailed = "FAILED"
	// OutcomeRotated records that the OAuth server rotated a secret's refresh token;
	// the reason says whether it was stored in the secret.
	OutcomeRotated = "ROTATED"

	SourceStore    = "STORE"    // the value stored in the secret (PASSWORD, GENERIC_STRING)
	SourceCache    = "CACHE"    // a cached token
	SourceUpstream = "UPSTREAM" // a token fetched from STS or an OAuth token endpoint for this call
)

// Defaults of Config.
const (
	DefaultDecisionTTL   = 5 * time.Second
	DefaultSTSDuration   = time.Hour
	DefaultTokenLifetime = 15 * time.Minute
	DefaultUpstreamLimit = 30 * time.Second
	// DefaultAuditFlushInterval is Config.AuditFlushInterval's default.
	DefaultAuditFlushInterval = 100 * time.Millisecond
	// RefreshFraction is the part of a token's lifetime after which it is refreshed.
	RefreshFraction = 0.8
)

// Config configures a Broker.
type Config struct {
	// Store holds the catalog and the audit trail (required).
	Store store.Store
	// Source reads secrets and integrations (required; CatalogSource in a server).
	Source Source
	Logger *slog.Logger
	// Now is the clock (tests inject one). Default time.Now.
	Now func() time.Time
	// DecisionTTL is how long an authorization decision (EAI enabled and allowing the
	// secret, privileges, the secret's configuration) is reused before the catalog is
	// read again: the longest a revoked grant, disabled EAI or altered secret can
	// still be served. Invalidate drops decisions at once. Default 5 s.
	DecisionTTL time.Duration
	// STSDuration is AssumeRole's DurationSeconds (900 s to 12 h). Default 1 h.
	STSDuration time.Duration
	// AWSConfig returns the AWS configuration STS is called with. Default:
	// config.LoadDefaultConfig (environment, shared files, AWS_ENDPOINT_URL_STS, ...),
	// with region us-east-1 when none is configured.
	AWSConfig func(ctx context.Context) (aws.Config, error)
	// HTTPClient makes OAuth token requests. Default: a client with a 30 s timeout
	// that follows no redirects.
	HTTPClient *http.Client
	// TokenLifetime is an OAuth token's lifetime when neither the token response
	// (expires_in) nor the integration (OAUTH_ACCESS_TOKEN_VALIDITY) gives one.
	// Default 15 min.
	TokenLifetime time.Duration
	// UpstreamTimeout bounds one STS or token-endpoint call. Default 30 s.
	UpstreamTimeout time.Duration
	// AuditFlushInterval is how long the audit writer gathers rows before it writes
	// them in one transaction (Audit and Flush write at once). Default 100 ms:
	// rows are durable within that; a crash can lose the last interval's rows.
	// Negative: write as soon as the writer is idle.
	AuditFlushInterval time.Duration
}

// Broker resolves secrets into credentials for workloads. It is safe for concurrent
// use. Close it to write the pending audit rows.
type Broker struct {
	cfg   Config
	log   *slog.Logger
	audit *auditWriter

	dmu       sync.RWMutex
	decisions map[string]*decision
	dflight   singleflight.Group

	tmu    sync.RWMutex
	tokens map[string]*entry
	flight singleflight.Group

	stsMu sync.Mutex
	sts   stsAPI
}

// New returns a broker. It starts the audit writer.
func New(cfg Config) *Broker {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DecisionTTL == 0 {
		cfg.DecisionTTL = DefaultDecisionTTL
	}
	if cfg.STSDuration == 0 {
		cfg.STSDuration = DefaultSTSDuration
	}
	if cfg.HTTPClient == nil {
		// No redirects: a token request carries the client secret, and a 307/308 would
		// replay it to wherever the endpoint points.
		cfg.HTTPClient = &http.Client{Timeout: DefaultUpstreamLimit,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.AuditFlushInterval == 0 {
		cfg.AuditFlushInterval = DefaultAuditFlushInterval
	}
	if cfg.UpstreamTimeout == 0 {
		cfg.UpstreamTimeout = DefaultUpstreamLimit
	}
	b := &Broker{cfg: cfg, log: cfg.Logger, audit: newAuditWriter(cfg.Store, cfg.Logger, cfg.AuditFlushInterval),
		decisions: map[string]*decision{}, tokens: map[string]*entry{}}
	register(b)
	return b
}

// Close writes the pending audit rows and stops the audit writer.
func (b *Broker) Close() {
	unregister(b)
	b.audit.close()
}

// decision is a cached authorization decision with the objects it read.
type decision struct {
	checked time.Time
	denied  error  // the client-facing denial, nil when allowed
	reason  string // the audit reason of a denial
	eai     string // the EAI that allowed the secret
	secret  *Secret
	integ   *SecurityIntegration
	version string // the secret's and integration's versions, for the token cache
	tokKey  string // the token cache key of the secret
}

// entry is a cached token of one secret.
type entry struct {
	account, secret, typ string
	version              string
	cred                 Credential
	issued               time.Time
	expires              time.Time
	refreshAt            time.Time
	pending              *rotation // a rotated refresh token that could not be stored
	hits                 atomic.Int64
	fetches              atomic.Int64
	lastErr              atomic.Pointer[string]
}

// Resolve returns the credential of secret ref for a workload of principal p bound to
// the external access integrations eais. It is denied unless one of eais exists, is
// enabled, is usable by p.Role and allows the secret, and p.Role may read the secret
// (see the package documentation). Every call is audited. Errors are *sferr.Error
// values safe to show to the workload's owner; they never contain a credential.
func (b *Broker) Resolve(ctx context.Context, p Principal, eais []string, ref SecretRef) (Credential, error) {
	now := b.cfg.Now()
	rec := &store.CredsAuditRecord{Account: p.Account, EventTime: now, Role: p.Role, Workload: p.Workload, Secret: ref.String()}
	d, err := b.decide(ctx, p, eais, ref, now)
	if err != nil {
		rec.Outcome, rec.Reason = OutcomeFailed, "catalog: "+errorText(err)
		b.audit.add(rec)
		b.log.Error("credential decision failed", slog.String("account", p.Account), slog.String("secret", ref.String()), slog.Any("err", err))
		return Credential{}, sferr.As(err)
	}
	if d.secret != nil {
		rec.SecretType = d.secret.Type
	}
	if d.denied != nil {
		rec.Outcome, rec.Reason = OutcomeDenied, d.reason
		b.audit.add(rec)
		return Credential{}, d.denied
	}
	var cred Credential
	switch d.secret.Type {
	case TypePassword:
		cred = Credential{Type: TypePassword, Username: d.secret.Username, Password: d.secret.Password, Integration: d.eai}
		rec.Source = SourceStore
	case TypeGenericString:
		cred = Credential{Type: TypeGenericString, String: d.secret.String, Integration: d.eai}
		rec.Source = SourceStore
	case TypeOAuth2, TypeCloudProviderToken:
		var source string
		cred, source, err = b.token(ctx, p, d)
		if err != nil {
			rec.Outcome, rec.Reason = OutcomeFailed, errorText(err)
			b.audit.add(rec)
			return Credential{}, upstreamFailed(ref, err)
		}
		rec.Source, rec.ExpiresAt = source, cred.Expires
	default:
		rec.Outcome, rec.Reason = OutcomeDenied, "secret type "+d.secret.Type+" is not issued to workloads"
		b.audit.add(rec)
		return Credential{}, accessError(fmt.Sprintf("Secret '%s' of type %s cannot be used by a workload.", ref, d.secret.Type))
	}
	rec.Outcome, rec.Integration = OutcomeIssued, d.eai
	b.audit.add(rec)
	return cred, nil
}

// Invalidate forgets the cached decisions of an account (all accounts when account
// is ""), so the next Resolve reads the catalog. Cached tokens stay; a decision that
// finds the secret or its integration altered discards them.
func (b *Broker) Invalidate(account string) {
	b.dmu.Lock()
	defer b.dmu.Unlock()
	if account == "" {
		clear(b.decisions)
		return
	}
	for k := range b.decisions {
		if strings.HasPrefix(k, account+"\x00") {
			delete(b.decisions, k)
		}
	}
}

func decisionKey(p Principal, eais []string, ref SecretRef) string {
	var sb strings.Builder
	n := len(p.Account) + len(p.Role) + len(ref.Database) + len(ref.Schema) + len(ref.Name) + 8
	for _, e := range eais {
		n += len(e) + 1
	}
	sb.Grow(n)
	sb.WriteString(p.Account)
	sb.WriteByte(0)
	sb.WriteString(p.Role)
	sb.WriteByte(0)
	sb.WriteString(ref.Database)
	sb.WriteByte(0)
	sb.WriteString(ref.Schema)
	sb.WriteByte(0)
	sb.WriteString(ref.Name)
	for _, e := range eais {
		sb.WriteByte(0)
		sb.WriteString(e)
	}
	return sb.String()
}

// decide returns the (possibly cached) authorization decision.
func (b *Broker) decide(ctx context.Context, p Principal, eais []string, ref SecretRef, now time.Time) (*decision, error) {
	key := decisionKey(p, eais, ref)
	b.dmu.RLock()
	d := b.decisions[key]
	b.dmu.RUnlock()
	if d != nil && now.Sub(d.checked) < b.cfg.DecisionTTL && !now.Before(d.checked) {
		return d, nil
	}
	// Concurrent callers with the same question share one catalog read.
	v, err, _ := b.dflight.Do(key, func() (any, error) {
		d := &decision{checked: now}
		err := b.cfg.Store.View(ctx, func(tx store.Tx) error {
			return b.evaluate(ctx, tx, p, eais, ref, d)
		})
		if err != nil {
			return nil, err
		}
		b.dmu.Lock()
		if len(b.decisions) >= maxDecisions {
			clear(b.decisions)
		}
		b.decisions[key] = d
		b.dmu.Unlock()
		return d, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*decision), nil
}

// maxDecisions bounds the decision cache; it is cleared when full.
const maxDecisions = 65536

// deny records a denial on d.
func (d *decision) deny(client error, reason string) error {
	d.denied, d.reason = client, reason
	return nil
}

func accessError(msg string) *sferr.Error {
	e := sferr.New("003001", "42501", "SQL access control error:\n"+msg)
	e.Type = "COMPILATION"
	return e
}

func upstreamFailed(ref SecretRef, err error) *sferr.Error {
	e := sferr.New("100358", "22000", fmt.Sprintf("Credential for secret '%s' could not be obtained: %s", ref, errorText(err)))
	e.Type = "EXECUTION"
	e.Cause = err
	return e
}

// evaluate makes the decision of one Resolve from the catalog.
func (b *Broker) evaluate(ctx context.Context, tx store.Tx, p Principal, eais []string, ref SecretRef, d *decision) error {
	secretMissing := sferr.DoesNotExist("Secret", ref.String())
	if p.Account == "" || p.Role == "" {
		return d.deny(secretMissing, "no account or role")
	}
	snap, err := authz.Load(ctx, tx, p.Account)
	if err != nil {
		return err
	}
	if !snap.RoleExists(p.Role) && p.Role != catalog.RolePublic {
		return d.deny(secretMissing, "role "+p.Role+" does not exist")
	}
	roles := snap.Closure(p.Role)

	// The secret: it exists and the owner role may read it.
	s, err := b.cfg.Source.Secret(ctx, tx, p.Account, ref)
	if catalog.IsNotFound(err) {
		return d.deny(secretMissing, "secret does not exist")
	}
	if err != nil {
		return err
	}
	d.secret = s
	if !b.usable(ctx, tx, snap, roles, p.Account, ref) {
		return d.deny(secretMissing, "role "+p.Role+" lacks USAGE on the secret's database or schema")
	}
	secObj := catalog.Object{Kind: "SECRET", Database: ref.Database, Schema: ref.Schema, Name: ref.Name}
	if !snap.Allowed(roles, secObj, s.Owner, catalog.PrivRead) {
		return d.deny(secretMissing, "role "+p.Role+" lacks READ on the secret")
	}

	// The workload's EAIs: one must be enabled, usable and allow the secret.
	if len(eais) == 0 {
		return d.deny(accessError(fmt.Sprintf("Secret '%s' is not allowed: the workload has no external access integration.", ref)),
			"workload has no external access integration")
	}
	var reasons []string
	var allowing []*EAI
	for _, name := range eais {
		e, err := b.cfg.Source.ExternalAccessIntegration(ctx, tx, p.Account, name)
		if catalog.IsNotFound(err) {
			reasons = append(reasons, "eai "+name+" does not exist")
			continue
		}
		if err != nil {
			return err
		}
		if !snap.Allowed(roles, catalog.Object{Kind: "INTEGRATION", Name: e.Name}, e.Owner, catalog.PrivUsage) {
			reasons = append(reasons, "role "+p.Role+" lacks USAGE on eai "+name)
			continue
		}
		if !e.Enabled {
			reasons = append(reasons, "eai "+name+" is disabled")
			continue
		}
		if !e.allows(s) {
			reasons = append(reasons, "eai "+name+" does not allow the secret")
			continue
		}
		allowing = append(allowing, e)
	}
	if len(allowing) == 0 {
		return d.deny(accessError(fmt.Sprintf("Secret '%s' is not allowed by an enabled external access integration of the workload.", ref)),
			strings.Join(reasons, "; "))
	}
	d.eai = allowing[0].Name

	// Type-specific configuration.
	d.version = strconv.FormatInt(s.Version, 10)
	d.tokKey = p.Account + "\x00" + ref.String()
	switch s.Type {
	case TypeCloudProviderToken, TypeOAuth2:
		if s.Type == TypeCloudProviderToken && s.Disabled {
			return d.deny(accessError(fmt.Sprintf("Secret '%s' is disabled.", ref)), "secret is disabled")
		}
		want := AuthOAuth2
		if s.Type == TypeCloudProviderToken {
			want = AuthAWSIAM
		}
		notUsable := accessError(fmt.Sprintf("Security integration '%s' of secret '%s' does not exist, is disabled or is not of AUTH_TYPE = %s.",
			s.Integration, ref, want))
		if s.Integration == "" {
			return d.deny(notUsable, "secret has no API_AUTHENTICATION integration")
		}
		in, err := b.cfg.Source.SecurityIntegration(ctx, tx, p.Account, s.Integration)
		if catalog.IsNotFound(err) {
			return d.deny(notUsable, "security integration "+s.Integration+" does not exist")
		}
		if err != nil {
			return err
		}
		if !in.Enabled {
			return d.deny(notUsable, "security integration "+s.Integration+" is disabled")
		}
		if in.AuthType != want {
			return d.deny(notUsable, "security integration "+s.Integration+" is AUTH_TYPE "+in.AuthType)
		}
		d.integ = in
		d.version += "/" + strconv.FormatInt(in.Version, 10)
		if s.Type == TypeOAuth2 {
			return checkEndpointEgress(d, ref, in, allowing)
		}
	}
	return nil
}

// checkEndpointEgress chooses, among the EAIs that allow the secret, the first whose
// network rules allow the OAuth token endpoint's host:port, and denies the secret
// when none does. This is firn's default, not Snowflake's (which calls the token
// endpoint whatever the EAI's rules say): the endpoint is a URL chosen in SQL, to
// which the server sends the client secret and refresh token, so it must be a
// destination the EAI's owner allowed, like any other egress. An endpoint that is
// not a valid URL is left to the token request, which refuses it.
func checkEndpointEgress(d *decision, ref SecretRef, in *SecurityIntegration, allowing []*EAI) error {
	host, port, ok := endpointHostPort(in.TokenEndpoint)
	if !ok {
		return nil
	}
	hp := net.JoinHostPort(host, strconv.Itoa(port))
	var names []string
	for _, e := range allowing {
		if egressAllows(e.NetworkRules, host, port) {
			d.eai = e.Name
			return nil
		}
		names = append(names, e.Name)
	}
	d.eai = ""
	return d.deny(accessError(fmt.Sprintf("Secret '%s' is not allowed: the OAuth token endpoint %s of security integration '%s' is not allowed by the network rules of external access integration '%s'.",
		ref, hp, in.Name, strings.Join(names, "', '"))),
		"oauth token endpoint "+hp+" is not allowed by the network rules of eai "+strings.Join(names, ", "))
}

// egressAllows reports whether one of rules allows host:port. A rule that is not a
// valid EGRESS host-port rule allows nothing.
func egressAllows(rules []netpolicy.Rule, host string, port int) bool {
	for _, r := range rules {
		eg, err := netpolicy.CompileEgress([]netpolicy.Rule{r})
		if err != nil {
			continue
		}
		if ok, _ := eg.AllowHostPort(host, port); ok {
			return true
		}
	}
	return false
}

// endpointHostPort is the host and port a token endpoint URL connects to (the
// scheme's default port when none is given).
func endpointHostPort(raw string) (string, int, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", 0, false
	}
	port := 0
	switch p := u.Port(); {
	case p != "":
		n, err := strconv.Atoi(p)
		if err != nil {
			return "", 0, false
		}
		port = n
	case strings.EqualFold(u.Scheme, "https"):
		port = 443
	case strings.EqualFold(u.Scheme, "http"):
		port = 80
	default:
		return "", 0, false
	}
	return u.Hostname(), port, true
}

// usable reports whether roles have USAGE on the secret's database and schema.
func (b *Broker) usable(ctx context.Context, tx store.Tx, snap *authz.Snapshot, roles authz.RoleSet, account string, ref SecretRef) bool {
	db, err := catalog.GetDatabase(ctx, tx, account, ref.Database)
	if err != nil {
		return false
	}
	if !snap.Allowed(roles, catalog.Object{Kind: "DATABASE", Name: ref.Database}, db.Meta.Owner, catalog.PrivUsage) {
		return false
	}
	sc, err := catalog.GetSchema(ctx, tx, account, ref.Database, ref.Schema)
	if err != nil {
		return false
	}
	return snap.Allowed(roles, catalog.Object{Kind: "SCHEMA", Database: ref.Database, Name: ref.Schema}, sc.Meta.Owner, catalog.PrivUsage)
}

// allows reports whether the EAI allows secret s (ENABLED is checked by the caller).
func (e *EAI) allows(s *Secret) bool {
	switch e.Secrets {
	case AllowAll:
		return true
	case AllowList:
		if slices.Contains(e.SecretList, s.Ref) {
			return true
		}
	}
	return s.Integration != "" && slices.Contains(e.AuthIntegrations, s.Integration)
}

// errorText is an error's text for audit rows and clients: never a credential (see
// the upstream call sites, which reduce provider errors to codes and messages).
func errorText(err error) string {
	var se *sferr.Error
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}
