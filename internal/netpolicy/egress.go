package netpolicy

import (
	"fmt"
	"strings"
)

// CompiledEgress is a set of HOST_PORT / PRIVATE_HOST_PORT egress rules (those of the
// external access integrations in effect) prepared for host:port decisions.
type CompiledEgress struct {
	exact    map[string][]egressEntry // host → entries
	wildcard []egressEntry
	anyHost  []egressEntry // 0.0.0.0 entries
}

type egressEntry struct {
	hp   hostPort
	rule string
}

// CompileEgress validates rules (HOST_PORT or PRIVATE_HOST_PORT, MODE EGRESS) and
// builds the matcher.
func CompileEgress(rules []Rule) (*CompiledEgress, error) {
	c := &CompiledEgress{exact: map[string][]egressEntry{}}
	for _, r := range rules {
		typ, mode := strings.ToUpper(r.Type), strings.ToUpper(r.Mode)
		if mode != ModeEgress || typ != TypeHostPort && typ != TypePrivateHostPort {
			return nil, errInvalid("Network rule '%s' of TYPE %s and MODE %s cannot be used for external access.", r.Name, typ, mode)
		}
		vals, err := ValidateRule(typ, mode, r.Values)
		if err != nil {
			return nil, fmt.Errorf("network rule %s: %w", r.Name, err)
		}
		for _, v := range vals {
			hp, _ := parseHostPort(v, typ == TypeHostPort)
			e := egressEntry{hp, r.Name}
			switch {
			case hp.host == "0.0.0.0":
				c.anyHost = append(c.anyHost, e)
			case hp.wildcard:
				c.wildcard = append(c.wildcard, e)
			default:
				c.exact[hp.host] = append(c.exact[hp.host], e)
			}
		}
	}
	return c, nil
}

// AllowHostPort reports whether a connection to host:port is allowed, and the name of
// the rule that allows it. Host names compare case-insensitively; a trailing dot is
// ignored. A wildcard '*' matches one or more of [A-Za-z0-9-] within the leftmost label.
func (c *CompiledEgress) AllowHostPort(host string, port int) (bool, string) {
	if c == nil || port < 1 || port > 65535 {
		return false, ""
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, e := range c.exact[host] {
		if e.hp.matchPort(port) {
			return true, e.rule
		}
	}
	for _, e := range c.wildcard {
		if e.hp.matchPort(port) && matchWildcard(e.hp, host) {
			return true, e.rule
		}
	}
	for _, e := range c.anyHost {
		if e.hp.matchPort(port) {
			return true, e.rule
		}
	}
	return false, ""
}

func matchWildcard(hp hostPort, host string) bool {
	first, rest, ok := strings.Cut(host, ".")
	if !ok || "."+rest != hp.rest {
		return false
	}
	if len(first) <= len(hp.prefix)+len(hp.suffix) ||
		!strings.HasPrefix(first, hp.prefix) || !strings.HasSuffix(first, hp.suffix) {
		return false
	}
	mid := first[len(hp.prefix) : len(first)-len(hp.suffix)]
	for i := 0; i < len(mid); i++ {
		c := mid[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
