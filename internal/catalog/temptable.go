package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/store"
)

// Temporary tables belong to the session that created them. Their records have their
// own store kind, so they never collide with (and are never listed with) permanent
// tables and views: a temporary table may share its name with a permanent table of
// the same schema, which it hides within its session. The record's parent is the
// schema, as for permanent tables (so DROP SCHEMA | DATABASE removes it with the
// rest); its name is "<session id>/<table name>", so every session has its own name
// space. A temporary table's Kind stays TABLE and its TableType is TEMPORARY; grants
// are never stored on it (its Object is the same as a permanent table of that name),
// so only its owner role's hierarchy may use it.

// KindTempTable is the store kind of temporary tables.
const KindTempTable = "TEMP_TABLE"

// Temporary tables live under their schema with a store kind of their own that is not
// a row of the privilege table: a database or schema rename moves them too.
func init() { RegisterContainedKind(LevelSchemaObject, KindTempTable) }

// TempTableKey is the store key of the temporary table name of session in db.schema.
func TempTableKey(account, db, schema string, session int64, name string) store.Key {
	return store.Key{Account: account, Kind: KindTempTable, Parent: db + "." + schema, Name: tempName(session, name)}
}

func tempName(session int64, name string) string {
	return strconv.FormatInt(session, 10) + "/" + name
}

// splitTempName splits a temporary table's record name into its session id and
// table name.
func splitTempName(n string) (session int64, name string, ok bool) {
	i := strings.IndexByte(n, '/')
	if i <= 0 {
		return 0, "", false
	}
	id, err := strconv.ParseInt(n[:i], 10, 64)
	if err != nil || id <= 0 {
		return 0, "", false
	}
	return id, n[i+1:], true
}

// Temporary reports whether t is a session's temporary table.
func (t *Table) Temporary() bool { return t.Session != 0 }

// key is the store key of t: a temporary table's or a permanent table's or view's.
func (t *Table) key(account string) store.Key {
	if t.Session != 0 {
		return TempTableKey(account, t.Database, t.Schema, t.Session, t.Name)
	}
	return TableKey(account, t.Kind, t.Database, t.Schema, t.Name)
}

// GetTempTable returns session's temporary table db.schema.name.
func GetTempTable(ctx context.Context, tx store.Tx, account string, session int64, db, schema, name string) (*Table, error) {
	if session == 0 {
		return nil, fmt.Errorf("catalog: temporary table %s.%s.%s: %w", db, schema, name, store.ErrNotFound)
	}
	var t Table
	r, err := load(ctx, tx, TempTableKey(account, db, schema, session, name), &t)
	if err != nil {
		return nil, err
	}
	t.Meta = metaOf(r)
	t.Database, t.Schema, t.Name, t.Kind, t.Session = db, schema, name, KindTable, session
	return &t, nil
}

// FindTableFor resolves db.schema.name as session sees it: its temporary table of that
// name first, then the permanent table, then the view. session 0 skips the first step.
func FindTableFor(ctx context.Context, tx store.Tx, account string, session int64, db, schema, name string) (*Table, error) {
	if session != 0 {
		t, err := GetTempTable(ctx, tx, account, session, db, schema, name)
		if err == nil || !IsNotFound(err) {
			return t, err
		}
	}
	return FindTable(ctx, tx, account, db, schema, name)
}

// ListTempTables returns temporary tables, session's (0: every session's) in db.schema
// ("" schema: every schema of db; "" db: everywhere), in no particular order.
func ListTempTables(ctx context.Context, tx store.Tx, account string, session int64, db, schema string) ([]*Table, error) {
	parent := "*"
	if db != "" && schema != "" {
		parent = db + "." + schema
	}
	recs, err := tx.List(ctx, account, KindTempTable, parent)
	if err != nil {
		return nil, err
	}
	var out []*Table
	for _, r := range recs {
		sid, name, ok := splitTempName(r.Name)
		if !ok || session != 0 && sid != session {
			continue
		}
		d, s := splitParent(r.Parent)
		if db != "" && d != db || schema != "" && s != schema {
			continue
		}
		var t Table
		if err := json.Unmarshal(r.Data, &t); err != nil {
			return nil, fmt.Errorf("catalog: decode %s %q: %w", KindTempTable, r.Name, err)
		}
		t.Database, t.Schema, t.Name, t.Kind, t.Session, t.Meta = d, s, name, KindTable, sid, metaOf(r)
		out = append(out, &t)
	}
	return out, nil
}
