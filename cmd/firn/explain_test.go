package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

func TestExplainIngress(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "ACME", Org: true, Params: map[string]string{"NETWORK_POLICY": "CORP"}}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		if err := catalog.CreateNetworkRule(ctx, tx, "ACME", "ACCOUNTADMIN", &catalog.NetworkRule{Database: "D", Schema: "S", Name: "OFFICE",
			Type: "IPV4", Mode: "INGRESS", Values: []string{"203.0.113.0/24"}}); err != nil {
			return err
		}
		return catalog.CreateNetworkPolicy(ctx, tx, "ACME", "ACCOUNTADMIN", &catalog.NetworkPolicy{Name: "CORP", AllowedRules: []string{"D.S.OFFICE"}})
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip, endpoint string
		want         []string
	}{
		{"203.0.113.7", "", []string{"decision: ALLOWED", "level:    account", "policy:   CORP", "rule:     D.S.OFFICE", "pinning:  not consulted"}},
		{"198.51.100.1", "", []string{"decision: REFUSED", "level:    account", "policy:   CORP", "rule:     -", "not in the allowed list"}},
		{"203.0.113.7", "vpce-0123456789abcdef0", []string{"decision: ALLOWED", "endpoint: vpce-0123456789abcdef0", "pinning:  consulted"}},
	} {
		var out, errb bytes.Buffer
		code := run(ctx, []string{"explain", "ingress", "--account", "acme", "--user", "admin", "--ip", c.ip, "--endpoint", c.endpoint, "--data-dir", dir}, nil, &out, &errb)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", c.ip, w, out.String())
			}
		}
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"explain", "ingress", "--account", "acme"}, nil, &out, &errb); code != 2 {
		t.Errorf("missing flags: exit %d", code)
	}
	if code := run(ctx, []string{"explain", "ingress", "--account", "acme", "--user", "u", "--ip", "1.2.3.4", "--data-dir", t.TempDir()}, nil, &out, &errb); code != 1 {
		t.Errorf("missing store: exit %d", code)
	}
}
