package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/firn/firn/internal/store"
)

// KindDatabaseRole is the store kind of database roles. A database role's record
// lives under its database (Parent is the database name), so DROP DATABASE deletes
// it and MoveContainer carries it on a rename.
const KindDatabaseRole = "DATABASE_ROLE"

// GranteeDatabaseRole is how SHOW GRANTS names a database role grantee.
const GranteeDatabaseRole = "DATABASE_ROLE"

// dbRolePrefix starts every database role ID. Account role names never start with
// it (ReservedRoleName), so role grants, privilege grants and the role graph can
// hold database roles and account roles in one namespace without collision.
const dbRolePrefix = "\x01"

func init() {
	RegisterKind(KindSpec{Kind: "DATABASE ROLE", StoreKind: KindDatabaseRole, Level: LevelDatabaseObject, Label: "Database role"})
	RegisterReferenceMover("database roles", moveDatabaseRoleRefs)
}

// DatabaseRole is a role that lives in a database. It takes part in the role graph
// under its ID (DatabaseRoleID); it can be granted privileges on objects of its own
// database only, granted to account roles and to database roles of the same
// database, and is never a session's primary or secondary role.
type DatabaseRole struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	Comment  string `json:"comment,omitempty"`
	Meta     Meta   `json:"-"`
}

// ID is the role's identity in role grants, privilege grants and the role graph.
func (r *DatabaseRole) ID() string { return DatabaseRoleID(r.Database, r.Name) }

// DatabaseRoleID is the role-graph identity of database role db.name: a string that
// no account role name can equal, unique whatever characters the names contain.
func DatabaseRoleID(db, name string) string {
	b, _ := json.Marshal([]string{db, name})
	return dbRolePrefix + string(b)
}

// ParseDatabaseRoleID splits a database role ID; ok is false for account roles.
func ParseDatabaseRoleID(id string) (db, name string, ok bool) {
	rest, found := strings.CutPrefix(id, dbRolePrefix)
	if !found {
		return "", "", false
	}
	var parts []string
	if err := json.Unmarshal([]byte(rest), &parts); err != nil || len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// IsDatabaseRoleID reports whether a role identity names a database role.
func IsDatabaseRoleID(id string) bool { return strings.HasPrefix(id, dbRolePrefix) }

// ReservedRoleName reports whether name may not be an account role's name because
// it could be mistaken for a database role ID.
func ReservedRoleName(name string) bool { return strings.HasPrefix(name, dbRolePrefix) }

// RoleDisplay returns how SHOW commands print a role identity: the kind ("ROLE" or
// "DATABASE_ROLE") and the name ("R" or "DB.R").
func RoleDisplay(id string) (kind, name string) {
	if db, n, ok := ParseDatabaseRoleID(id); ok {
		return GranteeDatabaseRole, db + "." + n
	}
	return GranteeRole, id
}

// DatabaseRoleKey is the store key of a database role.
func DatabaseRoleKey(account, db, name string) store.Key {
	return store.Key{Account: account, Kind: KindDatabaseRole, Parent: db, Name: name}
}

// GetDatabaseRole returns a database role by exact names.
func GetDatabaseRole(ctx context.Context, tx store.Tx, account, db, name string) (*DatabaseRole, error) {
	var r DatabaseRole
	rec, err := load(ctx, tx, DatabaseRoleKey(account, db, name), &r)
	if err != nil {
		return nil, err
	}
	r.Meta = metaOf(rec)
	return &r, nil
}

// ListDatabaseRoles returns the database roles of a database ("*" for every
// database), ordered by name.
func ListDatabaseRoles(ctx context.Context, tx store.Tx, account, db string) ([]*DatabaseRole, error) {
	rs, ms, err := list[DatabaseRole](ctx, tx, account, KindDatabaseRole, db)
	for i := range rs {
		rs[i].Meta = ms[i]
	}
	return rs, err
}

// CreateDatabaseRole inserts a new database role owned by owner.
func CreateDatabaseRole(ctx context.Context, tx store.Tx, account, owner string, r *DatabaseRole) error {
	if _, err := insert(ctx, tx, DatabaseRoleKey(account, r.Database, r.Name), owner, r); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// PutDatabaseRole replaces an existing database role, keeping its owner.
func PutDatabaseRole(ctx context.Context, tx store.Tx, account string, r *DatabaseRole) error {
	return put(ctx, tx, DatabaseRoleKey(account, r.Database, r.Name), "", r)
}

// DropDatabaseRole removes a database role with every grant of it, to it and on it.
func DropDatabaseRole(ctx context.Context, tx store.Tx, account, db, name string) error {
	if err := tx.Delete(ctx, DatabaseRoleKey(account, db, name)); err != nil {
		return err
	}
	id := DatabaseRoleID(db, name)
	if err := dropRoleRefs(ctx, tx, account, func(role string) bool { return role == id }); err != nil {
		return err
	}
	return DropGrantsOn(ctx, tx, account, Object{Kind: "DATABASE ROLE", Database: db, Name: name})
}

// dropDatabaseRolesIn removes the account-level records that name the database
// roles of db: role grants of them or to them and caller grants to them. Their own
// records and the privilege and future grants to them (which are all on objects of
// db) go with the database's records.
func dropDatabaseRolesIn(ctx context.Context, tx store.Tx, account, db string) error {
	return dropRoleRefs(ctx, tx, account, func(role string) bool {
		d, _, ok := ParseDatabaseRoleID(role)
		return ok && d == db
	})
}

// dropRoleRefs deletes the role grants, privilege, future and caller grants that
// name a role matching match (as the granted role or the grantee).
func dropRoleRefs(ctx context.Context, tx store.Tx, account string, match func(role string) bool) error {
	rgs, err := AllRoleGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range rgs {
		if match(g.Role) || g.GranteeKind == GranteeRole && match(g.Grantee) {
			if err := tx.Delete(ctx, roleGrantKey(account, g.GranteeKind, g.Grantee, g.Role)); err != nil {
				return err
			}
		}
	}
	pgs, err := AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := deleteGrantees(ctx, tx, account, pgs, match); err != nil {
		return err
	}
	fgs, err := AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := deleteGrantees(ctx, tx, account, fgs, match); err != nil {
		return err
	}
	cgs, err := AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := deleteGrantees(ctx, tx, account, cgs, match); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// RenameDatabaseRole renames a database role within its database, with every grant
// of it, to it and on it. A taken name is ErrExists.
func RenameDatabaseRole(ctx context.Context, tx store.Tx, account, db, from, to string) error {
	if err := tx.Rename(ctx, DatabaseRoleKey(account, db, from), DatabaseRoleKey(account, db, to)); err != nil {
		return err
	}
	if err := rewriteBody(ctx, tx, DatabaseRoleKey(account, db, to), map[string]string{"name": to}); err != nil {
		return err
	}
	old, nu := DatabaseRoleID(db, from), DatabaseRoleID(db, to)
	if err := rewriteRoleRefs(ctx, tx, account, func(id string) (string, bool) { return nu, id == old }); err != nil {
		return err
	}
	oldObj := Object{Kind: "DATABASE ROLE", Database: db, Name: from}
	return MoveGrants(ctx, tx, account, func(o Object) (Object, bool) {
		if o != oldObj {
			return o, false
		}
		o.Name = to
		return o, true
	})
}

// moveDatabaseRoleRefs is the ReferenceMover that makes the role identities held by
// grants follow a database rename (the role records themselves move as records of
// the database).
func moveDatabaseRoleRefs(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	if !m.Database() {
		return nil
	}
	return rewriteRoleRefs(ctx, tx, account, func(id string) (string, bool) {
		db, name, ok := ParseDatabaseRoleID(id)
		if !ok || db != m.FromDB {
			return id, false
		}
		return DatabaseRoleID(m.ToDB, name), true
	})
}

// rewriteRoleRefs re-keys every role grant, privilege, future and caller grant that
// names a role rewrite maps to a new identity.
func rewriteRoleRefs(ctx context.Context, tx store.Tx, account string, rewrite func(id string) (string, bool)) error {
	rgs, err := AllRoleGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range rgs {
		role, r1 := rewrite(g.Role)
		grantee, r2 := g.Grantee, false
		if g.GranteeKind == GranteeRole {
			grantee, r2 = rewrite(g.Grantee)
		}
		if !r1 && !r2 {
			continue
		}
		if err := tx.Delete(ctx, roleGrantKey(account, g.GranteeKind, g.Grantee, g.Role)); err != nil {
			return err
		}
		if r1 {
			g.Role = role
		}
		if r2 {
			g.Grantee = grantee
		}
		if _, err := insert(ctx, tx, roleGrantKey(account, g.GranteeKind, g.Grantee, g.Role), "", g); err != nil {
			return fmt.Errorf("catalog: re-key role grant: %w", err)
		}
	}
	pgs, err := AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := rekeyGrantees(ctx, tx, account, pgs, rewrite, "privilege grant"); err != nil {
		return err
	}
	fgs, err := AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := rekeyGrantees(ctx, tx, account, fgs, rewrite, "future grant"); err != nil {
		return err
	}
	cgs, err := AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	if err := rekeyGrantees(ctx, tx, account, cgs, rewrite, "caller grant"); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// granteeGrant is a privilege, future or caller grant: a record keyed by its grantee.
type granteeGrant interface {
	key(account string) store.Key
	granteeRef() *string
}

func (g *PrivilegeGrant) granteeRef() *string { return &g.Grantee }
func (g *FutureGrant) granteeRef() *string    { return &g.Grantee }
func (g *CallerGrant) granteeRef() *string    { return &g.Grantee }

// rekeyGrantees re-keys each grant whose grantee rewrite maps to a new identity.
func rekeyGrantees[G granteeGrant](ctx context.Context, tx store.Tx, account string, gs []G, rewrite func(id string) (string, bool), what string) error {
	for _, g := range gs {
		to, ok := rewrite(*g.granteeRef())
		if !ok {
			continue
		}
		if err := tx.Delete(ctx, g.key(account)); err != nil {
			return err
		}
		*g.granteeRef() = to
		if _, err := insert(ctx, tx, g.key(account), "", g); err != nil {
			return fmt.Errorf("catalog: re-key %s: %w", what, err)
		}
	}
	return nil
}

// deleteGrantees deletes each grant whose grantee match reports.
func deleteGrantees[G granteeGrant](ctx context.Context, tx store.Tx, account string, gs []G, match func(role string) bool) error {
	for _, g := range gs {
		if match(*g.granteeRef()) {
			if err := tx.Delete(ctx, g.key(account)); err != nil {
				return err
			}
		}
	}
	return nil
}
