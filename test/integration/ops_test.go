package integration

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/edge/edgetest"
	"github.com/firn/firn/internal/server"
)

func TestHealthzAndMetrics(t *testing.T) {
	e := start(t)
	db := e.admin()
	mustExec(t, db, "SELECT 1")
	resp, err := http.Get("http://" + e.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + e.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`firn_logins_total{authenticator="SNOWFLAKE",outcome="success"}`,
		`firn_statements_total{kind="SELECT",outcome="success"}`,
		"firn_statement_duration_seconds_bucket",
		"firn_login_duration_seconds_bucket",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Unknown endpoints answer 404, never 5xx.
	resp, err = http.Post("http://"+e.addr+"/session/authenticator-request", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown endpoint = %d; want 404", resp.StatusCode)
	}
}

// TestTLS serves HTTPS with a certificate from a test CA and connects with gosnowflake
// trusting that CA.
func TestTLS(t *testing.T) {
	ca := edgetest.NewCA(t)
	certFile, keyFile := ca.Issue(t, "127.0.0.1", "localhost")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Config{DataDir: t.TempDir(), AdminPassword: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := edge.Listen(ctx, edge.Config{Addr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	host, port, _ := net.SplitHostPort(ln.Addr().String())
	var portN int
	for _, ch := range port {
		portN = portN*10 + int(ch-'0')
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = ca.Pool()
	cfg := &sf.Config{Account: "FIRN", User: "ADMIN", Password: adminPassword, Host: host, Port: portN,
		Protocol: "https", Transporter: tr, DisableOCSPChecks: true}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, *cfg))
	defer db.Close()
	var user string
	if err := db.QueryRow("SELECT CURRENT_USER()").Scan(&user); err != nil {
		t.Fatalf("query over TLS: %v", err)
	}
	if user != "ADMIN" {
		t.Errorf("CURRENT_USER() = %q", user)
	}
	// A client that does not trust the CA cannot connect.
	untrusting := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "FIRN", User: "ADMIN",
		Password: adminPassword, Host: host, Port: portN, Protocol: "https", DisableOCSPChecks: true,
		Transporter: http.DefaultTransport.(*http.Transport).Clone(), MaxRetryCount: 1}))
	defer untrusting.Close()
	if err := untrusting.Ping(); err == nil {
		t.Error("a client without the CA connected")
	}
}
