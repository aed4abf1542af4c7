// Package edge owns firn's listeners: TCP and TLS sockets, and the client identity of
// each connection.
//
// The identity (client address, private-endpoint ID) is fixed once per connection,
// from the TCP peer address or — only for peers listed in Config.ProxyFrom — from the
// PROXY protocol v1/v2 header that must open such a connection (see proxy.go). It is
// never taken from anything a client says in a request. A PROXY header from any other
// peer closes the connection.
package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Identity is who a connection comes from, as far as the network can tell.
type Identity struct {
	// Addr is the client's address and port. IPv4 clients have 4-byte addresses
	// (IPv4-mapped IPv6 forms are unmapped).
	Addr netip.AddrPort
	// Endpoint is the private-endpoint ID (AWS VPC endpoint ID or Azure LinkID) the
	// connection arrived through, or "" for a public connection.
	Endpoint string
	// EndpointType says what Endpoint is: EndpointAWS, EndpointAzure, or "" for a
	// public connection. The values are the network-rule TYPEs that match them.
	EndpointType string
}

// Endpoint types, named as the network-rule TYPE that matches them.
const (
	EndpointAWS   = "AWSVPCEID"   // Endpoint is an AWS VPC endpoint ID (vpce-…)
	EndpointAzure = "AZURELINKID" // Endpoint is an Azure private-endpoint LinkID (decimal)
)

type identityKey struct{}

// WithIdentity returns a copy of ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity stored in ctx by ConnContext or WithIdentity.
//
// For a connection from a Listener the identity is resolved on first use, after the
// connection's PROXY header (if any) has been read; by the time a request on it is
// being handled that has always happened, so the call does not block.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	switch v := ctx.Value(identityKey{}).(type) {
	case Identity:
		return v, true
	case *Conn:
		return v.Identity()
	}
	return Identity{}, false
}

// ConnContext is an http.Server.ConnContext function: it stores the connection's
// identity in the context every request on c inherits.
//
// Connections from a Listener carry the identity fixed when they were accepted. For
// any other connection the identity is derived from its remote address; if that is
// not an IP address, the context is returned without an identity.
//
// ConnContext runs in http.Server's accept loop, so for a Listener's connection it
// stores the connection itself and never waits for its PROXY header there.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if ec := edgeConn(c); ec != nil {
		return context.WithValue(ctx, identityKey{}, ec)
	}
	if id, ok := ConnIdentity(c); ok {
		return WithIdentity(ctx, id)
	}
	return ctx
}

// edgeConn returns the *Conn beneath c (looking through TLS), or nil.
func edgeConn(c net.Conn) *Conn {
	for {
		switch cc := c.(type) {
		case *Conn:
			return cc
		case *tls.Conn:
			c = cc.NetConn()
			continue
		}
		return nil
	}
}

// ConnIdentity returns the identity of c, looking through TLS to the underlying
// connection. For a Listener's connection it waits until the PROXY header (if one is
// expected) has been read, and reports false if the connection failed that check.
func ConnIdentity(c net.Conn) (Identity, bool) {
	if ec := edgeConn(c); ec != nil {
		return ec.Identity()
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

// Config configures a listener.
type Config struct {
	// Addr is the TCP address to listen on, as for net.Listen ("127.0.0.1:8765").
	Addr string
	// TLSCertFile and TLSKeyFile are PEM files holding the server certificate chain
	// and its private key. Both or neither must be set; with neither, the listener
	// speaks plain TCP.
	TLSCertFile string
	TLSKeyFile  string
	// ProxyFrom lists the peers (load balancers, proxies) whose connections must
	// start with a PROXY protocol v1 or v2 header; the header's source address and
	// private-endpoint TLV become the connection's identity. From any other peer a
	// PROXY header closes the connection. Empty: no peer is trusted.
	ProxyFrom []netip.Prefix
	// ProxyHeaderTimeout bounds how long a connection may take to deliver its PROXY
	// header (or, from an untrusted peer, its first bytes for the check that it sent
	// none). Default DefaultProxyHeaderTimeout.
	ProxyHeaderTimeout time.Duration
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
	var out net.Listener = newIdentityListener(ln, cfg)
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
