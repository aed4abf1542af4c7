package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
)

var (
	sharedOnce sync.Once
	shared     *Engine
	sharedErr  error
)

// engine returns an in-memory engine shared by the tests of this package.
func engine(t testing.TB) *Engine {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Open(context.Background(), Config{MaxConns: 4}) })
	if sharedErr != nil {
		t.Fatalf("Open: %v", sharedErr)
	}
	return shared
}

func ptr(s string) *string { return &s }

// query runs text and returns the result with every cell encoded for the wire.
func query(t *testing.T, c *Context, text string, binds ...Bind) (*result.Set, [][]*string) {
	t.Helper()
	set, err := engine(t).Query(context.Background(), c, text, binds)
	if err != nil {
		t.Fatalf("Query(%q): %v", text, err)
	}
	rows, err := result.EncodeRows(set, time.UTC)
	if err != nil {
		t.Fatalf("EncodeRows(%q): %v", text, err)
	}
	return set, rows
}

func str(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func TestTypes(t *testing.T) {
	tests := []struct {
		expr      string
		typ       string
		precision int64
		scale     int64
		want      string
	}{
		{"1::NUMBER(38,0)", "fixed", 38, 0, "1"},
		{"1::NUMBER", "fixed", 38, 0, "1"},
		{"12.345::NUMBER(10,2)", "fixed", 10, 2, "12.35"},
		{"-0.5::DECIMAL(5,3)", "fixed", 5, 3, "-0.500"},
		{"1", "fixed", 38, 0, "1"},
		{"42::INT", "fixed", 38, 0, "42"},
		{"CAST(7 AS BIGINT)", "fixed", 38, 0, "7"},
		{"170141183460469231731687303715884105727::HUGEINT", "fixed", 38, 0, "170141183460469231731687303715884105727"},
		{"18446744073709551615::UBIGINT", "fixed", 38, 0, "18446744073709551615"},
		{"1.5::FLOAT", "real", 0, 0, "1.5"},
		{"0.1::DOUBLE", "real", 0, 0, "0.1"},
		{"'nan'::FLOAT", "real", 0, 0, "NaN"},
		{"'x'::VARCHAR", "text", 0, 0, "x"},
		{"'it''s'::STRING", "text", 0, 0, "it's"},
		{"'x'::TEXT", "text", 0, 0, "x"},
		{"TRUE::BOOLEAN", "boolean", 0, 0, "1"},
		{"FALSE", "boolean", 0, 0, "0"},
		{"'2024-01-02'::DATE", "date", 0, 0, "19724"},
		{"'1969-12-31'::DATE", "date", 0, 0, "-1"},
		{"'12:34:56.789'::TIME", "time", 0, 9, "45296.789000000"},
		{"'2024-01-02 03:04:05.123456789'::TIMESTAMP_NTZ", "timestamp_ntz", 0, 9, "1704164645.123456789"},
		{"'2024-01-02 03:04:05'::TIMESTAMP", "timestamp_ntz", 0, 9, "1704164645.000000000"},
		{"'2024-01-02 03:04:05'::DATETIME", "timestamp_ntz", 0, 9, "1704164645.000000000"},
		{"'1969-12-31 23:59:59.5'::TIMESTAMP_NTZ(9)", "timestamp_ntz", 0, 9, "-1.500000000"},
		{"'2024-01-02 03:04:05.123'::TIMESTAMP_LTZ", "timestamp_ltz", 0, 9, "1704164645.123000000"},
		{"'2024-01-02 03:04:05+01:00'::TIMESTAMP_TZ", "timestamp_ltz", 0, 9, "1704161045.000000000"},
		{"CAST('2024-01-02 03:04:05' AS TIMESTAMP_TZ(3))", "timestamp_ltz", 0, 9, "1704164645.000000000"},
		{`PARSE_JSON('{"a":1}')`, "variant", 0, 0, `{"a":1}`},
		{`PARSE_JSON('"abc"')`, "variant", 0, 0, `"abc"`},
		{`PARSE_JSON('12345678901234567890')`, "variant", 0, 0, `12345678901234567890`},
		{`'[1,2]'::ARRAY`, "array", 0, 0, `[1,2]`},
		{`'{"b":[true,null]}'::OBJECT`, "object", 0, 0, `{"b":[true,null]}`},
		{"TO_BINARY('48656C6C6F', 'HEX')", "binary", 0, 0, "48656C6C6F"},
		{"TO_BINARY('48656C6C6F')", "binary", 0, 0, "48656C6C6F"},
		{"TO_BINARY('SGVsbG8=', 'BASE64')", "binary", 0, 0, "48656C6C6F"},
		{"'Hello'::BINARY", "binary", 0, 0, "48656C6C6F"},
		{"[1, 2, 3]", "array", 0, 0, "[1,2,3]"},
		{"{'a': 1, 'b': 'x'}", "object", 0, 0, `{"a":1,"b":"x"}`},
		{"MAP {'k': 1}", "object", 0, 0, `{"k":1}`},
		{"'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID", "text", 0, 0, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"INTERVAL 1 DAY", "text", 0, 0, "1 day"},
		{"NULL::NUMBER", "fixed", 38, 0, "NULL"},
		{"IFF(1 < 2, 'y', 'n')", "text", 0, 0, "y"},
		{"NVL(NULL, 3)", "fixed", 38, 0, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			set, rows := query(t, nil, "SELECT "+tt.expr)
			if set.Type != result.Select {
				t.Errorf("statement type = %#x, want Select", set.Type)
			}
			if len(set.Columns) != 1 || len(rows) != 1 {
				t.Fatalf("got %d columns and %d rows, want 1 and 1", len(set.Columns), len(rows))
			}
			c := set.Columns[0]
			if c.Type != tt.typ || c.Precision != tt.precision || c.Scale != tt.scale {
				t.Errorf("column = %s(%d,%d), want %s(%d,%d)", c.Type, c.Precision, c.Scale, tt.typ, tt.precision, tt.scale)
			}
			if got := str(rows[0][0]); got != tt.want {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRowsAndOrder(t *testing.T) {
	set, rows := query(t, nil, "SELECT x, x * 2 AS y FROM (VALUES (3), (1), (2)) t(x) ORDER BY x DESC")
	if len(set.Columns) != 2 {
		t.Fatalf("columns = %d", len(set.Columns))
	}
	var got []string
	for _, r := range rows {
		got = append(got, str(r[0])+":"+str(r[1]))
	}
	if want := "3:6,2:4,1:2"; strings.Join(got, ",") != want {
		t.Errorf("rows = %v, want %s", got, want)
	}
	// A wrapped query (JSON columns) keeps the order too.
	_, rows = query(t, nil, "SELECT [x], x FROM range(5) t(x) ORDER BY x DESC")
	if str(rows[0][0]) != "[4]" || str(rows[4][1]) != "0" {
		t.Errorf("wrapped rows = %v ... %v", str(rows[0][0]), str(rows[4][1]))
	}
	set, _ = query(t, nil, "SELECT 1 WHERE FALSE")
	if set.Rows == nil || len(set.Rows) != 0 {
		t.Errorf("empty result rows = %#v, want empty non-nil", set.Rows)
	}
}

func TestContextFunctions(t *testing.T) {
	full := &Context{
		Account: "MYACCT", User: "O'Brien", Role: "SYSADMIN", Database: "DB1", Schema: "PUBLIC",
		Warehouse: "WH", ClientApp: "Go", ClientVersion: "1.19.1", SessionID: 1234567890,
		SecondaryRoles: []string{"ALL"}, ClientIP: "10.0.0.1",
		Now: time.Date(2024, 1, 2, 23, 30, 0, 0, time.UTC), TimeZone: "Asia/Tokyo",
	}
	tests := []struct {
		c    *Context
		expr string
		want string
	}{
		{full, "CURRENT_USER()", "O'Brien"},
		{full, "current_user", "O'Brien"},
		{full, "CURRENT_ROLE()", "SYSADMIN"},
		{full, "CURRENT_ACCOUNT()", "MYACCT"},
		{full, "CURRENT_ACCOUNT_NAME()", "MYACCT"},
		{full, "CURRENT_ORGANIZATION_NAME()", "FIRN"},
		{full, "CURRENT_REGION()", "FIRN_LOCAL"},
		{full, "CURRENT_DATABASE()", "DB1"},
		{full, "CURRENT_SCHEMA()", "PUBLIC"},
		{full, "CURRENT_WAREHOUSE()", "WH"},
		{full, "CURRENT_SESSION()", "1234567890"},
		{full, "CURRENT_CLIENT()", "Go 1.19.1"},
		{full, "CURRENT_VERSION()", "9.0.0"},
		{full, "CURRENT_IP_ADDRESS()", "10.0.0.1"},
		{full, "CURRENT_SECONDARY_ROLES()", `{"roles":"","value":"ALL"}`},
		{full, "CURRENT_TIMESTAMP()", "1704238200.000000000"},
		{full, "CURRENT_TIMESTAMP", "1704238200.000000000"},
		{full, "CURRENT_DATE()", "19725"}, // 2024-01-03 in Tokyo
		{full, "CURRENT_DATE", "19725"},
		{full, "SYSDATE()", "1704238200.000000000"},
		{full, "CURRENT_USER() || '!'", "O'Brien!"},
		{full, "LENGTH(CURRENT_DATABASE())", "3"},
		{&Context{}, "CURRENT_USER()", "NULL"},
		{&Context{}, "CURRENT_DATABASE()", "NULL"},
		{&Context{}, "CURRENT_SCHEMA()", "NULL"},
		{&Context{Schema: "PUBLIC"}, "CURRENT_SCHEMA()", "NULL"},
		{&Context{}, "CURRENT_WAREHOUSE()", "NULL"},
		{&Context{}, "CURRENT_SESSION()", "NULL"},
		{&Context{}, "CURRENT_CLIENT()", "NULL"},
		{&Context{}, "CURRENT_IP_ADDRESS()", "NULL"},
		{&Context{SecondaryRoles: []string{"A", "B"}}, "CURRENT_SECONDARY_ROLES()", `{"roles":"A,B","value":"A,B"}`},
		{&Context{}, "CURRENT_SECONDARY_ROLES()", `{"roles":"","value":""}`},
		{&Context{User: `x'); SELECT 1; --`}, "CURRENT_USER()", `x'); SELECT 1; --`},
		{&Context{User: `back\slash`}, "CURRENT_USER()", `back\slash`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			set, rows := query(t, tt.c, "SELECT "+tt.expr)
			if got := str(rows[0][0]); got != tt.want {
				t.Errorf("SELECT %s = %q, want %q", tt.expr, got, tt.want)
			}
			if strings.HasPrefix(tt.expr, "CURRENT_USER()") && set.Columns[0].Type != "text" {
				t.Errorf("type = %s, want text", set.Columns[0].Type)
			}
		})
	}
}

func TestColumnNames(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"SELECT 1", []string{"1"}},
		{"SELECT current_user()", []string{"CURRENT_USER()"}},
		{"SELECT 1 AS a, 2 b, 3 AS \"Mixed Case\"", []string{"A", "B", "Mixed Case"}},
		{"SELECT t.x, x, t.x AS z FROM (SELECT 1 AS x) t", []string{"X", "X", "Z"}},
		{"SELECT 'abc', 1 + 2", []string{"'ABC'", "1 + 2"}},
		{"SELECT x::NUMBER(10,2) FROM (SELECT 1 AS x)", []string{"X::NUMBER(10,2)"}},
		{"SELECT CASE WHEN TRUE THEN 1 END", []string{"CASE WHEN TRUE THEN 1 END"}},
		{"SELECT NULL", []string{"NULL"}},
		{"SELECT x IS NULL FROM (SELECT 1 AS x)", []string{"X IS NULL"}},
		{"SELECT count(*) c FROM range(3)", []string{"C"}},
		{"SELECT DISTINCT 1 AS one", []string{"ONE"}},
		{"WITH a AS (SELECT 1 AS z) SELECT z, z + 1 FROM a", []string{"Z", "Z + 1"}},
		{"(SELECT 5 AS five)", []string{"FIVE"}},
		{"SELECT 1 AS a UNION ALL SELECT 2", []string{"A"}},
		{"VALUES (1, 'a')", []string{"COLUMN1", "COLUMN2"}},
		{"SELECT * FROM (SELECT 1 AS a, 2 AS b)", []string{"A", "B"}},
		{"SELECT ?", []string{"?"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			set, _ := query(t, nil, tt.text, Bind{Type: "TEXT", Value: ptr("v")})
			var got []string
			for _, c := range set.Columns {
				got = append(got, c.Name)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("names = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBinds(t *testing.T) {
	tests := []struct {
		name string
		bind Bind
		typ  string
		want string
	}{
		{"go FIXED", Bind{Type: "FIXED", Value: ptr("42")}, "fixed", "42"},
		{"FIXED big", Bind{Type: "FIXED", Value: ptr("-12345678901234567890123")}, "fixed", "-12345678901234567890123"},
		{"FIXED decimal", Bind{Type: "FIXED", Value: ptr("2.50")}, "fixed", "2.50"},
		{"REAL", Bind{Type: "REAL", Value: ptr("2.5")}, "real", "2.5"},
		{"TEXT", Bind{Type: "TEXT", Value: ptr("it's; --")}, "text", "it's; --"},
		{"TEXT null", Bind{Type: "TEXT"}, "text", "NULL"},
		{"BOOLEAN true", Bind{Type: "BOOLEAN", Value: ptr("true")}, "boolean", "1"},
		{"BOOLEAN false", Bind{Type: "BOOLEAN", Value: ptr("false")}, "boolean", "0"},
		{"go DATE millis", Bind{Type: "DATE", Value: ptr("1704153600000")}, "date", "19724"},
		{"go DATE before 1970", Bind{Type: "DATE", Value: ptr("-86400000")}, "date", "-1"},
		{"go TIME nanos", Bind{Type: "TIME", Value: ptr("3723500000000")}, "time", "3723.500000000"},
		{"go TIMESTAMP_NTZ nanos", Bind{Type: "TIMESTAMP_NTZ", Value: ptr("1704164645000000006")}, "timestamp_ntz", "1704164645.000000006"},
		{"go TIMESTAMP_NTZ negative", Bind{Type: "TIMESTAMP_NTZ", Value: ptr("-500000000")}, "timestamp_ntz", "-1.500000000"},
		{"go TIMESTAMP_LTZ nanos", Bind{Type: "TIMESTAMP_LTZ", Value: ptr("1704164645123456000")}, "timestamp_ltz", "1704164645.123456000"},
		{"go TIMESTAMP_TZ", Bind{Type: "TIMESTAMP_TZ", Value: ptr("1700000000000000000 1500")}, "timestamp_ltz", "1700000000.000000000"},
		{"go BINARY", Bind{Type: "BINARY", Value: ptr("48656C6C6F")}, "binary", "48656C6C6F"},
		{"go []byte as ARRAY", Bind{Type: "ARRAY", Value: ptr("[72,101]"), Fmt: "json"}, "variant", "[72,101]"},
		{"node VARIANT", Bind{Type: "VARIANT", Value: ptr(`{"a":[1,2]}`)}, "variant", `{"a":[1,2]}`},
		{"node Date as TEXT", Bind{Type: "TEXT", Value: ptr("2024-01-02T03:04:05.000Z")}, "text", "2024-01-02T03:04:05.000Z"},
		{"TIMESTAMP_NTZ null", Bind{Type: "TIMESTAMP_NTZ"}, "timestamp_ntz", "NULL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, rows := query(t, nil, "SELECT ?", tt.bind)
			if set.Columns[0].Type != tt.typ {
				t.Errorf("type = %s, want %s", set.Columns[0].Type, tt.typ)
			}
			if got := str(rows[0][0]); got != tt.want {
				t.Errorf("value = %q, want %q", got, tt.want)
			}
		})
	}
	// Node's ISO text compares with a date after an implicit cast; numbered markers reuse binds.
	_, rows := query(t, nil, "SELECT ?::DATE = '2024-01-02'::DATE, :2 + 1, :1",
		Bind{Type: "TEXT", Value: ptr("2024-01-02")}, Bind{Type: "FIXED", Value: ptr("1")})
	if got := str(rows[0][0]) + " " + str(rows[0][2]); got != "1 2024-01-02" {
		t.Errorf("text binds = %q", got)
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		binds []Bind
		code  string
	}{
		{"missing bind", "SELECT ?, ?", []Bind{{Type: "TEXT", Value: ptr("a")}}, "002049"},
		{"missing numbered", "SELECT :3", []Bind{{Type: "TEXT", Value: ptr("a")}}, "002049"},
		{"bad fixed", "SELECT ?", []Bind{{Type: "FIXED", Value: ptr("abc")}}, "002014"},
		{"bad boolean", "SELECT ?", []Bind{{Type: "BOOLEAN", Value: ptr("maybe")}}, "002014"},
		{"bad binary", "SELECT ?", []Bind{{Type: "BINARY", Value: ptr("zz")}}, "002014"},
		{"bad json", "SELECT ?", []Bind{{Type: "VARIANT", Value: ptr("{")}}, "002014"},
		{"bad tz offset", "SELECT ?", []Bind{{Type: "TIMESTAMP_TZ", Value: ptr("0 9999")}}, "002014"},
		{"unknown type", "SELECT ?", []Bind{{Type: "GEOGRAPHY", Value: ptr("x")}}, "002014"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := engine(t).Query(context.Background(), nil, tt.text, tt.binds)
			if se := sferr.As(err); err == nil || se.Code != tt.code {
				t.Errorf("Query(%q) error = %v, want code %s", tt.text, err, tt.code)
			}
		})
	}
}

func TestLockdown(t *testing.T) {
	tests := []struct {
		text string
		code string
	}{
		{"SELECT * FROM read_csv('/etc/passwd')", "002140"},
		{"SELECT * FROM read_text('/etc/passwd')", "002140"},
		{"SELECT * FROM glob('/etc/*')", "002140"},
		{"SELECT (SELECT count(*) FROM read_blob('/etc/passwd'))", "002140"},
		{"SELECT 1 WHERE EXISTS (SELECT 1 FROM read_json_auto('/etc/x.json'))", "002140"},
		{"SELECT * FROM query('SELECT 1')", "002140"},
		{"SELECT * FROM duckdb_settings()", "002140"},
		{"SELECT * FROM 'data.parquet'", "002003"},
		{"SELECT * FROM '/etc/passwd'", "002003"},
		{"ATTACH '/tmp/x.db' AS x", "001003"},
		{"DETACH x", "001003"},
		{"INSTALL httpfs", "001003"},
		{"LOAD httpfs", "001003"},
		{"COPY (SELECT 1) TO '/tmp/x.csv'", "000002"},
		{"EXPORT DATABASE '/tmp/x'", "001003"},
		{"PRAGMA database_list", "001003"},
		{"SET enable_external_access = true", "000002"},
		{"RESET lock_configuration", "001003"},
		{"CALL pragma_version()", "000002"},
		{"CHECKPOINT", "001003"},
		{"CREATE TABLE t (x INT)", "000002"},
		{"SELECT 1; ATTACH 'x' AS y", "000008"},
		{"SELECT 1; SELECT 2", "000008"},
		{"WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "*"},
		{"SELECT getenv('HOME')", "002140"},
		{"SELECT current_setting('lock_configuration') = 'false' AND error('unlocked')", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := engine(t).Query(context.Background(), nil, tt.text, nil)
			if tt.code == "" {
				if err != nil {
					t.Errorf("Query(%q): %v", tt.text, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Query(%q) succeeded, want error %s", tt.text, tt.code)
			}
			if se := sferr.As(err); se.Code != tt.code && tt.code != "*" {
				t.Errorf("Query(%q) = %v, want code %s", tt.text, err, tt.code)
			}
		})
	}
	_, rows := query(t, nil, "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'), current_setting('TimeZone')")
	if got := str(rows[0][0]) + " " + str(rows[0][1]) + " " + str(rows[0][2]); got != "0 1 UTC" {
		t.Errorf("settings = %q, want 0 1 UTC (external access off, configuration locked)", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		text string
		code string
		msg  string
	}{
		{"SELECT 1 +", "001003", "SQL compilation error:\nsyntax error line 1 at position 10 unexpected '<EOF>'."},
		{"SELEC 1", "001003", "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'."},
		{"SELECT 1 FROM WHERE", "001003", "SQL compilation error:\nsyntax error line 1 at position 14 unexpected 'WHERE'."},
		{"SELECT 1,\n  2 2", "001003", "SQL compilation error:\nsyntax error line 2 at position 4 unexpected '2'."},
		{"SELECT 'unterminated", "001003", ""},
		{"", "000900", ""},
		{"SELECT * FROM nosuch", "002003", "SQL compilation error:\nObject 'NOSUCH' does not exist or not authorized."},
		{"SELECT nosuch", "000904", "SQL compilation error:\ninvalid identifier 'NOSUCH'"},
		{"SELECT a.nosuch FROM (SELECT 1 AS x) a", "000904", ""},
		{"SELECT no_such_fn(1)", "002140", "SQL compilation error:\nUnknown function NO_SUCH_FN"},
		{"SELECT 'abc'::INT", "100038", "Numeric value 'abc' is not recognized"},
		{"SELECT 'abc'::NUMBER(10,2)", "100038", "Numeric value 'abc' is not recognized"},
		{"SELECT '2024-13-45'::DATE", "100040", "Date '2024-13-45' is not recognized"},
		{"SELECT 'x'::BOOLEAN", "100037", "Boolean value 'x' is not recognized"},
		{"SELECT PARSE_JSON('{')", "100069", ""},
		{"SELECT 5 % 0::INT // 0", "", ""},
		{"SELECT 9223372036854775807::HUGEINT * 9223372036854775807::HUGEINT * 9223372036854775807::HUGEINT", "100046", ""},
		{"SELECT $x", "002211", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := engine(t).Query(context.Background(), nil, tt.text, nil)
			if tt.code == "" {
				if err != nil {
					t.Errorf("Query(%q): %v", tt.text, err)
				}
				return
			}
			var se *sferr.Error
			if !errors.As(err, &se) {
				t.Fatalf("Query(%q) error = %v (%T), want *sferr.Error", tt.text, err, err)
			}
			if se.Code != tt.code || (tt.msg != "" && se.Message != tt.msg) {
				t.Errorf("Query(%q) = %s %q, want %s %q", tt.text, se.Code, se.Message, tt.code, tt.msg)
			}
			if strings.Contains(se.Message, "CAST(") || strings.Contains(se.Message, "LINE ") {
				t.Errorf("message leaks rewritten SQL: %q", se.Message)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	e := engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Query(ctx, nil, "SELECT count(*) FROM range(10000000000) t(a), range(10) u(b) WHERE a + b = -1", nil)
	if err == nil {
		t.Fatal("long query succeeded, want cancellation")
	}
	if se := sferr.As(err); se.Code != "000604" {
		t.Errorf("error = %v, want 000604", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	// The engine is still usable afterwards.
	if _, rows := query(t, nil, "SELECT 1"); str(rows[0][0]) != "1" {
		t.Error("query after cancellation failed")
	}
	// A context cancelled before the call fails at once.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := e.Query(ctx, nil, "SELECT 1", nil); sferr.As(err).Code != "000604" {
		t.Errorf("pre-cancelled Query error = %v, want 000604", err)
	}
}

func TestConcurrent(t *testing.T) {
	e := engine(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			set, err := e.Query(context.Background(), &Context{User: "U"}, "SELECT sum(x), current_user() FROM range(1000) t(x)", nil)
			if err != nil {
				errs <- err
				return
			}
			if got := fmt.Sprint(set.Rows[0][0]); got != "499500" {
				errs <- errors.New("unexpected sum")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPersistentDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	e, err := Open(context.Background(), Config{Dir: dir, MaxConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer e.Close()
	set, err := e.Query(context.Background(), nil, "SELECT PARSE_JSON('[1]')", nil)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if got := string(set.Rows[0][0].(json.RawMessage)); got != "[1]" {
		t.Errorf("value = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err != nil {
		t.Errorf("database file: %v", err)
	}
	if _, err := e.Query(context.Background(), nil, "SELECT * FROM read_csv('"+filepath.Join(dir, dbFile)+"')", nil); sferr.As(err).Code != "002140" {
		t.Errorf("reading the database file through SQL: %v, want 002140", err)
	}
}

func BenchmarkSelect1(b *testing.B) {
	e := engine(b)
	ctx := context.Background()
	c := &Context{User: "U"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Query(ctx, c, "SELECT 1", nil); err != nil {
			b.Fatal(err)
		}
	}
}
