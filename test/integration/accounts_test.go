package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

func TestAccountsAreIsolated(t *testing.T) {
	e := start(t)
	org := conn(t, e.admin())
	mustExec(t, org, "USE ROLE ORGADMIN")
	if got := one(t, org, `CREATE ACCOUNT tenant_b ADMIN_NAME = bob ADMIN_PASSWORD = 'B0b-password-123'
		EMAIL = 'bob@example.com' EDITION = ENTERPRISE`); got != "Account TENANT_B successfully created." {
		t.Fatalf("CREATE ACCOUNT status = %q", got)
	}
	cols, rs := rows(t, org, "SHOW ACCOUNTS")
	var names []string
	for _, r := range rs {
		names = append(names, r[column(t, cols, "account_name")])
	}
	if strings.Join(names, ",") != "FIRN,TENANT_B" {
		t.Errorf("SHOW ACCOUNTS = %v", names)
	}
	mustExec(t, org, "USE ROLE SYSADMIN", "CREATE DATABASE firn_only")

	// The new account's administrator logs in (account name case-insensitive).
	b := conn(t, e.open("tenant_b", "bob", "B0b-password-123"))
	_, rs = rows(t, b, "SELECT CURRENT_ACCOUNT(), CURRENT_USER(), CURRENT_ROLE()")
	if strings.Join(rs[0], ",") != "TENANT_B,BOB,ACCOUNTADMIN" {
		t.Errorf("tenant context = %v", rs[0])
	}
	if _, rs := rows(t, b, "SHOW DATABASES"); len(rs) != 0 {
		t.Errorf("tenant sees databases of another account: %v", rs)
	}
	_, err := b.ExecContext(context.Background(), "USE DATABASE firn_only")
	sfErr(t, err, 2043)
	mustExec(t, b, "CREATE DATABASE firn_only") // same name, other account: no clash
	// ORGADMIN exists only in the organisation account.
	_, err = b.ExecContext(context.Background(), "USE ROLE ORGADMIN")
	sfErr(t, err, 3013)
	_, err = b.ExecContext(context.Background(), "CREATE ACCOUNT c ADMIN_NAME = x ADMIN_PASSWORD = 'Xx-password-123' EMAIL = 'x@example.com'")
	sfErr(t, err, 3001)

	// Users of one account cannot log in to the other.
	for _, tc := range []struct{ account, user, pw string }{
		{"TENANT_B", "ADMIN", adminPassword},
		{"FIRN", "BOB", "B0b-password-123"},
	} {
		db, _ := sql.Open("snowflake", e.dsn(tc.account, tc.user, tc.pw))
		sfErr(t, db.Ping(), 390100)
		db.Close()
	}

	// Dropping the account ends its logins.
	mustExec(t, org, "USE ROLE ORGADMIN", "DROP ACCOUNT tenant_b")
	db, _ := sql.Open("snowflake", e.dsn("TENANT_B", "BOB", "B0b-password-123"))
	defer db.Close()
	sfErr(t, db.Ping(), 390100)
}

func TestSessionTokenBoundToAccountHost(t *testing.T) {
	e := start(t)
	org := e.admin()
	mustExec(t, org, "USE ROLE ORGADMIN",
		"CREATE ACCOUNT other ADMIN_NAME = o ADMIN_PASSWORD = 'Oo-password-123' EMAIL = 'o@example.com'")
	tok, _ := e.rawLogin(t, "FIRN", "ADMIN", adminPassword)
	// The same token presented with a Host header naming another account is refused.
	r := e.rawPostHost(t, "other.firn.local", "/queries/v1/query-request?requestId=00000000-0000-0000-0000-0000000000aa",
		tok, map[string]any{"sqlText": "SELECT 1"})
	if r.Success {
		t.Fatal("a session token of FIRN was accepted for account OTHER")
	}
}
