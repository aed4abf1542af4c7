package authz_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st := storetest.Open(t)
	return st
}

func update(t testing.TB, st store.Store, fn func(ctx context.Context, tx store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := st.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t testing.TB, st store.Store, account string) *authz.Snapshot {
	t.Helper()
	var snap *authz.Snapshot
	ctx := context.Background()
	if err := st.View(ctx, func(tx store.Tx) error {
		var err error
		snap, err = authz.Load(ctx, tx, account)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return snap
}

func newAccount(t testing.TB, st store.Store) {
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A", Org: true}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		if err := catalog.CreateUser(ctx, tx, "A", "USERADMIN", &catalog.User{Name: "U"}); err != nil {
			return err
		}
		return catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: "SYSADMIN", GranteeKind: catalog.GranteeUser, Grantee: "U"})
	})
}

func TestSystemHierarchy(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	newAccount(t, st)
	_ = st.View(ctx, func(tx store.Tx) error {
		set, err := authz.Closure(ctx, tx, "A", "ACCOUNTADMIN")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []string{"ACCOUNTADMIN", "SECURITYADMIN", "USERADMIN", "SYSADMIN", "PUBLIC"} {
			if !set.Has(r) {
				t.Errorf("ACCOUNTADMIN closure lacks %s", r)
			}
		}
		if set.Has("ORGADMIN") {
			t.Error("ACCOUNTADMIN inherits ORGADMIN")
		}
		if got := len(set.Roles()); got != 5 {
			t.Errorf("Roles() = %d names, want 5", got)
		}
		tests := []struct {
			user, role string
			want       bool
		}{
			{"ADMIN", "ACCOUNTADMIN", true}, {"ADMIN", "USERADMIN", true}, {"ADMIN", "ORGADMIN", true},
			{"U", "SYSADMIN", true}, {"U", "PUBLIC", true}, {"U", "ACCOUNTADMIN", false}, {"U", "USERADMIN", false},
			{"NOBODY", "SYSADMIN", false}, {"ADMIN", "NO_SUCH_ROLE", false},
		}
		for _, tt := range tests {
			got, err := authz.CanUseRole(ctx, tx, "A", tt.user, tt.role)
			if err != nil || got != tt.want {
				t.Errorf("CanUseRole(%s, %s) = %v, %v; want %v", tt.user, tt.role, got, err, tt.want)
			}
		}
		// Secondary roles widen All but not Primary.
		act, err := authz.ActiveRoles(ctx, tx, "A", "ADMIN", "PUBLIC", []string{"ALL"})
		if err != nil {
			t.Fatal(err)
		}
		if act.Primary.Has("SYSADMIN") || !act.All.Has("SYSADMIN") {
			t.Errorf("secondary roles: primary=%v all=%v", act.Primary.Roles(), act.All.Roles())
		}
		if authz.HasAccountPrivilege(act.Primary, "CREATE DATABASE") || !authz.HasAccountPrivilege(act.All, "CREATE DATABASE") {
			t.Error("CREATE DATABASE should come only from the secondary roles here")
		}
		none, err := authz.ActiveRoles(ctx, tx, "A", "ADMIN", "PUBLIC", nil)
		if err != nil {
			t.Fatal(err)
		}
		if authz.HasAccountPrivilege(none.All, "CREATE DATABASE") {
			t.Error("no secondary roles: PUBLIC must not CREATE DATABASE")
		}
		return nil
	})
}

// TestAccountPrivileges checks the system roles' grants made at account creation,
// through sets computed from the store and through hand-built sets.
func TestAccountPrivileges(t *testing.T) {
	st := openStore(t)
	newAccount(t, st)
	snap := snapshot(t, st, "A")
	tests := []struct {
		role, priv string
		want       bool
	}{
		{"ACCOUNTADMIN", "CREATE DATABASE", true},
		{"ACCOUNTADMIN", "CREATE USER", true},
		{"ACCOUNTADMIN", "MANAGE GRANTS", true},
		{"ACCOUNTADMIN", "MANAGE CALLER GRANTS", true},
		{"ACCOUNTADMIN", "CREATE INTEGRATION", true},
		{"ACCOUNTADMIN", "CREATE ACCOUNT", false},
		{"ORGADMIN", "CREATE ACCOUNT", true},
		{"SYSADMIN", "CREATE WAREHOUSE", true},
		{"SYSADMIN", "CREATE USER", false},
		{"SECURITYADMIN", "CREATE ROLE", true},
		{"SECURITYADMIN", "MANAGE GRANTS", true},
		{"USERADMIN", "CREATE ROLE", true},
		{"USERADMIN", "MANAGE GRANTS", false},
		{"PUBLIC", "CREATE DATABASE", false},
	}
	for _, tt := range tests {
		if got := authz.HasAccountPrivilege(snap.Closure(tt.role), tt.priv); got != tt.want {
			t.Errorf("store: HasAccountPrivilege(%s, %s) = %v; want %v", tt.role, tt.priv, got, tt.want)
		}
		if got := authz.HasAccountPrivilege(authz.RoleSet{tt.role: true}, tt.priv); got != tt.want && tt.role != "SECURITYADMIN" && tt.role != "ACCOUNTADMIN" {
			t.Errorf("hand-built: HasAccountPrivilege(%s, %s) = %v; want %v", tt.role, tt.priv, got, tt.want)
		}
	}
}

func TestPrivilegeTable(t *testing.T) {
	tests := []struct {
		kind, priv string
		want       bool
	}{
		{"ACCOUNT", "CREATE DATABASE", true}, {"ACCOUNT", "MANAGE CALLER GRANTS", true}, {"ACCOUNT", "SELECT", false},
		{"WAREHOUSE", "USAGE", true}, {"WAREHOUSE", "OPERATE", true}, {"WAREHOUSE", "SELECT", false},
		{"DATABASE", "CREATE SCHEMA", true}, {"SCHEMA", "CREATE NETWORK RULE", true}, {"SCHEMA", "CREATE SECRET", true},
		{"TABLE", "SELECT", true}, {"TABLE", "TRUNCATE", true}, {"VIEW", "INSERT", false}, {"VIEW", "OWNERSHIP", true},
		{"INTEGRATION", "USAGE", true}, {"TABLES", "ALL PRIVILEGES", true},
	}
	for _, tt := range tests {
		k, ok := catalog.LookupKind(tt.kind)
		if !ok {
			t.Fatalf("kind %s missing", tt.kind)
		}
		if got := k.ValidPrivilege(tt.priv); got != tt.want {
			t.Errorf("%s %s: %v, want %v", tt.kind, tt.priv, got, tt.want)
		}
	}
	catalog.RegisterKind(catalog.KindSpec{Kind: "WIDGET", Plural: "WIDGETS", StoreKind: "WIDGET", Level: catalog.LevelSchemaObject,
		Label: "Widget", Privileges: []string{"SPIN"}})
	if k, ok := catalog.LookupKind("WIDGETS"); !ok || !k.ValidPrivilege("SPIN") {
		t.Error("a registered kind is not in the table")
	}
}

// TestGrantsAndInvalidation grants privileges and roles and checks that every change
// is seen at once (the cached snapshot is replaced).
func TestGrantsAndInvalidation(t *testing.T) {
	st := openStore(t)
	newAccount(t, st)
	wh := catalog.Object{Kind: "WAREHOUSE", Name: "W"}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		for _, r := range []string{"R1", "R2", "R3"} {
			if err := catalog.CreateRole(ctx, tx, "A", "USERADMIN", &catalog.Role{Name: r}); err != nil {
				return err
			}
		}
		return catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: "R1", GranteeKind: catalog.GranteeRole, Grantee: "R2"})
	})
	s1 := snapshot(t, st, "A")
	if s2 := snapshot(t, st, "A"); s1 != s2 {
		t.Error("unchanged grants: snapshot not cached")
	}
	if s1.Allowed(s1.Closure("R2"), wh, "SYSADMIN", "USAGE") {
		t.Error("USAGE before grant")
	}
	if !s1.Inherits("R2", "R1") || s1.Inherits("R1", "R2") {
		t.Error("R2 should inherit R1 only")
	}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		return catalog.PutPrivilegeGrant(ctx, tx, "A", &catalog.PrivilegeGrant{Privilege: "USAGE", On: wh, Grantee: "R1"})
	})
	s3 := snapshot(t, st, "A")
	if s3 == s1 {
		t.Fatal("grant did not invalidate the cache")
	}
	if !s3.Allowed(s3.Closure("R2"), wh, "SYSADMIN", "USAGE") || s3.Allowed(s3.Closure("R3"), wh, "SYSADMIN", "USAGE") {
		t.Error("USAGE should reach R2 through R1 and not R3")
	}
	if !s3.Allowed(s3.Closure("R3"), wh, "R3", "OPERATE") {
		t.Error("the owner may do anything")
	}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		return catalog.RevokeRole(ctx, tx, "A", catalog.GranteeRole, "R2", "R1")
	})
	s4 := snapshot(t, st, "A")
	if s4.Allowed(s4.Closure("R2"), wh, "SYSADMIN", "USAGE") {
		t.Error("revoke not seen")
	}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		return catalog.PutPrivilegeGrant(ctx, tx, "A", &catalog.PrivilegeGrant{Privilege: "CREATE DATABASE", On: catalog.Object{Kind: "ACCOUNT"}, Grantee: "R3"})
	})
	if !authz.HasAccountPrivilege(snapshot(t, st, "A").Closure("R3"), "CREATE DATABASE") {
		t.Error("account grant to a custom role not seen")
	}
	// Revoking a privilege is seen by the next snapshot, too.
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		_, err := catalog.DeletePrivilegeGrant(ctx, tx, "A", &catalog.PrivilegeGrant{Privilege: "USAGE", On: wh, Grantee: "R1"})
		return err
	})
	if s5 := snapshot(t, st, "A"); s5.Allowed(s5.Closure("R1"), wh, "SYSADMIN", "USAGE") {
		t.Error("privilege revoke not seen")
	}
}

// TestCallerGrants is the restricted caller's-rights example: user U1 with role R1
// calls an executable owned by OWNER_ROLE that reads table T1; the owner role holds
// four caller grants (USAGE on the database, schema and warehouse, SELECT on T1).
func TestCallerGrants(t *testing.T) {
	st := openStore(t)
	newAccount(t, st)
	db := catalog.Object{Kind: "DATABASE", Name: "DB"}
	sch := catalog.Object{Kind: "SCHEMA", Database: "DB", Name: "S"}
	wh := catalog.Object{Kind: "WAREHOUSE", Name: "WH"}
	t1 := catalog.Object{Kind: "TABLE", Database: "DB", Schema: "S", Name: "T1"}
	t2 := catalog.Object{Kind: "TABLE", Database: "DB", Schema: "S", Name: "T2"}
	other := catalog.Object{Kind: "TABLE", Database: "DB", Schema: "OTHER", Name: "T3"}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		for _, r := range []string{"R1", "OWNER_ROLE", "OWNER2"} {
			if err := catalog.CreateRole(ctx, tx, "A", "USERADMIN", &catalog.Role{Name: r}); err != nil {
				return err
			}
		}
		if err := catalog.CreateUser(ctx, tx, "A", "USERADMIN", &catalog.User{Name: "U1"}); err != nil {
			return err
		}
		if err := catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: "R1", GranteeKind: catalog.GranteeUser, Grantee: "U1"}); err != nil {
			return err
		}
		grants := []catalog.PrivilegeGrant{
			{Privilege: "USAGE", On: db}, {Privilege: "USAGE", On: sch}, {Privilege: "USAGE", On: wh},
			{Privilege: "SELECT", On: t1}, {Privilege: "INSERT", On: t1}, {Privilege: "SELECT", On: t2},
		}
		for i := range grants {
			grants[i].Grantee = "R1"
			if err := catalog.PutPrivilegeGrant(ctx, tx, "A", &grants[i]); err != nil {
				return err
			}
		}
		callers := []catalog.CallerGrant{
			{Privilege: "USAGE", On: db, Kind: "DATABASE"}, {Privilege: "USAGE", On: sch, Kind: "SCHEMA"},
			{Privilege: "USAGE", On: wh, Kind: "WAREHOUSE"}, {Privilege: "SELECT", On: t1, Kind: "TABLE"},
			// OWNER2 may read every table of schema OTHER, current and future.
			{Privilege: "SELECT", Inherited: true, On: catalog.Object{Kind: "SCHEMA", Database: "DB", Name: "OTHER"}, Kind: "TABLE", Grantee: "OWNER2"},
		}
		for i := range callers {
			if callers[i].Grantee == "" {
				callers[i].Grantee = "OWNER_ROLE"
			}
			if err := catalog.PutCallerGrant(ctx, tx, "A", &callers[i]); err != nil {
				return err
			}
		}
		return nil
	})
	snap := snapshot(t, st, "A")
	caller := snap.Active("U1", "R1", nil).All
	nobody := snap.Active("U", "PUBLIC", nil).All
	tests := []struct {
		name   string
		caller authz.RoleSet
		owner  string
		obj    catalog.Object
		priv   string
		want   bool
	}{
		{"select T1", caller, "OWNER_ROLE", t1, "SELECT", true},
		{"usage database", caller, "OWNER_ROLE", db, "USAGE", true},
		{"usage schema", caller, "OWNER_ROLE", sch, "USAGE", true},
		{"usage warehouse", caller, "OWNER_ROLE", wh, "USAGE", true},
		{"insert T1: caller may, no caller grant", caller, "OWNER_ROLE", t1, "INSERT", false},
		{"select T2: caller may, no caller grant", caller, "OWNER_ROLE", t2, "SELECT", false},
		{"select T1 by a caller without SELECT", nobody, "OWNER_ROLE", t1, "SELECT", false},
		{"another owner without caller grants", caller, "OWNER2", t1, "SELECT", false},
		{"inherited grant, caller lacks SELECT", caller, "OWNER2", other, "SELECT", false},
	}
	for _, tt := range tests {
		if got := snap.CallerAllowed(tt.caller, tt.owner, tt.obj, "SYSADMIN", tt.priv); got != tt.want {
			t.Errorf("%s: CallerAllowed = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !snap.CallerAllowed(snap.Closure("OWNER2"), "OWNER2", other, "OWNER2", "SELECT") {
		t.Error("inherited caller grant on the schema should cover its tables when the caller owns one")
	}
	// Caller grants to PUBLIC apply to every owner.
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		return catalog.PutCallerGrant(ctx, tx, "A", &catalog.CallerGrant{Privilege: "SELECT", On: t2, Kind: "TABLE", Grantee: "PUBLIC"})
	})
	snap = snapshot(t, st, "A")
	if !snap.CallerAllowed(caller, "OWNER2", t2, "SYSADMIN", "SELECT") {
		t.Error("caller grant to PUBLIC should apply to every owner")
	}
}

// buildGraph makes n roles in chains of the given depth, each role granted to the next,
// with a USAGE grant on a warehouse to the bottom of each chain.
func buildGraph(tb testing.TB, st store.Store, n, depth int) {
	update(tb, st, func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			name := fmt.Sprintf("R%04d", i)
			if err := catalog.CreateRole(ctx, tx, "A", "USERADMIN", &catalog.Role{Name: name}); err != nil {
				return err
			}
			if i%depth != 0 {
				if err := catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: fmt.Sprintf("R%04d", i-1), GranteeKind: catalog.GranteeRole, Grantee: name}); err != nil {
					return err
				}
			} else {
				wh := catalog.Object{Kind: "WAREHOUSE", Name: fmt.Sprintf("W%04d", i)}
				if err := catalog.PutPrivilegeGrant(ctx, tx, "A", &catalog.PrivilegeGrant{Privilege: "USAGE", On: wh, Grantee: name}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func TestDeepGraph(t *testing.T) {
	st := openStore(t)
	newAccount(t, st)
	buildGraph(t, st, 100, 10)
	snap := snapshot(t, st, "A")
	top := snap.Closure("R0009")
	if !snap.Allowed(top, catalog.Object{Kind: "WAREHOUSE", Name: "W0000"}, "", "USAGE") {
		t.Error("top of chain lacks the bottom's USAGE")
	}
	if snap.Allowed(top, catalog.Object{Kind: "WAREHOUSE", Name: "W0010"}, "", "USAGE") {
		t.Error("USAGE leaked across chains")
	}
	if !snap.Inherits("R0009", "R0000") {
		t.Error("granting R0009 to R0000 must be refused as a cycle")
	}
}

// BenchmarkPrivilegeCheck measures one privilege check on a graph of 1,000 roles in
// chains of depth 10: the statement's role context is loaded from the cached snapshot
// (a generation read in the transaction) and the check answered from the index.
func BenchmarkPrivilegeCheck(b *testing.B) {
	st := openStore(b)
	newAccount(b, st)
	buildGraph(b, st, 1000, 10)
	ctx := context.Background()
	wh := catalog.Object{Kind: "WAREHOUSE", Name: "W0990"}
	b.Run("cached-snapshot", func(b *testing.B) {
		snap := snapshot(b, st, "A")
		for b.Loop() {
			act := snap.Active("U", "R0999", nil)
			if !act.Allowed(wh, "SYSADMIN", "USAGE") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("with-generation-read", func(b *testing.B) {
		_ = st.View(ctx, func(tx store.Tx) error {
			for b.Loop() {
				act, err := authz.ActiveRoles(ctx, tx, "A", "U", "R0999", nil)
				if err != nil || !act.Allowed(wh, "SYSADMIN", "USAGE") {
					b.Fatal("denied", err)
				}
			}
			return nil
		})
	})
	b.Run("uncached-build", func(b *testing.B) {
		_ = st.View(ctx, func(tx store.Tx) error {
			for b.Loop() {
				snap, err := authz.Build(ctx, tx, "A")
				if err != nil || !snap.Active("U", "R0999", nil).Allowed(wh, "SYSADMIN", "USAGE") {
					b.Fatal("denied", err)
				}
			}
			return nil
		})
	})
}

// TestDatabaseRoleClosure: an account role granted a database role inherits the
// database role's privileges (and those of database roles granted to it), a
// database role is never usable as a session role, and grants that would close a
// cycle through a database role are detected.
func TestDatabaseRoleClosure(t *testing.T) {
	st := openStore(t)
	newAccount(t, st)
	dr, inner := catalog.DatabaseRoleID("D", "DR"), catalog.DatabaseRoleID("D", "INNER")
	table := authz.Object{Kind: "TABLE", Database: "D", Schema: "PUBLIC", Name: "T"}
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		for _, f := range []func() error{
			func() error { return catalog.CreateDatabase(ctx, tx, "A", "SYSADMIN", &catalog.Database{Name: "D"}) },
			func() error { return catalog.CreateRole(ctx, tx, "A", "USERADMIN", &catalog.Role{Name: "AR"}) },
			func() error { return catalog.CreateRole(ctx, tx, "A", "USERADMIN", &catalog.Role{Name: "OTHER"}) },
			func() error {
				return catalog.CreateDatabaseRole(ctx, tx, "A", "SYSADMIN", &catalog.DatabaseRole{Database: "D", Name: "DR"})
			},
			func() error {
				return catalog.CreateDatabaseRole(ctx, tx, "A", "SYSADMIN", &catalog.DatabaseRole{Database: "D", Name: "INNER"})
			},
			func() error {
				return catalog.PutPrivilegeGrant(ctx, tx, "A", &catalog.PrivilegeGrant{Privilege: "SELECT", On: table, Grantee: inner})
			},
			func() error {
				return catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: inner, GranteeKind: catalog.GranteeRole, Grantee: dr})
			},
			func() error {
				return catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: dr, GranteeKind: catalog.GranteeRole, Grantee: "AR"})
			},
			func() error {
				return catalog.GrantRole(ctx, tx, "A", &catalog.RoleGrant{Role: "AR", GranteeKind: catalog.GranteeUser, Grantee: "U"})
			},
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	snap := snapshot(t, st, "A")
	tests := []struct {
		role       string
		wantSelect bool
	}{
		{"AR", true}, {dr, true}, {inner, true}, {"OTHER", false}, {"PUBLIC", false},
	}
	for _, tt := range tests {
		if got := snap.Allowed(snap.Closure(tt.role), table, "SYSADMIN", "SELECT"); got != tt.wantSelect {
			t.Errorf("%q SELECT = %v, want %v", tt.role, got, tt.wantSelect)
		}
	}
	if !snap.DatabaseRoleExists(dr) || snap.DatabaseRoleExists(catalog.DatabaseRoleID("D", "NONE")) || snap.RoleExists(dr) {
		t.Error("database role existence is wrong")
	}
	for _, role := range []string{dr, inner, "D.DR"} {
		if snap.CanUseRole("U", role) {
			t.Errorf("user U may use %q as a session role", role)
		}
	}
	if !snap.CanUseRole("U", "AR") {
		t.Error("user U may not use AR")
	}
	// Granting AR or DR to INNER would close a cycle.
	for _, grantee := range []string{"AR", dr} {
		if !snap.Inherits(grantee, inner) {
			t.Errorf("%q does not inherit INNER: a cycle would go undetected", grantee)
		}
	}

	// Revoking DR from AR takes the privilege away at once (new generation).
	update(t, st, func(ctx context.Context, tx store.Tx) error {
		return catalog.RevokeRole(ctx, tx, "A", catalog.GranteeRole, "AR", dr)
	})
	snap = snapshot(t, st, "A")
	if snap.Allowed(snap.Closure("AR"), table, "SYSADMIN", "SELECT") {
		t.Error("AR keeps SELECT after the database role was revoked")
	}
}
