package ingress

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// world is a real SQLite store holding account A with users U0 (no policy), U1
// (policy P_USER) and an integration INT (policy P_INT), and account policy P_ACCT.
type world struct {
	st  store.Store
	now time.Time
	mu  sync.Mutex
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

type fakeIntegrations map[string]string

func (f fakeIntegrations) IntegrationNetworkPolicies(context.Context, store.Tx, string) (map[string]string, error) {
	return f, nil
}

type fakePins map[string]string // endpoint → the account that pinned it

func (f fakePins) CheckEndpoint(endpoint, account string) (bool, string) {
	a, ok := f[endpoint]
	if !ok || a == account {
		return true, "not pinned elsewhere"
	}
	return false, "endpoint is pinned to another account"
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	var err error
	w := &world{st: st, now: time.Unix(1_700_000_000, 0)}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A", Params: map[string]string{"NETWORK_POLICY": "P_ACCT"}}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		for _, u := range []*catalog.User{{Name: "U0"}, {Name: "U1", Params: map[string]string{"NETWORK_POLICY": "P_USER"}}} {
			if err := catalog.CreateUser(ctx, tx, "A", "ACCOUNTADMIN", u); err != nil {
				return err
			}
		}
		for _, r := range []*catalog.NetworkRule{
			{Database: "D", Schema: "S", Name: "TEN", Type: "IPV4", Mode: "INGRESS", Values: []string{"10.0.0.0/8"}},
			{Database: "D", Schema: "S", Name: "BAD", Type: "IPV4", Mode: "INGRESS", Values: []string{"10.9.9.9"}},
			{Database: "D", Schema: "S", Name: "PE", Type: "AWSVPCEID", Mode: "INGRESS", Values: []string{"vpce-0123456789abcdef0"}},
		} {
			if err := catalog.CreateNetworkRule(ctx, tx, "A", "ACCOUNTADMIN", r); err != nil {
				return err
			}
		}
		for _, p := range []*catalog.NetworkPolicy{
			{Name: "P_ACCT", AllowedRules: []string{"D.S.TEN", "D.S.PE"}, BlockedRules: []string{"D.S.BAD"}},
			{Name: "P_USER", AllowedIPs: []string{"192.168.0.0/16"}},
			{Name: "P_INT", AllowedIPs: []string{"172.16.0.0/12"}},
		} {
			if err := catalog.CreateNetworkPolicy(ctx, tx, "A", "ACCOUNTADMIN", p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	prev := catalog.SetIntegrationPolicies(fakeIntegrations{"INT": "P_INT"})
	t.Cleanup(func() { catalog.SetIntegrationPolicies(prev) })
	return w
}

func TestCheckLevelsAndPins(t *testing.T) {
	w := newWorld(t)
	g := New(Config{Store: w.st, Now: w.clock})
	g.SetPins(fakePins{"vpce-0123456789abcdef0": "A", "vpce-00000000000000001": "OTHER"})
	intg := WithIntegration(context.Background(), "INT")
	for _, c := range []struct {
		name     string
		ctx      context.Context
		account  string
		user, ip string
		endpoint string
		allowed  bool
		level    string
		policy   string
		rule     string
	}{
		{"account allows", context.Background(), "A", "U0", "10.1.2.3", "", true, LevelAccount, "P_ACCT", "D.S.TEN"},
		{"account blocks first", context.Background(), "A", "U0", "10.9.9.9", "", false, LevelAccount, "P_ACCT", "D.S.BAD"},
		{"account denies the rest", context.Background(), "A", "U0", "8.8.8.8", "", false, LevelAccount, "P_ACCT", ""},
		{"ipv6 with no ipv6 rules", context.Background(), "A", "U0", "2001:db8::1", "", false, LevelAccount, "P_ACCT", ""},
		{"user overrides account (deny)", context.Background(), "A", "U1", "10.1.2.3", "", false, LevelUser, "P_USER", ""},
		{"user overrides account (allow)", context.Background(), "A", "U1", "192.168.7.7", "", true, LevelUser, "P_USER", "ALLOWED_IP_LIST"},
		{"integration overrides user (allow)", intg, "A", "U1", "172.16.0.1", "", true, LevelIntegration, "P_INT", "ALLOWED_IP_LIST"},
		{"integration overrides user (deny)", intg, "A", "U1", "192.168.7.7", "", false, LevelIntegration, "P_INT", ""},
		{"private endpoint allowed over public rules", context.Background(), "A", "U0", "8.8.8.8", "vpce-0123456789abcdef0", true, LevelAccount, "P_ACCT", "D.S.PE"},
		{"endpoint pinned elsewhere", context.Background(), "A", "U0", "10.1.2.3", "vpce-00000000000000001", false, LevelEndpointPin, "", ""},
		{"unknown account: nothing applies", context.Background(), "NOPE", "U0", "8.8.8.8", "", true, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := g.Check(c.ctx, c.account, c.user, netip.MustParseAddr(c.ip), c.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			if r.Allowed != c.allowed || r.Level != c.level || r.Policy != c.policy || r.Rule != c.rule {
				t.Errorf("Check = %+v; want allowed=%v level=%q policy=%q rule=%q", r, c.allowed, c.level, c.policy, c.rule)
			}
		})
	}
}

func TestInvalidateAndRefresh(t *testing.T) {
	w := newWorld(t)
	g := New(Config{Store: w.st, Now: w.clock, Refresh: time.Minute})
	ctx := context.Background()
	ip := netip.MustParseAddr("8.8.8.8")
	check := func() bool {
		t.Helper()
		r, err := g.Check(ctx, "A", "U0", ip, "")
		if err != nil {
			t.Fatal(err)
		}
		return r.Allowed
	}
	if check() {
		t.Fatal("8.8.8.8 allowed before the change")
	}
	setAccountPolicy := func(name string) {
		t.Helper()
		err := w.st.Update(ctx, func(tx store.Tx) error {
			a, err := catalog.GetAccount(ctx, tx, "A")
			if err != nil {
				return err
			}
			a.Params["NETWORK_POLICY"] = name
			return catalog.PutAccount(ctx, tx, a)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setAccountPolicy("")
	if check() {
		t.Fatal("cached state was not used before Invalidate or the refresh interval")
	}
	Invalidate()
	if !check() {
		t.Fatal("Invalidate did not rebuild the state")
	}
	// A change made elsewhere (no Invalidate) is seen after the refresh interval.
	setAccountPolicy("P_ACCT")
	if !check() {
		t.Fatal("state rebuilt before the refresh interval")
	}
	w.mu.Lock()
	w.now = w.now.Add(2 * time.Minute)
	w.mu.Unlock()
	if check() {
		t.Fatal("state not rebuilt after the refresh interval")
	}
}

func TestEnforce(t *testing.T) {
	w := newWorld(t)
	g := New(Config{Store: w.st, Now: w.clock})
	ip := netip.MustParseAddr("8.8.4.4")
	e := g.Enforce(context.Background(), "A", "U0", ip)
	if e == nil || e.Code != "390422" || e.SQLState != "08001" ||
		!strings.HasPrefix(e.Message, "Incoming request with IP/Token 8.8.4.4 is not allowed to access Snowflake.") {
		t.Fatalf("Enforce = %v", e)
	}
	if strings.Contains(e.Message, "P_ACCT") || strings.Contains(e.Message, "D.S") {
		t.Errorf("refusal reveals the policy: %q", e.Message)
	}
	if e := g.Enforce(context.Background(), "A", "U0", netip.MustParseAddr("10.0.0.1")); e != nil {
		t.Errorf("allowed address refused: %v", e)
	}
	// The private endpoint comes from the edge identity.
	ctx := edge.WithIdentity(context.Background(), edge.Identity{Addr: netip.AddrPortFrom(ip, 1), Endpoint: "vpce-0123456789abcdef0"})
	if e := g.Enforce(ctx, "A", "U0", ip); e != nil {
		t.Errorf("allowed endpoint refused: %v", e)
	}
	var nilGuard *Guard
	if e := nilGuard.Enforce(context.Background(), "A", "U0", ip); e != nil {
		t.Errorf("nil guard refused: %v", e)
	}
}

func TestUserHasNetworkPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	err := w.st.View(ctx, func(tx store.Tx) error {
		for _, c := range []struct {
			user string
			want bool
		}{{"U0", true}, {"U1", true}, {"NOBODY", true}} {
			got, err := UserHasNetworkPolicy(ctx, tx, "A", c.user)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("UserHasNetworkPolicy(%s) = %v", c.user, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Without the account policy only U1 is subject to one.
	err = w.st.Update(ctx, func(tx store.Tx) error {
		a, err := catalog.GetAccount(ctx, tx, "A")
		if err != nil {
			return err
		}
		delete(a.Params, "NETWORK_POLICY")
		if err := catalog.PutAccount(ctx, tx, a); err != nil {
			return err
		}
		for u, want := range map[string]bool{"U0": false, "U1": true} {
			if got, err := UserHasNetworkPolicy(ctx, tx, "A", u); err != nil || got != want {
				t.Errorf("UserHasNetworkPolicy(%s) = %v, %v; want %v", u, got, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCheck is the figure of docs/benchmarks.md "Ingress enforcement": an
// account policy of 10,000 IPv4 CIDRs over 100 rules and 1,000 VPC endpoint IDs, with
// pinning consulted for the private-endpoint half of the requests.
func BenchmarkCheck(b *testing.B) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "firn.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r := rand.New(rand.NewPCG(3, 4))
	var eps []string
	pins := fakePins{}
	for i := range 1000 {
		eps = append(eps, fmt.Sprintf("vpce-%017x", i))
		pins[eps[i]] = "A"
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A", Params: map[string]string{"NETWORK_POLICY": "BENCH"}}, &catalog.User{Name: "U"}); err != nil {
			return err
		}
		p := &catalog.NetworkPolicy{Name: "BENCH"}
		for i := range 100 {
			vals := make([]string, 100)
			for j := range vals {
				var a [4]byte
				for k := range a {
					a[k] = byte(r.UintN(256))
				}
				vals[j] = netip.PrefixFrom(netip.AddrFrom4(a), 16+r.IntN(17)).Masked().String()
			}
			rule := &catalog.NetworkRule{Database: "D", Schema: "S", Name: fmt.Sprintf("R%d", i), Type: "IPV4", Mode: "INGRESS", Values: vals}
			if err := catalog.CreateNetworkRule(ctx, tx, "A", "ACCOUNTADMIN", rule); err != nil {
				return err
			}
			p.AllowedRules = append(p.AllowedRules, rule.FullName())
		}
		pe := &catalog.NetworkRule{Database: "D", Schema: "S", Name: "PE", Type: "AWSVPCEID", Mode: "INGRESS", Values: eps}
		if err := catalog.CreateNetworkRule(ctx, tx, "A", "ACCOUNTADMIN", pe); err != nil {
			return err
		}
		p.AllowedRules = append(p.AllowedRules, pe.FullName())
		return catalog.CreateNetworkPolicy(ctx, tx, "A", "ACCOUNTADMIN", p)
	})
	if err != nil {
		b.Fatal(err)
	}
	g := New(Config{Store: st})
	g.SetPins(pins)
	ips := make([]netip.Addr, 1024)
	for i := range ips {
		var a [4]byte
		for k := range a {
			a[k] = byte(r.UintN(256))
		}
		ips[i] = netip.AddrFrom4(a)
	}
	if _, err := g.Check(ctx, "A", "U", ips[0], ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ep := ""
		if i&1 == 1 {
			ep = eps[i%len(eps)]
		}
		if _, err := g.Check(ctx, "A", "U", ips[i&1023], ep); err != nil {
			b.Fatal(err)
		}
	}
}
