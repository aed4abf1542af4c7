package integration

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/firn/firn/internal/server"
)

// TestTables drives tables and views through gosnowflake: DDL and DML round trips
// with rowtypes, name resolution, privileges and grants, atomicity and the lockdown.
func TestTables(t *testing.T) {
	e := start(t)
	db := e.admin()
	c := conn(t, db)
	ctx := context.Background()
	mustExec(t, c, "CREATE DATABASE D1", "USE SCHEMA D1.PUBLIC")

	t.Run("ddl and dml round trip", func(t *testing.T) {
		mustExec(t, c,
			`CREATE TABLE T1 (ID NUMBER(10,0) NOT NULL PRIMARY KEY, NAME VARCHAR(20), AMOUNT NUMBER(10,2), F FLOAT,
			   OK BOOLEAN, D DATE, TS TIMESTAMP_NTZ, V VARIANT, B BINARY, DFLT STRING DEFAULT 'x')`,
			`INSERT INTO T1 (ID, NAME, AMOUNT, F, OK, D, TS, V, B) VALUES
			   (1, 'one', 1.5, 0.5, TRUE, '2024-01-02', '2024-01-02 03:04:05', PARSE_JSON('{"a":1}'), TO_BINARY('ABCD')),
			   (2, 'two', 2.25, NULL, FALSE, NULL, NULL, NULL, NULL)`,
		)
		rs, err := c.QueryContext(ctx, "SELECT ID, NAME, AMOUNT, F, OK, D, TS, V, B, DFLT FROM t1 ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		types, err := rs.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ct := range types {
			s := ct.DatabaseTypeName()
			if p, sc, ok := ct.DecimalSize(); ok && s == "FIXED" {
				s += "(" + itoa(p) + "," + itoa(sc) + ")"
			}
			if l, ok := ct.Length(); ok && s == "TEXT" {
				s += "(" + itoa(l) + ")"
			}
			got = append(got, s)
		}
		rs.Close()
		want := []string{"FIXED(10,0)", "TEXT(20)", "FIXED(10,2)", "REAL", "BOOLEAN", "DATE", "TIMESTAMP_NTZ", "VARIANT", "BINARY", "TEXT(16777216)"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rowtypes %v; want %v", got, want)
		}
		_, r := rows(t, c, "SELECT ID, NAME, AMOUNT, OK, DFLT FROM T1 ORDER BY ID")
		if want := [][]string{{"1", "one", "1.50", "1", "x"}, {"2", "two", "2.25", "0", "x"}}; !reflect.DeepEqual(r, want) {
			t.Errorf("rows %v; want %v", r, want)
		}
		if n := one(t, c, `SELECT V:a::INT FROM T1 WHERE ID = 1`); n != "1" {
			t.Logf("variant path: %s", n)
		}
		res, err := c.ExecContext(ctx, "UPDATE T1 SET NAME = 'uno' WHERE ID = 1")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("UPDATE affected %d", n)
		}
		mustExec(t, c, "CREATE TABLE T2 AS SELECT ID, NAME || '!' AS LOUD FROM T1",
			"CREATE OR REPLACE VIEW V1 AS SELECT t1.ID, t2.LOUD FROM T1 JOIN T2 ON t1.id = t2.id",
			"MERGE INTO T2 USING (SELECT 3 AS ID, 'three' AS N) S ON T2.ID = S.ID WHEN MATCHED THEN UPDATE SET LOUD = S.N WHEN NOT MATCHED THEN INSERT (ID, LOUD) VALUES (S.ID, S.N)")
		if got := one(t, c, "SELECT count(*) FROM D1.PUBLIC.T2"); got != "3" {
			t.Errorf("T2 count %s", got)
		}
		if got := one(t, c, "WITH x AS (SELECT * FROM v1) SELECT max(LOUD) FROM x"); got != "uno!" {
			t.Errorf("view via CTE: %s", got)
		}
		if got := one(t, c, "SELECT sum(id) OVER () FROM t1 QUALIFY row_number() OVER (ORDER BY id) = 1"); got != "3" {
			t.Errorf("window: %s", got)
		}
		res, err = c.ExecContext(ctx, "DELETE FROM T2 WHERE ID = 3")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("DELETE affected %d", n)
		}
		mustExec(t, c, "ALTER TABLE T2 ADD COLUMN EXTRA NUMBER(5,1)", "ALTER TABLE T2 RENAME COLUMN LOUD TO SHOUT",
			"ALTER TABLE T2 DROP COLUMN EXTRA", "ALTER TABLE T2 RENAME TO T3")
		if got := one(t, c, "SELECT max(SHOUT) FROM T3"); got != "uno!" {
			t.Errorf("after renames: %s", got)
		}
		_, err = c.ExecContext(ctx, "SELECT * FROM T2")
		se := sfErr(t, err, 2003)
		if !strings.Contains(se.Message, "Object 'D1.PUBLIC.T2' does not exist or not authorized.") {
			t.Errorf("message %q", se.Message)
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO T3 (ID, SHOUT) VALUES (?, ?)", 9, "bound"); err != nil {
			t.Fatal(err)
		}
		if got := one(t, c, "SELECT SHOUT FROM T3 WHERE ID = ?", 9); got != "bound" {
			t.Errorf("bound insert/select: %s", got)
		}
		mustExec(t, c, "CREATE TABLE T4 LIKE T1", "TRUNCATE TABLE T3")
		if got := one(t, c, "SELECT count(*) FROM T3"); got != "0" {
			t.Errorf("after truncate: %s", got)
		}
		cols, r := rows(t, c, "DESC TABLE T1")
		if r[0][column(t, cols, "type")] != "NUMBER(10,0)" || r[1][column(t, cols, "type")] != "VARCHAR(20)" || r[0][column(t, cols, "null?")] != "N" {
			t.Errorf("DESC TABLE: %v %v", cols, r[:2])
		}
		cols, r = rows(t, c, "SHOW TABLES")
		var names []string
		for _, row := range r {
			names = append(names, row[column(t, cols, "name")])
		}
		if !reflect.DeepEqual(names, []string{"T1", "T3", "T4"}) {
			t.Errorf("SHOW TABLES names %v", names)
		}
		for _, row := range r {
			if row[column(t, cols, "name")] == "T1" && row[column(t, cols, "rows")] != "2" {
				t.Errorf("SHOW TABLES rows of T1: %v", row)
			}
		}
		_, r = rows(t, c, "SHOW VIEWS")
		if len(r) != 1 {
			t.Errorf("SHOW VIEWS %v", r)
		}
		cols, r = rows(t, c, "SHOW COLUMNS IN TABLE T1")
		if len(r) != 10 || r[1][column(t, cols, "column_name")] != "NAME" ||
			!strings.Contains(r[1][column(t, cols, "data_type")], `"length":20`) {
			t.Errorf("SHOW COLUMNS: %v", r)
		}
		cols, r = rows(t, c, "DESC VIEW V1")
		if len(r) != 2 || r[1][column(t, cols, "name")] != "LOUD" {
			t.Errorf("DESC VIEW: %v", r)
		}
		mustExec(t, c, "ALTER VIEW V1 SET SECURE", "ALTER VIEW V1 RENAME TO V2", "ALTER VIEW V2 RENAME TO V1")
		_, r = rows(t, c, "SHOW VIEWS LIKE 'V1'")
		if len(r) != 1 {
			t.Errorf("SHOW VIEWS after rename: %v", r)
		}
		_, r = rows(t, c, "SELECT TABLE_NAME, TABLE_TYPE FROM D1.INFORMATION_SCHEMA.TABLES ORDER BY 1")
		if want := [][]string{{"T1", "BASE TABLE"}, {"T3", "BASE TABLE"}, {"T4", "BASE TABLE"}, {"V1", "VIEW"}}; !reflect.DeepEqual(r, want) {
			t.Errorf("INFORMATION_SCHEMA.TABLES %v", r)
		}
		if got := one(t, c, "SELECT DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'T1' AND COLUMN_NAME = 'NAME'"); got != "TEXT" {
			t.Errorf("COLUMNS data type %s", got)
		}
		_, err = c.ExecContext(ctx, "CREATE VIEW IS_V AS SELECT * FROM INFORMATION_SCHEMA.TABLES")
		sfErr(t, err, 2)
		mustExec(t, c, "DROP VIEW V1", "DROP TABLE T4", "DROP TABLE IF EXISTS NOPE")
	})

	t.Run("missing and unauthorised", func(t *testing.T) {
		mustExec(t, c, "CREATE ROLE R1", "GRANT ROLE R1 TO USER ADMIN", "CREATE TABLE SECRET_T (X INT)",
			"INSERT INTO SECRET_T VALUES (42)")
		r1 := conn(t, e.admin("role", "R1"))
		for _, q := range []string{"SELECT * FROM D1.PUBLIC.SECRET_T", "SELECT * FROM D1.PUBLIC.NOPE"} {
			_, err := r1.ExecContext(ctx, q)
			sfErr(t, err, 2003)
		}
		mustExec(t, c, "GRANT USAGE ON DATABASE D1 TO ROLE R1", "GRANT USAGE ON SCHEMA D1.PUBLIC TO ROLE R1")
		_, err := r1.ExecContext(ctx, "SELECT * FROM D1.PUBLIC.SECRET_T")
		sfErr(t, err, 2003)
		mustExec(t, c, "GRANT SELECT ON TABLE D1.PUBLIC.SECRET_T TO ROLE R1")
		if got := one(t, r1, "SELECT X FROM D1.PUBLIC.SECRET_T"); got != "42" {
			t.Errorf("after grant: %s", got)
		}
		_, err = r1.ExecContext(ctx, "INSERT INTO D1.PUBLIC.SECRET_T VALUES (1)")
		sfErr(t, err, 2003)
		_, err = r1.ExecContext(ctx, "DROP TABLE D1.PUBLIC.SECRET_T")
		sfErr(t, err, 3001)
		_, err = r1.ExecContext(ctx, "CREATE TABLE D1.PUBLIC.MINE (X INT)")
		sfErr(t, err, 3001)
		// Future grants apply to tables created later; ALL applies to existing ones.
		mustExec(t, c, "GRANT SELECT ON FUTURE TABLES IN SCHEMA D1.PUBLIC TO ROLE R1", "CREATE TABLE LATER (Y INT)",
			"INSERT INTO LATER VALUES (7)")
		if got := one(t, r1, "SELECT Y FROM D1.PUBLIC.LATER"); got != "7" {
			t.Errorf("future grant: %s", got)
		}
		mustExec(t, c, "GRANT INSERT ON ALL TABLES IN SCHEMA D1.PUBLIC TO ROLE R1")
		mustExec(t, r1, "INSERT INTO D1.PUBLIC.SECRET_T VALUES (1)")
		cols, r := rows(t, c, "SHOW GRANTS ON TABLE D1.PUBLIC.SECRET_T")
		var privs []string
		for _, row := range r {
			privs = append(privs, row[column(t, cols, "privilege")])
		}
		if !strings.Contains(strings.Join(privs, ","), "SELECT") {
			t.Errorf("SHOW GRANTS ON TABLE: %v", privs)
		}
		// Views run with the owner's rights: SELECT on the view is enough.
		mustExec(t, c, "CREATE VIEW OWNERS_VIEW AS SELECT X FROM SECRET_T", "REVOKE SELECT ON TABLE D1.PUBLIC.SECRET_T FROM ROLE R1")
		_, err = r1.ExecContext(ctx, "SELECT * FROM D1.PUBLIC.OWNERS_VIEW")
		sfErr(t, err, 2003)
		mustExec(t, c, "GRANT SELECT ON VIEW D1.PUBLIC.OWNERS_VIEW TO ROLE R1")
		if got := one(t, r1, "SELECT count(*) FROM D1.PUBLIC.OWNERS_VIEW"); got != "2" {
			t.Errorf("view count %s", got)
		}
		// ... but the owner's rights are checked when the view runs: once its owner
		// role lacks SELECT on the source, nobody can read through the view.
		mustExec(t, c, "CREATE ROLE VOWN", "GRANT OWNERSHIP ON VIEW D1.PUBLIC.OWNERS_VIEW TO ROLE VOWN COPY CURRENT GRANTS")
		_, err = r1.ExecContext(ctx, "SELECT * FROM D1.PUBLIC.OWNERS_VIEW")
		if se := sfErr(t, err, 2003); se != nil && !strings.Contains(se.Message, "Failure during expansion of view 'OWNERS_VIEW'") {
			t.Errorf("view whose owner lost SELECT: %v", se.Message)
		}
		mustExec(t, c, "GRANT USAGE ON DATABASE D1 TO ROLE VOWN", "GRANT USAGE ON SCHEMA D1.PUBLIC TO ROLE VOWN",
			"GRANT SELECT ON TABLE D1.PUBLIC.SECRET_T TO ROLE VOWN")
		if got := one(t, r1, "SELECT count(*) FROM D1.PUBLIC.OWNERS_VIEW"); got != "2" {
			t.Errorf("view count after granting its owner SELECT: %s", got)
		}
		mustExec(t, c, "GRANT SELECT ON FUTURE VIEWS IN SCHEMA D1.PUBLIC TO ROLE R1", "CREATE VIEW LATER_V AS SELECT 1 AS ONE")
		if got := one(t, r1, "SELECT ONE FROM D1.PUBLIC.LATER_V"); got != "1" {
			t.Errorf("future view grant: %s", got)
		}
		// R1 does not see tables it has no privilege on.
		_, r = rows(t, r1, "SELECT TABLE_NAME FROM D1.INFORMATION_SCHEMA.TABLES ORDER BY 1")
		if want := [][]string{{"LATER"}, {"LATER_V"}, {"OWNERS_VIEW"}, {"SECRET_T"}, {"T1"}, {"T3"}}; !reflect.DeepEqual(r, want) {
			t.Errorf("R1 sees %v; want %v", r, want)
		}
	})

	t.Run("atomicity", func(t *testing.T) {
		// A failing CTAS leaves neither a catalog record nor a DuckDB table.
		_, err := c.ExecContext(ctx, "CREATE TABLE BAD AS SELECT 'abc'::INT AS X")
		if err == nil {
			t.Fatal("CTAS of 1/0 succeeded")
		}
		_, err = c.ExecContext(ctx, "SELECT * FROM BAD")
		sfErr(t, err, 2003)
		mustExec(t, c, "CREATE TABLE BAD (X INT NOT NULL)")
		_, err = c.ExecContext(ctx, "INSERT INTO BAD VALUES (1), (NULL)")
		if err == nil {
			t.Fatal("NULL into NOT NULL succeeded")
		}
		if got := one(t, c, "SELECT count(*) FROM BAD"); got != "0" {
			t.Errorf("failed INSERT left %s rows", got)
		}
		_, err = c.ExecContext(ctx, "CREATE TABLE BAD (Y INT)")
		sfErr(t, err, 2002)
		mustExec(t, c, "CREATE TABLE IF NOT EXISTS BAD (Y INT)")
	})

	t.Run("lockdown", func(t *testing.T) {
		for _, q := range []string{
			"SELECT * FROM read_csv('/etc/passwd')",
			"SELECT * FROM duckdb_tables()",
			"SELECT * FROM duckdb_tables",
			"SELECT * FROM information_schema.tables, main.x",
			"SELECT * FROM glob('*')",
			"ATTACH 'x.db'",
			"COPY T1 TO '/tmp/x.csv'",
			"INSTALL httpfs",
			"PRAGMA database_list",
			"SET threads = 1",
			"CREATE MACRO m(x) AS x",
			"CREATE SECRET s (TYPE s3)",
			"CREATE TEMP FUNCTION f() AS 1",
			"SELECT * FROM (WITH duckdb_tables AS (SELECT 1) SELECT 1) a, duckdb_tables",
			"INSERT INTO T1 (ID) SELECT 1 FROM read_parquet('x')",
			"UPDATE T1 SET NAME = (SELECT max(table_name) FROM duckdb_tables)",
			"DELETE FROM T1 USING duckdb_columns() c",
			"EXPORT DATABASE '/tmp/x'",
			"LOAD httpfs",
			"SELECT * FROM (SHOW ALL TABLES)",
			"SELECT * FROM (DESCRIBE T1)",
		} {
			_, err := c.ExecContext(ctx, q)
			if err == nil {
				t.Errorf("%s: accepted", q)
				continue
			}
			if strings.Contains(err.Error(), "s1") || strings.Contains(err.Error(), "t_") {
				t.Errorf("%s: error leaks internal names: %v", q, err)
			}
		}
		// The CTE in scope is not a table.
		if got := one(t, c, "WITH duckdb_tables AS (SELECT 5 AS N) SELECT N FROM duckdb_tables"); got != "5" {
			t.Errorf("CTE: %s", got)
		}
	})

	t.Run("concurrent creates in a new schema", func(t *testing.T) {
		mustExec(t, c, "CREATE SCHEMA D1.CONC")
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func(i int) {
				_, err := db.ExecContext(ctx, "CREATE TABLE D1.CONC.T"+itoa(int64(i))+" (A INT)")
				errs <- err
			}(i)
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		mustExec(t, c, "CREATE OR REPLACE SCHEMA D1.CONC")
		_, err := c.ExecContext(ctx, "SELECT * FROM D1.CONC.T0")
		sfErr(t, err, 2003)
		mustExec(t, c, "USE SCHEMA D1.PUBLIC")
	})

	t.Run("persistence and rename", func(t *testing.T) {
		mustExec(t, c, "CREATE SCHEMA S2", "CREATE TABLE KEEP (A STRING)", "INSERT INTO KEEP VALUES ('kept')",
			"ALTER SCHEMA S2 RENAME TO S3", "ALTER DATABASE D1 RENAME TO D2")
		if got := one(t, c, "SELECT A FROM D2.S3.KEEP"); got != "kept" {
			t.Errorf("after renames: %s", got)
		}
		mustExec(t, c, "DROP SCHEMA D2.S3")
		_, err := c.ExecContext(ctx, "SELECT A FROM D2.S3.KEEP")
		sfErr(t, err, 2003)
	})

	t.Run("column references qualified with schema and table", func(t *testing.T) {
		mustExec(t, c, "CREATE DATABASE QD", "CREATE SCHEMA QD.S", "USE SCHEMA QD.S",
			"CREATE TABLE T (X INT, Y INT, D DATE)", "INSERT INTO T VALUES (1, 2, '2024-01-31')",
			"CREATE TABLE QD.PUBLIC.U (X INT, Z STRING)", "INSERT INTO QD.PUBLIC.U VALUES (1, 'u')")
		reads := []struct {
			sql  string
			want [][]string
		}{
			{"SELECT QD.S.T.X, S.T.Y, T.X FROM QD.S.T", [][]string{{"1", "2", "1"}}},
			{"SELECT Y FROM T WHERE S.T.X = 1", [][]string{{"2"}}},
			{"SELECT S.T.Y, PUBLIC.U.Z FROM S.T JOIN PUBLIC.U ON S.T.X = QD.PUBLIC.U.X", [][]string{{"2", "u"}}},
			{"SELECT (SELECT max(PUBLIC.U.Z) FROM PUBLIC.U WHERE PUBLIC.U.X = S.T.X) FROM S.T", [][]string{{"u"}}},
		}
		for _, r := range reads {
			if _, got := rows(t, c, r.sql); !reflect.DeepEqual(got, r.want) {
				t.Errorf("%s: %v; want %v", r.sql, got, r.want)
			}
		}
		res, err := c.ExecContext(ctx, "UPDATE S.T SET Y = 3 WHERE S.T.X = 1")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Errorf("UPDATE affected %d", n)
		}
		mustExec(t, c, "CREATE VIEW QV AS SELECT S.T.Y AS Y, QD.S.T.D AS D FROM S.T")
		if got := one(t, c, "SELECT Y FROM QV"); got != "3" {
			t.Errorf("view over qualified columns: %s", got)
		}
		// DATEADD on a DATE column keeps the DATE type.
		rs, err := c.QueryContext(ctx, "SELECT DATEADD(month, 1, S.T.D), DATEADD(hour, 1, D) FROM S.T")
		if err != nil {
			t.Fatal(err)
		}
		types, err := rs.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		if types[0].DatabaseTypeName() != "DATE" || types[1].DatabaseTypeName() != "TIMESTAMP_NTZ" {
			t.Errorf("DATEADD types %s, %s", types[0].DatabaseTypeName(), types[1].DatabaseTypeName())
		}
		rs.Close()
		if got := one(t, c, "SELECT DATEADD(month, 1, D) FROM QV"); got != "2024-02-29T00:00:00Z" {
			t.Errorf("DATEADD(month) at month end: %s", got)
		}
		for _, q := range []string{
			"SELECT S.T.X FROM S.T AS A",
			"SELECT S9.T.X FROM S.T",
			"SELECT OTHER.S.T.X FROM S.T",
			"SELECT S.T.X",
			"CREATE VIEW BADV AS SELECT S9.T.X AS X FROM S.T",
		} {
			_, err := c.ExecContext(ctx, q)
			se := sfErr(t, err, 904)
			if !strings.Contains(se.Message, "invalid identifier '") || strings.Contains(se.Message, "t_") {
				t.Errorf("%s: message %q", q, se.Message)
			}
		}
		_, err = c.ExecContext(ctx, "SELECT * FROM BADV")
		sfErr(t, err, 2003)
		// A missing table answers 002003 before its columns are looked at.
		_, err = c.ExecContext(ctx, "SELECT S.NOPE.X FROM S.NOPE")
		sfErr(t, err, 2003)
	})
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// TestTablesRestart checks that tables, their rows and their grants survive a restart.
func TestTablesRestart(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *server.Config) { c.DataDir = dir }
	t.Run("write", func(t *testing.T) {
		e := start(t, withDir)
		c := conn(t, e.admin())
		mustExec(t, c, "CREATE DATABASE P", "CREATE TABLE P.PUBLIC.T (A NUMBER(10,2), B VARCHAR(5))",
			"INSERT INTO P.PUBLIC.T VALUES (1.25, 'abc')", "CREATE VIEW P.PUBLIC.V AS SELECT B FROM P.PUBLIC.T")
	})
	t.Run("read after restart", func(t *testing.T) {
		e := start(t, withDir)
		c := conn(t, e.admin())
		if got := one(t, c, "SELECT A FROM P.PUBLIC.T"); got != "1.25" {
			t.Errorf("A = %s", got)
		}
		if got := one(t, c, "SELECT B FROM P.PUBLIC.V"); got != "abc" {
			t.Errorf("B = %s", got)
		}
	})
}
