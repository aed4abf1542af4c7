package ingress

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// StorePins builds the pinning checker that a running server would install, from the
// store alone (used by `firn explain ingress`, which runs outside the server). The
// private-endpoint package registers it with RegisterStorePins.
type StorePins func(ctx context.Context, st store.Store) (PinChecker, error)

var (
	storePinsMu sync.Mutex
	storePins   StorePins
)

// RegisterStorePins installs the StorePins constructor.
func RegisterStorePins(f StorePins) {
	storePinsMu.Lock()
	defer storePinsMu.Unlock()
	storePins = f
}

// Explanation is the answer to `firn explain ingress`.
type Explanation struct {
	Account, User string
	IP            netip.Addr
	Endpoint      string
	Result        Result
	// Pinning says whether endpoint pinning was consulted ("" when no checker exists).
	Pinning string
}

// Explain decides a hypothetical request with a fresh Guard over st, exactly as the
// server would (Guard.Check), resolving the account case-insensitively and the user
// as an identifier.
func Explain(ctx context.Context, st store.Store, account, user string, ip netip.Addr, endpoint string) (*Explanation, error) {
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
	storePinsMu.Lock()
	f := storePins
	storePinsMu.Unlock()
	if f != nil {
		p, err := f(ctx, st)
		if err != nil {
			return nil, err
		}
		g.SetPins(p)
		ex.Pinning = "consulted"
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
