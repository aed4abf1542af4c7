package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// PinChecker decides private-endpoint pinning; nil means no endpoint is pinned.
type PinChecker interface {
	CheckEndpoint(endpoint, account string) (allowed bool, reason string)
}

// Levels that can decide a request, as reported in Result.Level.
const (
	LevelEndpointPin = "endpoint pin"
	LevelIntegration = "integration"
	LevelUser        = "user"
	LevelAccount     = "account"
)

// Result is the outcome of Guard.Check. Level, Policy, Rule and Reason are for
// operators (logs, `firn explain ingress`); a refused client is told none of them.
type Result struct {
	Allowed bool
	// Level is the level that decided: LevelEndpointPin, LevelIntegration, LevelUser,
	// LevelAccount, or "" when nothing applies (allowed).
	Level string
	// Policy and Rule are the deciding network policy and rule (netpolicy.Decision).
	Policy, Rule string
	Reason       string
}

// DefaultRefresh is how long compiled state is trusted without an Invalidate call;
// it bounds how long a change made by another replica takes to be enforced here.
const DefaultRefresh = 5 * time.Second

// epoch is bumped by Invalidate; state compiled under an older epoch is rebuilt.
var epoch atomic.Uint64

// Invalidate marks every Guard's compiled state as stale. Callers invoke it after
// committing a change to network rules, network policies, users or activations.
func Invalidate() { epoch.Add(1) }

// Config configures a Guard.
type Config struct {
	Store store.Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Refresh is DefaultRefresh when zero.
	Refresh time.Duration
	Logger  *slog.Logger
}

// Guard decides whether requests may reach an account. It is safe for concurrent use.
type Guard struct {
	st      store.Store
	now     func() time.Time
	refresh time.Duration
	log     *slog.Logger

	pins   atomic.Pointer[pinBox]
	mu     sync.Mutex // serialises loads
	states atomic.Pointer[map[string]*state]
}

type pinBox struct{ p PinChecker }

// state is the compiled network-policy state of one account.
type state struct {
	epoch   uint64
	expires int64 // unix nanoseconds
	account *netpolicy.Compiled
	users   map[string]*netpolicy.Compiled
	// integrations maps integration name → its policy.
	integrations map[string]*netpolicy.Compiled
}

// New returns a Guard reading policies from cfg.Store.
func New(cfg Config) *Guard {
	g := &Guard{st: cfg.Store, now: cfg.Now, refresh: cfg.Refresh, log: cfg.Logger}
	if g.now == nil {
		g.now = time.Now
	}
	if g.refresh <= 0 {
		g.refresh = DefaultRefresh
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	m := map[string]*state{}
	g.states.Store(&m)
	return g
}

// SetPins installs the private-endpoint pinning checker (nil: no endpoint is pinned).
func (g *Guard) SetPins(p PinChecker) {
	if p == nil {
		g.pins.Store(nil)
		return
	}
	g.pins.Store(&pinBox{p})
}

type integrationKey struct{}

// WithIntegration returns ctx marked as a request authenticated through the security
// integration name, whose network policy then takes precedence.
func WithIntegration(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, integrationKey{}, name)
}

// IntegrationFrom returns the integration set by WithIntegration, or "".
func IntegrationFrom(ctx context.Context) string {
	s, _ := ctx.Value(integrationKey{}).(string)
	return s
}

// Check decides a request from ip, arriving through private endpoint endpoint ("" for
// the public network), for user of account. Pinning is decided first, then the most
// specific active network policy (integration > user > account). An error means the
// policies could not be loaded; callers must refuse the request.
func (g *Guard) Check(ctx context.Context, account, user string, ip netip.Addr, endpoint string) (Result, error) {
	if endpoint != "" {
		if b := g.pins.Load(); b != nil {
			if ok, reason := b.p.CheckEndpoint(endpoint, account); !ok {
				return Result{Level: LevelEndpointPin, Reason: reason}, nil
			}
		}
	}
	st, err := g.state(ctx, account)
	if err != nil {
		return Result{}, err
	}
	c, level := st.account, LevelAccount
	if u := st.users[user]; u != nil {
		c, level = u, LevelUser
	}
	if len(st.integrations) > 0 {
		if i := st.integrations[IntegrationFrom(ctx)]; i != nil {
			c, level = i, LevelIntegration
		}
	}
	if c == nil {
		return Result{Allowed: true, Reason: "no network policy applies"}, nil
	}
	d := c.Decide(ip, endpoint)
	return Result{Allowed: d.Allowed, Level: level, Policy: d.Policy, Rule: d.Rule, Reason: d.Reason}, nil
}

// Refusal is Snowflake's answer to a request from a disallowed address. It names the
// client's own address and nothing of the policy.
func Refusal(ip netip.Addr) *sferr.Error {
	return sferr.Newf("390422", "08001", "Incoming request with IP/Token %s is not allowed to access Snowflake. Contact your local security administrator or please create a case with Snowflake Support or reach us on our support line.", ip.String())
}

// Enforce runs Check for the request in ctx (its private endpoint comes from the edge
// identity) and returns the refusal to send, or nil. A nil Guard allows everything.
// Refusals and load failures are logged with the deciding level, policy and rule.
func (g *Guard) Enforce(ctx context.Context, account, user string, ip netip.Addr) *sferr.Error {
	if g == nil {
		return nil
	}
	endpoint := ""
	if id, ok := edge.IdentityFrom(ctx); ok {
		endpoint = id.Endpoint
	}
	r, err := g.Check(ctx, account, user, ip, endpoint)
	if err != nil {
		g.log.ErrorContext(ctx, "ingress: cannot load network policies; refusing", "account", account, "err", err)
		return Refusal(ip)
	}
	if r.Allowed {
		return nil
	}
	g.log.InfoContext(ctx, "ingress: request refused", "account", account, "user", user, "client_ip", ip.String(),
		"endpoint", endpoint, "level", r.Level, "policy", r.Policy, "rule", r.Rule, "reason", r.Reason)
	return Refusal(ip)
}

// state returns the account's compiled state, rebuilding it when stale.
func (g *Guard) state(ctx context.Context, account string) (*state, error) {
	if s, ok := (*g.states.Load())[account]; ok && s.epoch == epoch.Load() && g.now().UnixNano() < s.expires {
		return s, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ep := epoch.Load()
	if s, ok := (*g.states.Load())[account]; ok && s.epoch == ep && g.now().UnixNano() < s.expires {
		return s, nil
	}
	var s *state
	err := g.st.View(ctx, func(tx store.Tx) error {
		var err error
		s, err = loadState(ctx, tx, account)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ingress: load %s: %w", account, err)
	}
	s.epoch, s.expires = ep, g.now().Add(g.refresh).UnixNano()
	old := *g.states.Load()
	m := make(map[string]*state, len(old)+1)
	for k, v := range old {
		if v.epoch == ep {
			m[k] = v
		}
	}
	m[account] = s
	g.states.Store(&m)
	return s, nil
}

// loadState compiles every network policy active in the account.
func loadState(ctx context.Context, tx store.Tx, account string) (*state, error) {
	s := &state{}
	a, err := catalog.GetAccount(ctx, tx, account)
	if catalog.IsNotFound(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	cache := map[string]*netpolicy.Compiled{}
	get := func(name string) (*netpolicy.Compiled, error) {
		if name == "" {
			return nil, nil
		}
		if c, ok := cache[name]; ok {
			return c, nil
		}
		c, err := LoadPolicy(ctx, tx, account, name)
		if errors.Is(err, ErrNoPolicy) {
			// Activation checks existence and an active policy cannot be dropped, so
			// this is a stale reference; it activates nothing.
			c, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		cache[name] = c
		return c, nil
	}
	if s.account, err = get(a.Params[catalog.ParamNetworkPolicy]); err != nil {
		return nil, err
	}
	users, err := catalog.ListUsers(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		c, err := get(u.Params[catalog.ParamNetworkPolicy])
		if err != nil {
			return nil, err
		}
		if c != nil {
			if s.users == nil {
				s.users = map[string]*netpolicy.Compiled{}
			}
			s.users[u.Name] = c
		}
	}
	ints, err := catalog.IntegrationNetworkPolicies().IntegrationNetworkPolicies(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for name, p := range ints {
		c, err := get(p)
		if err != nil {
			return nil, err
		}
		if c != nil {
			if s.integrations == nil {
				s.integrations = map[string]*netpolicy.Compiled{}
			}
			s.integrations[name] = c
		}
	}
	return s, nil
}

// ErrNoPolicy is returned by LoadPolicy for a policy that does not exist.
var ErrNoPolicy = errors.New("ingress: network policy does not exist")

// LoadPolicy reads and compiles the named network policy. Rules that no longer exist
// (dropped with their schema) are left out.
func LoadPolicy(ctx context.Context, tx store.Tx, account, name string) (*netpolicy.Compiled, error) {
	p, err := catalog.GetNetworkPolicy(ctx, tx, account, name)
	if catalog.IsNotFound(err) {
		return nil, fmt.Errorf("%w: %s", ErrNoPolicy, name)
	}
	if err != nil {
		return nil, err
	}
	return CompilePolicy(ctx, tx, account, p)
}

// CompilePolicy compiles a (possibly not yet stored) policy against the rules in tx.
func CompilePolicy(ctx context.Context, tx store.Tx, account string, p *catalog.NetworkPolicy) (*netpolicy.Compiled, error) {
	np := netpolicy.Policy{Name: p.Name, AllowedIPs: p.AllowedIPs, BlockedIPs: p.BlockedIPs}
	for i, paths := range [][]string{p.AllowedRules, p.BlockedRules} {
		for _, path := range paths {
			r, err := catalog.GetNetworkRuleByPath(ctx, tx, account, path)
			if catalog.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			nr := netpolicy.Rule{Name: path, Type: r.Type, Mode: r.Mode, Values: r.Values}
			if i == 0 {
				np.AllowedRules = append(np.AllowedRules, nr)
			} else {
				np.BlockedRules = append(np.BlockedRules, nr)
			}
		}
	}
	return netpolicy.Compile(np)
}

// UserHasNetworkPolicy reports whether a user is subject to a user- or account-level
// network policy that exists. It is the catalog.NetworkPolicyChecker the PAT rules use.
func UserHasNetworkPolicy(ctx context.Context, tx store.Tx, account, user string) (bool, error) {
	var names []string
	u, err := catalog.GetUser(ctx, tx, account, user)
	if err != nil && !catalog.IsNotFound(err) {
		return false, err
	}
	if u != nil {
		names = append(names, u.Params[catalog.ParamNetworkPolicy])
	}
	a, err := catalog.GetAccount(ctx, tx, account)
	if err != nil {
		return false, err
	}
	names = append(names, a.Params[catalog.ParamNetworkPolicy])
	for _, n := range names {
		if n == "" {
			continue
		}
		if _, err := catalog.GetNetworkPolicy(ctx, tx, account, n); err == nil {
			return true, nil
		} else if !catalog.IsNotFound(err) {
			return false, err
		}
	}
	return false, nil
}
