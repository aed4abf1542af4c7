package exec

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

func init() {
	creators["ROLE"] = (*Engine).createRole
	alterers["ROLE"] = (*Engine).alterRole
	droppers["ROLE"] = (*Engine).dropRole
	showers["ROLES"] = (*Engine).showRoles
	showers["GRANTS"] = (*Engine).showGrants
	showers["FUTURE GRANTS"] = (*Engine).showFutureGrants
	showers["CALLER GRANTS"] = (*Engine).showCallerGrants
}

// createRole runs CREATE [OR REPLACE] ROLE [IF NOT EXISTS] r [COMMENT = '...']. It needs
// CREATE ROLE through the primary role, which becomes the owner.
func (e *Engine) createRole(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	if catalog.ReservedRoleName(name) {
		return nil, reservedRoleName(name)
	}
	role := &catalog.Role{Name: name}
	for _, p := range st.Props {
		switch p.Name {
		case "COMMENT":
			if role.Comment, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
		case "TAG":
		default:
			return nil, invalidProperty(p.Name, "ROLE")
		}
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !authz.HasAccountPrivilege(r.Primary, "CREATE ROLE") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		owner, err := catalog.Owner(ctx, tx, catalog.RoleKey(s.Account, name))
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if catalog.IsSystemRole(name) || !authz.Owns(r.All, owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", name))
			}
			if err := dropRoleRecords(ctx, tx, s.Account, name, s.Role); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateRole(ctx, tx, s.Account, s.Role, role); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Role %s successfully created.", name))
		return nil
	})
	return out, err
}

// alterRole runs ALTER ROLE [IF EXISTS] r RENAME TO n | SET COMMENT = '...' | UNSET
// COMMENT. It needs ownership of the role; system roles cannot be renamed.
func (e *Engine) alterRole(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var to string
	if st.RenameTo != nil {
		if to, err = accountObjectName(*st.RenameTo); err != nil {
			return nil, err
		}
		if catalog.ReservedRoleName(to) {
			return nil, reservedRoleName(to)
		}
	}
	key := catalog.RoleKey(s.Account, name)
	out, err := e.alterOwned(ctx, s, st, key, "Role", name, func(tx store.Tx) error {
		role, err := catalog.GetRole(ctx, tx, s.Account, name)
		if err != nil {
			return err
		}
		switch {
		case st.RenameTo != nil:
			if catalog.IsSystemRole(name) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", name))
			}
			return renameRole(ctx, tx, s.Account, role, to)
		case st.Other != "":
			return unsupported("ALTER ROLE " + st.Other)
		}
		if err := setCommentOnly(st, &role.Comment, "ROLE"); err != nil {
			return err
		}
		return catalog.PutRole(ctx, tx, s.Account, role)
	})
	if err == nil && st.RenameTo != nil && s.Role == name {
		s.Role = to
	}
	return out, err
}

// reservedRoleName refuses an account role name that could be taken for a
// database role's identity (see catalog.ReservedRoleName).
func reservedRoleName(name string) *sferr.Error {
	return sferr.Compilation("002025", "42602", fmt.Sprintf("Invalid identifier %q: a role name cannot start with a control character.", name))
}

// storeKinds are the store kinds whose records may have an owner role.
func storeKinds() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range catalog.Kinds {
		if k.StoreKind != "" && !seen[k.StoreKind] {
			seen[k.StoreKind] = true
			out = append(out, k.StoreKind)
		}
	}
	return out
}

// kindOfStore maps a store kind back to its SQL kind.
func kindOfStore(storeKind string) string {
	for _, k := range catalog.Kinds {
		if k.StoreKind == storeKind {
			return k.Kind
		}
	}
	return storeKind
}

// transferOwned gives every object owned by from to to (to "" only for renames).
func transferOwned(ctx context.Context, tx store.Tx, account, from, to string) error {
	for _, sk := range storeKinds() {
		recs, err := tx.List(ctx, account, sk, "*")
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.Owner == from {
				rec.Owner = to
				if err := tx.Put(ctx, rec); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// dropRoleRecords removes a role with every grant of it, to it and on it; the objects
// it owns pass to newOwner (the role executing DROP ROLE, as in Snowflake).
func dropRoleRecords(ctx context.Context, tx store.Tx, account, name, newOwner string) error {
	if err := catalog.DeleteRole(ctx, tx, account, name); err != nil {
		return err
	}
	if err := catalog.DropGrantsOn(ctx, tx, account, catalog.Object{Kind: "ROLE", Name: name}); err != nil {
		return err
	}
	pgs, err := catalog.AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range pgs {
		if g.Grantee == name {
			if _, err := catalog.DeletePrivilegeGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	cgs, err := catalog.AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range cgs {
		if g.Grantee == name {
			if _, err := catalog.DeleteCallerGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	fgs, err := catalog.AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range fgs {
		if g.Grantee == name {
			if _, err := catalog.DeleteFutureGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	return transferOwned(ctx, tx, account, name, newOwner)
}

// renameRole renames a role and every reference to it: role grants, privilege,
// caller and future grants, and ownership.
func renameRole(ctx context.Context, tx store.Tx, account string, role *catalog.Role, to string) error {
	from := role.Name
	if err := tx.Rename(ctx, catalog.RoleKey(account, from), catalog.RoleKey(account, to)); err != nil {
		if catalog.IsExists(err) {
			return sferr.AlreadyExists("Object", to)
		}
		return err
	}
	role.Name = to
	if err := catalog.PutRole(ctx, tx, account, role); err != nil {
		return err
	}
	rgs, err := catalog.AllRoleGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range rgs {
		if g.Role != from && !(g.GranteeKind == catalog.GranteeRole && g.Grantee == from) {
			continue
		}
		if err := catalog.RevokeRole(ctx, tx, account, g.GranteeKind, g.Grantee, g.Role); err != nil {
			return err
		}
		if g.Role == from {
			g.Role = to
		}
		if g.GranteeKind == catalog.GranteeRole && g.Grantee == from {
			g.Grantee = to
		}
		if err := catalog.GrantRole(ctx, tx, account, g); err != nil {
			return err
		}
	}
	pgs, err := catalog.AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	old := catalog.Object{Kind: "ROLE", Name: from}
	for _, g := range pgs {
		if g.Grantee != from && g.On != old {
			continue
		}
		if _, err := catalog.DeletePrivilegeGrant(ctx, tx, account, g); err != nil {
			return err
		}
		if g.Grantee == from {
			g.Grantee = to
		}
		if g.On == old {
			g.On.Name = to
		}
		if err := catalog.PutPrivilegeGrant(ctx, tx, account, g); err != nil {
			return err
		}
	}
	cgs, err := catalog.AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range cgs {
		if g.Grantee == from {
			if _, err := catalog.DeleteCallerGrant(ctx, tx, account, g); err != nil {
				return err
			}
			g.Grantee = to
			if err := catalog.PutCallerGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	fgs, err := catalog.AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range fgs {
		if g.Grantee == from {
			if _, err := catalog.DeleteFutureGrant(ctx, tx, account, g); err != nil {
				return err
			}
			g.Grantee = to
			if err := catalog.PutFutureGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	if err := transferOwned(ctx, tx, account, from, to); err != nil {
		return err
	}
	return catalog.BumpGrants(ctx, tx, account)
}

// dropRole runs DROP ROLE [IF EXISTS] r. It needs ownership of the role or MANAGE
// GRANTS; system roles cannot be dropped. Objects the role owns pass to the current
// primary role.
func (e *Engine) dropRole(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		owner, err := catalog.Owner(ctx, tx, catalog.RoleKey(s.Account, name))
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return sferr.DoesNotExist("Role", name)
		}
		if err != nil {
			return err
		}
		if catalog.IsSystemRole(name) || !authz.Owns(r.All, owner) && !r.ManageGrants() {
			return sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", name))
		}
		newOwner := s.Role
		if newOwner == name {
			newOwner = owner
		}
		if err := dropRoleRecords(ctx, tx, s.Account, name, newOwner); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	return out, err
}

func (e *Engine) showRoles(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	rs, err := catalog.ListRoles(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	grants, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	users, roleGrantees, granted := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, g := range grants {
		if g.GranteeKind == catalog.GranteeUser {
			users[g.Role]++
		} else {
			roleGrantees[g.Role]++
			granted[g.Grantee]++
		}
	}
	def := ""
	if u, err := catalog.GetUser(ctx, tx, s.Account, s.User); err == nil {
		def = u.DefaultRole
	}
	set := &result.Set{Columns: []result.Column{result.TimestampLTZ("created_on"), result.Text("name"), result.Text("is_default"),
		result.Text("is_current"), result.Text("is_inherited"), result.Fixed("assigned_to_users"), result.Fixed("granted_to_roles"),
		result.Fixed("granted_roles"), result.Text("owner"), result.Text("comment"), result.Text("owner_role_type")}}
	f := &filter{st: st}
	for _, role := range rs {
		if !f.keep(role.Name) {
			continue
		}
		inherited := r.Primary.Has(role.Name) && role.Name != s.Role
		set.Rows = append(set.Rows, []any{role.Meta.Created, role.Name, yn(role.Name == def),
			yn(role.Name == s.Role), yn(inherited), users[role.Name], roleGrantees[role.Name], granted[role.Name],
			role.Meta.Owner, role.Comment, ownerRoleType(role.Meta.Owner)})
	}
	return set, nil
}

// grantsColumns are SHOW GRANTS TO ROLE / ON's columns.
func grantsColumns() []result.Column {
	return []result.Column{result.TimestampLTZ("created_on"), result.Text("privilege"), result.Text("granted_on"),
		result.Text("name"), result.Text("granted_to"), result.Text("grantee_name"), result.Text("grant_option"),
		result.Text("granted_by")}
}

// roleGrantColumns are SHOW GRANTS TO USER / OF ROLE's columns.
func roleGrantColumns() []result.Column {
	return []result.Column{result.TimestampLTZ("created_on"), result.Text("role"), result.Text("granted_to"),
		result.Text("grantee_name"), result.Text("granted_by")}
}

func grantedOn(kind string) string { return strings.ReplaceAll(kind, " ", "_") }

// grantRow is one row of SHOW GRANTS TO ROLE / ON.
type grantRow struct {
	created                                    time.Time
	priv, on, name, grantee, grantedBy, toKind string
	option                                     bool
}

func (g grantRow) values() []any {
	to := g.toKind
	if to == "" {
		to = "ROLE"
	}
	return []any{g.created, g.priv, g.on, g.name, to, g.grantee, fmt.Sprint(g.option), g.grantedBy}
}

// ownedRows lists OWNERSHIP rows of objects owned by role ("" for any owner) or of
// one object (only non-nil).
func ownedRows(ctx context.Context, tx store.Tx, s *session.Session, role string, only *catalog.Object) ([]grantRow, error) {
	var out []grantRow
	kinds := storeKinds()
	if only != nil {
		if k, ok := only.Key(s.Account); ok {
			kinds = []string{k.Kind}
		} else {
			return nil, nil
		}
	}
	for _, sk := range kinds {
		parent := "*"
		if only != nil {
			parent = only.Parent()
		}
		recs, err := tx.List(ctx, s.Account, sk, parent)
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			if rec.Owner == "" || role != "" && rec.Owner != role || only != nil && rec.Name != only.Name {
				continue
			}
			name := rec.Name
			if rec.Parent != "" {
				name = rec.Parent + "." + rec.Name
			}
			out = append(out, grantRow{created: rec.Created, priv: catalog.PrivOwnership, on: grantedOn(kindOfStore(sk)),
				name: name, grantee: rec.Owner, grantedBy: rec.Owner, option: true})
		}
	}
	return out, nil
}

func privRow(s *session.Session, g *catalog.PrivilegeGrant) grantRow {
	kind, grantee := catalog.RoleDisplay(g.Grantee)
	return grantRow{created: g.Meta.Created, priv: g.Privilege, on: grantedOn(g.On.Kind), name: objectName(s, g.On),
		grantee: grantee, toKind: kind, grantedBy: g.GrantedBy, option: g.GrantOption}
}

// showGrants implements SHOW GRANTS [TO ROLE r | TO USER u | OF ROLE r | ON ACCOUNT |
// ON <kind> <name>]; with no clause it is SHOW GRANTS TO USER <current user>.
func (e *Engine) showGrants(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	t := st.Target
	if t == nil {
		t = &sql.ShowTarget{Prep: "TO", Kind: "USER", Name: &sql.ObjectName{Parts: []sql.Ident{{Name: s.User}}}}
	}
	switch {
	case t.Prep == "TO" && t.Kind == "USER", t.Prep == "OF" && t.Kind == "ROLE":
		return e.showRoleGrants(ctx, tx, s, r, t)
	case t.Prep == "TO" && t.Kind == "ROLE":
		return e.showGrantsToRole(ctx, tx, s, r, t)
	case t.Prep == "ON":
		return e.showGrantsOn(ctx, tx, s, r, t)
	case t.Prep == "TO" && t.Kind == "DATABASE ROLE":
		return e.showGrantsToDatabaseRole(ctx, tx, s, r, t)
	case t.Prep == "OF" && t.Kind == "DATABASE ROLE":
		return e.showGrantsOfDatabaseRole(ctx, tx, s, r, t)
	}
	return nil, unsupported(strings.TrimSpace("SHOW GRANTS " + t.Prep + " " + t.Kind))
}

func (e *Engine) showRoleGrants(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (*result.Set, error) {
	if t.Name == nil {
		return nil, unsupported("SHOW GRANTS " + t.Prep + " " + t.Kind)
	}
	name, err := accountObjectName(*t.Name)
	if err != nil {
		return nil, err
	}
	all, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: roleGrantColumns()}
	if t.Kind == "USER" {
		if _, err := catalog.GetUser(ctx, tx, s.Account, name); catalog.IsNotFound(err) {
			return nil, sferr.DoesNotExist("User", name)
		} else if err != nil {
			return nil, err
		}
		if name != s.User && !r.ManageGrants() && !authz.HasAccountPrivilege(r.All, "CREATE USER") {
			return nil, sferr.InsufficientPrivileges(fmt.Sprintf("user '%s'", name))
		}
		for _, g := range all {
			if g.GranteeKind == catalog.GranteeUser && g.Grantee == name {
				set.Rows = append(set.Rows, []any{g.Meta.Created, g.Role, "USER", g.Grantee, g.GrantedBy})
			}
		}
		return set, nil
	}
	if !r.Snap.RoleExists(name) {
		return nil, sferr.DoesNotExist("Role", name)
	}
	for _, g := range all {
		if g.Role == name {
			kind, grantee := g.GranteeKind, g.Grantee
			if kind == catalog.GranteeRole {
				kind, grantee = catalog.RoleDisplay(g.Grantee)
			}
			set.Rows = append(set.Rows, []any{g.Meta.Created, g.Role, kind, grantee, g.GrantedBy})
		}
	}
	return set, nil
}

func (e *Engine) showGrantsToRole(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (*result.Set, error) {
	if t.Name == nil {
		return nil, unsupported("SHOW GRANTS TO ROLE")
	}
	name, err := accountObjectName(*t.Name)
	if err != nil {
		return nil, err
	}
	owner, err := catalog.Owner(ctx, tx, catalog.RoleKey(s.Account, name))
	if catalog.IsNotFound(err) {
		return nil, sferr.DoesNotExist("Role", name)
	} else if err != nil {
		return nil, err
	}
	if !r.All.Has(name) && !authz.Owns(r.All, owner) && !r.ManageGrants() {
		return nil, sferr.InsufficientPrivileges(fmt.Sprintf("role '%s'", name))
	}
	var rows []grantRow
	pgs, err := catalog.AllPrivilegeGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	for _, g := range pgs {
		if g.Grantee == name {
			rows = append(rows, privRow(s, g))
		}
	}
	rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	for _, g := range rgs {
		if g.GranteeKind == catalog.GranteeRole && g.Grantee == name {
			on, role := catalog.RoleDisplay(g.Role)
			rows = append(rows, grantRow{created: g.Meta.Created, priv: "USAGE", on: on, name: role, grantee: name, grantedBy: g.GrantedBy})
		}
	}
	owned, err := ownedRows(ctx, tx, s, name, nil)
	if err != nil {
		return nil, err
	}
	rows = append(rows, owned...)
	return grantSet(rows), nil
}

func grantSet(rows []grantRow) *result.Set {
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.on != b.on {
			return a.on < b.on
		}
		if a.name != b.name {
			return a.name < b.name
		}
		if a.priv != b.priv {
			return a.priv < b.priv
		}
		return a.grantee < b.grantee
	})
	set := &result.Set{Columns: grantsColumns()}
	for _, row := range rows {
		set.Rows = append(set.Rows, row.values())
	}
	return set
}

func (e *Engine) showGrantsOn(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, t *sql.ShowTarget) (*result.Set, error) {
	k, ok := catalog.LookupKind(t.Kind)
	if !ok {
		return nil, unsupported("SHOW GRANTS ON " + t.Kind)
	}
	o, err := resolveObject(s, k, t.Name)
	if err != nil {
		return nil, err
	}
	owner, err := catalog.ObjectOwner(ctx, tx, s.Account, o)
	if catalog.IsNotFound(err) {
		return nil, sferr.DoesNotExist(k.Label, o.Path())
	} else if err != nil {
		return nil, err
	}
	if o.Kind != "ACCOUNT" && !r.Sees(o, owner) {
		return nil, insufficient(s, o)
	}
	var rows []grantRow
	for _, g := range r.Snap.GrantsOn(o) {
		rows = append(rows, privRow(s, g))
	}
	if o.Kind == "ROLE" {
		rgs, err := catalog.AllRoleGrants(ctx, tx, s.Account)
		if err != nil {
			return nil, err
		}
		for _, g := range rgs {
			if g.Role == o.Name && g.GranteeKind == catalog.GranteeRole {
				rows = append(rows, grantRow{created: g.Meta.Created, priv: "USAGE", on: "ROLE", name: g.Role, grantee: g.Grantee, grantedBy: g.GrantedBy})
			}
		}
	}
	if o.Kind != "ACCOUNT" {
		owned, err := ownedRows(ctx, tx, s, "", &o)
		if err != nil {
			return nil, err
		}
		rows = append(rows, owned...)
	}
	return grantSet(rows), nil
}

// showFutureGrants implements SHOW FUTURE GRANTS IN DATABASE d | SCHEMA s.
func (e *Engine) showFutureGrants(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	in, owner, err := container(ctx, tx, s, st.InKind, st.InName)
	if err != nil {
		return nil, err
	}
	if in.Kind == "ACCOUNT" {
		return nil, unsupported("SHOW FUTURE GRANTS IN ACCOUNT")
	}
	if !r.ManageGrants() && !authz.Owns(r.All, owner) {
		return nil, insufficient(s, in)
	}
	fgs, err := catalog.AllFutureGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{result.TimestampLTZ("created_on"), result.Text("privilege"),
		result.Text("grant_on"), result.Text("name"), result.Text("grant_to"), result.Text("grantee_name"),
		result.Text("grant_option")}}
	for _, g := range fgs {
		var match bool
		if in.Kind == "DATABASE" {
			match = g.Database == in.Name && g.Schema == ""
		} else {
			match = g.Database == in.Database && g.Schema == in.Name
		}
		if !match {
			continue
		}
		kind, grantee := catalog.RoleDisplay(g.Grantee)
		set.Rows = append(set.Rows, []any{g.Meta.Created, g.Privilege, grantedOn(g.Kind),
			in.Path() + ".<" + grantedOn(g.Kind) + ">", kind, grantee, fmt.Sprint(g.GrantOption)})
	}
	return set, nil
}

// showCallerGrants implements SHOW CALLER GRANTS TO ROLE r | ON ACCOUNT | ON <kind> <name>.
func (e *Engine) showCallerGrants(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	t := st.Target
	if t == nil {
		return nil, unsupported("SHOW CALLER GRANTS")
	}
	cgs, err := catalog.AllCallerGrants(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	var keep func(g *catalog.CallerGrant) bool
	switch {
	case t.Prep == "TO" && (t.Kind == "ROLE" || t.Kind == "") && t.Name != nil:
		name, err := accountObjectName(*t.Name)
		if err != nil {
			return nil, err
		}
		if !r.Snap.RoleExists(name) {
			return nil, sferr.DoesNotExist("Role", name)
		}
		keep = func(g *catalog.CallerGrant) bool { return g.Grantee == name }
	case t.Prep == "ON":
		k, ok := catalog.LookupKind(t.Kind)
		if !ok {
			return nil, unsupported("SHOW CALLER GRANTS ON " + t.Kind)
		}
		o, err := resolveObject(s, k, t.Name)
		if err != nil {
			return nil, err
		}
		owner, err := catalog.ObjectOwner(ctx, tx, s.Account, o)
		if catalog.IsNotFound(err) {
			return nil, sferr.DoesNotExist(k.Label, o.Path())
		} else if err != nil {
			return nil, err
		}
		if o.Kind != "ACCOUNT" && !r.Sees(o, owner) {
			return nil, insufficient(s, o)
		}
		keep = func(g *catalog.CallerGrant) bool { return g.On == o }
	default:
		return nil, unsupported("SHOW CALLER GRANTS " + t.Prep + " " + t.Kind)
	}
	set := &result.Set{Columns: []result.Column{result.TimestampLTZ("created_on"), result.Text("privilege"),
		result.Text("granted_on"), result.Text("name"), result.Text("is_inherited"), result.Text("inherited_from"),
		result.Text("inherited_from_database"), result.Text("inherited_from_schema"), result.Text("granted_to"),
		result.Text("grantee_name")}}
	for _, g := range cgs {
		if !keep(g) {
			continue
		}
		if !g.Inherited {
			set.Rows = append(set.Rows, []any{g.Meta.Created, g.Privilege, grantedOn(g.Kind), objectName(s, g.On),
				"false", nil, nil, nil, "ROLE", g.Grantee})
			continue
		}
		var db, sch any
		name := "<" + grantedOn(g.Kind) + ">"
		switch g.On.Kind {
		case "DATABASE":
			db, name = g.On.Name, g.On.Name+"."+name
		case "SCHEMA":
			db, sch, name = g.On.Database, g.On.Name, g.On.Path()+"."+name
		}
		set.Rows = append(set.Rows, []any{g.Meta.Created, g.Privilege, grantedOn(g.Kind), name, "true", g.On.Kind,
			db, sch, "ROLE", g.Grantee})
	}
	return set, nil
}

// setCommentOnly applies ALTER … SET/UNSET to an object whose only property is
// COMMENT (TAG is accepted and ignored, as tags are not kept).
func setCommentOnly(st *sql.Alter, comment *string, kind string) error {
	for _, p := range st.Set {
		switch p.Name {
		case "COMMENT":
			c, err := propString(p.Name, p.Value)
			if err != nil {
				return err
			}
			*comment = c
		case "TAG":
		default:
			return invalidProperty(p.Name, kind)
		}
	}
	for _, u := range st.Unset {
		switch strings.ToUpper(u) {
		case "COMMENT":
			*comment = ""
		default:
			return invalidProperty(strings.ToUpper(u), kind)
		}
	}
	return nil
}
