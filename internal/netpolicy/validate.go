// Package netpolicy is the pure core of Snowflake network rules and network policies:
// VALUE_LIST validation for every legal TYPE/MODE pair, the ingress decision of a
// network policy (IPv4/IPv6 prefixes and private-endpoint ids) and the egress
// host:port decision of HOST_PORT rules.
//
// Everything here is I/O-free: inputs go in, a decision and its reason come out. The
// edge enforces and `firn explain ingress` explains with the same functions.
package netpolicy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/sferr"
)

// Network rule types.
const (
	TypeIPv4            = "IPV4"
	TypeIPv6            = "IPV6"
	TypeAWSVPCEID       = "AWSVPCEID"
	TypeAzureLinkID     = "AZURELINKID"
	TypeGCPPSCID        = "GCPPSCID"
	TypeHostPort        = "HOST_PORT"
	TypePrivateHostPort = "PRIVATE_HOST_PORT"
	TypeComputePool     = "COMPUTE_POOL"
)

// Network rule modes.
const (
	ModeIngress                       = "INGRESS"
	ModeInternalStage                 = "INTERNAL_STAGE"
	ModeSnowflakeManagedStorageVolume = "SNOWFLAKE_MANAGED_STORAGE_VOLUME"
	ModeEgress                        = "EGRESS"
	ModePostgresIngress               = "POSTGRES_INGRESS"
	ModePostgresEgress                = "POSTGRES_EGRESS"
	ModeDataConnectivityProxyEgress   = "DATA_CONNECTIVITY_PROXY_EGRESS"
)

// legalModes lists, per TYPE, the MODEs it may be combined with (reference §3).
var legalModes = map[string][]string{
	TypeIPv4:            {ModeIngress, ModePostgresIngress, ModePostgresEgress},
	TypeIPv6:            {ModeIngress},
	TypeAWSVPCEID:       {ModeIngress, ModeInternalStage, ModeSnowflakeManagedStorageVolume},
	TypeAzureLinkID:     {ModeIngress},
	TypeGCPPSCID:        {ModeIngress},
	TypeHostPort:        {ModeEgress, ModeDataConnectivityProxyEgress},
	TypePrivateHostPort: {ModeEgress},
	TypeComputePool:     {ModeIngress},
}

var allModes = map[string]bool{
	ModeIngress: true, ModeInternalStage: true, ModeSnowflakeManagedStorageVolume: true, ModeEgress: true,
	ModePostgresIngress: true, ModePostgresEgress: true, ModeDataConnectivityProxyEgress: true,
}

// errInvalid is the compilation error for a property value Snowflake rejects.
func errInvalid(format string, args ...any) error {
	return sferr.Compilation("001008", "22023", fmt.Sprintf(format, args...))
}

// ValidateRule checks a network rule's TYPE, MODE (empty means INGRESS) and VALUE_LIST
// and returns the normalised values: canonical addresses, masked prefixes, lower-case
// host names and endpoint ids, duplicates removed (first occurrence kept). Normalised
// values validate to themselves.
func ValidateRule(typ, mode string, values []string) ([]string, error) {
	typ, mode = strings.ToUpper(strings.TrimSpace(typ)), strings.ToUpper(strings.TrimSpace(mode))
	if mode == "" {
		mode = ModeIngress
	}
	modes, ok := legalModes[typ]
	if !ok {
		return nil, errInvalid("invalid value '%s' for property 'TYPE'", typ)
	}
	if !allModes[mode] {
		return nil, errInvalid("invalid value '%s' for property 'MODE'", mode)
	}
	legal := false
	for _, m := range modes {
		legal = legal || m == mode
	}
	if !legal {
		return nil, errInvalid("Network rule of TYPE %s does not support MODE %s.", typ, mode)
	}
	if typ == TypePrivateHostPort && len(values) > 1 {
		return nil, errInvalid("Network rule of TYPE %s accepts a single value in VALUE_LIST.", typ)
	}
	out := make([]string, 0, len(values))
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		n, reason := normalise(typ, v)
		if reason != "" {
			return nil, errInvalid("Invalid value ['%s'] for VALUE_LIST of network rule of TYPE %s: %s.", v, typ, reason)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// normalise returns the canonical form of one VALUE_LIST entry, or a reason it is invalid.
func normalise(typ, v string) (string, string) {
	switch typ {
	case TypeIPv4:
		p, reason := parseIP(v, true)
		if reason != "" {
			return "", reason
		}
		return formatPrefix(p), ""
	case TypeIPv6:
		p, reason := parseIP(v, false)
		if reason != "" {
			return "", reason
		}
		return formatPrefix(p), ""
	case TypeAWSVPCEID:
		return normaliseVPCE(v)
	case TypeAzureLinkID:
		if !isDigits(v, 1, 20) {
			return "", "an Azure LinkID is a numeric string"
		}
		return v, ""
	case TypeGCPPSCID:
		return normalisePSC(v)
	case TypeHostPort, TypePrivateHostPort:
		hp, reason := parseHostPort(v, typ == TypeHostPort)
		if reason != "" {
			return "", reason
		}
		return hp.String(), ""
	case TypeComputePool:
		if strings.EqualFold(v, "ALL") {
			return "ALL", ""
		}
		if !isIdent(v) {
			return "", "expected a compute pool name or 'ALL'"
		}
		return strings.ToUpper(v), ""
	}
	return "", "unsupported type"
}

// parseIP parses an address or CIDR of one family into a masked prefix (a bare address
// becomes a full-length prefix).
func parseIP(v string, want4 bool) (netip.Prefix, string) {
	family := "IPv6"
	if want4 {
		family = "IPv4"
	}
	var p netip.Prefix
	if strings.Contains(v, "/") {
		var err error
		if p, err = netip.ParsePrefix(v); err != nil {
			return p, "expected an " + family + " address or CIDR"
		}
	} else {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return p, "expected an " + family + " address or CIDR"
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4() != want4 {
		return p, "expected an " + family + " address or CIDR"
	}
	return p.Masked(), ""
}

// formatPrefix renders a full-length prefix as a bare address.
func formatPrefix(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

func normaliseVPCE(v string) (string, string) {
	l := strings.ToLower(v)
	if !strings.HasPrefix(l, "vpce-") {
		return "", "expected a VPC endpoint id (vpce-...)"
	}
	h := l[len("vpce-"):]
	if len(h) < 8 || len(h) > 17 {
		return "", "expected a VPC endpoint id (vpce-...)"
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", "expected a VPC endpoint id (vpce-...)"
		}
	}
	return l, ""
}

// normalisePSC accepts a pscConnectionId or `{<id>:<ip|cidr>[,<ip|cidr>...]}`.
func normalisePSC(v string) (string, string) {
	if isDigits(v, 1, 20) {
		return v, ""
	}
	id, prefixes, ok := splitPSC(v)
	if !ok {
		return "", "expected a pscConnectionId or {<id>:<ip|cidr>,...}"
	}
	parts := make([]string, len(prefixes))
	for i, p := range prefixes {
		parts[i] = formatPrefix(p)
	}
	return "{" + id + ":" + strings.Join(parts, ",") + "}", ""
}

// splitPSC parses `{<id>:<ip|cidr>,...}`.
func splitPSC(v string) (string, []netip.Prefix, bool) {
	if len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
		return "", nil, false
	}
	id, rest, ok := strings.Cut(v[1:len(v)-1], ":")
	if !ok || !isDigits(id, 1, 20) || rest == "" {
		return "", nil, false
	}
	var ps []netip.Prefix
	for _, s := range strings.Split(rest, ",") {
		s = strings.TrimSpace(s)
		p, reason := parseIP(s, true)
		if reason != "" {
			if p, reason = parseIP(s, false); reason != "" {
				return "", nil, false
			}
		}
		ps = append(ps, p)
	}
	return id, ps, true
}

func isDigits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// hostPort is one parsed HOST_PORT / PRIVATE_HOST_PORT entry.
type hostPort struct {
	host      string // lower case; "0.0.0.0" means any host
	prefix    string // wildcard label: text before '*'
	suffix    string // wildcard label: text after '*'
	rest      string // wildcard: the labels after the first one, with the leading dot
	wildcard  bool
	lo, hi    int // port range; 0,0 = all ports
	portGiven bool
}

func (h hostPort) String() string {
	if !h.portGiven {
		return h.host
	}
	if h.lo == h.hi {
		return h.host + ":" + strconv.Itoa(h.lo)
	}
	return h.host + ":" + strconv.Itoa(h.lo) + "-" + strconv.Itoa(h.hi)
}

// matchPort reports whether the entry admits port p.
func (h hostPort) matchPort(p int) bool {
	if h.lo == 0 && h.hi == 0 {
		return true
	}
	return p >= h.lo && p <= h.hi
}

// parseHostPort parses `host[:port]` / `host:lo-hi` (default port 443, `:0` all ports).
func parseHostPort(v string, allowWildcard bool) (hostPort, string) {
	var h hostPort
	host, port, hasPort := strings.Cut(v, ":")
	host = strings.ToLower(host)
	h.host, h.lo, h.hi = host, 443, 443
	if hasPort {
		h.portGiven = true
		lo, hi, isRange := strings.Cut(port, "-")
		var ok bool
		if h.lo, ok = parsePort(lo); !ok {
			return h, "invalid port"
		}
		h.hi = h.lo
		if isRange {
			if h.hi, ok = parsePort(hi); !ok || h.lo == 0 || h.hi < h.lo {
				return h, "invalid port range"
			}
		}
	}
	if host == "0.0.0.0" {
		if !allowWildcard {
			return h, "a single domain is required"
		}
		if h.lo != h.hi || h.lo != 80 && h.lo != 443 {
			return h, "0.0.0.0 is allowed only with port 80 or 443"
		}
		return h, ""
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return h, "invalid host"
		}
		h.host = a.String()
		return h, ""
	}
	if len(host) == 0 || len(host) > 253 {
		return h, "invalid host"
	}
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if l == "" || len(l) > 63 {
			return h, "invalid host"
		}
		stars := strings.Count(l, "*")
		if stars > 0 {
			if !allowWildcard || i != 0 || stars > 1 || len(labels) < 2 {
				return h, "only one '*' wildcard, in the leftmost label, is allowed"
			}
			h.wildcard = true
			h.prefix, h.suffix, _ = strings.Cut(l, "*")
			h.rest = host[len(l):]
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '*' || c == '_') {
				return h, "invalid host"
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return h, "invalid host"
		}
	}
	return h, ""
}

func parsePort(s string) (int, bool) {
	if !isDigits(s, 1, 5) || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n <= 65535
}
