package netpolicy

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Rule is a network rule as stored in the catalog (Name fully qualified).
type Rule struct {
	Name, Type, Mode string
	Values           []string
}

// Policy is a network policy: its rule lists and its legacy IP lists.
type Policy struct {
	Name                       string
	AllowedRules, BlockedRules []Rule
	AllowedIPs, BlockedIPs     []string
}

// Decision is the outcome of an ingress check. Reason and Rule are for operators
// (`firn explain`, audit); they are never shown to the refused client.
type Decision struct {
	Allowed bool
	Reason  string
	Rule    string // the deciding rule, "ALLOWED_IP_LIST" / "BLOCKED_IP_LIST", or ""
	Policy  string // the deciding policy, "" when no policy applies
}

// Names used in Decision.Rule for the legacy lists.
const (
	AllowedIPList = "ALLOWED_IP_LIST"
	BlockedIPList = "BLOCKED_IP_LIST"
)

// Compiled is a network policy prepared for fast, allocation-free ingress decisions.
// A nil *Compiled is "no policy" and allows everything.
type Compiled struct {
	name             string
	allow4, block4   table
	allow6, block6   table
	has6             bool // any IPv6 rule, allowed or blocked
	allowAll4        bool // 0.0.0.0/0 in the IPv4 allowed list
	allowEP, blockEP map[string]endpointEntry
	names            []string
	hasAllowEP       bool
	allowIPKinds     bool // any allowed IPv4/IPv6 entry
}

// endpointEntry is one private-endpoint id; prefixes restrict source IPs (GCPPSCID).
type endpointEntry struct {
	owner    int32
	prefixes []netip.Prefix
}

// Compile validates a policy's rules (they must be INGRESS rules of an IP or endpoint
// type; COMPUTE_POOL rules are accepted and do not take part in address decisions)
// and builds the lookup tables.
func Compile(p Policy) (*Compiled, error) {
	c := &Compiled{name: p.Name, allowEP: map[string]endpointEntry{}, blockEP: map[string]endpointEntry{}}
	var a4, b4, a6, b6 []interval
	owner := func(name string) int32 {
		c.names = append(c.names, name)
		return int32(len(c.names) - 1)
	}
	if len(p.AllowedRules)+len(p.BlockedRules) > 0 {
		for i, list := range [][]Rule{p.AllowedRules, p.BlockedRules} {
			allowed := i == 0
			for _, r := range list {
				mode := strings.ToUpper(r.Mode)
				if mode == "" {
					mode = ModeIngress
				}
				if mode != ModeIngress && mode != ModeInternalStage {
					return nil, errInvalid("Network rule '%s' of MODE %s cannot be used in a network policy.", r.Name, mode)
				}
				vals, err := ValidateRule(r.Type, mode, r.Values)
				if err != nil {
					return nil, fmt.Errorf("network rule %s: %w", r.Name, err)
				}
				if mode != ModeIngress {
					continue // internal-stage rules do not gate the service endpoint
				}
				o := owner(r.Name)
				typ := strings.ToUpper(r.Type)
				for _, v := range vals {
					switch typ {
					case TypeIPv4, TypeIPv6:
						pfx, _ := parseIP(v, typ == TypeIPv4)
						iv := toInterval(pfx, o)
						switch {
						case typ == TypeIPv4 && allowed:
							a4 = append(a4, iv)
							c.allowAll4 = c.allowAll4 || pfx.Bits() == 0
						case typ == TypeIPv4:
							b4 = append(b4, iv)
						case allowed:
							a6 = append(a6, iv)
						default:
							b6 = append(b6, iv)
						}
						c.has6 = c.has6 || typ == TypeIPv6
					case TypeAWSVPCEID, TypeAzureLinkID, TypeGCPPSCID:
						e := endpointEntry{owner: o}
						id := v
						if typ == TypeGCPPSCID && strings.HasPrefix(v, "{") {
							id, e.prefixes, _ = splitPSC(v)
						}
						m := c.blockEP
						if allowed {
							m, c.hasAllowEP = c.allowEP, true
						}
						if old, dup := m[id]; dup && old.prefixes == nil {
							continue
						} else if dup && e.prefixes != nil {
							e.owner, e.prefixes = old.owner, append(old.prefixes, e.prefixes...)
						}
						m[id] = e
					}
				}
			}
		}
	} else {
		for i, list := range [][]string{p.AllowedIPs, p.BlockedIPs} {
			name := AllowedIPList
			if i == 1 {
				name = BlockedIPList
			}
			o := owner(name)
			for _, v := range list {
				pfx, reason := parseIP(strings.TrimSpace(v), true)
				if reason != "" {
					return nil, errInvalid("Invalid IP address or CIDR '%s' in %s.", v, name)
				}
				if i == 0 {
					a4 = append(a4, toInterval(pfx, o))
					c.allowAll4 = c.allowAll4 || pfx.Bits() == 0
				} else {
					b4 = append(b4, toInterval(pfx, o))
				}
			}
		}
	}
	c.allow4, c.block4, c.allow6, c.block6 = build(a4), build(b4), build(a6), build(b6)
	c.allowIPKinds = len(a4)+len(a6) > 0
	return c, nil
}

// Effective returns the policy that applies to a request: the most specific of the
// security integration's, the user's and the account's (no merging). nil means none.
func Effective(account, user, integration *Compiled) *Compiled {
	switch {
	case integration != nil:
		return integration
	case user != nil:
		return user
	}
	return account
}

// Name is the policy's name.
func (c *Compiled) Name() string {
	if c == nil {
		return ""
	}
	return c.name
}

// Decide evaluates the policy for a request from ip, arriving through the private
// endpoint id endpoint ("" for the public network), following reference §4:
// blocked entries first; over private connectivity an allowed list with endpoint-id
// rules decides alone; otherwise IPv4 and IPv6 are evaluated independently (an IPv6
// request with no IPv6 rules meets the IPv4 rules only); anything not allowed is denied.
func (c *Compiled) Decide(ip netip.Addr, endpoint string) Decision {
	if c == nil {
		return Decision{Allowed: true, Reason: "no network policy applies"}
	}
	ip = ip.Unmap()
	if endpoint != "" {
		if e, ok := c.blockEP[endpoint]; ok && e.admits(ip) {
			return c.deny("private endpoint is blocked", e.owner)
		}
	}
	is4 := ip.Is4()
	k := key(ip)
	if is4 {
		if o := c.block4.lookup(k); o >= 0 {
			return c.deny("IPv4 address is blocked", o)
		}
	} else if o := c.block6.lookup(k); o >= 0 {
		return c.deny("IPv6 address is blocked", o)
	}
	if endpoint != "" && c.hasAllowEP {
		if e, ok := c.allowEP[endpoint]; ok && e.admits(ip) {
			return c.allow("private endpoint is allowed", e.owner)
		}
		return Decision{Reason: "private endpoint is not in the allowed list", Policy: c.name}
	}
	switch {
	case is4:
		if o := c.allow4.lookup(k); o >= 0 {
			return c.allow("IPv4 address is allowed", o)
		}
		return Decision{Reason: "IPv4 address is not in the allowed list", Policy: c.name}
	case c.has6:
		if o := c.allow6.lookup(k); o >= 0 {
			return c.allow("IPv6 address is allowed", o)
		}
		return Decision{Reason: "IPv6 address is not in the allowed list", Policy: c.name}
	case c.allowAll4:
		return c.allow("IPv6 request with no IPv6 rules; the IPv4 allowed list admits all addresses", c.allow4.lookup(key(netip.IPv4Unspecified())))
	}
	return Decision{Reason: "IPv6 request with no IPv6 rules is not admitted by the IPv4 rules", Policy: c.name}
}

func (c *Compiled) deny(reason string, o int32) Decision {
	return Decision{Reason: reason, Rule: c.names[o], Policy: c.name}
}

func (c *Compiled) allow(reason string, o int32) Decision {
	return Decision{Allowed: true, Reason: reason, Rule: c.names[o], Policy: c.name}
}

func (e endpointEntry) admits(ip netip.Addr) bool {
	if e.prefixes == nil {
		return true
	}
	for _, p := range e.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) inc() (u128, bool) {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}, a.hi == ^uint64(0)
	}
	return u128{a.hi, a.lo + 1}, false
}

func key(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// interval is an inclusive address range owned by a rule (lower owner = earlier rule).
type interval struct {
	lo, hi u128
	owner  int32
}

func toInterval(p netip.Prefix, owner int32) interval {
	lo := key(p.Addr())
	width := 32
	if !p.Addr().Is4() {
		width = 128
	}
	host := width - p.Bits() // host bits
	hi := lo
	switch {
	case host >= 128:
		hi = u128{^uint64(0), ^uint64(0)}
	case host >= 64:
		hi = u128{lo.hi | (1<<(host-64) - 1), ^uint64(0)}
	case host > 0:
		hi.lo |= 1<<host - 1
	}
	return interval{lo, hi, owner}
}

// table is a sorted list of disjoint intervals; a lookup is one binary search.
type table []interval

func (t table) lookup(k u128) int32 {
	i, j := 0, len(t)
	for i < j { // first interval with lo > k
		h := int(uint(i+j) >> 1)
		if k.less(t[h].lo) {
			j = h
		} else {
			i = h + 1
		}
	}
	if i == 0 || t[i-1].hi.less(k) {
		return -1
	}
	return t[i-1].owner
}

// build turns possibly overlapping intervals into disjoint ones, each point owned by
// the earliest rule covering it (a sweep over the boundaries with a min-heap).
func build(ivs []interval) table {
	if len(ivs) == 0 {
		return nil
	}
	slices.SortFunc(ivs, func(a, b interval) int {
		if a.lo.less(b.lo) {
			return -1
		}
		if b.lo.less(a.lo) {
			return 1
		}
		return 0
	})
	points := make([]u128, 0, 2*len(ivs))
	for _, iv := range ivs {
		points = append(points, iv.lo)
		if n, over := iv.hi.inc(); !over {
			points = append(points, n)
		}
	}
	slices.SortFunc(points, func(a, b u128) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	points = slices.Compact(points)
	var out table
	h := &ivHeap{}
	next := 0
	for pi, p := range points {
		for next < len(ivs) && !p.less(ivs[next].lo) {
			heap.Push(h, ivs[next])
			next++
		}
		for h.Len() > 0 && (*h)[0].hi.less(p) {
			heap.Pop(h)
		}
		if h.Len() == 0 {
			continue
		}
		top := (*h)[0]
		end := u128{^uint64(0), ^uint64(0)}
		if pi+1 < len(points) {
			end = points[pi+1]
			if end.lo == 0 {
				end.hi--
			}
			end.lo--
		}
		if n := len(out); n > 0 && out[n-1].owner == top.owner {
			if nx, _ := out[n-1].hi.inc(); nx == p {
				out[n-1].hi = end
				continue
			}
		}
		out = append(out, interval{p, end, top.owner})
	}
	return out
}

type ivHeap []interval

func (h ivHeap) Len() int           { return len(h) }
func (h ivHeap) Less(i, j int) bool { return h[i].owner < h[j].owner }
func (h ivHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ivHeap) Push(x any)        { *h = append(*h, x.(interval)) }
func (h *ivHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
