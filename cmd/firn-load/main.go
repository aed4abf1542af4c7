// Command firn-load drives a running firn (or any Snowflake endpoint reachable over the
// Go driver) with concurrent clients and reports throughput and latency percentiles.
//
//	firn-load -dsn 'ADMIN:pw@127.0.0.1:8765?account=FIRN&protocol=http' -c 8 -d 10s -q 'SELECT 1'
//
// Each client holds one connection (one session) and runs the query in a loop. Results
// are printed as one line of key=value pairs so runs can be compared with benchstat-like
// tooling or recorded in docs/benchmarks.md.
//
// Login modes measure full logins instead: each client POSTs
// /session/v1/login-request and then closes the session (POST /session?delete=true),
// in a loop, over raw HTTP with keep-alive.
//
//	firn-load -mode jwt-login -url http://127.0.0.1:8765 -account FIRN -user ADMIN -key rsa_key.p8 -c 32
//	firn-load -mode login -url http://127.0.0.1:8765 -account FIRN -user ADMIN -password pw -c 32
//
//	firn-load -mode pat-login -url http://127.0.0.1:8765 -account FIRN -user ADMIN -token "$PAT" -c 32
//
// jwt-login signs RS256 JWTs (iss ACCOUNT.USER.SHA256:fp, sub ACCOUNT.USER) with the
// unencrypted PKCS#8 PEM key in -key. With -jwt-pool N (the default) it signs N tokens
// before the measured window, each valid for -jwt-ttl (at most one hour, as a driver's
// token), and the clients reuse them round-robin: client-side RSA signing (~1 ms of CPU
// each) would otherwise compete with the server for the same cores. -jwt-pool 0 signs a
// fresh token for every login. pat-login sends a programmatic access token with
// AUTHENTICATOR=PROGRAMMATIC_ACCESS_TOKEN.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/snowflakedb/gosnowflake"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("FIRN_LOAD_DSN"), "gosnowflake DSN (or $FIRN_LOAD_DSN)")
	clients := flag.Int("c", 4, "concurrent clients (connections)")
	dur := flag.Duration("d", 10*time.Second, "duration of the measured run")
	warm := flag.Duration("warmup", time.Second, "warm-up before measuring")
	query := flag.String("q", "SELECT 1", "statement each client runs")
	mode := flag.String("mode", "query", "query, login (password), jwt-login (key pair) or pat-login (programmatic access token)")
	baseURL := flag.String("url", "http://127.0.0.1:8765", "server URL (login modes)")
	account := flag.String("account", "FIRN", "account (login modes)")
	user := flag.String("user", "ADMIN", "user (login modes)")
	password := flag.String("password", os.Getenv("FIRN_LOAD_PASSWORD"), "password for -mode login (or $FIRN_LOAD_PASSWORD)")
	keyFile := flag.String("key", "", "unencrypted PKCS#8 PEM private key for -mode jwt-login")
	token := flag.String("token", os.Getenv("FIRN_LOAD_TOKEN"), "programmatic access token for -mode pat-login (or $FIRN_LOAD_TOKEN)")
	pool := flag.Int("jwt-pool", 2048, "JWTs signed before the measured window and reused (0: sign one per login)")
	ttl := flag.Duration("jwt-ttl", 59*time.Minute, "lifetime of each JWT (exp - iat; at most 1h)")
	closeSess := flag.Bool("close", true, "login modes: close each session (POST /session?delete=true) after its login")
	flag.Parse()
	if *mode != "query" {
		l := &loginLoad{url: strings.TrimRight(*baseURL, "/"), account: *account, user: *user, password: *password,
			token: *token, poolSize: *pool, ttl: *ttl, noClose: !*closeSess}
		if err := l.run(*mode, *keyFile, *clients, *dur, *warm); err != nil {
			fmt.Fprintln(os.Stderr, "firn-load:", err)
			os.Exit(1)
		}
		return
	}
	if *dsn == "" {
		fmt.Fprintln(os.Stderr, "firn-load: -dsn is required")
		os.Exit(2)
	}
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	if err := run(*dsn, *clients, *dur, *warm, *query); err != nil {
		fmt.Fprintln(os.Stderr, "firn-load:", err)
		os.Exit(1)
	}
}

func run(dsn string, clients int, dur, warm time.Duration, query string) error {
	db, err := sql.Open("snowflake", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	ctx := context.Background()
	conns := make([]*sql.Conn, clients)
	for i := range conns {
		if conns[i], err = db.Conn(ctx); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer conns[i].Close()
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	measureFrom := time.Now().Add(warm)
	end := measureFrom.Add(dur)
	for _, c := range conns {
		wg.Add(1)
		go func(c *sql.Conn) {
			defer wg.Done()
			var local []time.Duration
			localErrs := 0
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				rs, err := c.QueryContext(ctx, query)
				if err == nil {
					for rs.Next() {
					}
					err = rs.Err()
					rs.Close()
				}
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					localErrs++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	if len(latencies) == 0 {
		return fmt.Errorf("no successful queries (%d errors)", errs)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("clients=%d duration=%s queries=%d errors=%d qps=%.0f p50=%s p90=%s p99=%s max=%s\n",
		clients, dur, len(latencies), errs, float64(len(latencies))/dur.Seconds(),
		pct(0.50), pct(0.90), pct(0.99), latencies[len(latencies)-1])
	return nil
}
