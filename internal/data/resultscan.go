package data

import (
	"context"
	"crypto/rand"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// Sources supplies the data a statement reads from outside DuckDB: earlier results of
// the session (RESULT_SCAN, LAST_QUERY_ID, the ->> pipe) and the system views built
// from the catalog and the history (SNOWFLAKE.ACCOUNT_USAGE, INFORMATION_SCHEMA table
// functions). Package exec implements it per statement; every method answers only for
// the statement's own session and roles.
type Sources interface {
	// LastQueryID returns LAST_QUERY_ID(n): n > 0 counts from the session's first
	// query, n < 0 back from the most recent one. ok is false when there is none.
	LastQueryID(n int) (id string, ok bool)
	// ResultScan returns the kept result of query id, which must belong to the
	// session; otherwise a 002003-style error.
	ResultScan(id string) (*result.Set, error)
	// PipeResult returns the result of the statement n places back in the current
	// ->> chain ($1 is the previous statement).
	PipeResult(n int) (*result.Set, error)
	// SystemView returns the rows of a system view or table function: name is
	// "ACCOUNT_USAGE.<VIEW>" or "INFORMATION_SCHEMA.<FUNCTION>" (upper case); db is the
	// database named in front of INFORMATION_SCHEMA ("" for ACCOUNT_USAGE).
	SystemView(ctx context.Context, db, name string) (*result.Set, error)
}

// rawKind marks a token that carries DuckDB SQL made by the expander: the rewriter
// emits the text of a TokNumber unchanged.
const rawKind = sql.TokNumber

// raw returns a token carrying DuckDB text at the position of at.
func raw(at sql.Token, text string) sql.Token {
	return sql.Token{Kind: rawKind, Text: text, Value: text, Offset: at.Offset, Line: at.Line, Column: at.Column}
}

// expansion is the outcome of expandSources.
type expansion struct {
	orig    []sql.Token
	changed bool
	// single holds the columns of the only source inlined, for SELECT * naming.
	single  []result.Column
	sources int
	// pending replaces later tokens (by index) with DuckDB text; "" drops them.
	pending map[int]string
	// handles are the scanFunction handles registered for the statement.
	handles []string
	// inView marks a CREATE VIEW, whose query is stored: earlier results, pipe
	// references and system views would be frozen into it, so they are refused.
	inView bool
}

// definesView reports whether toks are a CREATE [OR REPLACE] [SECURE|...] VIEW.
func definesView(toks []sql.Token) bool {
	if !toks[0].Is("CREATE") {
		return false
	}
	for _, t := range toks[1:] {
		switch {
		case t.Is("VIEW"):
			return true
		case t.Is("AS"), t.Is("SELECT"), t.IsOp("("), t.Kind == sql.TokEOF:
			return false
		}
	}
	return false
}

// errInView refuses a session-bound source in a view definition.
func errInView(what string) error {
	return sferr.Compilation("000002", "0A000", "Unsupported feature '"+what+" in a view definition'.")
}

// fix sets the Snowflake column names of rw from the original tokens, so that
// inlined sources do not leak into the names, and names SELECT * over one inlined
// source by its columns (SHOW's lower-case names stay lower case).
func (x *expansion) fix(rw *rewritten) {
	if x == nil || rw == nil {
		return
	}
	rw.types = jsonTypes(x.orig)
	if !x.changed {
		return
	}
	rw.names, rw.values = columnNames(x.orig)
	if rw.names == nil && !rw.values && x.sources == 1 && starOnly(x.orig) {
		rw.names = make([]string, len(x.single))
		rw.types = make([]string, len(x.single))
		for i, c := range x.single {
			rw.names[i] = c.Name
			if c.Type == "object" || c.Type == "array" {
				rw.types[i] = c.Type
			}
		}
	}
}

// jsonResult are the functions whose VARIANT-typed DuckDB result Snowflake types as
// OBJECT or ARRAY.
var jsonResult = map[string]string{
	"OBJECT_CONSTRUCT": "object", "OBJECT_CONSTRUCT_KEEP_NULL": "object", "OBJECT_AGG": "object",
	"ARRAY_CONSTRUCT": "array", "OBJECT_KEYS": "array",
}

// jsonTypes returns, for each top-level select item, "object" or "array" when the
// item is one call of a function in jsonResult or ends in ::OBJECT / ::ARRAY; nil
// when there is nothing to say.
func jsonTypes(toks []sql.Token) []string {
	items := selectItems(toks)
	var out []string
	for i, item := range items {
		typ := ""
		// Drop a trailing alias.
		if n := len(item); n >= 2 && isIdent(item[n-1]) && (item[n-2].Is("AS") || item[n-2].IsOp(")")) {
			item = item[:n-1]
			if item[len(item)-1].Is("AS") {
				item = item[:len(item)-1]
			}
		}
		n := len(item)
		switch {
		case n >= 3 && item[0].Kind == sql.TokWord && jsonResult[item[0].Value] != "" && item[1].IsOp("("):
			if _, closing := callArgs(item, 1); closing == n-1 {
				typ = jsonResult[item[0].Value]
			}
		case n >= 3 && item[n-2].IsOp("::") && (item[n-1].Is("OBJECT") || item[n-1].Is("ARRAY")):
			typ = strings.ToLower(item[n-1].Value)
		}
		if typ != "" {
			if out == nil {
				out = make([]string, len(items))
			}
			out[i] = typ
		}
	}
	return out
}

// selectItems splits the top-level select list of a query into its items.
func selectItems(toks []sql.Token) [][]sql.Token {
	start, depth := -1, 0
	for i, t := range toks {
		if t.IsOp("(") {
			depth++
		} else if t.IsOp(")") {
			depth--
		} else if depth == 0 && t.Is("SELECT") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil
	}
	for start < len(toks) && (toks[start].Is("DISTINCT") || toks[start].Is("ALL")) {
		start++
	}
	var items [][]sql.Token
	var cur []sql.Token
	depth = 0
	for _, t := range toks[start:] {
		switch {
		case t.Kind == sql.TokEOF, t.IsOp(";"), t.IsOp("->>"):
			return append(items, cur)
		case t.IsOp("(") || t.IsOp("["):
			depth++
		case t.IsOp(")") || t.IsOp("]"):
			depth--
			if depth < 0 {
				return append(items, cur)
			}
		case depth == 0 && t.Kind == sql.TokWord && clauseEnd[t.Value]:
			return append(items, cur)
		case depth == 0 && t.IsOp(","):
			items = append(items, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(items, cur)
}

// starOnly reports whether the top-level select list is exactly "*".
func starOnly(toks []sql.Token) bool {
	depth := 0
	for i, t := range toks {
		switch {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && t.Is("SELECT"):
			return toks[i+1].IsOp("*") && toks[i+2].Is("FROM")
		}
	}
	return false
}

// expandSources replaces RESULT_SCAN(...), LAST_QUERY_ID(...), pipe references ($n),
// SNOWFLAKE.ACCOUNT_USAGE views and INFORMATION_SCHEMA.QUERY_HISTORY*() table
// functions with DuckDB SQL, and rewrites Snowflake syntax DuckDB lacks (see
// functions.go). It never lets user SQL name an internal function.
func (e *Engine) expandSources(ctx context.Context, c *Context, toks []sql.Token) ([]sql.Token, *expansion, error) {
	out, x, err := e.expand(ctx, c, toks)
	if err != nil {
		x.release()
		return nil, nil, err
	}
	if len(x.handles) > 0 {
		// The results stay scannable while the statement's tokens are reachable (the
		// analysed statement holds them) and for scanGrace after: DuckDB binds the
		// table function when the statement is prepared, right after analysis.
		runtime.AddCleanup(&out[0], func(hs []string) {
			time.AfterFunc(scanGrace, func() {
				for _, h := range hs {
					scans.Delete(h)
				}
			})
		}, x.handles)
	}
	return out, x, nil
}

// expand does expandSources' work; on error the caller releases x's handles.
func (e *Engine) expand(ctx context.Context, c *Context, toks []sql.Token) (_ []sql.Token, x *expansion, _ error) {
	x = &expansion{orig: toks, pending: map[int]string{}, inView: definesView(toks)}
	out := make([]sql.Token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if r, ok := x.pending[i]; ok {
			if r != "" {
				out = append(out, raw(t, r))
			}
			continue
		}
		var prev sql.Token
		if i > 0 {
			prev = toks[i-1]
		}
		afterDot := prev.IsOp(".")
		if t.Kind == sql.TokWord && strings.HasPrefix(t.Value, "FIRN_") || t.Kind == sql.TokQuotedIdent && strings.HasPrefix(strings.ToUpper(t.Value), "FIRN_") {
			if toks[i+1].IsOp("(") {
				return nil, x, sferr.Compilation("002140", "42601", "Unknown function "+strings.ToUpper(t.Value))
			}
		}
		switch {
		case !afterDot && t.Is("TABLE") && toks[i+1].IsOp("(") && toks[i+2].Is("RESULT_SCAN") && toks[i+3].IsOp("("):
			set, n, err := e.resultScanCall(c, toks, i+2)
			if err != nil {
				return nil, x, err
			}
			end := i + 2 + n
			if !toks[end].IsOp(")") {
				return nil, x, srcSyntax(toks[end])
			}
			if err := x.inline(&out, t, set, "", toks[end+1]); err != nil {
				return nil, x, err
			}
			i = end
			continue
		case !afterDot && t.Is("RESULT_SCAN") && toks[i+1].IsOp("("):
			set, n, err := e.resultScanCall(c, toks, i)
			if err != nil {
				return nil, x, err
			}
			if err := x.inline(&out, t, set, "", toks[i+n]); err != nil {
				return nil, x, err
			}
			i += n - 1
			continue
		case !afterDot && t.Is("LAST_QUERY_ID") && toks[i+1].IsOp("(") && x.inView:
			return nil, x, errInView("LAST_QUERY_ID")
		case !afterDot && t.Is("LAST_QUERY_ID") && toks[i+1].IsOp("("):
			id, n, err := lastQueryID(c, toks, i)
			if err != nil {
				return nil, x, err
			}
			out = append(out, raw(t, textOrNull(id)))
			x.changed = true
			i += n - 1
			continue
		case t.Kind == sql.TokVariable && isDigits(t.Value) && c.Sources != nil && (prev.Is("FROM") || prev.Is("JOIN")):
			n, _ := strconv.Atoi(t.Value)
			set, err := c.Sources.PipeResult(n)
			if err != nil {
				return nil, x, err
			}
			if err := x.inline(&out, t, set, "", toks[i+1]); err != nil {
				return nil, x, err
			}
			continue
		case !afterDot && t.Is("TABLE") && toks[i+1].IsOp("("):
			if n, err := e.historyFunction(ctx, c, x, &out, toks, i); err != nil {
				return nil, x, err
			} else if n > 0 {
				i += n - 1
				continue
			}
		case !afterDot && isIdent(t):
			if n, err := e.accountUsage(ctx, c, x, &out, toks, i); err != nil {
				return nil, x, err
			} else if n > 0 {
				i += n - 1
				continue
			}
		}
		if n, ok := rewriteFunction(x, &out, toks, i); ok {
			x.changed = true
			i += n - 1
			continue
		}
		out = append(out, t)
	}
	if !x.changed {
		return toks, x, nil
	}
	return out, x, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isIdent(t sql.Token) bool { return t.Kind == sql.TokWord || t.Kind == sql.TokQuotedIdent }

// identIs reports whether t names name (upper case) as Snowflake resolves identifiers.
func identIs(t sql.Token, name string) bool {
	return (t.Kind == sql.TokWord || t.Kind == sql.TokQuotedIdent) && t.Value == name
}

func srcSyntax(t sql.Token) error {
	text := t.Text
	if t.Kind == sql.TokEOF {
		text = "<EOF>"
	}
	return sferr.Syntax(t.Line, t.Column, text)
}

// lastQueryID reads LAST_QUERY_ID ( [ [-] n ] ) at toks[i] and returns the id ("" for
// none) and the number of tokens read.
func lastQueryID(c *Context, toks []sql.Token, i int) (string, int, error) {
	j := i + 2
	num := -1
	if !toks[j].IsOp(")") {
		neg := false
		if toks[j].IsOp("-") || toks[j].IsOp("+") {
			neg = toks[j].IsOp("-")
			j++
		}
		if toks[j].Kind != sql.TokNumber {
			return "", 0, sferr.Compilation("002140", "42601", "LAST_QUERY_ID takes a constant integer argument")
		}
		n, err := strconv.Atoi(toks[j].Value)
		if err != nil {
			return "", 0, sferr.Compilation("002140", "42601", "LAST_QUERY_ID takes a constant integer argument")
		}
		if neg {
			n = -n
		}
		num = n
		j++
	}
	if !toks[j].IsOp(")") {
		return "", 0, srcSyntax(toks[j])
	}
	if c.Sources == nil || num == 0 {
		return "", j - i + 1, nil
	}
	id, ok := c.Sources.LastQueryID(num)
	if !ok {
		return "", j - i + 1, nil
	}
	return id, j - i + 1, nil
}

// resultScanCall reads RESULT_SCAN ( 'id' | LAST_QUERY_ID(...) ) at toks[i] and
// returns the result and the number of tokens read.
func (e *Engine) resultScanCall(c *Context, toks []sql.Token, i int) (*result.Set, int, error) {
	j := i + 2
	var id string
	switch a := toks[j]; {
	case a.Kind == sql.TokString || a.Kind == sql.TokDollarString:
		id = a.Value
		j++
	case a.Is("LAST_QUERY_ID") && toks[j+1].IsOp("("):
		v, n, err := lastQueryID(c, toks, j)
		if err != nil {
			return nil, 0, err
		}
		if v == "" {
			return nil, 0, sferr.Compilation("002003", "02000", "No previous query in this session to scan.")
		}
		id = v
		j += n
	default:
		return nil, 0, sferr.Compilation("000002", "0A000", "Unsupported feature 'RESULT_SCAN argument other than a query id literal or LAST_QUERY_ID()'.")
	}
	if !toks[j].IsOp(")") {
		return nil, 0, srcSyntax(toks[j])
	}
	if c.Sources == nil {
		return nil, 0, sferr.DoesNotExist("Statement", id)
	}
	set, err := c.Sources.ResultScan(id)
	if err != nil {
		return nil, 0, err
	}
	return set, j - i + 1, nil
}

// aliasFollows reports whether t starts a table alias (AS x or a bare name).
func aliasFollows(t sql.Token) bool {
	if t.Kind == sql.TokQuotedIdent || t.Is("AS") {
		return true
	}
	return t.Kind == sql.TokWord && !notAlias[t.Value]
}

// notAlias are the words that may follow a table reference and are not its alias.
var notAlias = map[string]bool{
	"WHERE": true, "JOIN": true, "ON": true, "LEFT": true, "RIGHT": true, "INNER": true, "OUTER": true,
	"FULL": true, "CROSS": true, "NATURAL": true, "GROUP": true, "ORDER": true, "LIMIT": true,
	"UNION": true, "EXCEPT": true, "INTERSECT": true, "MINUS": true, "HAVING": true, "QUALIFY": true,
	"WINDOW": true, "USING": true, "LATERAL": true, "OFFSET": true, "FETCH": true, "SAMPLE": true,
	"TABLESAMPLE": true, "ASOF": true, "POSITIONAL": true, "ANTI": true, "SEMI": true, "PIVOT": true,
	"UNPIVOT": true, "MATCH_RECOGNIZE": true, "AT": true, "BEFORE": true, "CHANGES": true,
}

// inline appends the DuckDB text for set as a subquery, aliased alias (or, when
// alias is "", unaliased) unless next starts the user's own alias.
func (x *expansion) inline(out *[]sql.Token, at sql.Token, set *result.Set, alias string, next sql.Token) error {
	if x.inView {
		return errInView(strings.ToUpper(at.Text))
	}
	text, err := inlineSet(x, set)
	if err != nil {
		return err
	}
	if alias != "" && !aliasFollows(next) {
		text += " AS " + quoteIdent(alias)
	}
	*out = append(*out, raw(at, text))
	x.changed = true
	x.sources++
	x.single = set.Columns
	return nil
}

// quoteIdent quotes name as a DuckDB identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// duckType is the DuckDB type that holds values of Snowflake column c and maps back
// to c's type.
func duckType(c result.Column) string {
	switch strings.ToLower(c.Type) {
	case "fixed":
		s := c.Scale
		if s < 0 || s > 37 {
			s = 0
		}
		return "DECIMAL(38," + strconv.FormatInt(s, 10) + ")"
	case "real":
		return "DOUBLE"
	case "boolean":
		return "BOOLEAN"
	case "date":
		return "DATE"
	case "time":
		return "TIME"
	case "timestamp_ntz":
		return "TIMESTAMP_NS"
	case "timestamp_ltz", "timestamp_tz":
		return "TIMESTAMPTZ"
	case "variant", "object", "array":
		return "JSON"
	case "binary":
		return "BLOB"
	}
	return "VARCHAR"
}

// scanFunction is the DuckDB table function that streams an inlined result to DuckDB.
// It takes one argument, a handle: 128 random bits naming a result registered by
// this process for one statement. User SQL can neither call it (expandSources refuses
// FIRN_ names) nor guess a handle.
const scanFunction = "firn_scan"

// scanGrace is how long a handle outlives its statement's tokens.
const scanGrace = time.Minute

// scans maps live handles to their results. An entry lives as long as the statement
// that registered it (see register).
var scans sync.Map // string → *result.Set

func init() {
	allowedTableFunctions[scanFunction] = true
}

// registerScan registers scanFunction with DuckDB; functions live in DuckDB's system
// catalog, so every connection of the database sees it.
func registerScan(conn *stdsql.Conn) error {
	vc, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("data: register %s: %w", scanFunction, err)
	}
	f := duckdb.RowTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{vc}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.RowTableSource, error) {
			h, _ := args[0].(string)
			v, ok := scans.Load(h)
			if !ok {
				return nil, errors.New("no such result")
			}
			return &scanSource{set: v.(*result.Set), vc: vc}, nil
		},
	}
	if err := duckdb.RegisterTableUDF(conn, scanFunction, f); err != nil {
		return fmt.Errorf("data: register %s: %w", scanFunction, err)
	}
	return nil
}

// scanSource streams a result's rows to DuckDB as text; the query around it casts
// each column back to its type.
type scanSource struct {
	set  *result.Set
	vc   duckdb.TypeInfo
	next int
}

func (s *scanSource) ColumnInfos() []duckdb.ColumnInfo {
	out := make([]duckdb.ColumnInfo, len(s.set.Columns))
	for i := range out {
		out[i] = duckdb.ColumnInfo{Name: "c" + strconv.Itoa(i), T: s.vc}
	}
	return out
}

func (s *scanSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.set.Rows)), Exact: true}
}

func (s *scanSource) Init() {}

func (s *scanSource) FillRow(row duckdb.Row) (bool, error) {
	if s.next >= len(s.set.Rows) {
		return false, nil
	}
	r := s.set.Rows[s.next]
	s.next++
	for i, v := range r {
		if !row.IsProjected(i) {
			continue
		}
		t, ok, err := cellText(v, s.set.Columns[i])
		if err != nil {
			return false, err
		}
		if !ok {
			if err := row.SetRowValue(i, nil); err != nil {
				return false, err
			}
			continue
		}
		if err := row.SetRowValue(i, t); err != nil {
			return false, err
		}
	}
	return true, nil
}

// register makes set scannable for as long as owner is reachable and returns its
// handle.
func register(owner *expansion, set *result.Set) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("data: scan handle: %w", err)
	}
	h := hex.EncodeToString(b[:])
	scans.Store(h, set)
	owner.handles = append(owner.handles, h)
	return h, nil
}

// release forgets the handles registered for one statement.
func (x *expansion) release() {
	for _, h := range x.handles {
		scans.Delete(h)
	}
	x.handles = nil
}

// inlineSet renders set as a parenthesised DuckDB query returning its rows with its
// column names and types, reading them through scanFunction.
func inlineSet(x *expansion, set *result.Set) (string, error) {
	if set == nil {
		return "", sferr.Internal()
	}
	if len(set.Columns) == 0 {
		return "(SELECT NULL AS \"status\" WHERE FALSE)", nil
	}
	for r, row := range set.Rows {
		if len(row) != len(set.Columns) {
			return "", fmt.Errorf("data: result row %d has %d cells for %d columns", r, len(row), len(set.Columns))
		}
	}
	h, err := register(x, set)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("(SELECT ")
	for i, c := range set.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		ref := "c" + strconv.Itoa(i)
		switch typ := duckType(c); typ {
		case "VARCHAR":
			b.WriteString(ref)
		case "BLOB":
			b.WriteString("from_hex(" + ref + ")")
		default:
			b.WriteString("CAST(" + ref + " AS " + typ + ")")
		}
		b.WriteString(" AS " + quoteIdent(c.Name))
	}
	b.WriteString(" FROM " + scanFunction + "('" + h + "'))")
	return b.String(), nil
}

// cellText renders one value of column c as the text DuckDB casts to the column's
// type; ok is false for NULL.
func cellText(v any, c result.Column) (string, bool, error) {
	if v == nil {
		return "", false, nil
	}
	typ := strings.ToLower(c.Type)
	if t, ok := v.(time.Time); ok {
		switch typ {
		case "date":
			return t.Format("2006-01-02"), true, nil
		case "time":
			return t.Format("15:04:05.999999999"), true, nil
		case "timestamp_ntz":
			return t.Format("2006-01-02 15:04:05.999999999"), true, nil
		case "timestamp_ltz", "timestamp_tz":
			return t.UTC().Format("2006-01-02 15:04:05.999999999") + "+00", true, nil
		}
	}
	if d, ok := v.(time.Duration); ok && typ == "time" {
		t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d)
		return t.Format("15:04:05.999999999"), true, nil
	}
	col := c
	col.Type = typ
	p, err := result.EncodeStyle(v, col, time.UTC, result.EpochDecimal)
	if err != nil {
		return "", false, fmt.Errorf("data: scan value: %w", err)
	}
	if p == nil {
		return "", false, nil
	}
	switch typ {
	case "boolean":
		return strconv.FormatBool(*p == "1"), true, nil
	case "date":
		days, err := strconv.Atoi(*p)
		if err != nil {
			return "", false, fmt.Errorf("data: scan date %q", *p)
		}
		return time.Unix(int64(days)*86400, 0).UTC().Format("2006-01-02"), true, nil
	case "timestamp_ntz", "timestamp_ltz", "timestamp_tz", "time":
		return "", false, fmt.Errorf("data: scan %s value of type %T", typ, v)
	}
	return *p, true, nil
}

// inlineValues renders set as a parenthesised VALUES query with the rows as
// literals. DuckDB plans large VALUES lists slowly (about 1 s per 1,000 rows of five
// columns), so it suits small sets only; inlineSet streams any size.
func inlineValues(set *result.Set) (string, error) {
	if set == nil {
		return "", sferr.Internal()
	}
	if len(set.Columns) == 0 {
		return "(SELECT NULL AS \"status\" WHERE FALSE)", nil
	}
	types := make([]string, len(set.Columns))
	for i, c := range set.Columns {
		types[i] = duckType(c)
	}
	var b strings.Builder
	if len(set.Rows) == 0 {
		b.WriteString("(SELECT ")
		for i, c := range set.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("CAST(NULL AS " + types[i] + ") AS " + quoteIdent(c.Name))
		}
		b.WriteString(" WHERE FALSE)")
		return b.String(), nil
	}
	b.WriteString("(SELECT * FROM (VALUES ")
	for r, row := range set.Rows {
		if len(row) != len(set.Columns) {
			return "", fmt.Errorf("data: result row %d has %d cells for %d columns", r, len(row), len(set.Columns))
		}
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			t, ok, err := cellText(v, set.Columns[i])
			if err != nil {
				return "", err
			}
			switch {
			case !ok:
				b.WriteString("CAST(NULL AS " + types[i] + ")")
			case types[i] == "BLOB":
				b.WriteString("from_hex(" + sqlString(t) + ")")
			default:
				b.WriteString("CAST(" + lineSafe(t) + " AS " + types[i] + ")")
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(") AS __firn_rs(")
	for i, c := range set.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
	}
	b.WriteString("))")
	return b.String(), nil
}

// lineSafe quotes s as a string literal that stays on one line, so that DuckDB's
// error positions in the rest of the statement keep their lines.
func lineSafe(s string) string {
	q := sqlString(s)
	q = strings.ReplaceAll(q, "\r", "' || chr(13) || '")
	return strings.ReplaceAll(q, "\n", "' || chr(10) || '")
}
