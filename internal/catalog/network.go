package catalog

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/firn/firn/internal/store"
)

// Store kinds of network rules (schema objects) and network policies (account objects).
const (
	KindNetworkRule   = "NETWORK_RULE"
	KindNetworkPolicy = "NETWORK_POLICY"
)

// ParamNetworkPolicy is the account and user parameter that activates a network policy.
const ParamNetworkPolicy = "NETWORK_POLICY"

func init() {
	RegisterKind(KindSpec{Kind: "NETWORK RULE", Plural: "NETWORK RULES", StoreKind: KindNetworkRule,
		Level: LevelSchemaObject, Label: "Network rule"})
	RegisterKind(KindSpec{Kind: "NETWORK POLICY", Plural: "NETWORK POLICIES", StoreKind: KindNetworkPolicy,
		Level: LevelAccountObject, Label: "Network policy", Privileges: []string{PrivUsage}})
	RegisterReferenceMover("network policies", moveNetworkPolicyRules)
}

// NetworkRule is a schema-level network rule. Values are normalised by
// netpolicy.ValidateRule before they are stored.
type NetworkRule struct {
	Database string   `json:"database"`
	Schema   string   `json:"schema"`
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Mode     string   `json:"mode"`
	Values   []string `json:"values"`
	Comment  string   `json:"comment,omitempty"`
	Meta     Meta     `json:"-"`
}

// FullName is DB.SCHEMA.NAME.
func (r *NetworkRule) FullName() string { return r.Database + "." + r.Schema + "." + r.Name }

// NetworkRuleKey is the store key of a network rule.
func NetworkRuleKey(account, db, schema, name string) store.Key {
	return store.Key{Account: account, Kind: KindNetworkRule, Parent: db + "." + schema, Name: name}
}

// GetNetworkRule returns a network rule by exact names.
func GetNetworkRule(ctx context.Context, tx store.Tx, account, db, schema, name string) (*NetworkRule, error) {
	var r NetworkRule
	rec, err := load(ctx, tx, NetworkRuleKey(account, db, schema, name), &r)
	if err != nil {
		return nil, err
	}
	r.Database, r.Schema, r.Name = db, schema, name
	r.Meta = metaOf(rec)
	return &r, nil
}

// GetNetworkRuleByPath returns a network rule by its "DB.SCHEMA.NAME" path as stored
// in a policy's rule lists.
func GetNetworkRuleByPath(ctx context.Context, tx store.Tx, account, path string) (*NetworkRule, error) {
	db, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil, ErrNotFound
	}
	schema, name, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, ErrNotFound
	}
	return GetNetworkRule(ctx, tx, account, db, schema, name)
}

// ListNetworkRules returns the rules under parent ("DB.SCHEMA", or "*" for every schema).
func ListNetworkRules(ctx context.Context, tx store.Tx, account, parent string) ([]*NetworkRule, error) {
	rs, ms, err := list[NetworkRule](ctx, tx, account, KindNetworkRule, parent)
	for i := range rs {
		rs[i].Meta = ms[i]
	}
	return rs, err
}

// CreateNetworkRule inserts a new rule owned by owner.
func CreateNetworkRule(ctx context.Context, tx store.Tx, account, owner string, r *NetworkRule) error {
	_, err := insert(ctx, tx, NetworkRuleKey(account, r.Database, r.Schema, r.Name), owner, r)
	return err
}

// PutNetworkRule replaces an existing rule, keeping its owner.
func PutNetworkRule(ctx context.Context, tx store.Tx, account string, r *NetworkRule) error {
	return put(ctx, tx, NetworkRuleKey(account, r.Database, r.Schema, r.Name), "", r)
}

// DropNetworkRule removes a rule and the grants on it.
func DropNetworkRule(ctx context.Context, tx store.Tx, account, db, schema, name string) error {
	if err := tx.Delete(ctx, NetworkRuleKey(account, db, schema, name)); err != nil {
		return err
	}
	return DropGrantsOn(ctx, tx, account, Object{Kind: "NETWORK RULE", Database: db, Schema: schema, Name: name})
}

// NetworkPolicy is an account-level network policy. Rule lists hold "DB.SCHEMA.NAME"
// paths of network rules; IP lists hold normalised IPv4 addresses or CIDRs.
type NetworkPolicy struct {
	Name         string   `json:"name"`
	AllowedRules []string `json:"allowed_rules,omitempty"`
	BlockedRules []string `json:"blocked_rules,omitempty"`
	AllowedIPs   []string `json:"allowed_ips,omitempty"`
	BlockedIPs   []string `json:"blocked_ips,omitempty"`
	Comment      string   `json:"comment,omitempty"`
	Meta         Meta     `json:"-"`
}

// NetworkPolicyKey is the store key of a network policy.
func NetworkPolicyKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindNetworkPolicy, Name: name}
}

// GetNetworkPolicy returns a network policy by exact name.
func GetNetworkPolicy(ctx context.Context, tx store.Tx, account, name string) (*NetworkPolicy, error) {
	var p NetworkPolicy
	rec, err := load(ctx, tx, NetworkPolicyKey(account, name), &p)
	if err != nil {
		return nil, err
	}
	p.Meta = metaOf(rec)
	return &p, nil
}

// ListNetworkPolicies returns an account's network policies, ordered by name.
func ListNetworkPolicies(ctx context.Context, tx store.Tx, account string) ([]*NetworkPolicy, error) {
	ps, ms, err := list[NetworkPolicy](ctx, tx, account, KindNetworkPolicy, "")
	for i := range ps {
		ps[i].Meta = ms[i]
	}
	return ps, err
}

// CreateNetworkPolicy inserts a new policy owned by owner.
func CreateNetworkPolicy(ctx context.Context, tx store.Tx, account, owner string, p *NetworkPolicy) error {
	_, err := insert(ctx, tx, NetworkPolicyKey(account, p.Name), owner, p)
	return err
}

// PutNetworkPolicy replaces an existing policy, keeping its owner.
func PutNetworkPolicy(ctx context.Context, tx store.Tx, account string, p *NetworkPolicy) error {
	return put(ctx, tx, NetworkPolicyKey(account, p.Name), "", p)
}

// DropNetworkPolicy removes a policy and the grants on it.
func DropNetworkPolicy(ctx context.Context, tx store.Tx, account, name string) error {
	if err := tx.Delete(ctx, NetworkPolicyKey(account, name)); err != nil {
		return err
	}
	return DropGrantsOn(ctx, tx, account, Object{Kind: "NETWORK POLICY", Name: name})
}

// moveNetworkPolicyRules rewrites the rule lists of network policies that name
// rules inside a renamed database or schema, so a policy keeps enforcing the same
// rules (and never silently loses one, nor picks up a new rule that takes the old
// name). Callers invalidate the ingress guard after the commit.
func moveNetworkPolicyRules(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	pols, err := ListNetworkPolicies(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, p := range pols {
		changed := false
		for _, list := range [][]string{p.AllowedRules, p.BlockedRules} {
			for i, path := range list {
				if to, ok := m.Path(path); ok {
					list[i], changed = to, true
				}
			}
		}
		if !changed {
			continue
		}
		if err := PutNetworkPolicy(ctx, tx, account, p); err != nil {
			return err
		}
	}
	return nil
}

// IntegrationPolicies tells which network policy each security integration activates.
// Security integrations arrive with their own issue; until one is installed with
// SetIntegrationPolicies, no integration activates a policy.
type IntegrationPolicies interface {
	// IntegrationNetworkPolicies returns integration name → network policy name for
	// every integration of the account that has a NETWORK_POLICY.
	IntegrationNetworkPolicies(ctx context.Context, tx store.Tx, account string) (map[string]string, error)
}

// NoIntegrationPolicies is the default IntegrationPolicies: none.
type NoIntegrationPolicies struct{}

// IntegrationNetworkPolicies implements IntegrationPolicies.
func (NoIntegrationPolicies) IntegrationNetworkPolicies(context.Context, store.Tx, string) (map[string]string, error) {
	return nil, nil
}

type integrationBox struct{ p IntegrationPolicies }

var integrationPolicies atomic.Pointer[integrationBox]

func init() { integrationPolicies.Store(&integrationBox{NoIntegrationPolicies{}}) }

// IntegrationNetworkPolicies returns the installed IntegrationPolicies.
func IntegrationNetworkPolicies() IntegrationPolicies { return integrationPolicies.Load().p }

// SetIntegrationPolicies installs p (nil restores NoIntegrationPolicies) and returns the
// previous one.
func SetIntegrationPolicies(p IntegrationPolicies) IntegrationPolicies {
	if p == nil {
		p = NoIntegrationPolicies{}
	}
	return integrationPolicies.Swap(&integrationBox{p}).p
}

// NetworkPolicyAttachment is one place a network policy is active.
type NetworkPolicyAttachment struct {
	Level string // "ACCOUNT", "USER" or "INTEGRATION"
	Name  string // the account, user or integration name
}

// NetworkPolicyAttachments lists where a policy is active: on the account, on users
// and on security integrations.
func NetworkPolicyAttachments(ctx context.Context, tx store.Tx, account, policy string) ([]NetworkPolicyAttachment, error) {
	var out []NetworkPolicyAttachment
	a, err := GetAccount(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	if a.Params[ParamNetworkPolicy] == policy {
		out = append(out, NetworkPolicyAttachment{Level: "ACCOUNT", Name: account})
	}
	users, err := ListUsers(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Params[ParamNetworkPolicy] == policy {
			out = append(out, NetworkPolicyAttachment{Level: "USER", Name: u.Name})
		}
	}
	ints, err := IntegrationNetworkPolicies().IntegrationNetworkPolicies(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for i, p := range ints {
		if p == policy {
			out = append(out, NetworkPolicyAttachment{Level: "INTEGRATION", Name: i})
		}
	}
	return out, nil
}
