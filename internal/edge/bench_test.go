package edge

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/firn/firn/internal/edge/edgetest"
)

// memConn is a net.Conn reading from a buffer, for measuring header handling alone.
type memConn struct {
	r *bytes.Reader
}

func (c *memConn) Read(b []byte) (int, error)       { return c.r.Read(b) }
func (c *memConn) Write(b []byte) (int, error)      { return len(b), nil }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8765} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkAcceptIdentity measures what the edge adds per connection: wrapping,
// reading (or checking for the absence of) a PROXY header, fixing the identity and
// delivering the first request byte. In memory, so TCP costs are excluded.
func BenchmarkAcceptIdentity(b *testing.B) {
	req := []byte("POST /session/v1/login-request HTTP/1.1\r\n")
	hdr, err := edgetest.ProxyClient{Source: netip.MustParseAddrPort("198.51.100.7:50000"), VPCE: "vpce-0c1a2b3c4d5e6f789"}.
		Header(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8765})
	if err != nil {
		b.Fatal(err)
	}
	v1, _ := edgetest.ProxyClient{Version: 1, Source: netip.MustParseAddrPort("198.51.100.7:50000")}.
		Header(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8765})
	for _, bc := range []struct {
		name    string
		data    []byte
		trusted bool
	}{
		{"untrusted-no-header", req, false},
		{"trusted-v1", append(append([]byte{}, v1...), req...), true},
		{"trusted-v2-vpce", append(append([]byte{}, hdr...), req...), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 64)
			for b.Loop() {
				c := newConn(&memConn{r: bytes.NewReader(bc.data)}, func(netip.Addr) bool { return bc.trusted }, time.Second)
				if _, ok := c.Identity(); !ok {
					b.Fatal("no identity")
				}
				if _, err := io.ReadFull(c, buf[:4]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAcceptTCP is the same over loopback TCP: dial, (header,) one byte, accept,
// identity, read.
func BenchmarkAcceptTCP(b *testing.B) {
	for _, bc := range []struct {
		name  string
		proxy bool
	}{{"no-header", false}, {"proxy-v2-vpce", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var trusted []netip.Prefix
			if bc.proxy {
				trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
			ln, err := Listen(context.Background(), Config{Addr: "127.0.0.1:0", ProxyFrom: trusted})
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			p := edgetest.ProxyClient{LocalIP: "127.0.0.1", Source: netip.MustParseAddrPort("198.51.100.7:50000"),
				VPCE: "vpce-0c1a2b3c4d5e6f789", NoHeader: !bc.proxy}
			buf := make([]byte, 1)
			for b.Loop() {
				cc, err := p.DialContext(context.Background(), "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				cc.Write([]byte{'x'})
				sc, err := ln.Accept()
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := sc.(*Conn).Identity(); !ok {
					b.Fatal("no identity")
				}
				if _, err := io.ReadFull(sc, buf); err != nil {
					b.Fatal(err)
				}
				sc.Close()
				cc.Close()
			}
		})
	}
}
