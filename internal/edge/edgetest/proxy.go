package edgetest

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	proxyproto "github.com/pires/go-proxyproto"
)

// ProxyClient dials like a load balancer that speaks the PROXY protocol: every
// connection it makes starts with a header naming Source (and, for version 2, the
// private-endpoint TLVs), then carries the client's bytes (HTTP, TLS) unchanged.
type ProxyClient struct {
	// LocalIP is the address to dial from ("" for any); firn trusts headers only from
	// the peers in --proxy-protocol-from.
	LocalIP string
	// Version is 1 or 2 (0 means 2).
	Version byte
	// Source is the client address the header claims.
	Source netip.AddrPort
	// VPCE, when set, is sent as the AWS VPC endpoint ID TLV (type 0xEA, subtype 0x01).
	VPCE string
	// LinkID, when HasLinkID, is sent as the Azure LinkID TLV (type 0xEE, subtype 0x01).
	LinkID    uint32
	HasLinkID bool
	// Raw, when set, is written instead of a generated header.
	Raw []byte
	// NoHeader sends nothing before the client's bytes.
	NoHeader bool
}

// Header returns the header bytes the client sends to dst.
func (p ProxyClient) Header(dst net.Addr) ([]byte, error) {
	if p.Raw != nil {
		return p.Raw, nil
	}
	v := p.Version
	if v == 0 {
		v = 2
	}
	src := net.TCPAddrFromAddrPort(p.Source)
	h := proxyproto.HeaderProxyFromAddrs(v, src, dst)
	var tlvs []proxyproto.TLV
	if p.VPCE != "" {
		tlvs = append(tlvs, proxyproto.TLV{Type: 0xEA, Value: append([]byte{0x01}, p.VPCE...)})
	}
	if p.HasLinkID {
		val := make([]byte, 5)
		val[0] = 0x01
		binary.LittleEndian.PutUint32(val[1:], p.LinkID)
		tlvs = append(tlvs, proxyproto.TLV{Type: 0xEE, Value: val})
	}
	if len(tlvs) > 0 {
		if v != 2 {
			return nil, fmt.Errorf("edgetest: TLVs need PROXY v2")
		}
		if err := h.SetTLVs(tlvs); err != nil {
			return nil, err
		}
	}
	return h.Format()
}

// DialContext connects to addr and writes the header; it fits http.Transport.
func (p ProxyClient) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	if p.LocalIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(p.LocalIP)}
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if p.NoHeader {
		return c, nil
	}
	b, err := p.Header(c.RemoteAddr())
	if err == nil {
		_, err = c.Write(b)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("edgetest: send PROXY header: %w", err)
	}
	return c, nil
}
