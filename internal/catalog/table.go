package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/firn/firn/internal/store"
)

// Store kinds of tables and views (the privilege table's TABLE and VIEW rows).
const (
	KindTable = "TABLE"
	KindView  = "VIEW"
)

// Column is a column of a table or view, with its declared Snowflake type.
type Column struct {
	Name string `json:"name"`
	// Type is the canonical Snowflake type name: NUMBER, FLOAT, VARCHAR, ...
	Type       string `json:"type"`
	Precision  int    `json:"precision,omitempty"`
	Scale      int    `json:"scale,omitempty"`
	Length     int    `json:"length,omitempty"`
	Nullable   bool   `json:"nullable"`
	Default    string `json:"default,omitempty"`
	PrimaryKey bool   `json:"primary_key,omitempty"`
	Unique     bool   `json:"unique,omitempty"`
	Comment    string `json:"comment,omitempty"`
}

// Table is a table or a view. Its rows live in the data engine under the internal
// name DuckSchema.DuckName, which never changes: renaming the table, its schema or its
// database changes only the catalog record.
type Table struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	Name     string `json:"name"`
	// Kind is TABLE or VIEW (also the store kind).
	Kind string `json:"kind"`
	// TableType is "" (permanent), TRANSIENT or TEMPORARY.
	TableType string   `json:"table_type,omitempty"`
	Secure    bool     `json:"secure,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Columns   []Column `json:"columns"`
	Text      string   `json:"text,omitempty"` // a view's CREATE statement
	// Sources are the tables and views a view reads, resolved when it was created;
	// the view's owner must keep SELECT on them (checked at query time).
	Sources       []Object `json:"sources,omitempty"`
	RetentionTime int64    `json:"retention_time"`
	DuckSchema    string   `json:"duck_schema"`
	DuckName      string   `json:"duck_name"`
	// Session is the id of the session a temporary table belongs to (0 for every
	// other table and view); see KindTempTable.
	Session int64 `json:"session,omitempty"`
	Meta    Meta  `json:"-"`
}

// TableKey is the store key of a table or view (kind TABLE or VIEW).
func TableKey(account, kind, db, schema, name string) store.Key {
	return store.Key{Account: account, Kind: kind, Parent: db + "." + schema, Name: name}
}

// Object is the securable object of the table or view.
func (t *Table) Object() Object {
	return Object{Kind: t.Kind, Database: t.Database, Schema: t.Schema, Name: t.Name}
}

// GetTable returns the table or view of the kind at db.schema.name.
func GetTable(ctx context.Context, tx store.Tx, account, kind, db, schema, name string) (*Table, error) {
	var t Table
	r, err := load(ctx, tx, TableKey(account, kind, db, schema, name), &t)
	if err != nil {
		return nil, err
	}
	t.Meta = metaOf(r)
	t.Database, t.Schema, t.Name, t.Kind = db, schema, name, kind
	return &t, nil
}

// FindTable returns the table or, failing that, the view at db.schema.name.
func FindTable(ctx context.Context, tx store.Tx, account, db, schema, name string) (*Table, error) {
	t, err := GetTable(ctx, tx, account, KindTable, db, schema, name)
	if IsNotFound(err) {
		return GetTable(ctx, tx, account, KindView, db, schema, name)
	}
	return t, err
}

// ListTables returns the tables or views of a schema ("" schema: every schema of the
// database; "" database: every database), ordered by parent and name.
func ListTables(ctx context.Context, tx store.Tx, account, kind, db, schema string) ([]*Table, error) {
	parent := "*"
	if db != "" && schema != "" {
		parent = db + "." + schema
	}
	recs, err := tx.List(ctx, account, kind, parent)
	if err != nil {
		return nil, err
	}
	out := make([]*Table, 0, len(recs))
	for _, r := range recs {
		var t Table
		if err := json.Unmarshal(r.Data, &t); err != nil {
			return nil, fmt.Errorf("catalog: decode %s %q: %w", kind, r.Name, err)
		}
		d, s := splitParent(r.Parent)
		if db != "" && d != db {
			continue
		}
		t.Database, t.Schema, t.Name, t.Kind, t.Meta = d, s, r.Name, kind, metaOf(r)
		out = append(out, &t)
	}
	return out, nil
}

func splitParent(p string) (db, schema string) {
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			return p[:i], p[i+1:]
		}
	}
	return p, ""
}

// CreateTable inserts a new table or view record owned by owner (a temporary table's
// when t.Session is set).
func CreateTable(ctx context.Context, tx store.Tx, account, owner string, t *Table) error {
	_, err := insert(ctx, tx, t.key(account), owner, t)
	return err
}

// PutTable replaces a table or view record, keeping its owner.
func PutTable(ctx context.Context, tx store.Tx, account string, t *Table) error {
	return put(ctx, tx, t.key(account), "", t)
}

// DropTable removes a table or view record and the grants on it (a temporary table
// has none: the grants on its name belong to the permanent table it may hide).
func DropTable(ctx context.Context, tx store.Tx, account string, t *Table) error {
	if err := tx.Delete(ctx, t.key(account)); err != nil {
		return err
	}
	if t.Temporary() {
		return nil
	}
	return DropGrantsOn(ctx, tx, account, t.Object())
}

// RenameTable moves a table or view record (and its grants) to a new name, possibly
// in another schema. A temporary table stays its session's.
func RenameTable(ctx context.Context, tx store.Tx, account string, t *Table, db, schema, name string) error {
	from := t.Object()
	moved := *t
	moved.Database, moved.Schema, moved.Name = db, schema, name
	if err := tx.Rename(ctx, t.key(account), moved.key(account)); err != nil {
		return err
	}
	if t.Temporary() {
		t.Database, t.Schema, t.Name = db, schema, name
		return PutTable(ctx, tx, account, t)
	}
	to := Object{Kind: t.Kind, Database: db, Schema: schema, Name: name}
	if err := MoveGrants(ctx, tx, account, func(o Object) (Object, bool) {
		if o == from {
			return to, true
		}
		return o, false
	}); err != nil {
		return err
	}
	t.Database, t.Schema, t.Name = db, schema, name
	return PutTable(ctx, tx, account, t)
}
