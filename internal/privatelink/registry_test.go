package privatelink

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// TestPinsFollowAccounts: pins belong to their account — a dropped account's pins stop
// counting, and an account re-created under the same name does not inherit them.
func TestPinsFollowAccounts(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	create := func(name string, org bool) {
		t.Helper()
		if err := st.Update(ctx, func(tx store.Tx) error {
			return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: name, Org: org, AdminName: "ADM"},
				&catalog.User{Name: "ADM", LoginName: "ADM"})
		}); err != nil {
			t.Fatal(err)
		}
	}
	create("FIRN", true)
	create("A1", false)
	create("A2", false)
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	r := New(Config{Store: st, Now: func() time.Time { return now }})

	// Pins are written as Register would after a successful proof.
	if err := st.Update(ctx, func(tx store.Tx) error {
		_, ids, err := orgAccount(ctx, tx)
		if err != nil {
			return err
		}
		return saveEndpoint(ctx, tx, "FIRN", &endpointRecord{ID: "vpce-01", Type: TypeAWS, FirstRegistered: now, EnforceAt: now,
			Pins: []pinRecord{{Account: "A1", AccountID: ids["A1"], ConsumerID: "123456789012", Registered: now}}}, true)
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Pins().CheckEndpoint("vpce-01", "A2"); ok {
		t.Fatal("vpce-01 pinned to A1 let a request reach A2")
	}
	got, err := r.Registrations(ctx, "A1")
	if err != nil || got != `[{"consumerEndpointId":"123456789012","consumerEndpointType":"Aws Id","pinnedConsumerEndpointId":"vpce-01","providerServiceEndpoint":"`+r.awsService("FIRN")+`"}]` {
		t.Fatalf("registrations %s %v", got, err)
	}
	if got, _ := r.Registrations(ctx, "A2"); got != "[]" {
		t.Fatalf("A2 registrations %s", got)
	}

	// Drop A1 and re-create it: the new A1 has no pin, and the endpoint is unpinned.
	if err := st.Update(ctx, func(tx store.Tx) error { return catalog.DropAccount(ctx, tx, "A1") }); err != nil {
		t.Fatal(err)
	}
	create("A1", false)
	if err := r.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Registrations(ctx, "A1"); got != "[]" {
		t.Fatalf("re-created A1 inherited %s", got)
	}
	if ok, reason := r.Pins().CheckEndpoint("vpce-01", "A2"); !ok || reason != ReasonUnpinned {
		t.Fatalf("after the pinning account was dropped: %v %q", ok, reason)
	}
}
