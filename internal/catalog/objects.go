package catalog

import (
	"context"
	"encoding/json"

	"github.com/firn/firn/internal/store"
)

// System roles present in every account.
const (
	RoleOrgAdmin      = "ORGADMIN"
	RoleAccountAdmin  = "ACCOUNTADMIN"
	RoleSecurityAdmin = "SECURITYADMIN"
	RoleUserAdmin     = "USERADMIN"
	RoleSysAdmin      = "SYSADMIN"
	RolePublic        = "PUBLIC"
)

// Account is a tenant. Every other object belongs to exactly one account.
type Account struct {
	Name    string `json:"name"`
	Edition string `json:"edition"`
	Email   string `json:"email,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Org marks the organisation account, the only one where ORGADMIN exists.
	Org       bool   `json:"org,omitempty"`
	AdminName string `json:"admin_name,omitempty"`
	// Params holds account-level parameter values (upper-case name → text).
	Params map[string]string `json:"params,omitempty"`
	Meta   Meta              `json:"-"`
}

// AccountKey is the store key of an account.
func AccountKey(name string) store.Key { return store.Key{Kind: KindAccount, Name: name} }

// GetAccount returns an account by exact name.
func GetAccount(ctx context.Context, tx store.Tx, name string) (*Account, error) {
	r, err := tx.Get(ctx, AccountKey(name))
	if err != nil {
		return nil, err
	}
	a, err := accountMemo.decode(r)
	if err != nil {
		return nil, err
	}
	a.Meta = metaOf(r)
	return a, nil
}

// ListAccounts returns every account, ordered by name.
func ListAccounts(ctx context.Context, tx store.Tx) ([]*Account, error) {
	as, ms, err := list[Account](ctx, tx, "", KindAccount, "")
	for i := range as {
		as[i].Meta = ms[i]
	}
	return as, err
}

// PutAccount replaces an existing account.
func PutAccount(ctx context.Context, tx store.Tx, a *Account) error {
	return put(ctx, tx, AccountKey(a.Name), "", a)
}

// Role is an account role.
type Role struct {
	Name    string `json:"name"`
	Comment string `json:"comment,omitempty"`
	Meta    Meta   `json:"-"`
}

// RoleKey is the store key of a role.
func RoleKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindRole, Name: name}
}

// GetRole returns a role by exact name.
func GetRole(ctx context.Context, tx store.Tx, account, name string) (*Role, error) {
	var r Role
	rec, err := load(ctx, tx, RoleKey(account, name), &r)
	if err != nil {
		return nil, err
	}
	r.Meta = metaOf(rec)
	return &r, nil
}

// ListRoles returns an account's roles, ordered by name.
func ListRoles(ctx context.Context, tx store.Tx, account string) ([]*Role, error) {
	rs, ms, err := list[Role](ctx, tx, account, KindRole, "")
	for i := range rs {
		rs[i].Meta = ms[i]
	}
	return rs, err
}

// CreateRole inserts a new role owned by owner.
func CreateRole(ctx context.Context, tx store.Tx, account, owner string, r *Role) error {
	if _, err := insert(ctx, tx, RoleKey(account, r.Name), owner, r); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// PutRole replaces an existing role, keeping its owner.
func PutRole(ctx context.Context, tx store.Tx, account string, r *Role) error {
	return put(ctx, tx, RoleKey(account, r.Name), "", r)
}

// DeleteRole removes a role record and every role grant of it or to it. Privilege
// and caller grants to it, and objects it owns, are the caller's concern.
func DeleteRole(ctx context.Context, tx store.Tx, account, name string) error {
	if err := tx.Delete(ctx, RoleKey(account, name)); err != nil {
		return err
	}
	all, err := AllRoleGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range all {
		if g.Role == name || g.GranteeKind == GranteeRole && g.Grantee == name {
			if err := tx.Delete(ctx, roleGrantKey(account, g.GranteeKind, g.Grantee, g.Role)); err != nil {
				return err
			}
		}
	}
	return BumpGrants(ctx, tx, account)
}

// Grantee kinds for role grants.
const (
	GranteeUser = "USER"
	GranteeRole = "ROLE"
)

// RoleGrant records that Role is granted to a user or a role.
type RoleGrant struct {
	Role        string `json:"role"`
	GranteeKind string `json:"grantee_kind"` // USER or ROLE
	Grantee     string `json:"grantee"`
	GrantedBy   string `json:"granted_by,omitempty"`
	Meta        Meta   `json:"-"`
}

// roleGrantKey names a grant by the JSON triple [granteeKind, grantee, role], which is
// unique whatever characters quoted names contain. Role grants are account-level
// records (Parent ""), so no database or schema path can ever reach them.
func roleGrantKey(account, granteeKind, grantee, role string) store.Key {
	b, _ := json.Marshal([]string{granteeKind, grantee, role})
	return store.Key{Account: account, Kind: KindRoleGrant, Name: string(b)}
}

// GrantRole grants role to a user or role. It returns ErrExists if already granted.
func GrantRole(ctx context.Context, tx store.Tx, account string, g *RoleGrant) error {
	if _, err := insert(ctx, tx, roleGrantKey(account, g.GranteeKind, g.Grantee, g.Role), "", g); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// RevokeRole removes a role grant, or returns ErrNotFound.
func RevokeRole(ctx context.Context, tx store.Tx, account, granteeKind, grantee, role string) error {
	if err := tx.Delete(ctx, roleGrantKey(account, granteeKind, grantee, role)); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// RolesGrantedTo returns the roles granted directly to a user or role.
func RolesGrantedTo(ctx context.Context, tx store.Tx, account, granteeKind, grantee string) ([]*RoleGrant, error) {
	all, err := AllRoleGrants(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	var out []*RoleGrant
	for _, g := range all {
		if g.GranteeKind == granteeKind && g.Grantee == grantee {
			out = append(out, g)
		}
	}
	return out, nil
}

// AllRoleGrants returns every role grant of an account.
func AllRoleGrants(ctx context.Context, tx store.Tx, account string) ([]*RoleGrant, error) {
	gs, ms, err := list[RoleGrant](ctx, tx, account, KindRoleGrant, "")
	for i := range gs {
		gs[i].Meta = ms[i]
	}
	return gs, err
}

// Warehouse is a named virtual warehouse. firn has no compute behind it; it exists so
// that USE WAREHOUSE, CURRENT_WAREHOUSE and grants behave as in Snowflake.
type Warehouse struct {
	Name            string `json:"name"`
	Size            string `json:"size"`
	Type            string `json:"type"`
	State           string `json:"state"` // STARTED, SUSPENDED
	AutoSuspend     int64  `json:"auto_suspend"`
	AutoResume      bool   `json:"auto_resume"`
	MinClusterCount int64  `json:"min_cluster_count"`
	MaxClusterCount int64  `json:"max_cluster_count"`
	ScalingPolicy   string `json:"scaling_policy"`
	Comment         string `json:"comment,omitempty"`
	Meta            Meta   `json:"-"`
}

// WarehouseKey is the store key of a warehouse.
func WarehouseKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindWarehouse, Name: name}
}

// GetWarehouse returns a warehouse by exact name.
func GetWarehouse(ctx context.Context, tx store.Tx, account, name string) (*Warehouse, error) {
	var w Warehouse
	r, err := load(ctx, tx, WarehouseKey(account, name), &w)
	if err != nil {
		return nil, err
	}
	w.Meta = metaOf(r)
	return &w, nil
}

// ListWarehouses returns an account's warehouses, ordered by name.
func ListWarehouses(ctx context.Context, tx store.Tx, account string) ([]*Warehouse, error) {
	ws, ms, err := list[Warehouse](ctx, tx, account, KindWarehouse, "")
	for i := range ws {
		ws[i].Meta = ms[i]
	}
	return ws, err
}

// CreateWarehouse inserts a new warehouse owned by owner.
func CreateWarehouse(ctx context.Context, tx store.Tx, account, owner string, w *Warehouse) error {
	_, err := insert(ctx, tx, WarehouseKey(account, w.Name), owner, w)
	return err
}

// PutWarehouse replaces an existing warehouse.
func PutWarehouse(ctx context.Context, tx store.Tx, account string, w *Warehouse) error {
	return put(ctx, tx, WarehouseKey(account, w.Name), "", w)
}

// Database is a database of an account.
type Database struct {
	Name          string `json:"name"`
	Comment       string `json:"comment,omitempty"`
	Transient     bool   `json:"transient,omitempty"`
	RetentionTime int64  `json:"retention_time"`
	Meta          Meta   `json:"-"`
}

// DatabaseKey is the store key of a database.
func DatabaseKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindDatabase, Name: name}
}

// GetDatabase returns a database by exact name.
func GetDatabase(ctx context.Context, tx store.Tx, account, name string) (*Database, error) {
	var d Database
	r, err := load(ctx, tx, DatabaseKey(account, name), &d)
	if err != nil {
		return nil, err
	}
	d.Meta = metaOf(r)
	return &d, nil
}

// ListDatabases returns an account's databases, ordered by name.
func ListDatabases(ctx context.Context, tx store.Tx, account string) ([]*Database, error) {
	ds, ms, err := list[Database](ctx, tx, account, KindDatabase, "")
	for i := range ds {
		ds[i].Meta = ms[i]
	}
	return ds, err
}

// CreateDatabase inserts a new database owned by owner, with its PUBLIC schema.
func CreateDatabase(ctx context.Context, tx store.Tx, account, owner string, d *Database) error {
	if _, err := insert(ctx, tx, DatabaseKey(account, d.Name), owner, d); err != nil {
		return err
	}
	return CreateSchema(ctx, tx, account, owner, &Schema{Database: d.Name, Name: "PUBLIC", RetentionTime: d.RetentionTime, Transient: d.Transient})
}

// PutDatabase replaces an existing database.
func PutDatabase(ctx context.Context, tx store.Tx, account string, d *Database) error {
	return put(ctx, tx, DatabaseKey(account, d.Name), "", d)
}

// DropDatabase removes a database and everything in it.
func DropDatabase(ctx context.Context, tx store.Tx, account, name string) error {
	if err := tx.Delete(ctx, DatabaseKey(account, name)); err != nil {
		return err
	}
	if _, err := tx.DeleteUnder(ctx, account, name); err != nil {
		return err
	}
	if err := dropDatabaseRolesIn(ctx, tx, account, name); err != nil {
		return err
	}
	if err := dropCallerGrantsWithin(ctx, tx, account, func(o Object) bool {
		return o.Kind == KindDatabase && o.Name == name || o.Database == name
	}); err != nil {
		return err
	}
	// Grants on the database and its contents went with it; cached privilege
	// snapshots must not outlive them (a new database of the same name starts clean).
	return BumpGrants(ctx, tx, account)
}

// Schema is a schema of a database.
type Schema struct {
	Database      string `json:"database"`
	Name          string `json:"name"`
	Comment       string `json:"comment,omitempty"`
	Transient     bool   `json:"transient,omitempty"`
	ManagedAccess bool   `json:"managed_access,omitempty"`
	RetentionTime int64  `json:"retention_time"`
	Meta          Meta   `json:"-"`
}

// SchemaKey is the store key of a schema.
func SchemaKey(account, db, name string) store.Key {
	return store.Key{Account: account, Kind: KindSchema, Parent: db, Name: name}
}

// GetSchema returns a schema by exact names.
func GetSchema(ctx context.Context, tx store.Tx, account, db, name string) (*Schema, error) {
	var s Schema
	r, err := load(ctx, tx, SchemaKey(account, db, name), &s)
	if err != nil {
		return nil, err
	}
	s.Meta = metaOf(r)
	return &s, nil
}

// ListSchemas returns the schemas of a database ("*" for every database).
func ListSchemas(ctx context.Context, tx store.Tx, account, db string) ([]*Schema, error) {
	ss, ms, err := list[Schema](ctx, tx, account, KindSchema, db)
	for i := range ss {
		ss[i].Meta = ms[i]
	}
	return ss, err
}

// CreateSchema inserts a new schema owned by owner.
func CreateSchema(ctx context.Context, tx store.Tx, account, owner string, s *Schema) error {
	_, err := insert(ctx, tx, SchemaKey(account, s.Database, s.Name), owner, s)
	return err
}

// PutSchema replaces an existing schema.
func PutSchema(ctx context.Context, tx store.Tx, account string, s *Schema) error {
	return put(ctx, tx, SchemaKey(account, s.Database, s.Name), "", s)
}

// DropSchema removes a schema and everything in it.
func DropSchema(ctx context.Context, tx store.Tx, account, db, name string) error {
	if err := tx.Delete(ctx, SchemaKey(account, db, name)); err != nil {
		return err
	}
	if _, err := tx.DeleteUnder(ctx, account, db+"."+name); err != nil {
		return err
	}
	if err := dropCallerGrantsWithin(ctx, tx, account, func(o Object) bool {
		return o.Database == db && (o.Kind == KindSchema && o.Name == name || o.Schema == name)
	}); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// SetOwner changes the owner of the record at k.
func SetOwner(ctx context.Context, tx store.Tx, k store.Key, owner string) error {
	r, err := tx.Get(ctx, k)
	if err != nil {
		return err
	}
	r.Owner = owner
	return tx.Put(ctx, r)
}

// Owner returns the owner role of the record at k.
func Owner(ctx context.Context, tx store.Tx, k store.Key) (string, error) {
	r, err := tx.Get(ctx, k)
	if err != nil {
		return "", err
	}
	return r.Owner, nil
}
