package exec

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// TestTempTables drives temporary tables through two sessions of one user on a real
// store and data engine: session scoping, hiding a permanent table, DROP order, DDL,
// SHOW / DESC / INFORMATION_SCHEMA, and the sweep after a session ends.
func TestTempTables(t *testing.T) {
	e, admin := newTableEngine(t)
	ctx := context.Background()
	execAll(t, e, admin, "CREATE DATABASE D", "CREATE SCHEMA D.S")
	// Sessions 1 and 2 exist in the store, so the sweep keeps their tables.
	if err := e.cfg.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range []int64{1, 2} {
			now := time.Now()
			if err := tx.CreateSession(ctx, &store.Session{ID: id, Account: "A", TokenHash: []byte{byte(id)}, MasterHash: []byte{byte(id)},
				TokenExpiry: now.Add(time.Hour), MasterExpiry: now.Add(time.Hour), LastUsed: now, Created: now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s1 := &session.Session{ID: 1, Account: "A", User: "ADMIN", Role: catalog.RoleAccountAdmin, Database: "D", Schema: "S"}
	s2 := &session.Session{ID: 2, Account: "A", User: "ADMIN", Role: catalog.RoleAccountAdmin, Database: "D", Schema: "S"}
	sessions := map[int]*session.Session{1: s1, 2: s2}

	steps := []struct {
		session int
		sql     string
		want    string // rows as fmt.Sprint of the set's rows, or "" to ignore
		code    string // expected error code
	}{
		{1, "CREATE TABLE T (A INT)", "", ""},
		{1, "INSERT INTO T VALUES (1)", "", ""},
		{1, "CREATE TEMPORARY TABLE T (B VARCHAR)", "[[Table T successfully created.]]", ""},
		{1, "INSERT INTO T VALUES ('temp')", "", ""},
		{1, "SELECT * FROM T", "[[temp]]", ""},
		{1, "SELECT * FROM D.S.T", "[[temp]]", ""},
		{2, "SELECT * FROM T", "[[1]]", ""},
		{1, "CREATE TEMP TABLE ONLY1 (X INT)", "", ""},
		{1, "CREATE TEMP TABLE ONLY1 (X INT)", "", "002002"},
		{1, "CREATE TEMP TABLE IF NOT EXISTS ONLY1 (X INT)", "[[ONLY1 already exists, statement succeeded.]]", ""},
		{2, "SELECT * FROM ONLY1", "", "002003"},
		{2, "INSERT INTO ONLY1 VALUES (1)", "", "002003"},
		{2, "DESC TABLE ONLY1", "", "002003"},
		{2, "DROP TABLE ONLY1", "", "002003"},
		{2, "ALTER TABLE ONLY1 ADD COLUMN Y INT", "", "002003"},
		{2, "SHOW TABLES LIKE 'ONLY1'", "[]", ""},
		{2, "SELECT COUNT(*) FROM D.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'ONLY1'", "[[0]]", ""},
		{2, "CREATE TEMP TABLE ONLY1 (Z INT)", "", ""}, // each session has its own names
		{1, "SHOW TABLES LIKE 'ONLY1'", "", ""},
		{1, "SELECT TABLE_NAME, IS_TEMPORARY FROM D.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'ONLY1'", "[[ONLY1 YES]]", ""},
		{1, "DESC TABLE T", "", ""},
		{1, "ALTER TABLE ONLY1 ADD COLUMN Y INT", "", ""},
		{1, "ALTER TABLE ONLY1 RENAME TO R1", "", ""},
		{1, "SELECT * FROM R1", "[]", ""},
		{2, "SELECT * FROM R1", "", "002003"},
		{1, "CREATE TABLE C AS SELECT * FROM R1", "", ""}, // a permanent copy is fine
		{1, "CREATE TEMP TABLE L LIKE T", "", ""},         // LIKE the temporary T
		{1, "SELECT COUNT(*) FROM L", "[[0]]", ""},
		{1, "CREATE VIEW V AS SELECT * FROM R1", "", "000002"},
		{1, "CREATE OR REPLACE TEMP TABLE R1 (Q INT)", "", ""},
		{1, "DROP TABLE T", "[[T successfully dropped.]]", ""}, // the temporary one
		{1, "SELECT * FROM T", "[[1]]", ""},
		{1, "DROP TABLE T", "[[T successfully dropped.]]", ""}, // now the permanent one
		{2, "SELECT * FROM T", "", "002003"},
	}
	for i, st := range steps {
		set, err := e.Execute(ctx, sessions[st.session], &Request{QueryID: fmt.Sprintf("q%d", i), SQL: st.sql})
		if st.code != "" {
			if se := sferr.As(err); err == nil || se.Code != st.code {
				t.Fatalf("step %d (session %d) %s: err %v, want code %s", i, st.session, st.sql, err, st.code)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d (session %d) %s: %v", i, st.session, st.sql, err)
		}
		if st.want != "" {
			if got := fmt.Sprint(set.Rows); got != st.want {
				t.Fatalf("step %d (session %d) %s: rows %s, want %s", i, st.session, st.sql, got, st.want)
			}
		}
		if strings.HasPrefix(st.sql, "SHOW TABLES") && st.session == 1 {
			if len(set.Rows) != 1 || set.Rows[0][4] != "TEMPORARY" {
				t.Fatalf("SHOW TABLES in session 1: %v", set.Rows)
			}
		}
	}

	temps := func() map[int64][]string {
		out := map[int64][]string{}
		_ = e.cfg.Store.View(ctx, func(tx store.Tx) error {
			ts, err := catalog.ListTempTables(ctx, tx, "A", 0, "", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				out[x.Session] = append(out[x.Session], x.Name+"="+data.Internal(x.DuckSchema, x.DuckName))
			}
			return nil
		})
		return out
	}
	before := temps()
	if len(before[1]) != 2 || len(before[2]) != 1 {
		t.Fatalf("temporary tables before the sweep: %v", before)
	}
	if n, err := e.SweepTempTables(ctx); err != nil || n != 0 {
		t.Fatalf("sweep with live sessions: %d, %v", n, err)
	}
	// Session 1 ends: its tables go, session 2's stays.
	if err := e.cfg.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteSession(ctx, 1) }); err != nil {
		t.Fatal(err)
	}
	if n, err := e.SweepTempTables(ctx); err != nil || n != 2 {
		t.Fatalf("sweep after session 1 ended: %d, %v", n, err)
	}
	after := temps()
	if len(after[1]) != 0 || len(after[2]) != 1 {
		t.Fatalf("temporary tables after the sweep: %v", after)
	}
	var internals []string
	for _, x := range before[1] {
		internals = append(internals, x[strings.IndexByte(x, '=')+1:])
	}
	if left := e.cfg.Data.RowCounts(ctx, internals); len(left) != 0 {
		t.Fatalf("DuckDB tables of session 1 left after the sweep: %v", left)
	}
	if _, err := e.Execute(ctx, s2, &Request{QueryID: "last", SQL: "SELECT * FROM ONLY1"}); err != nil {
		t.Fatalf("session 2's table after the sweep: %v", err)
	}
	// Renaming the schema moves them; DROP SCHEMA takes every session's with it.
	execAll(t, e, admin, "ALTER SCHEMA D.S RENAME TO S2")
	if _, err := e.Execute(ctx, s2, &Request{QueryID: "moved", SQL: "SELECT * FROM D.S2.ONLY1"}); err != nil {
		t.Fatalf("session 2's table after the schema rename: %v", err)
	}
	execAll(t, e, admin, "DROP SCHEMA D.S2")
	if left := temps(); len(left) != 0 {
		t.Fatalf("temporary tables after DROP SCHEMA: %v", left)
	}
}
