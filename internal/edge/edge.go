// Package edge owns firn's listeners: TCP and TLS sockets, and the client identity of
// each connection.
//
// The identity (client address, private-endpoint ID) is fixed once per connection when
// it is accepted, from the TCP peer address, and never from anything a client says in
// a request. A PROXY protocol header, when supported, will replace the peer address in
// exactly one place: the identity listener's accept path (see identityListener).
package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Identity is who a connection comes from, as far as the network can tell.
type Identity struct {
	// Addr is the client's address and port. IPv4 clients have 4-byte addresses
	// (IPv4-mapped IPv6 forms are unmapped).
	Addr netip.AddrPort
	// Endpoint is the private-endpoint ID (AWS VPC endpoint ID or Azure LinkID) the
	// connection arrived through, or "" for a public connection.
	Endpoint string
}

type identityKey struct{}

// WithIdentity returns a copy of ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity stored in ctx by ConnContext or WithIdentity.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// ConnContext is an http.Server.ConnContext function: it stores the connection's
// identity in the context every request on c inherits.
//
// Connections from a Listener carry the identity fixed when they were accepted. For
// any other connection the identity is derived from its remote address; if that is
// not an IP address, the context is returned without an identity.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if id, ok := ConnIdentity(c); ok {
		return WithIdentity(ctx, id)
	}
	return ctx
}

// ConnIdentity returns the identity of c, looking through TLS to the underlying
// connection.
func ConnIdentity(c net.Conn) (Identity, bool) {
	for {
		switch cc := c.(type) {
		case *Conn:
			return cc.id, true
		case *tls.Conn:
			c = cc.NetConn()
			continue
		}
		break
	}
	ap, ok := addrPort(c.RemoteAddr())
	if !ok {
		return Identity{}, false
	}
	return Identity{Addr: ap}, true
}

// addrPort converts a TCP (or UDP) address to a netip.AddrPort with any IPv4-mapped
// IPv6 address unmapped.
func addrPort(a net.Addr) (netip.AddrPort, bool) {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		if a == nil {
			return netip.AddrPort{}, false
		}
		p, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.AddrPort{}, false
		}
		ap = p
	}
	if !ap.Addr().IsValid() {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// Conn is an accepted connection with its identity.
type Conn struct {
	net.Conn
	id Identity
}

// Identity returns the identity fixed when the connection was accepted.
func (c *Conn) Identity() Identity { return c.id }

// identityListener wraps a TCP listener and fixes each connection's identity.
//
// This is the seam for the PROXY protocol: a connection from a trusted proxy will have
// its v1/v2 header read and validated here, before TLS and before any request, and
// the header's source address and endpoint TLV will become the identity. Headers from
// other peers will be refused here too.
type identityListener struct {
	net.Listener
}

// Accept waits for the next connection and returns it as a *Conn.
func (l *identityListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ap, ok := addrPort(c.RemoteAddr())
	if !ok {
		// Not reachable for TCP; keep serving with an empty identity rather than
		// failing the listener, and let policy treat it as unknown.
		return &Conn{Conn: c}, nil
	}
	return &Conn{Conn: c, id: Identity{Addr: ap}}, nil
}

// Config configures a listener.
type Config struct {
	// Addr is the TCP address to listen on, as for net.Listen ("127.0.0.1:8765").
	Addr string
	// TLSCertFile and TLSKeyFile are PEM files holding the server certificate chain
	// and its private key. Both or neither must be set; with neither, the listener
	// speaks plain TCP.
	TLSCertFile string
	TLSKeyFile  string
}

// TLS reports whether cfg asks for TLS.
func (cfg Config) TLS() bool { return cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" }

// Listen opens a TCP listener on cfg.Addr, serving TLS 1.2 or later when a certificate
// and key are configured. Accepted connections carry their Identity; use ConnContext
// in http.Server to make it available to handlers.
//
// The certificate is loaded once; a bad or unreadable file is reported here rather
// than at the first handshake. ctx bounds only the setup, not the listener's life.
func Listen(ctx context.Context, cfg Config) (net.Listener, error) {
	var tcfg *tls.Config
	if cfg.TLS() {
		var err error
		if tcfg, err = serverTLS(cfg); err != nil {
			return nil, err
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("edge: listen: %w", err)
	}
	var out net.Listener = &identityListener{Listener: ln}
	if tcfg != nil {
		// TLS wraps the identity listener, so a PROXY header (sent in clear before
		// the handshake) can be read beneath it.
		out = tls.NewListener(out, tcfg)
	}
	return out, nil
}

// serverTLS builds the server TLS configuration for cfg.
func serverTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return nil, errors.New("edge: TLS needs both a certificate file and a key file")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("edge: load TLS certificate %s and key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// Snowflake drivers speak HTTP/1.1; offering only it keeps the wire
		// behaviour identical with and without TLS.
		NextProtos: []string{"http/1.1"},
	}, nil
}
