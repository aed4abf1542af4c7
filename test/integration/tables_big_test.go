package integration

import (
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBigTable measures a 1,000,000-row table through gosnowflake against a `firn
// serve` process: SELECT count(*) and fetching 100,000 rows, with the server's peak
// RSS (VmHWM). It is a measurement, not a CI test: set FIRN_BIG_TABLE=1 to run it.
func TestBigTable(t *testing.T) {
	if os.Getenv("FIRN_BIG_TABLE") == "" {
		t.Skip("set FIRN_BIG_TABLE=1 to measure")
	}
	p := startProc(t, t.TempDir())
	db, err := sql.Open("snowflake", p.dsn("FIRN", "ADMIN", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := conn(t, db)
	mustExec(t, c, "CREATE DATABASE BIG", "USE SCHEMA BIG.PUBLIC",
		"CREATE TABLE T (ID NUMBER(38,0), NAME VARCHAR(32), AMOUNT NUMBER(12,2), TS TIMESTAMP_NTZ)")
	start := time.Now()
	mustExec(t, c, "INSERT INTO T SELECT range, 'name-' || range, range / 100, TIMESTAMP '2024-01-01' + to_seconds(range) FROM range(1000000)")
	t.Logf("insert 1,000,000 rows: %v (server VmHWM %s)", time.Since(start), vmHWM(t, p.cmd.Process.Pid))
	for i := 0; i < 3; i++ {
		start = time.Now()
		if got := one(t, c, "SELECT count(*) FROM T"); got != "1000000" {
			t.Fatalf("count %s", got)
		}
		t.Logf("count(*): %v", time.Since(start))
	}
	for i := 0; i < 3; i++ {
		start = time.Now()
		rs, err := c.QueryContext(t.Context(), "SELECT ID, NAME, AMOUNT, TS FROM T WHERE ID < 100000")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rs.Next() {
			var id, name, amount, ts sql.NullString
			if err := rs.Scan(&id, &name, &amount, &ts); err != nil {
				t.Fatal(err)
			}
			n++
		}
		rs.Close()
		if n != 100000 {
			t.Fatalf("fetched %d rows", n)
		}
		t.Logf("fetch 100,000 rows: %v (server VmHWM %s)", time.Since(start), vmHWM(t, p.cmd.Process.Pid))
	}
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(t testing.TB, pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
