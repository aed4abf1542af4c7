package data

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// rewritten is a statement translated to DuckDB SQL.
type rewritten struct {
	text   string
	params []any // text parameters $1..$n
	// names are the Snowflake column names of the top-level select items, or nil
	// when they could not be worked out (DuckDB's names are used then).
	names []string
	// values marks a VALUES statement, whose columns Snowflake names COLUMN1...
	values bool
	// types are Snowflake types ("object", "array") for top-level select items that
	// DuckDB types as JSON, or nil; set by expansion.fix (resultscan.go).
	types []string
	// spans maps offsets in text back to source tokens, for error positions.
	spans []span
	eof   sql.Token
}

// span records that rewritten text from offset out on came from token tok.
type span struct {
	out int
	tok sql.Token
}

// tokenAt returns the source token the rewritten offset off came from.
func (r *rewritten) tokenAt(off int) sql.Token {
	if off >= len(r.text) || len(r.spans) == 0 {
		return r.eof
	}
	t := r.spans[0].tok
	for _, s := range r.spans {
		if s.out > off {
			break
		}
		t = s.tok
	}
	return t
}

// queryVerbs start the statements the engine runs.
var queryVerbs = map[string]bool{"SELECT": true, "WITH": true, "VALUES": true}

// snowflakeVerbs are statements Snowflake has that the data engine does not run
// (yet); other leading words are not Snowflake statements at all and get the syntax
// error Snowflake gives for them (DuckDB's ATTACH, INSTALL, LOAD, PRAGMA, ...).
var snowflakeVerbs = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "CREATE": true, "DROP": true,
	"ALTER": true, "TRUNCATE": true, "COPY": true, "PUT": true, "GET": true, "REMOVE": true,
	"LIST": true, "SET": true, "UNSET": true, "CALL": true, "EXPLAIN": true, "EXECUTE": true,
	"DESCRIBE": true, "DESC": true, "SHOW": true, "USE": true, "GRANT": true, "REVOKE": true,
	"UNDROP": true, "COMMENT": true, "BEGIN": true, "COMMIT": true, "ROLLBACK": true,
}

// checkStatement refuses anything but a single query before DuckDB sees it.
func checkStatement(toks []sql.Token) error {
	first := toks[0]
	// Skip leading parentheses: (SELECT 1) is a query.
	for i := 0; i < len(toks) && toks[i].IsOp("("); i++ {
		first = toks[i+1]
	}
	switch {
	case first.Kind == sql.TokEOF:
		return sferr.Compilation("000900", "42601", "Empty SQL statement.")
	case first.Kind == sql.TokWord && queryVerbs[first.Value]:
	case first.Kind == sql.TokWord && snowflakeVerbs[first.Value]:
		return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature '%s'.", first.Value))
	default:
		return sferr.Syntax(first.Line, first.Column, first.Text)
	}
	for i, t := range toks {
		if t.IsOp(";") {
			n := 1
			for _, u := range toks[i:] {
				if u.Kind != sql.TokEOF && !u.IsOp(";") {
					n++
					break
				}
			}
			if n > 1 {
				return sferr.Compilation("000008", "0A000", "Actual statement count 2 did not match the desired statement count 1.")
			}
		}
	}
	return nil
}

// typeMap rewrites Snowflake type names DuckDB lacks or reads differently. dropArgs
// removes a following (n) that the DuckDB type does not take; noArgs is the full
// replacement when the Snowflake type is written without arguments.
var typeMap = map[string]struct {
	duck     string
	noArgs   string
	dropArgs bool
}{
	"NUMBER":        {duck: "DECIMAL", noArgs: "DECIMAL(38,0)"},
	"NUMERIC":       {duck: "DECIMAL", noArgs: "DECIMAL(38,0)"},
	"DECIMAL":       {duck: "DECIMAL", noArgs: "DECIMAL(38,0)"},
	"DEC":           {duck: "DECIMAL", noArgs: "DECIMAL(38,0)"},
	"INT":           {duck: "DECIMAL(38,0)", dropArgs: true},
	"INTEGER":       {duck: "DECIMAL(38,0)", dropArgs: true},
	"BIGINT":        {duck: "DECIMAL(38,0)", dropArgs: true},
	"SMALLINT":      {duck: "DECIMAL(38,0)", dropArgs: true},
	"TINYINT":       {duck: "DECIMAL(38,0)", dropArgs: true},
	"BYTEINT":       {duck: "DECIMAL(38,0)", dropArgs: true},
	"FLOAT":         {duck: "DOUBLE", dropArgs: true},
	"FLOAT4":        {duck: "DOUBLE", dropArgs: true},
	"FLOAT8":        {duck: "DOUBLE", dropArgs: true},
	"REAL":          {duck: "DOUBLE", dropArgs: true},
	"STRING":        {duck: "VARCHAR", dropArgs: true},
	"TEXT":          {duck: "VARCHAR", dropArgs: true},
	"VARCHAR":       {duck: "VARCHAR", dropArgs: true},
	"CHAR":          {duck: "VARCHAR", dropArgs: true},
	"CHARACTER":     {duck: "VARCHAR", dropArgs: true},
	"NCHAR":         {duck: "VARCHAR", dropArgs: true},
	"NVARCHAR":      {duck: "VARCHAR", dropArgs: true},
	"NVARCHAR2":     {duck: "VARCHAR", dropArgs: true},
	"BINARY":        {duck: "BLOB", dropArgs: true},
	"VARBINARY":     {duck: "BLOB", dropArgs: true},
	"TIME":          {duck: "TIME", dropArgs: true},
	"DATETIME":      {duck: "TIMESTAMP_NS", dropArgs: true},
	"TIMESTAMP":     {duck: "TIMESTAMP_NS", dropArgs: true},
	"TIMESTAMP_NTZ": {duck: "TIMESTAMP_NS", dropArgs: true},
	"TIMESTAMPNTZ":  {duck: "TIMESTAMP_NS", dropArgs: true},
	"TIMESTAMP_LTZ": {duck: "TIMESTAMPTZ", dropArgs: true},
	"TIMESTAMPLTZ":  {duck: "TIMESTAMPTZ", dropArgs: true},
	"TIMESTAMP_TZ":  {duck: "TIMESTAMPTZ", dropArgs: true},
	"TIMESTAMPTZ":   {duck: "TIMESTAMPTZ", dropArgs: true},
	"VARIANT":       {duck: "JSON"},
	"OBJECT":        {duck: "JSON", dropArgs: true},
	"ARRAY":         {duck: "JSON", dropArgs: true},
}

// rewrite translates the tokens of one query into DuckDB SQL.
func (e *Engine) rewrite(c *Context, toks []sql.Token, binds []Bind, now time.Time) (*rewritten, error) {
	r := &rewritten{eof: toks[len(toks)-1]}
	var b strings.Builder
	emit := func(t sql.Token, s string) {
		r.spans = append(r.spans, span{out: b.Len(), tok: t})
		b.WriteString(s)
	}
	// castDepth holds, for each open parenthesis, whether it opened CAST( or TRY_CAST(.
	var parens []bool
	params := map[int]int{} // bind index → parameter number
	nextBind := 0
	prevLine := toks[0].Line
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind == sql.TokEOF || (t.IsOp(";") && toks[i+1].Kind == sql.TokEOF) {
			break
		}
		// Keep line breaks so DuckDB's positions stay on the right line.
		if i > 0 {
			if t.Line > prevLine {
				b.WriteString(strings.Repeat("\n", t.Line-prevLine))
			} else {
				b.WriteByte(' ')
			}
		}
		prevLine = t.Line
		var prev sql.Token
		if i > 0 {
			prev = toks[i-1]
		}
		next := toks[i+1]
		switch t.Kind {
		case sql.TokString, sql.TokDollarString:
			v := t.Value
			if next.IsOp("::") && tzTypes[toks[i+2].Value] && toks[i+2].Kind == sql.TokWord {
				v = normalizeTZLiteral(v)
			}
			emit(t, sqlString(v))
		case sql.TokVariable:
			return nil, sferr.Compilation("002211", "02000", fmt.Sprintf("Session variable '$%s' does not exist", t.Value))
		case sql.TokBind:
			idx := nextBind
			if t.Value != "" {
				n, err := strconv.Atoi(t.Value)
				if err != nil || n < 1 {
					return nil, sferr.Syntax(t.Line, t.Column, t.Text)
				}
				idx = n - 1
			} else {
				nextBind++
			}
			if idx >= len(binds) {
				return nil, sferr.Compilation("002049", "42601", fmt.Sprintf("Bind variable %s not set.", bindName(t, idx)))
			}
			p, err := convertBind(idx, binds[idx])
			if err != nil {
				return nil, err
			}
			n, ok := params[idx]
			if !ok {
				r.params = append(r.params, p.arg)
				n = len(r.params)
				params[idx] = n
			}
			emit(t, p.sql(n))
		case sql.TokWord:
			afterDot := prev.IsOp(".")
			// Context functions: NAME() or, for some, a bare NAME.
			if !afterDot && !next.IsOp(".") {
				called := next.IsOp("(") && toks[i+2].IsOp(")")
				// CURRENT_TIMESTAMP(3) and friends take a precision argument.
				withPrec := next.IsOp("(") && toks[i+2].Kind == sql.TokNumber && toks[i+3].IsOp(")")
				if called || withPrec || bareContextFuncs[t.Value] {
					if lit, ok := e.contextFunc(c, t.Value, now); ok {
						emit(t, lit)
						switch {
						case called:
							i += 2
						case withPrec:
							i += 3
						}
						prevLine = toks[i].Line
						continue
					}
				}
			}
			// Type names after :: and in CAST(x AS type).
			inCastAs := len(parens) > 0 && parens[len(parens)-1] && prev.Is("AS")
			if prev.IsOp("::") || inCastAs {
				if m, ok := typeMap[t.Value]; ok {
					hasArgs := next.IsOp("(")
					switch {
					case hasArgs && m.dropArgs:
						emit(t, m.duck)
						j := i + 1
						for depth := 0; j < len(toks) && toks[j].Kind != sql.TokEOF; j++ {
							if toks[j].IsOp("(") {
								depth++
							} else if toks[j].IsOp(")") {
								depth--
								if depth == 0 {
									break
								}
							}
						}
						i = j
						prevLine = toks[i].Line
					case !hasArgs && m.noArgs != "":
						emit(t, m.noArgs)
					default:
						emit(t, m.duck)
					}
					continue
				}
			}
			if next.IsOp("(") {
				parens = append(parens, t.Is("CAST") || t.Is("TRY_CAST"))
				emit(t, t.Text)
				emit(next, "(")
				i++
				prevLine = next.Line
				continue
			}
			emit(t, t.Text)
		case sql.TokOp:
			switch t.Value {
			case "(":
				parens = append(parens, false)
			case ")":
				if len(parens) > 0 {
					parens = parens[:len(parens)-1]
				}
			}
			emit(t, t.Text)
		default:
			emit(t, t.Text)
		}
	}
	r.text = b.String()
	r.names, r.values = columnNames(toks)
	return r, nil
}

func bindName(t sql.Token, idx int) string {
	if t.Value != "" {
		return ":" + t.Value
	}
	return strconv.Itoa(idx + 1)
}

// clauseEnd are the words that end a select list.
var clauseEnd = map[string]bool{
	"FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "QUALIFY": true, "ORDER": true,
	"LIMIT": true, "OFFSET": true, "FETCH": true, "UNION": true, "EXCEPT": true, "INTERSECT": true,
	"MINUS": true, "WINDOW": true, "INTO": true,
}

// opWords are words after which the next word continues the expression.
var opWords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IS": true, "IN": true, "LIKE": true, "ILIKE": true,
	"RLIKE": true, "BETWEEN": true, "CASE": true, "WHEN": true, "THEN": true, "ELSE": true,
	"DISTINCT": true, "ALL": true, "INTERVAL": true, "ESCAPE": true, "COLLATE": true,
	"DATE": true, "TIME": true, "TIMESTAMP": true, "ANY": true, "SOME": true, "EXISTS": true,
	"SELECT": true, "AS": true,
}

// valueWords are words that end an expression and are never an implicit alias.
var valueWords = map[string]bool{"END": true, "NULL": true, "TRUE": true, "FALSE": true}

// columnNames computes Snowflake's column names for the top-level select list: an
// alias folds to upper case unless quoted; a column reference is named by its last
// part; any other expression by its upper-cased source text. It returns nil names
// when the list holds a * (the engine's own names are used then), and values=true
// for a VALUES statement.
func columnNames(toks []sql.Token) (names []string, values bool) {
	// Find the first SELECT or VALUES outside any parentheses but the leading ones
	// of a parenthesised query; the SELECTs of WITH clauses are nested deeper.
	lead := 0
	for lead < len(toks) && toks[lead].IsOp("(") {
		lead++
	}
	if lead < len(toks) && toks[lead].Is("VALUES") {
		return nil, true
	}
	start, depth := -1, 0
	for i, t := range toks {
		if t.IsOp("(") {
			depth++
		} else if t.IsOp(")") {
			depth--
		} else if depth == lead && t.Is("SELECT") {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	base := lead
	for start < len(toks) && (toks[start].Is("DISTINCT") || toks[start].Is("ALL")) {
		start++
	}
	if start < len(toks) && toks[start].Is("TOP") {
		start += 2
	}
	var items [][]sql.Token
	var cur []sql.Token
	depth = base
loop:
	for _, t := range toks[start:] {
		switch {
		case t.Kind == sql.TokEOF, t.IsOp(";"):
			break loop
		case t.IsOp("(") || t.IsOp("["):
			depth++
		case t.IsOp(")") || t.IsOp("]"):
			depth--
			if depth < base {
				break loop
			}
		case depth == base && t.Kind == sql.TokWord && clauseEnd[t.Value]:
			break loop
		case depth == base && t.IsOp(","):
			items = append(items, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	items = append(items, cur)
	names = make([]string, len(items))
	for i, item := range items {
		n, ok := itemName(item)
		if !ok {
			return nil, false
		}
		names[i] = n
	}
	return names, false
}

// itemName names one select item; ok is false for a * item.
func itemName(item []sql.Token) (string, bool) {
	n := len(item)
	if n == 0 {
		return "", true
	}
	last := item[n-1]
	if last.IsOp("*") && (n == 1 || item[n-2].IsOp(".")) {
		return "", false
	}
	// A trailing EXCLUDE/REPLACE/RENAME after * is DuckDB star syntax.
	for _, t := range item {
		if t.IsOp("*") && n > 1 && (item[1].Is("EXCLUDE") || item[1].Is("REPLACE") || item[1].Is("RENAME")) {
			return "", false
		}
	}
	ident := func(t sql.Token) (string, bool) {
		switch t.Kind {
		case sql.TokWord:
			return t.Value, true
		case sql.TokQuotedIdent:
			return t.Value, true
		}
		return "", false
	}
	if n >= 2 {
		if name, ok := ident(last); ok {
			prev := item[n-2]
			if prev.Is("AS") {
				return name, true
			}
			valueEnd := prev.Kind == sql.TokNumber || prev.Kind == sql.TokString || prev.Kind == sql.TokDollarString ||
				prev.Kind == sql.TokQuotedIdent || prev.Kind == sql.TokBind || prev.IsOp(")") || prev.IsOp("]") ||
				prev.IsOp("}") || (prev.Kind == sql.TokWord && !opWords[prev.Value])
			if valueEnd && !(last.Kind == sql.TokWord && (opWords[last.Value] || valueWords[last.Value])) {
				return name, true
			}
		}
	}
	// A (qualified) column reference: name . name . name
	isRef := n%2 == 1
	for i, t := range item {
		if i%2 == 0 {
			if _, ok := ident(t); !ok || (t.Kind == sql.TokWord && (opWords[t.Value] || valueWords[t.Value])) {
				isRef = false
			}
		} else if !t.IsOp(".") {
			isRef = false
		}
	}
	if isRef {
		name, _ := ident(last)
		return name, true
	}
	// Any other expression: its source text, upper-cased, as written.
	var sb strings.Builder
	for i, t := range item {
		if i > 0 && t.Offset > item[i-1].End() {
			sb.WriteByte(' ')
		}
		sb.WriteString(t.Text)
	}
	return strings.ToUpper(sb.String()), true
}

// tzTypes are the Snowflake types whose literals may carry a UTC offset.
var tzTypes = map[string]bool{"TIMESTAMP_TZ": true, "TIMESTAMPTZ": true, "TIMESTAMP_LTZ": true, "TIMESTAMPLTZ": true}

// tzSuffix matches Snowflake's "<timestamp> +hhmm" / "<timestamp> -hh:mm" offsets,
// written with a space that DuckDB would read as a time-zone name.
var tzSuffix = regexp.MustCompile(`^(.*\d)\s+([+-])(\d{2}):?(\d{2})$`)

// normalizeTZLiteral rewrites "2024-01-02 03:04:05 +0100" as "2024-01-02 03:04:05+01:00",
// the form DuckDB parses; other text is returned unchanged.
func normalizeTZLiteral(v string) string {
	m := tzSuffix.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return v
	}
	return m[1] + m[2] + m[3] + ":" + m[4]
}
