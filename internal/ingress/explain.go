package ingress

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// Explanation is the answer to `firn explain ingress`.
type Explanation struct {
	Account, User string
	IP            netip.Addr
	Endpoint      string
	Result        Result
	// Pinning says whether endpoint pinning was consulted.
	Pinning bool
}

// Explain decides a hypothetical request with a fresh Guard over st and the pinning
// checker pins (nil: none), exactly as the server would (Guard.Check), resolving the
// account case-insensitively and the user as an identifier.
func Explain(ctx context.Context, st store.Store, pins PinChecker, account, user string, ip netip.Addr, endpoint string) (*Explanation, error) {
	var acct string
	err := st.View(ctx, func(tx store.Tx) error {
		as, err := catalog.ListAccounts(ctx, tx)
		if err != nil {
			return err
		}
		for _, a := range as {
			if strings.EqualFold(a.Name, account) {
				acct = a.Name
				return nil
			}
		}
		return fmt.Errorf("ingress: account %q does not exist", account)
	})
	if err != nil {
		return nil, err
	}
	user = foldUser(user)
	g := New(Config{Store: st})
	ex := &Explanation{Account: acct, User: user, IP: ip, Endpoint: endpoint}
	if pins != nil {
		g.SetPins(pins)
		ex.Pinning = endpoint != ""
	}
	if ex.Result, err = g.Check(ctx, acct, user, ip, endpoint); err != nil {
		return nil, err
	}
	return ex, nil
}

// foldUser resolves a user name as written on a command line: unquoted names are
// upper-cased, double-quoted ones kept.
func foldUser(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToUpper(s)
}
