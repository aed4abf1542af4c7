package privatelink

import (
	"fmt"
	"testing"
	"time"
)

func TestPinsCheckEndpoint(t *testing.T) {
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	clock := now
	p := NewPins(func() time.Time { return clock })
	p.set(pinTable{
		"vpce-1": {enforceAt: now.UnixNano(), accounts: []string{"A1"}},
		"vpce-2": {enforceAt: now.Add(time.Hour).UnixNano(), pending: true, accounts: []string{"A2"}},
		"vpce-3": {enforceAt: now.UnixNano(), accounts: []string{"A1", "A3"}},
	})
	tests := []struct {
		endpoint, account string
		at                time.Time
		allow             bool
		reason            string
	}{
		// The seed's table (PE1 pinned to A1, PE2 to A2, both enforced).
		{"vpce-1", "A1", now, true, ReasonPinned},
		{"vpce-1", "A2", now, false, ReasonPinnedElse},
		{"vpce-2", "A1", now.Add(time.Hour), false, ReasonPinnedElse},
		{"vpce-2", "A2", now.Add(time.Hour), true, ReasonPinned},
		// Account names compare case-insensitively.
		{"vpce-1", "a1", now, true, ReasonPinned},
		// Inside the delay nothing is blocked; at the enforcement instant it is.
		{"vpce-2", "A1", now.Add(time.Hour - time.Nanosecond), true, ReasonNotYet},
		// One endpoint pinned to several accounts.
		{"vpce-3", "A3", now, true, ReasonPinned},
		{"vpce-3", "A2", now, false, ReasonPinnedElse},
		// Unpinned endpoints and public requests are unaffected.
		{"vpce-9", "A2", now, true, ReasonUnpinned},
		{"", "A2", now, true, ReasonPublic},
	}
	for _, tt := range tests {
		clock = tt.at
		allow, reason := p.CheckEndpoint(tt.endpoint, tt.account)
		if allow != tt.allow || reason != tt.reason {
			t.Errorf("CheckEndpoint(%q, %q) at %v = %v %q, want %v %q", tt.endpoint, tt.account, tt.at, allow, reason, tt.allow, tt.reason)
		}
	}
	if p.Len() != 3 {
		t.Errorf("Len = %d", p.Len())
	}
}

// TestEnforceTime is the seed's delay rule: the first registration fixes the
// enforcement time; later ones (other accounts) inherit it, immediate if past.
func TestEnforceTime(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	first, enforce := enforceTime(nil, t0, 60)
	if !first.Equal(t0) || !enforce.Equal(t0.Add(time.Hour)) {
		t.Fatalf("first registration: %v %v", first, enforce)
	}
	rec := &endpointRecord{FirstRegistered: first, EnforceAt: enforce}
	for _, tc := range []struct {
		at    time.Time
		delay int
	}{
		{t0.Add(30 * time.Minute), 60},   // account2 at 10:30 → still 11:00
		{t0.Add(30 * time.Minute), 1440}, // a longer delay does not postpone it
		{t0.Add(61 * time.Minute), 0},    // account3 at 11:01 → already enforced
	} {
		f, e := enforceTime(rec, tc.at, tc.delay)
		if !f.Equal(t0) || !e.Equal(t0.Add(time.Hour)) {
			t.Errorf("registration at %v delay %d: first %v enforce %v; want 10:00 / 11:00", tc.at, tc.delay, f, e)
		}
	}
	if _, e := enforceTime(nil, t0, 0); !e.Equal(t0) {
		t.Errorf("zero delay enforce %v", e)
	}
}

func TestCheckEndpointAllocs(t *testing.T) {
	p, ids := benchPins(1000)
	allocs := testing.AllocsPerRun(1000, func() {
		p.CheckEndpoint(ids[500], "ACCOUNT_7")
		p.CheckEndpoint(ids[501], "ACCOUNT_1")
		p.CheckEndpoint("vpce-ffffffffffffffff0", "A")
	})
	if allocs != 0 {
		t.Fatalf("CheckEndpoint allocates %.1f times per run", allocs)
	}
}

// benchPins returns a checker with n endpoints, each pinned to three accounts.
func benchPins(n int) (*Pins, []string) {
	p := NewPins(nil)
	t := pinTable{}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("vpce-%017x", i*7919)
		t[ids[i]] = &pinEntry{accounts: []string{fmt.Sprintf("ACCOUNT_%d", i%10), fmt.Sprintf("ACCOUNT_%d", (i+1)%10), "SHARED"}}
	}
	p.set(t)
	return p, ids
}

// BenchmarkCheckEndpoint: one pinning decision with 1,000 pinned endpoint IDs.
func BenchmarkCheckEndpoint(b *testing.B) {
	p, ids := benchPins(1000)
	b.Run("allowed", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if ok, _ := p.CheckEndpoint(ids[i%1000], "SHARED"); !ok {
				b.Fatal("denied")
			}
		}
	})
	b.Run("denied", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if ok, _ := p.CheckEndpoint(ids[i%1000], "OTHER"); ok {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("public", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.CheckEndpoint("", "OTHER")
		}
	})
}
