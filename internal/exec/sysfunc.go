package exec

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// SYSTEM$ functions answered in Go. A statement of the exact form
//
//	SELECT SYSTEM$NAME(<literal>, ...) [[AS] alias] [;]
//
// (any case, no FROM, literals only: strings, numbers, TRUE/FALSE/NULL) whose name is
// registered here is run by its handler with the session, instead of DuckDB. The
// result has one row and one column named as Snowflake names it: the alias, or the
// expression text as written, upper-cased ("SYSTEM$GET_PRIVATELINK_CONFIG()").
// Anything else — an unregistered name, a column reference, an expression — goes to
// the data engine as before.
//
// Handlers register from init() in their own file with registerSysFunc.

// sysArg is one literal argument of a SYSTEM$ call.
type sysArg struct {
	Kind  sql.TokenKind // TokString, TokNumber, or TokWord for TRUE/FALSE/NULL
	Value string        // string value, number text (with sign), or TRUE/FALSE/NULL
}

// IsNull reports whether the argument is NULL.
func (a sysArg) IsNull() bool { return a.Kind == sql.TokWord && a.Value == "NULL" }

// sysFuncCall is a parsed SYSTEM$ call.
type sysFuncCall struct {
	Name   string // upper case, with the SYSTEM$ prefix
	Args   []sysArg
	Column string // result column name
	Expr   string // the call's text, upper-cased
	Line   int    // the call's 1-based line and 0-based position, for messages
	Pos    int
}

// sysFunc is a registered SYSTEM$ function.
type sysFunc struct {
	// MinArgs and MaxArgs bound the argument count.
	MinArgs, MaxArgs int
	// SecretArgs are the 0-based positions of arguments that hold credentials; they
	// are redacted from query history and logs.
	SecretArgs []int
	// Run computes the function's value; a string answers a VARCHAR column.
	Run func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error)
}

var sysFuncs = map[string]sysFunc{}

// registerSysFunc registers a SYSTEM$ function by its upper-case name. Call from init().
func registerSysFunc(name string, f sysFunc) {
	name = strings.ToUpper(name)
	if _, dup := sysFuncs[name]; dup {
		panic("exec: SYSTEM$ function registered twice: " + name)
	}
	sysFuncs[name] = f
}

// sysFuncQuery answers q when it is a call of a registered SYSTEM$ function; ok is
// false (and nothing has run) otherwise.
func (e *Engine) sysFuncQuery(ctx context.Context, s *session.Session, q *sql.Query) (set *result.Set, ok bool, err error) {
	if q.Verb != "SELECT" {
		return nil, false, nil
	}
	call, ok := parseSysFuncCall(q.Text())
	if !ok {
		return nil, false, nil
	}
	f, ok := sysFuncs[call.Name]
	if !ok {
		return nil, false, nil
	}
	if n := len(call.Args); n < f.MinArgs {
		return nil, true, sferr.Compilation("000938", "42601", fmt.Sprintf("error line %d at position %d\nnot enough arguments for function [%s], expected %d, got %d",
			call.Line, call.Pos, call.Expr, f.MinArgs, n))
	} else if n > f.MaxArgs {
		return nil, true, sferr.Compilation("000939", "42601", fmt.Sprintf("error line %d at position %d\ntoo many arguments for function [%s] expected %d, got %d",
			call.Line, call.Pos, call.Expr, f.MaxArgs, n))
	}
	v, err := f.Run(e, ctx, s, call.Args)
	if err != nil {
		return nil, true, err
	}
	return &result.Set{Type: result.Select, Columns: []result.Column{result.Text(call.Column)}, Rows: [][]any{{v}}}, true, nil
}

// parseSysFuncCall recognises "SELECT SYSTEM$NAME(literal, ...) [[AS] alias]".
func parseSysFuncCall(text string) (sysFuncCall, bool) {
	toks, err := sql.Tokenize(text)
	if err != nil || len(toks) < 4 {
		return sysFuncCall{}, false
	}
	var c sysFuncCall
	i := 0
	if !toks[i].Is("SELECT") {
		return c, false
	}
	i++
	fn := toks[i]
	if fn.Kind != sql.TokWord || !strings.HasPrefix(fn.Value, "SYSTEM$") || !toks[i+1].IsOp("(") {
		return c, false
	}
	c.Name, c.Line, c.Pos = fn.Value, fn.Line, fn.Column
	i += 2
	for !toks[i].IsOp(")") {
		if len(c.Args) > 0 {
			if !toks[i].IsOp(",") {
				return c, false
			}
			i++
		}
		t := toks[i]
		switch {
		case t.Kind == sql.TokString || t.Kind == sql.TokDollarString:
			c.Args = append(c.Args, sysArg{Kind: sql.TokString, Value: t.Value})
		case t.Kind == sql.TokNumber:
			c.Args = append(c.Args, sysArg{Kind: sql.TokNumber, Value: t.Value})
		case (t.IsOp("-") || t.IsOp("+")) && toks[i+1].Kind == sql.TokNumber:
			v := toks[i+1].Value
			if t.IsOp("-") {
				v = "-" + v
			}
			c.Args = append(c.Args, sysArg{Kind: sql.TokNumber, Value: v})
			i++
		case t.Is("TRUE") || t.Is("FALSE") || t.Is("NULL"):
			c.Args = append(c.Args, sysArg{Kind: sql.TokWord, Value: t.Value})
		default:
			return c, false
		}
		i++
		if toks[i].Kind == sql.TokEOF {
			return c, false
		}
	}
	closeParen := toks[i]
	c.Expr = strings.ToUpper(text[fn.Offset:closeParen.End()])
	c.Column = c.Expr
	i++
	if toks[i].Is("AS") {
		i++
		if toks[i].Kind != sql.TokWord && toks[i].Kind != sql.TokQuotedIdent {
			return c, false
		}
	}
	switch toks[i].Kind {
	case sql.TokWord:
		if toks[i].Is("FROM") || toks[i].Is("WHERE") || toks[i].Is("UNION") || toks[i].Is("LIMIT") || toks[i].Is("ORDER") {
			return c, false
		}
		c.Column = toks[i].Value
		i++
	case sql.TokQuotedIdent:
		c.Column = toks[i].Value
		i++
	}
	if toks[i].IsOp(";") {
		i++
	}
	if toks[i].Kind != sql.TokEOF {
		return c, false
	}
	return c, true
}

// argString returns argument i as text: a string's value, a number's text; NULL is "".
func argString(args []sysArg, i int) string {
	if i >= len(args) || args[i].IsNull() {
		return ""
	}
	return args[i].Value
}

// argInt returns argument i as an integer; ok is false when it is not a whole number.
func argInt(args []sysArg, i int) (int64, bool) {
	if i >= len(args) {
		return 0, false
	}
	a := args[i]
	if a.Kind != sql.TokNumber && a.Kind != sql.TokString {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(a.Value), 10, 64)
	return n, err == nil
}

// redactSysFuncSecrets replaces the secret arguments of a registered SYSTEM$ call
// (sysFunc.SecretArgs: the ownership tokens of the PrivateLink functions) with '***'
// in recorded statement text, and adds their values to those scrubbed from messages.
func redactSysFuncSecrets(text string, values []string) (string, []string) {
	if !strings.Contains(strings.ToUpper(text), "SYSTEM$") {
		return text, values
	}
	toks, err := sql.Tokenize(text)
	if err != nil {
		return text, values
	}
	var b strings.Builder
	last := 0
	for i := 0; i+1 < len(toks); i++ {
		t := toks[i]
		if t.Kind != sql.TokWord || !toks[i+1].IsOp("(") {
			continue
		}
		f, ok := sysFuncs[t.Value]
		if !ok || len(f.SecretArgs) == 0 {
			continue
		}
		arg, depth := 0, 0
		for j := i + 1; j < len(toks) && toks[j].Kind != sql.TokEOF; j++ {
			a := toks[j]
			switch {
			case a.IsOp("("):
				depth++
				continue
			case a.IsOp(")"):
				depth--
			case a.IsOp(",") && depth == 1:
				arg++
				continue
			}
			if depth == 0 {
				i = j
				break
			}
			if depth == 1 && (a.Kind == sql.TokString || a.Kind == sql.TokDollarString) && slices.Contains(f.SecretArgs, arg) {
				b.WriteString(text[last:a.Offset])
				b.WriteString(Redacted)
				last = a.End()
				if a.Value != "" {
					values = append(values, a.Value)
				}
			}
		}
	}
	if last == 0 {
		return text, values
	}
	b.WriteString(text[last:])
	return b.String(), values
}
