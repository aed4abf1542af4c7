package exec

import (
	"context"
	"fmt"
	"sort"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// showScope resolves the IN clause of SHOW TABLES | VIEWS | COLUMNS: db "" means every
// database, schema "" every schema of db; table is set for IN TABLE | VIEW.
func showScope(s *session.Session, st *sql.Show, verb string) (db, schema, table string, err error) {
	switch st.InKind {
	case "ACCOUNT":
		return "", "", "", nil
	case "DATABASE":
		if st.InName == nil {
			if s.Database == "" {
				return "", "", "", noCurrentDatabase(verb)
			}
			return s.Database, "", "", nil
		}
		return st.InName.Last().Name, "", "", nil
	case "SCHEMA":
		if st.InName == nil {
			if s.Database == "" || s.Schema == "" {
				return "", "", "", noCurrentSchema(verb, s)
			}
			return s.Database, s.Schema, "", nil
		}
		db, schema, err = schemaName(s, *st.InName, verb)
		return db, schema, "", err
	case "TABLE", "VIEW":
		if st.InName == nil {
			return "", "", "", sferr.Syntax(1, 1, "<EOF>")
		}
		return objectPath(s, st.InName.Parts, verb)
	case "":
		if s.Database == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		if s.Schema == "" {
			return s.Database, "", "", nil
		}
		return s.Database, s.Schema, "", nil
	}
	return "", "", "", unsupported(verb + " IN " + st.InKind)
}

// visibleTables lists the tables or views in scope that the active roles may see: USAGE
// on the database and schema and any privilege on the object (or MANAGE GRANTS).
func visibleTables(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, kind, db, schema string) ([]*catalog.Table, error) {
	ts, err := catalog.ListTables(ctx, tx, s.Account, kind, db, schema)
	if err != nil {
		return nil, err
	}
	if kind == catalog.KindTable && s.ID != 0 {
		temps, err := catalog.ListTempTables(ctx, tx, s.Account, s.ID, db, schema)
		if err != nil {
			return nil, err
		}
		ts = append(ts, temps...)
	}
	usable := map[string]bool{}
	var out []*catalog.Table
	for _, t := range ts {
		if schema != "" && t.Schema != schema {
			continue
		}
		k := t.Database + "." + t.Schema
		ok, seen := usable[k]
		if !seen {
			_, err := usableSchema(ctx, tx, s, r, t.Database, t.Schema)
			ok = err == nil || r.ManageGrants()
			usable[k] = ok
		}
		if ok && seesTable(r, t) {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Database != b.Database {
			return a.Database < b.Database
		}
		if a.Schema != b.Schema {
			return a.Schema < b.Schema
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Temporary() && !b.Temporary() // a temporary table first, as it hides the other
	})
	return out, nil
}

// checkScope reports a missing database or schema of a SHOW.
func checkScope(ctx context.Context, tx store.Tx, s *session.Session, db, schema string) error {
	if db == "" {
		return nil
	}
	if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
		if catalog.IsNotFound(err) {
			return sferr.DoesNotExist("Database", db)
		}
		return err
	}
	if schema != "" {
		if _, err := catalog.GetSchema(ctx, tx, s.Account, db, schema); err != nil {
			if catalog.IsNotFound(err) {
				return sferr.DoesNotExist("Schema", db+"."+schema)
			}
			return err
		}
	}
	return nil
}

func tableKind(t *catalog.Table) string {
	if t.TableType != "" {
		return t.TableType
	}
	return "TABLE"
}

func (e *Engine) showTables(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	db, schema, _, err := showScope(s, st, "SHOW TABLES")
	if err != nil {
		return nil, err
	}
	if err := checkScope(ctx, tx, s, db, schema); err != nil {
		return nil, err
	}
	ts, err := visibleTables(ctx, tx, s, r, catalog.KindTable, db, schema)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("database_name"), result.Text("schema_name"),
		result.Text("kind"), result.Text("comment"), result.Text("cluster_by"), result.Fixed("rows"), result.Fixed("bytes"),
		result.Text("owner"), result.Text("retention_time"), result.Text("automatic_clustering"), result.Text("change_tracking"),
		result.Text("is_external"), result.Text("enable_schema_evolution"), result.Text("owner_role_type"), result.Text("is_event"),
		result.Text("is_hybrid"), result.Text("is_iceberg"), result.Text("is_dynamic"), result.Text("is_immutable"),
	}}
	var internals []string
	for _, t := range ts {
		internals = append(internals, internalOf(t))
	}
	counts := map[string]int64{}
	if e.cfg.Data != nil && len(internals) > 0 {
		counts = e.cfg.Data.RowCounts(ctx, internals)
	}
	f := &filter{st: st}
	for _, t := range ts {
		if !f.keep(t.Name) {
			continue
		}
		set.Rows = append(set.Rows, []any{t.Meta.Created, t.Name, t.Database, t.Schema, tableKind(t), t.Comment, "",
			counts[internalOf(t)], int64(0), t.Meta.Owner, fmt.Sprint(t.RetentionTime), "OFF", "OFF", "N", "N",
			ownerRoleType(t.Meta.Owner), "N", "N", "N", "N", "N"})
	}
	return set, nil
}

func (e *Engine) showViews(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	db, schema, _, err := showScope(s, st, "SHOW VIEWS")
	if err != nil {
		return nil, err
	}
	if err := checkScope(ctx, tx, s, db, schema); err != nil {
		return nil, err
	}
	vs, err := visibleTables(ctx, tx, s, r, catalog.KindView, db, schema)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("reserved"), result.Text("database_name"),
		result.Text("schema_name"), result.Text("owner"), result.Text("comment"), result.Text("text"), result.Bool("is_secure"),
		result.Bool("is_materialized"), result.Text("owner_role_type"), result.Text("change_tracking"),
	}}
	f := &filter{st: st}
	for _, v := range vs {
		if !f.keep(v.Name) {
			continue
		}
		text := v.Text
		// A secure view's definition is shown to its owner only.
		if v.Secure && !authz.Owns(r.All, v.Meta.Owner) {
			text = ""
		}
		set.Rows = append(set.Rows, []any{v.Meta.Created, v.Name, "", v.Database, v.Schema, v.Meta.Owner, v.Comment, text,
			v.Secure, false, ownerRoleType(v.Meta.Owner), "OFF"})
	}
	return set, nil
}

func (e *Engine) showColumns(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	db, schema, table, err := showScope(s, st, "SHOW COLUMNS")
	if err != nil {
		return nil, err
	}
	var ts []*catalog.Table
	if table != "" {
		t, err := catalog.FindTableFor(ctx, tx, s.Account, s.ID, db, schema, table)
		if err == nil {
			if _, uerr := usableSchema(ctx, tx, s, r, db, schema); uerr != nil || !seesTable(r, t) {
				err = catalog.ErrNotFound
			}
		}
		if catalog.IsNotFound(err) {
			return nil, missingObject(db, schema, table)
		}
		if err != nil {
			return nil, err
		}
		ts = []*catalog.Table{t}
	} else {
		if err := checkScope(ctx, tx, s, db, schema); err != nil {
			return nil, err
		}
		for _, kind := range []string{catalog.KindTable, catalog.KindView} {
			more, err := visibleTables(ctx, tx, s, r, kind, db, schema)
			if err != nil {
				return nil, err
			}
			ts = append(ts, more...)
		}
	}
	set := &result.Set{Columns: []result.Column{
		result.Text("table_name"), result.Text("schema_name"), result.Text("column_name"), result.Text("data_type"),
		result.Text("null?"), result.Text("default"), result.Text("kind"), result.Text("expression"), result.Text("comment"),
		result.Text("database_name"), result.Text("autoincrement"), result.Text("schema_evolution_record"),
	}}
	f := &filter{st: st}
	for _, t := range ts {
		for _, c := range t.Columns {
			if !f.keep(c.Name) {
				continue
			}
			set.Rows = append(set.Rows, []any{t.Name, t.Schema, c.Name, snowType(c).DataTypeJSON(c.Nullable), nullYN(c.Nullable),
				c.Default, "COLUMN", "", c.Comment, t.Database, "", nil})
		}
	}
	return set, nil
}

func nullYN(nullable bool) string {
	if nullable {
		return "true"
	}
	return "false"
}

// describeTable answers DESC TABLE | VIEW.
func (e *Engine) describeTable(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	db, schema, name, err := objectPath(s, st.Name.Parts, "DESCRIBE")
	if err != nil {
		return nil, err
	}
	var t *catalog.Table
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		if _, err := usableSchema(ctx, tx, s, r, db, schema); err != nil {
			if catalog.IsNotFound(err) {
				return missingObject(db, schema, name)
			}
			return err
		}
		t, err = catalog.FindTableFor(ctx, tx, s.Account, s.ID, db, schema, name)
		if catalog.IsNotFound(err) || err == nil && !seesTable(r, t) {
			return missingObject(db, schema, name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.Text("name"), result.Text("type"), result.Text("kind"), result.Text("null?"), result.Text("default"),
		result.Text("primary key"), result.Text("unique key"), result.Text("check"), result.Text("expression"),
		result.Text("comment"), result.Text("policy name"), result.Text("privacy domain"),
	}}
	for _, c := range t.Columns {
		var def any
		if c.Default != "" {
			def = c.Default
		}
		var comment any
		if c.Comment != "" {
			comment = c.Comment
		}
		set.Rows = append(set.Rows, []any{c.Name, snowType(c).String(), "COLUMN", yn(c.Nullable), def, yn(c.PrimaryKey),
			yn(c.Unique), nil, nil, comment, nil, nil})
	}
	return set, nil
}

func internalOf(t *catalog.Table) string { return data.Internal(t.DuckSchema, t.DuckName) }

// informationSchema builds <db>.INFORMATION_SCHEMA.<view> for the active roles, or
// returns nil for an unknown view.
func (e *Engine) informationSchema(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, db, view string) (*result.Set, error) {
	ts := func(name string) result.Column {
		c := result.TimestampLTZ(name)
		c.Scale = 9
		return c
	}
	switch view {
	case "SCHEMATA":
		set := &result.Set{Columns: []result.Column{
			result.Text("CATALOG_NAME"), result.Text("SCHEMA_NAME"), result.Text("SCHEMA_OWNER"), result.Text("IS_TRANSIENT"),
			result.Text("IS_MANAGED_ACCESS"), result.Fixed("RETENTION_TIME"), ts("CREATED"), ts("LAST_ALTERED"), result.Text("COMMENT"),
		}}
		schemas, err := catalog.ListSchemas(ctx, tx, s.Account, db)
		if err != nil {
			return nil, err
		}
		for _, sc := range schemas {
			if !r.Sees(catalog.Object{Kind: "SCHEMA", Database: db, Name: sc.Name}, sc.Meta.Owner) {
				continue
			}
			set.Rows = append(set.Rows, []any{db, sc.Name, sc.Meta.Owner, yesNo(sc.Transient), yesNo(sc.ManagedAccess),
				sc.RetentionTime, sc.Meta.Created, sc.Meta.Modified, nilIfEmpty(sc.Comment)})
		}
		set.Rows = append(set.Rows, []any{db, "INFORMATION_SCHEMA", "", "NO", "NO", int64(1), nil, nil, "Views describing the contents of schemas in this database"})
		return set, nil
	case "TABLES":
		set := &result.Set{Columns: []result.Column{
			result.Text("TABLE_CATALOG"), result.Text("TABLE_SCHEMA"), result.Text("TABLE_NAME"), result.Text("TABLE_OWNER"),
			result.Text("TABLE_TYPE"), result.Text("IS_TRANSIENT"), result.Text("CLUSTERING_KEY"), result.Fixed("ROW_COUNT"),
			result.Fixed("BYTES"), result.Fixed("RETENTION_TIME"), ts("CREATED"), ts("LAST_ALTERED"), result.Text("AUTO_CLUSTERING_ON"),
			result.Text("COMMENT"), result.Text("IS_TEMPORARY"),
		}}
		counts := map[string]int64{}
		for _, kind := range []string{catalog.KindTable, catalog.KindView} {
			list, err := visibleTables(ctx, tx, s, r, kind, db, "")
			if err != nil {
				return nil, err
			}
			if kind == catalog.KindTable && e.cfg.Data != nil && len(list) > 0 {
				internals := make([]string, len(list))
				for i, t := range list {
					internals[i] = internalOf(t)
				}
				counts = e.cfg.Data.RowCounts(ctx, internals)
			}
			for _, t := range list {
				typ := "BASE TABLE"
				var rows, bytes any = nil, nil
				if kind == catalog.KindView {
					typ = "VIEW"
				} else {
					rows, bytes = counts[internalOf(t)], int64(0)
				}
				set.Rows = append(set.Rows, []any{t.Database, t.Schema, t.Name, t.Meta.Owner, typ, yesNo(t.TableType == "TRANSIENT"),
					nil, rows, bytes, t.RetentionTime, t.Meta.Created, t.Meta.Modified, "NO", nilIfEmpty(t.Comment), yesNo(t.TableType == "TEMPORARY")})
			}
		}
		return set, nil
	case "VIEWS":
		set := &result.Set{Columns: []result.Column{
			result.Text("TABLE_CATALOG"), result.Text("TABLE_SCHEMA"), result.Text("TABLE_NAME"), result.Text("TABLE_OWNER"),
			result.Text("VIEW_DEFINITION"), result.Text("CHECK_OPTION"), result.Text("IS_UPDATABLE"), result.Text("INSERTABLE_INTO"),
			result.Text("IS_SECURE"), ts("CREATED"), ts("LAST_ALTERED"), result.Text("COMMENT"),
		}}
		list, err := visibleTables(ctx, tx, s, r, catalog.KindView, db, "")
		if err != nil {
			return nil, err
		}
		for _, v := range list {
			def := v.Text
			if v.Secure && !authz.Owns(r.All, v.Meta.Owner) {
				def = ""
			}
			set.Rows = append(set.Rows, []any{v.Database, v.Schema, v.Name, v.Meta.Owner, def, "NONE", "NO", "NO",
				yesNo(v.Secure), v.Meta.Created, v.Meta.Modified, nilIfEmpty(v.Comment)})
		}
		return set, nil
	case "COLUMNS":
		set := &result.Set{Columns: []result.Column{
			result.Text("TABLE_CATALOG"), result.Text("TABLE_SCHEMA"), result.Text("TABLE_NAME"), result.Text("COLUMN_NAME"),
			result.Fixed("ORDINAL_POSITION"), result.Text("COLUMN_DEFAULT"), result.Text("IS_NULLABLE"), result.Text("DATA_TYPE"),
			result.Fixed("CHARACTER_MAXIMUM_LENGTH"), result.Fixed("CHARACTER_OCTET_LENGTH"), result.Fixed("NUMERIC_PRECISION"),
			result.Fixed("NUMERIC_PRECISION_RADIX"), result.Fixed("NUMERIC_SCALE"), result.Fixed("DATETIME_PRECISION"), result.Text("COMMENT"),
		}}
		for _, kind := range []string{catalog.KindTable, catalog.KindView} {
			list, err := visibleTables(ctx, tx, s, r, kind, db, "")
			if err != nil {
				return nil, err
			}
			for _, t := range list {
				for i, c := range t.Columns {
					var maxLen, octets, prec, radix, scale, dtp any
					dataType := c.Type
					switch c.Type {
					case "VARCHAR":
						dataType = "TEXT"
						maxLen, octets = int64(c.Length), int64(min(4*c.Length, 16777216))
					case "BINARY":
						maxLen, octets = int64(c.Length), int64(c.Length)
					case "NUMBER":
						prec, radix, scale = int64(c.Precision), int64(10), int64(c.Scale)
					case "FLOAT":
						prec, radix = int64(53), int64(2)
					case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
						dtp = int64(c.Scale)
					}
					set.Rows = append(set.Rows, []any{t.Database, t.Schema, t.Name, c.Name, int64(i + 1), nilIfEmpty(c.Default),
						yesNo(c.Nullable), dataType, maxLen, octets, prec, radix, scale, dtp, nilIfEmpty(c.Comment)})
				}
			}
		}
		return set, nil
	}
	return nil, nil
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
