package netpolicy

import "testing"

func TestAllowHostPort(t *testing.T) {
	c, err := CompileEgress([]Rule{
		{Name: "R_EXACT", Type: TypeHostPort, Mode: ModeEgress, Values: []string{"api.example.com", "db.example.com:5432", "all.example.com:0", "r.example.com:8000-8100"}},
		{Name: "R_WILD", Type: TypeHostPort, Mode: ModeEgress, Values: []string{"*.google.com", "snowflake-*.azure.com:80"}},
		{Name: "R_ANY80", Type: TypeHostPort, Mode: ModeEgress, Values: []string{"0.0.0.0:80"}},
		{Name: "R_PRIV", Type: TypePrivateHostPort, Mode: ModeEgress, Values: []string{"acct.blob.core.windows.net"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host string
		port int
		ok   bool
		rule string
	}{
		{"api.example.com", 443, true, "R_EXACT"}, // default port 443
		{"API.Example.com.", 443, true, "R_EXACT"},
		{"api.example.com", 8443, false, ""},
		{"db.example.com", 5432, true, "R_EXACT"},
		{"db.example.com", 443, false, ""},
		{"all.example.com", 22, true, "R_EXACT"}, // :0 = all ports
		{"r.example.com", 8050, true, "R_EXACT"},
		{"r.example.com", 8101, false, ""},
		{"maps.google.com", 443, true, "R_WILD"},
		{"google.com", 443, false, ""},     // '*' needs at least one character
		{"a.b.google.com", 443, false, ""}, // '*' does not cross labels
		{"snowflake-prod.azure.com", 80, true, "R_WILD"},
		{"snowflake-.azure.com", 80, true, "R_ANY80"}, // wildcard needs a character; 0.0.0.0:80 admits it
		{"other.azure.com", 443, false, ""},
		{"anything.net", 80, true, "R_ANY80"},
		{"anything.net", 8080, false, ""},
		{"acct.blob.core.windows.net", 443, true, "R_PRIV"},
		{"api.example.com", 0, false, ""},
	}
	for _, tc := range tests {
		ok, r := c.AllowHostPort(tc.host, tc.port)
		if ok != tc.ok || r != tc.rule {
			t.Errorf("AllowHostPort(%q, %d) = %v, %q; want %v, %q", tc.host, tc.port, ok, r, tc.ok, tc.rule)
		}
	}
	if _, err := CompileEgress([]Rule{{Name: "R", Type: TypeIPv4, Mode: ModeIngress, Values: []string{"1.2.3.4"}}}); err == nil {
		t.Error("CompileEgress accepted an INGRESS rule")
	}
	if ok, _ := (*CompiledEgress)(nil).AllowHostPort("a.com", 443); ok {
		t.Error("nil CompiledEgress allowed a connection")
	}
}
