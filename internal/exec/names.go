package exec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// accountObjectName returns the name of an account-level object (one part).
func accountObjectName(n sql.ObjectName) (string, error) {
	if len(n.Parts) != 1 {
		return "", sferr.Compilation("002003", "02000", fmt.Sprintf("Object '%s' does not exist or not authorized.", n.String()))
	}
	return n.Parts[0].Name, nil
}

// schemaName resolves a schema name against the session's database.
func schemaName(s *session.Session, n sql.ObjectName, verb string) (db, schema string, err error) {
	switch len(n.Parts) {
	case 1:
		if s.Database == "" {
			return "", "", noCurrentDatabase(verb)
		}
		return s.Database, n.Parts[0].Name, nil
	case 2:
		return n.Parts[0].Name, n.Parts[1].Name, nil
	}
	return "", "", sferr.Compilation("002003", "02000", fmt.Sprintf("Schema '%s' does not exist or not authorized.", n.String()))
}

func noCurrentDatabase(verb string) *sferr.Error {
	return sferr.Compilation("090105", "22000", fmt.Sprintf("Cannot perform %s. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.", verb))
}

func invalidProperty(prop, kind string) *sferr.Error {
	return sferr.Compilation("001423", "22023", fmt.Sprintf("invalid property '%s' for '%s'", prop, kind))
}

func invalidValue(prop string, v sql.Value) *sferr.Error {
	return sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value [%s] for parameter '%s'", valueText(v), prop))
}

// valueText renders a property value as text for messages and for STRING settings.
func valueText(v sql.Value) string {
	switch v.Kind {
	case sql.ValString, sql.ValNumber:
		return v.Str
	case sql.ValBool:
		return strconv.FormatBool(v.Bool)
	case sql.ValIdent:
		return v.Ident.String()
	case sql.ValNull:
		return "NULL"
	case sql.ValList:
		parts := make([]string, len(v.List))
		for i, x := range v.List {
			parts[i] = valueText(x)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return ""
}

func propString(name string, v sql.Value) (string, error) {
	switch v.Kind {
	case sql.ValString, sql.ValIdent, sql.ValNumber:
		return valueText(v), nil
	}
	return "", invalidValue(name, v)
}

func propBool(name string, v sql.Value) (bool, error) {
	switch v.Kind {
	case sql.ValBool:
		return v.Bool, nil
	case sql.ValString, sql.ValIdent:
		switch strings.ToUpper(valueText(v)) {
		case "TRUE":
			return true, nil
		case "FALSE":
			return false, nil
		}
	}
	return false, invalidValue(name, v)
}

func propInt(name string, v sql.Value) (int64, error) {
	if v.Kind == sql.ValNumber || v.Kind == sql.ValString {
		if n, err := strconv.ParseInt(v.Str, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, invalidValue(name, v)
}

// likeMatch reports whether s matches a SQL LIKE pattern case-insensitively, as
// SHOW ... LIKE does. % matches any run, _ one character, \ escapes.
func likeMatch(pattern, s string) bool {
	p := []rune(strings.ToUpper(pattern))
	r := []rune(strings.ToUpper(s))
	// Iterative matcher with backtracking on the last %.
	pi, ri, star, mark := 0, 0, -1, 0
	for ri < len(r) {
		switch {
		case pi < len(p) && p[pi] == '\\' && pi+1 < len(p) && p[pi+1] == r[ri]:
			pi += 2
			ri++
		case pi < len(p) && (p[pi] == '_' || (p[pi] == r[ri] && p[pi] != '%' && p[pi] != '\\')):
			pi++
			ri++
		case pi < len(p) && p[pi] == '%':
			star, mark = pi, ri
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ri = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}
