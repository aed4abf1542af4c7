package data

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/sferr"
	fsql "github.com/firn/firn/internal/sql"
)

// Ref is one reference to a table or view in a data statement, as written: its name
// parts folded as Snowflake folds them (unquoted upper case, quoted kept), and the
// privileges the statement needs on it. The caller resolves it against the catalog
// and sets Internal before the statement runs.
type Ref struct {
	Parts []fsql.Ident
	// Privs are the privileges the statement needs: SELECT for read references,
	// INSERT/UPDATE/DELETE/TRUNCATE for targets.
	Privs []string
	// Target marks the object a DML statement writes to.
	Target bool
	// Internal is the DuckDB SQL that replaces the reference: a quoted internal name
	// or a parenthesised subquery. Set by the resolver.
	Internal string
	// start and end delimit the reference in the rewritten text; alias says the
	// reference carries an alias of its own.
	start, end int
	alias      bool
}

// Name is the reference as written, parts joined with dots.
func (r *Ref) Name() string {
	p := make([]string, len(r.Parts))
	for i, x := range r.Parts {
		p[i] = x.Name
	}
	return strings.Join(p, ".")
}

// probe is SELECT text assembled from pieces of a rewritten statement so that DuckDB's
// parser can serialise it (json_serialize_sql only takes SELECT statements). It maps
// its own offsets back to the rewritten text.
type probe struct {
	b    strings.Builder
	segs []probeSeg
}

type probeSeg struct{ at, from, n int }

func (p *probe) lit(s string) { p.b.WriteString(s) }

func (p *probe) copy(text string, from, to int) {
	if to <= from {
		return
	}
	p.segs = append(p.segs, probeSeg{at: p.b.Len(), from: from, n: to - from})
	p.b.WriteString(text[from:to])
}

// source maps a probe offset to the rewritten text.
func (p *probe) source(off int) (int, bool) {
	for _, s := range p.segs {
		if off >= s.at && off < s.at+s.n {
			return s.from + off - s.at, true
		}
	}
	return 0, false
}

// serialize parses text with DuckDB's parser and returns its JSON tree.
func serialize(ctx context.Context, conn *duckdb.Conn, text string) (map[string]any, error) {
	rows, err := conn.QueryContext(ctx, "SELECT CAST(json_serialize_sql(CAST($1 AS VARCHAR)) AS VARCHAR)", []driver.NamedValue{{Ordinal: 1, Value: text}})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dst := make([]driver.Value, 1)
	if err := rows.Next(dst); err != nil {
		return nil, err
	}
	s, ok := dst[0].(string)
	if !ok {
		return nil, fmt.Errorf("data: json_serialize_sql returned %T", dst[0])
	}
	var tree map[string]any
	if err := json.Unmarshal([]byte(s), &tree); err != nil {
		return nil, fmt.Errorf("data: json_serialize_sql: %w", err)
	}
	return tree, nil
}

// tableRef is a BASE_TABLE node found in a serialised tree.
type tableRef struct {
	catalog, schema, table string
	loc                    int
	alias                  bool
}

// columnLoc is a COLUMN_REF node with three or more name parts ([db.]sch.t.col in
// Snowflake) found in a serialised tree: its location and its number of parts.
type columnLoc struct{ loc, n int }

// treeRefs is what collectRefs finds in one serialised statement.
type treeRefs struct {
	tables  []tableRef
	columns []columnLoc
}

// collectRefs walks a serialised statement and returns its base-table references that
// are not names of common table expressions in scope, and its column references
// qualified with more than a table. It also refuses table functions outside
// allowedTableFunctions.
func collectRefs(node any, scope []map[string]bool, out *treeRefs) error {
	switch n := node.(type) {
	case map[string]any:
		if cm, ok := n["cte_map"].(map[string]any); ok {
			if list, ok := cm["map"].([]any); ok && len(list) > 0 {
				names := map[string]bool{}
				for _, e := range list {
					if m, ok := e.(map[string]any); ok {
						if k, ok := m["key"].(string); ok {
							names[strings.ToLower(k)] = true
						}
					}
				}
				scope = append(scope[:len(scope):len(scope)], names)
			}
		}
		switch n["type"] {
		case "SHOW_REF":
			// (SHOW ALL TABLES), (DESCRIBE ...), (SUMMARIZE ...) read DuckDB's catalog.
			return sferr.Compilation("000002", "0A000", "Unsupported feature 'SHOW, DESCRIBE or SUMMARIZE in a query'.")
		case "TABLE_FUNCTION":
			if f, ok := n["function"].(map[string]any); ok {
				name, _ := f["function_name"].(string)
				if !allowedTableFunctions[strings.ToLower(name)] {
					return sferr.Compilation("002140", "42601", "Unknown function "+strings.ToUpper(name))
				}
			}
		case "COLUMN_REF":
			if names, ok := n["column_names"].([]any); ok && len(names) >= 3 {
				loc, _ := n["query_location"].(float64)
				out.columns = append(out.columns, columnLoc{loc: int(loc), n: len(names)})
			}
			return nil
		case "BASE_TABLE":
			r := tableRef{}
			r.catalog, _ = n["catalog_name"].(string)
			r.schema, _ = n["schema_name"].(string)
			r.table, _ = n["table_name"].(string)
			a, _ := n["alias"].(string)
			r.alias = a != ""
			loc, _ := n["query_location"].(float64)
			r.loc = int(loc)
			if n["at_clause"] != nil {
				return sferr.Compilation("000002", "0A000", "Unsupported feature 'AT | BEFORE'.")
			}
			if r.catalog == "" && r.schema == "" {
				for _, s := range scope {
					if s[strings.ToLower(r.table)] {
						return nil
					}
				}
			}
			out.tables = append(out.tables, r)
			return nil
		}
		for k, v := range n {
			if k == "cte_map" {
				// Walk the bodies in the scope that includes their own names.
				if err := collectRefs(v, scope, out); err != nil {
					return err
				}
				continue
			}
			if err := collectRefs(v, scope, out); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range n {
			if err := collectRefs(v, scope, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseTree checks the json_serialize_sql answer: a parser error becomes a
// parseError at the probe offset; anything but one statement is refused.
func parseTree(tree map[string]any) (any, error) {
	if e, _ := tree["error"].(bool); e {
		typ, _ := tree["error_type"].(string)
		msg, _ := tree["error_message"].(string)
		if typ == "parser" {
			off := -1
			if ps, ok := tree["position"].(string); ok {
				if n, err := strconv.Atoi(ps); err == nil {
					off = n
				}
			}
			return nil, &parseError{err: &duckdb.Error{Type: duckdb.ErrorTypeParser, Msg: "Parser Error: " + msg}, offset: off}
		}
		return nil, errNotQuery
	}
	stmts, _ := tree["statements"].([]any)
	if len(stmts) != 1 {
		return nil, errNotQuery
	}
	return stmts[0], nil
}

// probeRefs serialises p and returns the table references it holds, located in the
// rewritten statement. privs are the privileges each needs.
func (s *Stmt) probeRefs(ctx context.Context, conn *duckdb.Conn, p *probe, privs ...string) error {
	text := p.b.String()
	found, ok := refCache.get(text)
	if !ok {
		tree, err := serialize(ctx, conn, text)
		if err != nil {
			return err
		}
		root, err := parseTree(tree)
		if err != nil {
			var pe *parseError
			if asParse(err, &pe) && pe.offset >= 0 {
				if off, ok := p.source(pe.offset); ok {
					pe.offset = off
				} else {
					pe.offset = -1
				}
			}
			return err
		}
		if err := collectRefs(root, nil, &found); err != nil {
			return err
		}
		refCache.put(text, found)
	}
	for _, f := range found.tables {
		off, ok := p.source(f.loc)
		if !ok {
			return sferr.Compilation("000002", "0A000", "Unsupported feature 'table reference in this position'.")
		}
		r, err := s.refAt(off)
		if err != nil {
			return err
		}
		r.Privs = privs
		r.alias = f.alias
		s.Refs = append(s.Refs, r)
	}
	for _, f := range found.columns {
		// A reference that does not start at a source token came from firn's own
		// rewriting; DuckDB binds it as it is.
		if off, ok := p.source(f.loc); ok {
			if c, ok := s.columnAt(off, f.n); ok {
				s.cols = append(s.cols, c)
			}
		}
	}
	return nil
}

func asParse(err error, pe **parseError) bool {
	p, ok := err.(*parseError)
	if ok {
		*pe = p
	}
	return ok
}

// tokenIndexAt returns the index of the source token whose rewritten text starts at
// offset off, or -1.
func (s *Stmt) tokenIndexAt(off int) int {
	for _, sp := range s.rw.spans {
		if sp.out == off {
			return s.tokIndex(sp.tok)
		}
		if sp.out > off {
			break
		}
	}
	return -1
}

// tokIndex finds t among the statement's source tokens.
func (s *Stmt) tokIndex(t fsql.Token) int {
	lo, hi := 0, len(s.toks)
	for lo < hi {
		m := (lo + hi) / 2
		if s.toks[m].Offset < t.Offset {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for ; lo < len(s.toks) && s.toks[lo].Offset == t.Offset; lo++ {
		if s.toks[lo].Kind == t.Kind && s.toks[lo].Text == t.Text {
			return lo
		}
	}
	return -1
}

// outOffset returns the rewritten offset of source token i, or -1.
func (s *Stmt) outOffset(i int) int {
	if i < 0 || i >= len(s.toks) {
		return -1
	}
	t := s.toks[i]
	for _, sp := range s.rw.spans {
		if sp.tok.Offset == t.Offset && sp.tok.Kind == t.Kind && sp.tok.Text == t.Text {
			return sp.out
		}
	}
	return -1
}

// refAt reads the object name whose first part starts at rewritten offset off.
func (s *Stmt) refAt(off int) (*Ref, error) {
	i := s.tokenIndexAt(off)
	if i < 0 {
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'table reference in this position'.")
	}
	if t := s.toks[i]; t.Kind == fsql.TokString || t.Kind == fsql.TokDollarString {
		// DuckDB reads a string in FROM as a file to scan; Snowflake has no such thing.
		return nil, sferr.DoesNotExist("Object", t.Value)
	}
	r, _, err := s.nameAt(i)
	return r, err
}

// nameAt reads an object name (1 to 3 dotted parts) at source token i and returns it
// with the index of the token after it.
func (s *Stmt) nameAt(i int) (*Ref, int, error) {
	r := &Ref{}
	j := i
	for {
		t := s.toks[j]
		switch t.Kind {
		case fsql.TokWord:
			r.Parts = append(r.Parts, fsql.Ident{Name: t.Value})
		case fsql.TokQuotedIdent:
			if t.Value == "" {
				return nil, 0, sferr.Syntax(t.Line, t.Column, t.Text)
			}
			r.Parts = append(r.Parts, fsql.Ident{Name: t.Value, Quoted: true})
		default:
			return nil, 0, syntaxAt(t)
		}
		j++
		if !s.toks[j].IsOp(".") || len(r.Parts) == 3 {
			break
		}
		j++
	}
	r.start = s.outOffset(i)
	last := s.toks[j-1]
	if o := s.outOffset(j - 1); o >= 0 {
		r.end = o + len(last.Text)
	}
	if r.start < 0 || r.end <= r.start {
		return nil, 0, sferr.Compilation("000002", "0A000", "Unsupported feature 'table reference in this position'.")
	}
	return r, j, nil
}

func syntaxAt(t fsql.Token) error {
	if t.Kind == fsql.TokEOF {
		return sferr.Syntax(t.Line, t.Column, "<EOF>")
	}
	return sferr.Syntax(t.Line, t.Column, t.Text)
}

// substitute returns the rewritten text between from and to with every resolved
// reference replaced by its internal form. References without an alias get their
// written name as alias, so that qualified column references keep working; column
// references qualified with schema and table lose the qualifiers before the table
// (qualified.go).
func (s *Stmt) substitute(from, to int) string {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	for _, r := range s.Refs {
		if r.start >= from && r.end <= to {
			text := r.Internal
			if !r.alias && !r.noAlias() {
				text += " AS " + quoteDuck(r.Parts[len(r.Parts)-1].Name)
			}
			edits = append(edits, edit{r.start, r.end, text})
		}
	}
	for _, c := range s.cols {
		if c.start >= from && c.cut <= to {
			if _, err := s.qualifiedTable(c); err == nil {
				edits = append(edits, edit{c.start, c.cut, ""})
			}
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	pos := from
	for _, e := range edits {
		if e.start < pos {
			continue
		}
		b.WriteString(s.rw.text[pos:e.start])
		b.WriteString(e.text)
		pos = e.end
	}
	b.WriteString(s.rw.text[pos:to])
	return b.String()
}

// noAlias reports whether the reference's position takes no alias.
func (r *Ref) noAlias() bool { return r.Target && len(r.Privs) == 1 && r.Privs[0] == "TRUNCATE" }

func sortRefs(refs []*Ref) {
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && refs[j].start < refs[j-1].start; j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
		}
	}
}

// quoteDuck quotes a DuckDB identifier.
func quoteDuck(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), `"`, `""`) + `"`
}

// QuoteIdent quotes a DuckDB identifier; exported for building internal names.
func QuoteIdent(s string) string { return quoteDuck(s) }

// refCache remembers the table references DuckDB's parser found in probe texts, so
// that a statement run again is not parsed twice per execution. The references of a
// text depend on nothing else.
var refCache = &probeCache{m: map[string]treeRefs{}}

// maxProbeCache bounds the cache's entries; maxProbeText the texts it keeps.
const (
	maxProbeCache = 4096
	maxProbeText  = 64 << 10
)

type probeCache struct {
	mu sync.Mutex
	m  map[string]treeRefs
}

func (c *probeCache) get(text string) (treeRefs, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[text]
	return r, ok
}

func (c *probeCache) put(text string, refs treeRefs) {
	if len(text) > maxProbeText {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxProbeCache {
		// Drop an arbitrary half; map iteration order is random.
		n := 0
		for k := range c.m {
			delete(c.m, k)
			if n++; n >= maxProbeCache/2 {
				break
			}
		}
	}
	c.m[text] = refs
}
