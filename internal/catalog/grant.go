package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/firn/firn/internal/store"
)

// Store kinds of grant records and of the grant generation.
const (
	KindPrivilegeGrant  = "PRIVILEGE_GRANT"
	KindFutureGrant     = "FUTURE_GRANT"
	KindCallerGrant     = "CALLER_GRANT"
	KindGrantGeneration = "GRANT_GENERATION"
)

// Privileges with a meaning of their own in every kind.
const (
	PrivOwnership = "OWNERSHIP"
	PrivAll       = "ALL PRIVILEGES"
	PrivUsage     = "USAGE"
)

// Level says where an object kind lives and so how its name is written.
type Level int

// Levels of object kinds.
const (
	// LevelAccount is the account itself (GRANT ... ON ACCOUNT).
	LevelAccount Level = iota
	// LevelAccountObject is a one-part name: USER, ROLE, WAREHOUSE, DATABASE, INTEGRATION, ...
	LevelAccountObject
	// LevelDatabaseObject is db.name: SCHEMA.
	LevelDatabaseObject
	// LevelSchemaObject is db.schema.name: TABLE, VIEW, NETWORK RULE, SECRET, ...
	LevelSchemaObject
)

// KindSpec is one row of the privilege table: an object kind, how its objects are
// found in the store, and the privileges that may be granted on it (OWNERSHIP and ALL
// [PRIVILEGES] are valid everywhere and are not listed). A new object kind is one
// more row, added to Kinds or through RegisterKind from an init function.
type KindSpec struct {
	Kind      string // singular SQL kind: "WAREHOUSE", "NETWORK RULE"
	Plural    string // as written in ON ALL / ON FUTURE: "WAREHOUSES", "NETWORK RULES"
	StoreKind string // store.Key.Kind of its records ("" for ACCOUNT)
	Level     Level
	// Label is Snowflake's capitalised word in "<Label> 'X' does not exist" messages.
	Label      string
	Privileges []string
}

// Kinds is the privilege table. See KindSpec.
var Kinds = []KindSpec{
	{Kind: "ACCOUNT", Level: LevelAccount, Label: "Account", Privileges: []string{
		"CREATE DATABASE", "CREATE WAREHOUSE", "CREATE USER", "CREATE ROLE", "CREATE INTEGRATION",
		"CREATE SECURITY INTEGRATION", "CREATE EXTERNAL ACCESS INTEGRATION", "CREATE NETWORK POLICY",
		"CREATE COMPUTE POOL", "CREATE SHARE", "IMPORT SHARE", "CREATE ACCOUNT", "MANAGE ACCOUNTS",
		"BIND SERVICE ENDPOINT", "MANAGE GRANTS", "MANAGE CALLER GRANTS", "MANAGE SERVICE CALLER ACCESS",
		"ATTACH POLICY", "APPLY MASKING POLICY", "APPLY ROW ACCESS POLICY", "APPLY TAG",
		"APPLY AUTHENTICATION POLICY", "APPLY PASSWORD POLICY", "APPLY SESSION POLICY", "AUDIT",
		"EXECUTE TASK", "EXECUTE MANAGED TASK", "MONITOR", "MONITOR USAGE", "MONITOR EXECUTION",
		"MONITOR SECURITY",
	}},
	{Kind: "USER", Plural: "USERS", StoreKind: KindUser, Level: LevelAccountObject, Label: "User",
		Privileges: []string{"MONITOR", "MODIFY", "MODIFY PROGRAMMATIC AUTHENTICATION METHODS"}},
	{Kind: "ROLE", Plural: "ROLES", StoreKind: KindRole, Level: LevelAccountObject, Label: "Role"},
	{Kind: "WAREHOUSE", Plural: "WAREHOUSES", StoreKind: KindWarehouse, Level: LevelAccountObject, Label: "Warehouse",
		Privileges: []string{"USAGE", "OPERATE", "MONITOR", "MODIFY", "APPLYBUDGET"}},
	{Kind: "DATABASE", Plural: "DATABASES", StoreKind: KindDatabase, Level: LevelAccountObject, Label: "Database",
		Privileges: []string{"USAGE", "MONITOR", "CREATE SCHEMA", "MODIFY", "CREATE DATABASE ROLE", "APPLYBUDGET"}},
	{Kind: "INTEGRATION", Plural: "INTEGRATIONS", StoreKind: "INTEGRATION", Level: LevelAccountObject, Label: "Integration",
		Privileges: []string{"USAGE", "USE_ANY_ROLE"}},
	{Kind: "SCHEMA", Plural: "SCHEMAS", StoreKind: KindSchema, Level: LevelDatabaseObject, Label: "Schema",
		Privileges: []string{"USAGE", "MONITOR", "MODIFY", "CREATE TABLE", "CREATE VIEW", "CREATE MATERIALIZED VIEW",
			"CREATE SEQUENCE", "CREATE FUNCTION", "CREATE PROCEDURE", "CREATE STAGE", "CREATE FILE FORMAT",
			"CREATE NETWORK RULE", "CREATE SECRET", "CREATE SERVICE", "CREATE IMAGE REPOSITORY", "CREATE TAG",
			"CREATE TASK", "CREATE STREAM", "CREATE PIPE"}},
	{Kind: "TABLE", Plural: "TABLES", StoreKind: "TABLE", Level: LevelSchemaObject, Label: "Table",
		Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"}},
	{Kind: "VIEW", Plural: "VIEWS", StoreKind: "VIEW", Level: LevelSchemaObject, Label: "View",
		Privileges: []string{"SELECT", "REFERENCES"}},
}

// accountDefaults are the account privileges the system roles hold from account
// creation (as Snowflake's own grants, which cannot be revoked). Every other ACCOUNT
// privilege of the table goes to ACCOUNTADMIN, except the organisation ones, which
// ORGADMIN holds in the organisation account only.
var accountDefaults = map[string]string{
	"CREATE DATABASE": RoleSysAdmin, "CREATE WAREHOUSE": RoleSysAdmin,
	"CREATE USER": RoleUserAdmin, "CREATE ROLE": RoleUserAdmin,
	"MANAGE GRANTS": RoleSecurityAdmin, "CREATE NETWORK POLICY": RoleSecurityAdmin,
	"CREATE ACCOUNT": RoleOrgAdmin, "MANAGE ACCOUNTS": RoleOrgAdmin,
}

var kindsMu sync.RWMutex

// RegisterKind adds or replaces a row of the privilege table.
func RegisterKind(k KindSpec) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	for i := range Kinds {
		if Kinds[i].Kind == k.Kind {
			Kinds[i] = k
			return
		}
	}
	Kinds = append(Kinds, k)
}

// LookupKind finds a row by singular or plural kind.
func LookupKind(kind string) (KindSpec, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	for _, k := range Kinds {
		if k.Kind == kind || k.Plural != "" && k.Plural == kind {
			return k, true
		}
	}
	return KindSpec{}, false
}

// ValidPrivilege reports whether priv may be granted on the kind (OWNERSHIP and
// ALL PRIVILEGES always may).
func (k KindSpec) ValidPrivilege(priv string) bool {
	return priv == PrivOwnership || priv == PrivAll || slices.Contains(k.Privileges, priv)
}

// SystemAccountGrants returns the account privileges each system role holds by
// default: ACCOUNT privilege → role.
func SystemAccountGrants(org bool) map[string]string {
	k, _ := LookupKind("ACCOUNT")
	out := map[string]string{}
	for _, p := range k.Privileges {
		r, ok := accountDefaults[p]
		switch {
		case !ok:
			r = RoleAccountAdmin
		case r == RoleOrgAdmin && !org:
			continue
		}
		out[p] = r
	}
	return out
}

// Object names one securable object. Kind is the singular SQL kind ("ACCOUNT",
// "DATABASE", "TABLE"); Database and Schema are set as the kind's level requires
// (a DATABASE has only Name; a SCHEMA has Database and Name).
type Object struct {
	Kind     string `json:"kind"`
	Database string `json:"database,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Parent is the store parent of the object's record: "" for account objects, "DB"
// for schemas, "DB.SCHEMA" for schema objects.
func (o Object) Parent() string {
	switch {
	case o.Schema != "":
		return o.Database + "." + o.Schema
	default:
		return o.Database
	}
}

// Path is the object's path: the parent and the name joined with dots ("" for ACCOUNT).
func (o Object) Path() string {
	if p := o.Parent(); p != "" {
		return p + "." + o.Name
	}
	return o.Name
}

// ID is a compact unique identity of the object, used as an index key.
func (o Object) ID() string {
	return o.Kind + "\x00" + o.Database + "\x00" + o.Schema + "\x00" + o.Name
}

// Key returns the store key of the object's record (false for ACCOUNT and unknown kinds).
func (o Object) Key(account string) (store.Key, bool) {
	k, ok := LookupKind(o.Kind)
	if !ok || k.StoreKind == "" {
		return store.Key{}, false
	}
	return store.Key{Account: account, Kind: k.StoreKind, Parent: o.Parent(), Name: o.Name}, true
}

// ObjectLookup finds an object's owner; it returns ErrNotFound when it does not exist.
type ObjectLookup func(ctx context.Context, tx store.Tx, account string, o Object) (owner string, err error)

var (
	lookupsMu sync.RWMutex
	lookups   = map[string]ObjectLookup{}
)

// RegisterLookup sets how objects of a store kind are found, for kinds whose objects
// are not catalog records (e.g. tables living in the data engine). Catalog records need
// no lookup: ObjectOwner reads them by key.
func RegisterLookup(storeKind string, f ObjectLookup) {
	lookupsMu.Lock()
	defer lookupsMu.Unlock()
	lookups[storeKind] = f
}

// ObjectOwner returns the owner role of an existing object, or ErrNotFound. The
// ACCOUNT exists and has no owner.
func ObjectOwner(ctx context.Context, tx store.Tx, account string, o Object) (string, error) {
	if o.Kind == "ACCOUNT" {
		return "", nil
	}
	k, ok := LookupKind(o.Kind)
	if !ok {
		return "", ErrNotFound
	}
	lookupsMu.RLock()
	f := lookups[k.StoreKind]
	lookupsMu.RUnlock()
	if f != nil {
		return f(ctx, tx, account, o)
	}
	key, _ := o.Key(account)
	return Owner(ctx, tx, key)
}

// ObjectsIn lists the objects of a kind in a database (schema "") or schema, with
// their owners, for GRANT ... ON ALL.
func ObjectsIn(ctx context.Context, tx store.Tx, account string, k KindSpec, db, schema string) ([]Object, []string, error) {
	parent := db
	switch {
	case k.Level == LevelSchemaObject && schema != "":
		parent = db + "." + schema
	case k.Level == LevelSchemaObject:
		parent = "*"
	case k.Level != LevelDatabaseObject:
		return nil, nil, fmt.Errorf("catalog: %s objects are not in a database", k.Kind)
	}
	recs, err := tx.List(ctx, account, k.StoreKind, parent)
	if err != nil {
		return nil, nil, err
	}
	var objs []Object
	var owners []string
	for _, r := range recs {
		o := Object{Kind: k.Kind, Database: db, Name: r.Name}
		if k.Level == LevelSchemaObject {
			d, s, ok := strings.Cut(r.Parent, ".")
			if !ok || d != db {
				continue
			}
			o.Schema = s
		}
		objs = append(objs, o)
		owners = append(owners, r.Owner)
	}
	return objs, owners, nil
}

// PrivilegeGrant records that a privilege on an object is granted to a role.
type PrivilegeGrant struct {
	Privilege   string `json:"privilege"`
	On          Object `json:"on"`
	Grantee     string `json:"grantee"`
	GrantOption bool   `json:"grant_option,omitempty"`
	GrantedBy   string `json:"granted_by,omitempty"`
	Meta        Meta   `json:"-"`
}

// grantKey names a grant record. Grants on objects inside a database are stored under
// the object's path, so dropping the database or schema drops them too; other grants
// are account-level records.
func grantKey(account, kind string, on Object, rest ...string) store.Key {
	b, _ := json.Marshal(append([]string{on.Kind, on.Database, on.Schema, on.Name}, rest...))
	parent := ""
	if on.Database != "" || on.Kind == "DATABASE" {
		parent = on.Path()
	}
	return store.Key{Account: account, Kind: kind, Parent: parent, Name: string(b)}
}

func (g *PrivilegeGrant) key(account string) store.Key {
	return grantKey(account, KindPrivilegeGrant, g.On, g.Privilege, g.Grantee)
}

// PutPrivilegeGrant inserts or replaces a privilege grant (re-granting keeps its
// creation time; WITH GRANT OPTION is added, never removed, by a re-grant).
func PutPrivilegeGrant(ctx context.Context, tx store.Tx, account string, g *PrivilegeGrant) error {
	k := g.key(account)
	var old PrivilegeGrant
	if _, err := load(ctx, tx, k, &old); err == nil {
		g.GrantOption = g.GrantOption || old.GrantOption
		if err := put(ctx, tx, k, "", g); err != nil {
			return err
		}
	} else if !IsNotFound(err) {
		return err
	} else if _, err := insert(ctx, tx, k, "", g); err != nil {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// DeletePrivilegeGrant removes a privilege grant; it reports whether one existed.
func DeletePrivilegeGrant(ctx context.Context, tx store.Tx, account string, g *PrivilegeGrant) (bool, error) {
	if err := tx.Delete(ctx, g.key(account)); err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, BumpGrants(ctx, tx, account)
}

// AllPrivilegeGrants returns every privilege grant of an account.
func AllPrivilegeGrants(ctx context.Context, tx store.Tx, account string) ([]*PrivilegeGrant, error) {
	gs, ms, err := list[PrivilegeGrant](ctx, tx, account, KindPrivilegeGrant, "*")
	for i := range gs {
		gs[i].Meta = ms[i]
	}
	return gs, err
}

// FutureGrant records a privilege granted on future objects of a kind in a database
// or schema: every object of that kind created there later gets the grant.
type FutureGrant struct {
	Privilege   string `json:"privilege"`
	Kind        string `json:"kind"` // singular object kind
	Database    string `json:"database"`
	Schema      string `json:"schema,omitempty"`
	Grantee     string `json:"grantee"`
	GrantOption bool   `json:"grant_option,omitempty"`
	Meta        Meta   `json:"-"`
}

func (g *FutureGrant) key(account string) store.Key {
	in := Object{Kind: "DATABASE", Name: g.Database}
	if g.Schema != "" {
		in = Object{Kind: "SCHEMA", Database: g.Database, Name: g.Schema}
	}
	return grantKey(account, KindFutureGrant, in, g.Kind, g.Privilege, g.Grantee)
}

// PutFutureGrant inserts or replaces a future grant.
func PutFutureGrant(ctx context.Context, tx store.Tx, account string, g *FutureGrant) error {
	k := g.key(account)
	if _, err := tx.Get(ctx, k); err == nil {
		return put(ctx, tx, k, "", g)
	} else if !IsNotFound(err) {
		return err
	}
	_, err := insert(ctx, tx, k, "", g)
	return err
}

// DeleteFutureGrant removes a future grant; it reports whether one existed.
func DeleteFutureGrant(ctx context.Context, tx store.Tx, account string, g *FutureGrant) (bool, error) {
	if err := tx.Delete(ctx, g.key(account)); err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// AllFutureGrants returns every future grant of an account.
func AllFutureGrants(ctx context.Context, tx store.Tx, account string) ([]*FutureGrant, error) {
	gs, ms, err := list[FutureGrant](ctx, tx, account, KindFutureGrant, "*")
	for i := range gs {
		gs[i].Meta = ms[i]
	}
	return gs, err
}

// ApplyFutureGrants gives a newly created object the future grants of its schema and
// database (schema-level future grants take precedence, as in Snowflake: when the
// schema has any future grant for the kind, the database's are ignored). Creators of
// schema objects call it in their transaction.
func ApplyFutureGrants(ctx context.Context, tx store.Tx, account string, o Object, grantedBy string) error {
	all, err := AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	var inSchema, inDB []*FutureGrant
	for _, g := range all {
		if g.Kind != o.Kind || g.Database != o.Database {
			continue
		}
		switch {
		case g.Schema == "":
			inDB = append(inDB, g)
		case g.Schema == o.Schema && o.Kind != "SCHEMA":
			inSchema = append(inSchema, g)
		}
	}
	use := inDB
	if len(inSchema) > 0 {
		use = inSchema
	}
	for _, g := range use {
		if g.Privilege == PrivOwnership {
			if k, ok := o.Key(account); ok {
				if err := SetOwner(ctx, tx, k, g.Grantee); err != nil {
					return err
				}
			}
			continue
		}
		if err := PutPrivilegeGrant(ctx, tx, account, &PrivilegeGrant{Privilege: g.Privilege, On: o, Grantee: g.Grantee,
			GrantOption: g.GrantOption, GrantedBy: grantedBy}); err != nil {
			return err
		}
	}
	return nil
}

// CallerGrant is a caller grant (restricted caller's rights): the grantee role, as the
// owner of an executable, may use the caller's privilege on an object (On), or, when
// Inherited, on every current and future object of Kind in the scope In (ACCOUNT,
// a DATABASE or a SCHEMA).
type CallerGrant struct {
	Privilege string `json:"privilege"`
	Inherited bool   `json:"inherited,omitempty"`
	On        Object `json:"on"` // the object (direct) or the scope (inherited)
	Kind      string `json:"kind"`
	Grantee   string `json:"grantee"`
	GrantedBy string `json:"granted_by,omitempty"`
	Meta      Meta   `json:"-"`
}

func (g *CallerGrant) key(account string) store.Key {
	k := grantKey(account, KindCallerGrant, g.On, fmt.Sprint(g.Inherited), g.Kind, g.Privilege, g.Grantee)
	k.Parent = ""
	return k
}

// PutCallerGrant inserts a caller grant unless it exists.
func PutCallerGrant(ctx context.Context, tx store.Tx, account string, g *CallerGrant) error {
	if _, err := insert(ctx, tx, g.key(account), "", g); err != nil && !IsExists(err) {
		return err
	}
	return BumpGrants(ctx, tx, account)
}

// DeleteCallerGrant removes a caller grant; it reports whether one existed.
func DeleteCallerGrant(ctx context.Context, tx store.Tx, account string, g *CallerGrant) (bool, error) {
	if err := tx.Delete(ctx, g.key(account)); err != nil {
		if IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, BumpGrants(ctx, tx, account)
}

// AllCallerGrants returns every caller grant of an account.
func AllCallerGrants(ctx context.Context, tx store.Tx, account string) ([]*CallerGrant, error) {
	gs, ms, err := list[CallerGrant](ctx, tx, account, KindCallerGrant, "")
	for i := range gs {
		gs[i].Meta = ms[i]
	}
	return gs, err
}

// grantGeneration is the body of the generation record.
type grantGeneration struct {
	Nonce string `json:"nonce"`
}

func generationKey(account string) store.Key {
	return store.Key{Account: account, Kind: KindGrantGeneration, Name: "CURRENT"}
}

// BumpGrants marks the account's roles and grants as changed, in the caller's
// transaction. Every change to roles, role grants, privilege grants or caller grants
// calls it, so caches keyed by GrantGeneration never serve stale answers. The value is
// random, not a counter, so it also differs between stores and re-created accounts.
func BumpGrants(ctx context.Context, tx store.Tx, account string) error {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	g := &grantGeneration{Nonce: hex.EncodeToString(b[:])}
	k := generationKey(account)
	if _, err := tx.Get(ctx, k); IsNotFound(err) {
		_, err = insert(ctx, tx, k, "", g)
		return err
	} else if err != nil {
		return err
	}
	return put(ctx, tx, k, "", g)
}

// GrantGeneration returns the account's current grant generation ("" when none was
// ever recorded, which callers must treat as uncacheable).
func GrantGeneration(ctx context.Context, tx store.Tx, account string) (string, error) {
	r, err := tx.Get(ctx, generationKey(account))
	if err != nil {
		if IsNotFound(err) {
			return "", nil
		}
		return "", err
	}
	g, err := generationMemo.decode(r)
	if err != nil {
		return "", err
	}
	return g.Nonce, nil
}

// DropGrantsOn removes every privilege and caller grant on an object (used when an
// account-level object is dropped; grants on database contents go with DeleteUnder).
func DropGrantsOn(ctx context.Context, tx store.Tx, account string, o Object) error {
	gs, err := AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if g.On == o {
			if _, err := DeletePrivilegeGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	cs, err := AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range cs {
		if !g.Inherited && g.On == o {
			if _, err := DeleteCallerGrant(ctx, tx, account, g); err != nil {
				return err
			}
		}
	}
	return BumpGrants(ctx, tx, account)
}

// MoveGrants re-keys every privilege, caller and future grant whose object (or, for
// future grants, container) rewrite maps to a new one: RENAME TO of a database, schema
// or warehouse keeps its grants, and none are left behind for a new object that takes
// the old name.
func MoveGrants(ctx context.Context, tx store.Tx, account string, rewrite func(Object) (Object, bool)) error {
	pgs, err := AllPrivilegeGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range pgs {
		to, ok := rewrite(g.On)
		if !ok {
			continue
		}
		if err := tx.Delete(ctx, g.key(account)); err != nil {
			return err
		}
		g.On = to
		if _, err := insert(ctx, tx, g.key(account), "", g); err != nil {
			return err
		}
	}
	cgs, err := AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range cgs {
		to, ok := rewrite(g.On)
		if !ok {
			continue
		}
		if err := tx.Delete(ctx, g.key(account)); err != nil {
			return err
		}
		g.On = to
		if _, err := insert(ctx, tx, g.key(account), "", g); err != nil {
			return err
		}
	}
	fgs, err := AllFutureGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range fgs {
		kind := "DATABASE"
		if g.Schema != "" {
			kind = "SCHEMA"
		}
		in := Object{Kind: kind, Database: g.Database, Name: g.Schema}
		if kind == "DATABASE" {
			in = Object{Kind: kind, Name: g.Database}
		}
		to, ok := rewrite(in)
		if !ok {
			continue
		}
		if err := tx.Delete(ctx, g.key(account)); err != nil {
			return err
		}
		if kind == "DATABASE" {
			g.Database = to.Name
		} else {
			g.Database, g.Schema = to.Database, to.Name
		}
		if _, err := insert(ctx, tx, g.key(account), "", g); err != nil {
			return err
		}
	}
	return BumpGrants(ctx, tx, account)
}

// dropCallerGrantsWithin removes the caller grants on objects that match. Caller
// grants are account-level records, so dropping a container does not remove them.
func dropCallerGrantsWithin(ctx context.Context, tx store.Tx, account string, match func(Object) bool) error {
	cgs, err := AllCallerGrants(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, g := range cgs {
		if match(g.On) {
			if err := tx.Delete(ctx, g.key(account)); err != nil {
				return err
			}
		}
	}
	return nil
}
