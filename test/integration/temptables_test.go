package integration

import (
	"context"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

const tempPassword = "Temp-Test-Pw-1"

// tempTables returns the names of every session's temporary tables in account FIRN,
// read from the store (no session can list another's).
func (e *env) tempTables(t *testing.T) []string {
	t.Helper()
	var out []string
	err := e.srv.Store().View(context.Background(), func(tx store.Tx) error {
		ts, err := catalog.ListTempTables(context.Background(), tx, "FIRN", 0, "", "")
		for _, x := range ts {
			out = append(out, x.Schema+"."+x.Name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sweep runs the server's sweep (what Serve does once a minute) and returns how many
// temporary tables it dropped.
func (e *env) sweep(t *testing.T) (sessions, temps int) {
	t.Helper()
	sessions, temps, err := e.srv.Sweep(context.Background())
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	return sessions, temps
}

// TestTempTables drives session-scoped temporary tables through gosnowflake: two
// sessions of one user, hiding a permanent table, SHOW TABLES' kind, privileges, and
// the drop when a session is closed, its user dropped or its idle timeout passes.
func TestTempTables(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	db := e.admin()
	admin := conn(t, db)
	mustExec(t, admin, "CREATE DATABASE D", "CREATE SCHEMA D.S", "USE SCHEMA D.S",
		"CREATE TABLE T (A INT)", "INSERT INTO T VALUES (1)")
	// Two more sessions of the same user.
	c1, c2 := conn(t, db), conn(t, db)
	mustExec(t, c1, "USE SCHEMA D.S")
	mustExec(t, c2, "USE SCHEMA D.S")
	if one(t, c1, "SELECT CURRENT_SESSION()") == one(t, c2, "SELECT CURRENT_SESSION()") {
		t.Fatal("c1 and c2 share a session")
	}

	t.Run("invisible to another session of the same user", func(t *testing.T) {
		mustExec(t, c1, "CREATE TEMPORARY TABLE TMP (X INT)", "INSERT INTO TMP VALUES (7)")
		if got := one(t, c1, "SELECT X FROM TMP"); got != "7" {
			t.Fatalf("own session reads %s", got)
		}
		for _, q := range []string{"SELECT * FROM TMP", "SELECT * FROM D.S.TMP", "INSERT INTO TMP VALUES (1)",
			"DESC TABLE TMP", "DROP TABLE TMP", "ALTER TABLE TMP ADD COLUMN Y INT", "TRUNCATE TABLE TMP"} {
			_, err := c2.ExecContext(ctx, q)
			sfErr(t, err, 2003)
		}
		if _, rs := rows(t, c2, "SHOW TABLES LIKE 'TMP'"); len(rs) != 0 {
			t.Errorf("SHOW TABLES in the other session: %v", rs)
		}
		if n := one(t, c2, "SELECT COUNT(*) FROM D.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'TMP'"); n != "0" {
			t.Errorf("INFORMATION_SCHEMA.TABLES in the other session: %s rows", n)
		}
		if n := one(t, c1, "SELECT COUNT(*) FROM D.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'TMP' AND IS_TEMPORARY = 'YES'"); n != "1" {
			t.Errorf("INFORMATION_SCHEMA.TABLES in the own session: %s rows", n)
		}
		// The other session has its own name space.
		mustExec(t, c2, "CREATE TEMP TABLE TMP (Z STRING)", "DROP TABLE TMP")
		if got := one(t, c1, "SELECT X FROM TMP"); got != "7" {
			t.Fatalf("own table after the other session's drop: %s", got)
		}
	})

	t.Run("show tables kind", func(t *testing.T) {
		cols, rs := rows(t, c1, "SHOW TABLES LIKE 'TMP' IN SCHEMA D.S")
		if len(cols) != 21 || len(rs) != 1 || rs[0][column(t, cols, "kind")] != "TEMPORARY" || rs[0][column(t, cols, "owner")] != "ACCOUNTADMIN" {
			t.Fatalf("SHOW TABLES: %v %v", cols, rs)
		}
		_, rs = rows(t, c1, "SHOW TABLES LIKE 'T' IN SCHEMA D.S")
		if len(rs) != 1 || rs[0][column(t, cols, "kind")] != "TABLE" {
			t.Fatalf("SHOW TABLES of the permanent table: %v", rs)
		}
	})

	t.Run("same name hides the permanent table until dropped", func(t *testing.T) {
		mustExec(t, c1, "CREATE TEMP TABLE T (B STRING)", "INSERT INTO T VALUES ('temp')")
		for _, q := range []string{"SELECT * FROM T", "SELECT * FROM D.S.T", "SELECT * FROM S.T"} {
			if got := one(t, c1, q); got != "temp" {
				t.Errorf("%s in its session: %s", q, got)
			}
		}
		if got := one(t, c2, "SELECT * FROM T"); got != "1" {
			t.Errorf("other session reads %s", got)
		}
		cols, rs := rows(t, c1, "SHOW TABLES LIKE 'T' IN SCHEMA D.S")
		if k := column(t, cols, "kind"); len(rs) != 2 || rs[0][k] != "TEMPORARY" || rs[1][k] != "TABLE" {
			t.Errorf("SHOW TABLES with a hidden table: %v", rs)
		}
		_, desc := rows(t, c1, "DESC TABLE T")
		if len(desc) != 1 || desc[0][0] != "B" {
			t.Errorf("DESC TABLE in its session: %v", desc)
		}
		mustExec(t, c1, "UPDATE T SET B = 'upd'", "ALTER TABLE T ADD COLUMN C INT")
		if got := one(t, c1, "SELECT B FROM T"); got != "upd" {
			t.Errorf("after UPDATE: %s", got)
		}
		if got := one(t, c2, "SELECT * FROM T"); got != "1" {
			t.Errorf("permanent table after the temporary one's UPDATE: %s", got)
		}
		mustExec(t, c1, "DROP TABLE T")
		if got := one(t, c1, "SELECT * FROM T"); got != "1" {
			t.Errorf("after dropping the temporary table: %s", got)
		}
		// A view may not read a temporary table (it would outlive it, in every session).
		_, err := c1.ExecContext(ctx, "CREATE VIEW V AS SELECT * FROM TMP")
		sfErr(t, err, 2)
	})

	t.Run("dropped when its session closes", func(t *testing.T) {
		own := e.admin()
		c := conn(t, own)
		mustExec(t, c, "USE SCHEMA D.S", "CREATE TEMP TABLE CLOSED (X INT)", "INSERT INTO CLOSED VALUES (1)")
		if got := e.tempTables(t); len(got) != 2 { // TMP and CLOSED
			t.Fatalf("temporary tables before close: %v", got)
		}
		c.Close()
		if err := own.Close(); err != nil { // the driver closes the session
			t.Fatal(err)
		}
		// Closing drops them at once: nothing is left for the sweep.
		if got := e.tempTables(t); len(got) != 1 || got[0] != "S.TMP" {
			t.Fatalf("temporary tables after close: %v", got)
		}
		if _, temps := e.sweep(t); temps != 0 {
			t.Fatalf("sweep dropped %d temporary tables after the close; want 0", temps)
		}
		if got := one(t, c1, "SELECT X FROM TMP"); got != "7" {
			t.Fatalf("a live session's table after the sweep: %s", got)
		}
	})

	t.Run("privileges and DROP USER", func(t *testing.T) {
		mustExec(t, admin, "CREATE ROLE TR", "GRANT USAGE ON DATABASE D TO ROLE TR", "GRANT USAGE ON SCHEMA D.S TO ROLE TR",
			"CREATE USER TU PASSWORD = '"+tempPassword+"' DEFAULT_ROLE = TR", "GRANT ROLE TR TO USER TU")
		u := conn(t, e.open("FIRN", "TU", tempPassword))
		mustExec(t, u, "USE SCHEMA D.S")
		_, err := u.ExecContext(ctx, "CREATE TEMP TABLE UT (X INT)")
		sfErr(t, err, 3001) // CREATE TABLE on the schema is needed, as for any table
		mustExec(t, admin, "GRANT CREATE TABLE ON SCHEMA D.S TO ROLE TR")
		mustExec(t, u, "CREATE TEMP TABLE UT (X INT)", "INSERT INTO UT VALUES (3)")
		if got := one(t, u, "SELECT X FROM UT"); got != "3" {
			t.Fatalf("owner reads %s", got)
		}
		// Only the owner role's hierarchy may use it, even in its own session: grants on
		// the permanent table of the same name do not extend to it.
		mustExec(t, admin, "CREATE TABLE D.S.UT (X INT)", "CREATE ROLE TR2", "GRANT USAGE ON DATABASE D TO ROLE TR2",
			"GRANT USAGE ON SCHEMA D.S TO ROLE TR2", "GRANT SELECT ON TABLE D.S.UT TO ROLE TR2", "GRANT ROLE TR2 TO USER TU")
		mustExec(t, u, "USE ROLE TR2", "USE SECONDARY ROLES NONE")
		_, err = u.ExecContext(ctx, "SELECT X FROM D.S.UT")
		sfErr(t, err, 2003)
		if _, rs := rows(t, u, "SHOW TABLES LIKE 'UT' IN SCHEMA D.S"); len(rs) != 1 {
			t.Errorf("SHOW TABLES as a role that does not own the temporary table: %v", rs)
		}
		mustExec(t, u, "USE ROLE TR")
		mustExec(t, admin, "DROP USER TU")
		if _, temps := e.sweep(t); temps != 1 {
			t.Fatalf("sweep after DROP USER dropped %d temporary tables; want 1", temps)
		}
	})

	t.Run("dropped when its session idles out", func(t *testing.T) {
		if got := e.tempTables(t); len(got) != 1 {
			t.Fatalf("temporary tables: %v", got)
		}
		e.clock.Advance(5 * time.Hour) // past SESSION_IDLE_TIMEOUT_MINS (240) for every session
		sessions, temps := e.sweep(t)
		if sessions == 0 || temps != 1 {
			t.Fatalf("sweep after idle timeout: %d sessions, %d temporary tables", sessions, temps)
		}
		if got := e.tempTables(t); len(got) != 0 {
			t.Fatalf("temporary tables after the idle sweep: %v", got)
		}
	})
}
