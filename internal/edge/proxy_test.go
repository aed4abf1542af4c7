package edge_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/edge/edgetest"
)

// serveIdentity runs an HTTP server on ln answering "addr endpoint type" for each
// request's identity.
func serveIdentity(t *testing.T, ln net.Listener) {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := edge.IdentityFrom(r.Context())
			if !ok {
				io.WriteString(w, "none")
				return
			}
			fmt.Fprintf(w, "%s %q %q %s", id.Addr, id.Endpoint, id.EndpointType, r.RemoteAddr)
		}),
		ConnContext: edge.ConnContext,
		ErrorLog:    nil,
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

func proxyHTTP(t *testing.T, p edgetest.ProxyClient, tlsCfg *tls.Config) *http.Client {
	tr := &http.Transport{DialContext: p.DialContext, TLSClientConfig: tlsCfg, DisableKeepAlives: false}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestParseProxyFrom(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"", "[]", false},
		{"10.0.0.0/8", "[10.0.0.0/8]", false},
		{" 10.1.2.3/8 , 192.0.2.7 ", "[10.0.0.0/8 192.0.2.7/32]", false},
		{"::ffff:10.0.0.0/104", "[10.0.0.0/8]", false},
		{"2001:db8::/32,::1", "[2001:db8::/32 ::1/128]", false},
		{"10.0.0.0/33", "", true},
		{"example.com", "", true},
	}
	for _, tt := range tests {
		got, err := edge.ParseProxyFrom(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseProxyFrom(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !tt.err && fmt.Sprint(got) != tt.want && !(tt.want == "[]" && len(got) == 0) {
			t.Errorf("ParseProxyFrom(%q) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

// TestProxyProtocol drives one listener that trusts 127.0.0.2 with clients from
// trusted and untrusted addresses sending every kind of header.
func TestProxyProtocol(t *testing.T) {
	ca := edgetest.NewCA(t)
	cert, key := ca.Issue(t, "127.0.0.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	src := netip.MustParseAddrPort("203.0.113.9:40000")
	src6 := netip.MustParseAddrPort("[2001:db8::9]:40000")
	for _, mode := range []struct {
		name   string
		scheme string
		cfg    edge.Config
		tls    *tls.Config
	}{
		{"plain", "http", edge.Config{Addr: "127.0.0.1:0", ProxyFrom: trusted, ProxyHeaderTimeout: 2 * time.Second}, nil},
		{"tls", "https", edge.Config{Addr: "127.0.0.1:0", ProxyFrom: trusted, ProxyHeaderTimeout: 2 * time.Second,
			TLSCertFile: cert, TLSKeyFile: key}, &tls.Config{RootCAs: ca.Pool()}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ln, err := edge.Listen(context.Background(), mode.cfg)
			if err != nil {
				t.Fatal(err)
			}
			serveIdentity(t, ln)
			url := mode.scheme + "://" + ln.Addr().String() + "/"
			tests := []struct {
				name   string
				client edgetest.ProxyClient
				want   string // identity prefix; "" means the connection must fail
			}{
				{"trusted v2 plain source", edgetest.ProxyClient{LocalIP: "127.0.0.2", Source: src},
					`203.0.113.9:40000 "" "" 203.0.113.9:40000`},
				{"trusted v1", edgetest.ProxyClient{LocalIP: "127.0.0.2", Version: 1, Source: src},
					`203.0.113.9:40000 "" ""`},
				{"trusted v1 ipv6", edgetest.ProxyClient{LocalIP: "127.0.0.2", Version: 1, Source: src6},
					`[2001:db8::9]:40000 "" ""`},
				{"trusted v2 vpce", edgetest.ProxyClient{LocalIP: "127.0.0.2", Source: src, VPCE: "vpce-0c1a2b3c4d5e6f789"},
					`203.0.113.9:40000 "vpce-0c1a2b3c4d5e6f789" "AWSVPCEID"`},
				{"trusted v2 azure", edgetest.ProxyClient{LocalIP: "127.0.0.2", Source: src6, LinkID: 587202689, HasLinkID: true},
					`[2001:db8::9]:40000 "587202689" "AZURELINKID"`},
				{"trusted v2 LOCAL keeps peer", edgetest.ProxyClient{LocalIP: "127.0.0.2",
					Raw: append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x20, 0x00, 0x00, 0x00)}, `127.0.0.2:`},
				{"trusted v1 UNKNOWN keeps peer", edgetest.ProxyClient{LocalIP: "127.0.0.2",
					Raw: []byte("PROXY UNKNOWN\r\n")}, `127.0.0.2:`},
				{"untrusted without header", edgetest.ProxyClient{LocalIP: "127.0.0.3", NoHeader: true}, `127.0.0.3:`},

				{"trusted without header", edgetest.ProxyClient{LocalIP: "127.0.0.2", NoHeader: true}, ""},
				{"untrusted v2 header", edgetest.ProxyClient{LocalIP: "127.0.0.3", Source: src, VPCE: "vpce-0123"}, ""},
				{"untrusted v1 header", edgetest.ProxyClient{LocalIP: "127.0.0.3", Version: 1, Source: src}, ""},
				{"trusted v2 malformed vpce", edgetest.ProxyClient{LocalIP: "127.0.0.2", Source: src, VPCE: "vpc-123;drop"}, ""},
				{"trusted v2 two endpoints", edgetest.ProxyClient{LocalIP: "127.0.0.2", Source: src, VPCE: "vpce-0123",
					LinkID: 7, HasLinkID: true}, ""},
				{"trusted v2 short azure TLV", edgetest.ProxyClient{LocalIP: "127.0.0.2",
					Raw: v2WithTLV(t, src, []byte{0xEE, 0x00, 0x03, 0x01, 0x02, 0x03})}, ""},
				{"trusted garbage", edgetest.ProxyClient{LocalIP: "127.0.0.2", Raw: []byte("PROXY TCP4 nonsense\r\n")}, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := proxyHTTP(t, tt.client, mode.tls)
					resp, err := c.Get(url)
					if tt.want == "" {
						if err == nil {
							resp.Body.Close()
							t.Fatalf("request succeeded with status %s; want the connection closed", resp.Status)
						}
						return
					}
					if err != nil {
						t.Fatalf("GET: %v", err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.HasPrefix(string(body), tt.want) {
						t.Fatalf("identity %q, want prefix %q", body, tt.want)
					}
					// The identity is fixed per connection: a second request on the same
					// kept-alive connection (no new header) sees the same one.
					resp, err = c.Get(url)
					if err != nil {
						t.Fatalf("second GET: %v", err)
					}
					again, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !bytes.Equal(again, body) {
						t.Errorf("second request identity %q, first %q", again, body)
					}
				})
			}
		})
	}
}

// v2WithTLV builds a v2 PROXY header for TCPv4 src → 127.0.0.1:1 with raw TLV bytes.
func v2WithTLV(t *testing.T, src netip.AddrPort, tlv []byte) []byte {
	t.Helper()
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, 0x21, 0x11)
	n := 12 + len(tlv)
	b = append(b, byte(n>>8), byte(n))
	a := src.Addr().As4()
	b = append(b, a[:]...)
	b = append(b, 127, 0, 0, 1)
	b = append(b, byte(src.Port()>>8), byte(src.Port()), 0, 1)
	return append(b, tlv...)
}

// TestProxyHeaderTimeout: a trusted peer that sends nothing is disconnected after the
// header timeout, and an untrusted slow client is still served afterwards.
func TestProxyHeaderTimeout(t *testing.T) {
	ln, err := edge.Listen(context.Background(), edge.Config{Addr: "127.0.0.1:0",
		ProxyFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, ProxyHeaderTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	serveIdentity(t, ln)

	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil {
		t.Fatalf("silent trusted peer: read %d, %v; want the connection closed", n, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept a silent trusted peer open for %v", time.Since(start))
	}

	// An untrusted client that waits longer than the timeout before speaking is still
	// served: the check for a (forbidden) header simply ends.
	d.LocalAddr = &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}
	u, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	// Wait for the server's header check to time out: it closes nothing, so the
	// only observable is that a later request works.
	time.Sleep(300 * time.Millisecond) // the server-side deadline under test, not synchronisation
	if _, err := io.WriteString(u, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = u.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := io.ReadAll(u)
	if err != nil || !bytes.Contains(resp, []byte("127.0.0.3:")) {
		t.Fatalf("late untrusted client: %q, %v", resp, err)
	}
}
