package catalog

import (
	"context"
	"slices"
	"testing"

	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

func TestDatabaseRoleID(t *testing.T) {
	tests := []struct{ db, name string }{
		{"D", "R"}, {"A.B", "C"}, {"A", "B.C"}, {`Q"X`, "\x01"}, {"", ""},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		id := DatabaseRoleID(tt.db, tt.name)
		if seen[id] {
			t.Errorf("DatabaseRoleID(%q, %q) = %q collides", tt.db, tt.name, id)
		}
		seen[id] = true
		if !IsDatabaseRoleID(id) || !ReservedRoleName(id) {
			t.Errorf("%q is not recognised as a database role ID", id)
		}
		db, name, ok := ParseDatabaseRoleID(id)
		if !ok || db != tt.db || name != tt.name {
			t.Errorf("ParseDatabaseRoleID(%q) = %q, %q, %v", id, db, name, ok)
		}
	}
	for _, account := range []string{"R", "D.R", `["D","R"]`, ""} {
		if _, _, ok := ParseDatabaseRoleID(account); ok || ReservedRoleName(account) {
			t.Errorf("account role name %q taken for a database role", account)
		}
	}
	if k, n := RoleDisplay(DatabaseRoleID("D", "R")); k != GranteeDatabaseRole || n != "D.R" {
		t.Errorf("RoleDisplay = %s %s", k, n)
	}
}

// dbRoleState is what the lifecycle test reads back after each step.
type dbRoleState struct {
	roles      []string // DB.R of every database role
	roleGrants []string // role ID → grantee
	privGrants []string // privilege on path → grantee
}

func readDBRoles(t *testing.T, st store.Store) dbRoleState {
	t.Helper()
	ctx := context.Background()
	var s dbRoleState
	if err := st.View(ctx, func(tx store.Tx) error {
		rs, err := ListDatabaseRoles(ctx, tx, "A", "*")
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Name == "" || r.Database == "" {
				t.Errorf("role record body lost its names: %+v", r)
			}
			s.roles = append(s.roles, r.Database+"."+r.Name)
		}
		rgs, err := AllRoleGrants(ctx, tx, "A")
		if err != nil {
			return err
		}
		for _, g := range rgs {
			if IsDatabaseRoleID(g.Role) || IsDatabaseRoleID(g.Grantee) {
				_, role := RoleDisplay(g.Role)
				_, grantee := RoleDisplay(g.Grantee)
				s.roleGrants = append(s.roleGrants, role+"→"+grantee)
			}
		}
		pgs, err := AllPrivilegeGrants(ctx, tx, "A")
		if err != nil {
			return err
		}
		for _, g := range pgs {
			if IsDatabaseRoleID(g.Grantee) {
				_, grantee := RoleDisplay(g.Grantee)
				s.privGrants = append(s.privGrants, g.Privilege+" "+g.On.Path()+"→"+grantee)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.roles)
	slices.Sort(s.roleGrants)
	slices.Sort(s.privGrants)
	return s
}

func TestDatabaseRoleLifecycle(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	do := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := st.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	r, r2 := DatabaseRoleID("D", "R"), DatabaseRoleID("D", "R2")
	do(func(tx store.Tx) error {
		for _, f := range []func() error{
			func() error { return CreateAccount(ctx, tx, &Account{Name: "A"}, &User{Name: "ADMIN"}) },
			func() error { return CreateDatabase(ctx, tx, "A", "SYSADMIN", &Database{Name: "D"}) },
			func() error { return CreateDatabase(ctx, tx, "A", "SYSADMIN", &Database{Name: "E"}) },
			func() error { return CreateRole(ctx, tx, "A", "USERADMIN", &Role{Name: "AR"}) },
			func() error {
				return CreateDatabaseRole(ctx, tx, "A", "SYSADMIN", &DatabaseRole{Database: "D", Name: "R"})
			},
			func() error {
				return CreateDatabaseRole(ctx, tx, "A", "SYSADMIN", &DatabaseRole{Database: "D", Name: "R2"})
			},
			func() error {
				return CreateDatabaseRole(ctx, tx, "A", "SYSADMIN", &DatabaseRole{Database: "E", Name: "R"})
			},
			func() error {
				return GrantRole(ctx, tx, "A", &RoleGrant{Role: r, GranteeKind: GranteeRole, Grantee: "AR"})
			},
			func() error {
				return GrantRole(ctx, tx, "A", &RoleGrant{Role: r2, GranteeKind: GranteeRole, Grantee: r})
			},
			func() error {
				return PutPrivilegeGrant(ctx, tx, "A", &PrivilegeGrant{Privilege: "USAGE", On: Object{Kind: "DATABASE", Name: "D"}, Grantee: r})
			},
			func() error {
				return PutPrivilegeGrant(ctx, tx, "A", &PrivilegeGrant{Privilege: "USAGE", On: Object{Kind: "SCHEMA", Database: "D", Name: "PUBLIC"}, Grantee: r2})
			},
		} {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
	steps := []struct {
		name string
		fn   func(tx store.Tx) error
		want dbRoleState
	}{
		{"created", func(store.Tx) error { return nil }, dbRoleState{
			roles:      []string{"D.R", "D.R2", "E.R"},
			roleGrants: []string{"D.R2→D.R", "D.R→AR"},
			privGrants: []string{"USAGE D.PUBLIC→D.R2", "USAGE D→D.R"},
		}},
		{"rename role", func(tx store.Tx) error { return RenameDatabaseRole(ctx, tx, "A", "D", "R", "RX") }, dbRoleState{
			roles:      []string{"D.R2", "D.RX", "E.R"},
			roleGrants: []string{"D.R2→D.RX", "D.RX→AR"},
			privGrants: []string{"USAGE D.PUBLIC→D.R2", "USAGE D→D.RX"},
		}},
		{"rename database", func(tx store.Tx) error { return MoveContainer(ctx, tx, "A", ContainerMove{FromDB: "D", ToDB: "N"}) }, dbRoleState{
			roles:      []string{"E.R", "N.R2", "N.RX"},
			roleGrants: []string{"N.R2→N.RX", "N.RX→AR"},
			privGrants: []string{"USAGE N.PUBLIC→N.R2", "USAGE N→N.RX"},
		}},
		{"drop role", func(tx store.Tx) error { return DropDatabaseRole(ctx, tx, "A", "N", "R2") }, dbRoleState{
			roles:      []string{"E.R", "N.RX"},
			roleGrants: []string{"N.RX→AR"},
			privGrants: []string{"USAGE N→N.RX"},
		}},
		{"drop database", func(tx store.Tx) error { return DropDatabase(ctx, tx, "A", "N") }, dbRoleState{
			roles: []string{"E.R"},
		}},
	}
	for _, step := range steps {
		do(step.fn)
		got := readDBRoles(t, st)
		if !equalAny(got.roles, step.want.roles) || !equalAny(got.roleGrants, step.want.roleGrants) || !equalAny(got.privGrants, step.want.privGrants) {
			t.Errorf("%s:\n got %+v\nwant %+v", step.name, got, step.want)
		}
	}
}
