package exec

import (
	"testing"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/sql"
)

func TestRulePropsTable(t *testing.T) {
	for _, c := range []struct {
		stmt   string
		ok     bool
		values string
	}{
		{"CREATE NETWORK RULE r TYPE = IPV4 VALUE_LIST = ('10.0.0.1/8', '10.0.0.0/8', '1.2.3.4')", true, "10.0.0.0/8,1.2.3.4"},
		{"CREATE NETWORK RULE r TYPE = 'ipv6' VALUE_LIST = ('2001:DB8::1/32')", true, "2001:db8::/32"},
		{"CREATE NETWORK RULE r TYPE = AWSVPCEID VALUE_LIST = ('VPCE-0123456789ABCDEF0') MODE = INTERNAL_STAGE", true, "vpce-0123456789abcdef0"},
		{"CREATE NETWORK RULE r TYPE = HOST_PORT VALUE_LIST = ('*.Example.com', 'a.b:0') MODE = EGRESS", true, "*.example.com,a.b:0"},
		{"CREATE NETWORK RULE r TYPE = PRIVATE_HOST_PORT VALUE_LIST = ('a.com', 'b.com') MODE = EGRESS", false, ""},
		{"CREATE NETWORK RULE r TYPE = IPV4 VALUE_LIST = (1)", false, ""},
		{"CREATE NETWORK RULE r TYPE = IPV4 VALUE_LIST = ('1.1.1.1') COLOR = 'red'", false, ""},
		{"CREATE NETWORK RULE r TYPE = IPV4 TYPE = IPV6 VALUE_LIST = ('1.1.1.1')", false, ""},
	} {
		st, err := sql.Parse(c.stmt)
		if err != nil {
			t.Fatalf("%s: %v", c.stmt, err)
		}
		r := &catalog.NetworkRule{Mode: netpolicy.ModeIngress}
		_, _, err = ruleProps(st.(*sql.Create).Props, r)
		if err == nil {
			r.Values, err = netpolicy.ValidateRule(r.Type, r.Mode, r.Values)
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v; want ok=%v", c.stmt, err, c.ok)
			continue
		}
		if c.ok {
			if got := joinComma(r.Values); got != c.values {
				t.Errorf("%s: values %q; want %q", c.stmt, got, c.values)
			}
		}
	}
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// FuzzNetworkStatements runs untrusted CREATE NETWORK RULE / POLICY property text
// through the parser and the property readers and validators; none may panic, and a
// normalised VALUE_LIST must validate to itself.
func FuzzNetworkStatements(f *testing.F) {
	for _, s := range []string{
		"TYPE = IPV4 VALUE_LIST = ('10.0.0.0/8')",
		"TYPE = GCPPSCID VALUE_LIST = ('{123:10.0.0.0/8,::1}')",
		"TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('0.0.0.0:443', 'x-*.a.com:1-2')",
		"ALLOWED_NETWORK_RULE_LIST = ('a.b.c', d) BLOCKED_IP_LIST = ('1.2.3.4')",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, props string) {
		for _, kind := range []string{"RULE", "POLICY"} {
			st, err := sql.Parse("CREATE NETWORK " + kind + " x " + props)
			if err != nil {
				continue
			}
			c, ok := st.(*sql.Create)
			if !ok {
				continue
			}
			if kind == "POLICY" {
				_, _ = parsePolicyProps(c.Props)
				continue
			}
			r := &catalog.NetworkRule{}
			if _, _, err := ruleProps(c.Props, r); err != nil {
				continue
			}
			vals, err := netpolicy.ValidateRule(r.Type, r.Mode, r.Values)
			if err != nil {
				continue
			}
			again, err := netpolicy.ValidateRule(r.Type, r.Mode, vals)
			if err != nil || joinComma(again) != joinComma(vals) {
				t.Fatalf("normalised values %q do not validate to themselves: %q, %v", vals, again, err)
			}
		}
	})
}
