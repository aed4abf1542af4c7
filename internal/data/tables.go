package data

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
)

// NewInternalName returns a fresh DuckDB object name with the given prefix ("t" for
// tables, "v" for views). Internal names never change, so renaming a Snowflake table,
// schema or database touches only the catalog.
func NewInternalName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// SchemaName is the DuckDB schema holding the objects of the Snowflake schema whose
// catalog record has the given id.
func SchemaName(id int64) string { return fmt.Sprintf("s%d", id) }

// Internal is the quoted DuckDB name of an object.
func Internal(schema, name string) string { return quoteDuck(schema) + "." + quoteDuck(name) }

// Run executes a query or DML statement whose references are resolved.
func (e *Engine) Run(ctx context.Context, st *Stmt) (set *result.Set, err error) {
	for _, r := range st.Refs {
		if r.Internal == "" {
			return nil, sferr.DoesNotExist("Object", r.Name())
		}
	}
	if err := st.checkColumns(); err != nil {
		return nil, err
	}
	rw := *st.rw
	rw.text = st.substitute(0, len(st.rw.text))
	err = e.withConn(ctx, func(conn *duckdb.Conn) error {
		var rerr error
		switch st.Kind {
		case KindQuery:
			set, rerr = e.run(ctx, conn, &rw, true)
		case KindInsert, KindUpdate, KindDelete, KindMerge, KindTruncate:
			set, rerr = e.dml(ctx, conn, st, &rw)
		default:
			rerr = fmt.Errorf("data: Run of a DDL statement")
		}
		return rerr
	})
	if err != nil {
		return nil, e.mapStmtError(ctx, st, err)
	}
	return set, nil
}

// mapStmtError maps an error and replaces internal names in its message.
func (e *Engine) mapStmtError(ctx context.Context, st *Stmt, err error) error {
	err = e.mapError(ctx, st.rw, err)
	se := sferr.As(err)
	if se != nil {
		se.Message = scrubNames(se.Message, st.Refs)
	}
	return err
}

func args(params []any) []driver.NamedValue {
	a := make([]driver.NamedValue, len(params))
	for i, p := range params {
		a[i] = driver.NamedValue{Ordinal: i + 1, Value: p}
	}
	return a
}

// dml runs INSERT, UPDATE, DELETE, MERGE or TRUNCATE and builds Snowflake's answer.
func (e *Engine) dml(ctx context.Context, conn *duckdb.Conn, st *Stmt, rw *rewritten) (*result.Set, error) {
	exec := func(text string) (int64, error) {
		res, err := conn.ExecContext(ctx, text, args(rw.params))
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	count := func(name string, n int64) *result.Set {
		return &result.Set{Columns: []result.Column{{Name: name, Type: "fixed", Precision: 19, Nullable: false}}, Rows: [][]any{{n}}}
	}
	switch st.Kind {
	case KindTruncate:
		if _, err := conn.ExecContext(ctx, "DELETE FROM "+st.Refs[0].Internal, nil); err != nil {
			return nil, err
		}
		return result.Status(result.DDL, "Statement executed successfully."), nil
	case KindInsert:
		var n int64
		if st.Overwrite {
			if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION", nil); err != nil {
				return nil, err
			}
			_, err := conn.ExecContext(ctx, "DELETE FROM "+st.Refs[0].Internal, nil)
			if err == nil {
				// Drop the OVERWRITE word, which precedes every reference.
				n, err = exec(rw.text[:st.out(1)] + rw.text[st.out(2):])
				if err == nil {
					_, err = conn.ExecContext(ctx, "COMMIT", nil)
				}
			}
			if err != nil {
				_, _ = conn.ExecContext(context.Background(), "ROLLBACK", nil)
				return nil, err
			}
		} else {
			var err error
			if n, err = exec(rw.text); err != nil {
				return nil, err
			}
		}
		set := count("number of rows inserted", n)
		set.Type = result.Insert
		return set, nil
	case KindUpdate:
		n, err := exec(rw.text)
		if err != nil {
			return nil, err
		}
		set := count("number of rows updated", n)
		set.Columns = append(set.Columns, result.Column{Name: "number of multi-joined rows updated", Type: "fixed", Precision: 19})
		set.Rows[0] = append(set.Rows[0], int64(0))
		set.Type = result.Update
		return set, nil
	case KindDelete:
		n, err := exec(rw.text)
		if err != nil {
			return nil, err
		}
		set := count("number of rows deleted", n)
		set.Type = result.Delete
		return set, nil
	case KindMerge:
		rows, err := conn.QueryContext(ctx, strings.TrimRight(strings.TrimSpace(rw.text), ";")+"\nRETURNING merge_action", args(rw.params))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		counts := map[string]int64{}
		dst := make([]driver.Value, 1)
		for {
			if err := rows.Next(dst); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, err
			}
			if s, ok := dst[0].(string); ok {
				counts[s]++
			}
		}
		set := &result.Set{Type: result.Merge, Rows: [][]any{{}}}
		for _, a := range []struct{ action, name string }{{"INSERT", "inserted"}, {"UPDATE", "updated"}, {"DELETE", "deleted"}} {
			for _, m := range st.MergeActions {
				if m == a.action {
					set.Columns = append(set.Columns, result.Column{Name: "number of rows " + a.name, Type: "fixed", Precision: 19})
					set.Rows[0] = append(set.Rows[0], counts[a.action])
				}
			}
		}
		return set, nil
	}
	return nil, fmt.Errorf("data: dml of kind %d", st.Kind)
}

// Tx is a DuckDB transaction for DDL. Run the catalog change in the store first and
// Commit only after it is durable; Rollback otherwise, so a failure leaves neither.
type Tx struct {
	e    *Engine
	conn *sql.Conn
	done bool
}

// Begin starts a DuckDB transaction.
func (e *Engine) Begin(ctx context.Context) (*Tx, error) {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("data: begin: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("data: begin: %w", err)
	}
	return &Tx{e: e, conn: conn}, nil
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if t.done {
		return nil
	}
	t.done = true
	defer t.conn.Close()
	if _, err := t.conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		_, _ = t.conn.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("data: commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction; it is a no-op after Commit.
func (t *Tx) Rollback() {
	if t.done {
		return
	}
	t.done = true
	_, _ = t.conn.ExecContext(context.Background(), "ROLLBACK")
	t.conn.Close()
}

func (t *Tx) exec(ctx context.Context, st *Stmt, text string, params ...any) error {
	if _, err := t.conn.ExecContext(ctx, text, params...); err != nil {
		if st != nil {
			return t.e.mapStmtError(ctx, st, err)
		}
		return t.e.mapError(ctx, nil, err)
	}
	return nil
}

// EnsureSchema creates a DuckDB schema unless it exists.
func (t *Tx) EnsureSchema(ctx context.Context, schema string) error {
	return t.exec(ctx, nil, "CREATE SCHEMA IF NOT EXISTS "+quoteDuck(schema))
}

// EnsureSchema creates a DuckDB schema unless it exists, in its own transaction.
func (e *Engine) EnsureSchema(ctx context.Context, schema string) error {
	if _, err := e.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteDuck(schema)); err != nil {
		return e.mapError(ctx, nil, err)
	}
	return nil
}

// columnSQL is a column definition in DuckDB SQL.
func columnSQL(d ColumnDef) string {
	s := quoteDuck(d.Name) + " " + d.Type.Duck()
	if d.NotNull {
		s += " NOT NULL"
	}
	if d.DuckDef != "" {
		s += " DEFAULT (" + d.DuckDef + ")"
	}
	return s
}

// CreateTable creates a table with the given columns.
func (t *Tx) CreateTable(ctx context.Context, st *Stmt, internal string, cols []ColumnDef) error {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = columnSQL(c)
	}
	return t.exec(ctx, st, "CREATE TABLE "+internal+" ("+strings.Join(parts, ", ")+")")
}

// Describe returns the columns of the AS query of CREATE TABLE|VIEW, with Snowflake
// names and types. The references must be resolved.
func (t *Tx) Describe(ctx context.Context, st *Stmt) ([]ColumnDef, error) {
	if err := st.checkColumns(); err != nil {
		return nil, err
	}
	text := st.substitute(st.queryFrom, st.queryTo)
	var cols []ColumnDef
	err := t.conn.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("data: unexpected driver connection %T", dc)
		}
		s, err := prepare(conn, text)
		if err != nil {
			return err
		}
		defer s.Close()
		n, err := s.ColumnCount()
		if err != nil {
			return err
		}
		rw := &rewritten{names: st.rw.names, values: st.rw.values}
		for i := 0; i < n; i++ {
			info, err := s.ColumnTypeInfo(i)
			if err != nil {
				return err
			}
			name, err := s.ColumnName(i)
			if err != nil {
				return err
			}
			c := mapColumn(info)
			d := ColumnDef{Name: t.e.columnName(rw, i, n, name), Type: typeOfColumn(c.col)}
			if i < len(st.ViewColumns) {
				d.Name = st.ViewColumns[i]
			}
			cols = append(cols, d)
		}
		if len(st.ViewColumns) > 0 && len(st.ViewColumns) != n {
			return sferr.Compilation("002032", "42601", fmt.Sprintf("Invalid column list: expected %d columns but got %d.", n, len(st.ViewColumns)))
		}
		return nil
	})
	if err != nil {
		return nil, t.e.mapStmtError(ctx, st, err)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			return nil, sferr.Compilation("002025", "42S21", fmt.Sprintf("duplicate column name '%s'", c.Name))
		}
		seen[c.Name] = true
	}
	return cols, nil
}

// Fill inserts the rows of the AS query of CREATE TABLE into internal.
func (t *Tx) Fill(ctx context.Context, st *Stmt, internal string) error {
	text := "INSERT INTO " + internal + " SELECT * FROM (\n" + st.substitute(st.queryFrom, st.queryTo) + "\n)"
	return t.exec(ctx, st, text, st.rw.params...)
}

// CreateView creates a view over the AS query.
func (t *Tx) CreateView(ctx context.Context, st *Stmt, internal string, cols []ColumnDef) error {
	if len(st.rw.params) > 0 {
		return sferr.Compilation("000002", "0A000", "Unsupported feature 'bind variables in a view definition'.")
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteDuck(c.Name)
	}
	return t.exec(ctx, st, "CREATE VIEW "+internal+" ("+strings.Join(names, ", ")+") AS\n"+st.substitute(st.queryFrom, st.queryTo))
}

// Drop drops a table or view.
func (t *Tx) Drop(ctx context.Context, view bool, internal string) error {
	kind := "TABLE"
	if view {
		kind = "VIEW"
	}
	return t.exec(ctx, nil, "DROP "+kind+" IF EXISTS "+internal)
}

// AddColumn adds a column to a table.
func (t *Tx) AddColumn(ctx context.Context, st *Stmt, internal string, d ColumnDef) error {
	if d.NotNull && d.DuckDef == "" {
		// DuckDB cannot add a NOT NULL column without a default; Snowflake refuses it on a
		// non-empty table too, so the constraint is checked by the caller's catalog only.
		d.NotNull = false
	}
	return t.exec(ctx, st, "ALTER TABLE "+internal+" ADD COLUMN "+columnSQL(d))
}

// DropColumn drops a column.
func (t *Tx) DropColumn(ctx context.Context, st *Stmt, internal, name string) error {
	return t.exec(ctx, st, "ALTER TABLE "+internal+" DROP COLUMN "+quoteDuck(name))
}

// RenameColumn renames a column.
func (t *Tx) RenameColumn(ctx context.Context, st *Stmt, internal, from, to string) error {
	return t.exec(ctx, st, "ALTER TABLE "+internal+" RENAME COLUMN "+quoteDuck(from)+" TO "+quoteDuck(to))
}

// DropObjects drops tables and views outside any transaction, best effort: it is
// used after DROP SCHEMA or DROP DATABASE has removed their catalog records.
func (e *Engine) DropObjects(ctx context.Context, tables, views []string) {
	for _, v := range views {
		if _, err := e.db.ExecContext(ctx, "DROP VIEW IF EXISTS "+v); err != nil {
			e.log.Warn("data: drop view", "err", err)
		}
	}
	for _, t := range tables {
		if _, err := e.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			e.log.Warn("data: drop table", "err", err)
		}
	}
}

// DropTable drops a table outside any transaction; a missing table is not an error.
// The temporary-table sweep uses it before removing the catalog record, so that a
// failure leaves the record for the next sweep rather than an orphaned table.
func (e *Engine) DropTable(ctx context.Context, internal string) error {
	if _, err := e.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+internal); err != nil {
		return fmt.Errorf("data: drop table %s: %w", internal, err)
	}
	return nil
}

// SQLText returns the AS query of a CREATE VIEW as written.
func (s *Stmt) SQLText() string { return s.Text }

// Context is the session context the statement was analysed with.
func (s *Stmt) Context() *Context { return s.c }

// InlineSet renders a result set as a parenthesised DuckDB query over its rows; the
// resolver uses it for INFORMATION_SCHEMA views.
func InlineSet(set *result.Set) (string, error) { return inlineValues(set) }

// RowCounts returns the row counts of tables given by internal name (DuckDB's
// estimate, exact for tables without pending deletes). Unknown names are absent.
func (e *Engine) RowCounts(ctx context.Context, internals []string) map[string]int64 {
	want := map[string]bool{}
	for _, n := range internals {
		want[n] = true
	}
	out := map[string]int64{}
	rows, err := e.db.QueryContext(ctx, "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() WHERE NOT internal AND NOT temporary")
	if err != nil {
		e.log.Warn("data: row counts", "err", err)
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var s, t string
		var n int64
		if err := rows.Scan(&s, &t, &n); err != nil {
			return out
		}
		if k := Internal(s, t); want[k] {
			out[k] = n
		}
	}
	return out
}
