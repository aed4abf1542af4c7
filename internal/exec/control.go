package exec

import (
	"context"
	"fmt"
	"strings"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/ingress"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

const executed = "Statement executed successfully."

// objectMissing is Snowflake's answer to USE of an object that is not there.
func objectMissing() *sferr.Error {
	return sferr.Compilation("002043", "02000", "Object does not exist, or operation cannot be performed.")
}

// roles returns the session's active role sets.
func roles(ctx context.Context, tx store.Tx, s *session.Session) (*authz.Active, error) {
	return authz.ActiveRoles(ctx, tx, s.Account, s.User, s.Role, s.SecondaryRoles)
}

func (e *Engine) use(ctx context.Context, s *session.Session, st *sql.Use) (*result.Set, error) {
	next := *s
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		switch st.Kind {
		case "ROLE":
			if len(st.Name.Parts) > 1 {
				// A qualified name is a database role, which cannot be a session's role.
				return sferr.Compilation("003013", "42501", fmt.Sprintf("Requested role '%s' is not assigned to the executing user. Specify another role to activate.", st.Name.String()))
			}
			role := st.Name.Last().Name
			ok, err := authz.CanUseRole(ctx, tx, s.Account, s.User, role)
			if err != nil {
				return err
			}
			if s.RoleRestriction != "" && role != s.RoleRestriction {
				ok = false
			}
			if !ok {
				return sferr.Compilation("003013", "42501", fmt.Sprintf("Requested role '%s' is not assigned to the executing user. Specify another role to activate.", role))
			}
			next.Role = role
		case "SECONDARY ROLES":
			if s.RoleRestriction != "" {
				return sferr.InsufficientPrivileges("secondary roles")
			}
			next.SecondaryRoles = nil
			for _, r := range st.Roles {
				if r.Name == "NONE" && !r.Quoted {
					next.SecondaryRoles = nil
					break
				}
				if r.Name == "ALL" && !r.Quoted {
					next.SecondaryRoles = []string{"ALL"}
					break
				}
				ok, err := authz.CanUseRole(ctx, tx, s.Account, s.User, r.Name)
				if err != nil {
					return err
				}
				if !ok {
					return sferr.Compilation("003013", "42501", fmt.Sprintf("Requested role '%s' is not assigned to the executing user. Specify another role to activate.", r.Name))
				}
				next.SecondaryRoles = append(next.SecondaryRoles, r.Name)
			}
		case "WAREHOUSE":
			name, err := accountObjectName(st.Name)
			if err != nil {
				return objectMissing()
			}
			w, err := catalog.GetWarehouse(ctx, tx, s.Account, name)
			if err != nil {
				if catalog.IsNotFound(err) {
					return objectMissing()
				}
				return err
			}
			r, err := roles(ctx, tx, s)
			if err != nil {
				return err
			}
			if !r.Allowed(catalog.Object{Kind: "WAREHOUSE", Name: name}, w.Meta.Owner, catalog.PrivUsage) {
				return objectMissing()
			}
			next.Warehouse = name
		case "DATABASE":
			if len(st.Name.Parts) != 1 {
				return objectMissing()
			}
			name := st.Name.Parts[0].Name
			d, err := catalog.GetDatabase(ctx, tx, s.Account, name)
			if err != nil {
				if catalog.IsNotFound(err) {
					return objectMissing()
				}
				return err
			}
			r, err := roles(ctx, tx, s)
			if err != nil {
				return err
			}
			if !r.Allowed(catalog.Object{Kind: "DATABASE", Name: name}, d.Meta.Owner, catalog.PrivUsage) {
				return objectMissing()
			}
			next.Database, next.Schema = name, ""
			if _, err := catalog.GetSchema(ctx, tx, s.Account, name, "PUBLIC"); err == nil {
				next.Schema = "PUBLIC"
			}
		case "SCHEMA":
			db, sch, err := schemaName(s, st.Name, "USE SCHEMA")
			if err != nil {
				return err
			}
			sc, err := catalog.GetSchema(ctx, tx, s.Account, db, sch)
			if err != nil {
				if catalog.IsNotFound(err) {
					return objectMissing()
				}
				return err
			}
			d, err := catalog.GetDatabase(ctx, tx, s.Account, db)
			if err != nil {
				return err
			}
			r, err := roles(ctx, tx, s)
			if err != nil {
				return err
			}
			// USAGE on both the database and the schema (ownership implies it).
			if !r.Allowed(catalog.Object{Kind: "DATABASE", Name: db}, d.Meta.Owner, catalog.PrivUsage) ||
				!r.Allowed(catalog.Object{Kind: "SCHEMA", Database: db, Name: sch}, sc.Meta.Owner, catalog.PrivUsage) {
				return objectMissing()
			}
			next.Database, next.Schema = db, sch
		default:
			return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'USE %s'.", st.Kind))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	*s = next
	return result.Status(result.Use, executed), nil
}

func (e *Engine) alterSession(s *session.Session, st *sql.AlterSession) (*result.Set, error) {
	// Validate everything first so a bad value changes nothing.
	set := map[string]string{}
	for _, p := range st.Set {
		d, ok := params.Lookup(p.Name)
		if !ok || d.Levels&params.Session == 0 {
			return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("invalid parameter '%s'", p.Name))
		}
		v := valueText(p.Value)
		nv, err := d.Normalize(v)
		if err != nil {
			return nil, invalidValue(d.Name, p.Value)
		}
		set[d.Name] = nv
	}
	for _, name := range st.Unset {
		d, ok := params.Lookup(name)
		if !ok || d.Levels&params.Session == 0 {
			return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("invalid parameter '%s'", strings.ToUpper(name)))
		}
	}
	next := make(map[string]string, len(s.Params)+len(set))
	for k, v := range s.Params {
		next[k] = v
	}
	for k, v := range set {
		next[k] = v
	}
	for _, name := range st.Unset {
		delete(next, strings.ToUpper(name))
	}
	s.Params = next
	return result.Status(result.AlterSession, executed), nil
}

// update runs fn in one write transaction with the session's active roles.
func (e *Engine) update(ctx context.Context, s *session.Session, fn func(tx store.Tx, r *authz.Active) error) error {
	return e.cfg.Store.Update(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
}

// exists answers CREATE of an existing object: success with IF NOT EXISTS, else 002002.
func exists(st *sql.Create, name string) (*result.Set, error) {
	if st.IfNotExists {
		return result.Status(result.DDL, fmt.Sprintf("%s already exists, statement succeeded.", name)), nil
	}
	return nil, sferr.AlreadyExists("Object", name)
}

func (e *Engine) createDatabase(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	d := &catalog.Database{Name: name, Transient: st.Transient, RetentionTime: 1}
	for _, p := range st.Props {
		if err := containerProp("DATABASE", p, &d.Comment, &d.RetentionTime); err != nil {
			return nil, err
		}
	}
	var out *result.Set
	var orphanTables, orphanViews []string // DuckDB objects of a replaced database
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !authz.HasAccountPrivilege(r.Primary, "CREATE DATABASE") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		old, err := catalog.GetDatabase(ctx, tx, s.Account, name)
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			owner, err := catalog.Owner(ctx, tx, catalog.DatabaseKey(s.Account, old.Name))
			if err != nil {
				return err
			}
			if !authz.Owns(r.All, owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("database '%s'", name))
			}
			if orphanTables, orphanViews, err = dataObjectsIn(ctx, tx, s.Account, name, ""); err != nil {
				return err
			}
			if err := catalog.DropDatabase(ctx, tx, s.Account, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateDatabase(ctx, tx, s.Account, s.Role, d); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Database %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.dropDataObjects(ctx, orphanTables, orphanViews)
	if strings.HasSuffix(out.Rows[0][0].(string), "successfully created.") {
		s.Database, s.Schema = name, "PUBLIC"
	}
	return out, nil
}

func (e *Engine) createSchema(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	db, name, err := schemaName(s, st.Name, "CREATE SCHEMA")
	if err != nil {
		return nil, err
	}
	sc := &catalog.Schema{Database: db, Name: name, Transient: st.Transient, RetentionTime: 1}
	for _, p := range st.Props {
		if p.Name == "MANAGED_ACCESS" {
			if sc.ManagedAccess, err = propBool(p.Name, p.Value); err != nil {
				return nil, err
			}
			continue
		}
		if err := containerProp("SCHEMA", p, &sc.Comment, &sc.RetentionTime); err != nil {
			return nil, err
		}
	}
	var out *result.Set
	var orphanTables, orphanViews []string // DuckDB objects of a replaced schema
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		dbOwner, err := catalog.Owner(ctx, tx, catalog.DatabaseKey(s.Account, db))
		if err != nil {
			if catalog.IsNotFound(err) {
				return sferr.DoesNotExist("Database", db)
			}
			return err
		}
		if !r.CanCreate(catalog.Object{Kind: "DATABASE", Name: db}, dbOwner, "CREATE SCHEMA") && !authz.HasAccountPrivilege(r.Primary, "MANAGE GRANTS") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("database '%s'", db))
		}
		_, err = catalog.GetSchema(ctx, tx, s.Account, db, name)
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if orphanTables, orphanViews, err = dataObjectsIn(ctx, tx, s.Account, db, name); err != nil {
				return err
			}
			if err := catalog.DropSchema(ctx, tx, s.Account, db, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateSchema(ctx, tx, s.Account, s.Role, sc); err != nil {
			return err
		}
		if err := catalog.ApplyFutureGrants(ctx, tx, s.Account, catalog.Object{Kind: "SCHEMA", Database: db, Name: name}, s.Role); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Schema %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.dropDataObjects(ctx, orphanTables, orphanViews)
	if strings.HasSuffix(out.Rows[0][0].(string), "successfully created.") {
		s.Database, s.Schema = db, name
	}
	return out, nil
}

var warehouseSizes = map[string]string{
	"XSMALL": "X-Small", "X-SMALL": "X-Small", "SMALL": "Small", "MEDIUM": "Medium", "LARGE": "Large",
	"XLARGE": "X-Large", "X-LARGE": "X-Large", "XXLARGE": "2X-Large", "X2LARGE": "2X-Large", "2X-LARGE": "2X-Large",
	"XXXLARGE": "3X-Large", "X3LARGE": "3X-Large", "3X-LARGE": "3X-Large", "X4LARGE": "4X-Large", "4X-LARGE": "4X-Large",
	"X5LARGE": "5X-Large", "5X-LARGE": "5X-Large", "X6LARGE": "6X-Large", "6X-LARGE": "6X-Large",
}

// applyWarehouseProps sets warehouse properties from CREATE or ALTER ... SET.
func applyWarehouseProps(w *catalog.Warehouse, props []sql.Property) error {
	var err error
	for _, p := range props {
		switch p.Name {
		case "WAREHOUSE_SIZE":
			v, err := propString(p.Name, p.Value)
			if err != nil {
				return err
			}
			size, ok := warehouseSizes[strings.ToUpper(v)]
			if !ok {
				return invalidValue(p.Name, p.Value)
			}
			w.Size = size
		case "WAREHOUSE_TYPE":
			v, err := propString(p.Name, p.Value)
			if err != nil {
				return err
			}
			switch strings.ToUpper(v) {
			case "STANDARD":
				w.Type = "STANDARD"
			case "SNOWPARK-OPTIMIZED", "SNOWPARK_OPTIMIZED":
				w.Type = "SNOWPARK-OPTIMIZED"
			default:
				return invalidValue(p.Name, p.Value)
			}
		case "AUTO_SUSPEND":
			if p.Value.Kind == sql.ValNull {
				w.AutoSuspend = 0
				continue
			}
			if w.AutoSuspend, err = propInt(p.Name, p.Value); err != nil || w.AutoSuspend < 0 {
				return invalidValue(p.Name, p.Value)
			}
		case "AUTO_RESUME":
			if w.AutoResume, err = propBool(p.Name, p.Value); err != nil {
				return err
			}
		case "INITIALLY_SUSPENDED":
			b, err := propBool(p.Name, p.Value)
			if err != nil {
				return err
			}
			if b {
				w.State = "SUSPENDED"
			}
		case "MIN_CLUSTER_COUNT":
			if w.MinClusterCount, err = propInt(p.Name, p.Value); err != nil || w.MinClusterCount < 1 || w.MinClusterCount > 10 {
				return invalidValue(p.Name, p.Value)
			}
		case "MAX_CLUSTER_COUNT":
			if w.MaxClusterCount, err = propInt(p.Name, p.Value); err != nil || w.MaxClusterCount < 1 || w.MaxClusterCount > 10 {
				return invalidValue(p.Name, p.Value)
			}
		case "SCALING_POLICY":
			v, err := propString(p.Name, p.Value)
			if err != nil {
				return err
			}
			v = strings.ToUpper(v)
			if v != "STANDARD" && v != "ECONOMY" {
				return invalidValue(p.Name, p.Value)
			}
			w.ScalingPolicy = v
		case "COMMENT":
			if w.Comment, err = propString(p.Name, p.Value); err != nil {
				return err
			}
		case "RESOURCE_MONITOR", "ENABLE_QUERY_ACCELERATION", "QUERY_ACCELERATION_MAX_SCALE_FACTOR",
			"MAX_CONCURRENCY_LEVEL", "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS", "STATEMENT_TIMEOUT_IN_SECONDS", "RESOURCE_CONSTRAINT":
		default:
			return invalidProperty(p.Name, "WAREHOUSE")
		}
	}
	if w.MinClusterCount > w.MaxClusterCount {
		return sferr.Compilation("001423", "22023", "MIN_CLUSTER_COUNT cannot be greater than MAX_CLUSTER_COUNT")
	}
	return nil
}

func (e *Engine) createWarehouse(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	w := &catalog.Warehouse{Name: name, Size: "X-Small", Type: "STANDARD", State: "STARTED", AutoSuspend: 600,
		AutoResume: true, MinClusterCount: 1, MaxClusterCount: 1, ScalingPolicy: "STANDARD"}
	if err := applyWarehouseProps(w, st.Props); err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !authz.HasAccountPrivilege(r.Primary, "CREATE WAREHOUSE") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		_, err := catalog.GetWarehouse(ctx, tx, s.Account, name)
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			owner, err := catalog.Owner(ctx, tx, catalog.WarehouseKey(s.Account, name))
			if err != nil {
				return err
			}
			if !authz.Owns(r.All, owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("warehouse '%s'", name))
			}
			if err := tx.Delete(ctx, catalog.WarehouseKey(s.Account, name)); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := catalog.CreateWarehouse(ctx, tx, s.Account, s.Role, w); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Warehouse %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(out.Rows[0][0].(string), "successfully created.") {
		s.Warehouse = name
	}
	return out, nil
}

func (e *Engine) createAccount(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	a := &catalog.Account{Name: name, Edition: "ENTERPRISE"}
	admin := &catalog.User{}
	var password, rsaKey string
	for _, p := range st.Props {
		switch p.Name {
		case "ADMIN_NAME":
			if admin.Name, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
			if p.Value.Kind == sql.ValIdent || p.Value.Kind == sql.ValString && !strings.ContainsAny(admin.Name, `"`) {
				admin.Name = strings.ToUpper(admin.Name)
			}
		case "ADMIN_PASSWORD":
			if p.Value.Kind != sql.ValString {
				return nil, sferr.Compilation("001423", "22023", "invalid value for parameter 'ADMIN_PASSWORD'")
			}
			password = p.Value.Str
		case "ADMIN_RSA_PUBLIC_KEY":
			if rsaKey, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
		case "ADMIN_USER_TYPE":
			v, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			admin.Type = strings.ToUpper(v)
		case "FIRST_NAME":
			admin.FirstName, _ = propString(p.Name, p.Value)
		case "LAST_NAME":
			admin.LastName, _ = propString(p.Name, p.Value)
		case "EMAIL":
			if a.Email, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
			admin.Email = a.Email
		case "MUST_CHANGE_PASSWORD":
			if admin.MustChangePassword, err = propBool(p.Name, p.Value); err != nil {
				return nil, err
			}
		case "EDITION":
			v, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			switch v = strings.ToUpper(v); v {
			case "STANDARD", "ENTERPRISE", "BUSINESS_CRITICAL":
				a.Edition = v
			default:
				return nil, invalidValue(p.Name, p.Value)
			}
		case "COMMENT":
			if a.Comment, err = propString(p.Name, p.Value); err != nil {
				return nil, err
			}
		case "REGION", "REGION_GROUP", "POLARIS":
		default:
			return nil, invalidProperty(p.Name, "ACCOUNT")
		}
	}
	switch {
	case admin.Name == "":
		return nil, sferr.Compilation("001422", "22023", "Missing option(s): [ADMIN_NAME]")
	case password == "" && rsaKey == "":
		return nil, sferr.Compilation("001422", "22023", "Missing option(s): [ADMIN_PASSWORD or ADMIN_RSA_PUBLIC_KEY]")
	case a.Email == "":
		return nil, sferr.Compilation("001422", "22023", "Missing option(s): [EMAIL]")
	case rsaKey != "":
		// Key-pair administrators arrive with the identity work; refuse rather than
		// create an administrator who cannot log in.
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'ADMIN_RSA_PUBLIC_KEY'.")
	}
	if admin.Type == "SERVICE" && password != "" {
		return nil, sferr.Compilation("001423", "22023", "Cannot set password for user of type SERVICE.")
	}
	admin.LoginName = admin.Name
	if password != "" {
		if admin.PasswordHash, err = auth.HashPassword(password); err != nil {
			return nil, err
		}
	}
	a.AdminName = admin.Name
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		cur, err := catalog.GetAccount(ctx, tx, s.Account)
		if err != nil {
			return err
		}
		if !cur.Org || !authz.HasAccountPrivilege(r.Primary, "CREATE ACCOUNT") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		if _, err := auth.FindAccount(ctx, tx, name); err == nil {
			return sferr.AlreadyExists("Object", name)
		} else if !catalog.IsNotFound(err) {
			return err
		}
		return catalog.CreateAccount(ctx, tx, a, admin)
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, fmt.Sprintf("Account %s successfully created.", name)), nil
}

// dropContainer drops a database, schema or warehouse.
func (e *Engine) dropContainer(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	var (
		key   store.Key
		label string // Snowflake's word for the kind in messages
		name  string
		err   error
		db    string
	)
	switch st.Kind {
	case "DATABASE":
		if name, err = accountObjectName(st.Name); err != nil {
			return nil, err
		}
		key, label = catalog.DatabaseKey(s.Account, name), "Database"
	case "SCHEMA":
		if db, name, err = schemaName(s, st.Name, "DROP SCHEMA"); err != nil {
			return nil, err
		}
		key, label = catalog.SchemaKey(s.Account, db, name), "Schema"
	case "WAREHOUSE":
		if name, err = accountObjectName(st.Name); err != nil {
			return nil, err
		}
		key, label = catalog.WarehouseKey(s.Account, name), "Warehouse"
	default:
		return nil, unsupported("DROP " + st.Kind)
	}
	var out *result.Set
	var orphanTables, orphanViews []string // DuckDB objects of a dropped database or schema
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		owner, err := catalog.Owner(ctx, tx, key)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return sferr.DoesNotExist(label, name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("%s '%s'", strings.ToLower(label), name))
		}
		switch st.Kind {
		case "DATABASE":
			err = rulesInUseWithin(ctx, tx, s.Account, name, "")
		case "SCHEMA":
			err = rulesInUseWithin(ctx, tx, s.Account, db, name)
		}
		if err != nil {
			return err
		}
		switch st.Kind {
		case "DATABASE":
			if orphanTables, orphanViews, err = dataObjectsIn(ctx, tx, s.Account, name, ""); err == nil {
				err = catalog.DropDatabase(ctx, tx, s.Account, name)
			}
		case "SCHEMA":
			if orphanTables, orphanViews, err = dataObjectsIn(ctx, tx, s.Account, db, name); err == nil {
				err = catalog.DropSchema(ctx, tx, s.Account, db, name)
			}
		default:
			if err = tx.Delete(ctx, key); err == nil {
				err = catalog.DropGrantsOn(ctx, tx, s.Account, catalog.Object{Kind: st.Kind, Name: name})
			}
		}
		if err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.dropDataObjects(ctx, orphanTables, orphanViews)
	ingress.Invalidate() // network rules may have gone with a database or schema
	switch {
	case st.Kind == "DATABASE" && s.Database == name:
		s.Database, s.Schema = "", ""
	case st.Kind == "SCHEMA" && s.Database == db && s.Schema == name:
		s.Schema = ""
	case st.Kind == "WAREHOUSE" && s.Warehouse == name:
		s.Warehouse = ""
	}
	return out, nil
}

func (e *Engine) dropAccount(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		cur, err := catalog.GetAccount(ctx, tx, s.Account)
		if err != nil {
			return err
		}
		if !cur.Org || !authz.HasAccountPrivilege(r.Primary, "CREATE ACCOUNT") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		a, err := auth.FindAccount(ctx, tx, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return sferr.DoesNotExist("Account", name)
		}
		if err != nil {
			return err
		}
		if a.Org {
			return sferr.Compilation("003001", "42501", "Cannot drop the organization account.")
		}
		if err := catalog.DropAccount(ctx, tx, a.Name); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", a.Name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// alterAccount sets or unsets account-level parameters on the current account
// (ALTER ACCOUNT SET p = v). ACCOUNTADMIN only.
func (e *Engine) alterAccount(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	if len(st.Name.Parts) > 0 {
		if n, _ := accountObjectName(st.Name); !strings.EqualFold(n, s.Account) {
			return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'ALTER ACCOUNT <other account>'.")
		}
	}
	if set, handled, err := e.alterAccountNetworkPolicy(ctx, s, st); handled {
		return set, err
	}
	if st.RenameTo != nil || st.Other != "" {
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'ALTER ACCOUNT'.")
	}
	set := map[string]string{}
	for _, p := range st.Set {
		d, ok := params.Lookup(p.Name)
		if !ok || d.Levels&params.Account == 0 {
			return nil, invalidProperty(p.Name, "ACCOUNT")
		}
		v, err := d.Normalize(valueText(p.Value))
		if err != nil {
			return nil, invalidValue(d.Name, p.Value)
		}
		set[d.Name] = v
	}
	for _, n := range st.Unset {
		if d, ok := params.Lookup(n); !ok || d.Levels&params.Account == 0 {
			return nil, invalidProperty(strings.ToUpper(n), "ACCOUNT")
		}
	}
	err := e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !r.All.Has(catalog.RoleAccountAdmin) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		a, err := catalog.GetAccount(ctx, tx, s.Account)
		if err != nil {
			return err
		}
		if a.Params == nil {
			a.Params = map[string]string{}
		}
		for k, v := range set {
			a.Params[k] = v
		}
		for _, n := range st.Unset {
			delete(a.Params, strings.ToUpper(n))
		}
		return catalog.PutAccount(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

// alterOwned loads an object's owner, checks ownership and runs fn; a missing object is
// 002003 unless IF EXISTS.
func (e *Engine) alterOwned(ctx context.Context, s *session.Session, st *sql.Alter, key store.Key, label, name string, fn func(tx store.Tx) error) (*result.Set, error) {
	return e.alterOwnedActive(ctx, s, st, key, label, name, func(tx store.Tx, _ *authz.Active) error { return fn(tx) })
}

// alterOwnedActive is alterOwned for changes that check further privileges of the
// active roles.
func (e *Engine) alterOwnedActive(ctx context.Context, s *session.Session, st *sql.Alter, key store.Key, label, name string, fn func(tx store.Tx, r *authz.Active) error) (*result.Set, error) {
	err := e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		owner, err := catalog.Owner(ctx, tx, key)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				return nil
			}
			return sferr.DoesNotExist(label, name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("%s '%s'", strings.ToLower(label), name))
		}
		return fn(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

func (e *Engine) alterWarehouse(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	name := s.Warehouse
	if len(st.Name.Parts) > 0 {
		var err error
		if name, err = accountObjectName(st.Name); err != nil {
			return nil, err
		}
	}
	key := catalog.WarehouseKey(s.Account, name)
	out, err := e.alterOwned(ctx, s, st, key, "Warehouse", name, func(tx store.Tx) error {
		w, err := catalog.GetWarehouse(ctx, tx, s.Account, name)
		if err != nil {
			return err
		}
		switch {
		case st.RenameTo != nil:
			to, err := accountObjectName(*st.RenameTo)
			if err != nil {
				return err
			}
			if err := tx.Rename(ctx, key, catalog.WarehouseKey(s.Account, to)); err != nil {
				if catalog.IsExists(err) {
					return sferr.AlreadyExists("Object", to)
				}
				return err
			}
			if err := catalog.MoveGrants(ctx, tx, s.Account, func(o catalog.Object) (catalog.Object, bool) {
				if o.Kind == catalog.KindWarehouse && o.Name == name {
					o.Name = to
					return o, true
				}
				return o, false
			}); err != nil {
				return err
			}
			w.Name = to
			return catalog.PutWarehouse(ctx, tx, s.Account, w)
		case st.Other == "SUSPEND":
			if w.State == "SUSPENDED" {
				return sferr.Compilation("090064", "22000", fmt.Sprintf("Invalid state. Warehouse '%s' cannot be suspended.", name))
			}
			w.State = "SUSPENDED"
		case st.Other == "RESUME" || st.Other == "RESUME IF SUSPENDED":
			if w.State == "STARTED" && st.Other == "RESUME" {
				return sferr.Compilation("090063", "22000", fmt.Sprintf("Invalid state. Warehouse '%s' cannot be resumed because resource monitor has exceeded its quota.", name))
			}
			w.State = "STARTED"
		case st.Other == "ABORT ALL QUERIES":
		case st.Other != "":
			return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'ALTER WAREHOUSE %s'.", st.Other))
		default:
			if err := applyWarehouseProps(w, st.Set); err != nil {
				return err
			}
			for _, u := range st.Unset {
				if strings.ToUpper(u) == "COMMENT" {
					w.Comment = ""
				}
			}
		}
		return catalog.PutWarehouse(ctx, tx, s.Account, w)
	})
	if err == nil && st.RenameTo != nil && s.Warehouse == name {
		s.Warehouse = st.RenameTo.Last().Name
	}
	return out, err
}

func (e *Engine) alterDatabase(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	key := catalog.DatabaseKey(s.Account, name)
	out, err := e.alterOwned(ctx, s, st, key, "Database", name, func(tx store.Tx) error {
		d, err := catalog.GetDatabase(ctx, tx, s.Account, name)
		if err != nil {
			return err
		}
		switch {
		case st.RenameTo != nil:
			to, err := accountObjectName(*st.RenameTo)
			if err != nil {
				return err
			}
			return renameDatabase(ctx, tx, s.Account, d, to)
		case st.Other != "":
			return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'ALTER DATABASE %s'.", st.Other))
		}
		if err := setContainerProps("DATABASE", &d.Comment, &d.RetentionTime, st); err != nil {
			return err
		}
		return catalog.PutDatabase(ctx, tx, s.Account, d)
	})
	if err == nil && st.RenameTo != nil {
		// Network policies' rule lists may have been rewritten.
		ingress.Invalidate()
		if s.Database == name {
			s.Database = st.RenameTo.Last().Name
		}
	}
	return out, err
}

// containerProp applies one database or schema property of CREATE or ALTER ... SET.
// Properties firn accepts without modelling (no storage engine behind them) are
// ignored; anything else is invalid.
func containerProp(kind string, p sql.Property, comment *string, retention *int64) error {
	var err error
	switch p.Name {
	case "COMMENT":
		*comment, err = propString(p.Name, p.Value)
	case "DATA_RETENTION_TIME_IN_DAYS":
		*retention, err = propInt(p.Name, p.Value)
	case "MAX_DATA_EXTENSION_TIME_IN_DAYS", "DEFAULT_DDL_COLLATION":
	default:
		err = invalidProperty(p.Name, kind)
	}
	return err
}

// setContainerProps applies ALTER DATABASE|SCHEMA ... SET / UNSET of COMMENT and
// DATA_RETENTION_TIME_IN_DAYS (UNSET restores the default of 1 day).
func setContainerProps(kind string, comment *string, retention *int64, st *sql.Alter) error {
	for _, p := range st.Set {
		if err := containerProp(kind, p, comment, retention); err != nil {
			return err
		}
	}
	for _, u := range st.Unset {
		switch strings.ToUpper(u) {
		case "COMMENT":
			*comment = ""
		case "DATA_RETENTION_TIME_IN_DAYS":
			*retention = 1
		default:
			return invalidProperty(strings.ToUpper(u), kind)
		}
	}
	return nil
}

// renameDatabase moves a database, everything in it (schemas, tables, views, secrets,
// network rules, …), the grants on all of it and the references network policies,
// integrations and views hold to its objects, in the caller's transaction.
func renameDatabase(ctx context.Context, tx store.Tx, account string, d *catalog.Database, to string) error {
	err := catalog.MoveContainer(ctx, tx, account, catalog.ContainerMove{FromDB: d.Name, ToDB: to})
	if catalog.IsExists(err) {
		return sferr.AlreadyExists("Object", to)
	}
	return err
}

func (e *Engine) alterSchema(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	db, name, err := schemaName(s, st.Name, "ALTER SCHEMA")
	if err != nil {
		return nil, err
	}
	key := catalog.SchemaKey(s.Account, db, name)
	var newDB, newName string
	out, err := e.alterOwnedActive(ctx, s, st, key, "Schema", name, func(tx store.Tx, r *authz.Active) error {
		sc, err := catalog.GetSchema(ctx, tx, s.Account, db, name)
		if err != nil {
			return err
		}
		switch {
		case st.RenameTo != nil:
			if newDB, newName, err = schemaName(s, *st.RenameTo, "ALTER SCHEMA"); err != nil {
				return err
			}
			if len(st.RenameTo.Parts) == 1 {
				newDB = db
			}
			return renameSchema(ctx, tx, s.Account, r, db, name, newDB, newName)
		case st.Other != "":
			return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'ALTER SCHEMA %s'.", st.Other))
		}
		if err := setContainerProps("SCHEMA", &sc.Comment, &sc.RetentionTime, st); err != nil {
			return err
		}
		return catalog.PutSchema(ctx, tx, s.Account, sc)
	})
	if err == nil && newName != "" {
		// Network policies' rule lists may have been rewritten.
		ingress.Invalidate()
		if s.Database == db && s.Schema == name {
			s.Database, s.Schema = newDB, newName
		}
	}
	return out, err
}

// renameSchema moves schema db.name to newDB.newName with everything in it, the
// grants on all of it and the references to its objects, in the caller's
// transaction. Moving it to another database needs CREATE SCHEMA there, as
// creating it there would.
func renameSchema(ctx context.Context, tx store.Tx, account string, r *authz.Active, db, name, newDB, newName string) error {
	if newDB != db {
		dbOwner, err := catalog.Owner(ctx, tx, catalog.DatabaseKey(account, newDB))
		if catalog.IsNotFound(err) {
			return sferr.DoesNotExist("Database", newDB)
		}
		if err != nil {
			return err
		}
		if !r.CanCreate(catalog.Object{Kind: "DATABASE", Name: newDB}, dbOwner, "CREATE SCHEMA") && !authz.HasAccountPrivilege(r.Primary, "MANAGE GRANTS") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("database '%s'", newDB))
		}
	}
	err := catalog.MoveContainer(ctx, tx, account, catalog.ContainerMove{FromDB: db, FromSchema: name, ToDB: newDB, ToSchema: newName})
	if catalog.IsExists(err) {
		return sferr.AlreadyExists("Object", newName)
	}
	return err
}
