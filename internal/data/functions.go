package data

import (
	"strings"

	"github.com/firn/firn/internal/sql"
)

// functionMacros give DuckDB more of Snowflake's functions. They join the engine's
// macros (engine.go) at package initialisation, so every connection gets them.
// docs/sql-compatibility.md lists every function with its status.
var functionMacros = []string{
	"CREATE OR REPLACE TEMP MACRO nvl2(a, b, c) AS CASE WHEN a IS NOT NULL THEN b ELSE c END",
	"CREATE OR REPLACE TEMP MACRO nullifzero(a) AS nullif(a, 0)",
	"CREATE OR REPLACE TEMP MACRO div0(a, b) AS CASE WHEN b = 0 THEN 0 ELSE a / b END",
	"CREATE OR REPLACE TEMP MACRO div0null(a, b) AS CASE WHEN b = 0 OR b IS NULL THEN 0 ELSE a / b END",
	"CREATE OR REPLACE TEMP MACRO equal_null(a, b) AS a IS NOT DISTINCT FROM b",
	"CREATE OR REPLACE TEMP MACRO booland(a, b) AS (a <> 0 AND b <> 0)",
	"CREATE OR REPLACE TEMP MACRO boolor(a, b) AS (a <> 0 OR b <> 0)",
	"CREATE OR REPLACE TEMP MACRO boolxor(a, b) AS ((a <> 0) <> (b <> 0))",
	"CREATE OR REPLACE TEMP MACRO boolnot(a) AS NOT (a <> 0)",
	`CREATE OR REPLACE TEMP MACRO __sf_datefmt(f) AS
	 replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
	   upper(f), 'YYYY', '%Y'), 'YY', '%y'), 'MMMM', '%B'), 'MON', '%b'), 'MM', '%m'), 'DD', '%d'), 'DY', '%a'),
	   'HH24', '%H'), 'HH12', '%I'), 'MI', '%M'), 'SS', '%S'), 'FF', '%f'), 'AM', '%p')`,
	// __sf_to_text is ::STRING / TO_VARCHAR: a VARIANT string gives its text without
	// JSON quotes, as in Snowflake; anything else is cast.
	`CREATE OR REPLACE TEMP MACRO __sf_to_text(x) AS CASE WHEN typeof(x) = 'JSON'
	   THEN json_extract_string(CAST(x AS JSON), '$') ELSE CAST(x AS VARCHAR) END`,
	"CREATE OR REPLACE TEMP MACRO to_varchar(x) AS __sf_to_text(x), (x, f) AS strftime(x, __sf_datefmt(f))",
	"CREATE OR REPLACE TEMP MACRO to_char(x) AS __sf_to_text(x), (x, f) AS strftime(x, __sf_datefmt(f))",
	"CREATE OR REPLACE TEMP MACRO to_number(x) AS CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO to_decimal(x) AS CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO to_numeric(x) AS CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO try_to_number(x) AS TRY_CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO try_to_decimal(x) AS TRY_CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO try_to_numeric(x) AS TRY_CAST(x AS DECIMAL(38,0))",
	"CREATE OR REPLACE TEMP MACRO to_double(x) AS CAST(x AS DOUBLE)",
	"CREATE OR REPLACE TEMP MACRO try_to_double(x) AS TRY_CAST(x AS DOUBLE)",
	`CREATE OR REPLACE TEMP MACRO try_to_boolean(x) AS CASE
	   WHEN lower(trim(CAST(x AS VARCHAR))) IN ('true', 't', 'yes', 'y', 'on', '1') THEN TRUE
	   WHEN lower(trim(CAST(x AS VARCHAR))) IN ('false', 'f', 'no', 'n', 'off', '0') THEN FALSE
	   WHEN TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE) IS NOT NULL THEN TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE) <> 0
	   END`,
	`CREATE OR REPLACE TEMP MACRO to_boolean(x) AS CASE
	   WHEN x IS NULL THEN NULL
	   WHEN try_to_boolean(x) IS NULL THEN error('Boolean value ''' || CAST(x AS VARCHAR) || ''' is not recognized')
	   ELSE try_to_boolean(x) END`,
	"CREATE OR REPLACE TEMP MACRO to_date(x) AS CAST(x AS DATE)",
	"CREATE OR REPLACE TEMP MACRO try_to_date(x) AS TRY_CAST(x AS DATE)",
	"CREATE OR REPLACE TEMP MACRO date(x) AS CAST(x AS DATE)",
	`CREATE OR REPLACE TEMP MACRO __sf_epoch(x) AS
	   regexp_full_match(trim(CAST(x AS VARCHAR)), '-?[0-9]+(\.[0-9]*)?')`,
	`CREATE OR REPLACE TEMP MACRO to_timestamp_ntz(x) AS CASE WHEN __sf_epoch(x)
	   THEN CAST(make_timestamp(CAST(TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE) * 1000000 AS BIGINT)) AS TIMESTAMP_NS)
	   ELSE CAST(CAST(x AS VARCHAR) AS TIMESTAMP_NS) END`,
	"CREATE OR REPLACE TEMP MACRO to_timestamp(x) AS to_timestamp_ntz(x)",
	`CREATE OR REPLACE TEMP MACRO try_to_timestamp(x) AS CASE WHEN __sf_epoch(x)
	   THEN CAST(make_timestamp(CAST(TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE) * 1000000 AS BIGINT)) AS TIMESTAMP_NS)
	   ELSE TRY_CAST(CAST(x AS VARCHAR) AS TIMESTAMP_NS) END`,
	`CREATE OR REPLACE TEMP MACRO to_timestamp_ltz(x) AS CASE WHEN __sf_epoch(x)
	   THEN CAST(make_timestamp(CAST(TRY_CAST(CAST(x AS VARCHAR) AS DOUBLE) * 1000000 AS BIGINT)) AS TIMESTAMPTZ)
	   ELSE CAST(CAST(x AS VARCHAR) AS TIMESTAMPTZ) END`,
	"CREATE OR REPLACE TEMP MACRO to_timestamp_tz(x) AS to_timestamp_ltz(x)",
	"CREATE OR REPLACE TEMP MACRO to_time(x) AS CAST(x AS TIME)",
	`CREATE OR REPLACE TEMP MACRO __sf_strip_nulls(j) AS to_json(map_from_entries(list_filter(
	   map_entries(CAST(j AS MAP(VARCHAR, JSON))), e -> e.value IS NOT NULL AND CAST(e.value AS VARCHAR) <> 'null')))`,
	"CREATE OR REPLACE TEMP MACRO array_size(a) AS json_array_length(CAST(to_json(a) AS JSON))",
	`CREATE OR REPLACE TEMP MACRO get(v, k) AS json_extract(CAST(v AS JSON), CASE WHEN typeof(k) = 'VARCHAR'
	   THEN '$."' || replace(CAST(k AS VARCHAR), '"', '\"') || '"' ELSE '$[' || CAST(k AS VARCHAR) || ']' END)`,
	`CREATE OR REPLACE TEMP MACRO get_path(v, p) AS json_extract(CAST(v AS JSON),
	   CASE WHEN starts_with(p, '[') THEN '$' || p ELSE '$.' || p END)`,
	"CREATE OR REPLACE TEMP MACRO startswith(a, b) AS starts_with(a, b)",
	"CREATE OR REPLACE TEMP MACRO endswith(a, b) AS ends_with(a, b)",
	`CREATE OR REPLACE TEMP MACRO charindex(s, t) AS strpos(t, s),
	 (s, t, p) AS CASE WHEN strpos(substr(t, p), s) = 0 THEN 0 ELSE strpos(substr(t, p), s) + p - 1 END`,
	"CREATE OR REPLACE TEMP MACRO len(s) AS length(s)",
	"CREATE OR REPLACE TEMP MACRO object_agg(k, v) AS json_group_object(k, v)",
	"CREATE OR REPLACE TEMP MACRO uuid_string() AS CAST(uuid() AS VARCHAR)",
	"CREATE OR REPLACE TEMP MACRO regexp_like(s, p) AS regexp_full_match(s, p)",
	"CREATE OR REPLACE TEMP MACRO square(x) AS x * x",
	"CREATE OR REPLACE TEMP MACRO uniform(lo, hi, g) AS CAST(floor(lo + random() * (hi - lo + 1)) AS BIGINT)",
	"CREATE OR REPLACE TEMP MACRO sha2(s) AS sha256(s), (s, n) AS CASE WHEN n = 256 THEN sha256(s) ELSE error('SHA2 digest size ' || n || ' is not supported') END",
	"CREATE OR REPLACE TEMP MACRO __sf_array_to_string(a, s) AS array_to_string(CAST(CAST(to_json(a) AS JSON) AS VARCHAR[]), s)",
	"CREATE OR REPLACE TEMP MACRO object_keys(o) AS to_json(json_keys(CAST(o AS JSON)))",
	"CREATE OR REPLACE TEMP MACRO array_contains(v, a) AS list_contains(CAST(CAST(to_json(a) AS JSON) AS JSON[]), CAST(to_json(v) AS JSON))",
	`CREATE OR REPLACE TEMP MACRO dateadd(p, n, x) AS CASE p
	   WHEN 'year' THEN x + to_years(CAST(n AS INTEGER))
	   WHEN 'quarter' THEN x + to_months(CAST(n AS INTEGER) * 3)
	   WHEN 'month' THEN x + to_months(CAST(n AS INTEGER))
	   WHEN 'week' THEN x + to_days(CAST(n AS INTEGER) * 7)
	   WHEN 'day' THEN x + to_days(CAST(n AS INTEGER))
	   WHEN 'hour' THEN x + to_hours(CAST(n AS BIGINT))
	   WHEN 'minute' THEN x + to_minutes(CAST(n AS BIGINT))
	   WHEN 'second' THEN x + to_seconds(CAST(n AS BIGINT))
	   WHEN 'millisecond' THEN x + to_milliseconds(CAST(n AS BIGINT))
	   WHEN 'microsecond' THEN x + to_microseconds(CAST(n AS BIGINT))
	   WHEN 'nanosecond' THEN x + to_microseconds(CAST(n AS BIGINT) // 1000)
	   ELSE error('Invalid date part ' || p) END`,
	// __sf_dateadd_date is DATEADD with a part of a day or larger (the rewriter picks
	// it when the part is written as a word or string): a DATE gives a DATE, as in
	// Snowflake, anything else what dateadd gives. DuckDB picks the typed overload for
	// DATE arguments.
	"CREATE OR REPLACE TEMP MACRO __sf_dateadd_date(p, n, x DATE) AS CAST(dateadd(p, n, x) AS DATE), (p, n, x) AS dateadd(p, n, x)",
	"CREATE OR REPLACE TEMP MACRO timestampadd(p, n, x) AS dateadd(p, n, x)",
	"CREATE OR REPLACE TEMP MACRO timestampdiff(p, a, b) AS date_diff(p, a, b)",
}

func init() {
	macros = append(macros, functionMacros...)
}

// dateParts maps Snowflake's date and time part names and abbreviations to the
// names the macros and DuckDB's date functions take.
var dateParts = map[string]string{}

func init() {
	for canon, names := range map[string][]string{
		"year":        {"YEAR", "Y", "YY", "YYY", "YYYY", "YR", "YEARS", "YRS"},
		"quarter":     {"QUARTER", "Q", "QTR", "QTRS", "QUARTERS"},
		"month":       {"MONTH", "MM", "MON", "MONS", "MONTHS"},
		"week":        {"WEEK", "W", "WK", "WEEKOFYEAR", "WOY", "WY"},
		"day":         {"DAY", "D", "DD", "DAYS", "DAYOFMONTH"},
		"hour":        {"HOUR", "H", "HH", "HR", "HOURS", "HRS"},
		"minute":      {"MINUTE", "M", "MI", "MIN", "MINUTES", "MINS"},
		"second":      {"SECOND", "S", "SEC", "SECONDS", "SECS"},
		"millisecond": {"MILLISECOND", "MS", "MSEC", "MILLISECONDS"},
		"microsecond": {"MICROSECOND", "US", "USEC", "MICROSECONDS"},
		"nanosecond":  {"NANOSECOND", "NS", "NSEC", "NANOSEC", "NSECOND", "NANOSECONDS", "NANOSECS", "NSECONDS"},
		"dow":         {"DAYOFWEEK", "WEEKDAY", "DOW", "DW"},
		"doy":         {"DAYOFYEAR", "YEARDAY", "DOY", "DY"},
		"epoch":       {"EPOCH_SECOND", "EPOCH", "EPOCH_SECONDS"},
	} {
		for _, n := range names {
			dateParts[n] = canon
		}
	}
}

// dayOrLarger are the canonical date parts for which DATEADD keeps a DATE a DATE.
var dayOrLarger = map[string]bool{"year": true, "quarter": true, "month": true, "week": true, "day": true}

// datePartFuncs take a date or time part as their first argument, which Snowflake
// lets users write as a bare word (DATEADD(day, 1, d)).
var datePartFuncs = map[string]bool{
	"DATEADD": true, "TIMESTAMPADD": true, "DATEDIFF": true, "TIMESTAMPDIFF": true,
	"DATE_PART": true, "DATE_TRUNC": true,
}

// renames are Snowflake functions that DuckDB has under another name.
var renames = map[string]string{
	"OBJECT_CONSTRUCT_KEEP_NULL": "json_object",
	"ARRAY_CONSTRUCT":            "json_array",
	"ARRAY_TO_STRING":            "__sf_array_to_string",
	"DATE_FROM_PARTS":            "make_date",
	"TIMESTAMP_FROM_PARTS":       "make_timestamp",
	"TIME_FROM_PARTS":            "make_time",
}

// notFunction are keywords that may stand before a parenthesis without naming a
// function.
var notFunction = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true, "ON": true,
	"IN": true, "IS": true, "AS": true, "BY": true, "THEN": true, "ELSE": true, "WHEN": true,
	"CASE": true, "JOIN": true, "HAVING": true, "QUALIFY": true, "UNION": true, "ALL": true,
	"DISTINCT": true, "EXISTS": true, "LIKE": true, "ILIKE": true, "BETWEEN": true, "VALUES": true,
	"SET": true, "USING": true, "OVER": true, "ANY": true, "SOME": true, "RETURNING": true,
	"LIMIT": true, "OFFSET": true, "WITH": true, "INTERSECT": true, "EXCEPT": true, "MINUS": true,
}

// typedLiteral are the words that prefix a typed literal (DATE '2024-01-01').
var typedLiteral = map[string]bool{"DATE": true, "TIME": true, "TIMESTAMP": true, "INTERVAL": true,
	"TIMESTAMP_NTZ": true, "TIMESTAMP_LTZ": true, "TIMESTAMP_TZ": true}

// castOperand reports whether base is an operand worth routing through __sf_to_text:
// a column, call, subscript or parenthesised expression, not a plain literal or a
// keyword.
func castOperand(base []sql.Token) bool {
	if len(base) == 1 {
		b := base[0]
		if b.Kind != sql.TokWord && b.Kind != sql.TokQuotedIdent {
			return false
		}
		switch b.Value {
		case "END", "NULL", "TRUE", "FALSE":
			return b.Kind == sql.TokQuotedIdent
		}
	}
	return true
}

// textTypes are the Snowflake text type names.
var textTypes = map[string]bool{
	"VARCHAR": true, "STRING": true, "TEXT": true, "CHAR": true, "CHARACTER": true,
	"NCHAR": true, "NVARCHAR": true, "NVARCHAR2": true, "CHAR_VARYING": true,
}

// numberFuncs are the TO_NUMBER family and the cast each becomes with a precision
// and scale.
var numberFuncs = map[string]string{
	"TO_NUMBER": "CAST", "TO_DECIMAL": "CAST", "TO_NUMERIC": "CAST",
	"TRY_TO_NUMBER": "TRY_CAST", "TRY_TO_DECIMAL": "TRY_CAST", "TRY_TO_NUMERIC": "TRY_CAST",
}

// formatFuncs take a Snowflake date/time format as their second argument; DuckDB's
// strptime needs it constant, so a literal format is translated here.
var formatFuncs = map[string]struct{ parse, typ string }{
	"TO_DATE":              {"strptime", "DATE"},
	"TRY_TO_DATE":          {"try_strptime", "DATE"},
	"TO_TIMESTAMP":         {"strptime", "TIMESTAMP_NS"},
	"TO_TIMESTAMP_NTZ":     {"strptime", "TIMESTAMP_NS"},
	"TRY_TO_TIMESTAMP":     {"try_strptime", "TIMESTAMP_NS"},
	"TRY_TO_TIMESTAMP_NTZ": {"try_strptime", "TIMESTAMP_NS"},
	"TO_TIMESTAMP_LTZ":     {"strptime", "TIMESTAMPTZ"},
	"TO_TIMESTAMP_TZ":      {"strptime", "TIMESTAMPTZ"},
	"TO_TIME":              {"strptime", "TIME"},
}

// callArgs finds the top-level commas and the closing parenthesis of the call whose
// opening parenthesis is toks[open]; close is -1 when the call is not closed.
func callArgs(toks []sql.Token, open int) (commas []int, close int) {
	depth := 0
	for j := open; j < len(toks) && toks[j].Kind != sql.TokEOF; j++ {
		switch {
		case toks[j].IsOp("(") || toks[j].IsOp("["):
			depth++
		case toks[j].IsOp(")") || toks[j].IsOp("]"):
			depth--
			if depth == 0 {
				return commas, j
			}
		case depth == 1 && toks[j].IsOp(","):
			commas = append(commas, j)
		}
	}
	return commas, -1
}

// snowflakeFormat translates a Snowflake date/time format to strftime's.
func snowflakeFormat(f string) string {
	r := strings.NewReplacer("YYYY", "%Y", "YY", "%y", "MMMM", "%B", "MON", "%b", "MM", "%m", "DD", "%d",
		"DY", "%a", "HH24", "%H", "HH12", "%I", "HH", "%H", "MI", "%M", "SS", "%S", "FF9", "%n", "FF6", "%f",
		"FF3", "%g", "FF", "%n", "AM", "%p", "PM", "%p", "TZH:TZM", "%z", "%", "%%")
	return r.Replace(strings.ToUpper(f))
}

// rewriteFunction rewrites the Snowflake syntax at toks[i] that DuckDB lacks, appending
// to out (and registering later replacements in x.pending); it returns how many
// tokens it consumed and whether it did anything.
func rewriteFunction(x *expansion, out *[]sql.Token, toks []sql.Token, i int) (int, bool) {
	t := toks[i]
	var prev sql.Token
	if i > 0 {
		prev = toks[i-1]
	}
	call := t.Kind == sql.TokWord && !prev.IsOp(".") && toks[i+1].IsOp("(")
	switch {
	// DATEADD(day, ...): the part as a canonical string.
	case call && datePartFuncs[t.Value] && (toks[i+2].Kind == sql.TokWord || toks[i+2].Kind == sql.TokString) && toks[i+3].IsOp(","):
		canon, ok := dateParts[strings.ToUpper(toks[i+2].Value)]
		if !ok {
			return 0, false
		}
		name := t
		if (t.Value == "DATEADD" || t.Value == "TIMESTAMPADD") && dayOrLarger[canon] {
			// A DATE stays a DATE (the macro's DATE overload); other inputs as dateadd.
			name = raw(t, "__sf_dateadd_date")
		}
		*out = append(*out, name, toks[i+1], raw(toks[i+2], sqlString(canon)))
		return 3, true
	// OBJECT_CONSTRUCT drops NULL values, OBJECT_CONSTRUCT_KEEP_NULL keeps them.
	case call && t.Value == "OBJECT_CONSTRUCT":
		_, closing := callArgs(toks, i+1)
		if closing < 0 {
			return 0, false
		}
		*out = append(*out, raw(t, "__sf_strip_nulls(json_object"))
		x.pending[closing] = "))"
		return 1, true
	// TO_NUMBER(x, p, s): a cast to NUMBER(p, s).
	case call && numberFuncs[t.Value] != "":
		commas, closing := callArgs(toks, i+1)
		if closing < 0 || len(commas) != 2 || commas[1] != commas[0]+2 || closing != commas[1]+2 ||
			toks[commas[0]+1].Kind != sql.TokNumber || toks[commas[1]+1].Kind != sql.TokNumber {
			return 0, false
		}
		*out = append(*out, raw(t, numberFuncs[t.Value]+"("))
		x.pending[i+1] = ""
		x.pending[commas[0]] = " AS DECIMAL(" + toks[commas[0]+1].Value + ", " + toks[commas[1]+1].Value + "))"
		for k := commas[0] + 1; k <= closing; k++ {
			if k != commas[0] {
				x.pending[k] = ""
			}
		}
		return 2, true
	// TABLE(GENERATOR(ROWCOUNT => n)): n rows.
	case t.Is("TABLE") && !prev.IsOp(".") && toks[i+1].IsOp("(") && toks[i+2].Is("GENERATOR") && toks[i+3].IsOp("(") &&
		toks[i+4].Is("ROWCOUNT") && toks[i+5].IsOp("=>") && toks[i+6].Kind == sql.TokNumber && isDigits(toks[i+6].Value) &&
		toks[i+7].IsOp(")") && toks[i+8].IsOp(")"):
		*out = append(*out, raw(t, "(SELECT range AS __firn_row FROM range("+toks[i+6].Value+"))"))
		return 9, true
	// SEQ4() / SEQ8(): 0, 1, 2, ... over the rows of the query.
	case call && (t.Value == "SEQ1" || t.Value == "SEQ2" || t.Value == "SEQ4" || t.Value == "SEQ8") && toks[i+2].IsOp(")"):
		*out = append(*out, raw(t, "(row_number() OVER () - 1)"))
		return 3, true
	case call && renames[t.Value] != "":
		*out = append(*out, raw(t, renames[t.Value]))
		return 1, true
	case call && formatFuncs[t.Value].parse != "":
		commas, closing := callArgs(toks, i+1)
		if closing < 0 || len(commas) != 1 || closing != commas[0]+2 {
			return 0, false
		}
		f := toks[commas[0]+1]
		if f.Kind != sql.TokString {
			return 0, false
		}
		ff := formatFuncs[t.Value]
		*out = append(*out, raw(t, "CAST("+ff.parse+"(CAST("))
		x.pending[commas[0]] = " AS VARCHAR), " + sqlString(snowflakeFormat(f.Value))
		x.pending[commas[0]+1] = ""
		x.pending[closing] = ") AS " + ff.typ + ")"
		return 2, true
	case call && (t.Value == "TO_CHAR" || t.Value == "TO_VARCHAR"):
		commas, closing := callArgs(toks, i+1)
		if closing < 0 || len(commas) != 1 || closing != commas[0]+2 || toks[commas[0]+1].Kind != sql.TokString {
			return 0, false
		}
		*out = append(*out, raw(t, "strftime"))
		x.pending[commas[0]+1] = sqlString(snowflakeFormat(toks[commas[0]+1].Value))
		return 1, true
	// DECODE(e, s1, r1, ..., [default]) is a simple CASE (DuckDB's decode is a BLOB function).
	case call && t.Value == "DECODE":
		commas, closing := callArgs(toks, i+1)
		if closing < 0 || len(commas) < 2 {
			return 0, false
		}
		// A simple first argument (a literal or a column) is repeated so that a NULL
		// search value matches a NULL, as in Snowflake; otherwise a simple CASE.
		subject, simple := "", true
		for _, a := range toks[i+2 : commas[0]] {
			if !(isIdent(a) || a.IsOp(".") || a.Kind == sql.TokNumber || a.Kind == sql.TokString) {
				simple = false
			}
			subject += a.Text
		}
		if a := toks[i+2 : commas[0]]; len(a) == 1 && a[0].Kind == sql.TokString {
			subject = sqlString(a[0].Value)
		}
		when, eq := "WHEN", ""
		if simple {
			*out = append(*out, raw(t, "(CASE WHEN"))
			eq = " IS NOT DISTINCT FROM"
			when = "WHEN " + subject + " IS NOT DISTINCT FROM"
		} else {
			*out = append(*out, raw(t, "(CASE"))
		}
		x.pending[i+1] = ""
		for k, c := range commas {
			switch {
			case k == 0:
				x.pending[c] = strings.TrimSpace(eq + " ")
				if !simple {
					x.pending[c] = "WHEN"
				}
			case k == len(commas)-1 && len(commas)%2 == 1:
				x.pending[c] = "ELSE"
			case k%2 == 1:
				x.pending[c] = "THEN"
			default:
				x.pending[c] = when
			}
		}
		x.pending[closing] = "END)"
		return 2, true
	// LISTAGG(x, s) WITHIN GROUP (ORDER BY y) is listagg(x, s ORDER BY y) in DuckDB.
	case call && (t.Value == "LISTAGG" || t.Value == "ARRAY_AGG"):
		_, closing := callArgs(toks, i+1)
		if closing < 0 || !toks[closing+1].Is("WITHIN") || !toks[closing+2].Is("GROUP") || !toks[closing+3].IsOp("(") {
			return 0, false
		}
		_, end := callArgs(toks, closing+3)
		if end < 0 {
			return 0, false
		}
		for _, k := range []int{closing, closing + 1, closing + 2, closing + 3} {
			x.pending[k] = ""
		}
		x.pending[end] = ")"
		*out = append(*out, t)
		return 1, true
	// x::STRING — through __sf_to_text, so that a VARIANT string loses its quotes.
	case t.IsOp("::") && i > 0 && toks[i+1].Kind == sql.TokWord && textTypes[toks[i+1].Value]:
		start := baseStart(*out)
		// After a path (already json_extract_string), a literal or a keyword the plain
		// cast is right (and CASE ... END or DATE '...' must stay whole).
		if start < 0 || (*out)[len(*out)-1].Kind == rawKind || !castOperand((*out)[start:]) ||
			start > 0 && (*out)[start-1].Kind == sql.TokWord && typedLiteral[(*out)[start-1].Value] {
			return 0, false
		}
		j := i + 2
		if toks[j].IsOp("(") {
			_, closing := callArgs(toks, j)
			if closing < 0 {
				return 0, false
			}
			j = closing + 1
		}
		base := append([]sql.Token(nil), (*out)[start:]...)
		*out = (*out)[:start]
		*out = append(*out, raw(base[0], "__sf_to_text("))
		*out = append(*out, base...)
		*out = append(*out, raw(t, ")"))
		return j - i, true
	// v:a.b[0] — a path into a VARIANT.
	case t.IsOp(":") && i > 0 && (isIdent(prev) || prev.IsOp(")") || prev.IsOp("]")) && isIdent(toks[i+1]):
		return rewritePath(out, toks, i)
	}
	return 0, false
}

// rewritePath turns base:a.b[0] (base already in out) into json_extract(base,
// '$."a"."b"[0]'), or json_extract_string when a ::type cast follows, so that
// v:name::string gives the text without JSON quotes, as in Snowflake.
func rewritePath(out *[]sql.Token, toks []sql.Token, i int) (int, bool) {
	start := baseStart(*out)
	if start < 0 {
		return 0, false
	}
	var path strings.Builder
	path.WriteString("$")
	j := i + 1
	key := func(t sql.Token) {
		name := t.Text
		if t.Kind == sql.TokQuotedIdent {
			name = t.Value
		}
		path.WriteString(`."` + strings.ReplaceAll(name, `"`, `\"`) + `"`)
	}
	key(toks[j])
	j++
	for {
		switch {
		case toks[j].IsOp(".") && isIdent(toks[j+1]):
			key(toks[j+1])
			j += 2
			continue
		case toks[j].IsOp("[") && toks[j+1].Kind == sql.TokNumber && toks[j+2].IsOp("]") && isDigits(toks[j+1].Value):
			path.WriteString("[" + toks[j+1].Value + "]")
			j += 3
			continue
		case toks[j].IsOp("[") && toks[j+1].Kind == sql.TokString && toks[j+2].IsOp("]"):
			path.WriteString(`."` + strings.ReplaceAll(toks[j+1].Value, `"`, `\"`) + `"`)
			j += 3
			continue
		}
		break
	}
	fn := "json_extract("
	if toks[j].IsOp("::") && !toks[j+1].Is("VARIANT") && !toks[j+1].Is("OBJECT") && !toks[j+1].Is("ARRAY") {
		fn = "json_extract_string("
	}
	base := append([]sql.Token(nil), (*out)[start:]...)
	*out = (*out)[:start]
	*out = append(*out, raw(base[0], fn+"CAST("))
	*out = append(*out, base...)
	*out = append(*out, raw(toks[i], " AS JSON), "+sqlString(path.String())+")"))
	return j - i, true
}

// baseStart finds where the expression that ends out begins: an identifier chain
// (a.b.c), a literal, or a parenthesised expression, each with any function name and
// subscripts ([0]) around it.
func baseStart(out []sql.Token) int {
	k := len(out) - 1
	if k < 0 {
		return -1
	}
	for out[k].IsOp(")") || out[k].IsOp("]") {
		depth := 0
		for ; k >= 0; k-- {
			switch {
			case out[k].IsOp(")") || out[k].IsOp("]"):
				depth++
			case out[k].IsOp("(") || out[k].IsOp("["):
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if k <= 0 {
			return k
		}
		prev := out[k-1]
		switch {
		case out[k].IsOp("(") && isIdent(prev) && !(prev.Kind == sql.TokWord && notFunction[prev.Value]):
			k--
		case out[k].IsOp("[") && (isIdent(prev) || prev.IsOp(")") || prev.IsOp("]")):
			k--
		default:
			return k
		}
	}
	for k >= 2 && out[k-1].IsOp(".") && isIdent(out[k-2]) {
		k -= 2
	}
	// x::VARIANT::STRING: the earlier cast belongs to the operand.
	if k >= 2 && out[k-1].IsOp("::") {
		return baseStart(out[:k-1])
	}
	return k
}
