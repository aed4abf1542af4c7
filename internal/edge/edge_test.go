package edge_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/edge/edgetest"
)

// serve runs an HTTP server on ln whose handler answers with the request's identity
// ("addr endpoint" or "none"), and stops it when the test ends.
func serve(t *testing.T, ln net.Listener) {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := edge.IdentityFrom(r.Context())
			if !ok {
				io.WriteString(w, "none")
				return
			}
			fmt.Fprintf(w, "%s %q", id.Addr, id.Endpoint)
		}),
		ConnContext: edge.ConnContext,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
}

// client returns an HTTP client whose connections come from localIP and that trusts
// roots (nil: plain HTTP).
func client(t *testing.T, localIP string, tlsCfg *tls.Config) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: tlsCfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func get(t *testing.T, c *http.Client, url string) (string, *http.Response) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b), resp
}

func TestListenPlain(t *testing.T) {
	ln, err := edge.Listen(context.Background(), edge.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln)
	body, _ := get(t, client(t, "127.0.0.1", nil), "http://"+ln.Addr().String()+"/")
	if !strings.HasPrefix(body, "127.0.0.1:") || !strings.HasSuffix(body, ` ""`) {
		t.Errorf("identity %q, want 127.0.0.1:port with no endpoint", body)
	}
}

func TestListenTLS(t *testing.T) {
	ca := edgetest.NewCA(t)
	cert, key := ca.Issue(t, "127.0.0.1", "localhost")
	ln, err := edge.Listen(context.Background(), edge.Config{Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, ln)
	url := "https://" + ln.Addr().String() + "/"

	body, resp := get(t, client(t, "127.0.0.1", &tls.Config{RootCAs: ca.Pool()}), url)
	if !strings.HasPrefix(body, "127.0.0.1:") {
		t.Errorf("identity over TLS %q, want 127.0.0.1:port", body)
	}
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || !resp.TLS.HandshakeComplete {
		t.Errorf("TLS state %+v", resp.TLS)
	}

	refused := []struct {
		name string
		cfg  *tls.Config
	}{
		{"untrusted CA", &tls.Config{RootCAs: edgetest.NewCA(t).Pool()}},
		{"TLS 1.1", &tls.Config{RootCAs: ca.Pool(), MaxVersion: tls.VersionTLS11}},
		{"wrong host", &tls.Config{RootCAs: ca.Pool(), ServerName: "example.com"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client(t, "127.0.0.1", tt.cfg).Get(url)
			if err == nil {
				resp.Body.Close()
				t.Fatal("request succeeded")
			}
		})
	}
	t.Run("plain HTTP to TLS port", func(t *testing.T) {
		resp, err := client(t, "127.0.0.1", nil).Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP served on the TLS port")
			}
		}
	})
}

func TestIdentityPerConnection(t *testing.T) {
	ca := edgetest.NewCA(t)
	cert, key := ca.Issue(t, "127.0.0.1")
	for _, tc := range []struct {
		name   string
		cfg    edge.Config
		scheme string
		tls    *tls.Config
	}{
		{"plain", edge.Config{Addr: "127.0.0.1:0"}, "http", nil},
		{"tls", edge.Config{Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key}, "https", &tls.Config{RootCAs: ca.Pool()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := edge.Listen(context.Background(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			serve(t, ln)
			url := tc.scheme + "://" + ln.Addr().String() + "/"
			for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
				c := client(t, ip, tc.tls)
				first, _ := get(t, c, url)
				ap, err := netip.ParseAddrPort(strings.Fields(first)[0])
				if err != nil {
					t.Fatalf("identity %q: %v", first, err)
				}
				if ap.Addr() != netip.MustParseAddr(ip) || ap.Port() == 0 {
					t.Errorf("identity %v, want %s:port", ap, ip)
				}
				// A second request on the same kept-alive connection has the same identity.
				if again, _ := get(t, c, url); again != first {
					t.Errorf("second request identity %q, first %q", again, first)
				}
			}
		})
	}
}

func TestListenErrors(t *testing.T) {
	ca := edgetest.NewCA(t)
	cert, key := ca.Issue(t, "localhost")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		cfg  edge.Config
		want string
	}{
		{"cert only", edge.Config{Addr: "127.0.0.1:0", TLSCertFile: cert}, "both"},
		{"key only", edge.Config{Addr: "127.0.0.1:0", TLSKeyFile: key}, "both"},
		{"missing cert", edge.Config{Addr: "127.0.0.1:0", TLSCertFile: missing, TLSKeyFile: key}, "missing.pem"},
		{"garbage key", edge.Config{Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: garbage}, "garbage.pem"},
		{"key for other cert", edge.Config{Addr: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: otherKey(t, ca)}, "private key does not match"},
		{"bad address", edge.Config{Addr: "127.0.0.1:-1"}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := edge.Listen(context.Background(), tt.cfg)
			if err == nil {
				ln.Close()
				t.Fatal("Listen succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func otherKey(t *testing.T, ca *edgetest.CA) string {
	_, key := ca.Issue(t, "other")
	return key
}

// fakeConn is a net.Conn with a chosen remote address.
type fakeConn struct {
	net.Conn
	remote net.Addr
}

func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

type strAddr string

func (a strAddr) Network() string { return "test" }
func (a strAddr) String() string  { return string(a) }

func TestConnContextFallback(t *testing.T) {
	tests := []struct {
		name   string
		remote net.Addr
		want   string // "" means no identity
	}{
		{"tcp v4", &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5}, "10.1.2.3:5"},
		{"tcp v4-mapped", &net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 5}, "10.1.2.3:5"},
		{"tcp v6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443}, "[2001:db8::1]:443"},
		{"string host:port", strAddr("192.0.2.1:80"), "192.0.2.1:80"},
		{"pipe", strAddr("pipe"), ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := edge.ConnContext(context.Background(), fakeConn{remote: tt.remote})
			id, ok := edge.IdentityFrom(ctx)
			if tt.want == "" {
				if ok {
					t.Errorf("identity %+v, want none", id)
				}
				return
			}
			if !ok || id.Addr.String() != tt.want || id.Endpoint != "" {
				t.Errorf("identity %+v (%v), want %s", id, ok, tt.want)
			}
		})
	}
	if _, ok := edge.IdentityFrom(context.Background()); ok {
		t.Error("identity in empty context")
	}
}
