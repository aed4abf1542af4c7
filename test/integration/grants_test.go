package integration

import (
	"strings"
	"testing"
)

const grantsPassword = "Grant-Test-Pw-1"

// grantsEnv starts a server with a user U (no roles yet) and returns the admin and
// U's connections.
func grantsEnv(t *testing.T) (*env, queryer) {
	t.Helper()
	e := start(t)
	admin := conn(t, e.admin())
	mustExec(t, admin, "CREATE USER u PASSWORD = '"+grantsPassword+"'")
	return e, admin
}

func hasRow(rs [][]string, want ...string) bool {
next:
	for _, r := range rs {
		for i, w := range want {
			if w != "*" && (i >= len(r) || r[i] != w) {
				continue next
			}
		}
		return true
	}
	return false
}

func TestGrantsRoleFlow(t *testing.T) {
	e, admin := grantsEnv(t)
	mustExec(t, admin, "USE ROLE USERADMIN", "CREATE ROLE analyst COMMENT = 'reads'", "CREATE ROLE lead")
	_, err := admin.ExecContext(t.Context(), "CREATE ROLE analyst")
	sfErr(t, err, 2002)
	mustExec(t, admin, "CREATE ROLE IF NOT EXISTS analyst", "GRANT ROLE analyst TO ROLE lead", "GRANT ROLE lead TO USER u")

	// Cycles are refused.
	_, err = admin.ExecContext(t.Context(), "GRANT ROLE lead TO ROLE analyst")
	sfErr(t, err, 3013)
	_, err = admin.ExecContext(t.Context(), "GRANT ROLE analyst TO ROLE analyst")
	sfErr(t, err, 3013)

	u := conn(t, e.open("FIRN", "U", grantsPassword))
	mustExec(t, u, "USE ROLE analyst")
	if got := one(t, u, "SELECT CURRENT_ROLE()"); got != "ANALYST" {
		t.Errorf("CURRENT_ROLE = %s", got)
	}
	_, err = u.ExecContext(t.Context(), "USE ROLE SYSADMIN")
	sfErr(t, err, 3013)

	cols, rs := rows(t, admin, "SHOW ROLES LIKE 'ANALYST'")
	if len(rs) != 1 || rs[0][column(t, cols, "owner")] != "USERADMIN" || rs[0][column(t, cols, "comment")] != "reads" ||
		rs[0][column(t, cols, "granted_to_roles")] != "1" {
		t.Errorf("SHOW ROLES: %v %v", cols, rs)
	}
	want := []string{"created_on", "name", "is_default", "is_current", "is_inherited", "assigned_to_users",
		"granted_to_roles", "granted_roles", "owner", "comment", "owner_role_type"}
	if strings.Join(cols, ",") != strings.Join(want, ",") {
		t.Errorf("SHOW ROLES columns %v", cols)
	}

	cols, rs = rows(t, admin, "SHOW GRANTS OF ROLE lead")
	if strings.Join(cols, ",") != "created_on,role,granted_to,grantee_name,granted_by" || !hasRow(rs, "*", "LEAD", "USER", "U", "USERADMIN") {
		t.Errorf("SHOW GRANTS OF ROLE: %v %v", cols, rs)
	}
	_, rs = rows(t, admin, "SHOW GRANTS TO USER u")
	if !hasRow(rs, "*", "LEAD", "USER", "U") {
		t.Errorf("SHOW GRANTS TO USER: %v", rs)
	}
	_, rs = rows(t, admin, "SHOW GRANTS TO ROLE lead")
	if !hasRow(rs, "*", "USAGE", "ROLE", "ANALYST", "ROLE", "LEAD", "false") {
		t.Errorf("SHOW GRANTS TO ROLE lead: %v", rs)
	}

	// A plain user may not grant roles it does not own.
	_, err = u.ExecContext(t.Context(), "GRANT ROLE analyst TO USER admin")
	sfErr(t, err, 3001)

	mustExec(t, admin, "ALTER ROLE analyst RENAME TO reader", "ALTER ROLE reader UNSET COMMENT")
	mustExec(t, u, "USE ROLE reader")
	mustExec(t, admin, "REVOKE ROLE lead FROM USER u")
	_, err = u.ExecContext(t.Context(), "USE ROLE reader")
	sfErr(t, err, 3013)

	// System roles cannot be dropped; dropping a role passes its objects to the dropper.
	_, err = admin.ExecContext(t.Context(), "DROP ROLE SYSADMIN")
	sfErr(t, err, 3001)
	mustExec(t, admin, "USE ROLE ACCOUNTADMIN", "GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE reader",
		"GRANT ROLE reader TO USER admin", "USE ROLE reader", "CREATE WAREHOUSE wr", "USE ROLE SECURITYADMIN", "DROP ROLE reader")
	cols, rs = rows(t, admin, "SHOW WAREHOUSES LIKE 'WR'")
	if len(rs) != 1 || rs[0][column(t, cols, "owner")] != "SECURITYADMIN" {
		t.Errorf("owner after DROP ROLE: %v", rs)
	}
	_, err = admin.ExecContext(t.Context(), "DROP ROLE reader")
	sfErr(t, err, 2003)
	mustExec(t, admin, "DROP ROLE IF EXISTS reader")
}

func TestGrantsPrivileges(t *testing.T) {
	e, admin := grantsEnv(t)
	mustExec(t, admin, "CREATE ROLE builder", "GRANT ROLE builder TO USER u", "ALTER USER u SET DEFAULT_ROLE = builder",
		"CREATE WAREHOUSE wh1")
	u := conn(t, e.open("FIRN", "U", grantsPassword, "role", "BUILDER"))

	// Without grants the custom role can neither create a database nor use a warehouse.
	_, err := u.ExecContext(t.Context(), "CREATE DATABASE d1")
	sfErr(t, err, 3001)
	_, err = u.ExecContext(t.Context(), "USE WAREHOUSE wh1")
	sfErr(t, err, 2043)
	if _, rs := rows(t, u, "SHOW WAREHOUSES"); len(rs) != 0 {
		t.Errorf("warehouses visible without a privilege: %v", rs)
	}

	mustExec(t, admin, "GRANT CREATE DATABASE ON ACCOUNT TO ROLE builder", "GRANT USAGE ON WAREHOUSE wh1 TO ROLE builder")
	mustExec(t, u, "CREATE DATABASE d1", "USE WAREHOUSE wh1")
	if _, rs := rows(t, u, "SHOW WAREHOUSES"); len(rs) != 1 {
		t.Errorf("warehouse with USAGE not visible: %v", rs)
	}
	cols, rs := rows(t, admin, "SHOW GRANTS TO ROLE builder")
	want := "created_on,privilege,granted_on,name,granted_to,grantee_name,grant_option,granted_by"
	if strings.Join(cols, ",") != want {
		t.Errorf("SHOW GRANTS columns %v", cols)
	}
	for _, w := range [][]string{
		{"*", "CREATE DATABASE", "ACCOUNT", "FIRN", "ROLE", "BUILDER", "false", "ACCOUNTADMIN"},
		{"*", "USAGE", "WAREHOUSE", "WH1", "ROLE", "BUILDER", "false", "ACCOUNTADMIN"},
		{"*", "OWNERSHIP", "DATABASE", "D1", "ROLE", "BUILDER", "true", "BUILDER"},
	} {
		if !hasRow(rs, w...) {
			t.Errorf("SHOW GRANTS TO ROLE builder lacks %v: %v", w, rs)
		}
	}
	_, rs = rows(t, admin, "SHOW GRANTS TO ROLE SYSADMIN")
	for _, p := range []string{"CREATE DATABASE", "CREATE WAREHOUSE"} {
		if !hasRow(rs, "*", p, "ACCOUNT", "FIRN", "ROLE", "SYSADMIN") {
			t.Errorf("SYSADMIN lacks %s: %v", p, rs)
		}
	}
	_, rs = rows(t, admin, "SHOW GRANTS ON WAREHOUSE wh1")
	if !hasRow(rs, "*", "OWNERSHIP", "WAREHOUSE", "WH1", "ROLE", "ACCOUNTADMIN") || !hasRow(rs, "*", "USAGE", "WAREHOUSE", "WH1", "ROLE", "BUILDER") {
		t.Errorf("SHOW GRANTS ON WAREHOUSE: %v", rs)
	}
	_, rs = rows(t, admin, "SHOW GRANTS ON ACCOUNT")
	if !hasRow(rs, "*", "MANAGE GRANTS", "ACCOUNT", "FIRN", "ROLE", "SECURITYADMIN") {
		t.Errorf("SHOW GRANTS ON ACCOUNT: %v", rs)
	}

	// Invalid privileges and unknown objects.
	_, err = admin.ExecContext(t.Context(), "GRANT SELECT ON WAREHOUSE wh1 TO ROLE builder")
	sfErr(t, err, 3011)
	_, err = admin.ExecContext(t.Context(), "GRANT USAGE ON WAREHOUSE nope TO ROLE builder")
	sfErr(t, err, 2003)
	_, err = admin.ExecContext(t.Context(), "GRANT USAGE ON WAREHOUSE wh1 TO ROLE nope")
	sfErr(t, err, 2003)
	// The system roles' own privileges cannot be revoked.
	_, err = admin.ExecContext(t.Context(), "REVOKE CREATE DATABASE ON ACCOUNT FROM ROLE SYSADMIN")
	sfErr(t, err, 3001)

	// Grant option: builder may pass on USAGE only once it holds it WITH GRANT OPTION.
	mustExec(t, admin, "CREATE ROLE helper")
	_, err = u.ExecContext(t.Context(), "GRANT USAGE ON WAREHOUSE wh1 TO ROLE helper")
	sfErr(t, err, 3001)
	mustExec(t, admin, "GRANT USAGE ON WAREHOUSE wh1 TO ROLE builder WITH GRANT OPTION")
	mustExec(t, u, "GRANT USAGE ON WAREHOUSE wh1 TO ROLE helper")
	mustExec(t, admin, "REVOKE GRANT OPTION FOR USAGE ON WAREHOUSE wh1 FROM ROLE builder")
	_, err = u.ExecContext(t.Context(), "GRANT OPERATE ON WAREHOUSE wh1 TO ROLE helper")
	sfErr(t, err, 3001)

	// Revoking takes effect at once.
	mustExec(t, admin, "REVOKE USAGE ON WAREHOUSE wh1 FROM ROLE builder", "REVOKE CREATE DATABASE ON ACCOUNT FROM ROLE builder")
	_, err = u.ExecContext(t.Context(), "USE WAREHOUSE wh1")
	sfErr(t, err, 2043)
	_, err = u.ExecContext(t.Context(), "CREATE DATABASE d2")
	sfErr(t, err, 3001)

	// ALL PRIVILEGES expands to the kind's privileges; ON ALL covers existing schemas;
	// FUTURE applies to schemas created later.
	mustExec(t, admin, "GRANT ALL ON WAREHOUSE wh1 TO ROLE helper", "CREATE DATABASE d3", "CREATE SCHEMA d3.s1",
		"GRANT USAGE ON ALL SCHEMAS IN DATABASE d3 TO ROLE helper", "GRANT MONITOR ON FUTURE SCHEMAS IN DATABASE d3 TO ROLE helper",
		"CREATE SCHEMA d3.s2")
	_, rs = rows(t, admin, "SHOW GRANTS TO ROLE helper")
	for _, w := range [][]string{
		{"*", "OPERATE", "WAREHOUSE", "WH1"}, {"*", "MODIFY", "WAREHOUSE", "WH1"},
		{"*", "USAGE", "SCHEMA", "D3.S1"}, {"*", "USAGE", "SCHEMA", "D3.PUBLIC"}, {"*", "MONITOR", "SCHEMA", "D3.S2"},
	} {
		if !hasRow(rs, w...) {
			t.Errorf("helper lacks %v: %v", w, rs)
		}
	}
	if hasRow(rs, "*", "MONITOR", "SCHEMA", "D3.S1") {
		t.Error("future grant applied to an existing schema")
	}
	cols, rs = rows(t, admin, "SHOW FUTURE GRANTS IN DATABASE d3")
	if strings.Join(cols, ",") != "created_on,privilege,grant_on,name,grant_to,grantee_name,grant_option" ||
		!hasRow(rs, "*", "MONITOR", "SCHEMA", "D3.<SCHEMA>", "ROLE", "HELPER", "false") {
		t.Errorf("SHOW FUTURE GRANTS: %v %v", cols, rs)
	}
}

func TestGrantsOwnershipTransfer(t *testing.T) {
	e, admin := grantsEnv(t)
	mustExec(t, admin, "CREATE ROLE owner_r", "GRANT ROLE owner_r TO USER u", "CREATE DATABASE od",
		"GRANT USAGE ON DATABASE od TO ROLE PUBLIC")
	u := conn(t, e.open("FIRN", "U", grantsPassword, "role", "OWNER_R"))
	_, err := u.ExecContext(t.Context(), "DROP DATABASE od")
	sfErr(t, err, 3001)
	// A role that neither owns the object nor holds MANAGE GRANTS cannot transfer it.
	_, err = u.ExecContext(t.Context(), "GRANT OWNERSHIP ON DATABASE od TO ROLE owner_r")
	sfErr(t, err, 3001)

	mustExec(t, admin, "GRANT OWNERSHIP ON DATABASE od TO ROLE owner_r REVOKE CURRENT GRANTS")
	cols, rs := rows(t, admin, "SHOW DATABASES LIKE 'OD'")
	if len(rs) != 1 || rs[0][column(t, cols, "owner")] != "OWNER_R" {
		t.Errorf("owner after transfer: %v", rs)
	}
	_, rs = rows(t, admin, "SHOW GRANTS ON DATABASE od")
	if hasRow(rs, "*", "USAGE", "DATABASE", "OD", "ROLE", "PUBLIC") || !hasRow(rs, "*", "OWNERSHIP", "DATABASE", "OD", "ROLE", "OWNER_R") {
		t.Errorf("REVOKE CURRENT GRANTS: %v", rs)
	}
	mustExec(t, u, "ALTER DATABASE od SET COMMENT = 'mine'", "DROP DATABASE od")
}

func TestGrantsSecondaryRoles(t *testing.T) {
	e, admin := grantsEnv(t)
	mustExec(t, admin, "CREATE ROLE creator", "CREATE ROLE user_r", "GRANT CREATE DATABASE ON ACCOUNT TO ROLE creator",
		"CREATE WAREHOUSE swh", "GRANT USAGE ON WAREHOUSE swh TO ROLE creator",
		"GRANT ROLE creator TO USER u", "GRANT ROLE user_r TO USER u")
	u := conn(t, e.open("FIRN", "U", grantsPassword, "role", "USER_R"))
	mustExec(t, u, "USE SECONDARY ROLES NONE")
	_, err := u.ExecContext(t.Context(), "USE WAREHOUSE swh")
	sfErr(t, err, 2043)

	// With ALL, the secondary role's USAGE counts, but CREATE uses the primary role only.
	mustExec(t, u, "USE SECONDARY ROLES ALL", "USE WAREHOUSE swh")
	_, err = u.ExecContext(t.Context(), "CREATE DATABASE sd")
	sfErr(t, err, 3001)
	mustExec(t, u, "USE ROLE creator", "CREATE DATABASE sd")
	cols, rs := rows(t, admin, "SHOW DATABASES LIKE 'SD'")
	if len(rs) != 1 || rs[0][column(t, cols, "owner")] != "CREATOR" {
		t.Errorf("owner is the primary role: %v", rs)
	}
	mustExec(t, u, "USE ROLE user_r", "USE SECONDARY ROLES NONE")
	_, err = u.ExecContext(t.Context(), "DROP DATABASE sd")
	sfErr(t, err, 3001)
	mustExec(t, u, "USE SECONDARY ROLES ALL", "DROP DATABASE sd")
}

func TestGrantsManageGrants(t *testing.T) {
	e, admin := grantsEnv(t)
	mustExec(t, admin, "CREATE ROLE granter", "CREATE ROLE target", "GRANT ROLE granter TO USER u", "CREATE WAREHOUSE mwh")
	u := conn(t, e.open("FIRN", "U", grantsPassword, "role", "GRANTER"))
	_, err := u.ExecContext(t.Context(), "GRANT USAGE ON WAREHOUSE mwh TO ROLE target")
	sfErr(t, err, 3001)
	_, err = u.ExecContext(t.Context(), "GRANT ROLE target TO USER u")
	sfErr(t, err, 3001)
	mustExec(t, admin, "GRANT MANAGE GRANTS ON ACCOUNT TO ROLE granter")
	mustExec(t, u, "GRANT USAGE ON WAREHOUSE mwh TO ROLE target", "GRANT ROLE target TO USER u",
		"GRANT OWNERSHIP ON WAREHOUSE mwh TO ROLE target")
	// MANAGE GRANTS sees everything.
	if _, rs := rows(t, u, "SHOW WAREHOUSES LIKE 'MWH'"); len(rs) != 1 {
		t.Errorf("MANAGE GRANTS should see every warehouse: %v", rs)
	}
	_, rs := rows(t, u, "SHOW GRANTS TO ROLE SYSADMIN")
	if len(rs) == 0 {
		t.Error("MANAGE GRANTS should see any role's grants")
	}
}

func TestGrantsCaller(t *testing.T) {
	_, admin := grantsEnv(t)
	mustExec(t, admin, "CREATE ROLE svc_owner", "CREATE DATABASE cdb", "CREATE WAREHOUSE cwh",
		"GRANT CALLER USAGE ON DATABASE cdb TO ROLE svc_owner",
		"GRANT CALLER USAGE ON SCHEMA cdb.public TO ROLE svc_owner",
		"GRANT CALLER USAGE, OPERATE ON WAREHOUSE cwh TO ROLE svc_owner",
		"GRANT INHERITED CALLER SELECT ON ALL TABLES IN SCHEMA cdb.public TO ROLE svc_owner")
	cols, rs := rows(t, admin, "SHOW CALLER GRANTS TO ROLE svc_owner")
	want := "created_on,privilege,granted_on,name,is_inherited,inherited_from,inherited_from_database,inherited_from_schema,granted_to,grantee_name"
	if strings.Join(cols, ",") != want {
		t.Errorf("columns %v", cols)
	}
	if len(rs) != 5 || !hasRow(rs, "*", "OPERATE", "WAREHOUSE", "CWH", "false", "NULL", "NULL", "NULL", "ROLE", "SVC_OWNER") ||
		!hasRow(rs, "*", "SELECT", "TABLE", "CDB.PUBLIC.<TABLE>", "true", "SCHEMA", "CDB", "PUBLIC", "ROLE", "SVC_OWNER") {
		t.Errorf("SHOW CALLER GRANTS: %v", rs)
	}
	_, rs = rows(t, admin, "SHOW CALLER GRANTS ON WAREHOUSE cwh")
	if len(rs) != 2 {
		t.Errorf("SHOW CALLER GRANTS ON WAREHOUSE: %v", rs)
	}
	mustExec(t, admin, "REVOKE CALLER OPERATE ON WAREHOUSE cwh FROM ROLE svc_owner",
		// REVOKE INHERITED does not touch direct grants.
		"REVOKE INHERITED CALLER USAGE ON ALL WAREHOUSES IN ACCOUNT FROM ROLE svc_owner")
	if _, rs = rows(t, admin, "SHOW CALLER GRANTS TO ROLE svc_owner"); len(rs) != 4 {
		t.Errorf("after revoke: %v", rs)
	}
	// MANAGE CALLER GRANTS is required.
	mustExec(t, admin, "CREATE ROLE cg", "GRANT ROLE cg TO USER admin", "GRANT CREATE WAREHOUSE ON ACCOUNT TO ROLE cg",
		"USE ROLE cg", "CREATE WAREHOUSE cgw")
	_, err := admin.ExecContext(t.Context(), "GRANT CALLER USAGE ON WAREHOUSE cgw TO ROLE svc_owner")
	sfErr(t, err, 3001)
	mustExec(t, admin, "USE ROLE ACCOUNTADMIN", "GRANT MANAGE CALLER GRANTS ON ACCOUNT TO ROLE cg", "USE ROLE cg",
		"GRANT CALLER USAGE ON WAREHOUSE cgw TO ROLE svc_owner")
}
