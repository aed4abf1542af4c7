package integration

import (
	"os"
	"strings"
	"testing"
)

// TestDBRoles drives database roles through gosnowflake: a database role holding
// SELECT on a table, granted to an account role a user has, lets the user read the
// table; revoking it takes the access away; cross-database grants, grants to users
// and USE ROLE of a database role are refused; DROP DATABASE removes its roles and a
// database rename carries them.
func TestDBRoles(t *testing.T) {
	e, admin := grantsEnv(t)
	ctx := t.Context()
	mustExec(t, admin,
		"USE ROLE SYSADMIN",
		"CREATE DATABASE D1",
		"CREATE TABLE D1.PUBLIC.T (X INT)",
		"INSERT INTO D1.PUBLIC.T VALUES (42)",
		"CREATE DATABASE D2",
		"CREATE TABLE D2.PUBLIC.T2 (Y INT)",
		"CREATE DATABASE ROLE D1.READER COMMENT = 'reads d1'",
		"CREATE DATABASE ROLE IF NOT EXISTS D1.READER",
		"CREATE DATABASE ROLE D1.INNER",
		"GRANT USAGE ON DATABASE D1 TO DATABASE ROLE D1.READER",
		"GRANT USAGE ON SCHEMA D1.PUBLIC TO DATABASE ROLE D1.READER",
		"GRANT SELECT ON TABLE D1.PUBLIC.T TO DATABASE ROLE D1.INNER",
		"GRANT DATABASE ROLE D1.INNER TO DATABASE ROLE D1.READER",
		"USE ROLE SECURITYADMIN",
		"CREATE ROLE ANALYST",
		"GRANT ROLE ANALYST TO USER U",
		"GRANT DATABASE ROLE D1.READER TO ROLE ANALYST",
		"USE ROLE SYSADMIN",
	)
	_, err := admin.ExecContext(ctx, "CREATE DATABASE ROLE D1.READER")
	sfErr(t, err, 2002)

	u := conn(t, e.open("FIRN", "U", grantsPassword, "role", "ANALYST"))
	if got := one(t, u, "SELECT X FROM D1.PUBLIC.T"); got != "42" {
		t.Errorf("SELECT through the database role = %q", got)
	}

	// Errors that change nothing.
	refused := []struct {
		name, stmt string
		code       int
	}{
		{"cross-database privilege", "GRANT SELECT ON TABLE D2.PUBLIC.T2 TO DATABASE ROLE D1.READER", 3011},
		{"cross-database database", "GRANT USAGE ON DATABASE D2 TO DATABASE ROLE D1.READER", 3011},
		{"cross-database future", "GRANT SELECT ON FUTURE TABLES IN SCHEMA D2.PUBLIC TO DATABASE ROLE D1.READER", 3011},
		{"account privilege", "GRANT CREATE DATABASE ON ACCOUNT TO DATABASE ROLE D1.READER", 3011},
		{"cross-database role grant", "GRANT DATABASE ROLE D1.INNER TO DATABASE ROLE D2.NOPE", 3011},
		{"to a user", "GRANT DATABASE ROLE D1.READER TO USER U", 2},
		{"cycle", "GRANT DATABASE ROLE D1.READER TO DATABASE ROLE D1.INNER", 3013},
		{"ownership", "GRANT OWNERSHIP ON TABLE D1.PUBLIC.T TO DATABASE ROLE D1.READER", 2},
		{"missing role", "GRANT SELECT ON TABLE D1.PUBLIC.T TO DATABASE ROLE D1.NOPE", 2003},
		{"missing database", "CREATE DATABASE ROLE NODB.R", 2003},
		{"rename to other db", "ALTER DATABASE ROLE D1.INNER RENAME TO D2.INNER", 2},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := admin.ExecContext(ctx, tt.stmt)
			sfErr(t, err, tt.code)
		})
	}
	_, rs := rows(t, admin, "SHOW GRANTS TO DATABASE ROLE D1.READER")
	if len(rs) != 3 || !hasRow(rs, "*", "USAGE", "DATABASE", "D1", "DATABASE_ROLE", "D1.READER", "false", "SYSADMIN") ||
		!hasRow(rs, "*", "USAGE", "DATABASE_ROLE", "D1.INNER", "DATABASE_ROLE", "D1.READER") {
		t.Errorf("SHOW GRANTS TO DATABASE ROLE: %v", rs)
	}
	cols, rs := rows(t, admin, "SHOW GRANTS OF DATABASE ROLE D1.INNER")
	if strings.Join(cols, ",") != "created_on,role,granted_to,grantee_name,granted_by" || len(rs) != 1 ||
		!hasRow(rs, "*", "D1.INNER", "DATABASE_ROLE", "D1.READER", "SYSADMIN") {
		t.Errorf("SHOW GRANTS OF DATABASE ROLE: %v %v", cols, rs)
	}
	_, rs = rows(t, admin, "SHOW GRANTS ON TABLE D1.PUBLIC.T")
	if !hasRow(rs, "*", "SELECT", "TABLE", "D1.PUBLIC.T", "DATABASE_ROLE", "D1.INNER") {
		t.Errorf("SHOW GRANTS ON TABLE: %v", rs)
	}

	// A database role is never a session role.
	for _, stmt := range []string{"USE ROLE D1.READER", `USE ROLE "D1.READER"`, "USE SECONDARY ROLES D1"} {
		_, err := u.ExecContext(ctx, stmt)
		sfErr(t, err, 3013)
	}

	cols, rs = rows(t, admin, "SHOW DATABASE ROLES IN DATABASE D1")
	want := "created_on,name,is_default,is_current,is_inherited,granted_to_roles,granted_to_database_roles," +
		"granted_database_roles,owner,comment,owner_role_type"
	if strings.Join(cols, ",") != want {
		t.Errorf("SHOW DATABASE ROLES columns %v", cols)
	}
	if len(rs) != 2 || !hasRow(rs, "*", "INNER", "N", "N", "N", "0", "1", "0", "SYSADMIN", "", "ROLE") ||
		!hasRow(rs, "*", "READER", "N", "N", "N", "1", "0", "1", "SYSADMIN", "reads d1", "ROLE") {
		t.Errorf("SHOW DATABASE ROLES: %v", rs)
	}
	if _, rs = rows(t, u, "SHOW DATABASE ROLES IN DATABASE D1"); !hasRow(rs, "*", "READER", "N", "N", "Y") {
		t.Errorf("SHOW DATABASE ROLES as ANALYST: %v", rs)
	}
	// Without any privilege on D2, ANALYST does not see its database roles.
	_, err = u.ExecContext(ctx, "SHOW DATABASE ROLES IN DATABASE D2")
	sfErr(t, err, 2003)

	// Rename the role and the database: grants follow, the user keeps access.
	mustExec(t, admin, "ALTER DATABASE ROLE D1.INNER RENAME TO D1.SELECTOR", "ALTER DATABASE ROLE D1.SELECTOR SET COMMENT = 'select'",
		"ALTER DATABASE D1 RENAME TO D3")
	if got := one(t, u, "SELECT X FROM D3.PUBLIC.T"); got != "42" {
		t.Errorf("SELECT after renames = %q", got)
	}
	if _, rs = rows(t, admin, "SHOW DATABASE ROLES IN DATABASE D3"); len(rs) != 2 || !hasRow(rs, "*", "SELECTOR", "*", "*", "*", "*", "1", "*", "*", "select") {
		t.Errorf("SHOW DATABASE ROLES after rename: %v", rs)
	}
	_, err = admin.ExecContext(ctx, "SHOW DATABASE ROLES IN DATABASE D1")
	sfErr(t, err, 2003)

	// Revoke: the privilege goes at once.
	mustExec(t, admin, "USE ROLE SECURITYADMIN", "REVOKE DATABASE ROLE D3.READER FROM ROLE ANALYST")
	_, err = u.ExecContext(ctx, "SELECT X FROM D3.PUBLIC.T")
	sfErr(t, err, 2003)
	mustExec(t, admin, "GRANT DATABASE ROLE D3.READER TO ROLE ANALYST", "USE ROLE SYSADMIN",
		"REVOKE SELECT ON TABLE D3.PUBLIC.T FROM DATABASE ROLE D3.SELECTOR")
	_, err = u.ExecContext(ctx, "SELECT X FROM D3.PUBLIC.T")
	sfErr(t, err, 2003)

	// Privileges: a role without CREATE DATABASE ROLE on D3 cannot create one there.
	_, err = u.ExecContext(ctx, "CREATE DATABASE ROLE D3.MINE")
	sfErr(t, err, 3001)

	// DROP DATABASE ROLE, then DROP DATABASE removes the rest with every grant.
	mustExec(t, admin, "DROP DATABASE ROLE D3.SELECTOR", "DROP DATABASE ROLE IF EXISTS D3.SELECTOR")
	_, err = admin.ExecContext(ctx, "DROP DATABASE ROLE D3.SELECTOR")
	sfErr(t, err, 2003)
	mustExec(t, admin, "DROP DATABASE D3", "CREATE DATABASE D3")
	if _, rs = rows(t, admin, "SHOW DATABASE ROLES IN DATABASE D3"); len(rs) != 0 {
		t.Errorf("database roles survived DROP DATABASE: %v", rs)
	}
	mustExec(t, admin, "USE ROLE SECURITYADMIN")
	if _, rs = rows(t, admin, "SHOW GRANTS TO ROLE ANALYST"); hasRow(rs, "*", "USAGE", "DATABASE_ROLE") {
		t.Errorf("grant of a dropped database role survived: %v", rs)
	}
}

// TestDBRolesDocExample runs the "Database roles" example of docs/identity.md
// statement by statement, so the documentation stays runnable.
func TestDBRolesDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/identity.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Database roles\n")
	if !ok {
		t.Fatal("docs/identity.md has no Database roles section")
	}
	_, block, ok := strings.Cut(section, "```sql\n")
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("the Database roles section has no sql example")
	}
	e := start(t)
	admin := conn(t, e.admin())
	mustExec(t, admin, "CREATE USER alice PASSWORD = '"+grantsPassword+"'")
	for _, stmt := range strings.Split(block, ";") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if l, _, _ = strings.Cut(l, "--"); strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		mustExec(t, admin, strings.Join(lines, "\n"))
		if strings.Contains(stmt, "TO ROLE analyst") {
			alice := conn(t, e.open("FIRN", "ALICE", grantsPassword, "role", "ANALYST"))
			if got := one(t, alice, "SELECT COUNT(*) FROM sales.public.orders"); got != "0" {
				t.Errorf("alice reads %q", got)
			}
		}
	}
}
