package data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
)

// Config configures an Engine.
type Config struct {
	// Dir is the directory holding the database file; "" keeps everything in memory.
	Dir string
	// MaxConns caps concurrent DuckDB connections; 0 means the number of CPUs.
	MaxConns int
	// Organization is CURRENT_ORGANIZATION_NAME(); "" means "FIRN".
	Organization string
	// Region is CURRENT_REGION(); "" means "FIRN_LOCAL".
	Region string
	// Logger receives diagnostics; nil means slog.Default().
	Logger *slog.Logger
}

// Engine runs data statements on embedded DuckDB. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger
	db  *sql.DB
}

// dbFile is the database file's name inside Config.Dir.
const dbFile = "firn.duckdb"

// lockdown are DuckDB configuration options set when the database is opened. They
// stop untrusted SQL from reaching files, the network or extensions.
var lockdown = [][2]string{
	{"enable_external_access", "false"},
	{"autoinstall_known_extensions", "false"},
	{"autoload_known_extensions", "false"},
	{"allow_community_extensions", "false"},
	{"allow_persistent_secrets", "false"},
	{"allow_unsigned_extensions", "false"},
}

// setupSQL runs once, on the first connection, before the configuration is locked.
var setupSQL = []string{
	"SET GLOBAL TimeZone = 'UTC'",
	"SET lock_configuration = true",
}

// macros give DuckDB the Snowflake functions it lacks. They are temporary so that
// they live in no database file, and are created on every new connection.
var macros = []string{
	"CREATE OR REPLACE TEMP MACRO parse_json(s) AS CAST(s AS JSON)",
	"CREATE OR REPLACE TEMP MACRO try_parse_json(s) AS TRY_CAST(s AS JSON)",
	"CREATE OR REPLACE TEMP MACRO to_variant(x) AS to_json(x)",
	`CREATE OR REPLACE TEMP MACRO to_binary(s) AS from_hex(s),
	 (s, f) AS CASE upper(f) WHEN 'HEX' THEN from_hex(s) WHEN 'BASE64' THEN from_base64(s)
	   WHEN 'UTF-8' THEN encode(s) WHEN 'UTF8' THEN encode(s)
	   ELSE error('Invalid binary format ' || f) END`,
	`CREATE OR REPLACE TEMP MACRO try_to_binary(s) AS TRY(from_hex(s)),
	 (s, f) AS TRY(CASE upper(f) WHEN 'HEX' THEN from_hex(s) WHEN 'BASE64' THEN from_base64(s)
	   WHEN 'UTF-8' THEN encode(s) WHEN 'UTF8' THEN encode(s) END)`,
	"CREATE OR REPLACE TEMP MACRO iff(c, a, b) AS CASE WHEN c THEN a ELSE b END",
	"CREATE OR REPLACE TEMP MACRO nvl(a, b) AS coalesce(a, b)",
	"CREATE OR REPLACE TEMP MACRO zeroifnull(a) AS coalesce(a, 0)",
}

// Open opens the DuckDB database described by cfg and locks it down.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = runtime.NumCPU()
	}
	if cfg.Organization == "" {
		cfg.Organization = "FIRN"
	}
	if cfg.Region == "" {
		cfg.Region = "FIRN_LOCAL"
	}
	e := &Engine{cfg: cfg, log: cfg.Logger}
	if e.log == nil {
		e.log = slog.Default()
	}
	q := url.Values{}
	for _, kv := range lockdown {
		q.Set(kv[0], kv[1])
	}
	dsn := "?" + q.Encode()
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("data: create %s: %w", cfg.Dir, err)
		}
		path := filepath.Join(cfg.Dir, dbFile)
		if strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("data: database path %q must not contain ? or #", path)
		}
		dsn = path + dsn
	}
	connector, err := duckdb.NewConnector(dsn, func(ex driver.ExecerContext) error {
		for _, m := range macros {
			if _, err := ex.ExecContext(context.Background(), m, nil); err != nil {
				return fmt.Errorf("data: create macro: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data: open duckdb: %w", err)
	}
	e.db = sql.OpenDB(connector)
	e.db.SetMaxOpenConns(cfg.MaxConns)
	e.db.SetMaxIdleConns(cfg.MaxConns)
	conn, err := e.db.Conn(ctx)
	if err != nil {
		e.db.Close()
		return nil, fmt.Errorf("data: connect duckdb: %w", err)
	}
	defer conn.Close()
	for _, s := range setupSQL {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			e.db.Close()
			return nil, fmt.Errorf("data: setup %q: %w", s, err)
		}
	}
	// RESULT_SCAN and the system views read Go results through a table function.
	if err := registerScan(conn); err != nil {
		e.db.Close()
		return nil, err
	}
	return e, nil
}

// Close closes the database.
func (e *Engine) Close() error {
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("data: close: %w", err)
	}
	return nil
}

// Query runs one data statement that names no table or view for the session
// described by c and returns its complete result; statements with references need
// Analyze, resolution and Run. Errors are *sferr.Error values.
func (e *Engine) Query(ctx context.Context, c *Context, text string, binds []Bind) (*result.Set, error) {
	st, err := e.Analyze(ctx, c, text, binds)
	if err != nil {
		return nil, err
	}
	if len(st.Refs) > 0 {
		return nil, sferr.DoesNotExist("Object", st.Refs[0].Name())
	}
	if st.Kind != KindQuery {
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'non-query statement'.")
	}
	return e.Run(ctx, st)
}

// column is one result column: its Snowflake description and how its DuckDB value is
// read.
type column struct {
	col  result.Column
	wrap string // SQL applied to the column in the wrapping query; "" = none
	conv func(any) (any, error)
}

// prepare prepares text as one SELECT statement.
func prepare(conn *duckdb.Conn, text string) (*duckdb.Stmt, error) {
	st, err := conn.Prepare(text)
	if err != nil {
		return nil, err
	}
	s, ok := st.(*duckdb.Stmt)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("data: unexpected statement %T", st)
	}
	typ, err := s.StatementType()
	if err != nil {
		s.Close()
		return nil, err
	}
	if typ != duckdb.STATEMENT_TYPE_SELECT {
		s.Close()
		return nil, errNotQuery
	}
	return s, nil
}

var errNotQuery = errors.New("data: not a query")

// allowedTableFunctions are the DuckDB table functions user SQL may call. Everything
// else (read_csv, read_blob, glob, query, duckdb_settings, ...) is refused: with a
// database file, DuckDB lets SQL read the file, its WAL and its temporary directory
// even with external access disabled, and query() would run SQL text unchecked.
var allowedTableFunctions = map[string]bool{
	"range": true, "generate_series": true, "unnest": true, "json_each": true, "json_tree": true,
}

// checkParsed parses text with DuckDB's json_serialize_sql and checks that it is one
// SELECT statement whose table references are allowed. Parser errors carry DuckDB's
// position.
func checkParsed(ctx context.Context, conn *duckdb.Conn, text string) error {
	rows, err := conn.QueryContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", []driver.NamedValue{{Ordinal: 1, Value: text}})
	if err != nil {
		return err
	}
	defer rows.Close()
	dst := make([]driver.Value, 1)
	if err := rows.Next(dst); err != nil {
		return err
	}
	s, ok := dst[0].(string)
	if !ok {
		return fmt.Errorf("data: json_serialize_sql returned %T", dst[0])
	}
	var tree struct {
		Error        bool   `json:"error"`
		ErrorType    string `json:"error_type"`
		ErrorMessage string `json:"error_message"`
		Position     string `json:"position"`
		Statements   []any  `json:"statements"`
	}
	if err := json.Unmarshal([]byte(s), &tree); err != nil {
		return fmt.Errorf("data: json_serialize_sql: %w", err)
	}
	if tree.Error {
		if tree.ErrorType == "parser" {
			off := -1
			if n, err := strconv.Atoi(tree.Position); err == nil {
				off = n
			}
			return &parseError{err: &duckdb.Error{Type: duckdb.ErrorTypeParser, Msg: "Parser Error: " + tree.ErrorMessage}, offset: off}
		}
		return errNotQuery
	}
	if len(tree.Statements) != 1 {
		return errNotQuery
	}
	return checkRefs(tree.Statements[0])
}

// checkRefs walks a serialized statement and refuses table functions outside
// allowedTableFunctions and table names that DuckDB would read as files.
func checkRefs(node any) error {
	switch n := node.(type) {
	case map[string]any:
		switch n["type"] {
		case "TABLE_FUNCTION":
			if f, ok := n["function"].(map[string]any); ok {
				name, _ := f["function_name"].(string)
				if !allowedTableFunctions[strings.ToLower(name)] {
					return sferr.Compilation("002140", "42601", "Unknown function "+strings.ToUpper(name))
				}
			}
		case "BASE_TABLE":
			name, _ := n["table_name"].(string)
			if strings.ContainsAny(name, "./\\:") {
				return sferr.DoesNotExist("Object", name)
			}
		}
		for _, v := range n {
			if err := checkRefs(v); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range n {
			if err := checkRefs(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// run executes a query. checked says its text was already parsed and its table
// references checked (Analyze); otherwise run checks them.
func (e *Engine) run(ctx context.Context, conn *duckdb.Conn, rw *rewritten, checked bool) (*result.Set, error) {
	if !checked {
		if err := checkParsed(ctx, conn, rw.text); err != nil {
			return nil, err
		}
	}
	stmt, err := prepare(conn, rw.text)
	if err != nil {
		return nil, err
	}
	n, err := stmt.ColumnCount()
	if err != nil {
		stmt.Close()
		return nil, err
	}
	cols := make([]column, n)
	wrap := false
	for i := range cols {
		info, err := stmt.ColumnTypeInfo(i)
		if err != nil {
			stmt.Close()
			return nil, err
		}
		name, err := stmt.ColumnName(i)
		if err != nil {
			stmt.Close()
			return nil, err
		}
		cols[i] = mapColumn(info)
		cols[i].col.Name = e.columnName(rw, i, n, name)
		if i < len(rw.types) && rw.types[i] != "" && cols[i].col.Type == "variant" {
			cols[i].col.Type = rw.types[i]
		}
		if cols[i].wrap != "" {
			wrap = true
		}
	}
	if wrap {
		stmt.Close()
		stmt, err = prepare(conn, wrapQuery(rw.text, cols))
		if err != nil {
			return nil, err
		}
	}
	defer stmt.Close()
	args := make([]driver.NamedValue, len(rw.params))
	for i, p := range rw.params {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: p}
	}
	rows, err := stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	set := &result.Set{Type: result.Select, Columns: make([]result.Column, n), Rows: [][]any{}}
	for i, c := range cols {
		set.Columns[i] = c.col
	}
	dst := make([]driver.Value, n)
	var slab []any
	for {
		if len(set.Rows)%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := rows.Next(dst); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
		// Rows are cut from slabs of 1024 rows: one allocation per slab, not per row.
		if len(slab) < n {
			slab = make([]any, n*1024)
		}
		row := slab[:n:n]
		slab = slab[n:]
		for i, v := range dst {
			if v == nil {
				continue
			}
			cv, err := cols[i].conv(v)
			if err != nil {
				return nil, fmt.Errorf("data: column %d: %w", i+1, err)
			}
			row[i] = cv
		}
		set.Rows = append(set.Rows, row)
	}
	return set, nil
}

// wrapQuery returns text wrapped in a SELECT that converts the columns needing it.
func wrapQuery(text string, cols []column) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		ref := "c" + strconv.Itoa(i+1)
		if c.wrap != "" {
			b.WriteString(fmt.Sprintf(c.wrap, ref))
		} else {
			b.WriteString(ref)
		}
	}
	b.WriteString(" FROM (")
	b.WriteString(text)
	b.WriteString("\n) AS __firn_q(")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("c" + strconv.Itoa(i+1))
	}
	b.WriteString(")")
	return b.String()
}

// columnName returns Snowflake's name for column i of n; duckName is DuckDB's.
func (e *Engine) columnName(rw *rewritten, i, n int, duckName string) string {
	if rw.values {
		return "COLUMN" + strconv.Itoa(i+1)
	}
	if len(rw.names) == n && rw.names[i] != "" {
		return rw.names[i]
	}
	return strings.ToUpper(duckName)
}

// Snowflake's default lengths for text and binary columns.
const (
	textLength   = 16777216
	binaryLength = 8388608
)

// mapColumn maps a DuckDB result type to a Snowflake column and value conversion.
func mapColumn(info duckdb.TypeInfo) column {
	same := func(v any) (any, error) { return v, nil }
	text := column{col: result.Column{Type: "text", Length: textLength, Nullable: true}, conv: same}
	asText := text
	asText.wrap = "CAST(%s AS VARCHAR)"
	rawJSON := func(v any) (any, error) {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("JSON value of type %T", v)
		}
		return json.RawMessage(s), nil
	}
	jsonCol := func(typ, wrap string) column {
		return column{col: result.Column{Type: typ, Nullable: true}, wrap: wrap, conv: rawJSON}
	}
	switch info.InternalType() {
	case duckdb.TYPE_BOOLEAN:
		return column{col: result.Column{Type: "boolean", Nullable: true}, conv: same}
	case duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT, duckdb.TYPE_INTEGER, duckdb.TYPE_BIGINT,
		duckdb.TYPE_UTINYINT, duckdb.TYPE_USMALLINT, duckdb.TYPE_UINTEGER, duckdb.TYPE_UBIGINT,
		duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_BIGNUM:
		return column{col: result.Column{Type: "fixed", Precision: 38, Nullable: true}, conv: same}
	case duckdb.TYPE_DECIMAL:
		c := column{col: result.Column{Type: "fixed", Precision: 38, Nullable: true}, conv: convDecimal}
		if d, ok := info.Details().(*duckdb.DecimalDetails); ok {
			c.col.Precision, c.col.Scale = int64(d.Width), int64(d.Scale)
		}
		return c
	case duckdb.TYPE_FLOAT, duckdb.TYPE_DOUBLE:
		return column{col: result.Column{Type: "real", Nullable: true}, conv: same}
	case duckdb.TYPE_VARCHAR:
		if strings.EqualFold(info.Alias(), "JSON") {
			return jsonCol("variant", "CAST(%s AS VARCHAR)")
		}
		return text
	case duckdb.TYPE_ENUM:
		return text
	case duckdb.TYPE_DATE:
		return column{col: result.Column{Type: "date", Nullable: true}, conv: same}
	case duckdb.TYPE_TIME:
		return column{col: result.Column{Type: "time", Scale: 9, Nullable: true}, conv: same}
	case duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_S, duckdb.TYPE_TIMESTAMP_MS, duckdb.TYPE_TIMESTAMP_NS:
		return column{col: result.Column{Type: "timestamp_ntz", Scale: 9, Nullable: true}, conv: same}
	case duckdb.TYPE_TIMESTAMP_TZ:
		return column{col: result.Column{Type: "timestamp_ltz", Scale: 9, Nullable: true}, conv: same}
	case duckdb.TYPE_BLOB:
		return column{col: result.Column{Type: "binary", Length: binaryLength, Nullable: true}, conv: same}
	case duckdb.TYPE_LIST, duckdb.TYPE_ARRAY:
		return jsonCol("array", "CAST(to_json(%s) AS VARCHAR)")
	case duckdb.TYPE_STRUCT, duckdb.TYPE_MAP, duckdb.TYPE_UNION:
		return jsonCol("object", "CAST(to_json(%s) AS VARCHAR)")
	case duckdb.TYPE_VARIANT:
		return jsonCol("variant", "CAST(to_json(%s) AS VARCHAR)")
	case duckdb.TYPE_SQLNULL:
		return text
	}
	// UUID, INTERVAL, TIME WITH TIME ZONE, BIT, GEOMETRY and anything newer: text.
	return asText
}

// convDecimal turns a duckdb.Decimal into exact decimal text.
func convDecimal(v any) (any, error) {
	switch d := v.(type) {
	case duckdb.Decimal:
		if d.Value == nil {
			return nil, nil
		}
		return d.String(), nil
	case *duckdb.Decimal:
		if d == nil || d.Value == nil {
			return nil, nil
		}
		return d.String(), nil
	}
	return v, nil
}
