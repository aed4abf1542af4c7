package netpolicy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func rule(name, typ string, values ...string) Rule {
	return Rule{Name: name, Type: typ, Mode: ModeIngress, Values: values}
}

func mustCompile(t testing.TB, p Policy) *Compiled {
	t.Helper()
	c, err := Compile(p)
	if err != nil {
		t.Fatalf("Compile(%s): %v", p.Name, err)
	}
	return c
}

func TestDecide(t *testing.T) {
	corp := rule("DB.S.CORP", TypeIPv4, "192.168.1.0/24", "10.0.0.0/8")
	badHost := rule("DB.S.BAD", TypeIPv4, "192.168.1.99")
	v6 := rule("DB.S.V6", TypeIPv6, "2001:db8::/32")
	vpce := rule("DB.S.VPCE", TypeAWSVPCEID, "vpce-0fa383eb170331202")
	badVpce := rule("DB.S.BADVPCE", TypeAWSVPCEID, "vpce-00000000deadbeef")
	link := rule("DB.S.LINK", TypeAzureLinkID, "587732213")
	psc := rule("DB.S.PSC", TypeGCPPSCID, "{42:10.9.0.0/16}")
	all4 := rule("DB.S.ALL", TypeIPv4, "0.0.0.0/0")

	policies := map[string]Policy{
		"rules":    {Name: "P_RULES", AllowedRules: []Rule{corp}, BlockedRules: []Rule{badHost}},
		"v6":       {Name: "P_V6", AllowedRules: []Rule{corp, v6}},
		"pe":       {Name: "P_PE", AllowedRules: []Rule{vpce, corp}},
		"peblock":  {Name: "P_PEBLOCK", AllowedRules: []Rule{all4}, BlockedRules: []Rule{badVpce}},
		"pubonly":  {Name: "P_PUB", AllowedRules: []Rule{corp}},
		"azure":    {Name: "P_AZ", AllowedRules: []Rule{link}},
		"psc":      {Name: "P_PSC", AllowedRules: []Rule{psc}},
		"all4":     {Name: "P_ALL4", AllowedRules: []Rule{all4}},
		"legacy":   {Name: "P_LEGACY", AllowedIPs: []string{"192.168.1.0/24"}, BlockedIPs: []string{"192.168.1.99"}},
		"mixed":    {Name: "P_MIXED", AllowedRules: []Rule{vpce}, AllowedIPs: []string{"0.0.0.0/0"}},
		"empty":    {Name: "P_EMPTY"},
		"blockall": {Name: "P_BLOCKALL", AllowedRules: []Rule{corp}, BlockedRules: []Rule{all4}},
	}
	tests := []struct {
		policy, ip, endpoint string
		allowed              bool
		rule                 string
	}{
		{"rules", "192.168.1.10", "", true, "DB.S.CORP"},
		{"rules", "10.20.30.40", "", true, "DB.S.CORP"},
		{"rules", "192.168.1.99", "", false, "DB.S.BAD"}, // blocked wins over allowed
		{"rules", "172.16.0.1", "", false, ""},           // an allowed list blocks everything else
		{"rules", "::ffff:192.168.1.10", "", true, "DB.S.CORP"},
		{"rules", "2001:db8::1", "", false, ""},       // IPv6, no IPv6 rules: IPv4 rules only
		{"v6", "2001:db8::1", "", true, "DB.S.V6"},    // evaluated independently
		{"v6", "2001:db9::1", "", false, ""},          // IPv6 list exists: not in it
		{"v6", "10.1.1.1", "", true, "DB.S.CORP"},     // IPv4 unaffected by IPv6 rules
		{"all4", "2001:db8::1", "", true, "DB.S.ALL"}, // 0.0.0.0/0 admits an IPv6 request with no IPv6 rules
		{"pe", "172.16.0.1", "vpce-0fa383eb170331202", true, "DB.S.VPCE"},
		{"pe", "10.0.0.1", "vpce-0fa383eb17033120f", false, ""}, // private: IPv4 rules ignored
		{"pe", "10.0.0.1", "", true, "DB.S.CORP"},               // public: endpoint rules no effect
		{"pe", "172.16.0.1", "", false, ""},
		{"pubonly", "10.0.0.1", "vpce-0fa383eb170331202", true, "DB.S.CORP"}, // no endpoint rules: IP decides
		{"pubonly", "172.16.0.1", "vpce-0fa383eb170331202", false, ""},
		{"peblock", "10.0.0.1", "vpce-00000000deadbeef", false, "DB.S.BADVPCE"},
		{"peblock", "10.0.0.1", "vpce-0fa383eb170331202", true, "DB.S.ALL"},
		{"peblock", "10.0.0.1", "", true, "DB.S.ALL"},
		{"azure", "10.0.0.1", "587732213", true, "DB.S.LINK"},
		{"azure", "10.0.0.1", "587732214", false, ""},
		{"azure", "10.0.0.1", "", false, ""},
		{"psc", "10.9.1.1", "42", true, "DB.S.PSC"},
		{"psc", "10.8.1.1", "42", false, ""}, // PSC id restricted to source IPs
		{"legacy", "192.168.1.10", "", true, AllowedIPList},
		{"legacy", "192.168.1.99", "", false, BlockedIPList},
		{"legacy", "192.168.2.1", "", false, ""},
		{"mixed", "1.2.3.4", "", false, ""}, // with rules present the legacy lists do not apply
		{"empty", "1.2.3.4", "", false, ""}, // an empty policy allows no IPv4 address
		{"blockall", "10.0.0.1", "", false, "DB.S.ALL"},
	}
	compiled := map[string]*Compiled{}
	for k, p := range policies {
		compiled[k] = mustCompile(t, p)
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.policy, tc.ip, tc.endpoint), func(t *testing.T) {
			c := compiled[tc.policy]
			d := c.Decide(netip.MustParseAddr(tc.ip), tc.endpoint)
			if d.Allowed != tc.allowed || d.Rule != tc.rule || d.Policy != policies[tc.policy].Name || d.Reason == "" {
				t.Errorf("Decide = %+v; want allowed=%v rule=%q policy=%q", d, tc.allowed, tc.rule, policies[tc.policy].Name)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	for _, p := range []Policy{
		{Name: "EGRESS", AllowedRules: []Rule{{Name: "R", Type: TypeHostPort, Mode: ModeEgress, Values: []string{"a.com"}}}},
		{Name: "BADVAL", AllowedRules: []Rule{rule("R", TypeIPv4, "1.2.3")}},
		{Name: "LEGACY6", AllowedIPs: []string{"::1"}},
	} {
		if _, err := Compile(p); err == nil {
			t.Errorf("Compile(%s) accepted an invalid policy", p.Name)
		}
	}
}

func TestEffective(t *testing.T) {
	acct := mustCompile(t, Policy{Name: "ACCT", AllowedIPs: []string{"10.0.0.0/8"}})
	user := mustCompile(t, Policy{Name: "USER", AllowedIPs: []string{"192.168.0.0/16"}})
	integ := mustCompile(t, Policy{Name: "INTEG", AllowedIPs: []string{"172.16.0.0/12"}})
	ip := netip.MustParseAddr("10.1.1.1")
	tests := []struct {
		a, u, i *Compiled
		want    string
		allowed bool
	}{
		{acct, user, integ, "INTEG", false},
		{acct, user, nil, "USER", false}, // no merging: the user's policy alone decides
		{acct, nil, nil, "ACCT", true},
		{nil, nil, nil, "", true},
		{acct, nil, integ, "INTEG", false},
	}
	for _, tc := range tests {
		e := Effective(tc.a, tc.u, tc.i)
		if e.Name() != tc.want {
			t.Errorf("Effective = %q, want %q", e.Name(), tc.want)
		}
		if d := e.Decide(ip, ""); d.Allowed != tc.allowed {
			t.Errorf("Effective(%q).Decide = %+v, want allowed=%v", tc.want, d, tc.allowed)
		}
	}
}

// TestTableMatchesBruteForce checks the interval table against a linear scan over
// overlapping random prefixes: same verdict, and the earliest covering rule.
func TestTableMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, v4 := range []bool{true, false} {
		var ivs []interval
		var pfx []netip.Prefix
		for i := range 300 {
			p := randPrefix(r, v4)
			pfx = append(pfx, p)
			ivs = append(ivs, toInterval(p, int32(i)))
		}
		tab := build(ivs)
		for range 20000 {
			a := randPrefix(r, v4).Addr()
			if r.IntN(2) == 0 { // probe inside a known prefix, near its edges
				a = pfx[r.IntN(len(pfx))].Addr()
			}
			want := int32(-1)
			for i, p := range pfx {
				if p.Contains(a) {
					want = int32(i)
					break
				}
			}
			if got := tab.lookup(key(a)); got != want {
				t.Fatalf("lookup(%s) = %d, want %d", a, got, want)
			}
		}
	}
}

func randPrefix(r *rand.Rand, v4 bool) netip.Prefix {
	if v4 {
		var b [4]byte
		for i := range b {
			b[i] = byte(r.IntN(4)) // a small space so prefixes overlap
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), r.IntN(33)).Masked()
	}
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(3))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), r.IntN(129)).Masked()
}

func FuzzDecide(f *testing.F) {
	c, err := Compile(Policy{Name: "F",
		AllowedRules: []Rule{rule("A4", TypeIPv4, "10.0.0.0/8", "192.168.1.1"), rule("A6", TypeIPv6, "2001:db8::/32"),
			rule("PE", TypeAWSVPCEID, "vpce-0fa383eb170331202"), rule("PSC", TypeGCPPSCID, "{7:10.1.0.0/16}")},
		BlockedRules: []Rule{rule("B4", TypeIPv4, "10.1.2.0/24")},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte{10, 1, 2, 3}, "")
	f.Add([]byte{10, 1, 3, 3}, "7")
	f.Add(netip.MustParseAddr("2001:db8::1").AsSlice(), "vpce-0fa383eb170331202")
	f.Fuzz(func(t *testing.T, b []byte, endpoint string) {
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		d := c.Decide(ip, endpoint)
		if d.Reason == "" || d.Policy != "F" {
			t.Fatalf("Decide(%s, %q) = %+v: no reason", ip, endpoint, d)
		}
		if d.Allowed && d.Rule == "" {
			t.Fatalf("Decide(%s, %q) allowed without a rule", ip, endpoint)
		}
		if u := ip.Unmap(); u.Is4() && netip.MustParsePrefix("10.1.2.0/24").Contains(u) && d.Allowed {
			t.Fatalf("blocked address %s allowed: %+v", ip, d)
		}
	})
}

// BenchmarkDecide: 10,000 CIDRs over 100 rules and 1,000 endpoint ids.
func BenchmarkDecide(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var allowed []Rule
	for i := range 100 {
		vals := make([]string, 100)
		for j := range vals {
			var a [4]byte
			for k := range a {
				a[k] = byte(r.UintN(256))
			}
			vals[j] = netip.PrefixFrom(netip.AddrFrom4(a), 16+r.IntN(17)).Masked().String()
		}
		allowed = append(allowed, rule(fmt.Sprintf("DB.S.R%d", i), TypeIPv4, vals...))
	}
	var eps []string
	for i := range 1000 {
		eps = append(eps, fmt.Sprintf("vpce-%017x", i))
	}
	allowed = append(allowed, rule("DB.S.PE", TypeAWSVPCEID, eps...))
	c := mustCompile(b, Policy{Name: "BENCH", AllowedRules: allowed, BlockedRules: []Rule{rule("DB.S.B", TypeIPv4, "10.0.0.0/8")}})
	ips := make([]netip.Addr, 1024)
	for i := range ips {
		var a [4]byte
		for k := range a {
			a[k] = byte(r.UintN(256))
		}
		ips[i] = netip.AddrFrom4(a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ep := ""
		if i&1 == 1 {
			ep = eps[i%len(eps)]
		}
		_ = c.Decide(ips[i&1023], ep)
	}
}
