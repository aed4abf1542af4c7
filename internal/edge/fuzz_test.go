package edge

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// peerConn is one end of a net.Pipe with a TCP remote address.
type peerConn struct {
	net.Conn
	remote net.Addr
}

func (c peerConn) RemoteAddr() net.Addr { return c.remote }

var (
	sigV1 = []byte("PROXY")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// FuzzProxyHeader feeds arbitrary bytes to an accepted connection from a trusted or
// untrusted peer. The connection must end with an identity or a failed read — never
// a panic or a hang — and the identity must obey the trust rules.
func FuzzProxyHeader(f *testing.F) {
	v2 := func(fam byte, body ...byte) []byte {
		b := append([]byte{}, sigV2...)
		b = append(b, 0x21, fam, byte(len(body)>>8), byte(len(body)))
		return append(b, body...)
	}
	tcp4 := []byte{203, 0, 113, 9, 127, 0, 0, 1, 0x9c, 0x40, 0x01, 0xbb}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false)
	f.Add([]byte("PROXY TCP4 203.0.113.9 127.0.0.1 40000 443\r\nGET / HTTP/1.1\r\n\r\n"), true)
	f.Add([]byte("PROXY TCP4 203.0.113.9 127.0.0.1 40000 443\r\nGET / HTTP/1.1\r\n\r\n"), false)
	f.Add([]byte("PROXY UNKNOWN\r\n"), true)
	f.Add([]byte("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"), true)
	f.Add(v2(0x11, tcp4...), true)
	f.Add(v2(0x11, append(append([]byte{}, tcp4...), 0xEA, 0x00, 0x0a, 0x01, 'v', 'p', 'c', 'e', '-', '0', 'a', '1', 'f')...), true)
	f.Add(v2(0x11, append(append([]byte{}, tcp4...), 0xEE, 0x00, 0x05, 0x01, 0x81, 0x02, 0x00, 0x23)...), true)
	f.Add(v2(0x11, append(append([]byte{}, tcp4...), 0xEE, 0x00, 0x09, 0x01, 0x81)...), true)
	f.Add(v2(0x11, tcp4[:5]...), true)
	f.Add(append([]byte{}, sigV2[:7]...), true)
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05}, false)
	f.Fuzz(func(t *testing.T, data []byte, trusted bool) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			checkProxyInput(t, data, trusted)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("hang on %q trusted=%v\n%s", data, trusted, buf[:runtime.Stack(buf, true)])
		}
	})
}

// checkProxyInput runs one fuzz input; it reports with t.Errorf (it runs off the test
// goroutine).
func checkProxyInput(t *testing.T, data []byte, trusted bool) {
	{
		srv, cli := net.Pipe()
		peer := netip.MustParseAddrPort("127.0.0.2:5555")
		raw := peerConn{Conn: srv, remote: net.TCPAddrFromAddrPort(peer)}
		c := newConn(raw, func(netip.Addr) bool { return trusted }, 20*time.Millisecond)
		defer c.Close()
		go func() {
			_, _ = cli.Write(data)
			cli.Close()
		}()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		id, ok := c.Identity()
		rest, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("read hung until the deadline")
			return
		}
		if !trusted {
			if !ok || id.Addr != peer || id.Endpoint != "" || id.EndpointType != "" {
				t.Errorf("untrusted identity %+v %v, want the peer", id, ok)
				return
			}
			if bytes.HasPrefix(data, sigV2) || bytes.HasPrefix(data, sigV1) {
				if err == nil {
					t.Errorf("untrusted PROXY header accepted; read %q", rest)
				}
			} else if err != nil || !bytes.Equal(rest, data) {
				t.Errorf("untrusted plain data: read %q, %v; want %q", rest, err, data)
			}
			return
		}
		if !ok {
			if err == nil {
				t.Errorf("trusted peer without identity could read %q", rest)
			}
			return
		}
		switch id.EndpointType {
		case "":
			if id.Endpoint != "" {
				t.Errorf("endpoint %q without type", id.Endpoint)
			}
		case EndpointAWS:
			if !vpceID.MatchString(id.Endpoint) {
				t.Errorf("bad VPCE %q", id.Endpoint)
			}
		case EndpointAzure:
			if id.Endpoint == "" {
				t.Error("empty LinkID")
			}
		default:
			t.Errorf("endpoint type %q", id.EndpointType)
		}
		if !id.Addr.IsValid() {
			t.Errorf("invalid address in %+v", id)
		}
	}
}
