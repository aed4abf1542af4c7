package integration

import (
	"fmt"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"
)

// TestResultScan drives RESULT_SCAN, LAST_QUERY_ID and the ->> pipe through
// gosnowflake on one server: SHOW/DESC results with their lower-case columns, the
// seed query from the key-pair documentation, ids by position and by literal, and the
// isolation of results between sessions and users.
func TestResultScan(t *testing.T) {
	e := start(t)
	db := e.admin()
	c := conn(t, db)
	mustExec(t, c,
		fmt.Sprintf("CREATE USER kp_user RSA_PUBLIC_KEY = '%s'", jwtPubBody(t, jwtKeys()[0])),
		"CREATE USER other PASSWORD = 'Other-pass-123' DEFAULT_ROLE = PUBLIC",
	)

	t.Run("seed query after DESC USER", func(t *testing.T) {
		cols, rs := rows(t, c, "DESC USER kp_user")
		fp := ""
		for _, r := range rs {
			if r[column(t, cols, "property")] == "RSA_PUBLIC_KEY_FP" {
				fp = r[column(t, cols, "value")]
			}
		}
		if !strings.HasPrefix(fp, "SHA256:") {
			t.Fatalf("DESC USER fingerprint %q", fp)
		}
		got := one(t, c, `SELECT TRIM((SELECT "value" FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "property" = 'RSA_PUBLIC_KEY_FP'), 'SHA256:');`)
		if got != strings.TrimPrefix(fp, "SHA256:") {
			t.Fatalf("seed query = %q; want %q", got, strings.TrimPrefix(fp, "SHA256:"))
		}
	})

	t.Run("SHOW then SELECT star keeps lower-case names", func(t *testing.T) {
		mustExec(t, c, "SHOW USERS")
		cols, rs := rows(t, c, `SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) ORDER BY "name"`)
		if cols[0] != "name" || len(rs) != 3 {
			t.Fatalf("cols %v rows %v", cols, rs)
		}
		names := []string{}
		for _, r := range rs {
			names = append(names, r[0])
		}
		if strings.Join(names, ",") != "ADMIN,KP_USER,OTHER" {
			t.Fatalf("names %v", names)
		}
	})

	t.Run("LAST_QUERY_ID by position and RESULT_SCAN by literal id", func(t *testing.T) {
		mustExec(t, c, "SELECT 'first' AS x")
		first := one(t, c, "SELECT LAST_QUERY_ID()")
		mustExec(t, c, "SELECT 'second' AS x")
		// -1 is the SELECT 'second', -2 the SELECT LAST_QUERY_ID(), -3 the SELECT 'first'.
		if got := one(t, c, "SELECT LAST_QUERY_ID(-3)"); got != first {
			t.Fatalf("LAST_QUERY_ID(-3) = %s; want %s", got, first)
		}
		if got := one(t, c, fmt.Sprintf("SELECT x FROM TABLE(RESULT_SCAN('%s'))", first)); got != "first" {
			t.Fatalf("RESULT_SCAN(id) = %s", got)
		}
		if got := one(t, c, "SELECT LAST_QUERY_ID(1) IS NOT NULL"); got != "1" {
			t.Fatalf("LAST_QUERY_ID(1) is null")
		}
		if got := one(t, c, "SELECT LAST_QUERY_ID(100000)"); got != "NULL" {
			t.Fatalf("LAST_QUERY_ID(100000) = %s", got)
		}
	})

	t.Run("types survive the scan", func(t *testing.T) {
		mustExec(t, c, `SELECT 12.50::NUMBER(5,2) AS n, 'it''s' AS s, TRUE AS b, '2024-01-02'::DATE AS d,
			'2024-01-02 03:04:05.123'::TIMESTAMP_NTZ AS ts, 1.5::FLOAT AS f, PARSE_JSON('{"a":[1,2]}') AS v, NULL AS z`)
		cols, rs := rows(t, c, "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))")
		want := []string{"12.50", "it's", "1", "2024-01-02T00:00:00Z", "2024-01-02T03:04:05.123Z", "1.5", `{"a":[1,2]}`, "NULL"}
		if strings.Join(cols, ",") != "N,S,B,D,TS,F,V,Z" {
			t.Fatalf("cols %v", cols)
		}
		for i, w := range want {
			if got := strings.ReplaceAll(strings.ReplaceAll(rs[0][i], "\n", ""), " ", ""); got != w {
				t.Errorf("column %s = %q; want %q", cols[i], rs[0][i], w)
			}
		}
	})

	t.Run("pipe", func(t *testing.T) {
		_, rs := rows(t, c, `SHOW USERS ->> SELECT "name" FROM $1 WHERE "name" = 'KP_USER'`)
		if len(rs) != 1 || rs[0][0] != "KP_USER" {
			t.Fatalf("pipe rows %v", rs)
		}
		got := one(t, c, `SELECT 1 AS a ->> SELECT a + 1 AS b FROM $1 ->> SELECT b * 10 + (SELECT a FROM $2) FROM $1`)
		if got != "21" {
			t.Fatalf("three-step pipe = %s", got)
		}
		_, err := c.QueryContext(t.Context(), `SELECT 1 ->> SELECT * FROM $2`)
		sfErr(t, err, 2003)
	})

	t.Run("other sessions and users cannot scan", func(t *testing.T) {
		mustExec(t, c, "SELECT 'secret' AS s")
		id := one(t, c, "SELECT LAST_QUERY_ID()")
		other := conn(t, db)
		_, err := other.QueryContext(t.Context(), fmt.Sprintf("SELECT * FROM TABLE(RESULT_SCAN('%s'))", id))
		se := sfErr(t, err, 2003)
		if !strings.Contains(se.Message, "does not exist or not authorized") {
			t.Fatalf("message %q", se.Message)
		}
		mustExec(t, c, "GRANT ROLE PUBLIC TO USER other")
		odb := e.open("FIRN", "OTHER", "Other-pass-123")
		_, err = odb.QueryContext(t.Context(), fmt.Sprintf("SELECT * FROM TABLE(RESULT_SCAN('%s'))", id))
		sfErr(t, err, 2003)
		_, err = c.QueryContext(t.Context(), "SELECT * FROM TABLE(RESULT_SCAN('01234567-0000-0000-0000-000000000000'))")
		sfErr(t, err, 2003)
	})

	t.Run("failed statement has an id but no result", func(t *testing.T) {
		_, err := c.ExecContext(t.Context(), "SELECT * FROM no_such_table_anywhere")
		if err == nil {
			t.Fatal("query on a missing table succeeded")
		}
		_, err = c.QueryContext(t.Context(), "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))")
		sfErr(t, err, 2003)
	})

	t.Run("within one multi-statement request", func(t *testing.T) {
		ctx, err := sf.WithMultiStatement(t.Context(), 2)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := c.QueryContext(ctx, `SHOW USERS; SELECT COUNT(*) FROM TABLE(RESULT_SCAN(LAST_QUERY_ID())) WHERE "name" LIKE '%USER%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		if !rs.NextResultSet() || !rs.Next() {
			t.Fatalf("no second result: %v", rs.Err())
		}
		var n int
		if err := rs.Scan(&n); err != nil || n != 1 {
			t.Fatalf("count %d, %v", n, err)
		}
	})

	t.Run("internal functions are not callable", func(t *testing.T) {
		_, err := c.QueryContext(t.Context(), "SELECT firn_result_scan('x')")
		sfErr(t, err, 2140)
	})
}
