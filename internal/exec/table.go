package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// Tables and views: data statements are analysed by package data (which finds every
// table and view they name in DuckDB's parse tree), resolved here against the catalog
// with the session's roles, rewritten to internal DuckDB names and run. DDL changes
// the catalog record and the DuckDB object together: the DuckDB transaction commits
// only after the store transaction has.

func init() {
	showers["TABLES"] = (*Engine).showTables
	showers["VIEWS"] = (*Engine).showViews
	showers["COLUMNS"] = (*Engine).showColumns
	describers["TABLE"] = (*Engine).describeTable
	describers["VIEW"] = (*Engine).describeTable
}

// dataStatement runs one data statement.
func (e *Engine) dataStatement(ctx context.Context, s *session.Session, dc *data.Context, text string, binds []data.Bind) (*result.Set, error) {
	st, err := e.cfg.Data.Analyze(ctx, dc, text, binds)
	if err != nil {
		return nil, err
	}
	switch st.Kind {
	case data.KindCreateTable, data.KindCreateView:
		return e.createTable(ctx, s, st)
	case data.KindDropTable, data.KindDropView:
		return e.dropTable(ctx, s, st)
	case data.KindAlterTable, data.KindAlterView:
		return e.alterTable(ctx, s, st)
	}
	var tables []*catalog.Table
	if len(st.Refs) > 0 {
		err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
			r, err := roles(ctx, tx, s)
			if err != nil {
				return err
			}
			for _, ref := range st.Refs {
				t, err := e.resolveRef(ctx, tx, s, r, ref, st.Verb())
				if err != nil {
					return err
				}
				if t != nil {
					tables = append(tables, t)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if st.Kind == data.KindTruncate && st.IfExists && st.Refs[0].Internal == "" {
		return result.Status(result.DDL, executed), nil
	}
	set, err := e.cfg.Data.Run(ctx, st)
	if err == nil && st.Kind == data.KindQuery {
		declaredTypes(set, tables)
	}
	return set, err
}

// declaredTypes gives result columns that carry a table column's name the declared
// details DuckDB's types cannot hold: the length of VARCHAR(n) and BINARY(n) columns and
// OBJECT / ARRAY for JSON columns. A name that matches columns of different types in
// the statement's tables is left alone.
func declaredTypes(set *result.Set, tables []*catalog.Table) {
	if set == nil || len(tables) == 0 {
		return
	}
	decl := map[string]*catalog.Column{}
	ambiguous := map[string]bool{}
	for _, t := range tables {
		for i := range t.Columns {
			c := &t.Columns[i]
			if old, ok := decl[c.Name]; ok && (old.Type != c.Type || old.Length != c.Length) {
				ambiguous[c.Name] = true
			}
			decl[c.Name] = c
		}
	}
	for i := range set.Columns {
		rc := &set.Columns[i]
		c, ok := decl[rc.Name]
		if !ok || ambiguous[rc.Name] {
			continue
		}
		switch {
		case rc.Type == "text" && c.Type == "VARCHAR" && c.Length > 0:
			rc.Length = int64(c.Length)
		case rc.Type == "binary" && c.Type == "BINARY" && c.Length > 0:
			rc.Length = int64(c.Length)
		case rc.Type == "variant" && (c.Type == "OBJECT" || c.Type == "ARRAY"):
			rc.Type = strings.ToLower(c.Type)
		}
	}
}

// objectPath resolves a written name against the session's database and schema.
func objectPath(s *session.Session, parts []sql.Ident, verb string) (db, schema, name string, err error) {
	switch len(parts) {
	case 1:
		if s.Database == "" || s.Schema == "" {
			return "", "", "", noCurrentSchema(verb, s)
		}
		return s.Database, s.Schema, parts[0].Name, nil
	case 2:
		if s.Database == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		return s.Database, parts[0].Name, parts[1].Name, nil
	case 3:
		return parts[0].Name, parts[1].Name, parts[2].Name, nil
	}
	return "", "", "", sferr.DoesNotExist("Object", joinParts(parts))
}

func joinParts(parts []sql.Ident) string {
	p := make([]string, len(parts))
	for i, x := range parts {
		p[i] = x.Name
	}
	return strings.Join(p, ".")
}

func noCurrentSchema(verb string, s *session.Session) *sferr.Error {
	if s.Database == "" {
		return noCurrentDatabase(verb)
	}
	return sferr.Compilation("090106", "22000", fmt.Sprintf("Cannot perform %s. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.", verb))
}

// missingObject is the one answer for objects that do not exist and objects the
// session may not see.
func missingObject(db, schema, name string) *sferr.Error {
	e := sferr.DoesNotExist("Object", db+"."+schema+"."+name)
	e.SQLState = "42S02"
	return e
}

// usableSchema checks that the database and schema exist and that the active roles
// have USAGE on both; it returns the schema record.
func usableSchema(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, db, schema string) (*catalog.Schema, error) {
	d, err := catalog.GetDatabase(ctx, tx, s.Account, db)
	if err != nil {
		return nil, err
	}
	sc, err := catalog.GetSchema(ctx, tx, s.Account, db, schema)
	if err != nil {
		return nil, err
	}
	if !r.Allowed(catalog.Object{Kind: "DATABASE", Name: db}, d.Meta.Owner, catalog.PrivUsage) ||
		!r.Allowed(catalog.Object{Kind: "SCHEMA", Database: db, Name: schema}, sc.Meta.Owner, catalog.PrivUsage) {
		return nil, catalog.ErrNotFound
	}
	return sc, nil
}

// resolveRef finds a referenced table or view, checks the statement's privileges on
// it and sets its internal name. It returns the record (nil for system views).
func (e *Engine) resolveRef(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, ref *data.Ref, verb string) (*catalog.Table, error) {
	db, schema, name, err := objectPath(s, ref.Parts, verb)
	if err != nil {
		return nil, err
	}
	if schema == "INFORMATION_SCHEMA" && !ref.Target {
		if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
			if catalog.IsNotFound(err) {
				return nil, missingObject(db, schema, name)
			}
			return nil, err
		}
		set, err := e.informationSchema(ctx, tx, s, r, db, name)
		if err != nil {
			return nil, err
		}
		if set == nil {
			return nil, missingObject(db, schema, name)
		}
		sub, err := data.InlineSet(set)
		if err != nil {
			return nil, err
		}
		ref.Internal = sub
		return nil, nil
	}
	if _, err := usableSchema(ctx, tx, s, r, db, schema); err != nil {
		if catalog.IsNotFound(err) {
			if ref.Target && len(ref.Privs) == 1 && ref.Privs[0] == "TRUNCATE" {
				return nil, missingTruncate(db, schema, name)
			}
			return nil, missingObject(db, schema, name)
		}
		return nil, err
	}
	t, err := catalog.FindTableFor(ctx, tx, s.Account, s.ID, db, schema, name)
	if err != nil {
		if catalog.IsNotFound(err) {
			return nil, missingObject(db, schema, name)
		}
		return nil, err
	}
	if ref.Target && t.Kind == catalog.KindView {
		return nil, sferr.Compilation("002203", "02000", "SQL compilation error: Object found is of type 'VIEW', not specified type 'TABLE'.")
	}
	for _, p := range ref.Privs {
		if !allowedOn(r, t, p) {
			return nil, missingObject(db, schema, name)
		}
	}
	if t.Kind == catalog.KindView && !ref.Target {
		if err := checkViewOwner(ctx, tx, r.Snap, s.Account, t, 0); err != nil {
			return nil, err
		}
	}
	ref.Internal = data.Internal(t.DuckSchema, t.DuckName)
	return t, nil
}

func missingTruncate(db, schema, name string) *sferr.Error {
	return sferr.DoesNotExist("Table", db+"."+schema+"."+name)
}

// toColumns converts data column definitions to catalog columns.
func toColumns(defs []data.ColumnDef) []catalog.Column {
	out := make([]catalog.Column, len(defs))
	for i, d := range defs {
		out[i] = catalog.Column{Name: d.Name, Type: d.Type.Name, Precision: d.Type.Precision, Scale: d.Type.Scale,
			Length: d.Type.Length, Nullable: !d.NotNull, Default: d.Default, PrimaryKey: d.PrimaryKey, Unique: d.Unique, Comment: d.Comment}
	}
	return out
}

// fromColumns converts catalog columns to data column definitions.
func fromColumns(cols []catalog.Column) []data.ColumnDef {
	out := make([]data.ColumnDef, len(cols))
	for i, c := range cols {
		out[i] = data.ColumnDef{Name: c.Name, Type: snowType(c), NotNull: !c.Nullable, Default: c.Default,
			PrimaryKey: c.PrimaryKey, Unique: c.Unique, Comment: c.Comment}
	}
	return out
}

func snowType(c catalog.Column) data.SnowType {
	return data.SnowType{Name: c.Type, Precision: c.Precision, Scale: c.Scale, Length: c.Length}
}

// ddl runs fn in one store transaction with a DuckDB transaction open; the DuckDB
// transaction commits only after the store's. If that commit fails, undo (when not
// nil) runs in a new store transaction to remove the catalog change.
func (e *Engine) ddl(ctx context.Context, s *session.Session, fn func(tx store.Tx, r *authz.Active, dtx *data.Tx) error, undo func(tx store.Tx) error) error {
	dtx, err := e.cfg.Data.Begin(ctx)
	if err != nil {
		ie := sferr.Internal()
		ie.Cause = err
		return ie
	}
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error { return fn(tx, r, dtx) })
	if err != nil {
		dtx.Rollback()
		return err
	}
	if err := dtx.Commit(); err != nil {
		e.log.Error("data: commit after catalog change failed", slog.String("err", err.Error()))
		if undo != nil {
			if uerr := e.cfg.Store.Update(ctx, undo); uerr != nil {
				e.log.Error("data: undo of catalog change failed", slog.String("err", uerr.Error()))
			}
		}
		ie := sferr.Internal()
		ie.Cause = err
		return ie
	}
	return nil
}

// errNoop marks a DDL that succeeded without changes (IF [NOT] EXISTS).
var errNoop = errors.New("no-op")

func (e *Engine) createTable(ctx context.Context, s *session.Session, st *data.Stmt) (*result.Set, error) {
	kind, label, priv := catalog.KindTable, "Table", "CREATE TABLE"
	if st.Kind == data.KindCreateView {
		kind, label, priv = catalog.KindView, "View", "CREATE VIEW"
	}
	db, schema, name, err := objectPath(s, st.Name.Parts, "CREATE "+kind)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	t := &catalog.Table{Database: db, Schema: schema, Name: name, Kind: kind, TableType: st.TableType, Secure: st.Secure, RetentionTime: 1}
	if st.TableType == "TEMPORARY" {
		if s.ID == 0 {
			return nil, unsupported("CREATE TEMPORARY TABLE outside a session")
		}
		t.Session = s.ID
	}
	if st.Comment != nil {
		t.Comment = *st.Comment
	}
	if kind == catalog.KindView {
		t.Text = st.Text
		t.RetentionTime = 0
	}
	// The DuckDB schema is created before the DDL transaction starts (autocommit), so
	// that concurrent CREATEs in one new schema do not conflict on it; an empty DuckDB
	// schema left by a failed CREATE is harmless.
	var schemaID int64
	_ = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		if sc, err := catalog.GetSchema(ctx, tx, s.Account, db, schema); err == nil {
			schemaID = sc.Meta.ID
		}
		return nil
	})
	if schemaID != 0 {
		if err := e.cfg.Data.EnsureSchema(ctx, data.SchemaName(schemaID)); err != nil {
			return nil, err
		}
	}
	err = e.ddl(ctx, s, func(tx store.Tx, r *authz.Active, dtx *data.Tx) error {
		sc, err := usableSchema(ctx, tx, s, r, db, schema)
		if err != nil {
			if catalog.IsNotFound(err) {
				return sferr.DoesNotExist("Schema", db+"."+schema)
			}
			return err
		}
		if !r.CanCreate(catalog.Object{Kind: "SCHEMA", Database: db, Name: schema}, sc.Meta.Owner, priv) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("schema '%s'", schema))
		}
		// A temporary table has its session's own name space: it may share its name
		// with a permanent table or view, which it then hides.
		var old *catalog.Table
		if t.Temporary() {
			old, err = catalog.GetTempTable(ctx, tx, s.Account, s.ID, db, schema, name)
		} else {
			old, err = catalog.FindTable(ctx, tx, s.Account, db, schema, name)
		}
		switch {
		case err == nil && st.IfNotExists:
			out = result.Status(result.DDL, fmt.Sprintf("%s already exists, statement succeeded.", name))
			return errNoop
		case err == nil && (!st.OrReplace || old.Kind != kind):
			return sferr.AlreadyExists("Object", name)
		case err == nil:
			if !authz.Owns(r.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("%s '%s'", strings.ToLower(label), name))
			}
			if err := catalog.DropTable(ctx, tx, s.Account, old); err != nil {
				return err
			}
			if err := dtx.Drop(ctx, old.Kind == catalog.KindView, data.Internal(old.DuckSchema, old.DuckName)); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		for _, ref := range st.Refs {
			rt, err := e.resolveRef(ctx, tx, s, r, ref, "CREATE "+kind)
			if err != nil {
				return err
			}
			if rt == nil && kind == catalog.KindView {
				// A view would freeze the creator's snapshot of the catalog.
				return unsupported("INFORMATION_SCHEMA in a view definition")
			}
			if rt != nil && rt.Temporary() && kind == catalog.KindView {
				// The view would outlive the table and show it to other sessions.
				return unsupported("a view over a temporary table")
			}
			if rt != nil && kind == catalog.KindView && !slices.Contains(t.Sources, rt.Object()) {
				t.Sources = append(t.Sources, rt.Object())
			}
		}
		t.DuckSchema = data.SchemaName(sc.Meta.ID)
		prefix := "t"
		if kind == catalog.KindView {
			prefix = "v"
		}
		t.DuckName = data.NewInternalName(prefix)
		internal := data.Internal(t.DuckSchema, t.DuckName)
		if sc.Meta.ID != schemaID {
			// The schema was created (or replaced) after the look-up above.
			if err := dtx.EnsureSchema(ctx, t.DuckSchema); err != nil {
				return err
			}
		}
		cols := st.Columns
		switch {
		case st.Like != nil:
			lt, err := e.likeSource(ctx, tx, s, st.Like)
			if err != nil {
				return err
			}
			cols = fromColumns(lt.Columns)
		case st.HasQuery && len(cols) == 0:
			if cols, err = dtx.Describe(ctx, st); err != nil {
				return err
			}
		case st.HasQuery && kind == catalog.KindTable:
			q, err := dtx.Describe(ctx, st)
			if err != nil {
				return err
			}
			if len(q) != len(cols) {
				return sferr.Compilation("002020", "21S01", fmt.Sprintf("SQL compilation error:\nInsert value list does not match column list expecting %d but got %d", len(cols), len(q)))
			}
		}
		if kind == catalog.KindView {
			if err := dtx.CreateView(ctx, st, internal, cols); err != nil {
				return err
			}
		} else {
			if err := dtx.CreateTable(ctx, st, internal, cols); err != nil {
				return err
			}
			if st.HasQuery {
				if err := dtx.Fill(ctx, st, internal); err != nil {
					return err
				}
			}
		}
		t.Columns = toColumns(cols)
		if err := catalog.CreateTable(ctx, tx, s.Account, s.Role, t); err != nil {
			if catalog.IsExists(err) {
				return sferr.AlreadyExists("Object", name)
			}
			return err
		}
		if !t.Temporary() { // grants on a temporary table's name are the permanent table's
			if err := catalog.ApplyFutureGrants(ctx, tx, s.Account, t.Object(), s.Role); err != nil {
				return err
			}
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s %s successfully created.", label, name))
		return nil
	}, func(tx store.Tx) error {
		return catalog.DropTable(ctx, tx, s.Account, t)
	})
	if errors.Is(err, errNoop) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// likeSource resolves the table of CREATE TABLE ... LIKE (SELECT on it is needed;
// resolveRef has checked it already as one of the statement's references).
func (e *Engine) likeSource(ctx context.Context, tx store.Tx, s *session.Session, ref *data.Ref) (*catalog.Table, error) {
	db, schema, name, err := objectPath(s, ref.Parts, "CREATE TABLE")
	if err != nil {
		return nil, err
	}
	t, err := catalog.GetTempTable(ctx, tx, s.Account, s.ID, db, schema, name)
	if catalog.IsNotFound(err) {
		t, err = catalog.GetTable(ctx, tx, s.Account, catalog.KindTable, db, schema, name)
	}
	if catalog.IsNotFound(err) {
		return nil, missingObject(db, schema, name)
	}
	return t, err
}

// ownedTable finds the table or view a DROP or ALTER names and checks ownership. It
// returns nil, nil when the object is missing and ifExists is set.
func (e *Engine) ownedTable(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, kind, db, schema, name string, ifExists bool) (*catalog.Table, error) {
	label := "Table"
	if kind == catalog.KindView {
		label = "View"
	}
	missing := sferr.DoesNotExist(label, db+"."+schema+"."+name)
	if _, err := usableSchema(ctx, tx, s, r, db, schema); err != nil {
		if catalog.IsNotFound(err) {
			if ifExists {
				return nil, nil
			}
			return nil, missing
		}
		return nil, err
	}
	t, err := catalog.FindTableFor(ctx, tx, s.Account, s.ID, db, schema, name)
	if catalog.IsNotFound(err) {
		if ifExists {
			return nil, nil
		}
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	if t.Kind != kind {
		return nil, sferr.Compilation("002203", "02000", fmt.Sprintf("SQL compilation error: Object found is of type '%s', not specified type '%s'.", t.Kind, kind))
	}
	if !authz.Owns(r.All, t.Meta.Owner) {
		if !seesTable(r, t) {
			return nil, missing
		}
		return nil, sferr.InsufficientPrivileges(fmt.Sprintf("%s '%s'", strings.ToLower(label), name))
	}
	return t, nil
}

func (e *Engine) dropTable(ctx context.Context, s *session.Session, st *data.Stmt) (*result.Set, error) {
	kind := catalog.KindTable
	if st.Kind == data.KindDropView {
		kind = catalog.KindView
	}
	db, schema, name, err := objectPath(s, st.Name.Parts, "DROP "+kind)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.ddl(ctx, s, func(tx store.Tx, r *authz.Active, dtx *data.Tx) error {
		t, err := e.ownedTable(ctx, tx, s, r, kind, db, schema, name, st.IfExists)
		if err != nil {
			return err
		}
		if t == nil {
			out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
			return errNoop
		}
		if err := catalog.DropTable(ctx, tx, s.Account, t); err != nil {
			return err
		}
		if err := dtx.Drop(ctx, kind == catalog.KindView, data.Internal(t.DuckSchema, t.DuckName)); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	}, nil)
	if err != nil && !errors.Is(err, errNoop) {
		return nil, err
	}
	return out, nil
}

func (e *Engine) alterTable(ctx context.Context, s *session.Session, st *data.Stmt) (*result.Set, error) {
	kind := catalog.KindTable
	if st.Kind == data.KindAlterView {
		kind = catalog.KindView
	}
	db, schema, name, err := objectPath(s, st.Name.Parts, "ALTER "+kind)
	if err != nil {
		return nil, err
	}
	a := st.Alter
	err = e.ddl(ctx, s, func(tx store.Tx, r *authz.Active, dtx *data.Tx) error {
		t, err := e.ownedTable(ctx, tx, s, r, kind, db, schema, name, st.IfExists)
		if err != nil {
			return err
		}
		if t == nil {
			return errNoop
		}
		internal := data.Internal(t.DuckSchema, t.DuckName)
		colIndex := func(n string) int {
			for i, c := range t.Columns {
				if c.Name == n {
					return i
				}
			}
			return -1
		}
		switch a.Op {
		case "RENAME":
			ndb, nschema, nname := db, schema, a.RenameTo.Parts[len(a.RenameTo.Parts)-1].Name
			if len(a.RenameTo.Parts) > 1 {
				if ndb, nschema, nname, err = objectPath(s, a.RenameTo.Parts, "ALTER "+kind); err != nil {
					return err
				}
			}
			if ndb != db || nschema != schema {
				sc, err := usableSchema(ctx, tx, s, r, ndb, nschema)
				if err != nil {
					if catalog.IsNotFound(err) {
						return sferr.DoesNotExist("Schema", ndb+"."+nschema)
					}
					return err
				}
				if !r.CanCreate(catalog.Object{Kind: "SCHEMA", Database: ndb, Name: nschema}, sc.Meta.Owner, "CREATE "+kind) {
					return sferr.InsufficientPrivileges(fmt.Sprintf("schema '%s'", nschema))
				}
			}
			var taken error
			if t.Temporary() {
				_, taken = catalog.GetTempTable(ctx, tx, s.Account, s.ID, ndb, nschema, nname)
			} else {
				_, taken = catalog.FindTable(ctx, tx, s.Account, ndb, nschema, nname)
			}
			if taken == nil {
				return sferr.AlreadyExists("Object", nname)
			} else if !catalog.IsNotFound(taken) {
				return taken
			}
			return catalog.RenameTable(ctx, tx, s.Account, t, ndb, nschema, nname)
		case "ADD COLUMN":
			if colIndex(a.Column.Name) >= 0 {
				return sferr.Compilation("002025", "42S21", fmt.Sprintf("SQL compilation error:\ncolumn '%s' already exists", a.Column.Name))
			}
			if err := dtx.AddColumn(ctx, st, internal, a.Column); err != nil {
				return err
			}
			t.Columns = append(t.Columns, toColumns([]data.ColumnDef{a.Column})...)
		case "DROP COLUMN":
			for _, n := range a.Columns {
				i := colIndex(n)
				if i < 0 {
					return sferr.Compilation("000904", "42000", fmt.Sprintf("invalid identifier '%s'", n))
				}
				if len(t.Columns) == 1 {
					return sferr.Compilation("002026", "42601", "SQL compilation error:\nCannot drop column because it is the last column of the table.")
				}
				if err := dtx.DropColumn(ctx, st, internal, n); err != nil {
					return err
				}
				t.Columns = append(t.Columns[:i], t.Columns[i+1:]...)
			}
		case "RENAME COLUMN":
			i := colIndex(a.From)
			if i < 0 {
				return sferr.Compilation("000904", "42000", fmt.Sprintf("invalid identifier '%s'", a.From))
			}
			if colIndex(a.To) >= 0 {
				return sferr.Compilation("002025", "42S21", fmt.Sprintf("SQL compilation error:\ncolumn '%s' already exists", a.To))
			}
			if err := dtx.RenameColumn(ctx, st, internal, a.From, a.To); err != nil {
				return err
			}
			t.Columns[i].Name = a.To
		case "SET COMMENT":
			t.Comment = a.Comment
		case "UNSET COMMENT":
			t.Comment = ""
		case "SET SECURE":
			t.Secure = true
		case "UNSET SECURE":
			t.Secure = false
		default:
			return unsupported("ALTER " + kind + " " + a.Op)
		}
		return catalog.PutTable(ctx, tx, s.Account, t)
	}, nil)
	if err != nil && !errors.Is(err, errNoop) {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

// DataObjectsIn returns the internal names of the tables (every session's temporary
// ones included) and views in a database or (schema != "") a schema, for dropping them
// after DROP DATABASE | SCHEMA.
func dataObjectsIn(ctx context.Context, tx store.Tx, account, db, schema string) (tables, views []string, err error) {
	for _, kind := range []string{catalog.KindTable, catalog.KindView} {
		ts, err := catalog.ListTables(ctx, tx, account, kind, db, schema)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range ts {
			if schema != "" && t.Schema != schema {
				continue
			}
			n := data.Internal(t.DuckSchema, t.DuckName)
			if kind == catalog.KindView {
				views = append(views, n)
			} else {
				tables = append(tables, n)
			}
		}
	}
	temps, err := catalog.ListTempTables(ctx, tx, account, 0, db, schema)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range temps {
		tables = append(tables, data.Internal(t.DuckSchema, t.DuckName))
	}
	return tables, views, nil
}

// dropDataObjects drops DuckDB objects whose catalog records are gone.
func (e *Engine) dropDataObjects(ctx context.Context, tables, views []string) {
	if e.cfg.Data != nil && len(tables)+len(views) > 0 {
		e.cfg.Data.DropObjects(context.WithoutCancel(ctx), tables, views)
	}
}
