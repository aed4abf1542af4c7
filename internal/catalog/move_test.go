package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// moveTestKind is a contained kind (not in the privilege table) that the move must
// carry like any other.
const moveTestKind = "MOVE_TEST_THING"

func init() { RegisterContainedKind(LevelSchemaObject, moveTestKind) }

// moveFixture creates, in account A: databases D (schemas PUBLIC, S, T) and OTHER;
// in D.S a network rule R, a sealed secret X, a table TB and a view V reading D.S.TB
// and D.T.TB2; in D.T a rule R2 and the table TB2; grants on D.S, D.S.TB and D.S.R
// and a future grant in D.S; policy P (allowed D.S.R, blocked D.T.R2), policy Q
// naming a rule elsewhere, and an external access integration naming D.S.R and D.S.X;
// a moveTestKind record in D.S, and a PAT of a user named D (parent "D", like D's
// schemas, which no move may touch).
func moveFixture(t *testing.T, kr *secrets.Keyring) store.Store {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	var err error
	sec := &Secret{Database: "D", Schema: "S", Name: "X", UID: "uid-x", Type: SecretGenericString}
	if err := sec.Seal(kr, "A", &SecretValue{SecretString: "kept"}); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		steps := []func() error{
			func() error { return CreateAccount(ctx, tx, &Account{Name: "A"}, &User{Name: "ADMIN"}) },
			func() error { return CreateDatabase(ctx, tx, "A", "SYSADMIN", &Database{Name: "D"}) },
			func() error { return CreateDatabase(ctx, tx, "A", "SYSADMIN", &Database{Name: "OTHER"}) },
			func() error { return CreateSchema(ctx, tx, "A", "SYSADMIN", &Schema{Database: "D", Name: "S"}) },
			func() error { return CreateSchema(ctx, tx, "A", "SYSADMIN", &Schema{Database: "D", Name: "T"}) },
			func() error {
				return CreateNetworkRule(ctx, tx, "A", "NETADMIN", &NetworkRule{Database: "D", Schema: "S", Name: "R", Type: "IPV4", Mode: "INGRESS", Values: []string{"10.0.0.1"}})
			},
			func() error {
				return CreateNetworkRule(ctx, tx, "A", "NETADMIN", &NetworkRule{Database: "D", Schema: "T", Name: "R2", Type: "IPV4", Mode: "INGRESS", Values: []string{"10.0.0.2"}})
			},
			func() error { return CreateSecret(ctx, tx, "A", "SECADMIN", sec) },
			func() error {
				return CreateTable(ctx, tx, "A", "SYSADMIN", &Table{Database: "D", Schema: "S", Name: "TB", Kind: KindTable, DuckSchema: "s1", DuckName: "t_tb"})
			},
			func() error {
				return CreateTable(ctx, tx, "A", "SYSADMIN", &Table{Database: "D", Schema: "T", Name: "TB2", Kind: KindTable, DuckSchema: "s2", DuckName: "t_tb2"})
			},
			func() error {
				return CreateTable(ctx, tx, "A", "SYSADMIN", &Table{Database: "D", Schema: "S", Name: "V", Kind: KindView, DuckSchema: "s1", DuckName: "t_v",
					Sources: []Object{{Kind: KindTable, Database: "D", Schema: "S", Name: "TB"}, {Kind: KindTable, Database: "D", Schema: "T", Name: "TB2"}}})
			},
			func() error {
				return PutPrivilegeGrant(ctx, tx, "A", &PrivilegeGrant{Privilege: PrivUsage, On: Object{Kind: KindSchema, Database: "D", Name: "S"}, Grantee: "R1"})
			},
			func() error {
				return PutPrivilegeGrant(ctx, tx, "A", &PrivilegeGrant{Privilege: "SELECT", On: Object{Kind: KindTable, Database: "D", Schema: "S", Name: "TB"}, Grantee: "R1"})
			},
			func() error {
				return PutPrivilegeGrant(ctx, tx, "A", &PrivilegeGrant{Privilege: PrivUsage, On: Object{Kind: "NETWORK RULE", Database: "D", Schema: "S", Name: "R"}, Grantee: "R1"})
			},
			func() error {
				return PutFutureGrant(ctx, tx, "A", &FutureGrant{Privilege: "SELECT", Kind: "TABLE", Database: "D", Schema: "S", Grantee: "R1"})
			},
			func() error {
				return CreateNetworkPolicy(ctx, tx, "A", "SECADMIN", &NetworkPolicy{Name: "P", AllowedRules: []string{"D.S.R"}, BlockedRules: []string{"D.T.R2"}})
			},
			func() error {
				return CreateNetworkPolicy(ctx, tx, "A", "SECADMIN", &NetworkPolicy{Name: "Q", AllowedRules: []string{"OTHER.PUBLIC.R"}, AllowedIPs: []string{"10.0.0.9"}})
			},
			func() error {
				return CreateIntegration(ctx, tx, "A", "ACCOUNTADMIN", &Integration{Name: "EAI", Category: CategorySecurity, Type: IntegrationExternalAccess, UID: "uid-eai", Enabled: true,
					AllowedNetworkRules: []Object{{Kind: "NETWORK RULE", Database: "D", Schema: "S", Name: "R"}},
					AllowedSecretsMode:  SecretsList, AllowedSecrets: []Object{{Kind: "SECRET", Database: "D", Schema: "S", Name: "X"}}})
			},
			func() error {
				return tx.Insert(ctx, &store.Record{Key: store.Key{Account: "A", Kind: moveTestKind, Parent: "D.S", Name: "W"},
					Data: []byte(`{"database":"D","schema":"S","extra":1}`)})
			},
			func() error {
				// A temporary table of session 7 (temptable.go's kind and record name).
				return tx.Insert(ctx, &store.Record{Key: store.Key{Account: "A", Kind: "TEMP_TABLE", Parent: "D.S", Name: "7/TT"},
					Data: []byte(`{"database":"D","schema":"S","name":"TT","kind":"TABLE"}`)})
			},
			func() error {
				return tx.Insert(ctx, &store.Record{Key: store.Key{Account: "A", Kind: KindPAT, Parent: "D", Name: "TOK"}, Data: []byte(`{}`)})
			},
		}
		for i, f := range steps {
			if err := f(); err != nil {
				return fmt.Errorf("fixture step %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fixtureState is where the fixture's objects are found, as comparable text.
type fixtureState struct {
	schemas    []string // of every database, "DB.SCHEMA"
	rules      []string // paths, with owner
	secret     string   // path of the one secret
	tables     []string // paths of tables and views
	viewSrc    []string // the view's sources
	grants     []string // privilege grants: "PRIV ON KIND PATH"
	future     []string // future grants: "PRIV ON KIND IN DB.SCHEMA"
	policyP    []string // P's allowed then blocked rule paths
	policyQ    []string
	eaiRules   []string
	eaiSecrets []string
	thing      string // the moveTestKind record: parent, name and body
	temp       string // the temporary table record's parent and name
	pat        string // the PAT's parent
}

func readFixture(t *testing.T, st store.Store, kr *secrets.Keyring) fixtureState {
	t.Helper()
	ctx := context.Background()
	var s fixtureState
	err := st.View(ctx, func(tx store.Tx) error {
		scs, err := ListSchemas(ctx, tx, "A", "*")
		if err != nil {
			return err
		}
		for _, sc := range scs {
			s.schemas = append(s.schemas, sc.Database+"."+sc.Name)
		}
		rules, err := ListNetworkRules(ctx, tx, "A", "*")
		if err != nil {
			return err
		}
		for _, r := range rules {
			got, err := GetNetworkRule(ctx, tx, "A", r.Database, r.Schema, r.Name)
			if err != nil {
				return err
			}
			s.rules = append(s.rules, got.FullName()+"@"+got.Meta.Owner)
		}
		secs, err := ListSecrets(ctx, tx, "A", "*")
		if err != nil {
			return err
		}
		for _, sec := range secs {
			v, err := sec.Open(kr, "A")
			if err != nil {
				return err
			}
			s.secret = sec.FullName() + "=" + v.SecretString
		}
		for _, kind := range []string{KindTable, KindView} {
			ts, err := ListTables(ctx, tx, "A", kind, "", "")
			if err != nil {
				return err
			}
			for _, tb := range ts {
				s.tables = append(s.tables, tb.Database+"."+tb.Schema+"."+tb.Name)
				for _, src := range tb.Sources {
					s.viewSrc = append(s.viewSrc, src.Path())
				}
			}
		}
		pgs, err := AllPrivilegeGrants(ctx, tx, "A")
		if err != nil {
			return err
		}
		for _, g := range pgs {
			if g.Grantee == "R1" {
				s.grants = append(s.grants, g.Privilege+" ON "+g.On.Kind+" "+g.On.Path())
			}
		}
		fgs, err := AllFutureGrants(ctx, tx, "A")
		if err != nil {
			return err
		}
		for _, g := range fgs {
			s.future = append(s.future, g.Privilege+" ON "+g.Kind+" IN "+g.Database+"."+g.Schema)
		}
		for _, name := range []string{"P", "Q"} {
			p, err := GetNetworkPolicy(ctx, tx, "A", name)
			if err != nil {
				return err
			}
			paths := append(slices.Clone(p.AllowedRules), p.BlockedRules...)
			if name == "P" {
				s.policyP = paths
			} else {
				s.policyQ = paths
			}
		}
		things, err := tx.List(ctx, "A", moveTestKind, "*")
		if err != nil {
			return err
		}
		for _, r := range things {
			s.thing = r.Parent + "." + r.Name + " " + string(r.Data)
		}
		temps, err := tx.List(ctx, "A", "TEMP_TABLE", "*")
		if err != nil {
			return err
		}
		for _, r := range temps {
			s.temp = r.Parent + "." + r.Name
		}
		pats, err := tx.List(ctx, "A", KindPAT, "*")
		if err != nil {
			return err
		}
		for _, r := range pats {
			s.pat = r.Parent
		}
		in, err := GetIntegration(ctx, tx, "A", "EAI")
		if err != nil {
			return err
		}
		for _, o := range in.AllowedNetworkRules {
			s.eaiRules = append(s.eaiRules, o.Path())
		}
		for _, o := range in.AllowedSecrets {
			s.eaiSecrets = append(s.eaiSecrets, o.Path())
			sec, err := GetSecret(ctx, tx, "A", o.Database, o.Schema, o.Name)
			if err != nil {
				return err
			}
			if !in.AllowsSecret(sec) {
				return errors.New("the integration does not allow its own secret")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.schemas)
	slices.Sort(s.rules)
	slices.Sort(s.tables)
	slices.Sort(s.grants)
	return s
}

func TestMoveContainer(t *testing.T) {
	kr := testKeyring(t)
	before := readFixture(t, moveFixture(t, kr), kr)
	if want := []string{"D.PUBLIC", "D.S", "D.T", "OTHER.PUBLIC"}; !slices.Equal(before.schemas, want) {
		t.Fatalf("fixture schemas %v", before.schemas)
	}
	tests := []struct {
		name string
		m    ContainerMove
		// stale inserts a record at the destination first (a leftover of a container
		// dropped or renamed by an older version).
		stale   *NetworkRule
		wantErr func(error) bool
		want    fixtureState
	}{
		{
			name: "schema rename",
			m:    ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "D", ToSchema: "S2"},
			want: fixtureState{
				schemas: []string{"D.PUBLIC", "D.S2", "D.T", "OTHER.PUBLIC"},
				rules:   []string{"D.S2.R@NETADMIN", "D.T.R2@NETADMIN"},
				secret:  "D.S2.X=kept",
				tables:  []string{"D.S2.TB", "D.S2.V", "D.T.TB2"},
				viewSrc: []string{"D.S2.TB", "D.T.TB2"},
				grants:  []string{"SELECT ON TABLE D.S2.TB", "USAGE ON NETWORK RULE D.S2.R", "USAGE ON SCHEMA D.S2"},
				future:  []string{"SELECT ON TABLE IN D.S2"},
				policyP: []string{"D.S2.R", "D.T.R2"}, policyQ: []string{"OTHER.PUBLIC.R"},
				eaiRules: []string{"D.S2.R"}, eaiSecrets: []string{"D.S2.X"},
				thing: `D.S2.W {"database":"D","extra":1,"schema":"S2"}`, temp: "D.S2.7/TT", pat: "D",
			},
		},
		{
			name: "database rename",
			m:    ContainerMove{FromDB: "D", ToDB: "E"},
			want: fixtureState{
				schemas: []string{"E.PUBLIC", "E.S", "E.T", "OTHER.PUBLIC"},
				rules:   []string{"E.S.R@NETADMIN", "E.T.R2@NETADMIN"},
				secret:  "E.S.X=kept",
				tables:  []string{"E.S.TB", "E.S.V", "E.T.TB2"},
				viewSrc: []string{"E.S.TB", "E.T.TB2"},
				grants:  []string{"SELECT ON TABLE E.S.TB", "USAGE ON NETWORK RULE E.S.R", "USAGE ON SCHEMA E.S"},
				future:  []string{"SELECT ON TABLE IN E.S"},
				policyP: []string{"E.S.R", "E.T.R2"}, policyQ: []string{"OTHER.PUBLIC.R"},
				eaiRules: []string{"E.S.R"}, eaiSecrets: []string{"E.S.X"},
				thing: `E.S.W {"database":"E","extra":1,"schema":"S"}`, temp: "E.S.7/TT", pat: "D",
			},
		},
		{
			name: "schema moved to another database",
			m:    ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "OTHER", ToSchema: "S3"},
			want: fixtureState{
				schemas: []string{"D.PUBLIC", "D.T", "OTHER.PUBLIC", "OTHER.S3"},
				rules:   []string{"D.T.R2@NETADMIN", "OTHER.S3.R@NETADMIN"},
				secret:  "OTHER.S3.X=kept",
				tables:  []string{"D.T.TB2", "OTHER.S3.TB", "OTHER.S3.V"},
				viewSrc: []string{"OTHER.S3.TB", "D.T.TB2"},
				grants:  []string{"SELECT ON TABLE OTHER.S3.TB", "USAGE ON NETWORK RULE OTHER.S3.R", "USAGE ON SCHEMA OTHER.S3"},
				future:  []string{"SELECT ON TABLE IN OTHER.S3"},
				policyP: []string{"OTHER.S3.R", "D.T.R2"}, policyQ: []string{"OTHER.PUBLIC.R"},
				eaiRules: []string{"OTHER.S3.R"}, eaiSecrets: []string{"OTHER.S3.X"},
				thing: `OTHER.S3.W {"database":"OTHER","extra":1,"schema":"S3"}`, temp: "OTHER.S3.7/TT", pat: "D",
			},
		},
		{
			name:    "schema name taken",
			m:       ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "D", ToSchema: "T"},
			wantErr: IsExists,
			want:    before,
		},
		{
			name:    "database name taken",
			m:       ContainerMove{FromDB: "D", ToDB: "OTHER"},
			wantErr: IsExists,
			want:    before,
		},
		{
			name:    "stale record at the destination",
			m:       ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "D", ToSchema: "S4"},
			stale:   &NetworkRule{Database: "D", Schema: "S4", Name: "R", Type: "IPV4", Mode: "INGRESS", Values: []string{"10.9.9.9"}},
			wantErr: func(err error) bool { return err != nil && !IsExists(err) },
			want:    before,
		},
		{
			name:    "invalid move",
			m:       ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "E"},
			wantErr: func(err error) bool { return err != nil },
			want:    before,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st := moveFixture(t, kr)
			if tt.stale != nil {
				err := st.Update(ctx, func(tx store.Tx) error { return CreateNetworkRule(ctx, tx, "A", "X", tt.stale) })
				if err != nil {
					t.Fatal(err)
				}
			}
			ruleID := func(db, sch string) int64 {
				t.Helper()
				var id int64
				err := st.View(ctx, func(tx store.Tx) error {
					r, err := GetNetworkRule(ctx, tx, "A", db, sch, "R")
					if err == nil {
						id = r.Meta.ID
					}
					return err
				})
				if err != nil {
					t.Fatalf("rule R in %s.%s: %v", db, sch, err)
				}
				return id
			}
			id := ruleID("D", "S")
			err := st.Update(ctx, func(tx store.Tx) error { return MoveContainer(ctx, tx, "A", tt.m) })
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("MoveContainer: %v", err)
				}
				if tt.stale != nil {
					// The stale record stays, and nothing else moved.
					ruleID(tt.stale.Database, tt.stale.Schema)
					ruleID("D", "S")
					return
				}
			} else if err != nil {
				t.Fatalf("MoveContainer: %v", err)
			}
			got := readFixture(t, st, kr)
			check := func(what string, got, want any) {
				t.Helper()
				if !equalAny(got, want) {
					t.Errorf("%s = %v; want %v", what, got, want)
				}
			}
			check("schemas", got.schemas, tt.want.schemas)
			check("rules", got.rules, tt.want.rules)
			check("secret", got.secret, tt.want.secret)
			check("tables", got.tables, tt.want.tables)
			check("view sources", got.viewSrc, tt.want.viewSrc)
			check("grants", got.grants, tt.want.grants)
			check("future grants", got.future, tt.want.future)
			check("policy P", got.policyP, tt.want.policyP)
			check("policy Q", got.policyQ, tt.want.policyQ)
			check("EAI rules", got.eaiRules, tt.want.eaiRules)
			check("EAI secrets", got.eaiSecrets, tt.want.eaiSecrets)
			check("contained record", got.thing, tt.want.thing)
			check("temporary table", got.temp, tt.want.temp)
			check("PAT parent", got.pat, tt.want.pat)
			if tt.wantErr == nil {
				// The rule kept its identity.
				db, sch, _ := tt.m.Place("D", "S")
				if got := ruleID(db, sch); got != id {
					t.Errorf("rule id %d became %d", id, got)
				}
			}
		})
	}
}

func equalAny(a, b any) bool {
	switch a := a.(type) {
	case []string:
		return slices.Equal(a, b.([]string))
	default:
		return a == b
	}
}

func TestContainerMovePath(t *testing.T) {
	tests := []struct {
		m    ContainerMove
		in   string
		want string
		ok   bool
	}{
		{ContainerMove{FromDB: "D", ToDB: "E"}, "D.S.R", "E.S.R", true},
		{ContainerMove{FromDB: "D", ToDB: "E"}, "DX.S.R", "DX.S.R", false},
		{ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "D", ToSchema: "S2"}, "D.S.R", "D.S2.R", true},
		{ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "D", ToSchema: "S2"}, "D.SX.R", "D.SX.R", false},
		{ContainerMove{FromDB: "D", FromSchema: "S", ToDB: "O", ToSchema: "S"}, "D.S.R", "O.S.R", true},
		{ContainerMove{FromDB: "D", ToDB: "E"}, "D.S", "D.S", false},
	}
	for _, tt := range tests {
		got, ok := tt.m.Path(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%v.Path(%q) = %q, %v; want %q, %v", tt.m, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
