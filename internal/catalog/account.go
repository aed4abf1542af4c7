package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/firn/firn/internal/store"
)

// systemHierarchy is the built-in role hierarchy: each pair is {granted role, grantee role}.
var systemHierarchy = [][2]string{
	{RoleSecurityAdmin, RoleAccountAdmin},
	{RoleSysAdmin, RoleAccountAdmin},
	{RoleUserAdmin, RoleSecurityAdmin},
}

// IsSystemRole reports whether name is a built-in role, which cannot be dropped.
func IsSystemRole(name string) bool {
	switch name {
	case RoleOrgAdmin, RoleAccountAdmin, RoleSecurityAdmin, RoleUserAdmin, RoleSysAdmin, RolePublic:
		return true
	}
	return false
}

// CreateAccount creates an account with its system roles and hierarchy and its first
// administrator, who is granted ACCOUNTADMIN (and ORGADMIN in the organisation account)
// and gets ACCOUNTADMIN as default role. All in the caller's transaction.
func CreateAccount(ctx context.Context, tx store.Tx, a *Account, admin *User) error {
	if _, err := insert(ctx, tx, AccountKey(a.Name), "", a); err != nil {
		return err
	}
	roles := []string{RoleAccountAdmin, RoleSecurityAdmin, RoleUserAdmin, RoleSysAdmin, RolePublic}
	if a.Org {
		roles = append([]string{RoleOrgAdmin}, roles...)
	}
	owners := map[string]string{
		RoleAccountAdmin: "", RoleSecurityAdmin: "", RoleSysAdmin: "", RoleUserAdmin: "", RolePublic: "", RoleOrgAdmin: "",
	}
	for _, r := range roles {
		if err := CreateRole(ctx, tx, a.Name, owners[r], &Role{Name: r}); err != nil {
			return fmt.Errorf("catalog: create system role %s: %w", r, err)
		}
	}
	for _, h := range systemHierarchy {
		if err := GrantRole(ctx, tx, a.Name, &RoleGrant{Role: h[0], GranteeKind: GranteeRole, Grantee: h[1]}); err != nil {
			return fmt.Errorf("catalog: grant %s to %s: %w", h[0], h[1], err)
		}
	}
	sys := SystemAccountGrants(a.Org)
	privs := make([]string, 0, len(sys))
	for p := range sys {
		privs = append(privs, p)
	}
	slices.Sort(privs)
	for _, p := range privs {
		g := &PrivilegeGrant{Privilege: p, On: Object{Kind: "ACCOUNT"}, Grantee: sys[p]}
		if err := PutPrivilegeGrant(ctx, tx, a.Name, g); err != nil {
			return fmt.Errorf("catalog: grant %s to %s: %w", p, sys[p], err)
		}
	}
	if admin.DefaultRole == "" {
		admin.DefaultRole = RoleAccountAdmin
	}
	if err := CreateUser(ctx, tx, a.Name, RoleAccountAdmin, admin); err != nil {
		return fmt.Errorf("catalog: create admin user: %w", err)
	}
	grant := []string{RoleAccountAdmin}
	if a.Org {
		grant = append(grant, RoleOrgAdmin)
	}
	for _, r := range grant {
		if err := GrantRole(ctx, tx, a.Name, &RoleGrant{Role: r, GranteeKind: GranteeUser, Grantee: admin.Name}); err != nil {
			return fmt.Errorf("catalog: grant %s to admin: %w", r, err)
		}
	}
	return nil
}

// DropAccount removes an account and everything it holds.
func DropAccount(ctx context.Context, tx store.Tx, name string) error {
	if err := tx.Delete(ctx, AccountKey(name)); err != nil {
		return err
	}
	return tx.DeleteAccount(ctx, name)
}
