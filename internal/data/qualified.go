package data

import (
	"fmt"
	"strings"

	"github.com/firn/firn/internal/sferr"
	fsql "github.com/firn/firn/internal/sql"
)

// Column references qualified with schema and table. Snowflake accepts
// SCH.T.COL and DB.SCH.T.COL wherever T.COL is allowed. firn replaces every table
// reference with its internal DuckDB name and gives it the table's written name as
// alias (substitute), so T.COL binds; a reference qualified further loses the
// qualifiers before the table, once the qualifier is known to name an unaliased table
// of the statement. One that names none is Snowflake's 000904.

// qualColumn is a column reference of three or more parts, located in the rewritten
// text.
type qualColumn struct {
	// parts are the name parts as written, folded as Snowflake folds them.
	parts []fsql.Ident
	// start is where the first part begins; cut where the table part begins: the
	// text between them is dropped.
	start, cut int
}

// columnAt reads the n-part column reference whose first part starts at rewritten
// offset off. ok is false when the text there is not n dotted identifiers taken from
// the source as written (firn's own rewriting produced it).
func (s *Stmt) columnAt(off, n int) (qualColumn, bool) {
	i := s.tokenIndexAt(off)
	if i < 0 {
		return qualColumn{}, false
	}
	c := qualColumn{start: off}
	for k := 0; k < n; k++ {
		j := i + 2*k
		if k > 0 && !(j-1 < len(s.toks) && s.toks[j-1].IsOp(".")) {
			return qualColumn{}, false
		}
		if j >= len(s.toks) {
			return qualColumn{}, false
		}
		t := s.toks[j]
		switch {
		case t.Kind == fsql.TokWord:
			c.parts = append(c.parts, fsql.Ident{Name: t.Value})
		case t.Kind == fsql.TokQuotedIdent && t.Value != "":
			c.parts = append(c.parts, fsql.Ident{Name: t.Value, Quoted: true})
		default:
			return qualColumn{}, false
		}
		if k == n-2 {
			c.cut = s.outOffset(j)
			if c.cut < 0 {
				return qualColumn{}, false
			}
		}
	}
	return c, true
}

// refPath is the database, schema and name a reference resolves to in the
// statement's context (empty where the context lacks them).
func (s *Stmt) refPath(r *Ref) [3]string {
	var p [3]string
	if s.c != nil {
		p[0], p[1] = s.c.Database, s.c.Schema
	}
	copy(p[3-len(r.Parts):], namesOf(r.Parts))
	return p
}

func namesOf(parts []fsql.Ident) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.Name
	}
	return out
}

// qualifiedTable returns the table reference a qualified column reference names: an
// unaliased reference of the statement whose database, schema and name end with the
// column's qualifiers. It is 000904 when there is none, and 000002 when another
// unaliased reference of a different object has the same name, which the alias that
// substitute gives both could not tell apart.
func (s *Stmt) qualifiedTable(c qualColumn) (*Ref, error) {
	invalid := func() error {
		return sferr.Compilation("000904", "42000", fmt.Sprintf("invalid identifier '%s'", identsText(c.parts)))
	}
	n := len(c.parts)
	if n > 4 || n < 3 {
		return nil, invalid()
	}
	qual := namesOf(c.parts[:n-1])
	var found *Ref
	for _, r := range s.Refs {
		if r.alias || r.noAlias() || len(r.Parts) == 0 {
			continue
		}
		p := s.refPath(r)
		if match(p[3-len(qual):], qual) {
			found = r
			break
		}
	}
	if found == nil {
		return nil, invalid()
	}
	path := s.refPath(found)
	for _, r := range s.Refs {
		if r.alias || r.noAlias() || len(r.Parts) == 0 {
			continue
		}
		if strings.EqualFold(r.Parts[len(r.Parts)-1].Name, path[2]) && s.refPath(r) != path {
			return nil, unsupportedFeature(fmt.Sprintf("column reference %s in a statement that names two tables %s; give the tables aliases",
				identsText(c.parts), identsText(c.parts[n-2:n-1])))
		}
	}
	return found, nil
}

func match(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// identsText writes name parts as Snowflake shows them in messages: quoted parts in
// double quotes.
func identsText(parts []fsql.Ident) string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if p.Quoted {
			out[i] = `"` + strings.ReplaceAll(p.Name, `"`, `""`) + `"`
		} else {
			out[i] = p.Name
		}
	}
	return strings.Join(out, ".")
}

// checkColumns checks that every qualified column reference names a table of the
// statement. It runs after the references are resolved, so that a missing table
// answers 002003 first, as in Snowflake.
func (s *Stmt) checkColumns() error {
	for _, c := range s.cols {
		if _, err := s.qualifiedTable(c); err != nil {
			return err
		}
	}
	return nil
}
