package integration

import (
	"context"
	"errors"
	"testing"
	"time"
)

// longQuery runs for minutes on DuckDB unless it is interrupted.
const longQuery = "SELECT COUNT(*) FROM range(10000000000) t(a), range(100) u(b) WHERE a + b = -1"

// TestStatementTimeoutAndAbort proves that STATEMENT_TIMEOUT_IN_SECONDS and a
// driver-side cancel (gosnowflake's abort-request) both interrupt a running DuckDB
// query, that the statement returns promptly with Snowflake's error, and that history
// records the outcome.
func TestStatementTimeoutAndAbort(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())

	t.Run("statement timeout", func(t *testing.T) {
		mustExec(t, c, "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 1")
		start := time.Now()
		_, err := c.QueryContext(t.Context(), longQuery)
		se := sfErr(t, err, 630)
		if se.Message != "Statement reached its statement or warehouse timeout of 1 second(s) and was canceled." {
			t.Fatalf("message %q", se.Message)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Fatalf("timeout took %v", d)
		}
		mustExec(t, c, "ALTER SESSION UNSET STATEMENT_TIMEOUT_IN_SECONDS")
		if got := one(t, c, "SELECT 1"); got != "1" {
			t.Fatalf("session unusable after timeout: %s", got)
		}
	})

	t.Run("abort request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		go func() {
			time.Sleep(time.Second) // let the statement reach DuckDB; the cancel is the event under test
			cancel()
		}()
		_, err := c.QueryContext(ctx, longQuery+" AND 'abort-marker' = 'abort-marker'")
		if err == nil || !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			t.Fatalf("cancelled query returned %v", err)
		}
		// The server stops the statement: its history row says canceled, promptly.
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, rs := rows(t, c, `SELECT error_code, error_message, total_elapsed_time FROM snowflake.account_usage.query_history
				WHERE query_text LIKE '%abort-marker%' AND query_text NOT LIKE '%query_history%'`)
			if len(rs) == 1 {
				if rs[0][0] != "000604" || rs[0][1] != "SQL execution canceled" {
					t.Fatalf("history row %v", rs[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("aborted statement not finished %v after cancel", time.Since(start))
			}
			time.Sleep(50 * time.Millisecond) // polling the server's history, not synchronising goroutines
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("abort took %v", d)
		}
	})
}
