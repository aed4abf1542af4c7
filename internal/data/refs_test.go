package data

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
	fsql "github.com/firn/firn/internal/sql"
)

// refString renders a statement's references as "NAME:PRIV+PRIV" (quoted parts in
// double quotes), in order of appearance.
func refString(st *Stmt) []string {
	var out []string
	sortRefs(st.Refs)
	for _, r := range st.Refs {
		var parts []string
		for _, p := range r.Parts {
			if p.Quoted {
				parts = append(parts, `"`+p.Name+`"`)
			} else {
				parts = append(parts, p.Name)
			}
		}
		out = append(out, strings.Join(parts, ".")+":"+strings.Join(r.Privs, "+"))
	}
	return out
}

func TestAnalyzeRefs(t *testing.T) {
	e := engine(t)
	tests := []struct {
		sql  string
		kind Kind
		refs []string
	}{
		{"SELECT 1", KindQuery, nil},
		{"SELECT * FROM t", KindQuery, []string{"T:SELECT"}},
		{`SELECT a.x FROM db.sch."Tab" a JOIN t2 ON 1=1 WHERE x IN (SELECT 1 FROM t3)`, KindQuery,
			[]string{`DB.SCH."Tab":SELECT`, "T2:SELECT", "T3:SELECT"}},
		{"WITH c AS (SELECT * FROM base) SELECT * FROM c, other", KindQuery, []string{"BASE:SELECT", "OTHER:SELECT"}},
		{"WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n+1 FROM r WHERE n < 3) SELECT * FROM r", KindQuery, nil},
		{"SELECT * FROM (WITH c AS (SELECT 1) SELECT * FROM c) x, c", KindQuery, []string{"C:SELECT"}},
		{"select count(*) from sch.t group by 1 having count(*) > (select 1 from u)", KindQuery, []string{"SCH.T:SELECT", "U:SELECT"}},
		{"SELECT * FROM t PIVOT (sum(x) FOR y IN (1, 2))", KindQuery, []string{"T:SELECT"}},
		{"INSERT INTO t VALUES (1), (2)", KindInsert, []string{"T:INSERT"}},
		{"INSERT INTO t (a, b) SELECT a, b FROM s WHERE a > 1", KindInsert, []string{"T:INSERT", "S:SELECT"}},
		{"INSERT OVERWRITE INTO t SELECT * FROM s", KindInsert, []string{"T:INSERT+DELETE", "S:SELECT"}},
		{"UPDATE t SET a = (SELECT max(a) FROM u) FROM v WHERE t.id = v.id", KindUpdate, []string{"T:UPDATE", "U:SELECT", "V:SELECT"}},
		{"UPDATE t AS x SET a = 1", KindUpdate, []string{"T:UPDATE"}},
		{"DELETE FROM t USING u WHERE t.id = u.id AND u.id IN (SELECT id FROM w)", KindDelete, []string{"T:DELETE", "U:SELECT", "W:SELECT"}},
		{"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)", KindMerge,
			[]string{"T:INSERT+DELETE", "S:SELECT"}},
		{"MERGE INTO t USING (SELECT * FROM s) x ON t.id = x.id WHEN MATCHED THEN UPDATE SET t.a = x.a", KindMerge,
			[]string{"T:UPDATE", "S:SELECT"}},
		{"TRUNCATE TABLE IF EXISTS t", KindTruncate, []string{"T:TRUNCATE"}},
		{"CREATE TABLE t (a INT)", KindCreateTable, nil},
		{"CREATE OR REPLACE TABLE t AS SELECT * FROM s", KindCreateTable, []string{"S:SELECT"}},
		{"CREATE TABLE t LIKE s", KindCreateTable, []string{"S:SELECT"}},
		{"CREATE SECURE VIEW v AS SELECT * FROM a JOIN b USING (id)", KindCreateView, []string{"A:SELECT", "B:SELECT"}},
		{"DROP TABLE IF EXISTS t", KindDropTable, nil},
		{"ALTER TABLE t RENAME COLUMN a TO b", KindAlterTable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			st, err := e.Analyze(context.Background(), &Context{}, tt.sql, nil)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if st.Kind != tt.kind {
				t.Errorf("kind %d; want %d", st.Kind, tt.kind)
			}
			if got := refString(st); !reflect.DeepEqual(got, tt.refs) {
				t.Errorf("refs %q; want %q", got, tt.refs)
			}
		})
	}
}

func TestAnalyzeColumns(t *testing.T) {
	st, err := engine(t).Analyze(context.Background(), nil,
		`CREATE TRANSIENT TABLE IF NOT EXISTS t (id NUMBER(10,2) NOT NULL, "name" VARCHAR(20) DEFAULT 'x' COMMENT 'n',
		  ts TIMESTAMP_LTZ(3), v VARIANT, PRIMARY KEY (id)) COMMENT = 'tbl'`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.TableType != "TRANSIENT" || !st.IfNotExists || st.Comment == nil || *st.Comment != "tbl" {
		t.Errorf("options %+v", st)
	}
	var got []string
	for _, c := range st.Columns {
		got = append(got, c.Name+" "+c.Type.String()+" "+c.Type.Duck())
	}
	want := []string{"ID NUMBER(10,2) DECIMAL(10,2)", "name VARCHAR(20) VARCHAR", "TS TIMESTAMP_LTZ(3) TIMESTAMPTZ", "V VARIANT JSON"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns %q; want %q", got, want)
	}
	if !st.Columns[0].PrimaryKey || !st.Columns[0].NotNull || st.Columns[1].Default != "'x'" || st.Columns[1].Comment != "n" {
		t.Errorf("constraints %+v", st.Columns)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		sql  string
		code string
	}{
		{"CREATE TABLE t (a GEOGRAPHY)", "002040"},
		{"CREATE TABLE t (a INT) CLONE s", "001003"},
		{"CREATE TABLE t CLONE s", "000002"},
		{"CREATE STAGE s", "000002"},
		{"INSERT ALL INTO t SELECT 1", "000002"},
		{"INSERT INTO t VALUES (1) RETURNING *", "000002"},
		{"MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN UPDATE SET a = (SELECT 1)", "000002"},
		{"SELECT * FROM read_csv('x')", "002140"},
		{"MERGE INTO t USING s ON 1=1 WHEN MATCHED THEN UPDATE SET a = (FROM duckdb_tables() SELECT 1)", "000002"},
		{"MERGE INTO t USING s ON 1=1 WHEN NOT MATCHED THEN INSERT VALUES ((FROM duckdb_settings()))", "000002"},
		{"CREATE TABLE t (a INT DEFAULT (FROM duckdb_settings()))", "000002"},
		{"UPDATE t SET a = (FROM duckdb_tables())", "002140"},
		{"SELECT * FROM (SHOW ALL TABLES)", "000002"},
		{"SELECT (SELECT count(*) FROM (DESCRIBE SELECT 1))", "000002"},
		{"SELECT * FROM (SUMMARIZE SELECT 1)", "000002"},
		{"INSERT INTO t SELECT * FROM (SHOW TABLES)", "000002"},
		{"SELECT * FROM t AT(OFFSET => -60)", "001003"},
		{"DELETE FROM t USING duckdb_columns() c", "002140"},
		{"SELECT * FROM 'x.parquet'", "002003"},
		{"CREATE OR REPLACE TABLE IF NOT EXISTS t (a INT)", "002035"},
		{"CREATE TABLE t (a INT, a INT)", "002025"},
		{"SELECT 1; SELECT 2", "000008"},
		{"DROP TABLE t; DROP TABLE u", "000008"},
		{"ATTACH 'x'", "001003"},
		{"COPY t TO 'x'", "000002"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			_, err := engine(t).Analyze(context.Background(), nil, tt.sql, nil)
			if err == nil {
				t.Fatalf("Analyze succeeded; want %s", tt.code)
			}
			if se := sferr.As(err); se.Code != tt.code {
				t.Errorf("code %s (%s); want %s", se.Code, se.Message, tt.code)
			}
		})
	}
}

func TestScrubNames(t *testing.T) {
	r := &Ref{Internal: `"s12"."t_0123456789abcdef"`, Parts: nil}
	r.Parts = append(r.Parts, identOf("T"))
	for _, msg := range []string{
		`Table "t_0123456789abcdef" does not exist`,
		`Binder Error: table "s12"."t_0123456789abcdef" has no column`,
		`Object 'S12.T_0123456789ABCDEF' does not exist`,
		`Catalog "s99" does not exist`,
	} {
		got := scrubNames(msg, []*Ref{r})
		if strings.Contains(strings.ToLower(got), "t_0123") || strings.Contains(got, `"s99"`) || strings.Contains(got, `"s12"`) {
			t.Errorf("scrubNames(%q) = %q", msg, got)
		}
	}
}

// FuzzAnalyze feeds arbitrary SQL to the analyser: it must never panic, every
// reference it reports must lie inside the rewritten text, and substituting all of
// them must keep the rest of the text.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t", "INSERT INTO a.b.c (x) SELECT * FROM d", "UPDATE t SET a = 1 FROM u WHERE t.a = u.a",
		"DELETE FROM t USING u WHERE 1=1", "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
		"CREATE TABLE t (a NUMBER(10,2) DEFAULT 1 NOT NULL, PRIMARY KEY (a))", "CREATE VIEW v (x) AS SELECT 1",
		`WITH c AS (SELECT 1) SELECT * FROM c JOIN "q"."r" ON true`, "ALTER TABLE t ADD COLUMN b VARCHAR(3)",
		"TRUNCATE t", "DROP VIEW IF EXISTS v", "SELECT * FROM (VALUES (1)) v(a), t PIVOT (sum(a) FOR a IN (1))",
		`SELECT d.s.t.x, s.t.y FROM d.s.t WHERE "S".t.x = 1`, "UPDATE s.t SET a = 1 WHERE s.t.b = 2",
		"SELECT s.t.v:a.b, DATEADD(day, 1, s.t.d) FROM s.t",
	} {
		f.Add(s)
	}
	e := engine(f)
	f.Fuzz(func(t *testing.T, sql string) {
		if !utf8.ValidString(sql) || len(sql) > 2000 {
			return
		}
		type answer struct {
			st  *Stmt
			err error
		}
		done := make(chan answer, 1)
		go func() {
			st, err := e.Analyze(context.Background(), nil, sql, nil)
			done <- answer{st, err}
		}()
		var a answer
		select {
		case a = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Analyze(%q) took more than 5 s", sql)
		}
		st, err := a.st, a.err
		if err != nil {
			if sferr.As(err) == nil {
				t.Fatalf("non-Snowflake error %T: %v", err, err)
			}
			return
		}
		for _, r := range st.Refs {
			if r.start < 0 || r.end > len(st.rw.text) || r.start >= r.end || len(r.Parts) == 0 || len(r.Parts) > 3 {
				t.Fatalf("bad ref %+v in %q", r, st.rw.text)
			}
			r.Internal = `"s1"."t_0000000000000000"`
		}
		for _, c := range st.cols {
			if c.start < 0 || c.cut <= c.start || c.cut > len(st.rw.text) || len(c.parts) < 3 {
				t.Fatalf("bad qualified column %+v in %q", c, st.rw.text)
			}
		}
		_ = st.checkColumns()
		_ = st.substitute(0, len(st.rw.text))
	})
}

func identOf(name string) fsql.Ident { return fsql.Ident{Name: name} }

// TestQualifiedColumns runs statements whose column references are qualified with
// schema and table (SCH.T.COL, DB.SCH.T.COL) against real DuckDB tables, resolving
// each reference as the exec package does: by its path in the session's database
// and schema.
func TestQualifiedColumns(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	tables := map[string]string{
		"D.S.T":  Internal("s9101", "t_qc00000000000001"),
		"D.S2.U": Internal("s9102", "t_qc00000000000002"),
		"D.S2.T": Internal("s9102", "t_qc00000000000003"),
	}
	for _, q := range []string{
		`CREATE SCHEMA IF NOT EXISTS s9101`, `CREATE SCHEMA IF NOT EXISTS s9102`,
		`CREATE OR REPLACE TABLE ` + tables["D.S.T"] + ` ("X" INTEGER, "Y" INTEGER)`,
		`CREATE OR REPLACE TABLE ` + tables["D.S2.U"] + ` ("X" INTEGER, "Z" INTEGER)`,
		`CREATE OR REPLACE TABLE ` + tables["D.S2.T"] + ` ("X" INTEGER)`,
		`INSERT INTO ` + tables["D.S.T"] + ` VALUES (1, 2)`,
		`INSERT INTO ` + tables["D.S2.U"] + ` VALUES (1, 9)`,
		`INSERT INTO ` + tables["D.S2.T"] + ` VALUES (5)`,
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	tests := []struct {
		sql  string
		want string // first row, cells joined by commas; or the error code
	}{
		{"SELECT D.S.T.X, S.T.Y, T.X, X FROM D.S.T", "1,2,1,1"},
		{"SELECT Y FROM S.T WHERE S.T.X = 1", "2"},
		{"SELECT S.T.X FROM T", "1"},
		{"SELECT S.T.X FROM D.S.T", "1"},
		{`SELECT "S"."T"."X", "D".S.T.Y FROM S.T`, "1,2"},
		{"SELECT s.t.y FROM s.t ORDER BY s.t.x", "2"},
		{"SELECT S.T.Y, S2.U.Z FROM S.T JOIN S2.U ON S.T.X = S2.U.X", "2,9"},
		{"SELECT (SELECT max(S2.U.Z) FROM S2.U WHERE S2.U.X = S.T.X) FROM S.T", "9"},
		{"SELECT S.T.X + 1 AS N FROM S.T GROUP BY S.T.X", "2"},
		{"DELETE FROM S.T WHERE S.T.X = 99", "0"},
		{"UPDATE S.T SET Y = Y WHERE S.T.X = 99", "0,0"},
		{"SELECT S.T.X FROM S.T AS A", "000904"},
		{"SELECT S2.T.X FROM S.T", "000904"},
		{"SELECT E.S.T.X FROM S.T", "000904"},
		{"SELECT D.S.T.X.Y FROM S.T", "000904"},
		{"SELECT S.T.X FROM (SELECT 1 AS X) T", "000904"},
		{"SELECT S.T.X", "000904"},
		{`SELECT "s".T.X FROM S.T`, "000904"},
		{"SELECT S.T.X FROM S.T WHERE EXISTS (SELECT 1 FROM S2.T WHERE S2.T.X > S.T.X)", "000002"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			c := &Context{Database: "D", Schema: "S"}
			st, err := e.Analyze(ctx, c, tt.sql, nil)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			for _, r := range st.Refs {
				p := st.refPath(r)
				r.Internal = tables[strings.Join(p[:], ".")]
			}
			set, err := e.Run(ctx, st)
			if err != nil {
				se := sferr.As(err)
				if se == nil || se.Code != tt.want {
					t.Fatalf("Run: %v; want %s", err, tt.want)
				}
				if se.Code == "000904" && !strings.Contains(se.Message, "invalid identifier '") {
					t.Errorf("message %q", se.Message)
				}
				return
			}
			rows, err := result.EncodeRows(set, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatalf("no rows; want %s", tt.want)
			}
			cells := make([]string, len(rows[0]))
			for i, v := range rows[0] {
				cells[i] = str(v)
			}
			if got := strings.Join(cells, ","); got != tt.want {
				t.Errorf("row %s; want %s", got, tt.want)
			}
		})
	}
}
