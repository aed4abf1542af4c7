package privatelink

import (
	"strings"
	"sync/atomic"
	"time"
)

// Reasons returned by Pins.CheckEndpoint. They are fixed strings (no allocation on
// the hot path) and name no account or endpoint, so they can be logged and audited
// without revealing another account's configuration.
const (
	ReasonPublic     = "no private endpoint"
	ReasonUnpinned   = "endpoint not pinned"
	ReasonNotYet     = "endpoint pinning not yet enforced"
	ReasonPinned     = "endpoint pinned to the target account"
	ReasonPinnedElse = "endpoint pinned to other accounts"
)

// pinEntry is one endpoint's compiled pinning state.
type pinEntry struct {
	enforceAt int64    // unix nanoseconds; before it, pinning does not block
	pending   bool     // enforceAt was in the future when the snapshot was built
	accounts  []string // upper-case names of the accounts that pinned it
}

// pinTable is an immutable snapshot, replaced whole on every change.
type pinTable map[string]*pinEntry

// Pins decides private-endpoint pinning from an in-memory snapshot of the
// registrations. It implements the ingress guard's PinChecker. Decisions take a map
// lookup and a comparison per pinned account, and allocate nothing; the clock is read
// only to deny through an endpoint whose enforcement time had not come when the
// snapshot was built (reading it costs more than the rest of the decision on some
// virtual machines). The snapshot is swapped atomically when registrations change.
type Pins struct {
	table atomic.Pointer[pinTable]
	now   func() time.Time
}

// NewPins returns an empty checker using clock now (nil: time.Now).
func NewPins(now func() time.Time) *Pins {
	if now == nil {
		now = time.Now
	}
	p := &Pins{now: now}
	t := pinTable{}
	p.table.Store(&t)
	return p
}

// CheckEndpoint decides whether a request that arrived through endpoint may reach
// account. Public requests (endpoint "") and endpoints pinned by no account are
// allowed; so is every request through an endpoint whose enforcement time has not
// come. Otherwise the request is allowed only when account pinned the endpoint.
func (p *Pins) CheckEndpoint(endpoint, account string) (allowed bool, reason string) {
	if endpoint == "" {
		return true, ReasonPublic
	}
	e := (*p.table.Load())[endpoint]
	if e == nil || len(e.accounts) == 0 {
		return true, ReasonUnpinned
	}
	for _, a := range e.accounts {
		if strings.EqualFold(a, account) {
			return true, ReasonPinned
		}
	}
	if e.pending && p.now().UnixNano() < e.enforceAt {
		return true, ReasonNotYet
	}
	return false, ReasonPinnedElse
}

// set replaces the snapshot.
func (p *Pins) set(t pinTable) { p.table.Store(&t) }

// Len returns the number of endpoints pinned by at least one account.
func (p *Pins) Len() int { return len(*p.table.Load()) }
