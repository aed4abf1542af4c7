package integration

import (
	"strings"
	"testing"
	"time"
)

// TestQueryHistory checks that every statement — control statements and failures
// included — reaches SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY and the INFORMATION_SCHEMA
// QUERY_HISTORY table functions with its user, role, context, status and error, that
// the seed's queries run verbatim, and that only ACCOUNTADMIN or a role granted
// IMPORTED PRIVILEGES on SNOWFLAKE sees ACCOUNT_USAGE.
func TestQueryHistory(t *testing.T) {
	e := start(t)
	db := e.admin()
	c := conn(t, db)
	mustExec(t, c,
		"CREATE DATABASE hist_db",
		"CREATE SCHEMA hist_db.s1",
		"USE SCHEMA hist_db.s1",
		"CREATE ROLE analyst",
		"CREATE USER ana PASSWORD = 'Ana-pass-1234' DEFAULT_ROLE = analyst",
		"GRANT ROLE analyst TO USER ana",
		"GRANT USAGE ON DATABASE hist_db TO ROLE analyst",
		"SELECT 'marker-ok' AS m",
	)
	_, err := c.ExecContext(t.Context(), "SELECT 'marker-fail' FROM no_such_table_h")
	if err == nil {
		t.Fatal("query on a missing table succeeded")
	}
	_, err = c.ExecContext(t.Context(), "CREATE ROLE analyst")
	sfErr(t, err, 2002)

	t.Run("every statement is recorded", func(t *testing.T) {
		cols, rs := rows(t, c, `SELECT query_text, query_type, user_name, user_type, role_name, database_name, schema_name,
			execution_status, error_code, error_message, start_time <= end_time, total_elapsed_time >= 0, session_id > 0
			FROM snowflake.account_usage.query_history
			WHERE query_text IN ('SELECT ''marker-ok'' AS m', 'SELECT ''marker-fail'' FROM no_such_table_h', 'CREATE ROLE analyst', 'USE SCHEMA hist_db.s1')
			ORDER BY start_time`)
		if len(cols) != 13 {
			t.Fatalf("cols %v", cols)
		}
		got := map[string][]string{}
		for _, r := range rs {
			got[r[0]+"|"+r[7]] = r
		}
		want := []struct {
			text, typ, status, code string
		}{
			{"USE SCHEMA hist_db.s1", "USE", "SUCCESS", "NULL"},
			{"CREATE ROLE analyst", "CREATE_ROLE", "SUCCESS", "NULL"},
			{"CREATE ROLE analyst", "CREATE_ROLE", "FAIL", "002002"},
			{"SELECT 'marker-ok' AS m", "SELECT", "SUCCESS", "NULL"},
			{"SELECT 'marker-fail' FROM no_such_table_h", "SELECT", "FAIL", "002003"},
		}
		for _, w := range want {
			r, ok := got[w.text+"|"+w.status]
			if !ok {
				t.Errorf("no %s row for %q in %v", w.status, w.text, rs)
				continue
			}
			if r[1] != w.typ || r[2] != "ADMIN" || r[4] != "ACCOUNTADMIN" || r[8] != w.code {
				t.Errorf("row %v; want type %s code %s", r, w.typ, w.code)
			}
			if w.text != "USE SCHEMA hist_db.s1" && (r[5] != "HIST_DB" || r[6] != "S1") {
				t.Errorf("context %s.%s; want HIST_DB.S1", r[5], r[6])
			}
			if w.code != "NULL" && r[9] == "NULL" {
				t.Errorf("no error message for %q", w.text)
			}
			if r[10] != "1" || r[11] != "1" || r[12] != "1" {
				t.Errorf("times/session %v", r[10:])
			}
		}
	})

	t.Run("seed queries run verbatim", func(t *testing.T) {
		seeds := []string{
			`SELECT *
FROM snowflake.account_usage.query_history
WHERE user_type = 'SNOWFLAKE_SERVICE'
AND user_name = '<service_name>'
AND user_database_name = '<service_db_name>'
AND user_schema_name = '<service_schema_name>'
order by start_time;`,
			`SELECT *
FROM TABLE(hist_db.information_schema.query_history())
WHERE user_database_name = '<service_db_name>'
AND user_schema_name = '<service_schema_name>'
AND user_type = 'SNOWFLAKE_SERVICE'
AND user_name = '<service_name>'
order by start_time;`,
			`SELECT query_history.*, services.*
FROM snowflake.account_usage.query_history
JOIN snowflake.account_usage.services
ON query_history.user_name = services.service_name
AND query_history.user_schema_id = services.service_schema_id
AND query_history.user_type = 'SNOWFLAKE_SERVICE'`,
			`SELECT services.*, users.*
FROM snowflake.account_usage.users
JOIN snowflake.account_usage.services
ON users.name = services.service_name
AND users.schema_id = services.service_schema_id
AND users.type = 'SNOWFLAKE_SERVICE'`,
		}
		for _, q := range seeds {
			cols, rs := rows(t, c, q)
			if len(cols) < 10 || len(rs) != 0 {
				t.Errorf("%s: %d columns, rows %v", q, len(cols), rs)
			}
		}
	})

	t.Run("information_schema function arguments", func(t *testing.T) {
		n := one(t, c, `SELECT COUNT(*) FROM TABLE(hist_db.information_schema.query_history(
			END_TIME_RANGE_START => DATEADD('hours', -1, CURRENT_TIMESTAMP()), RESULT_LIMIT => 3))`)
		if n != "3" {
			t.Fatalf("RESULT_LIMIT 3 gave %s rows", n)
		}
		n = one(t, c, `SELECT COUNT(*) FROM TABLE(information_schema.query_history(
			END_TIME_RANGE_END => DATEADD(day, -1, CURRENT_TIMESTAMP())))`)
		if n != "0" {
			t.Fatalf("history ending a day ago has %s rows", n)
		}
		n = one(t, c, `SELECT COUNT(*) FROM TABLE(hist_db.information_schema.query_history_by_user(USER_NAME => 'NOBODY'))`)
		if n != "0" {
			t.Fatalf("history of NOBODY has %s rows", n)
		}
		_, err := c.QueryContext(t.Context(), "SELECT * FROM TABLE(no_db.information_schema.query_history())")
		sfErr(t, err, 2003)
		n = one(t, c, `SELECT COUNT(*) FROM TABLE(hist_db.information_schema.login_history_by_user(
			USER_NAME => 'ADMIN', TIME_RANGE_START => DATEADD(hour, -1, CURRENT_TIMESTAMP()), RESULT_LIMIT => 1))`)
		if n != "1" {
			t.Fatalf("LOGIN_HISTORY_BY_USER gave %s rows", n)
		}
		_, err = c.QueryContext(t.Context(), "SELECT * FROM TABLE(hist_db.information_schema.login_history(SESSION_ID => 1))")
		sfErr(t, err, 1038)
	})

	t.Run("other views", func(t *testing.T) {
		checks := []struct{ q, want string }{
			{"SELECT COUNT(*) > 0 FROM snowflake.account_usage.login_history WHERE user_name = 'ADMIN' AND is_success = 'YES'", "1"},
			{"SELECT type FROM snowflake.account_usage.users WHERE name = 'ANA'", "PERSON"},
			{"SELECT COUNT(*) FROM snowflake.account_usage.roles WHERE name = 'ANALYST'", "1"},
			{"SELECT grantee_name FROM snowflake.account_usage.grants_to_roles WHERE privilege = 'USAGE' AND granted_on = 'DATABASE' AND name = 'HIST_DB'", "ANALYST"},
			{"SELECT grantee_name FROM snowflake.account_usage.grants_to_users WHERE role = 'ANALYST'", "ANA"},
			{"SELECT COUNT(*) FROM snowflake.account_usage.services", "0"},
		}
		for _, ck := range checks {
			if got := one(t, c, ck.q); got != ck.want {
				t.Errorf("%s = %s; want %s", ck.q, got, ck.want)
			}
		}
		_, err := c.QueryContext(t.Context(), "SELECT * FROM snowflake.account_usage.no_such_view")
		sfErr(t, err, 2003)
	})

	t.Run("access needs ACCOUNTADMIN or IMPORTED PRIVILEGES", func(t *testing.T) {
		ana := conn(t, e.open("FIRN", "ANA", "Ana-pass-1234"))
		mustExec(t, ana, "SELECT 'ana-was-here'")
		_, err := ana.QueryContext(t.Context(), "SELECT COUNT(*) FROM snowflake.account_usage.query_history")
		sfErr(t, err, 2003)
		// Without access the table function shows only the user's own statements.
		if got := one(t, ana, "SELECT COUNT(DISTINCT user_name) || ':' || MIN(user_name) FROM TABLE(hist_db.information_schema.query_history())"); got != "1:ANA" {
			t.Fatalf("ANA sees users %s", got)
		}
		if got := one(t, ana, "SELECT COUNT(DISTINCT user_name) || ':' || MIN(user_name) FROM TABLE(hist_db.information_schema.login_history())"); got != "1:ANA" {
			t.Fatalf("ANA sees logins of %s", got)
		}
		_, err = ana.ExecContext(t.Context(), "GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE analyst")
		sfErr(t, err, 3001)
		mustExec(t, c, "GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE analyst")
		cols, grants := rows(t, c, "SHOW GRANTS TO ROLE analyst")
		if !hasRow(grants, "*", "IMPORTED PRIVILEGES", "DATABASE", "SNOWFLAKE", "ROLE", "ANALYST") {
			t.Errorf("SHOW GRANTS TO ROLE analyst: %v %v", cols, grants)
		}
		if got := one(t, ana, "SELECT COUNT(*) > 0 FROM snowflake.account_usage.query_history WHERE user_name = 'ADMIN'"); got != "1" {
			t.Fatalf("after the grant ANA sees ADMIN's history: %s", got)
		}
		mustExec(t, c, "REVOKE IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE FROM ROLE analyst")
		_, err = ana.QueryContext(t.Context(), "SELECT COUNT(*) FROM snowflake.account_usage.users")
		sfErr(t, err, 2003)
	})

	t.Run("timestamps are the statement's", func(t *testing.T) {
		before := time.Now().Add(-time.Minute)
		got := one(t, c, "SELECT MAX(start_time) FROM snowflake.account_usage.query_history")
		ts, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(got))
		if err != nil {
			t.Fatalf("start_time %q: %v", got, err)
		}
		if ts.Before(before) || ts.After(time.Now().Add(time.Minute)) {
			t.Fatalf("latest start_time %v", ts)
		}
	})
}

// BenchmarkAccountUsageQueryHistory reads ACCOUNT_USAGE.QUERY_HISTORY through
// gosnowflake with about 1,000 history rows in the account.
func BenchmarkAccountUsageQueryHistory(b *testing.B) {
	e := start(b)
	c := conn(b, e.admin())
	for i := 0; i < 1000; i++ {
		mustExec(b, c, "SELECT 1")
	}
	b.ResetTimer()
	for b.Loop() {
		one(b, c, "SELECT COUNT(*) FROM snowflake.account_usage.query_history WHERE execution_status = 'SUCCESS'")
	}
}
