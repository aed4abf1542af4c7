package exec

import (
	"context"
	"fmt"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

func init() {
	creators["DATABASE ROLE"] = (*Engine).createDatabaseRole
	droppers["DATABASE ROLE"] = (*Engine).dropDatabaseRole
	alterers["DATABASE ROLE"] = (*Engine).alterDatabaseRole
	showers["DATABASE ROLES"] = (*Engine).showDatabaseRoles
}

// dbRoleName resolves a database role name, db.r or r in the session's database.
func dbRoleName(s *session.Session, n sql.ObjectName, verb string) (db, name string, err error) {
	switch len(n.Parts) {
	case 1:
		if s.Database == "" {
			return "", "", noCurrentDatabase(verb)
		}
		return s.Database, n.Parts[0].Name, nil
	case 2:
		return n.Parts[0].Name, n.Parts[1].Name, nil
	}
	return "", "", dbRoleMissing(n.String())
}

func dbRoleMissing(name string) *sferr.Error { return sferr.DoesNotExist("Database role", name) }

// roleLabel is how messages name a role identity: R or DB.R.
func roleLabel(id string) string {
	_, name := catalog.RoleDisplay(id)
	return name
}

// crossDatabase refuses a grant that would give a database role privileges on, or
// membership in, another database.
func crossDatabase(role, what string) *sferr.Error {
	return sferr.Compilation("003011", "42501", fmt.Sprintf("Database role '%s' cannot be granted %s outside its database.", role, what))
}

// createDatabaseRole runs CREATE [OR REPLACE] DATABASE ROLE [IF NOT EXISTS] [db.]r
// [COMMENT = '...']. It needs CREATE DATABASE ROLE on (or ownership of) the database
// through the primary role, which becomes the owner.
func (e *Engine) createDatabaseRole(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	db, name, err := dbRoleName(s, st.Name, "CREATE DATABASE ROLE")
	if err != nil {
		return nil, err
	}
	role := &catalog.DatabaseRole{Database: db, Name: name}
	for _, p := range st.Props {
		switch p.Name {
		case "COMMENT":
			if role.Comment, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
		case "TAG":
		default:
			return nil, invalidProperty(p.Name, "DATABASE ROLE")
		}
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		d, err := catalog.GetDatabase(ctx, tx, s.Account, db)
		if catalog.IsNotFound(err) {
			return sferr.DoesNotExist("Database", db)
		} else if err != nil {
			return err
		}
		dbObj := catalog.Object{Kind: "DATABASE", Name: db}
		if !r.CanCreate(dbObj, d.Meta.Owner, "CREATE DATABASE ROLE") {
			if !r.Sees(dbObj, d.Meta.Owner) {
				return sferr.DoesNotExist("Database", db)
			}
			return sferr.InsufficientPrivileges(fmt.Sprintf("database '%s'", db))
		}
		owner, err := catalog.Owner(ctx, tx, catalog.DatabaseRoleKey(s.Account, db, name))
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if !authz.Owns(r.All, owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("database role '%s.%s'", db, name))
			}
			if err := catalog.DropDatabaseRole(ctx, tx, s.Account, db, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateDatabaseRole(ctx, tx, s.Account, s.Role, role); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Database role %s successfully created.", name))
		return nil
	})
	return out, err
}

// dropDatabaseRole runs DROP DATABASE ROLE [IF EXISTS] [db.]r. It needs ownership of
// the database role or MANAGE GRANTS.
func (e *Engine) dropDatabaseRole(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	db, name, err := dbRoleName(s, st.Name, "DROP DATABASE ROLE")
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		owner, err := catalog.Owner(ctx, tx, catalog.DatabaseRoleKey(s.Account, db, name))
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return dbRoleMissing(db + "." + name)
		} else if err != nil {
			return err
		}
		if !authz.Owns(r.All, owner) && !r.ManageGrants() {
			return sferr.InsufficientPrivileges(fmt.Sprintf("database role '%s.%s'", db, name))
		}
		if err := catalog.DropDatabaseRole(ctx, tx, s.Account, db, name); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	return out, err
}

// alterDatabaseRole runs ALTER DATABASE ROLE [IF EXISTS] [db.]r RENAME TO [db.]r2 |
// SET COMMENT = '...' | UNSET COMMENT. It needs ownership; a rename stays in the
// role's database.
func (e *Engine) alterDatabaseRole(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	db, name, err := dbRoleName(s, st.Name, "ALTER DATABASE ROLE")
	if err != nil {
		return nil, err
	}
	var to string
	if st.RenameTo != nil {
		var toDB string
		switch len(st.RenameTo.Parts) {
		case 1:
			toDB, to = db, st.RenameTo.Parts[0].Name
		case 2:
			toDB, to = st.RenameTo.Parts[0].Name, st.RenameTo.Parts[1].Name
		default:
			return nil, dbRoleMissing(st.RenameTo.String())
		}
		if toDB != db {
			return nil, unsupported("ALTER DATABASE ROLE RENAME TO another database")
		}
	}
	key := catalog.DatabaseRoleKey(s.Account, db, name)
	return e.alterOwned(ctx, s, st, key, "Database role", db+"."+name, func(tx store.Tx) error {
		role, err := catalog.GetDatabaseRole(ctx, tx, s.Account, db, name)
		if err != nil {
			return err
		}
		switch {
		case st.RenameTo != nil:
			if to == name {
				return nil
			}
			err := catalog.RenameDatabaseRole(ctx, tx, s.Account, db, name, to)
			if catalog.IsExists(err) {
				return sferr.AlreadyExists("Object", to)
			}
			return err
		case st.Other != "":
			return unsupported("ALTER DATABASE ROLE " + st.Other)
		}
		if err := setCommentOnly(st, &role.Comment, "DATABASE ROLE"); err != nil {
			return err
		}
		return catalog.PutDatabaseRole(ctx, tx, s.Account, role)
	})
}

// showDatabaseRoles runs SHOW DATABASE ROLES IN DATABASE d [LIKE ...] [LIMIT ...]. Any
// privilege on the database (or MANAGE GRANTS) lets a role list its database roles.
func (e *Engine) showDatabaseRoles(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	if st.InKind != "DATABASE" || st.InName == nil {
		return nil, sferr.Compilation("001003", "42000", "syntax error: SHOW DATABASE ROLES requires IN DATABASE <name>.")
	}
	db, err := accountObjectName(*st.InName)
	if err != nil {
		return nil, err
	}
	d, err := catalog.GetDatabase(ctx, tx, s.Account, db)
	if catalog.IsNotFound(err) {
		return nil, sferr.DoesNotExist("Database", db)
	} else if err != nil {
		return nil, err
	}
	if !r.Sees(catalog.Object{Kind: "DATABASE", Name: db}, d.Meta.Owner) {
		return nil, sferr.DoesNotExist("Database", db)
	}
	roles, err := catalog.ListDatabaseRoles(ctx, tx, s.Account, db)
	if err != nil {
		return nil, err
	}
	grants, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	toRoles, toDBRoles, granted := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, g := range grants {
		if g.GranteeKind != catalog.GranteeRole {
			continue
		}
		switch {
		case catalog.IsDatabaseRoleID(g.Grantee):
			toDBRoles[g.Role]++
		default:
			toRoles[g.Role]++
		}
		if catalog.IsDatabaseRoleID(g.Role) {
			granted[g.Grantee]++
		}
	}
	set := &result.Set{Columns: []result.Column{result.TimestampLTZ("created_on"), result.Text("name"), result.Text("is_default"),
		result.Text("is_current"), result.Text("is_inherited"), result.Fixed("granted_to_roles"), result.Fixed("granted_to_database_roles"),
		result.Fixed("granted_database_roles"), result.Text("owner"), result.Text("comment"), result.Text("owner_role_type")}}
	f := &filter{st: st}
	for _, role := range roles {
		if !f.keep(role.Name) {
			continue
		}
		id := role.ID()
		set.Rows = append(set.Rows, []any{role.Meta.Created, role.Name, "N", "N", yn(r.All.Has(id)),
			toRoles[id], toDBRoles[id], granted[id], role.Meta.Owner, role.Comment, ownerRoleType(role.Meta.Owner)})
	}
	return set, nil
}

// grantDatabaseRole grants or revokes DATABASE ROLE db.r TO/FROM ROLE r | DATABASE
// ROLE db.r2 (same database). It needs ownership of the database role or MANAGE
// GRANTS. Database roles are never granted to users directly.
func (e *Engine) grantDatabaseRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, g *sql.GrantSpec, revoke bool) error {
	verb := "GRANT"
	if revoke {
		verb = "REVOKE"
	}
	db, name, err := dbRoleName(s, *g.Role, verb)
	if err != nil {
		return err
	}
	label := db + "." + name
	owner, err := catalog.Owner(ctx, tx, catalog.DatabaseRoleKey(s.Account, db, name))
	if catalog.IsNotFound(err) {
		return dbRoleMissing(label)
	} else if err != nil {
		return err
	}
	if !authz.Owns(r.All, owner) && !r.ManageGrants() {
		return sferr.InsufficientPrivileges(fmt.Sprintf("database role '%s'", label))
	}
	role := catalog.DatabaseRoleID(db, name)
	var grantee string
	switch g.GranteeKind {
	case "ROLE":
		if grantee, err = accountObjectName(g.Grantee); err != nil {
			return err
		}
		if !r.Snap.RoleExists(grantee) {
			return sferr.DoesNotExist("Role", grantee)
		}
	case "DATABASE ROLE":
		gdb, gname, err := dbRoleName(s, g.Grantee, verb)
		if err != nil {
			return err
		}
		if gdb != db {
			return crossDatabase(label, "to a database role")
		}
		grantee = catalog.DatabaseRoleID(gdb, gname)
		if !r.Snap.DatabaseRoleExists(grantee) {
			return dbRoleMissing(gdb + "." + gname)
		}
	default:
		return unsupported(verb + " DATABASE ROLE TO " + g.GranteeKind)
	}
	if revoke {
		if err := catalog.RevokeRole(ctx, tx, s.Account, catalog.GranteeRole, grantee, role); err != nil && !catalog.IsNotFound(err) {
			return err
		}
		return nil
	}
	if role == grantee || r.Snap.Inherits(role, grantee) {
		return roleCycle(label, roleLabel(grantee))
	}
	err = catalog.GrantRole(ctx, tx, s.Account, &catalog.RoleGrant{Role: role, GranteeKind: catalog.GranteeRole, Grantee: grantee, GrantedBy: s.Role})
	if catalog.IsExists(err) {
		return nil
	}
	return err
}

// privilegeGrantee resolves the grantee of GRANT <privileges> ... TO ROLE r |
// DATABASE ROLE db.r: its role identity and, for a database role, its database.
func privilegeGrantee(s *session.Session, r *authz.Active, g *sql.GrantSpec, what string) (id, db string, err error) {
	switch g.GranteeKind {
	case "ROLE":
		name, err := accountObjectName(g.Grantee)
		if err != nil {
			return "", "", err
		}
		if !r.Snap.RoleExists(name) {
			return "", "", sferr.DoesNotExist("Role", name)
		}
		return name, "", nil
	case "DATABASE ROLE":
		db, name, err := dbRoleName(s, g.Grantee, "GRANT")
		if err != nil {
			return "", "", err
		}
		id := catalog.DatabaseRoleID(db, name)
		if !r.Snap.DatabaseRoleExists(id) {
			return "", "", dbRoleMissing(db + "." + name)
		}
		return id, db, nil
	}
	return "", "", unsupported(what + " TO " + g.GranteeKind)
}

// objectDatabase is the database an object is in or is ("" for account objects).
func objectDatabase(o catalog.Object) string {
	if o.Kind == "DATABASE" {
		return o.Name
	}
	return o.Database
}

// showGrantsToDatabaseRole implements SHOW GRANTS TO DATABASE ROLE db.r: the
// privileges and database roles granted to it. Visible to the owner of the role,
// to roles that inherit it and to MANAGE GRANTS.
func (e *Engine) showGrantsToDatabaseRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (*result.Set, error) {
	id, label, err := visibleDatabaseRole(ctx, tx, s, r, t)
	if err != nil {
		return nil, err
	}
	var rows []grantRow
	pgs, err := catalog.AllPrivilegeGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	for _, g := range pgs {
		if g.Grantee == id {
			rows = append(rows, privRow(s, g))
		}
	}
	rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	for _, g := range rgs {
		if g.GranteeKind == catalog.GranteeRole && g.Grantee == id {
			on, name := catalog.RoleDisplay(g.Role)
			rows = append(rows, grantRow{created: g.Meta.Created, priv: "USAGE", on: on, name: name, grantee: label,
				toKind: catalog.GranteeDatabaseRole, grantedBy: g.GrantedBy})
		}
	}
	return grantSet(rows), nil
}

// showGrantsOfDatabaseRole implements SHOW GRANTS OF DATABASE ROLE db.r: the roles
// and database roles it is granted to.
func (e *Engine) showGrantsOfDatabaseRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (*result.Set, error) {
	id, label, err := visibleDatabaseRole(ctx, tx, s, r, t)
	if err != nil {
		return nil, err
	}
	rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: roleGrantColumns()}
	for _, g := range rgs {
		if g.Role == id {
			kind, name := catalog.RoleDisplay(g.Grantee)
			set.Rows = append(set.Rows, []any{g.Meta.Created, label, kind, name, g.GrantedBy})
		}
	}
	return set, nil
}

// visibleDatabaseRole resolves the database role of a SHOW GRANTS target and checks
// that the active roles may see its grants.
func visibleDatabaseRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (id, label string, err error) {
	if t.Name == nil {
		return "", "", unsupported("SHOW GRANTS " + t.Prep + " DATABASE ROLE")
	}
	db, name, err := dbRoleName(s, *t.Name, "SHOW GRANTS")
	if err != nil {
		return "", "", err
	}
	label = db + "." + name
	owner, err := catalog.Owner(ctx, tx, catalog.DatabaseRoleKey(s.Account, db, name))
	if catalog.IsNotFound(err) {
		return "", "", dbRoleMissing(label)
	} else if err != nil {
		return "", "", err
	}
	id = catalog.DatabaseRoleID(db, name)
	if !r.All.Has(id) && !authz.Owns(r.All, owner) && !r.ManageGrants() {
		return "", "", sferr.InsufficientPrivileges(fmt.Sprintf("database role '%s'", label))
	}
	return id, label, nil
}
