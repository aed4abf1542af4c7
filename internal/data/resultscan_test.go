package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// fakeSources serves fixed results: query "q1" is a SHOW-like result, "q2" a typed one.
type fakeSources struct {
	ids  []string
	sets map[string]*result.Set
	pipe []*result.Set
}

func (f *fakeSources) LastQueryID(n int) (string, bool) {
	k := n - 1
	if n < 0 {
		k = len(f.ids) + n
	}
	if k < 0 || k >= len(f.ids) {
		return "", false
	}
	return f.ids[k], true
}

func (f *fakeSources) ResultScan(id string) (*result.Set, error) {
	if s, ok := f.sets[id]; ok {
		return s, nil
	}
	return nil, sferr.DoesNotExist("Statement", id)
}

func (f *fakeSources) PipeResult(n int) (*result.Set, error) {
	if n < 1 || n > len(f.pipe) {
		return nil, sferr.DoesNotExist("Statement", "$")
	}
	return f.pipe[len(f.pipe)-n], nil
}

func (f *fakeSources) SystemView(_ context.Context, db, name string) (*result.Set, error) {
	if name == "ACCOUNT_USAGE.USERS" || strings.HasPrefix(name, "INFORMATION_SCHEMA.QUERY_HISTORY") {
		return &result.Set{Columns: []result.Column{result.Text("NAME"), result.Fixed("SESSION_ID"),
			{Name: "END_TIME", Type: "timestamp_ltz", Nullable: true}, {Name: "START_TIME", Type: "timestamp_ltz", Nullable: true}, result.Text("USER_NAME")},
			Rows: [][]any{
				{"A", int64(1), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "A"},
				{"B", int64(2), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), "B"},
			}}, nil
	}
	return nil, sferr.DoesNotExist("Object", name)
}

func testSources() *fakeSources {
	show := &result.Set{Columns: []result.Column{result.Text("name"), result.Text("value"), result.Fixed("n")},
		Rows: [][]any{{"RSA_PUBLIC_KEY_FP", "SHA256:abc=", int64(1)}, {"it's\nmulti", nil, int64(2)}}}
	typed := &result.Set{Columns: []result.Column{
		{Name: "D", Type: "date", Nullable: true}, {Name: "TS", Type: "timestamp_ntz", Scale: 9, Nullable: true},
		{Name: "B", Type: "boolean", Nullable: true}, {Name: "V", Type: "variant", Nullable: true},
		{Name: "O", Type: "object", Nullable: true}, {Name: "R", Type: "real", Nullable: true},
		{Name: "X", Type: "fixed", Precision: 10, Scale: 2, Nullable: true}, {Name: "BIN", Type: "binary", Nullable: true},
		{Name: "T", Type: "time", Scale: 9, Nullable: true},
	}, Rows: [][]any{{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 1, 2, 3, 4000, time.UTC), true,
		json.RawMessage(`{"a":[1]}`), map[string]any{"k": "v"}, 1.5, "12.34", []byte{0xde, 0xad}, time.Date(1, 1, 1, 10, 11, 12, 0, time.UTC)}}}
	empty := &result.Set{Columns: []result.Column{result.Text("status")}}
	return &fakeSources{
		ids:  []string{"q1", "q2", "q3"},
		sets: map[string]*result.Set{"q1": show, "q2": typed, "q3": empty},
		pipe: []*result.Set{show, typed},
	}
}

// TestExpandSources runs statements using RESULT_SCAN, LAST_QUERY_ID, pipe references and
// system views through the engine with fixed sources.
func TestExpandSources(t *testing.T) {
	c := &Context{Database: "DB", Sources: testSources()}
	tests := []struct {
		sql   string
		names string
		want  string // rows joined by ";", cells by ","
	}{
		{`SELECT TRIM((SELECT "value" FROM TABLE(RESULT_SCAN('q1')) WHERE "name" = 'RSA_PUBLIC_KEY_FP'), 'SHA256:')`,
			`TRIM((SELECT "VALUE" FROM TABLE(RESULT_SCAN('Q1')) WHERE "NAME" = 'RSA_PUBLIC_KEY_FP'), 'SHA256:')`, "abc="},
		{`SELECT * FROM TABLE(RESULT_SCAN('q1')) ORDER BY "n"`, "name,value,n", "RSA_PUBLIC_KEY_FP,SHA256:abc=,1;it's\nmulti,NULL,2"},
		{`SELECT "n" + 1 AS m FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(1))) r ORDER BY 1`, "M", "2;3"},
		{`SELECT LAST_QUERY_ID(), LAST_QUERY_ID(-2), LAST_QUERY_ID(2), LAST_QUERY_ID(9)`,
			"LAST_QUERY_ID(),LAST_QUERY_ID(-2),LAST_QUERY_ID(2),LAST_QUERY_ID(9)", "q3,q2,q2,NULL"},
		{`SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))`, "COUNT(*)", "0"},
		{`SELECT * FROM TABLE(RESULT_SCAN('q2'))`, "D,TS,B,V,O,R,X,BIN,T",
			`19782,1709168523.000004000,1,{"a":[1]},{"k":"v"},1.5,12.34,DEAD,36672.000000000`},
		{`SELECT "name" FROM $2 WHERE "n" = 2`, `name`, "it's\nmulti"},
		{`SELECT X FROM $1`, "X", "12.34"},
		{`SELECT name FROM snowflake.account_usage.users ORDER BY name`, "NAME", "A;B"},
		{`SELECT users.name FROM SNOWFLAKE.ACCOUNT_USAGE.USERS JOIN snowflake.account_usage.users u2 ON users.name = u2.name WHERE users.session_id = 2`, "NAME", "B"},
		{`SELECT COUNT(*) FROM TABLE(information_schema.query_history(RESULT_LIMIT => 1))`, "COUNT(*)", "1"},
		{`SELECT name FROM TABLE(db.information_schema.query_history_by_user(USER_NAME => 'B', END_TIME_RANGE_START => DATEADD(day, -1, '2024-01-02'::TIMESTAMP_LTZ))) q`, "NAME", "B"},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			set, rows := query(t, c, tc.sql)
			var names []string
			for _, col := range set.Columns {
				names = append(names, col.Name)
			}
			if got := strings.Join(names, ","); got != tc.names {
				t.Errorf("names %s; want %s", got, tc.names)
			}
			var rs []string
			for _, r := range rows {
				var cells []string
				for _, v := range r {
					cells = append(cells, str(v))
				}
				rs = append(rs, strings.Join(cells, ","))
			}
			if got := strings.Join(rs, ";"); got != tc.want {
				t.Errorf("rows %q; want %q", got, tc.want)
			}
		})
	}
}

// TestExpandSourcesErrors checks the refusals.
func TestExpandSourcesErrors(t *testing.T) {
	c := &Context{Sources: testSources()}
	tests := []struct{ sql, code string }{
		{`SELECT * FROM TABLE(RESULT_SCAN('nope'))`, "002003"},
		{`SELECT * FROM TABLE(RESULT_SCAN(CONCAT('q', '1')))`, "000002"},
		{`SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(50)))`, "002003"},
		{`SELECT * FROM TABLE(RESULT_SCAN('q1'`, "001003"},
		{`SELECT LAST_QUERY_ID(x)`, "002140"},
		{`SELECT * FROM $3`, "002003"},
		{`SELECT * FROM snowflake.account_usage.nothing`, "002003"},
		{`SELECT * FROM snowflake.account_usage.query_history`, "002003"},
		{`SELECT * FROM TABLE(information_schema.query_history())`, "090105"},
		{`SELECT * FROM TABLE(x.information_schema.query_history(RESULT_LIMIT => 0))`, "001038"},
		{`SELECT * FROM TABLE(x.information_schema.query_history(BOGUS => 1))`, "001038"},
		{`SELECT * FROM TABLE(x.information_schema.query_history(1))`, "000002"},
		{`SELECT firn_anything(1)`, "002140"},
		{`SELECT * FROM firn_scan('00000000000000000000000000000000')`, "002140"},
		{`SELECT * FROM main.FIRN_SCAN('00')`, "002140"},
		{`CREATE VIEW v AS SELECT * FROM TABLE(RESULT_SCAN('q1'))`, "000002"},
		{`CREATE OR REPLACE SECURE VIEW v AS SELECT LAST_QUERY_ID()`, "000002"},
		{`CREATE VIEW v AS SELECT * FROM snowflake.account_usage.users`, "000002"},
		{`CREATE VIEW v AS SELECT * FROM TABLE(d.information_schema.query_history())`, "000002"},
		{`SELECT "FIRN_X"(1)`, "002140"},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			_, err := engine(t).Query(context.Background(), c, tc.sql, nil)
			var se *sferr.Error
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("error %v; want code %s", err, tc.code)
			}
		})
	}
}

// TestRewriteText checks the DuckDB text of the function rewrites.
func TestRewriteText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT DATEADD(day, 1, d)", "SELECT __sf_dateadd_date ( 'day' , 1 , d )"},
		{"SELECT DATEADD(hh, 1, d)", "SELECT DATEADD ( 'hour' , 1 , d )"},
		{"SELECT DATEDIFF('MM', a, b)", "SELECT DATEDIFF ( 'month' , a , b )"},
		{"SELECT DATEADD(fortnight, 1, d)", "SELECT DATEADD ( fortnight , 1 , d )"},
		{"SELECT v:a.b[0]::string", `SELECT json_extract_string(CAST( v  AS JSON), '$."a"."b"[0]') :: string`},
		{"SELECT f(x)[0]['k']::string", `SELECT __sf_to_text( f ( x ) [ 0 ] [ 'k' ] )`},
		{"SELECT t.v::VARCHAR(5), f(x)::text", `SELECT __sf_to_text( t . v ) , __sf_to_text( f ( x ) )`},
		{"SELECT t.v:\"x y\"['z']", `SELECT json_extract(CAST( t . v  AS JSON), '$."x y"."z"')`},
		{"SELECT f(x):k", `SELECT json_extract(CAST( f ( x )  AS JSON), '$."k"')`},
		{"SELECT DECODE(a, 1, 'x', 'y')", "SELECT (CASE WHEN a IS NOT DISTINCT FROM 1 THEN 'x' ELSE 'y' END)"},
		{"SELECT DECODE(t.a, 1, 'x', 2, 'y')", "SELECT (CASE WHEN t . a IS NOT DISTINCT FROM 1 THEN 'x' WHEN t.a IS NOT DISTINCT FROM 2 THEN 'y' END)"},
		{"SELECT DECODE(f(a), 1, 'x')", "SELECT (CASE f ( a ) WHEN 1 THEN 'x' END)"},
		{"SELECT LISTAGG(a, ',') WITHIN GROUP (ORDER BY a) FROM t", "SELECT LISTAGG ( a , ',' ORDER BY a ) FROM t"},
		{"SELECT TO_DATE(s, 'YYYY/MM/DD')", "SELECT CAST(strptime(CAST( s  AS VARCHAR), '%Y/%m/%d' ) AS DATE)"},
		{"SELECT OBJECT_CONSTRUCT('a', 1)", "SELECT __sf_strip_nulls(json_object ( 'a' , 1 ))"},
		{"SELECT a FROM t WHERE b = :1", "SELECT a FROM t WHERE b = :1"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			toks, err := sql.Tokenize(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := engine(t).expandSources(context.Background(), &Context{}, toks)
			if err != nil {
				t.Fatal(err)
			}
			var b []string
			for _, tk := range out {
				if tk.Kind != sql.TokEOF {
					b = append(b, tk.Text)
				}
			}
			if got := strings.Join(b, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzExpandSources feeds arbitrary statements through the source expansion and the
// rewriter: they must not panic, and whatever they produce must be an error or text.
func FuzzExpandSources(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID(-1)))`,
		`SELECT v:a.b[0]::string FROM t`,
		`SELECT DECODE(a, 1, 'x', 2, 'y', 'z'), LISTAGG(a, ',') WITHIN GROUP (ORDER BY a)`,
		`SELECT * FROM snowflake.account_usage.users u`,
		`SELECT * FROM TABLE(db.information_schema.query_history(RESULT_LIMIT => 5, USER_NAME => 'X'))`,
		`SELECT "name" FROM $1`,
		`SELECT TO_DATE(x, 'DD/MM/YYYY'), DATEADD(day, 1, y)`,
		`SELECT f(:x)[0]:y`,
		`SELECT SEQ4(), UNIFORM(1, 9, RANDOM()) FROM TABLE(GENERATOR(ROWCOUNT => 3))`,
		`SELECT TO_NUMBER('1.5', 10, 2), OBJECT_CONSTRUCT('a', NULL), DECODE(t.a, NULL, 1, 2)`,
		`SHOW USERS ->> SELECT * FROM $1`,
		`CREATE VIEW v AS SELECT * FROM TABLE(RESULT_SCAN('q1'))`,
		`SELECT (x)::STRING, CASE WHEN a THEN b END::TEXT, f(y)[0]['k']::VARCHAR(3), z::VARIANT::STRING`,
	} {
		f.Add(s)
	}
	e := engineNoTB()
	f.Fuzz(func(t *testing.T, s string) {
		// A hang is a failure too: the watchdog crashes the worker, which the fuzzer
		// reports with the input.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("expansion of %q did not finish", s))
			}
		}()
		toks, err := sql.Tokenize(s)
		if err != nil {
			return
		}
		c := &Context{Sources: testSources(), Database: "DB"}
		out, x, err := e.expandSources(context.Background(), c, toks)
		if err != nil {
			return
		}
		if len(out) == 0 || out[len(out)-1].Kind != sql.TokEOF {
			t.Fatalf("expansion of %q lost its EOF", s)
		}
		rw, err := e.rewrite(c, out, nil, time.Now())
		if err != nil {
			return
		}
		x.fix(rw)
	})
}

// engineNoTB opens the shared engine outside a test function.
func engineNoTB() *Engine {
	sharedOnce.Do(func() { shared, sharedErr = Open(context.Background(), Config{MaxConns: 4}) })
	return shared
}

// BenchmarkResultScan measures a query over a kept result of n rows x 5 columns:
// inlining the rows and running the statement on DuckDB.
func BenchmarkResultScan(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		set := &result.Set{Columns: []result.Column{result.Text("name"), result.Text("value"), result.Fixed("n"),
			{Name: "ts", Type: "timestamp_ltz", Scale: 3, Nullable: true}, result.Bool("b")}}
		for i := 0; i < n; i++ {
			set.Rows = append(set.Rows, []any{fmt.Sprintf("user-%d", i), "some value", int64(i), time.Unix(int64(i), 0), i%2 == 0})
		}
		src := testSources()
		src.sets["big"] = set
		c := &Context{Sources: src}
		e := engineNoTB()
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Query(context.Background(), c, `SELECT COUNT(*), MAX("n") FROM TABLE(RESULT_SCAN('big')) WHERE "b"`, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSourcesRefusedInViews checks that a stored view cannot freeze a session's results.
func TestSourcesRefusedInViews(t *testing.T) {
	c := &Context{Sources: testSources(), Database: "D"}
	for _, q := range []string{
		`CREATE VIEW v AS SELECT * FROM TABLE(RESULT_SCAN('q1'))`,
		`CREATE OR REPLACE SECURE VIEW v AS SELECT LAST_QUERY_ID() AS x`,
		`CREATE VIEW v AS SELECT * FROM snowflake.account_usage.users`,
		`CREATE VIEW v AS SELECT * FROM TABLE(information_schema.query_history())`,
	} {
		_, err := engine(t).Analyze(context.Background(), c, q, nil)
		if err == nil || !strings.Contains(err.Error(), "in a view definition") {
			t.Errorf("%s: %v", q, err)
		}
	}
}
