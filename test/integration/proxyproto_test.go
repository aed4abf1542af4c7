package integration

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"testing"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/edge/edgetest"
)

// lbAddr is the loopback address the tests' "load balancer" dials from; the edge
// listener trusts PROXY headers from it only.
const lbAddr = "127.0.0.2"

// startEdge runs a firn server behind edge.Listen, trusting PROXY headers from lbAddr.
func startEdge(t testing.TB, opts ...option) *env {
	t.Helper()
	return startOn(t, func(ctx context.Context) (net.Listener, error) {
		return edge.Listen(ctx, edge.Config{Addr: "127.0.0.1:0",
			ProxyFrom: []netip.Prefix{netip.MustParsePrefix(lbAddr + "/32")}})
	}, opts...)
}

// viaProxy opens a gosnowflake handle whose every connection is made by p (a PROXY
// protocol speaker), logging in as user@account.
func (e *env) viaProxy(t testing.TB, p edgetest.ProxyClient, account, user, password string) *sql.DB {
	t.Helper()
	host, port, _ := net.SplitHostPort(e.addr)
	portN, _ := strconv.Atoi(port)
	tr := &http.Transport{DialContext: p.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	cfg := sf.Config{Account: account, User: user, Password: password, Host: host, Port: portN,
		Protocol: "http", Transporter: tr, MaxRetryCount: 1}
	db := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, cfg))
	t.Cleanup(func() { db.Close() })
	return db
}

// TestProxyProtocolDriver: the Go driver through a PROXY-speaking load balancer —
// the header's source address is the client identity recorded in LOGIN_HISTORY, with
// v1 and v2; a header from an untrusted peer closes the connection; a trusted peer
// must send one.
func TestProxyProtocolDriver(t *testing.T) {
	e := startEdge(t)
	tests := []struct {
		name   string
		client edgetest.ProxyClient
		want   string // client IP in LOGIN_HISTORY; "" means the connection is refused
	}{
		{"v2 from trusted", edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("198.51.100.7:50123")}, "198.51.100.7"},
		{"v1 from trusted", edgetest.ProxyClient{LocalIP: lbAddr, Version: 1, Source: netip.MustParseAddrPort("198.51.100.8:50123")}, "198.51.100.8"},
		{"v2 ipv6 with endpoint", edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("[2001:db8::5]:443"),
			VPCE: "vpce-0aa11bb22cc33dd44"}, "2001:db8::5"},
		{"no header from untrusted", edgetest.ProxyClient{LocalIP: "127.0.0.3", NoHeader: true}, "127.0.0.3"},
		{"header from untrusted", edgetest.ProxyClient{LocalIP: "127.0.0.3", Source: netip.MustParseAddrPort("198.51.100.9:1")}, ""},
		{"no header from trusted", edgetest.ProxyClient{LocalIP: lbAddr, NoHeader: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := e.viaProxy(t, tt.client, "FIRN", "ADMIN", adminPassword)
			var n int
			err := db.QueryRow("SELECT 1").Scan(&n)
			if tt.want == "" {
				if err == nil {
					t.Fatal("query succeeded; want the connection refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("SELECT 1: %v", err)
			}
			l := jwtLogins(t, e, "FIRN")[0]
			if l.ClientIP != tt.want || !l.IsSuccess {
				t.Errorf("LOGIN_HISTORY client_ip %q success %v, want %q", l.ClientIP, l.IsSuccess, tt.want)
			}
		})
	}
}
