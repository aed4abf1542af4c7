package integration

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"
)

// chunkCounter counts the driver's result-chunk downloads.
type chunkCounter struct {
	next http.RoundTripper
	n    atomic.Int64
	auth atomic.Int64 // chunk requests that carried a session token
}

func (c *chunkCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/firn/chunks/") {
		c.n.Add(1)
		if r.Header.Get("Authorization") != "" {
			c.auth.Add(1)
		}
	}
	return c.next.RoundTrip(r)
}

// TestResultChunks fetches a 100,000-row result of every column type, with NULLs and
// timestamps before 1970, through gosnowflake: it must arrive in chunks, and every row
// must equal the same row fetched in a small (inline) result.
func TestResultChunks(t *testing.T) {
	e := start(t)
	cfg, err := sf.ParseDSN(e.dsn("FIRN", "ADMIN", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	counter := &chunkCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	cfg.Transporter = counter
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	defer db.Close()
	c := conn(t, db)
	const n = 100000
	mustExec(t, c, "CREATE DATABASE CHUNKS", "USE SCHEMA CHUNKS.PUBLIC",
		`CREATE TABLE T (ID NUMBER(38,0), AMOUNT NUMBER(12,2), F FLOAT, S VARCHAR(40), B BOOLEAN, D DATE,
			TM TIME, NTZ TIMESTAMP_NTZ(9), LTZ TIMESTAMP_LTZ(3), V VARIANT, BIN BINARY)`,
		fmt.Sprintf(`INSERT INTO T SELECT range,
			CASE WHEN range %% 7 = 0 THEN NULL ELSE (range - 50000) / 100 END,
			CASE WHEN range %% 11 = 0 THEN NULL ELSE range * 1.5e-3 END,
			CASE WHEN range %% 13 = 0 THEN NULL ELSE 'row "' || range || '" é' END,
			CASE WHEN range %% 5 = 0 THEN NULL ELSE range %% 2 = 0 END,
			CASE WHEN range %% 17 = 0 THEN NULL ELSE CAST(TIMESTAMP '1969-12-01 00:00:00' + to_hours(range %% 2000) AS DATE) END,
			CASE WHEN range %% 19 = 0 THEN NULL ELSE TIME '00:00:00' + to_milliseconds(range * 861) END,
			CASE WHEN range %% 23 = 0 THEN NULL ELSE TIMESTAMP '1969-12-31 23:00:00' + to_microseconds(range * 123457) END,
			CASE WHEN range %% 29 = 0 THEN NULL ELSE TIMESTAMP '1969-12-31 23:59:00' + to_milliseconds(range * 7) END,
			CASE WHEN range %% 31 = 0 THEN NULL ELSE PARSE_JSON('{"k":' || range || ',"s":"x<y>"}') END,
			CASE WHEN range %% 37 = 0 THEN NULL ELSE CAST(('b' || range) AS BINARY) END
			FROM range(%d)`, n))

	big := func(query string) [][]string {
		before := counter.n.Load()
		_, got := rows(t, c, query)
		if counter.n.Load() == before {
			t.Fatalf("%s: no chunk downloads", query)
		}
		return got
	}
	all := big("SELECT * FROM T ORDER BY ID")
	if len(all) != n {
		t.Fatalf("fetched %d rows, want %d", len(all), n)
	}
	if counter.auth.Load() != 0 {
		t.Errorf("%d chunk requests carried a session token", counter.auth.Load())
	}
	nulls := 0
	for i, r := range all {
		if r[0] != fmt.Sprint(i) {
			t.Fatalf("row %d: ID %s", i, r[0])
		}
		for _, v := range r {
			if v == "NULL" {
				nulls++
			}
		}
	}
	if nulls == 0 {
		t.Fatal("no NULLs in the result")
	}
	// Windows spread over the result, each small enough to come back inline.
	for _, lo := range []int{0, 999, 1000, 1001, 31337, 50000, 99500} {
		hi := min(lo+499, n-1)
		before := counter.n.Load()
		_, small := rows(t, c, fmt.Sprintf("SELECT * FROM T WHERE ID BETWEEN %d AND %d ORDER BY ID", lo, hi))
		if counter.n.Load() != before {
			t.Fatalf("window %d: a small result was chunked", lo)
		}
		for k, r := range small {
			if got := all[lo+k]; strings.Join(got, "|") != strings.Join(r, "|") {
				t.Fatalf("row %d from chunks\n %v\nfrom the inline rowset\n %v", lo+k, got, r)
			}
		}
	}
	// A pre-1970 value with a fraction, spelled out: row 1 has NTZ 1969-12-31 23:00:00.123457.
	if got := one(t, c, "SELECT TO_VARCHAR(NTZ) FROM T WHERE ID = 1"); !strings.HasPrefix(got, "1969-12-31 23:00:00.123457") {
		t.Errorf("NTZ of row 1 = %s", got)
	}
	if all[1][7] == "NULL" || !strings.Contains(all[1][7], "1969-12-31") || !strings.Contains(all[1][7], "23:00:00.123457") {
		t.Errorf("NTZ of row 1 through chunks = %s", all[1][7])
	}

	t.Run("result fetch", func(t *testing.T) {
		// The result read again by its query id (GET /queries/<id>/result) carries
		// the same chunks.
		ids := make(chan string, 1)
		rs, err := c.QueryContext(sf.WithQueryIDChan(context.Background(), ids), "SELECT * FROM T WHERE ID >= 97000 ORDER BY ID")
		if err != nil {
			t.Fatal(err)
		}
		first := scanAll(t, rs)
		before := counter.n.Load()
		rs, err = c.QueryContext(sf.WithFetchResultByID(context.Background(), <-ids), "")
		if err != nil {
			t.Fatal(err)
		}
		again := scanAll(t, rs)
		if counter.n.Load() == before {
			t.Fatal("result fetch: no chunk downloads")
		}
		if len(first) != n-97000 || len(again) != len(first) {
			t.Fatalf("rows: %d, then %d by query id", len(first), len(again))
		}
		for i := range first {
			if strings.Join(first[i], "|") != strings.Join(again[i], "|") || strings.Join(first[i], "|") != strings.Join(all[97000+i], "|") {
				t.Fatalf("row %d differs: %v, %v by id, %v in the full result", i, first[i], again[i], all[97000+i])
			}
		}
	})
}
