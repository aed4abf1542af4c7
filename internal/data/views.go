package data

import (
	"context"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// AccountUsageViews are the SNOWFLAKE.ACCOUNT_USAGE views firn provides.
var AccountUsageViews = map[string]bool{
	"QUERY_HISTORY": true, "LOGIN_HISTORY": true, "USERS": true, "ROLES": true,
	"GRANTS_TO_ROLES": true, "GRANTS_TO_USERS": true, "SERVICES": true,
}

// historyFunctions are the INFORMATION_SCHEMA table functions over query history.
var historyFunctions = map[string]bool{
	"QUERY_HISTORY": true, "QUERY_HISTORY_BY_USER": true, "QUERY_HISTORY_BY_SESSION": true,
	"QUERY_HISTORY_BY_WAREHOUSE": true, "LOGIN_HISTORY": true, "LOGIN_HISTORY_BY_USER": true,
}

// Result limits of the QUERY_HISTORY table functions (Snowflake's).
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 10000
)

// accountUsage replaces SNOWFLAKE.ACCOUNT_USAGE.<view> (or ACCOUNT_USAGE.<view> while
// the current database is SNOWFLAKE) at toks[i] with the view's rows. It returns the
// tokens consumed, 0 when toks[i] starts no such reference.
func (e *Engine) accountUsage(ctx context.Context, c *Context, x *expansion, out *[]sql.Token, toks []sql.Token, i int) (int, error) {
	var view sql.Token
	n := 0
	switch {
	case identIs(toks[i], "SNOWFLAKE") && toks[i+1].IsOp(".") && identIs(toks[i+2], "ACCOUNT_USAGE") && toks[i+3].IsOp(".") && isIdent(toks[i+4]):
		view, n = toks[i+4], 5
	case c.Database == "SNOWFLAKE" && identIs(toks[i], "ACCOUNT_USAGE") && toks[i+1].IsOp(".") && isIdent(toks[i+2]):
		view, n = toks[i+2], 3
	default:
		return 0, nil
	}
	if toks[i+n].IsOp(".") || toks[i+n].IsOp("(") {
		return 0, nil
	}
	if !AccountUsageViews[view.Value] {
		return 0, sferr.DoesNotExist("Object", "SNOWFLAKE.ACCOUNT_USAGE."+view.Value)
	}
	if c.Sources == nil {
		return 0, sferr.DoesNotExist("Object", "SNOWFLAKE.ACCOUNT_USAGE."+view.Value)
	}
	set, err := c.Sources.SystemView(ctx, "", "ACCOUNT_USAGE."+view.Value)
	if err != nil {
		return 0, err
	}
	if err := x.inline(out, toks[i], set, view.Value, toks[i+n]); err != nil {
		return 0, err
	}
	return n, nil
}

// historyFunction replaces TABLE([db.]INFORMATION_SCHEMA.QUERY_HISTORY*(args)) at
// toks[i] with the history rows, filtered and limited by the named arguments
// END_TIME_RANGE_START, END_TIME_RANGE_END, USER_NAME, SESSION_ID, WAREHOUSE_NAME and
// RESULT_LIMIT. It returns the tokens consumed, 0 when toks[i] starts no such call.
func (e *Engine) historyFunction(ctx context.Context, c *Context, x *expansion, out *[]sql.Token, toks []sql.Token, i int) (int, error) {
	j := i + 2
	db := c.Database
	switch {
	case isIdent(toks[j]) && toks[j+1].IsOp(".") && identIs(toks[j+2], "INFORMATION_SCHEMA") && toks[j+3].IsOp("."):
		db = toks[j].Value
		j += 4
	case identIs(toks[j], "INFORMATION_SCHEMA") && toks[j+1].IsOp("."):
		j += 2
	default:
		return 0, nil
	}
	fn := toks[j]
	if !isIdent(fn) || !historyFunctions[fn.Value] || !toks[j+1].IsOp("(") {
		return 0, nil
	}
	commas, closing := callArgs(toks, j+1)
	if closing < 0 {
		return 0, srcSyntax(toks[len(toks)-1])
	}
	if !toks[closing+1].IsOp(")") {
		return 0, srcSyntax(toks[closing+1])
	}
	if db == "" {
		return 0, sferr.Compilation("090105", "22000", "Cannot perform SELECT. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.")
	}
	// Split the arguments at the top-level commas.
	var args [][]sql.Token
	if closing > j+2 {
		from := j + 2
		for _, cm := range append(commas, closing) {
			args = append(args, toks[from:cm])
			from = cm + 1
		}
	}
	if x.inView {
		return 0, errInView(fn.Value)
	}
	if c.Sources == nil {
		return 0, sferr.DoesNotExist("Database", db)
	}
	set, err := c.Sources.SystemView(ctx, db, "INFORMATION_SCHEMA."+fn.Value)
	if err != nil {
		return 0, err
	}
	text, err := inlineSet(x, set)
	if err != nil {
		return 0, err
	}
	limit := defaultHistoryLimit
	login := strings.HasPrefix(fn.Value, "LOGIN_")
	order := "START_TIME"
	if login {
		order = "EVENT_TIMESTAMP"
	}
	var parts []sql.Token
	parts = append(parts, raw(toks[i], "(SELECT * FROM "+text+" AS __firn_qh WHERE TRUE"))
	for _, a := range args {
		if len(a) < 3 || !isIdent(a[0]) || !a[1].IsOp("=>") {
			return 0, sferr.Compilation("000002", "0A000", "Unsupported feature '"+fn.Value+" with positional arguments'.")
		}
		name := a[0].Value
		expr := append(append([]sql.Token(nil), a[2:]...), sql.Token{Kind: sql.TokEOF, Offset: a[len(a)-1].End(), Line: a[len(a)-1].Line})
		var cond string
		switch name {
		case "RESULT_LIMIT":
			if len(a) != 3 || a[2].Kind != sql.TokNumber {
				return 0, sferr.Compilation("000002", "0A000", "Unsupported feature 'RESULT_LIMIT other than a constant'.")
			}
			n, err := strconv.Atoi(a[2].Value)
			if err != nil || n < 1 || n > maxHistoryLimit {
				return 0, sferr.Compilation("001038", "22023", "Invalid argument [RESULT_LIMIT]: it should be between 1 and 10000.")
			}
			limit = n
			continue
		case "END_TIME_RANGE_START", "END_TIME_RANGE_END", "SESSION_ID", "WAREHOUSE_NAME", "INCLUDE_CLIENT_GENERATED_STATEMENT":
			if login {
				return 0, sferr.Compilation("001038", "22023", "Invalid argument ["+name+"].")
			}
			switch name {
			case "END_TIME_RANGE_START":
				cond = "__firn_qh.END_TIME >= "
			case "END_TIME_RANGE_END":
				cond = "__firn_qh.END_TIME <= "
			case "SESSION_ID":
				cond = "__firn_qh.SESSION_ID = "
			case "WAREHOUSE_NAME":
				cond = "__firn_qh.WAREHOUSE_NAME = "
			default:
				continue
			}
		case "TIME_RANGE_START", "TIME_RANGE_END":
			if !login {
				return 0, sferr.Compilation("001038", "22023", "Invalid argument ["+name+"].")
			}
			cond = "__firn_qh.EVENT_TIMESTAMP >= "
			if name == "TIME_RANGE_END" {
				cond = "__firn_qh.EVENT_TIMESTAMP <= "
			}
		case "USER_NAME":
			cond = "__firn_qh.USER_NAME = "
		default:
			return 0, sferr.Compilation("001038", "22023", "Invalid argument ["+name+"].")
		}
		sub, sx, err := e.expand(ctx, c, expr)
		x.handles = append(x.handles, sx.handles...)
		if err != nil {
			return 0, err
		}
		parts = append(parts, raw(a[0], " AND "+cond+"("))
		parts = append(parts, sub[:len(sub)-1]...)
		parts = append(parts, raw(a[len(a)-1], ")"))
	}
	tail := " ORDER BY __firn_qh." + order + " DESC LIMIT " + strconv.Itoa(limit) + ")"
	if !aliasFollows(toks[closing+2]) {
		tail += " AS " + quoteIdent(strings.ToUpper(fn.Value))
	}
	parts = append(parts, raw(toks[closing+1], tail))
	*out = append(*out, parts...)
	x.changed = true
	x.sources++
	x.single = set.Columns
	return closing + 2 - i, nil
}
