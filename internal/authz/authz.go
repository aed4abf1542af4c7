// Package authz evaluates role-based access: which roles a session has active (the
// primary role, secondary roles and everything they inherit), whether a user may use a
// role, whether a role set holds a privilege on an object or owns it, and what a
// restricted caller's-rights executable may do as its caller.
//
// Snowflake's rule for secondary roles is kept: CREATE statements (and so ownership of
// what they create) are authorised by the primary role's hierarchy alone; every other
// check uses primary plus secondary roles.
//
// Evaluation reads a per-account Snapshot of roles, role grants, privilege grants and
// caller grants. Snapshots are cached by the account's grant generation
// (catalog.GrantGeneration), a random value that every change to roles or grants
// replaces in the same transaction, so a cached snapshot is never stale for the
// transaction that reads it.
package authz

import (
	"context"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// Object names a securable object; see catalog.Object.
type Object = catalog.Object

// RoleSet is a set of role names. Sets made by this package (Closure, ActiveRoles) also
// record the account privileges their roles hold, under keys that start with "\x00"
// and can never be role names, so HasAccountPrivilege answers without a transaction.
// Use Roles to list the role names. Sets from this package are shared: do not modify.
type RoleSet map[string]bool

// privKey prefixes account privileges recorded in a RoleSet; markKey says the set
// records them.
const (
	privKey = "\x00"
	markKey = "\x00\x00"
)

// Has reports whether the set contains role.
func (s RoleSet) Has(role string) bool { return role != "" && role[0] != 0 && s[role] }

// Roles returns the role names of the set, unordered.
func (s RoleSet) Roles() []string {
	out := make([]string, 0, len(s))
	for r := range s {
		if r != "" && r[0] != 0 {
			out = append(out, r)
		}
	}
	return out
}

// Closure returns roles plus every role they inherit through role grants, and PUBLIC.
func Closure(ctx context.Context, tx store.Tx, account string, roles ...string) (RoleSet, error) {
	snap, err := Load(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	return snap.Closure(roles...), nil
}

// UserRoles returns the roles granted directly to a user, plus PUBLIC.
func UserRoles(ctx context.Context, tx store.Tx, account, user string) ([]string, error) {
	snap, err := Load(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	return snap.UserRoles(user), nil
}

// CanUseRole reports whether user may make role its primary role: role exists and is
// granted to the user directly or through the hierarchy of a granted role, or is PUBLIC.
func CanUseRole(ctx context.Context, tx store.Tx, account, user, role string) (bool, error) {
	snap, err := Load(ctx, tx, account)
	if err != nil {
		return false, err
	}
	return snap.CanUseRole(user, role), nil
}

// Active is the role context of one statement.
type Active struct {
	// Primary is the primary role's closure: used for CREATE.
	Primary RoleSet
	// All is Primary plus the secondary roles' closures: used for every other check.
	All RoleSet
	// Snap is the grant snapshot the sets were computed from.
	Snap *Snapshot
}

// ActiveRoles computes the active role sets for a user with primary role and secondary
// roles (nil = none; ["ALL"] = every role granted to the user).
func ActiveRoles(ctx context.Context, tx store.Tx, account, user, primary string, secondary []string) (*Active, error) {
	snap, err := Load(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	return snap.Active(user, primary, secondary), nil
}

// HasAccountPrivilege reports whether a role set holds an account-level privilege
// (CREATE DATABASE, MANAGE GRANTS, ...) through the account's grants. For a set built
// by hand rather than by this package, the system roles' default grants are used.
func HasAccountPrivilege(roles RoleSet, priv string) bool {
	if roles[markKey] {
		return roles[privKey+priv]
	}
	for p, r := range catalog.SystemAccountGrants(true) {
		if p == priv && roles[r] {
			return true
		}
	}
	// ACCOUNTADMIN inherits the defaults of the roles below it.
	if roles[catalog.RoleAccountAdmin] {
		switch catalog.SystemAccountGrants(true)[priv] {
		case catalog.RoleSysAdmin, catalog.RoleSecurityAdmin, catalog.RoleUserAdmin:
			return true
		}
	}
	if roles[catalog.RoleSecurityAdmin] && catalog.SystemAccountGrants(true)[priv] == catalog.RoleUserAdmin {
		return true
	}
	return false
}

// Owns reports whether a role set includes the owner role.
func Owns(roles RoleSet, owner string) bool { return owner != "" && roles.Has(owner) }

// Allowed reports whether the active roles (primary and secondary) may use priv on an
// object owned by owner: they own it or hold the privilege on it.
func (a *Active) Allowed(o Object, owner, priv string) bool {
	return a.Snap.Allowed(a.All, o, owner, priv)
}

// CanCreate reports whether the primary role's hierarchy holds a CREATE privilege on
// a container (or owns it). For ACCOUNT, owner is "".
func (a *Active) CanCreate(o Object, owner, priv string) bool {
	return a.Snap.Allowed(a.Primary, o, owner, priv)
}

// Sees reports whether the active roles hold any privilege on the object, own it, or
// hold MANAGE GRANTS: what SHOW commands require to list an object.
func (a *Active) Sees(o Object, owner string) bool {
	return Owns(a.All, owner) || HasAccountPrivilege(a.All, "MANAGE GRANTS") || a.Snap.HasAny(a.All, o)
}

// ManageGrants reports whether the active roles hold MANAGE GRANTS.
func (a *Active) ManageGrants() bool { return HasAccountPrivilege(a.All, "MANAGE GRANTS") }
