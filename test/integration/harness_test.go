// Package integration drives a real firn server through the unmodified Snowflake Go
// driver (gosnowflake, via database/sql), exactly as users' programs do.
package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/server"
)

const adminPassword = "Adm1n-test-password"

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	// Keep gosnowflake's own logging out of test output.
	_ = sf.GetLogger().SetLogLevel("fatal")
	os.Exit(m.Run())
}

// clock is a test clock: real time plus an offset that tests advance.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is one running server.
type env struct {
	t     testing.TB
	srv   *server.Server
	addr  string // host:port
	dir   string
	clock *clock
}

type option func(*server.Config)

// start runs a firn server on a loopback port for the duration of the test.
func start(t testing.TB, opts ...option) *env {
	t.Helper()
	return startOn(t, func(context.Context) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, opts...)
}

// startOn is start with the listener that listen returns.
func startOn(t testing.TB, listen func(context.Context) (net.Listener, error), opts ...option) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{}}
	cfg := server.Config{DataDir: e.dir, AdminPassword: adminPassword, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	ln, err := listen(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	e.srv, e.addr = srv, ln.Addr().String()
	return e
}

// dsn returns a gosnowflake DSN for user/password on account with extra params.
func (e *env) dsn(account, user, password string, params ...string) string {
	q := url.Values{}
	q.Set("account", account)
	q.Set("protocol", "http")
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return fmt.Sprintf("%s:%s@%s?%s", url.QueryEscape(user), url.QueryEscape(password), e.addr, q.Encode())
}

// open opens a database/sql handle and checks that it logs in.
func (e *env) open(account, user, password string, params ...string) *sql.DB {
	e.t.Helper()
	db, err := sql.Open("snowflake", e.dsn(account, user, password, params...))
	if err != nil {
		e.t.Fatalf("sql.Open: %v", err)
	}
	e.t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		e.t.Fatalf("login as %s@%s: %v", user, account, err)
	}
	return db
}

// admin opens a connection as the bootstrap administrator.
func (e *env) admin(params ...string) *sql.DB {
	return e.open("FIRN", "ADMIN", adminPassword, params...)
}

// conn returns a single connection, so session state (USE, ALTER SESSION) persists.
func conn(t testing.TB, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatalf("db.Conn: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// mustExec runs statements and fails the test on error.
func mustExec(t testing.TB, q queryer, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := q.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// rows runs a query and returns every row as strings (NULL as "NULL") with the columns.
func rows(t testing.TB, q queryer, query string, args ...any) ([]string, [][]string) {
	t.Helper()
	rs, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	cols, err := rs.Columns()
	if err != nil {
		rs.Close()
		t.Fatal(err)
	}
	return cols, scanAll(t, rs)
}

// one returns the single value of a one-row, one-column query.
func one(t testing.TB, q queryer, query string, args ...any) string {
	t.Helper()
	_, rs := rows(t, q, query, args...)
	if len(rs) != 1 || len(rs[0]) != 1 {
		t.Fatalf("%s: got %v; want one value", query, rs)
	}
	return rs[0][0]
}

// sfErr asserts err is a Snowflake error with the given code and returns it.
func sfErr(t testing.TB, err error, code int) *sf.SnowflakeError {
	t.Helper()
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SnowflakeError", err, err)
	}
	if se.Number != code {
		t.Fatalf("error code %d (%s); want %d", se.Number, se.Message, code)
	}
	return se
}

// column finds a column's index by name.
func column(t testing.TB, cols []string, name string) int {
	t.Helper()
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, cols)
	return -1
}

// scanAll reads every row as strings (NULL as "NULL") and closes rs.
func scanAll(t testing.TB, rs *sql.Rows) [][]string {
	t.Helper()
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
