package authz

import (
	"context"
	"slices"
	"sync"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// Snapshot is an immutable view of one account's roles and grants, indexed for fast
// privilege checks. Role closures are memoised on first use.
type Snapshot struct {
	account  string
	roles    map[string]bool
	dbRoles  map[string]bool     // database role IDs (catalog.DatabaseRoleID)
	children map[string][]string // grantee role → roles granted to it
	users    map[string][]string // user → roles granted to it
	// privs maps object ID + "\x00" + privilege to its grants.
	privs map[string][]*catalog.PrivilegeGrant
	// byObject maps object ID to every grant on it.
	byObject map[string][]*catalog.PrivilegeGrant
	// acct maps role → account privileges granted to it directly.
	acct   map[string][]string
	caller []*catalog.CallerGrant

	closures sync.Map // role → RoleSet
}

// Build makes a snapshot from the account's records in tx (uncached).
func Build(ctx context.Context, tx store.Tx, account string) (*Snapshot, error) {
	s := &Snapshot{account: account, roles: map[string]bool{}, dbRoles: map[string]bool{}, children: map[string][]string{},
		users: map[string][]string{}, privs: map[string][]*catalog.PrivilegeGrant{},
		byObject: map[string][]*catalog.PrivilegeGrant{}, acct: map[string][]string{}}
	rs, err := catalog.ListRoles(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		s.roles[r.Name] = true
	}
	drs, err := catalog.ListDatabaseRoles(ctx, tx, account, "*")
	if err != nil {
		return nil, err
	}
	for _, r := range drs {
		s.dbRoles[r.ID()] = true
	}
	rgs, err := catalog.AllRoleGrants(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, g := range rgs {
		if g.GranteeKind == catalog.GranteeRole {
			s.children[g.Grantee] = append(s.children[g.Grantee], g.Role)
		} else {
			s.users[g.Grantee] = append(s.users[g.Grantee], g.Role)
		}
	}
	pgs, err := catalog.AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, g := range pgs {
		s.addGrant(g)
	}
	if s.caller, err = catalog.AllCallerGrants(ctx, tx, account); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Snapshot) addGrant(g *catalog.PrivilegeGrant) {
	id := g.On.ID()
	s.privs[id+"\x00"+g.Privilege] = append(s.privs[id+"\x00"+g.Privilege], g)
	s.byObject[id] = append(s.byObject[id], g)
	if g.On.Kind == "ACCOUNT" {
		s.acct[g.Grantee] = append(s.acct[g.Grantee], g.Privilege)
	}
}

// cache holds snapshots by account and grant generation. Entries for superseded
// generations are never served again; the map is cleared when it grows too large.
var cache = struct {
	sync.Mutex
	m map[string]*Snapshot
}{m: map[string]*Snapshot{}}

const cacheMax = 512

// Load returns the account's snapshot as seen by tx, from the cache when the
// account's grant generation is unchanged.
func Load(ctx context.Context, tx store.Tx, account string) (*Snapshot, error) {
	gen, err := catalog.GrantGeneration(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	if gen == "" {
		return Build(ctx, tx, account)
	}
	key := account + "\x00" + gen
	cache.Lock()
	snap := cache.m[key]
	cache.Unlock()
	if snap != nil {
		return snap, nil
	}
	if snap, err = Build(ctx, tx, account); err != nil {
		return nil, err
	}
	cache.Lock()
	if len(cache.m) >= cacheMax {
		clear(cache.m)
	}
	cache.m[key] = snap
	cache.Unlock()
	return snap, nil
}

// RoleExists reports whether the account has the account role.
func (s *Snapshot) RoleExists(role string) bool { return s.roles[role] }

// DatabaseRoleExists reports whether the account has the database role with this
// ID (catalog.DatabaseRoleID). Database roles take part in closures like account
// roles — an account role granted a database role inherits its privileges — but
// are never usable as a session's role (CanUseRole).
func (s *Snapshot) DatabaseRoleExists(id string) bool { return s.dbRoles[id] }

// closureOf returns the memoised closure of one role (with PUBLIC and the account
// privileges of its members).
func (s *Snapshot) closureOf(role string) RoleSet {
	if v, ok := s.closures.Load(role); ok {
		return v.(RoleSet)
	}
	set := RoleSet{markKey: true}
	stack := []string{catalog.RolePublic, role}
	for len(stack) > 0 {
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r == "" || set[r] {
			continue
		}
		set[r] = true
		for _, p := range s.acct[r] {
			set[privKey+p] = true
		}
		stack = append(stack, s.children[r]...)
	}
	v, _ := s.closures.LoadOrStore(role, set)
	return v.(RoleSet)
}

// Closure returns roles plus every role they inherit, and PUBLIC.
func (s *Snapshot) Closure(roles ...string) RoleSet {
	switch len(roles) {
	case 0:
		return s.closureOf(catalog.RolePublic)
	case 1:
		return s.closureOf(roles[0])
	}
	out := RoleSet{}
	for _, r := range roles {
		for k := range s.closureOf(r) {
			out[k] = true
		}
	}
	return out
}

// Inherits reports whether role (transitively) inherits target: granting role to
// target would then make a cycle.
func (s *Snapshot) Inherits(role, target string) bool {
	return s.closureOf(role).Has(target)
}

// UserRoles returns the roles granted directly to a user, plus PUBLIC.
func (s *Snapshot) UserRoles(user string) []string {
	out := []string{catalog.RolePublic}
	for _, r := range s.users[user] {
		if r != catalog.RolePublic {
			out = append(out, r)
		}
	}
	return out
}

// CanUseRole reports whether user may make role its primary role.
func (s *Snapshot) CanUseRole(user, role string) bool {
	if !s.roles[role] && role != catalog.RolePublic {
		return false
	}
	if role == catalog.RolePublic {
		return true
	}
	for _, r := range s.users[user] {
		if s.closureOf(r).Has(role) {
			return true
		}
	}
	return false
}

// Active computes a statement's role context.
func (s *Snapshot) Active(user, primary string, secondary []string) *Active {
	p := s.closureOf(primary)
	if len(secondary) == 0 {
		return &Active{Primary: p, All: p, Snap: s}
	}
	sec := secondary
	if len(secondary) == 1 && secondary[0] == "ALL" {
		sec = s.UserRoles(user)
	}
	return &Active{Primary: p, All: s.Closure(append(slices.Clone(sec), primary)...), Snap: s}
}

// Allowed reports whether roles own the object or hold priv on it.
func (s *Snapshot) Allowed(roles RoleSet, o Object, owner, priv string) bool {
	if Owns(roles, owner) {
		return true
	}
	if o.Kind == "ACCOUNT" {
		return HasAccountPrivilege(roles, priv)
	}
	for _, g := range s.privs[o.ID()+"\x00"+priv] {
		if roles[g.Grantee] {
			return true
		}
	}
	return false
}

// HasGrantOption reports whether roles hold priv on the object WITH GRANT OPTION.
func (s *Snapshot) HasGrantOption(roles RoleSet, o Object, priv string) bool {
	for _, g := range s.privs[o.ID()+"\x00"+priv] {
		if g.GrantOption && roles[g.Grantee] {
			return true
		}
	}
	return false
}

// HasAny reports whether roles hold any privilege on the object.
func (s *Snapshot) HasAny(roles RoleSet, o Object) bool {
	for _, g := range s.byObject[o.ID()] {
		if roles[g.Grantee] {
			return true
		}
	}
	return false
}

// GrantsOn returns the privilege grants on an object.
func (s *Snapshot) GrantsOn(o Object) []*catalog.PrivilegeGrant { return s.byObject[o.ID()] }
