package sql

import "strings"

// reserved are Snowflake's reserved keywords, which cannot be unquoted identifiers.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK
		COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME
		CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE
		FOLLOWING FOR FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT
		INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE LOCALTIME LOCALTIMESTAMP MINUS
		NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW
		ROWS SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE
		TRY_CAST UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHENEVER WHERE WINDOW WITH`) {
		reserved[w] = true
	}
}

// QuoteIdent renders s, the exact (case-sensitive) text of an identifier, as SQL:
// unquoted when it reads back as the same identifier (upper case letters, digits,
// _ and $, not starting with a digit or $, not a reserved word), else in double
// quotes with embedded quotes doubled.
func QuoteIdent(s string) string {
	if plainIdent(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func plainIdent(s string) bool {
	if s == "" || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] == '_') || reserved[s] {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '$') {
			return false
		}
	}
	return true
}

// SQL renders the identifier for use in SQL text (see QuoteIdent).
func (i Ident) SQL() string { return QuoteIdent(i.Name) }

// SQL renders the name for use in SQL text, quoting the parts that need it.
func (n ObjectName) SQL() string {
	var b strings.Builder
	for i, p := range n.Parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.SQL())
	}
	return b.String()
}
