package exec

import (
	"context"
	"fmt"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// grant runs GRANT statements: roles, privileges (single object, ALL, FUTURE),
// ownership and caller grants.
func (e *Engine) grant(ctx context.Context, s *session.Session, st *sql.Grant) (*result.Set, error) {
	err := e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		switch {
		case st.Role != nil:
			return e.grantRole(ctx, tx, s, r, &st.GrantSpec, false)
		case st.Caller:
			return e.callerGrant(ctx, tx, s, r, &st.GrantSpec, false)
		default:
			return e.privilegeGrant(ctx, tx, s, r, &st.GrantSpec, grantMode{grant: true, option: st.WithGrantOption, current: st.CurrentGrants})
		}
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

// revoke runs REVOKE statements.
func (e *Engine) revoke(ctx context.Context, s *session.Session, st *sql.Revoke) (*result.Set, error) {
	err := e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		switch {
		case st.Role != nil:
			return e.grantRole(ctx, tx, s, r, &st.GrantSpec, true)
		case st.Caller:
			return e.callerGrant(ctx, tx, s, r, &st.GrantSpec, true)
		default:
			return e.privilegeGrant(ctx, tx, s, r, &st.GrantSpec, grantMode{optionOnly: st.GrantOptionFor})
		}
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

// roleCycle is the refusal of a role grant that would close a cycle.
func roleCycle(role, grantee string) *sferr.Error {
	e := sferr.Newf("003013", "42501", "SQL execution error:\nGranting role '%s' to role '%s' would create a cycle in the role hierarchy.", role, grantee)
	e.Type = "EXECUTION"
	return e
}

// grantRole grants or revokes ROLE r TO/FROM ROLE | USER x. It needs OWNERSHIP of r or
// MANAGE GRANTS.
func (e *Engine) grantRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, g *sql.GrantSpec, revoke bool) error {
	switch g.RoleKind {
	case "ROLE":
	case "DATABASE ROLE":
		return e.grantDatabaseRole(ctx, tx, s, r, g, revoke)
	default:
		return unsupported("GRANT " + g.RoleKind)
	}
	role, err := accountObjectName(*g.Role)
	if err != nil {
		return err
	}
	grantee, err := accountObjectName(g.Grantee)
	if err != nil {
		return err
	}
	owner, err := catalog.Owner(ctx, tx, catalog.RoleKey(s.Account, role))
	if catalog.IsNotFound(err) {
		return sferr.DoesNotExist("Role", role)
	} else if err != nil {
		return err
	}
	if !authz.Owns(r.All, owner) && !r.ManageGrants() {
		return sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", role))
	}
	kind := catalog.GranteeRole
	switch g.GranteeKind {
	case "ROLE":
		if !r.Snap.RoleExists(grantee) {
			return sferr.DoesNotExist("Role", grantee)
		}
		if catalog.IsSystemRole(role) && catalog.IsSystemRole(grantee) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", role))
		}
	case "USER":
		kind = catalog.GranteeUser
		if _, err := catalog.GetUser(ctx, tx, s.Account, grantee); catalog.IsNotFound(err) {
			return sferr.DoesNotExist("User", grantee)
		} else if err != nil {
			return err
		}
	default:
		return unsupported("GRANT ROLE TO " + g.GranteeKind)
	}
	if revoke {
		if err := catalog.RevokeRole(ctx, tx, s.Account, kind, grantee, role); err != nil && !catalog.IsNotFound(err) {
			return err
		}
		return nil
	}
	if kind == catalog.GranteeRole && (role == grantee || r.Snap.Inherits(role, grantee)) {
		return roleCycle(role, grantee)
	}
	err = catalog.GrantRole(ctx, tx, s.Account, &catalog.RoleGrant{Role: role, GranteeKind: kind, Grantee: grantee, GrantedBy: s.Role})
	if catalog.IsExists(err) {
		return nil
	}
	return err
}

// grantMode says what privilegeGrant does.
type grantMode struct {
	grant      bool   // GRANT (else REVOKE)
	option     bool   // WITH GRANT OPTION
	current    string // COPY | REVOKE (CURRENT GRANTS) for GRANT OWNERSHIP
	optionOnly bool   // REVOKE GRANT OPTION FOR
}

// resolveObject turns a name into an Object of the kind, using the session's database
// and schema for partial names.
func resolveObject(s *session.Session, k catalog.KindSpec, n *sql.ObjectName) (catalog.Object, error) {
	o := catalog.Object{Kind: k.Kind}
	if k.Level == catalog.LevelAccount {
		return o, nil
	}
	if n == nil {
		return o, sferr.DoesNotExist(k.Label, "")
	}
	missing := sferr.DoesNotExist(k.Label, n.String())
	p := n.Parts
	switch k.Level {
	case catalog.LevelAccountObject:
		if len(p) != 1 {
			return o, missing
		}
		o.Name = p[0].Name
	case catalog.LevelDatabaseObject:
		db, name, err := schemaName(s, *n, "GRANT")
		if err != nil {
			return o, err
		}
		o.Database, o.Name = db, name
	case catalog.LevelSchemaObject:
		switch len(p) {
		case 1:
			if s.Database == "" || s.Schema == "" {
				return o, noCurrentDatabase("GRANT")
			}
			o.Database, o.Schema, o.Name = s.Database, s.Schema, p[0].Name
		case 2:
			if s.Database == "" {
				return o, noCurrentDatabase("GRANT")
			}
			o.Database, o.Schema, o.Name = s.Database, p[0].Name, p[1].Name
		case 3:
			o.Database, o.Schema, o.Name = p[0].Name, p[1].Name, p[2].Name
		default:
			return o, missing
		}
	}
	return o, nil
}

// objectName is an object's name as SHOW GRANTS prints it.
func objectName(s *session.Session, o catalog.Object) string {
	if o.Kind == "ACCOUNT" {
		return s.Account
	}
	return o.Path()
}

// container resolves the IN DATABASE | SCHEMA | ACCOUNT scope of ALL / FUTURE grants
// and checks that it exists; it returns the container object and its owner.
func container(ctx context.Context, tx store.Tx, s *session.Session, kind string, n *sql.ObjectName) (catalog.Object, string, error) {
	switch kind {
	case "ACCOUNT":
		return catalog.Object{Kind: "ACCOUNT"}, "", nil
	case "DATABASE", "SCHEMA":
	default:
		return catalog.Object{}, "", unsupported("IN " + kind)
	}
	k, _ := catalog.LookupKind(kind)
	if n == nil {
		if kind == "DATABASE" && s.Database != "" {
			n = &sql.ObjectName{Parts: []sql.Ident{{Name: s.Database}}}
		} else if kind == "SCHEMA" && s.Schema != "" {
			n = &sql.ObjectName{Parts: []sql.Ident{{Name: s.Schema}}}
		} else {
			return catalog.Object{}, "", noCurrentDatabase("GRANT")
		}
	}
	o, err := resolveObject(s, k, n)
	if err != nil {
		return o, "", err
	}
	owner, err := catalog.ObjectOwner(ctx, tx, s.Account, o)
	if catalog.IsNotFound(err) {
		return o, "", sferr.DoesNotExist(k.Label, o.Path())
	}
	return o, owner, err
}

// privileges validates and expands the privilege list for a kind.
func privileges(k catalog.KindSpec, privs []string) ([]string, error) {
	var out []string
	for _, p := range privs {
		if !k.ValidPrivilege(p) {
			return nil, sferr.Compilation("003011", "42501", fmt.Sprintf("Invalid privilege %s for %s.", p, strings.ToLower(k.Kind)))
		}
		if p == catalog.PrivAll {
			out = append(out, k.Privileges...)
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func insufficient(s *session.Session, o catalog.Object) *sferr.Error {
	return sferr.InsufficientPrivileges(fmt.Sprintf("%s '%s'", strings.ToLower(o.Kind), objectName(s, o)))
}

// privilegeGrant grants or revokes privileges on one object, on ALL objects of a kind
// in a container, or on FUTURE ones.
func (e *Engine) privilegeGrant(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, g *sql.GrantSpec, m grantMode) error {
	grantee, granteeDB, err := privilegeGrantee(s, r, g, "GRANT")
	if err != nil {
		return err
	}
	// A database role holds privileges on objects of its own database only.
	sameDB := func(o catalog.Object) error {
		if granteeDB != "" && objectDatabase(o) != granteeDB {
			return crossDatabase(roleLabel(grantee), "privileges on objects")
		}
		return nil
	}
	k, ok := catalog.LookupKind(g.OnKind)
	if !ok {
		return unsupported("GRANT ON " + g.OnKind)
	}
	privs, err := privileges(k, g.Privileges)
	if err != nil {
		return err
	}
	ownership := len(privs) == 1 && privs[0] == catalog.PrivOwnership
	if !ownership && containsPriv(privs, catalog.PrivOwnership) {
		return sferr.Compilation("003011", "42501", "OWNERSHIP cannot be combined with other privileges.")
	}
	if ownership && granteeDB != "" {
		return unsupported("GRANT OWNERSHIP TO DATABASE ROLE")
	}
	switch g.Scope {
	case "FUTURE":
		in, owner, err := container(ctx, tx, s, g.InKind, g.InName)
		if err != nil {
			return err
		}
		if err := sameDB(in); err != nil {
			return err
		}
		if !r.ManageGrants() && !authz.Owns(r.All, owner) {
			return insufficient(s, in)
		}
		db, sch := in.Name, ""
		if in.Kind == "SCHEMA" {
			db, sch = in.Database, in.Name
		}
		for _, p := range privs {
			fg := &catalog.FutureGrant{Privilege: p, Kind: k.Kind, Database: db, Schema: sch, Grantee: grantee, GrantOption: m.option}
			if m.grant {
				err = catalog.PutFutureGrant(ctx, tx, s.Account, fg)
			} else {
				_, err = catalog.DeleteFutureGrant(ctx, tx, s.Account, fg)
			}
			if err != nil {
				return err
			}
		}
		return nil
	case "ALL":
		in, _, err := container(ctx, tx, s, g.InKind, g.InName)
		if err != nil {
			return err
		}
		if err := sameDB(in); err != nil {
			return err
		}
		db, sch := in.Name, ""
		if in.Kind == "SCHEMA" {
			db, sch = in.Database, in.Name
		}
		objs, owners, err := catalog.ObjectsIn(ctx, tx, s.Account, k, db, sch)
		if err != nil {
			return unsupported(fmt.Sprintf("GRANT ON ALL %s IN %s", k.Plural, in.Kind))
		}
		for i, o := range objs {
			if err := e.grantOn(ctx, tx, s, r, o, owners[i], privs, grantee, ownership, m); err != nil {
				return err
			}
		}
		return nil
	}
	o, err := resolveObject(s, k, g.OnName)
	if err != nil {
		return err
	}
	owner, err := catalog.ObjectOwner(ctx, tx, s.Account, o)
	if catalog.IsNotFound(err) {
		return sferr.DoesNotExist(k.Label, o.Path())
	} else if err != nil {
		return err
	}
	if err := sameDB(o); err != nil {
		return err
	}
	return e.grantOn(ctx, tx, s, r, o, owner, privs, grantee, ownership, m)
}

func containsPriv(privs []string, p string) bool {
	for _, x := range privs {
		if x == p {
			return true
		}
	}
	return false
}

// grantOn grants or revokes privileges on one existing object. Granting needs
// ownership of the object, the privilege WITH GRANT OPTION, or MANAGE GRANTS.
func (e *Engine) grantOn(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, o catalog.Object, owner string, privs []string, grantee string, ownership bool, m grantMode) error {
	mayAll := authz.Owns(r.All, owner) || r.ManageGrants()
	if ownership {
		if o.Kind == "ACCOUNT" {
			return sferr.Compilation("003011", "42501", "Invalid privilege OWNERSHIP for account.")
		}
		if !mayAll {
			return insufficient(s, o)
		}
		if !m.grant {
			return sferr.Compilation("003011", "42501", "OWNERSHIP cannot be revoked; transfer it with GRANT OWNERSHIP.")
		}
		key, _ := o.Key(s.Account)
		if m.current == "REVOKE" {
			for _, g := range r.Snap.GrantsOn(o) {
				if _, err := catalog.DeletePrivilegeGrant(ctx, tx, s.Account, g); err != nil {
					return err
				}
			}
		}
		return catalog.SetOwner(ctx, tx, key, grantee)
	}
	sys := catalog.SystemAccountGrants(true)
	for _, p := range privs {
		if !mayAll && !r.Snap.HasGrantOption(r.All, o, p) {
			return insufficient(s, o)
		}
		pg := &catalog.PrivilegeGrant{Privilege: p, On: o, Grantee: grantee, GrantOption: m.option, GrantedBy: s.Role}
		var err error
		switch {
		case m.grant:
			err = catalog.PutPrivilegeGrant(ctx, tx, s.Account, pg)
		case o.Kind == "ACCOUNT" && sys[p] == grantee:
			// The system roles' own privileges cannot be revoked, as in Snowflake.
			return insufficient(s, o)
		case m.optionOnly:
			for _, old := range r.Snap.GrantsOn(o) {
				if old.Privilege == p && old.Grantee == grantee && old.GrantOption {
					cp := *old
					cp.GrantOption = false
					if _, err := catalog.DeletePrivilegeGrant(ctx, tx, s.Account, old); err != nil {
						return err
					}
					if err := catalog.PutPrivilegeGrant(ctx, tx, s.Account, &cp); err != nil {
						return err
					}
				}
			}
		default:
			_, err = catalog.DeletePrivilegeGrant(ctx, tx, s.Account, pg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// callerGrant grants or revokes [INHERITED] CALLER privileges. It needs MANAGE CALLER
// GRANTS and, for a single object, at least one privilege on it.
func (e *Engine) callerGrant(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, g *sql.GrantSpec, revoke bool) error {
	if g.GranteeKind != "ROLE" {
		return unsupported("CALLER GRANT TO " + g.GranteeKind)
	}
	grantee, err := accountObjectName(g.Grantee)
	if err != nil {
		return err
	}
	if !r.Snap.RoleExists(grantee) {
		return sferr.DoesNotExist("Role", grantee)
	}
	if !authz.HasAccountPrivilege(r.All, "MANAGE CALLER GRANTS") {
		return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
	}
	k, ok := catalog.LookupKind(g.OnKind)
	if !ok {
		return unsupported("CALLER GRANT ON " + g.OnKind)
	}
	privs, err := privileges(k, g.Privileges)
	if err != nil {
		return err
	}
	if containsPriv(privs, catalog.PrivOwnership) {
		return sferr.Compilation("003011", "42501", "Invalid privilege OWNERSHIP for a caller grant.")
	}
	var on catalog.Object
	switch {
	case g.Scope == "ALL" && g.Inherited:
		if on, _, err = container(ctx, tx, s, g.InKind, g.InName); err != nil {
			return err
		}
	case g.Scope == "" && !g.Inherited:
		if on, err = resolveObject(s, k, g.OnName); err != nil {
			return err
		}
		owner, err := catalog.ObjectOwner(ctx, tx, s.Account, on)
		if catalog.IsNotFound(err) {
			return sferr.DoesNotExist(k.Label, on.Path())
		} else if err != nil {
			return err
		}
		if on.Kind != "ACCOUNT" && !r.Sees(on, owner) {
			return insufficient(s, on)
		}
	default:
		return sferr.Compilation("001003", "42000", "syntax error: CALLER grants are ON <object> or INHERITED ... ON ALL <kinds> IN <scope>.")
	}
	for _, p := range privs {
		cg := &catalog.CallerGrant{Privilege: p, Inherited: g.Inherited, On: on, Kind: k.Kind, Grantee: grantee, GrantedBy: s.Role}
		if revoke {
			_, err = catalog.DeleteCallerGrant(ctx, tx, s.Account, cg)
		} else {
			err = catalog.PutCallerGrant(ctx, tx, s.Account, cg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
