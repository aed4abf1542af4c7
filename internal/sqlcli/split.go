package sqlcli

import (
	fsql "github.com/firn/firn/internal/sql"
)

// splitScript splits a script into statements with firn's own SQL splitter
// (internal/sql.Split), which knows Snowflake's strings, quoted identifiers,
// comments, $$ blocks and scripting blocks. Its errors are Snowflake syntax
// errors (an unterminated string, identifier, comment or $$ block).
func splitScript(text string) ([]string, error) {
	return fsql.Split(text)
}

// completeStatements returns the complete (';'-terminated) statements of buf
// and the unterminated rest, which is the start of the next statement.
//
// A statement is complete when appending more text would start a new
// statement rather than extend it; this also keeps a BEGIN ... END block
// together until the ';' after its END.
func completeStatements(buf string) (stmts []string, rest string) {
	all, err := fsql.Split(buf)
	if err != nil {
		return nil, buf // inside a string, identifier, comment or $$ block
	}
	more, err := fsql.Split(buf + "\nX")
	if err == nil && len(more) == len(all)+1 {
		return all, ""
	}
	if len(all) == 0 {
		return nil, buf
	}
	if len(all) > 1 {
		stmts = all[:len(all)-1]
	}
	return stmts, all[len(all)-1] + "\n"
}
