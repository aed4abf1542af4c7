package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"
)

func TestConnectAndContextFunctions(t *testing.T) {
	e := start(t)
	db := e.admin()
	c := conn(t, db)
	cols, rs := rows(t, c, `SELECT CURRENT_ACCOUNT(), CURRENT_USER(), CURRENT_ROLE(), CURRENT_DATABASE(),
		CURRENT_SCHEMA(), CURRENT_WAREHOUSE(), CURRENT_CLIENT(), CURRENT_VERSION(), CURRENT_SESSION()`)
	if cols[0] != "CURRENT_ACCOUNT()" || cols[1] != "CURRENT_USER()" {
		t.Errorf("column names = %v; want Snowflake's upper-cased expression text", cols)
	}
	got := rs[0]
	want := []string{"FIRN", "ADMIN", "ACCOUNTADMIN", "NULL", "NULL", "NULL"}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("%s = %q; want %q", cols[i], got[i], w)
		}
	}
	if !strings.HasPrefix(got[6], "Go ") {
		t.Errorf("CURRENT_CLIENT() = %q; want the Go driver", got[6])
	}
	if got[7] == "NULL" || got[8] == "NULL" {
		t.Errorf("CURRENT_VERSION/CURRENT_SESSION empty: %v", got)
	}
	if one(t, c, "SELECT 1") != "1" {
		t.Error("SELECT 1")
	}
}

func TestUseAndSessionState(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	// Objects created by SYSADMIN are usable by SYSADMIN (its own) and by ACCOUNTADMIN
	// (which inherits SYSADMIN).
	mustExec(t, c,
		"USE ROLE SYSADMIN",
		"CREATE WAREHOUSE wh1 WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60",
		"CREATE DATABASE db1 COMMENT = 'first'",
		"CREATE SCHEMA db1.s1",
		"USE ROLE ACCOUNTADMIN",
		"USE ROLE SYSADMIN",
		"USE WAREHOUSE wh1",
		"USE DATABASE db1",
		"USE SCHEMA s1",
	)
	_, rs := rows(t, c, "SELECT CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_DATABASE(), CURRENT_SCHEMA()")
	if strings.Join(rs[0], ",") != "SYSADMIN,WH1,DB1,S1" {
		t.Errorf("context = %v", rs[0])
	}
	// A role that is not granted is refused with Snowflake's error.
	_, err := c.ExecContext(context.Background(), "USE ROLE ORGADMIN_NOPE")
	sfErr(t, err, 3013)
	_, err = c.ExecContext(context.Background(), "USE DATABASE nope")
	se := sfErr(t, err, 2043)
	if se.Message != "SQL compilation error:\nObject does not exist, or operation cannot be performed." {
		t.Errorf("message = %q", se.Message)
	}
	// Nothing changed after the failures.
	if got := one(t, c, "SELECT CURRENT_DATABASE()"); got != "DB1" {
		t.Errorf("database after failed USE = %q", got)
	}
}

func TestAlterSessionAndShowParameters(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "ALTER SESSION SET TIMEZONE = 'UTC', QUERY_TAG = 'etl'")
	cols, rs := rows(t, c, "SHOW PARAMETERS LIKE 'TIMEZONE' IN SESSION")
	if strings.Join(cols, ",") != "key,value,default,level,description,type" {
		t.Fatalf("SHOW PARAMETERS columns = %v", cols)
	}
	if len(rs) != 1 || rs[0][1] != "UTC" || rs[0][3] != "SESSION" || rs[0][2] != "America/Los_Angeles" {
		t.Errorf("TIMEZONE row = %v", rs)
	}
	_, err := c.ExecContext(context.Background(), "ALTER SESSION SET NO_SUCH_PARAM = 1")
	sfErr(t, err, 1423)
	_, err = c.ExecContext(context.Background(), "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 'abc', TIMEZONE = 'Asia/Tokyo'")
	sfErr(t, err, 1423)
	if _, rs := rows(t, c, "SHOW PARAMETERS LIKE 'TIMEZONE'"); rs[0][1] != "UTC" {
		t.Errorf("a failed ALTER SESSION changed TIMEZONE to %q", rs[0][1])
	}
	mustExec(t, c, "ALTER SESSION UNSET TIMEZONE")
	if _, rs := rows(t, c, "SHOW PARAMETERS LIKE 'TIMEZONE'"); rs[0][1] != "America/Los_Angeles" || rs[0][3] != "" {
		t.Errorf("after UNSET: %v", rs[0])
	}
}

func TestErrors(t *testing.T) {
	e := start(t)
	db := e.admin()
	_, err := db.Exec("SELEC 1")
	se := sfErr(t, err, 1003)
	if se.Message != "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'." {
		t.Errorf("syntax error message = %q", se.Message)
	}
	if se.SQLState != "42000" {
		t.Errorf("sqlstate = %q", se.SQLState)
	}
	if se.QueryID == "" {
		t.Error("error carries no query id")
	}
	_, err = db.Exec("DROP DATABASE nope")
	se = sfErr(t, err, 2003)
	if se.Message != "SQL compilation error:\nDatabase 'NOPE' does not exist or not authorized." {
		t.Errorf("message = %q", se.Message)
	}

	// Wrong password, unknown user and unknown account all answer the same 390100.
	for _, tc := range []struct{ account, user, pw string }{
		{"FIRN", "ADMIN", "wrong"},
		{"FIRN", "NOBODY", adminPassword},
		{"NOACCOUNT", "ADMIN", adminPassword},
	} {
		bad, err := sql.Open("snowflake", e.dsn(tc.account, tc.user, tc.pw))
		if err != nil {
			t.Fatal(err)
		}
		err = bad.Ping()
		bad.Close()
		se := sfErr(t, err, 390100)
		if se.Message != "Incorrect username or password was specified." {
			t.Errorf("%v: message = %q", tc, se.Message)
		}
	}
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	_ = c
	for i := 0; i < 5; i++ {
		bad, _ := sql.Open("snowflake", e.dsn("FIRN", "ADMIN", "wrong"))
		sfErr(t, bad.Ping(), 390100)
		bad.Close()
	}
	// Even the right password is refused while locked.
	locked, _ := sql.Open("snowflake", e.dsn("FIRN", "ADMIN", adminPassword))
	defer locked.Close()
	sfErr(t, locked.Ping(), 390102)
	e.clock.Advance(16 * time.Minute)
	ok, _ := sql.Open("snowflake", e.dsn("FIRN", "ADMIN", adminPassword))
	defer ok.Close()
	if err := ok.Ping(); err != nil {
		t.Fatalf("login after the lock expired: %v", err)
	}
}

func TestAsyncQuery(t *testing.T) {
	e := start(t)
	db := e.admin()
	ctx := sf.WithAsyncMode(context.Background())
	rs, err := db.QueryContext(ctx, "SELECT 42 AS answer, 'async' AS mode")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !rs.Next() {
		t.Fatalf("no row: %v", rs.Err())
	}
	var n int64
	var mode string
	if err := rs.Scan(&n, &mode); err != nil {
		t.Fatal(err)
	}
	if n != 42 || mode != "async" {
		t.Errorf("got %d %q", n, mode)
	}
}

func TestRenewAfterExpiry(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN")
	// Past the session token's validity (1 h) but within the master token's (4 h)
	// and the idle timeout (4 h): the driver gets 390112, renews and replays.
	e.clock.Advance(61 * time.Minute)
	if got := one(t, c, "SELECT CURRENT_ROLE()"); got != "SYSADMIN" {
		t.Errorf("after renewal CURRENT_ROLE() = %q; session state lost", got)
	}
	// Past the master token too: the session is over.
	e.clock.Advance(5 * time.Hour)
	_, err := c.QueryContext(context.Background(), "SELECT 1")
	if err == nil {
		t.Fatal("query succeeded after the master token expired")
	}
}

func TestTokenLifetimesAreAccountParameters(t *testing.T) {
	e := start(t)
	admin := e.admin()
	mustExec(t, admin, "ALTER ACCOUNT SET SESSION_TOKEN_VALIDITY_IN_SECONDS = 60")
	_, rs := rows(t, admin, "SHOW PARAMETERS LIKE 'SESSION_TOKEN_VALIDITY_IN_SECONDS' IN ACCOUNT")
	if len(rs) != 1 || rs[0][1] != "60" || rs[0][3] != "ACCOUNT" {
		t.Fatalf("SHOW PARAMETERS IN ACCOUNT = %v", rs)
	}
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN")
	e.clock.Advance(2 * time.Minute)
	if got := one(t, c, "SELECT CURRENT_ROLE()"); got != "SYSADMIN" {
		t.Errorf("CURRENT_ROLE() after renewal = %q", got)
	}
}

func TestCloseEndsSession(t *testing.T) {
	e := start(t)
	tok, _ := e.rawLogin(t, "FIRN", "ADMIN", adminPassword)
	if r := e.rawPost(t, "/queries/v1/query-request?requestId=00000000-0000-0000-0000-000000000001", tok,
		map[string]any{"sqlText": "SELECT 1"}); r.Success != true {
		t.Fatalf("query before close: %+v", r)
	}
	if r := e.rawPost(t, "/session?delete=true", tok, nil); r.Success != true {
		t.Fatalf("close: %+v", r)
	}
	r := e.rawPost(t, "/queries/v1/query-request?requestId=00000000-0000-0000-0000-000000000002", tok,
		map[string]any{"sqlText": "SELECT 1"})
	if r.Success || (r.Code != "390104" && r.Code != "390111") {
		t.Fatalf("query after close: success=%v code=%v; want a dead-session error", r.Success, r.Code)
	}
	// The gosnowflake path: Close answers cleanly.
	db, err := sql.Open("snowflake", e.dsn("FIRN", "ADMIN", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}
