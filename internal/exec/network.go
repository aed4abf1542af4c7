package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/ingress"
	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// NETWORK RULE (schema object) and NETWORK POLICY (account object), reference §3-§4.
// Every change commits in one transaction and then invalidates the ingress guards'
// compiled state; changes that affect the account's active policy are refused when
// they would lock out the client making them.

func init() {
	creators["NETWORK RULE"] = (*Engine).createNetworkRule
	alterers["NETWORK RULE"] = (*Engine).alterNetworkRule
	droppers["NETWORK RULE"] = (*Engine).dropNetworkRule
	describers["NETWORK RULE"] = (*Engine).describeNetworkRule
	showers["NETWORK RULES"] = (*Engine).showNetworkRules
	creators["NETWORK POLICY"] = (*Engine).createNetworkPolicy
	alterers["NETWORK POLICY"] = (*Engine).alterNetworkPolicy
	droppers["NETWORK POLICY"] = (*Engine).dropNetworkPolicy
	describers["NETWORK POLICY"] = (*Engine).describeNetworkPolicy
	showers["NETWORK POLICIES"] = (*Engine).showNetworkPolicies
}

// ruleName resolves a network rule name against the session's database and schema.
func ruleName(s *session.Session, n sql.ObjectName, verb string) (db, schema, name string, err error) {
	switch len(n.Parts) {
	case 1:
		if s.Database == "" || s.Schema == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		return s.Database, s.Schema, n.Parts[0].Name, nil
	case 2:
		if s.Database == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		return s.Database, n.Parts[0].Name, n.Parts[1].Name, nil
	case 3:
		return n.Parts[0].Name, n.Parts[1].Name, n.Parts[2].Name, nil
	}
	return "", "", "", sferr.DoesNotExist("Network rule", n.String())
}

func ruleMissing(path string) *sferr.Error { return sferr.DoesNotExist("Network rule", path) }

func policyMissing(name string) *sferr.Error { return sferr.DoesNotExist("Network policy", name) }

// netStringList reads a parenthesised list of string literals.
func netStringList(p sql.Property) ([]string, error) {
	if p.Value.Kind != sql.ValList {
		return nil, invalidValue(p.Name, p.Value)
	}
	out := make([]string, 0, len(p.Value.List))
	for _, v := range p.Value.List {
		if v.Kind != sql.ValString {
			return nil, invalidValue(p.Name, p.Value)
		}
		out = append(out, strings.TrimSpace(v.Str))
	}
	return out, nil
}

// netWordValue reads a keyword-like value (TYPE = IPV4, MODE = 'INGRESS').
func netWordValue(p sql.Property) (string, error) {
	switch p.Value.Kind {
	case sql.ValIdent:
		if len(p.Value.Ident.Parts) == 1 {
			return strings.ToUpper(p.Value.Ident.Parts[0].Name), nil
		}
	case sql.ValString:
		return strings.ToUpper(strings.TrimSpace(p.Value.Str)), nil
	}
	return "", invalidValue(p.Name, p.Value)
}

// requestOrigin is the address and private endpoint of the request running a statement:
// the edge identity of the connection, else the address the session logged in from.
func requestOrigin(ctx context.Context, s *session.Session) (netip.Addr, string) {
	if id, ok := edge.IdentityFrom(ctx); ok && id.Addr.IsValid() {
		return id.Addr.Addr().Unmap(), id.Endpoint
	}
	a, _ := netip.ParseAddr(s.ClientIP)
	return a.Unmap(), ""
}

// lockedOut is Snowflake's refusal to activate (or change) the account's policy so
// that it would block the client doing it.
func lockedOut(policy string, ip netip.Addr) *sferr.Error {
	return sferr.Compilation("001498", "42601", fmt.Sprintf("Network policy %s cannot be activated. Requestor IP address/Token, %s, must be included in the allowed_ip_list or allowed network rules. To add the specific IP, execute command \"ALTER NETWORK POLICY %s SET ALLOWED_IP_LIST=('%s');\". Similarly, a CIDR block of IP addresses can be added instead of the specific IP address.", policy, ip, policy, ip))
}

// checkSelfLockout refuses the statement when, with the transaction's changes, the
// account's active network policy would refuse the client running it. It evaluates
// with the same compilation and decision the ingress guard uses.
func checkSelfLockout(ctx context.Context, tx store.Tx, s *session.Session) error {
	a, err := catalog.GetAccount(ctx, tx, s.Account)
	if err != nil {
		return err
	}
	name := a.Params[catalog.ParamNetworkPolicy]
	if name == "" {
		return nil
	}
	ip, endpoint := requestOrigin(ctx, s)
	if !ip.IsValid() {
		return nil
	}
	c, err := ingress.LoadPolicy(ctx, tx, s.Account, name)
	if err != nil {
		return err
	}
	if d := c.Decide(ip, endpoint); !d.Allowed {
		return lockedOut(name, ip)
	}
	return nil
}

// ---- NETWORK RULE ----

// ruleProps applies CREATE NETWORK RULE properties.
func ruleProps(props []sql.Property, r *catalog.NetworkRule) (typeSet, valuesSet bool, err error) {
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.Name] {
			return false, false, sferr.Compilation("001423", "22023", fmt.Sprintf("duplicate property '%s'", p.Name))
		}
		seen[p.Name] = true
		switch p.Name {
		case "TYPE":
			if r.Type, err = netWordValue(p); err != nil {
				return
			}
			typeSet = true
		case "MODE":
			if r.Mode, err = netWordValue(p); err != nil {
				return
			}
		case "VALUE_LIST":
			if r.Values, err = netStringList(p); err != nil {
				return
			}
			valuesSet = true
		case "COMMENT":
			if r.Comment, err = propString(p.Name, p.Value); err != nil {
				return
			}
		default:
			return false, false, invalidProperty(p.Name, "NETWORK RULE")
		}
	}
	return typeSet, valuesSet, nil
}

func (e *Engine) createNetworkRule(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	db, schema, name, err := ruleName(s, st.Name, "CREATE NETWORK RULE")
	if err != nil {
		return nil, err
	}
	r := &catalog.NetworkRule{Database: db, Schema: schema, Name: name, Mode: netpolicy.ModeIngress}
	typeSet, valuesSet, err := ruleProps(st.Props, r)
	if err != nil {
		return nil, err
	}
	if !typeSet {
		return nil, sferr.Compilation("001423", "22023", "Missing required property 'TYPE' for NETWORK RULE.")
	}
	if !valuesSet {
		return nil, sferr.Compilation("001423", "22023", "Missing required property 'VALUE_LIST' for NETWORK RULE.")
	}
	if r.Values, err = netpolicy.ValidateRule(r.Type, r.Mode, r.Values); err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, ar *authz.Active) error {
		schemaOwner, err := catalog.Owner(ctx, tx, catalog.SchemaKey(s.Account, db, schema))
		if catalog.IsNotFound(err) {
			return sferr.DoesNotExist("Schema", db+"."+schema)
		}
		if err != nil {
			return err
		}
		if !ar.CanCreate(catalog.Object{Kind: "SCHEMA", Database: db, Name: schema}, schemaOwner, "CREATE NETWORK RULE") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("schema '%s'", schema))
		}
		old, err := catalog.GetNetworkRule(ctx, tx, s.Account, db, schema, name)
		switch {
		case err == nil && st.OrAlter:
			if !authz.Owns(ar.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("network rule '%s'", name))
			}
			if old.Type != r.Type || old.Mode != r.Mode {
				return sferr.Compilation("001423", "22023", fmt.Sprintf("Cannot change TYPE or MODE of network rule '%s'.", name))
			}
			old.Values, old.Comment = r.Values, r.Comment
			if err := catalog.PutNetworkRule(ctx, tx, s.Account, old); err != nil {
				return err
			}
			out = result.Status(result.DDL, executed)
			return checkSelfLockout(ctx, tx, s)
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if !authz.Owns(ar.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("network rule '%s'", name))
			}
			if err := catalog.DropNetworkRule(ctx, tx, s.Account, db, schema, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateNetworkRule(ctx, tx, s.Account, s.Role, r); err != nil {
			return err
		}
		if err := catalog.ApplyFutureGrants(ctx, tx, s.Account, catalog.Object{Kind: "NETWORK RULE", Database: db, Schema: schema, Name: name}, s.Role); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Network rule %s successfully created.", name))
		// A replaced rule may be used by the active account policy.
		return checkSelfLockout(ctx, tx, s)
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return out, nil
}

func (e *Engine) alterNetworkRule(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	db, schema, name, err := ruleName(s, st.Name, "ALTER NETWORK RULE")
	if err != nil {
		return nil, err
	}
	if st.RenameTo != nil || st.Other != "" {
		return nil, unsupported("ALTER NETWORK RULE " + st.Other)
	}
	var values []string
	var comment *string
	for _, p := range st.Set {
		switch p.Name {
		case "VALUE_LIST":
			if values, err = netStringList(p); err != nil {
				return nil, err
			}
			if values == nil {
				values = []string{}
			}
		case "COMMENT":
			c, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			comment = &c
		default:
			return nil, invalidProperty(p.Name, "NETWORK RULE")
		}
	}
	for _, n := range st.Unset {
		switch strings.ToUpper(n) {
		case "VALUE_LIST":
			values = []string{}
		case "COMMENT":
			empty := ""
			comment = &empty
		default:
			return nil, invalidProperty(strings.ToUpper(n), "NETWORK RULE")
		}
	}
	key := catalog.NetworkRuleKey(s.Account, db, schema, name)
	set, err := e.alterOwned(ctx, s, st, key, "Network rule", name, func(tx store.Tx) error {
		r, err := catalog.GetNetworkRule(ctx, tx, s.Account, db, schema, name)
		if err != nil {
			return err
		}
		if values != nil {
			if r.Values, err = netpolicy.ValidateRule(r.Type, r.Mode, values); err != nil {
				return err
			}
		}
		if comment != nil {
			r.Comment = *comment
		}
		if err := catalog.PutNetworkRule(ctx, tx, s.Account, r); err != nil {
			return err
		}
		return checkSelfLockout(ctx, tx, s)
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return set, nil
}

func (e *Engine) dropNetworkRule(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	db, schema, name, err := ruleName(s, st.Name, "DROP NETWORK RULE")
	if err != nil {
		return nil, err
	}
	path := db + "." + schema + "." + name
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		rule, err := catalog.GetNetworkRule(ctx, tx, s.Account, db, schema, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return ruleMissing(path)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, rule.Meta.Owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("network rule '%s'", name))
		}
		if err := ruleInUse(ctx, tx, s.Account, db, schema, name); err != nil {
			return err
		}
		if err := catalog.DropNetworkRule(ctx, tx, s.Account, db, schema, name); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return out, nil
}

// ruleInUse refuses to drop a rule that a network policy or an external access
// integration still names: dropping it would silently weaken the policy.
func ruleInUse(ctx context.Context, tx store.Tx, account, db, schema, name string) error {
	path := db + "." + schema + "." + name
	pols, err := catalog.ListNetworkPolicies(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, p := range pols {
		if slices.Contains(p.AllowedRules, path) || slices.Contains(p.BlockedRules, path) {
			return sferr.Compilation("001492", "42601", fmt.Sprintf("Cannot perform Drop operation on network rule %s. The rule is used by network policy %s. Remove the rule from the network policy and try the Drop operation again.", name, p.Name))
		}
	}
	ints, err := catalog.ListIntegrations(ctx, tx, account)
	if err != nil {
		return err
	}
	ruleObj := catalog.Object{Kind: "NETWORK RULE", Database: db, Schema: schema, Name: name}
	for _, in := range ints {
		if slices.Contains(in.AllowedNetworkRules, ruleObj) {
			return sferr.Compilation("001492", "42601", fmt.Sprintf("Cannot perform Drop operation on network rule %s. The rule is used by integration %s. Remove the rule from the integration and try the Drop operation again.", name, in.Name))
		}
	}
	return nil
}

// rulesInUseWithin applies ruleInUse to every rule of a database (schema "") or
// schema about to be dropped, so DROP DATABASE/SCHEMA cannot remove a rule that a
// policy still depends on either.
func rulesInUseWithin(ctx context.Context, tx store.Tx, account, db, schema string) error {
	rules, err := catalog.ListNetworkRules(ctx, tx, account, "*")
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.Database != db || (schema != "" && r.Schema != schema) {
			continue
		}
		if err := ruleInUse(ctx, tx, account, r.Database, r.Schema, r.Name); err != nil {
			return err
		}
	}
	return nil
}

// visibleRule loads a rule the active roles may see, or answers 002003.
func visibleRule(ctx context.Context, tx store.Tx, s *session.Session, db, schema, name string) (*catalog.NetworkRule, error) {
	rule, err := catalog.GetNetworkRule(ctx, tx, s.Account, db, schema, name)
	if catalog.IsNotFound(err) {
		return nil, ruleMissing(db + "." + schema + "." + name)
	}
	if err != nil {
		return nil, err
	}
	r, err := roles(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	if !r.Sees(catalog.Object{Kind: "NETWORK RULE", Database: db, Schema: schema, Name: name}, rule.Meta.Owner) {
		return nil, ruleMissing(db + "." + schema + "." + name)
	}
	return rule, nil
}

func (e *Engine) describeNetworkRule(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	db, schema, name, err := ruleName(s, st.Name, "DESCRIBE NETWORK RULE")
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("database_name"), result.Text("schema_name"),
		result.Text("owner"), result.Text("comment"), result.Text("type"), result.Text("mode"), result.Text("value_list"),
	}}
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := visibleRule(ctx, tx, s, db, schema, name)
		if err != nil {
			return err
		}
		set.Rows = append(set.Rows, []any{r.Meta.Created, r.Name, r.Database, r.Schema, r.Meta.Owner, r.Comment,
			r.Type, r.Mode, strings.Join(r.Values, ",")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

func (e *Engine) showNetworkRules(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	parent, db := "*", ""
	switch st.InKind {
	case "ACCOUNT":
	case "DATABASE":
		db = s.Database
		if st.InName != nil {
			db = st.InName.Last().Name
		}
		if db == "" {
			return nil, noCurrentDatabase("SHOW NETWORK RULES")
		}
		if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
			if catalog.IsNotFound(err) {
				return nil, sferr.DoesNotExist("Database", db)
			}
			return nil, err
		}
	case "SCHEMA":
		var n sql.ObjectName
		if st.InName != nil {
			n = *st.InName
		} else if s.Schema != "" {
			n = sql.ObjectName{Parts: []sql.Ident{{Name: s.Schema}}}
		}
		d, sc, err := schemaName(s, n, "SHOW NETWORK RULES")
		if err != nil {
			return nil, err
		}
		if _, err := catalog.GetSchema(ctx, tx, s.Account, d, sc); err != nil {
			if catalog.IsNotFound(err) {
				return nil, sferr.DoesNotExist("Schema", d+"."+sc)
			}
			return nil, err
		}
		parent = d + "." + sc
	case "":
		switch {
		case s.Database != "" && s.Schema != "":
			parent = s.Database + "." + s.Schema
		case s.Database != "":
			db = s.Database
		}
	default:
		return nil, sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'SHOW NETWORK RULES IN %s'.", st.InKind))
	}
	rules, err := catalog.ListNetworkRules(ctx, tx, s.Account, parent)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rules, func(a, b *catalog.NetworkRule) int { return strings.Compare(a.FullName(), b.FullName()) })
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("database_name"), result.Text("schema_name"),
		result.Text("owner"), result.Text("comment"), result.Text("type"), result.Text("mode"),
		result.Fixed("entries_in_valuelist"), result.Text("owner_role_type"),
	}}
	f := &filter{st: st}
	for _, rule := range rules {
		if db != "" && rule.Database != db {
			continue
		}
		o := catalog.Object{Kind: "NETWORK RULE", Database: rule.Database, Schema: rule.Schema, Name: rule.Name}
		if !visibleObject(r, o, rule.Meta.Owner) || !f.keep(rule.Name) {
			continue
		}
		set.Rows = append(set.Rows, []any{rule.Meta.Created, rule.Name, rule.Database, rule.Schema, rule.Meta.Owner,
			rule.Comment, rule.Type, rule.Mode, int64(len(rule.Values)), ownerRoleType(rule.Meta.Owner)})
	}
	return set, nil
}

// ---- NETWORK POLICY ----

// Policy list properties.
const (
	propAllowedRules = "ALLOWED_NETWORK_RULE_LIST"
	propBlockedRules = "BLOCKED_NETWORK_RULE_LIST"
	propAllowedIPs   = "ALLOWED_IP_LIST"
	propBlockedIPs   = "BLOCKED_IP_LIST"
)

// policyEdit is a parsed set of policy property changes; nil fields are untouched.
type policyEdit struct {
	lists   map[string][]string // property → new value (rule paths resolved later)
	ruleRef map[string][]sql.Value
	comment *string
}

// parsePolicyProps reads network policy properties (CREATE, ALTER ... SET, ADD/REMOVE).
func parsePolicyProps(props []sql.Property) (*policyEdit, error) {
	ed := &policyEdit{lists: map[string][]string{}, ruleRef: map[string][]sql.Value{}}
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.Name] {
			return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("duplicate property '%s'", p.Name))
		}
		seen[p.Name] = true
		switch p.Name {
		case propAllowedRules, propBlockedRules:
			if p.Value.Kind != sql.ValList {
				return nil, invalidValue(p.Name, p.Value)
			}
			ed.ruleRef[p.Name] = p.Value.List
		case propAllowedIPs, propBlockedIPs:
			l, err := netStringList(p)
			if err != nil {
				return nil, err
			}
			if n := len(strings.Join(l, ",")); n > 100000 {
				return nil, invalidValue(p.Name, p.Value)
			}
			ed.lists[p.Name] = l
		case "COMMENT":
			c, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			ed.comment = &c
		default:
			return nil, invalidProperty(p.Name, "NETWORK POLICY")
		}
	}
	return ed, nil
}

// resolveRules turns rule references (quoted 'db.sch.rule' or unqualified names)
// into DB.SCHEMA.NAME paths of existing rules.
func resolveRules(ctx context.Context, tx store.Tx, s *session.Session, refs []sql.Value) ([]string, error) {
	out := make([]string, 0, len(refs))
	for _, v := range refs {
		var n sql.ObjectName
		switch v.Kind {
		case sql.ValIdent:
			n = v.Ident
		case sql.ValString:
			for _, part := range strings.Split(v.Str, ".") {
				n.Parts = append(n.Parts, sql.Ident{Name: foldName(part)})
			}
		default:
			return nil, invalidValue("NETWORK_RULE_LIST", v)
		}
		db, schema, name, err := ruleName(s, n, "NETWORK POLICY")
		if err != nil {
			return nil, err
		}
		path := db + "." + schema + "." + name
		if _, err := catalog.GetNetworkRule(ctx, tx, s.Account, db, schema, name); err != nil {
			if catalog.IsNotFound(err) {
				return nil, ruleMissing(path)
			}
			return nil, err
		}
		if !slices.Contains(out, path) {
			out = append(out, path)
		}
	}
	return out, nil
}

// apply writes the edit onto p, resolving rule references in tx. With replace, lists
// the edit does not name are cleared (CREATE OR ALTER).
func (ed *policyEdit) apply(ctx context.Context, tx store.Tx, s *session.Session, p *catalog.NetworkPolicy, replace bool) error {
	if replace {
		p.AllowedRules, p.BlockedRules, p.AllowedIPs, p.BlockedIPs, p.Comment = nil, nil, nil, nil, ""
	}
	for prop, refs := range ed.ruleRef {
		paths, err := resolveRules(ctx, tx, s, refs)
		if err != nil {
			return err
		}
		*policyList(p, prop) = paths
	}
	for prop, l := range ed.lists {
		*policyList(p, prop) = l
	}
	if ed.comment != nil {
		p.Comment = *ed.comment
	}
	return nil
}

func policyList(p *catalog.NetworkPolicy, prop string) *[]string {
	switch prop {
	case propAllowedRules:
		return &p.AllowedRules
	case propBlockedRules:
		return &p.BlockedRules
	case propAllowedIPs:
		return &p.AllowedIPs
	}
	return &p.BlockedIPs
}

// validatePolicy compiles p against the rules in tx, so that a policy naming an
// egress rule or holding a bad address is refused with netpolicy's error.
func validatePolicy(ctx context.Context, tx store.Tx, account string, p *catalog.NetworkPolicy) error {
	_, err := ingress.CompilePolicy(ctx, tx, account, p)
	return err
}

// attachedError is Snowflake's refusal to drop or replace an active policy.
func attachedError(op, policy string, at catalog.NetworkPolicyAttachment) *sferr.Error {
	return sferr.Compilation("001492", "42601", fmt.Sprintf("Cannot perform %s operation on network policy %s. The policy is attached to %s with name %s. Unset the network policy from %s and try the %s operation again.", op, policy, at.Level, at.Name, at.Level, op))
}

func (e *Engine) createNetworkPolicy(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	ed, err := parsePolicyProps(st.Props)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !authz.HasAccountPrivilege(r.Primary, "CREATE NETWORK POLICY") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		old, err := catalog.GetNetworkPolicy(ctx, tx, s.Account, name)
		switch {
		case err == nil && st.OrAlter:
			if !authz.Owns(r.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("network policy '%s'", name))
			}
			if err := ed.apply(ctx, tx, s, old, true); err != nil {
				return err
			}
			if err := validatePolicy(ctx, tx, s.Account, old); err != nil {
				return err
			}
			if err := catalog.PutNetworkPolicy(ctx, tx, s.Account, old); err != nil {
				return err
			}
			out = result.Status(result.DDL, executed)
			return checkSelfLockout(ctx, tx, s)
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if !authz.Owns(r.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("network policy '%s'", name))
			}
			at, err := catalog.NetworkPolicyAttachments(ctx, tx, s.Account, name)
			if err != nil {
				return err
			}
			if len(at) > 0 {
				return attachedError("Replace", name, at[0])
			}
			if err := catalog.DropNetworkPolicy(ctx, tx, s.Account, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		p := &catalog.NetworkPolicy{Name: name}
		if err := ed.apply(ctx, tx, s, p, false); err != nil {
			return err
		}
		if err := validatePolicy(ctx, tx, s.Account, p); err != nil {
			return err
		}
		if err := catalog.CreateNetworkPolicy(ctx, tx, s.Account, s.Role, p); err != nil {
			return err
		}
		out = result.Status(result.DDL, executed)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return out, nil
}

func (e *Engine) alterNetworkPolicy(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var (
		ed     *policyEdit
		unset  []string
		op     string // "", "ADD", "REMOVE"
		rename string
	)
	switch {
	case st.RenameTo != nil:
		if rename, err = accountObjectName(*st.RenameTo); err != nil {
			return nil, err
		}
	case st.Other == "ADD" || st.Other == "REMOVE":
		op = st.Other
		if len(st.OtherProps) != 1 || (st.OtherProps[0].Name != propAllowedRules && st.OtherProps[0].Name != propBlockedRules) {
			return nil, sferr.Compilation("001003", "42000", fmt.Sprintf("syntax error: %s accepts exactly one of %s, %s.", op, propAllowedRules, propBlockedRules))
		}
		if ed, err = parsePolicyProps(st.OtherProps); err != nil {
			return nil, err
		}
	case st.Other != "":
		return nil, unsupported("ALTER NETWORK POLICY " + st.Other)
	case len(st.Set) > 0:
		if ed, err = parsePolicyProps(st.Set); err != nil {
			return nil, err
		}
	default:
		for _, n := range st.Unset {
			n = strings.ToUpper(n)
			switch n {
			case propAllowedRules, propBlockedRules, propAllowedIPs, propBlockedIPs, "COMMENT":
				unset = append(unset, n)
			default:
				return nil, invalidProperty(n, "NETWORK POLICY")
			}
		}
	}
	set, err := e.alterOwned(ctx, s, st, catalog.NetworkPolicyKey(s.Account, name), "Network policy", name, func(tx store.Tx) error {
		p, err := catalog.GetNetworkPolicy(ctx, tx, s.Account, name)
		if err != nil {
			return err
		}
		switch {
		case rename != "":
			return renameNetworkPolicy(ctx, tx, s.Account, p, rename)
		case op != "":
			for prop, refs := range ed.ruleRef {
				paths, err := resolveRules(ctx, tx, s, refs)
				if err != nil {
					return err
				}
				l := policyList(p, prop)
				for _, path := range paths {
					i := slices.Index(*l, path)
					switch {
					case op == "ADD" && i < 0:
						*l = append(*l, path)
					case op == "REMOVE" && i >= 0:
						*l = slices.Delete(*l, i, i+1)
					}
				}
			}
		case ed != nil:
			if err := ed.apply(ctx, tx, s, p, false); err != nil {
				return err
			}
		default:
			for _, n := range unset {
				if n == "COMMENT" {
					p.Comment = ""
				} else {
					*policyList(p, n) = nil
				}
			}
		}
		if err := validatePolicy(ctx, tx, s.Account, p); err != nil {
			return err
		}
		if err := catalog.PutNetworkPolicy(ctx, tx, s.Account, p); err != nil {
			return err
		}
		return checkSelfLockout(ctx, tx, s)
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return set, nil
}

// renameNetworkPolicy renames a policy and moves its activations on the account and
// users with it (integrations cannot be rewritten from here, so a policy attached to
// one is refused).
func renameNetworkPolicy(ctx context.Context, tx store.Tx, account string, p *catalog.NetworkPolicy, to string) error {
	if _, err := catalog.GetNetworkPolicy(ctx, tx, account, to); err == nil {
		return sferr.AlreadyExists("Object", to)
	} else if !catalog.IsNotFound(err) {
		return err
	}
	at, err := catalog.NetworkPolicyAttachments(ctx, tx, account, p.Name)
	if err != nil {
		return err
	}
	for _, a := range at {
		switch a.Level {
		case "ACCOUNT":
			acct, err := catalog.GetAccount(ctx, tx, account)
			if err != nil {
				return err
			}
			acct.Params[catalog.ParamNetworkPolicy] = to
			if err := catalog.PutAccount(ctx, tx, acct); err != nil {
				return err
			}
		case "USER":
			u, err := catalog.GetUser(ctx, tx, account, a.Name)
			if err != nil {
				return err
			}
			u.Params[catalog.ParamNetworkPolicy] = to
			if err := catalog.PutUser(ctx, tx, account, u); err != nil {
				return err
			}
		default:
			return attachedError("Rename", p.Name, a)
		}
	}
	if err := tx.Rename(ctx, catalog.NetworkPolicyKey(account, p.Name), catalog.NetworkPolicyKey(account, to)); err != nil {
		return err
	}
	old := p.Name
	p.Name = to
	if err := catalog.PutNetworkPolicy(ctx, tx, account, p); err != nil {
		return err
	}
	return catalog.MoveGrants(ctx, tx, account, func(o catalog.Object) (catalog.Object, bool) {
		if o.Kind == "NETWORK POLICY" && o.Name == old {
			o.Name = to
			return o, true
		}
		return o, false
	})
}

func (e *Engine) dropNetworkPolicy(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		p, err := catalog.GetNetworkPolicy(ctx, tx, s.Account, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return policyMissing(name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, p.Meta.Owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("network policy '%s'", name))
		}
		at, err := catalog.NetworkPolicyAttachments(ctx, tx, s.Account, name)
		if err != nil {
			return err
		}
		if len(at) > 0 {
			return attachedError("Drop", name, at[0])
		}
		if err := catalog.DropNetworkPolicy(ctx, tx, s.Account, name); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	ingress.Invalidate()
	return out, nil
}

// ruleListJSON renders a rule list as DESC NETWORK POLICY does (reference §4).
func ruleListJSON(paths []string) string {
	type ref struct {
		FullyQualifiedRuleName string `json:"fullyQualifiedRuleName"`
	}
	refs := make([]ref, len(paths))
	for i, p := range paths {
		refs[i] = ref{p}
	}
	b, _ := json.Marshal(refs)
	return string(b)
}

func (e *Engine) describeNetworkPolicy(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{result.Text("name"), result.Text("value")}}
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		p, err := catalog.GetNetworkPolicy(ctx, tx, s.Account, name)
		if catalog.IsNotFound(err) {
			return policyMissing(name)
		}
		if err != nil {
			return err
		}
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		if !r.Sees(catalog.Object{Kind: "NETWORK POLICY", Name: name}, p.Meta.Owner) {
			return policyMissing(name)
		}
		if len(p.AllowedIPs) > 0 {
			set.Rows = append(set.Rows, []any{propAllowedIPs, strings.Join(p.AllowedIPs, ",")})
		}
		if len(p.BlockedIPs) > 0 {
			set.Rows = append(set.Rows, []any{propBlockedIPs, strings.Join(p.BlockedIPs, ",")})
		}
		if len(p.AllowedRules) > 0 {
			set.Rows = append(set.Rows, []any{propAllowedRules, ruleListJSON(p.AllowedRules)})
		}
		if len(p.BlockedRules) > 0 {
			set.Rows = append(set.Rows, []any{propBlockedRules, ruleListJSON(p.BlockedRules)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

func (e *Engine) showNetworkPolicies(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	pols, err := catalog.ListNetworkPolicies(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("comment"),
		result.Fixed("entries_in_allowed_ip_list"), result.Fixed("entries_in_blocked_ip_list"),
		result.Fixed("entries_in_allowed_network_rules"), result.Fixed("entries_in_blocked_network_rules"),
	}}
	f := &filter{st: st}
	for _, p := range pols {
		if !visibleObject(r, catalog.Object{Kind: "NETWORK POLICY", Name: p.Name}, p.Meta.Owner) || !f.keep(p.Name) {
			continue
		}
		set.Rows = append(set.Rows, []any{p.Meta.Created, p.Name, p.Comment, int64(len(p.AllowedIPs)), int64(len(p.BlockedIPs)),
			int64(len(p.AllowedRules)), int64(len(p.BlockedRules))})
	}
	return set, nil
}

// ---- activation (ALTER ACCOUNT / ALTER USER / CREATE USER ... NETWORK_POLICY) ----

// policyParamValue reads the policy name of a NETWORK_POLICY = <name> property.
func policyParamValue(p sql.Property) (string, error) {
	switch p.Value.Kind {
	case sql.ValIdent:
		if len(p.Value.Ident.Parts) == 1 {
			return p.Value.Ident.Parts[0].Name, nil
		}
	case sql.ValString:
		if n := foldName(p.Value.Str); n != "" {
			return n, nil
		}
	}
	return "", invalidValue(p.Name, p.Value)
}

// onlyNetworkPolicy reports whether an ALTER ACCOUNT touches NETWORK_POLICY, and
// whether it touches nothing else.
func onlyNetworkPolicy(st *sql.Alter) (touches, only bool) {
	only = true
	for _, p := range st.Set {
		if p.Name == catalog.ParamNetworkPolicy {
			touches = true
		} else {
			only = false
		}
	}
	for _, n := range st.Unset {
		if strings.EqualFold(n, catalog.ParamNetworkPolicy) {
			touches = true
		} else {
			only = false
		}
	}
	return touches, only
}

// alterAccountNetworkPolicy handles ALTER ACCOUNT SET | UNSET NETWORK_POLICY: SECURITYADMIN
// (or a role with ATTACH POLICY) may do it; the policy must exist; activation is
// refused when the policy would block the client activating it. Returns handled false
// when the statement does not touch NETWORK_POLICY.
func (e *Engine) alterAccountNetworkPolicy(ctx context.Context, s *session.Session, st *sql.Alter) (set *result.Set, handled bool, err error) {
	touches, only := onlyNetworkPolicy(st)
	if !touches {
		return nil, false, nil
	}
	if !only || st.RenameTo != nil || st.Other != "" {
		return nil, true, unsupported("ALTER ACCOUNT SET NETWORK_POLICY with other properties")
	}
	name := ""
	if len(st.Set) > 0 {
		if name, err = policyParamValue(st.Set[0]); err != nil {
			return nil, true, err
		}
	}
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !r.All.Has(catalog.RoleSecurityAdmin) && !authz.HasAccountPrivilege(r.All, "ATTACH POLICY") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		a, err := catalog.GetAccount(ctx, tx, s.Account)
		if err != nil {
			return err
		}
		if a.Params == nil {
			a.Params = map[string]string{}
		}
		if name == "" {
			delete(a.Params, catalog.ParamNetworkPolicy)
		} else {
			if _, err := catalog.GetNetworkPolicy(ctx, tx, s.Account, name); err != nil {
				if catalog.IsNotFound(err) {
					return policyMissing(name)
				}
				return err
			}
			a.Params[catalog.ParamNetworkPolicy] = name
		}
		if err := catalog.PutAccount(ctx, tx, a); err != nil {
			return err
		}
		return checkSelfLockout(ctx, tx, s)
	})
	if err != nil {
		return nil, true, err
	}
	ingress.Invalidate()
	return result.Status(result.DDL, executed), true, nil
}

// userNetworkPolicy checks a NETWORK_POLICY set on a user by CREATE USER or ALTER
// USER (already applied to u): the policy must exist and the active roles must own it
// or hold USAGE on it. The stored value is the policy's exact name.
func userNetworkPolicy(ctx context.Context, tx store.Tx, account string, r *authz.Active, props []sql.Property, u *catalog.User) error {
	for _, p := range props {
		if p.Name != catalog.ParamNetworkPolicy {
			continue
		}
		name, err := policyParamValue(p)
		if err != nil {
			return err
		}
		pol, err := catalog.GetNetworkPolicy(ctx, tx, account, name)
		if catalog.IsNotFound(err) {
			return policyMissing(name)
		}
		if err != nil {
			return err
		}
		if !r.Allowed(catalog.Object{Kind: "NETWORK POLICY", Name: name}, pol.Meta.Owner, catalog.PrivUsage) {
			return policyMissing(name)
		}
		if u.Params == nil {
			u.Params = map[string]string{}
		}
		u.Params[catalog.ParamNetworkPolicy] = name
	}
	return nil
}
