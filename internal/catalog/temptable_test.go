package catalog

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/firn/firn/internal/store"
)

func TestTempNames(t *testing.T) {
	for _, tc := range []struct {
		record  string
		session int64
		name    string
		ok      bool
	}{
		{tempName(1, "T"), 1, "T", true},
		{tempName(42, "a/b"), 42, "a/b", true},
		{tempName(9007199254740993, "X"), 9007199254740993, "X", true},
		{"T", 0, "", false},
		{"/T", 0, "", false},
		{"0/T", 0, "", false},
		{"-1/T", 0, "", false},
		{"x/T", 0, "", false},
	} {
		sid, name, ok := splitTempName(tc.record)
		if sid != tc.session || name != tc.name || ok != tc.ok {
			t.Errorf("splitTempName(%q) = %d, %q, %v; want %d, %q, %v", tc.record, sid, name, ok, tc.session, tc.name, tc.ok)
		}
	}
}

// TestTempTableRecords checks that temporary tables have a name space per session and
// are found before permanent tables. (Their moves with a renamed schema are exec's
// TestTempTables.)
func TestTempTableRecords(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(tx store.Tx) error {
		for _, tb := range []*Table{
			{Database: "D", Schema: "S", Name: "T", Kind: KindTable, DuckName: "perm"},
			{Database: "D", Schema: "S", Name: "T", Kind: KindTable, TableType: "TEMPORARY", Session: 1, DuckName: "temp1"},
			{Database: "D", Schema: "S", Name: "T", Kind: KindTable, TableType: "TEMPORARY", Session: 2, DuckName: "temp2"},
		} {
			if err := CreateTable(ctx, tx, "A", "R", tb); err != nil {
				return err
			}
		}
		for _, tc := range []struct {
			session int64
			want    string
		}{{0, "perm"}, {1, "temp1"}, {2, "temp2"}, {3, "perm"}} {
			got, err := FindTableFor(ctx, tx, "A", tc.session, "D", "S", "T")
			if err != nil || got.DuckName != tc.want || got.Temporary() != (tc.want != "perm") {
				t.Errorf("FindTableFor(session %d) = %+v, %v; want %s", tc.session, got, err, tc.want)
			}
		}
		if perm, err := ListTables(ctx, tx, "A", KindTable, "", ""); err != nil || len(perm) != 1 {
			t.Errorf("ListTables = %d tables, %v; want the permanent one only", len(perm), err)
		}
		t1, err := GetTempTable(ctx, tx, "A", 1, "D", "S", "T")
		if err != nil {
			return err
		}
		if err := DropTable(ctx, tx, "A", t1); err != nil {
			return err
		}
		if _, err := GetTempTable(ctx, tx, "A", 1, "D", "S", "T"); !IsNotFound(err) {
			t.Errorf("session 1's table after DropTable: %v", err)
		}
		if _, err := GetTempTable(ctx, tx, "A", 2, "D", "S", "T"); err != nil {
			t.Errorf("session 2's table after session 1's drop: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
