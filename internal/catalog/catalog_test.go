package catalog_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

func TestDatabaseLifecycle(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A"}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		if err := catalog.CreateDatabase(ctx, tx, "A", "SYSADMIN", &catalog.Database{Name: "D"}); err != nil {
			return err
		}
		if err := catalog.CreateDatabase(ctx, tx, "A", "SYSADMIN", &catalog.Database{Name: "D2"}); err != nil {
			return err
		}
		return catalog.CreateSchema(ctx, tx, "A", "SYSADMIN", &catalog.Schema{Database: "D", Name: "S"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateDatabase(ctx, tx, "A", "SYSADMIN", &catalog.Database{Name: "D"}); !catalog.IsExists(err) {
			t.Errorf("duplicate database: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx store.Tx) error {
		ss, err := catalog.ListSchemas(ctx, tx, "A", "D")
		if err != nil || len(ss) != 2 || ss[0].Name != "PUBLIC" || ss[1].Name != "S" {
			t.Errorf("schemas of D = %v, %v", ss, err)
		}
		return nil
	})
	err = st.Update(ctx, func(tx store.Tx) error { return catalog.DropDatabase(ctx, tx, "A", "D") })
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx store.Tx) error {
		if ss, _ := catalog.ListSchemas(ctx, tx, "A", "D"); len(ss) != 0 {
			t.Errorf("schemas survive their database: %v", ss)
		}
		if ss, _ := catalog.ListSchemas(ctx, tx, "A", "D2"); len(ss) != 1 {
			t.Errorf("dropping D touched D2: %v", ss)
		}
		// Role grants are untouched by a database drop even with colliding names.
		gs, err := catalog.RolesGrantedTo(ctx, tx, "A", catalog.GranteeUser, "ADMIN")
		if err != nil || len(gs) != 1 || gs[0].Role != "ACCOUNTADMIN" {
			t.Errorf("admin's grants = %v, %v", gs, err)
		}
		return nil
	})
}

func TestAccountsIsolated(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(tx store.Tx) error {
		for _, a := range []string{"A", "B"} {
			if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: a}, &catalog.User{Name: "ADMIN"}); err != nil {
				return err
			}
		}
		return catalog.CreateDatabase(ctx, tx, "A", "SYSADMIN", &catalog.Database{Name: "ONLY_A"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx store.Tx) error { return catalog.DropAccount(ctx, tx, "A") })
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx store.Tx) error {
		if _, err := catalog.GetUser(ctx, tx, "A", "ADMIN"); !catalog.IsNotFound(err) {
			t.Errorf("user of dropped account: %v", err)
		}
		if _, err := catalog.GetUser(ctx, tx, "B", "ADMIN"); err != nil {
			t.Errorf("B's admin gone with A: %v", err)
		}
		if ds, _ := catalog.ListDatabases(ctx, tx, "B"); len(ds) != 0 {
			t.Errorf("B sees %v", ds)
		}
		return nil
	})
}
