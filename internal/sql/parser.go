package sql

import (
	"strconv"
	"strings"

	"github.com/firn/firn/internal/sferr"
)

// stmtParser parses a statement whose leading keyword the parser has consumed.
type stmtParser func(p *parser) (Statement, error)

// statements maps a statement's leading keyword to its parser. To add a statement,
// add its keyword here (or to queryVerbs if the data engine runs it).
var statements map[string]stmtParser

// queryVerbs are the leading keywords of statements that parse as *Query.
var queryVerbs = map[string]bool{
	"SELECT": true, "WITH": true, "INSERT": true, "UPDATE": true, "DELETE": true,
	"MERGE": true, "TRUNCATE": true, "BEGIN": true, "START": true, "COMMIT": true,
	"ROLLBACK": true, "CALL": true, "EXPLAIN": true, "VALUES": true, "COPY": true,
	"PUT": true, "GET": true, "LIST": true, "LS": true, "REMOVE": true, "RM": true,
	"UNDROP": true, "EXECUTE": true, "DECLARE": true, "SET": true, "UNSET": true,
	"COMMENT": true,
}

func init() {
	statements = map[string]stmtParser{
		"USE":      parseUse,
		"SHOW":     parseShow,
		"CREATE":   parseCreate,
		"DROP":     parseDrop,
		"ALTER":    parseAlter,
		"DESC":     parseDescribe,
		"DESCRIBE": parseDescribe,
		"GRANT":    parseGrant,
		"REVOKE":   parseRevoke,
	}
}

// Parse parses one statement. Control statements (USE, SHOW, CREATE, ALTER, DROP,
// DESCRIBE, GRANT, REVOKE of control objects) become their node types; the
// statements the data engine runs become *Query without further parsing. Errors
// are *sferr.Error, mostly 001003 syntax errors with Snowflake's line and position.
func Parse(src string) (Statement, error) {
	p := &parser{src: src, lx: Lexer{src: src, line: 1}, semi: -1}
	p.buf = p.arr[:0]
	first := p.peek()
	if first.Kind == TokEOF {
		return nil, sferr.Compilation("000900", "42601", "Empty SQL statement.")
	}
	verb := first
	for i := 1; verb.IsOp("("); i++ {
		verb = p.peekN(i)
	}
	if verb.Kind != TokWord {
		return nil, p.fail(verb)
	}
	if fn := statements[verb.Value]; fn != nil && verb == first {
		p.next()
		st, err := fn(p)
		if err != nil {
			return nil, err
		}
		if q, ok := st.(*Query); ok {
			q.Source = trimStatement(src)
		} else {
			setSource(st, p.source())
		}
		return st, nil
	}
	if !queryVerbs[verb.Value] {
		return nil, p.fail(verb)
	}
	q := &Query{Verb: verb.Value}
	if verb == first {
		q.Block = isBlockStart(first, p.peekN(1))
	}
	q.Source = trimStatement(src)
	return q, nil
}

// isBlockStart reports whether a statement starting with first, second is a Snowflake
// Scripting block rather than BEGIN [TRANSACTION | WORK | NAME].
func isBlockStart(first, second Token) bool {
	if first.Is("DECLARE") {
		return true
	}
	if !first.Is("BEGIN") {
		return false
	}
	switch {
	case second.Kind == TokEOF, second.IsOp(";"), second.Is("TRANSACTION"), second.Is("WORK"), second.Is("NAME"):
		return false
	}
	return second.Kind != tokInvalid
}

// trimStatement trims space and one terminating semicolon.
func trimStatement(s string) string {
	s = trimSpace(s)
	if strings.HasSuffix(s, ";") {
		s = trimSpace(s[:len(s)-1])
	}
	return s
}

func setSource(st Statement, src string) {
	switch n := st.(type) {
	case *Use:
		n.Source = src
	case *Show:
		n.Source = src
	case *Create:
		n.Source = src
	case *Drop:
		n.Source = src
	case *Alter:
		n.Source = src
	case *AlterSession:
		n.Source = src
	case *Describe:
		n.Source = src
	case *Grant:
		n.Source = src
	case *Revoke:
		n.Source = src
	case *Query:
		n.Source = src
	}
}

// tokInvalid marks the position where the lexer failed; p.lexErr holds the error.
const tokInvalid TokenKind = 255

// parser is a recursive-descent parser over a lazily lexed token stream.
type parser struct {
	src    string
	lx     Lexer
	buf    []Token // lookahead; buf[0] is the current token
	arr    [4]Token
	lexErr error
	semi   int // offset of the terminating semicolon, or -1 when there is none
	depth  int // nesting of parenthesised lists
}

// peekN returns the i-th token ahead (0 = current) without consuming it.
func (p *parser) peekN(i int) Token {
	for len(p.buf) <= i {
		if p.lexErr != nil {
			p.buf = append(p.buf, Token{Kind: tokInvalid})
			continue
		}
		t, err := p.lx.Next()
		if err != nil {
			p.lexErr = err
			t = Token{Kind: tokInvalid}
		}
		p.buf = append(p.buf, t)
	}
	return p.buf[i]
}

func (p *parser) peek() Token { return p.peekN(0) }

// next consumes and returns the current token.
func (p *parser) next() Token {
	t := p.peek()
	if t.Kind != TokEOF && t.Kind != tokInvalid {
		p.buf = p.buf[1:]
		if len(p.buf) == 0 {
			p.buf = p.arr[:0] // reuse the backing array
		}
	}
	return t
}

// fail returns the syntax error for an unexpected token t.
func (p *parser) fail(t Token) error {
	if t.Kind == tokInvalid {
		return p.lexErr
	}
	return sferr.Syntax(t.Line, t.Column, t.display())
}

// failHere fails at the current token.
func (p *parser) failHere() error { return p.fail(p.peek()) }

// accept consumes the word kw if it is next.
func (p *parser) accept(kw string) bool {
	if p.peek().Is(kw) {
		p.next()
		return true
	}
	return false
}

// expect consumes the words kws in order or fails at the first that is missing.
func (p *parser) expect(kws ...string) error {
	for _, kw := range kws {
		if !p.accept(kw) {
			return p.failHere()
		}
	}
	return nil
}

// acceptOp consumes the operator op if it is next.
func (p *parser) acceptOp(op string) bool {
	if p.peek().IsOp(op) {
		p.next()
		return true
	}
	return false
}

// atEnd reports whether the statement has ended (end of input or a semicolon).
func (p *parser) atEnd() bool {
	t := p.peek()
	return t.Kind == TokEOF || t.IsOp(";")
}

// end consumes an optional terminating semicolon and requires the end of input.
func (p *parser) end() error {
	p.semi = -1
	if t := p.peek(); t.IsOp(";") {
		p.semi = t.Offset
		p.next()
	}
	if t := p.peek(); t.Kind != TokEOF {
		return p.fail(t)
	}
	return nil
}

// source returns the statement text without surrounding space and semicolon.
func (p *parser) source() string {
	if p.semi >= 0 {
		return trimSpace(p.src[:p.semi])
	}
	return trimSpace(p.src)
}

// kind consumes the longest kind of table at the current token, or fails.
func (p *parser) kind(t *kindTable) (string, error) {
	k, n := t.match(p, 0)
	if n == 0 {
		return "", p.failHere()
	}
	for range n {
		p.next()
	}
	return k, nil
}

// isName reports whether t can start an identifier.
func isName(t Token) bool { return t.Kind == TokWord || t.Kind == TokQuotedIdent }

// ident consumes one identifier.
func (p *parser) ident() (Ident, error) {
	t := p.peek()
	switch t.Kind {
	case TokWord:
		p.next()
		return Ident{Name: t.Value}, nil
	case TokQuotedIdent:
		if t.Value == "" { // zero-length delimited identifier
			return Ident{}, p.fail(t)
		}
		p.next()
		return Ident{Name: t.Value, Quoted: true}, nil
	}
	return Ident{}, p.fail(t)
}

// name consumes a possibly qualified name of up to three parts.
func (p *parser) name() (ObjectName, error) {
	id, err := p.ident()
	if err != nil {
		return ObjectName{}, err
	}
	n := ObjectName{Parts: []Ident{id}}
	for p.peek().IsOp(".") {
		if len(n.Parts) == 3 {
			return ObjectName{}, p.failHere()
		}
		p.next()
		id, err := p.ident()
		if err != nil {
			return ObjectName{}, err
		}
		n.Parts = append(n.Parts, id)
	}
	return n, nil
}

// ifExists consumes an optional IF EXISTS.
func (p *parser) ifExists() (bool, error) {
	if !p.accept("IF") {
		return false, nil
	}
	return true, p.expect("EXISTS")
}

// args consumes an optional parenthesised argument type list, as in
// FUNCTION f(NUMBER, VARCHAR). It returns nil when no list follows.
func (p *parser) args() ([]string, error) {
	if !p.peek().IsOp("(") {
		return nil, nil
	}
	p.next()
	out := []string{}
	depth := 0
	start := -1
	flush := func(end int) error {
		if start < 0 {
			return p.failHere()
		}
		out = append(out, upper(strings.Join(strings.Fields(p.src[start:end]), " ")))
		start = -1
		return nil
	}
	for {
		t := p.peek()
		switch {
		case t.Kind == TokEOF || t.Kind == tokInvalid:
			return nil, p.fail(t)
		case t.IsOp("(") || t.IsOp("["):
			depth++
		case (t.IsOp(")") || t.IsOp("]")) && depth > 0:
			depth--
		case t.IsOp(")"):
			if start >= 0 {
				if err := flush(t.Offset); err != nil {
					return nil, err
				}
			} else if len(out) > 0 {
				return nil, p.fail(t)
			}
			p.next()
			return out, nil
		case t.IsOp(",") && depth == 0:
			if err := flush(t.Offset); err != nil {
				return nil, err
			}
			p.next()
			continue
		}
		if start < 0 {
			start = t.Offset
		}
		p.next()
	}
}

// str consumes a string literal ('x' or $$x$$).
func (p *parser) str() (string, error) {
	t := p.peek()
	if t.Kind != TokString && t.Kind != TokDollarString {
		return "", p.fail(t)
	}
	p.next()
	return t.Value, nil
}

// integer consumes a non-negative integer literal.
func (p *parser) integer() (int, error) {
	t := p.peek()
	if t.Kind != TokNumber {
		return 0, p.fail(t)
	}
	n, err := strconv.Atoi(t.Text)
	if err != nil || n < 0 {
		return 0, p.fail(t)
	}
	p.next()
	return n, nil
}

// render returns t as kept in Other and Rest: words upper case, everything else as
// written.
func render(t Token) string {
	if t.Kind == TokWord {
		return t.Value
	}
	return t.Text
}

// renderName renders n as written: quoted parts in quotes, unquoted ones upper case.
func renderName(n ObjectName) string {
	var b strings.Builder
	for i, id := range n.Parts {
		if i > 0 {
			b.WriteByte('.')
		}
		if id.Quoted {
			b.WriteString(`"` + strings.ReplaceAll(id.Name, `"`, `""`) + `"`)
		} else {
			b.WriteString(id.Name)
		}
	}
	return b.String()
}

// words consumes the remaining tokens of the statement up to stop (which may be
// nil), rendered.
func (p *parser) words(stop func(i int) bool) ([]string, error) {
	var out []string
	for !p.atEnd() {
		if stop != nil && stop(0) {
			break
		}
		if isName(p.peek()) && p.peekN(1).IsOp(".") {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			out = append(out, renderName(n))
			continue
		}
		t := p.next()
		if t.Kind == tokInvalid {
			return nil, p.lexErr
		}
		out = append(out, render(t))
	}
	if t := p.peek(); t.Kind == tokInvalid {
		return nil, p.lexErr
	}
	return out, nil
}

// isPropStart reports whether the i-th token ahead starts NAME = value.
func (p *parser) isPropStart(i int) bool {
	return p.peekN(i).Kind == TokWord && p.peekN(i+1).IsOp("=")
}
