package exec

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// newTableEngine returns an exec Engine over a fresh store and in-memory data engine,
// with account A whose user ADMIN has ACCOUNTADMIN.
func newTableEngine(tb testing.TB) (*Engine, *session.Session) {
	tb.Helper()
	ctx := context.Background()
	st := storetest.Open(tb)
	de, err := data.Open(ctx, data.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { de.Close() })
	if err := st.Update(ctx, func(tx store.Tx) error {
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A", Edition: "ENTERPRISE", Org: true}, &catalog.User{Name: "ADMIN", LoginName: "ADMIN"})
	}); err != nil {
		tb.Fatal(err)
	}
	e := New(Config{Store: st, Data: de, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s := &session.Session{Account: "A", User: "ADMIN", Role: catalog.RoleAccountAdmin}
	return e, s
}

func execAll(tb testing.TB, e *Engine, s *session.Session, stmts ...string) {
	tb.Helper()
	for _, q := range stmts {
		if _, err := e.Execute(context.Background(), s, &Request{QueryID: "q", SQL: q}); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// join5 joins five small tables.
const join5 = `SELECT t1.k, t1.v + t2.v + t3.v + t4.v + t5.v AS s FROM t1 JOIN t2 ON t1.k = t2.k
	JOIN t3 ON t1.k = t3.k JOIN t4 ON t1.k = t4.k JOIN t5 ON t1.k = t5.k WHERE t1.k < 10 ORDER BY t1.k`

// BenchmarkJoin5 compares a privilege-checked SELECT joining five tables through
// exec (parse, json_serialize_sql reference extraction, catalog resolution, authz,
// rewrite, run) with the same SELECT straight on DuckDB through database/sql.
func BenchmarkJoin5(b *testing.B) {
	e, s := newTableEngine(b)
	execAll(b, e, s, "CREATE DATABASE D", "USE SCHEMA D.PUBLIC")
	for i := 1; i <= 5; i++ {
		execAll(b, e, s, fmt.Sprintf("CREATE TABLE t%d (k INT, v INT)", i),
			fmt.Sprintf("INSERT INTO t%d SELECT range, range * %d FROM range(1000)", i, i))
	}
	b.Run("firn", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			set, err := e.Execute(ctx, s, &Request{QueryID: "q", SQL: join5})
			if err != nil || len(set.Rows) != 10 {
				b.Fatalf("%v %v", err, set)
			}
		}
	})
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := 1; i <= 5; i++ {
		if _, err := db.Exec(fmt.Sprintf("CREATE TABLE t%d AS SELECT CAST(range AS DECIMAL(38,0)) AS k, CAST(range * %d AS DECIMAL(38,0)) AS v FROM range(1000)", i, i)); err != nil {
			b.Fatal(err)
		}
	}
	direct := func(b *testing.B) {
		rs, err := db.Query(join5)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rs.Next() {
			var k, v any
			if err := rs.Scan(&k, &v); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rs.Close()
		if n != 10 {
			b.Fatalf("%d rows", n)
		}
	}
	// interleaved alternates the two so that load from other processes hits both
	// alike, and reports their ratio.
	b.Run("interleaved", func(b *testing.B) {
		ctx := context.Background()
		var tf, td time.Duration
		for b.Loop() {
			t0 := time.Now()
			if _, err := e.Execute(ctx, s, &Request{QueryID: "q", SQL: join5}); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			direct(b)
			tf, td = tf+t1.Sub(t0), td+time.Since(t1)
		}
		b.ReportMetric(float64(tf.Nanoseconds())/float64(b.N), "firn-ns/op")
		b.ReportMetric(float64(td.Nanoseconds())/float64(b.N), "duckdb-ns/op")
		b.ReportMetric(float64(tf)/float64(td), "ratio")
	})
	b.Run("duckdb", func(b *testing.B) {
		for b.Loop() {
			rs, err := db.Query(join5)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rs.Next() {
				var k, v any
				if err := rs.Scan(&k, &v); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rs.Close()
			if n != 10 {
				b.Fatalf("%d rows", n)
			}
		}
	})
}

// TestTableEngine checks the unit-level engine path used by the benchmark.
func TestTableEngine(t *testing.T) {
	e, s := newTableEngine(t)
	execAll(t, e, s, "CREATE DATABASE D", "USE SCHEMA D.PUBLIC", "CREATE TABLE t1 (k INT, v INT)",
		"INSERT INTO t1 SELECT range, range FROM range(5)")
	set, err := e.Execute(context.Background(), s, &Request{QueryID: "q", SQL: "SELECT sum(v) FROM t1"})
	if err != nil || len(set.Rows) != 1 || fmt.Sprint(set.Rows[0][0]) != "10" {
		t.Fatalf("%v %+v", err, set)
	}
}
