package integration

import (
	"context"
	"strings"
	"testing"
)

func TestDatabaseSchemaWarehouseDDL(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN", "CREATE DATABASE analytics COMMENT = 'numbers'")
	// CREATE DATABASE makes it current, with PUBLIC.
	_, rs := rows(t, c, "SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()")
	if rs[0][0] != "ANALYTICS" || rs[0][1] != "PUBLIC" {
		t.Errorf("after CREATE DATABASE: %v", rs[0])
	}
	cols, rs := rows(t, c, "SHOW DATABASES LIKE 'ANALYT%'")
	want := "created_on,name,is_default,is_current,origin,owner,comment,options,retention_time,kind,budget,owner_role_type"
	if strings.Join(cols, ",") != want {
		t.Errorf("SHOW DATABASES columns = %v", cols)
	}
	if len(rs) != 1 || rs[0][column(t, cols, "name")] != "ANALYTICS" || rs[0][column(t, cols, "owner")] != "SYSADMIN" ||
		rs[0][column(t, cols, "comment")] != "numbers" || rs[0][column(t, cols, "is_current")] != "Y" {
		t.Errorf("SHOW DATABASES row = %v", rs)
	}

	mustExec(t, c, "CREATE SCHEMA raw", `CREATE SCHEMA "Mixed"`)
	cols, rs = rows(t, c, "SHOW SCHEMAS IN DATABASE analytics")
	var names []string
	for _, r := range rs {
		names = append(names, r[column(t, cols, "name")])
	}
	if strings.Join(names, ",") != "Mixed,PUBLIC,RAW" {
		t.Errorf("schemas = %v", names)
	}

	// Re-creating fails with 002002; IF NOT EXISTS succeeds with Snowflake's text.
	_, err := c.ExecContext(context.Background(), "CREATE SCHEMA raw")
	se := sfErr(t, err, 2002)
	if se.Message != "SQL compilation error:\nObject 'RAW' already exists." {
		t.Errorf("message = %q", se.Message)
	}
	if got := one(t, c, "CREATE SCHEMA IF NOT EXISTS raw"); got != "RAW already exists, statement succeeded." {
		t.Errorf("IF NOT EXISTS status = %q", got)
	}
	if got := one(t, c, "DROP SCHEMA raw"); got != "RAW successfully dropped." {
		t.Errorf("drop status = %q", got)
	}
	if got := one(t, c, "DROP SCHEMA IF EXISTS raw"); got != "Drop statement executed successfully (RAW already dropped)." {
		t.Errorf("drop if exists status = %q", got)
	}

	if got := one(t, c, "CREATE WAREHOUSE etl_wh WAREHOUSE_SIZE = 'SMALL' INITIALLY_SUSPENDED = TRUE"); got != "Warehouse ETL_WH successfully created." {
		t.Errorf("create warehouse status = %q", got)
	}
	cols, rs = rows(t, c, "SHOW WAREHOUSES")
	if len(rs) != 1 || rs[0][column(t, cols, "name")] != "ETL_WH" || rs[0][column(t, cols, "size")] != "Small" ||
		rs[0][column(t, cols, "state")] != "SUSPENDED" {
		t.Errorf("SHOW WAREHOUSES = %v", rs)
	}
	mustExec(t, c, "ALTER WAREHOUSE etl_wh RESUME", "ALTER WAREHOUSE etl_wh SET WAREHOUSE_SIZE = MEDIUM")
	cols, rs = rows(t, c, "SHOW WAREHOUSES LIKE 'etl%'")
	if rs[0][column(t, cols, "state")] != "STARTED" || rs[0][column(t, cols, "size")] != "Medium" {
		t.Errorf("after ALTER: %v", rs[0])
	}
	_, err = c.ExecContext(context.Background(), "CREATE WAREHOUSE bad WAREHOUSE_SIZE = HUGE")
	sfErr(t, err, 1423)
	if _, rs := rows(t, c, "SHOW WAREHOUSES LIKE 'BAD'"); len(rs) != 0 {
		t.Error("a failed CREATE WAREHOUSE left an object behind")
	}
	mustExec(t, c, "DROP WAREHOUSE etl_wh", "DROP DATABASE analytics")
	if _, rs := rows(t, c, "SHOW DATABASES LIKE 'ANALYTICS'"); len(rs) != 0 {
		t.Errorf("database still listed after drop: %v", rs)
	}
}

func TestPrivilegesOnDDL(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN", "CREATE DATABASE owned_by_sysadmin", "USE ROLE PUBLIC")
	_, err := c.ExecContext(context.Background(), "CREATE DATABASE nope")
	se := sfErr(t, err, 3001)
	if se.Message != "SQL access control error:\nInsufficient privileges to operate on account 'FIRN'." {
		t.Errorf("message = %q", se.Message)
	}
	_, err = c.ExecContext(context.Background(), "DROP DATABASE owned_by_sysadmin")
	sfErr(t, err, 3001)
	// PUBLIC does not see SYSADMIN's database.
	if _, rs := rows(t, c, "SHOW DATABASES"); len(rs) != 0 {
		t.Errorf("PUBLIC sees %v", rs)
	}
	// ACCOUNTADMIN inherits SYSADMIN's ownership.
	mustExec(t, c, "USE ROLE ACCOUNTADMIN", "DROP DATABASE owned_by_sysadmin")
}

func TestMultiStatement(t *testing.T) {
	e := start(t)
	db := e.admin()
	_, err := db.Exec("SELECT 1; SELECT 2")
	se := sfErr(t, err, 8)
	if se.Message != "Actual statement count 2 did not match the desired statement count 1." {
		t.Errorf("message = %q", se.Message)
	}
}

func TestUseNeedsUsage(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN", "CREATE DATABASE private_db", "CREATE SCHEMA private_db.s1",
		"USE ROLE PUBLIC")
	for _, stmt := range []string{"USE DATABASE private_db", "USE SCHEMA private_db.s1"} {
		_, err := c.ExecContext(context.Background(), stmt)
		sfErr(t, err, 2043)
	}
	mustExec(t, c, "USE ROLE SYSADMIN", "GRANT USAGE ON DATABASE private_db TO ROLE PUBLIC", "USE ROLE PUBLIC",
		"USE DATABASE private_db")
	// USAGE on the database alone does not open its schemas.
	_, err := c.ExecContext(context.Background(), "USE SCHEMA private_db.s1")
	sfErr(t, err, 2043)
	mustExec(t, c, "USE ROLE SYSADMIN", "GRANT USAGE ON SCHEMA private_db.s1 TO ROLE PUBLIC", "USE ROLE PUBLIC",
		"USE SCHEMA private_db.s1")
	if got := one(t, c, "SELECT CURRENT_SCHEMA()"); got != "S1" {
		t.Errorf("CURRENT_SCHEMA() = %q", got)
	}
}

// TestGrantsFollowRenameAndDieWithDrop checks that RENAME TO keeps an object's grants
// and that a new object taking an old name (after a rename or a drop) gets none of the
// old grants — neither from the store nor from a cached privilege snapshot.
func TestGrantsFollowRenameAndDieWithDrop(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN",
		"CREATE DATABASE d1", "CREATE WAREHOUSE w1",
		"GRANT USAGE ON DATABASE d1 TO ROLE PUBLIC", "GRANT USAGE ON WAREHOUSE w1 TO ROLE PUBLIC",
		"USE ROLE PUBLIC", "USE DATABASE d1", "USE WAREHOUSE w1", // warms the snapshot cache
		"USE ROLE SYSADMIN",
		"ALTER DATABASE d1 RENAME TO d2", "ALTER WAREHOUSE w1 RENAME TO w2",
		"CREATE DATABASE d1", "CREATE WAREHOUSE w1",
		"USE ROLE PUBLIC")
	// The renamed objects kept their grants.
	mustExec(t, c, "USE DATABASE d2", "USE WAREHOUSE w2")
	// The new objects with the old names have none.
	for _, stmt := range []string{"USE DATABASE d1", "USE WAREHOUSE w1"} {
		_, err := c.ExecContext(context.Background(), stmt)
		sfErr(t, err, 2043)
	}
	// Drop and re-create: the grant does not come back.
	mustExec(t, c, "USE ROLE SYSADMIN", "DROP DATABASE d2", "CREATE DATABASE d2", "USE ROLE PUBLIC")
	_, err := c.ExecContext(context.Background(), "USE DATABASE d2")
	sfErr(t, err, 2043)
}

func TestAlterDatabaseAndSchemaProperties(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "CREATE DATABASE props_db", "CREATE SCHEMA props_db.s",
		"ALTER DATABASE props_db SET COMMENT = 'hello' DATA_RETENTION_TIME_IN_DAYS = 7",
		"ALTER SCHEMA props_db.s SET COMMENT = 'inner'")
	cols, rs := rows(t, c, "SHOW DATABASES LIKE 'PROPS_DB'")
	if rs[0][column(t, cols, "comment")] != "hello" || rs[0][column(t, cols, "retention_time")] != "7" {
		t.Errorf("after SET: %v", rs[0])
	}
	mustExec(t, c, "ALTER DATABASE props_db UNSET COMMENT, DATA_RETENTION_TIME_IN_DAYS")
	cols, rs = rows(t, c, "SHOW DATABASES LIKE 'PROPS_DB'")
	if rs[0][column(t, cols, "comment")] != "" || rs[0][column(t, cols, "retention_time")] != "1" {
		t.Errorf("after UNSET: %v", rs[0])
	}
	cols, rs = rows(t, c, "SHOW SCHEMAS LIKE 'S' IN DATABASE props_db")
	if len(rs) != 1 || rs[0][column(t, cols, "comment")] != "inner" {
		t.Errorf("schema comment: %v", rs)
	}
	for _, stmt := range []string{"ALTER DATABASE props_db SET NO_SUCH = 1", "ALTER SCHEMA props_db.s UNSET NO_SUCH"} {
		_, err := c.ExecContext(context.Background(), stmt)
		sfErr(t, err, 1423)
	}
}
