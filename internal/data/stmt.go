package data

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/sferr"
	fsql "github.com/firn/firn/internal/sql"
)

// Kind is the kind of a data statement.
type Kind int

// Kinds of data statements.
const (
	KindQuery Kind = iota // SELECT, WITH, VALUES
	KindInsert
	KindUpdate
	KindDelete
	KindMerge
	KindTruncate
	KindCreateTable
	KindCreateView
	KindDropTable
	KindDropView
	KindAlterTable
	KindAlterView
)

// Stmt is an analysed data statement: what it is, the objects it names and, for DDL,
// its parsed parts. Resolve every Ref (set Internal) before running it.
type Stmt struct {
	Kind Kind
	// Refs are the existing tables and views the statement reads or writes.
	Refs []*Ref
	// Overwrite is INSERT OVERWRITE.
	Overwrite bool
	// MergeActions are the actions of a MERGE's WHEN clauses (INSERT, UPDATE, DELETE).
	MergeActions []string

	// DDL: the object created, dropped or altered, and its options.
	Name        *Ref
	OrReplace   bool
	IfNotExists bool
	IfExists    bool
	TableType   string // "", TRANSIENT, TEMPORARY
	Secure      bool
	Comment     *string
	Columns     []ColumnDef
	// ViewColumns are the column names of CREATE VIEW v (a, b).
	ViewColumns []string
	// Like is the source of CREATE TABLE ... LIKE.
	Like *Ref
	// HasQuery marks CREATE TABLE|VIEW ... AS <query>; Text is the original SQL.
	HasQuery bool
	Text     string
	// Alter is the ALTER TABLE|VIEW action.
	Alter *AlterAction

	c                  *Context
	toks               []fsql.Token
	rw                 *rewritten
	queryFrom, queryTo int // the AS query of CREATE, in rewritten text
	now                time.Time
	insertCols         bool
	binds              []Bind
	// cols are the column references qualified with schema and table
	// ([db.]sch.t.col); see qualified.go.
	cols []qualColumn
}

// ColumnDef is a column of CREATE TABLE or ALTER TABLE ADD COLUMN.
type ColumnDef struct {
	Name       string
	Type       SnowType
	NotNull    bool
	Default    string // Snowflake text of the DEFAULT expression, "" if none
	DuckDef    string // DuckDB DEFAULT expression
	PrimaryKey bool
	Unique     bool
	Comment    string
}

// AlterAction is one ALTER TABLE | VIEW action.
type AlterAction struct {
	Op       string // RENAME, ADD COLUMN, DROP COLUMN, RENAME COLUMN, SET COMMENT, UNSET COMMENT, SET SECURE, UNSET SECURE
	RenameTo *Ref
	Column   ColumnDef
	Columns  []string // DROP COLUMN names
	From, To string   // RENAME COLUMN
	Comment  string
}

// dataVerbs are the statements Analyze handles beyond queries.
var dataVerbs = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "TRUNCATE": true,
	"CREATE": true, "DROP": true, "ALTER": true,
}

// Analyze parses a data statement, rewrites it to DuckDB SQL and finds the tables and
// views it references from DuckDB's own parse tree. Errors are *sferr.Error values.
func (e *Engine) Analyze(ctx context.Context, c *Context, text string, binds []Bind) (st *Stmt, err error) {
	if c == nil {
		c = &Context{}
	}
	toks, err := fsql.Tokenize(text)
	if err != nil {
		return nil, err
	}
	first := toks[0]
	if !(first.Kind == fsql.TokWord && dataVerbs[first.Value]) {
		if err := checkStatement(toks); err != nil {
			return nil, err
		}
	} else if err := singleStatement(toks); err != nil {
		return nil, err
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	// RESULT_SCAN, LAST_QUERY_ID, pipes, system views and function rewrites (see
	// resultscan.go) become DuckDB SQL before the rewriter runs.
	toks, x, err := e.expandSources(ctx, c, toks)
	if err != nil {
		return nil, err
	}
	rw, err := e.rewrite(c, toks, binds, now)
	if err != nil {
		return nil, err
	}
	x.fix(rw)
	st = &Stmt{c: c, toks: toks, rw: rw, now: now, binds: binds, Text: text}
	err = e.withConn(ctx, func(conn *duckdb.Conn) error { return st.analyze(ctx, conn) })
	if err != nil {
		return nil, e.mapError(ctx, rw, err)
	}
	return st, nil
}

// singleStatement refuses a second statement after a semicolon.
func singleStatement(toks []fsql.Token) error {
	for i, t := range toks {
		if t.IsOp(";") && toks[i+1].Kind != fsql.TokEOF {
			return sferr.Compilation("000008", "0A000", "Actual statement count 2 did not match the desired statement count 1.")
		}
	}
	return nil
}

// withConn runs fn on one raw DuckDB connection, recovering panics.
func (e *Engine) withConn(ctx context.Context, fn func(*duckdb.Conn) error) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) (rerr error) {
		defer func() {
			if p := recover(); p != nil {
				ie := sferr.Internal()
				ie.Cause = fmt.Errorf("data: panic in duckdb: %v", p)
				rerr = ie
			}
		}()
		d, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("data: unexpected driver connection %T", dc)
		}
		return fn(d)
	})
}

// cursor walks source tokens.
type cursor struct {
	s *Stmt
	i int
}

func (c *cursor) peek() fsql.Token { return c.s.toks[c.i] }
func (c *cursor) peekN(n int) fsql.Token {
	if c.i+n >= len(c.s.toks) {
		return c.s.toks[len(c.s.toks)-1]
	}
	return c.s.toks[c.i+n]
}
func (c *cursor) next() fsql.Token {
	t := c.s.toks[c.i]
	if t.Kind != fsql.TokEOF {
		c.i++
	}
	return t
}
func (c *cursor) accept(words ...string) bool {
	for k, w := range words {
		if !c.peekN(k).Is(w) {
			return false
		}
	}
	c.i += len(words)
	return true
}
func (c *cursor) acceptOp(op string) bool {
	if c.peek().IsOp(op) {
		c.i++
		return true
	}
	return false
}
func (c *cursor) expect(words ...string) error {
	for _, w := range words {
		if !c.peek().Is(w) {
			return syntaxAt(c.peek())
		}
		c.i++
	}
	return nil
}
func (c *cursor) expectOp(op string) error {
	if !c.acceptOp(op) {
		return syntaxAt(c.peek())
	}
	return nil
}
func (c *cursor) atEnd() bool {
	t := c.peek()
	return t.Kind == fsql.TokEOF || t.IsOp(";") && c.peekN(1).Kind == fsql.TokEOF
}

// name reads an object name.
func (c *cursor) name() (*Ref, error) {
	r, j, err := c.s.nameAt(c.i)
	if err != nil {
		return nil, err
	}
	c.i = j
	return r, nil
}

// ident reads one identifier, folded.
func (c *cursor) ident() (string, error) {
	t := c.peek()
	switch t.Kind {
	case fsql.TokWord:
		c.i++
		return t.Value, nil
	case fsql.TokQuotedIdent:
		if t.Value == "" {
			return "", syntaxAt(t)
		}
		c.i++
		return t.Value, nil
	}
	return "", syntaxAt(t)
}

// skipAlias skips an optional [AS] alias after a DML target, reporting whether one
// was there. stop are the keywords that end the alias position.
func (c *cursor) skipAlias(stop ...string) bool {
	if c.accept("AS") {
		_, _ = c.ident()
		return true
	}
	t := c.peek()
	if t.Kind == fsql.TokQuotedIdent {
		c.i++
		return true
	}
	if t.Kind == fsql.TokWord {
		for _, w := range stop {
			if t.Value == w {
				return false
			}
		}
		c.i++
		return true
	}
	return false
}

// scanTo advances to the first of the words at parenthesis depth 0 (or the end) and
// returns the index it stopped at.
func (c *cursor) scanTo(words ...string) int {
	depth := 0
	for !c.atEnd() {
		t := c.peek()
		switch {
		case t.IsOp("(") || t.IsOp("["):
			depth++
		case t.IsOp(")") || t.IsOp("]"):
			depth--
		case depth == 0 && t.Kind == fsql.TokWord:
			for _, w := range words {
				if t.Value == w {
					return c.i
				}
			}
		}
		c.i++
	}
	return c.i
}

// out returns the rewritten offset where source token i starts (the end of the text
// for the end of the statement).
func (s *Stmt) out(i int) int {
	if i >= len(s.toks) || s.toks[i].Kind == fsql.TokEOF || s.toks[i].IsOp(";") && s.toks[i+1].Kind == fsql.TokEOF {
		return len(s.rw.text)
	}
	if o := s.outOffset(i); o >= 0 {
		return o
	}
	return len(s.rw.text)
}

func unsupportedFeature(what string) error {
	return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature '%s'.", what))
}

// analyze classifies the statement and collects its references.
func (s *Stmt) analyze(ctx context.Context, conn *duckdb.Conn) error {
	c := &cursor{s: s}
	first := c.peek()
	if !(first.Kind == fsql.TokWord && dataVerbs[first.Value]) {
		s.Kind = KindQuery
		p := &probe{}
		p.copy(s.rw.text, 0, len(s.rw.text))
		return s.probeRefs(ctx, conn, p, "SELECT")
	}
	c.next()
	switch first.Value {
	case "INSERT":
		return s.analyzeInsert(ctx, conn, c)
	case "UPDATE":
		return s.analyzeUpdate(ctx, conn, c)
	case "DELETE":
		return s.analyzeDelete(ctx, conn, c)
	case "MERGE":
		return s.analyzeMerge(ctx, conn, c)
	case "TRUNCATE":
		s.Kind = KindTruncate
		c.accept("TABLE")
		if c.accept("IF", "EXISTS") {
			s.IfExists = true
		}
		r, err := c.name()
		if err != nil {
			return err
		}
		r.Target, r.Privs = true, []string{"TRUNCATE"}
		s.Refs = append(s.Refs, r)
		if !c.atEnd() {
			return syntaxAt(c.peek())
		}
		return nil
	case "CREATE":
		return s.analyzeCreate(ctx, conn, c)
	case "DROP":
		return s.analyzeDrop(c)
	case "ALTER":
		return s.analyzeAlter(c)
	}
	return unsupportedFeature(first.Value)
}

func (s *Stmt) analyzeInsert(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	s.Kind = KindInsert
	if c.accept("OVERWRITE") {
		s.Overwrite = true
	}
	if c.peek().Is("ALL") || c.peek().Is("FIRST") {
		return unsupportedFeature("INSERT " + c.peek().Value)
	}
	if err := c.expect("INTO"); err != nil {
		return err
	}
	r, err := c.name()
	if err != nil {
		return err
	}
	r.Target, r.Privs = true, []string{"INSERT"}
	if s.Overwrite {
		r.Privs = []string{"INSERT", "DELETE"}
	}
	s.Refs = append(s.Refs, r)
	if c.peek().Is("AS") {
		return syntaxAt(c.peek())
	}
	if c.peek().IsOp("(") && !(c.peekN(1).Is("SELECT") || c.peekN(1).Is("WITH")) {
		// Column list.
		c.next()
		for {
			if _, err := c.ident(); err != nil {
				return err
			}
			if c.acceptOp(")") {
				break
			}
			if err := c.expectOp(","); err != nil {
				return err
			}
		}
		s.insertCols = true
	}
	start := s.out(c.i)
	t := c.peek()
	p := &probe{}
	switch {
	case t.Is("VALUES"):
		p.lit("SELECT * FROM (")
		p.copy(s.rw.text, start, len(s.rw.text))
		p.lit("\n)")
	case t.Is("SELECT") || t.Is("WITH") || t.IsOp("("):
		p.copy(s.rw.text, start, len(s.rw.text))
	default:
		return syntaxAt(t)
	}
	if hasWord(s.toks[c.i:], "RETURNING") {
		return unsupportedFeature("RETURNING")
	}
	return s.probeRefs(ctx, conn, p, "SELECT")
}

// hasWord reports whether a keyword appears among toks.
func hasWord(toks []fsql.Token, w string) bool {
	for _, t := range toks {
		if t.Is(w) {
			return true
		}
	}
	return false
}

func (s *Stmt) analyzeUpdate(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	s.Kind = KindUpdate
	r, err := c.name()
	if err != nil {
		return err
	}
	r.Target, r.Privs = true, []string{"UPDATE"}
	s.Refs = append(s.Refs, r)
	r.alias = c.skipAlias("SET")
	if err := c.expect("SET"); err != nil {
		return err
	}
	p := &probe{}
	p.lit("SELECT ")
	from := s.out(c.i)
	at := c.scanTo("FROM", "WHERE", "RETURNING")
	p.copy(s.rw.text, from, s.out(at))
	if c.peek().Is("FROM") {
		c.next()
		p.lit("\nFROM ")
		from = s.out(c.i)
		at = c.scanTo("WHERE", "RETURNING")
		p.copy(s.rw.text, from, s.out(at))
	}
	if c.peek().Is("WHERE") {
		c.next()
		p.lit("\nWHERE ")
		from = s.out(c.i)
		at = c.scanTo("RETURNING")
		p.copy(s.rw.text, from, s.out(at))
	}
	if !c.atEnd() {
		return unsupportedFeature(c.peek().Value)
	}
	return s.probeRefs(ctx, conn, p, "SELECT")
}

func (s *Stmt) analyzeDelete(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	s.Kind = KindDelete
	if err := c.expect("FROM"); err != nil {
		return err
	}
	r, err := c.name()
	if err != nil {
		return err
	}
	r.Target, r.Privs = true, []string{"DELETE"}
	s.Refs = append(s.Refs, r)
	r.alias = c.skipAlias("USING", "WHERE")
	p := &probe{}
	p.lit("SELECT 1")
	if c.accept("USING") {
		p.lit("\nFROM ")
		from := s.out(c.i)
		at := c.scanTo("WHERE", "RETURNING")
		p.copy(s.rw.text, from, s.out(at))
	}
	if c.accept("WHERE") {
		p.lit("\nWHERE ")
		from := s.out(c.i)
		at := c.scanTo("RETURNING")
		p.copy(s.rw.text, from, s.out(at))
	}
	if !c.atEnd() {
		return unsupportedFeature(c.peek().Value)
	}
	return s.probeRefs(ctx, conn, p, "SELECT")
}

func (s *Stmt) analyzeMerge(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	s.Kind = KindMerge
	if err := c.expect("INTO"); err != nil {
		return err
	}
	r, err := c.name()
	if err != nil {
		return err
	}
	r.Target = true
	s.Refs = append(s.Refs, r)
	r.alias = c.skipAlias("USING")
	if err := c.expect("USING"); err != nil {
		return err
	}
	p := &probe{}
	p.lit("SELECT 1 FROM ")
	from := s.out(c.i)
	at := c.scanTo("ON")
	p.copy(s.rw.text, from, s.out(at))
	if err := c.expect("ON"); err != nil {
		return err
	}
	p.lit("\nWHERE ")
	from = s.out(c.i)
	at = c.scanTo("WHEN")
	p.copy(s.rw.text, from, s.out(at))
	if !c.peek().Is("WHEN") {
		return syntaxAt(c.peek())
	}
	seen := map[string]bool{}
	for i := c.i; i < len(s.toks); i++ {
		t := s.toks[i]
		// DuckDB also reads "(FROM t)" as a subquery.
		if t.Is("SELECT") || t.Is("FROM") || t.Is("TABLE") || t.Is("VALUES") && !s.toks[i-1].Is("INSERT") && !s.toks[i-1].IsOp(")") {
			return unsupportedFeature("subquery in a MERGE clause")
		}
		if t.Is("RETURNING") {
			return unsupportedFeature("RETURNING")
		}
		if t.Is("THEN") && i+1 < len(s.toks) {
			a := s.toks[i+1].Value
			switch a {
			case "INSERT", "UPDATE", "DELETE":
				if !seen[a] {
					seen[a] = true
					s.MergeActions = append(s.MergeActions, a)
				}
			}
		}
	}
	for _, a := range []string{"INSERT", "UPDATE", "DELETE"} {
		if seen[a] {
			r.Privs = append(r.Privs, a)
		}
	}
	if len(r.Privs) == 0 {
		return syntaxAt(c.peek())
	}
	return s.probeRefs(ctx, conn, p, "SELECT")
}

// analyzeCreate parses CREATE [OR REPLACE] [TRANSIENT|TEMPORARY] TABLE and CREATE
// [OR REPLACE] [SECURE] VIEW.
func (s *Stmt) analyzeCreate(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	if c.accept("OR", "REPLACE") {
		s.OrReplace = true
	}
	for {
		t := c.peek()
		switch {
		case t.Is("TRANSIENT"):
			s.TableType = "TRANSIENT"
		case t.Is("TEMPORARY") || t.Is("TEMP") || t.Is("VOLATILE"):
			s.TableType = "TEMPORARY"
		case t.Is("LOCAL") || t.Is("GLOBAL"):
		case t.Is("SECURE"):
			s.Secure = true
		case t.Is("RECURSIVE"):
			return unsupportedFeature("CREATE RECURSIVE VIEW")
		default:
			goto kind
		}
		c.next()
	}
kind:
	switch {
	case c.accept("TABLE"):
		s.Kind = KindCreateTable
		if s.Secure {
			return syntaxAt(s.toks[c.i-1])
		}
	case c.accept("VIEW"):
		s.Kind = KindCreateView
		if s.TableType == "TRANSIENT" {
			return syntaxAt(s.toks[c.i-1])
		}
		if s.TableType == "TEMPORARY" {
			return unsupportedFeature("CREATE TEMPORARY VIEW")
		}
	default:
		t := c.peek()
		if t.Kind == fsql.TokWord {
			return unsupportedFeature("CREATE " + t.Value)
		}
		return syntaxAt(t)
	}
	if c.accept("IF", "NOT", "EXISTS") {
		s.IfNotExists = true
	}
	if s.OrReplace && s.IfNotExists {
		return sferr.Compilation("002035", "42601", "OR REPLACE and IF NOT EXISTS are incompatible.")
	}
	name, err := c.name()
	if err != nil {
		return err
	}
	s.Name = name
	if s.Kind == KindCreateView {
		return s.analyzeCreateView(ctx, conn, c)
	}
	switch {
	case c.accept("LIKE"):
		like, err := c.name()
		if err != nil {
			return err
		}
		like.Privs = []string{"SELECT"}
		s.Like = like
		s.Refs = append(s.Refs, like)
	case c.peek().Is("CLONE"):
		return unsupportedFeature("CREATE TABLE ... CLONE")
	case c.peek().IsOp("("):
		c.next()
		if err := s.columnDefs(c); err != nil {
			return err
		}
	}
	if err := s.tableProps(c); err != nil {
		return err
	}
	if c.accept("AS") {
		return s.createQuery(ctx, conn, c)
	}
	if !c.atEnd() {
		return syntaxAt(c.peek())
	}
	if len(s.Columns) == 0 && s.Like == nil {
		return syntaxAt(c.peek())
	}
	return nil
}

// createQuery records the AS query of CREATE TABLE|VIEW and its references.
func (s *Stmt) createQuery(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	t := c.peek()
	if !(t.Is("SELECT") || t.Is("WITH") || t.Is("VALUES") || t.IsOp("(")) {
		return syntaxAt(t)
	}
	s.HasQuery = true
	s.queryFrom = s.out(c.i)
	s.queryTo = len(s.rw.text)
	p := &probe{}
	p.copy(s.rw.text, s.queryFrom, s.queryTo)
	return s.probeRefs(ctx, conn, p, "SELECT")
}

func (s *Stmt) analyzeCreateView(ctx context.Context, conn *duckdb.Conn, c *cursor) error {
	if c.acceptOp("(") {
		for {
			n, err := c.ident()
			if err != nil {
				return err
			}
			s.ViewColumns = append(s.ViewColumns, n)
			if c.accept("COMMENT") {
				if c.peek().Kind != fsql.TokString {
					return syntaxAt(c.peek())
				}
				c.next()
			}
			if c.acceptOp(")") {
				break
			}
			if err := c.expectOp(","); err != nil {
				return err
			}
		}
	}
	if err := s.tableProps(c); err != nil {
		return err
	}
	if err := c.expect("AS"); err != nil {
		return err
	}
	return s.createQuery(ctx, conn, c)
}

// tableProps reads the properties of CREATE TABLE|VIEW that firn keeps or ignores.
func (s *Stmt) tableProps(c *cursor) error {
	for {
		t := c.peek()
		switch {
		case t.Is("COMMENT"):
			c.next()
			c.acceptOp("=")
			v := c.peek()
			if v.Kind != fsql.TokString && v.Kind != fsql.TokDollarString {
				return syntaxAt(v)
			}
			c.next()
			cm := v.Value
			s.Comment = &cm
		case t.Is("COPY") && c.peekN(1).Is("GRANTS"):
			c.i += 2
		case t.Is("CLUSTER") && c.peekN(1).Is("BY"):
			c.i += 2
			if !c.peek().IsOp("(") {
				return syntaxAt(c.peek())
			}
			c.skipParens()
		case t.Is("DATA_RETENTION_TIME_IN_DAYS") || t.Is("MAX_DATA_EXTENSION_TIME_IN_DAYS") || t.Is("CHANGE_TRACKING") ||
			t.Is("ENABLE_SCHEMA_EVOLUTION") || t.Is("DEFAULT_DDL_COLLATION"):
			c.next()
			if err := c.expectOp("="); err != nil {
				return err
			}
			c.next()
		default:
			return nil
		}
	}
}

// skipParens skips a balanced parenthesised group starting at the cursor.
func (c *cursor) skipParens() {
	depth := 0
	for !c.atEnd() {
		t := c.next()
		if t.IsOp("(") {
			depth++
		} else if t.IsOp(")") {
			depth--
			if depth == 0 {
				return
			}
		}
	}
}

// columnDefs reads "name type [constraints], ... [, table constraint])" after "(".
func (s *Stmt) columnDefs(c *cursor) error {
	for {
		t := c.peek()
		if t.Is("PRIMARY") || t.Is("UNIQUE") || t.Is("CONSTRAINT") || t.Is("FOREIGN") {
			if err := s.tableConstraint(c); err != nil {
				return err
			}
		} else {
			col, err := s.columnDef(c)
			if err != nil {
				return err
			}
			for _, o := range s.Columns {
				if o.Name == col.Name {
					return sferr.Compilation("002025", "42S21", fmt.Sprintf("duplicate column name '%s'", col.Name))
				}
			}
			s.Columns = append(s.Columns, col)
		}
		if c.acceptOp(")") {
			return nil
		}
		if err := c.expectOp(","); err != nil {
			return err
		}
	}
}

// tableConstraint reads [CONSTRAINT n] PRIMARY KEY (cols) | UNIQUE (cols) | FOREIGN
// KEY (cols) REFERENCES t [(cols)]. Keys are recorded; Snowflake does not enforce them
// (NOT NULL aside), and neither does firn.
func (s *Stmt) tableConstraint(c *cursor) error {
	if c.accept("CONSTRAINT") {
		if _, err := c.ident(); err != nil {
			return err
		}
	}
	var mark func(*ColumnDef)
	switch {
	case c.accept("PRIMARY", "KEY"):
		mark = func(d *ColumnDef) { d.PrimaryKey = true }
	case c.accept("UNIQUE"):
		mark = func(d *ColumnDef) { d.Unique = true }
	case c.accept("FOREIGN", "KEY"):
		mark = func(*ColumnDef) {}
	default:
		return syntaxAt(c.peek())
	}
	if err := c.expectOp("("); err != nil {
		return err
	}
	for {
		n, err := c.ident()
		if err != nil {
			return err
		}
		found := false
		for i := range s.Columns {
			if s.Columns[i].Name == n {
				mark(&s.Columns[i])
				found = true
			}
		}
		if !found {
			return sferr.Compilation("000904", "42000", fmt.Sprintf("invalid identifier '%s'", n))
		}
		if c.acceptOp(")") {
			break
		}
		if err := c.expectOp(","); err != nil {
			return err
		}
	}
	if c.accept("REFERENCES") {
		if _, err := c.name(); err != nil {
			return err
		}
		if c.peek().IsOp("(") {
			c.skipParens()
		}
	}
	return nil
}

// columnDef reads one column definition.
func (s *Stmt) columnDef(c *cursor) (ColumnDef, error) {
	var d ColumnDef
	name, err := c.ident()
	if err != nil {
		return d, err
	}
	d.Name = name
	typ, err := s.typeName(c)
	if err != nil {
		return d, err
	}
	d.Type = typ
	for {
		t := c.peek()
		switch {
		case c.accept("NOT", "NULL"):
			d.NotNull = true
		case t.Is("NULL"):
			c.next()
		case c.accept("PRIMARY", "KEY"):
			d.PrimaryKey, d.NotNull = true, true
		case t.Is("UNIQUE"):
			c.next()
			d.Unique = true
		case t.Is("CONSTRAINT"):
			c.next()
			if _, err := c.ident(); err != nil {
				return d, err
			}
		case t.Is("REFERENCES"):
			c.next()
			if _, err := c.name(); err != nil {
				return d, err
			}
			if c.peek().IsOp("(") {
				c.skipParens()
			}
		case t.Is("COMMENT"):
			c.next()
			v := c.next()
			if v.Kind != fsql.TokString && v.Kind != fsql.TokDollarString {
				return d, syntaxAt(v)
			}
			d.Comment = v.Value
		case t.Is("COLLATE"):
			return d, unsupportedFeature("COLLATE")
		case t.Is("AUTOINCREMENT") || t.Is("IDENTITY"):
			return d, unsupportedFeature(t.Value)
		case t.Is("DEFAULT"):
			c.next()
			from := c.i
			depth := 0
			for !c.atEnd() {
				u := c.peek()
				if depth == 0 && (u.IsOp(",") || u.IsOp(")") || u.Is("NOT") || u.Is("NULL") || u.Is("PRIMARY") ||
					u.Is("UNIQUE") || u.Is("COMMENT") || u.Is("CONSTRAINT") || u.Is("REFERENCES")) {
					break
				}
				if u.IsOp("(") {
					depth++
				} else if u.IsOp(")") {
					depth--
				}
				c.next()
			}
			if from == c.i {
				return d, syntaxAt(c.peek())
			}
			if hasWord(s.toks[from:c.i], "SELECT") || hasWord(s.toks[from:c.i], "FROM") || hasWord(s.toks[from:c.i], "TABLE") {
				return d, unsupportedFeature("subquery in DEFAULT")
			}
			d.Default = s.sourceText(from, c.i)
			d.DuckDef = s.defaultExpr(from, c.i)
		default:
			return d, nil
		}
	}
}

// defaultExpr is the DuckDB form of a DEFAULT expression: the current date and time
// functions stay functions (the rewriter would freeze them), everything else is the
// rewritten text.
func (s *Stmt) defaultExpr(from, to int) string {
	if to == from+1 || to == from+3 && s.toks[from+1].IsOp("(") && s.toks[from+2].IsOp(")") {
		switch s.toks[from].Value {
		case "CURRENT_TIMESTAMP", "SYSDATE", "GETDATE", "LOCALTIMESTAMP", "SYSTIMESTAMP":
			return "current_timestamp"
		case "CURRENT_DATE":
			return "current_date"
		case "CURRENT_TIME", "LOCALTIME":
			return "current_time"
		}
	}
	return s.rw.text[s.out(from):s.out(to)]
}

// typeName reads a Snowflake type with its arguments.
func (s *Stmt) typeName(c *cursor) (SnowType, error) {
	t := c.peek()
	if t.Kind != fsql.TokWord {
		return SnowType{}, syntaxAt(t)
	}
	c.next()
	name := t.Value
	if name == "DOUBLE" && c.accept("PRECISION") {
		name = "DOUBLE PRECISION"
	}
	if (name == "CHARACTER" || name == "CHAR") && c.accept("VARYING") {
		name = "VARCHAR"
	}
	var args []string
	if c.acceptOp("(") {
		for {
			a := c.next()
			if a.Kind != fsql.TokNumber && a.Kind != fsql.TokWord {
				return SnowType{}, syntaxAt(a)
			}
			args = append(args, a.Value)
			if c.acceptOp(")") {
				break
			}
			if err := c.expectOp(","); err != nil {
				return SnowType{}, err
			}
		}
	}
	return ParseType(name, args)
}

// tableOrViewTarget reads what DROP and ALTER have in common: TABLE or VIEW (setting
// the statement kind), [IF EXISTS] and the object name.
func (s *Stmt) tableOrViewTarget(c *cursor, verb string, tableKind, viewKind Kind) error {
	switch {
	case c.accept("TABLE"):
		s.Kind = tableKind
	case c.accept("VIEW"):
		s.Kind = viewKind
	default:
		t := c.peek()
		if t.Kind == fsql.TokWord {
			return unsupportedFeature(verb + " " + t.Value)
		}
		return syntaxAt(t)
	}
	if c.accept("IF", "EXISTS") {
		s.IfExists = true
	}
	r, err := c.name()
	if err != nil {
		return err
	}
	s.Name = r
	return nil
}

func (s *Stmt) analyzeDrop(c *cursor) error {
	if err := s.tableOrViewTarget(c, "DROP", KindDropTable, KindDropView); err != nil {
		return err
	}
	c.accept("CASCADE")
	c.accept("RESTRICT")
	if !c.atEnd() {
		return syntaxAt(c.peek())
	}
	return nil
}

func (s *Stmt) analyzeAlter(c *cursor) error {
	if err := s.tableOrViewTarget(c, "ALTER", KindAlterTable, KindAlterView); err != nil {
		return err
	}
	var err error
	a := &AlterAction{}
	s.Alter = a
	switch {
	case c.accept("RENAME", "TO"):
		a.Op = "RENAME"
		if a.RenameTo, err = c.name(); err != nil {
			return err
		}
	case s.Kind == KindAlterTable && c.accept("RENAME", "COLUMN"):
		a.Op = "RENAME COLUMN"
		if a.From, err = c.ident(); err != nil {
			return err
		}
		if err := c.expect("TO"); err != nil {
			return err
		}
		if a.To, err = c.ident(); err != nil {
			return err
		}
	case s.Kind == KindAlterTable && c.accept("ADD"):
		a.Op = "ADD COLUMN"
		c.accept("COLUMN")
		if c.accept("IF", "NOT", "EXISTS") {
			return unsupportedFeature("ADD COLUMN IF NOT EXISTS")
		}
		if a.Column, err = s.columnDef(c); err != nil {
			return err
		}
	case s.Kind == KindAlterTable && c.accept("DROP"):
		a.Op = "DROP COLUMN"
		c.accept("COLUMN")
		for {
			n, err := c.ident()
			if err != nil {
				return err
			}
			a.Columns = append(a.Columns, n)
			if !c.acceptOp(",") {
				break
			}
		}
	case c.accept("SET", "COMMENT"):
		a.Op = "SET COMMENT"
		c.acceptOp("=")
		v := c.next()
		if v.Kind != fsql.TokString && v.Kind != fsql.TokDollarString {
			return syntaxAt(v)
		}
		a.Comment = v.Value
	case c.accept("UNSET", "COMMENT"):
		a.Op = "UNSET COMMENT"
	case s.Kind == KindAlterView && c.accept("SET", "SECURE"):
		a.Op = "SET SECURE"
	case s.Kind == KindAlterView && c.accept("UNSET", "SECURE"):
		a.Op = "UNSET SECURE"
	default:
		t := c.peek()
		if t.Kind == fsql.TokWord {
			return unsupportedFeature("ALTER TABLE ... " + t.Value)
		}
		return syntaxAt(t)
	}
	if !c.atEnd() {
		return syntaxAt(c.peek())
	}
	return nil
}

// Verb is the statement's QUERY_HISTORY-style type.
func (s *Stmt) Verb() string {
	return strings.ToUpper(s.toks[0].Value)
}

// sourceText is the original text of source tokens [from, to).
func (s *Stmt) sourceText(from, to int) string {
	a, b := s.toks[from].Offset, s.toks[to-1].End()
	if b > len(s.Text) {
		b = len(s.Text)
	}
	if a > b {
		return ""
	}
	return s.Text[a:b]
}
