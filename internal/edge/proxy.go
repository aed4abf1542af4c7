package edge

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// DefaultProxyHeaderTimeout is how long a connection may take to deliver its PROXY
// header when Config.ProxyHeaderTimeout is zero.
const DefaultProxyHeaderTimeout = 5 * time.Second

// PROXY protocol v2 TLV types and subtypes for private-endpoint identities.
const (
	pp2TypeAWS            = 0xEA // PP2_TYPE_AWS
	pp2SubtypeAWSVPCEID   = 0x01 // PP2_SUBTYPE_AWS_VPCE_ID
	pp2TypeAzure          = 0xEE // PP2_TYPE_AZURE
	pp2SubtypeAzureLinkID = 0x01 // PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID
)

// vpceID is the shape of an AWS VPC endpoint ID: "vpce-" and 1..64 lower-case hex digits.
var vpceID = regexp.MustCompile(`^vpce-[0-9a-f]{1,64}$`)

// Errors that close a connection while its identity is fixed (a PROXY header from an
// untrusted peer fails with go-proxyproto's ErrSuperfluousProxyHeader). The peer just
// sees the connection close.
var (
	// ErrBadProxyHeader: a trusted peer's header is unusable (bad TLV, bad family).
	ErrBadProxyHeader = errors.New("edge: unusable PROXY header")
)

// ParseProxyFrom parses a comma-separated list of CIDRs or single addresses (the
// --proxy-protocol-from flag). An empty string is an empty list.
func ParseProxyFrom(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("edge: proxy-protocol-from %q: %w", f, err)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("edge: proxy-protocol-from %q: %w", f, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// identityListener wraps a TCP listener and gives each connection its identity.
//
// Accept never reads from a connection: the PROXY header is read (with a deadline) by
// the connection's own goroutine on its first Read, which for TLS is the handshake —
// the header travels in clear before it. A slow or silent peer therefore holds only
// its own goroutine, and only until ProxyHeaderTimeout.
type identityListener struct {
	net.Listener
	trusted []netip.Prefix
	timeout time.Duration
}

func newIdentityListener(ln net.Listener, cfg Config) *identityListener {
	l := &identityListener{Listener: ln, trusted: cfg.ProxyFrom, timeout: cfg.ProxyHeaderTimeout}
	if l.timeout <= 0 {
		l.timeout = DefaultProxyHeaderTimeout
	}
	return l
}

// Accept waits for the next connection and returns it as a *Conn.
func (l *identityListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newConn(c, l.isTrusted, l.timeout), nil
}

func (l *identityListener) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Conn is an accepted connection with its identity.
type Conn struct {
	net.Conn // the *proxyproto.Conn over the raw connection
	pp       *proxyproto.Conn
	peer     netip.AddrPort
	peerOK   bool
	trusted  bool

	// id and idErr are written by the header validator, which go-proxyproto runs at
	// most once and before any Read returns; readers go through pp.ProxyHeader()
	// first, which orders them after it.
	once  sync.Once
	id    Identity
	idOK  bool
	idErr error
}

// newConn wraps raw; trusted reports whether a peer address may send a PROXY header.
func newConn(raw net.Conn, trusted func(netip.Addr) bool, timeout time.Duration) *Conn {
	c := &Conn{}
	c.peer, c.peerOK = addrPort(raw.RemoteAddr())
	c.trusted = c.peerOK && trusted(c.peer.Addr())
	policy := proxyproto.REJECT
	if c.trusted {
		// Safer of the two choices: a trusted peer (a load balancer) must always send
		// a header. A connection from its address without one is a misconfiguration
		// or something else on that host, and would otherwise be attributed the
		// balancer's address — often exactly the address an allow-list trusts.
		policy = proxyproto.REQUIRE
	}
	c.pp = proxyproto.NewConn(raw,
		proxyproto.WithPolicy(policy),
		proxyproto.SetReadHeaderTimeout(timeout),
		proxyproto.ValidateHeader(c.validate))
	c.Conn = c.pp
	return c
}

// validate runs once, when a header arrives (from a trusted peer; from any other the
// REJECT policy refuses it before validators run). It fixes the identity.
func (c *Conn) validate(h *proxyproto.Header) error {
	id, err := identityFromHeader(h, c.peer)
	if err != nil {
		c.idErr = err
		return err
	}
	c.id, c.idOK = id, true
	return nil
}

// Identity returns the identity fixed for the connection; false if it has none (the
// peer address is not IP, or the connection failed its PROXY check — such a
// connection never delivers a request). It waits, at most the header timeout, for the
// PROXY header to be read.
func (c *Conn) Identity() (Identity, bool) {
	c.once.Do(func() {
		h := c.pp.ProxyHeader() // reads the header once; later calls return at once
		switch {
		case h != nil:
			// Fixed by validate.
		case c.trusted || !c.peerOK:
			// A trusted peer without a (valid) header has no identity; its reads fail.
			c.idOK = false
		default:
			c.id, c.idOK = Identity{Addr: c.peer}, true
		}
	})
	return c.id, c.idOK
}

// RemoteAddr returns the client's address: the PROXY source address for a trusted
// proxy's connection, otherwise the TCP peer.
func (c *Conn) RemoteAddr() net.Addr {
	if id, ok := c.Identity(); ok {
		return net.TCPAddrFromAddrPort(id.Addr)
	}
	return c.pp.Raw().RemoteAddr()
}

// identityFromHeader turns a trusted peer's header into an identity. LOCAL commands
// (health checks) and UNSPEC families keep the peer's own address, as the
// specification requires. Endpoint TLVs must be well-formed; an AWS and an Azure TLV
// together are refused as ambiguous.
func identityFromHeader(h *proxyproto.Header, peer netip.AddrPort) (Identity, error) {
	id := Identity{Addr: peer}
	if h.Command.IsProxy() {
		switch h.TransportProtocol {
		case proxyproto.TCPv4, proxyproto.TCPv6:
			src, _, ok := h.TCPAddrs()
			if !ok {
				return Identity{}, fmt.Errorf("%w: no TCP source address", ErrBadProxyHeader)
			}
			ap := src.AddrPort()
			id.Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			if !id.Addr.Addr().IsValid() {
				return Identity{}, fmt.Errorf("%w: invalid source address", ErrBadProxyHeader)
			}
		case proxyproto.UNSPEC:
		default:
			return Identity{}, fmt.Errorf("%w: address family %#x is not TCP", ErrBadProxyHeader, byte(h.TransportProtocol))
		}
	}
	if h.Version != 2 {
		return id, nil
	}
	tlvs, err := h.TLVs()
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrBadProxyHeader, err)
	}
	for _, t := range tlvs {
		var ep, typ string
		switch {
		case t.Type == pp2TypeAWS && len(t.Value) > 0 && t.Value[0] == pp2SubtypeAWSVPCEID:
			ep, typ = string(t.Value[1:]), EndpointAWS
			if !vpceID.MatchString(ep) {
				return Identity{}, fmt.Errorf("%w: malformed VPC endpoint ID TLV", ErrBadProxyHeader)
			}
		case t.Type == pp2TypeAzure && len(t.Value) > 0 && t.Value[0] == pp2SubtypeAzureLinkID:
			if len(t.Value) != 5 {
				return Identity{}, fmt.Errorf("%w: malformed Azure LinkID TLV", ErrBadProxyHeader)
			}
			ep, typ = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(t.Value[1:])), 10), EndpointAzure
		default:
			continue // other TLVs (ALPN, SSL, CRC32C, NOOP, other subtypes) carry no identity
		}
		if id.Endpoint != "" && (id.Endpoint != ep || id.EndpointType != typ) {
			return Identity{}, fmt.Errorf("%w: more than one private-endpoint identity", ErrBadProxyHeader)
		}
		id.Endpoint, id.EndpointType = ep, typ
	}
	return id, nil
}
