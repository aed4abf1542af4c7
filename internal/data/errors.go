package data

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/firn/firn/internal/sferr"
	fsql "github.com/firn/firn/internal/sql"
)

// parseError is a DuckDB parser error with the byte offset in the rewritten text
// that DuckDB reports for it, or -1.
type parseError struct {
	err    error
	offset int
}

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// Error codes firn uses where Snowflake has no exact equivalent of a DuckDB error.
const (
	codeCompilation = "002001" // other compile-time errors (binder, catalog, planner)
	codeExecution   = "100097" // other run-time errors
)

// canceled is Snowflake's error for a statement stopped by its caller.
func canceled(cause error) error {
	e := sferr.New("000604", "57014", "SQL execution canceled")
	e.Type = "EXECUTION"
	e.Cause = cause
	return e
}

func execution(code, state, msg string, cause error) error {
	e := sferr.New(code, state, msg)
	e.Type = "EXECUTION"
	e.Cause = cause
	return e
}

func compilation(code, state, msg string, cause error) error {
	e := sferr.Compilation(code, state, msg)
	e.Cause = cause
	return e
}

var (
	reNearToken   = regexp.MustCompile(`syntax error at or near "((?:[^"]|"")*)"`)
	reTable       = regexp.MustCompile(`^(?:Table|View|Table Function) with name "?(.+?)"? does not exist`)
	reSchema      = regexp.MustCompile(`^Schema with name "?(.+?)"? does not exist`)
	reCatalogDB   = regexp.MustCompile(`^Catalog "?(.+?)"? does not exist`)
	reFunction    = regexp.MustCompile(`^(?:Scalar|Aggregate|Table|Macro) Function with name "?(.+?)"? does not exist`)
	reColumn      = regexp.MustCompile(`^Referenced column "((?:[^"]|"")*)" (?:was )?not found`)
	reColumnTable = regexp.MustCompile(`does not have a column named "((?:[^"]|"")*)"`)
	reConvert     = regexp.MustCompile(`^Could not convert string ['"](.*?)['"] to ([A-Z0-9_]+)`)
	reConvertAny  = regexp.MustCompile(`[Cc]ould not (?:convert|cast)[^'"]*['"](.*?)['"]`)
	reDateValue   = regexp.MustCompile(`^(?:invalid )?(?:date|time|timestamp)[^"]*"((?:[^"]|"")*)"`)
)

// mapError converts an error from DuckDB or the driver into a Snowflake error.
func (e *Engine) mapError(ctx context.Context, rw *rewritten, err error) error {
	var se *sferr.Error
	if errors.As(err, &se) {
		return se
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return canceled(err)
	}
	if errors.Is(err, errNotQuery) {
		return compilation("000002", "0A000", "Unsupported feature 'non-query statement'.", err)
	}
	var pe *parseError
	if errors.As(err, &pe) && pe.offset >= 0 && rw != nil {
		t := rw.tokenAt(pe.offset)
		text := t.Text
		if t.Kind == fsql.TokEOF {
			text = "<EOF>"
		}
		se := sferr.Syntax(t.Line, t.Column, text)
		se.Cause = err
		return se
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		ie := sferr.Internal()
		ie.Cause = err
		return ie
	}
	msg := cleanMessage(de.Msg)
	switch de.Type {
	case duckdb.ErrorTypeInterrupt:
		return canceled(err)
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		return e.syntaxError(rw, de, msg)
	case duckdb.ErrorTypeCatalog:
		if m := reFunction.FindStringSubmatch(msg); m != nil {
			return compilation("002140", "42601", fmt.Sprintf("Unknown function %s", strings.ToUpper(m[1])), err)
		}
		for _, re := range []*regexp.Regexp{reTable, reSchema, reCatalogDB} {
			if m := re.FindStringSubmatch(msg); m != nil {
				kind := "Object"
				switch re {
				case reSchema:
					kind = "Schema"
				case reCatalogDB:
					kind = "Database"
				}
				se := sferr.DoesNotExist(kind, strings.ToUpper(m[1]))
				se.SQLState = "42S02"
				se.Cause = err
				return se
			}
		}
		return compilation(codeCompilation, "42000", msg, err)
	case duckdb.ErrorTypeBinder:
		for _, re := range []*regexp.Regexp{reColumn, reColumnTable} {
			if m := re.FindStringSubmatch(msg); m != nil {
				name := strings.ReplaceAll(m[1], `""`, `"`)
				return compilation("000904", "42000", fmt.Sprintf("invalid identifier '%s'", strings.ToUpper(name)), err)
			}
		}
		if strings.Contains(msg, "No function matches") {
			return compilation("001044", "42P13", msg, err)
		}
		return compilation(codeCompilation, "42000", msg, err)
	case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput:
		if strings.Contains(msg, "Malformed JSON") {
			return execution("100069", "22P02", "Error parsing JSON: "+msg, err)
		}
		if strings.Contains(msg, "hex") {
			return execution("100115", "22000", "The following string is not a legal hex-encoded value: "+msg, err)
		}
		if m := reConvert.FindStringSubmatch(msg); m != nil {
			val := m[1]
			switch {
			case strings.HasPrefix(m[2], "DATE"):
				return execution("100040", "22007", fmt.Sprintf("Date '%s' is not recognized", val), err)
			case strings.HasPrefix(m[2], "TIMESTAMP"):
				return execution("100035", "22007", fmt.Sprintf("Timestamp '%s' is not recognized", val), err)
			case strings.HasPrefix(m[2], "TIME"):
				return execution("100108", "22007", fmt.Sprintf("Time '%s' is not recognized", val), err)
			case strings.HasPrefix(m[2], "BOOL"):
				return execution("100037", "22018", fmt.Sprintf("Boolean value '%s' is not recognized", val), err)
			}
			return execution("100038", "22018", fmt.Sprintf("Numeric value '%s' is not recognized", val), err)
		}
		if m := reDateValue.FindStringSubmatch(strings.ToLower(msg)); m != nil {
			if strings.HasPrefix(strings.ToLower(msg), "invalid timestamp") || strings.Contains(strings.ToLower(msg), "timestamp field") {
				return execution("100035", "22007", fmt.Sprintf("Timestamp '%s' is not recognized", m[1]), err)
			}
			return execution("100040", "22007", fmt.Sprintf("Date '%s' is not recognized", m[1]), err)
		}
		if m := reConvertAny.FindStringSubmatch(msg); m != nil {
			return execution("100038", "22018", fmt.Sprintf("Numeric value '%s' is not recognized", m[1]), err)
		}
		return execution(codeExecution, "22000", msg, err)
	case duckdb.ErrorTypeDivideByZero:
		return execution("100051", "22012", "Division by zero", err)
	case duckdb.ErrorTypeOutOfRange:
		if strings.Contains(msg, "division") || strings.Contains(msg, "by zero") {
			return execution("100051", "22012", "Division by zero", err)
		}
		return execution("100046", "22003", "Number out of representable range: "+msg, err)
	case duckdb.ErrorTypePermission, duckdb.ErrorTypeIO, duckdb.ErrorTypeNetwork, duckdb.ErrorTypeHTTP,
		duckdb.ErrorTypeMissingExtension, duckdb.ErrorTypeAutoLoad, duckdb.ErrorTypeSettings:
		se := sferr.InsufficientPrivileges("external resources")
		se.Cause = err
		return se
	case duckdb.ErrorTypeNotImplemented:
		return compilation("000002", "0A000", "Unsupported feature: "+msg, err)
	case duckdb.ErrorTypeFatal, duckdb.ErrorTypeInternal, duckdb.ErrorTypeNullPointer,
		duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeConnection, duckdb.ErrorTypeTransaction:
		e.log.Error("duckdb internal error", "err", err)
		ie := sferr.Internal()
		ie.Cause = err
		return ie
	case duckdb.ErrorTypePlanner, duckdb.ErrorTypeOptimizer, duckdb.ErrorTypeParameterNotResolved,
		duckdb.ErrorTypeParameterNotAllowed, duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType,
		duckdb.ErrorTypeDependency:
		return compilation(codeCompilation, "42000", msg, err)
	}
	return execution(codeExecution, "22000", msg, err)
}

// cleanMessage strips DuckDB's "<Kind> Error: " prefix, its "LINE n:" excerpt of the
// rewritten SQL and its "Did you mean" hints, which can name internal objects.
func cleanMessage(msg string) string {
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, " Error: "); i >= 0 && i < 40 {
		msg = msg[i+len(" Error: "):]
	}
	if i := strings.Index(msg, "Did you mean"); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return strings.TrimSpace(msg)
}

// syntaxError builds Snowflake's 001003 error, locating the offending token in the
// source text when DuckDB says where it is.
func (e *Engine) syntaxError(rw *rewritten, de *duckdb.Error, msg string) error {
	if rw != nil {
		if strings.Contains(msg, "at end of input") {
			return sferr.Syntax(rw.eof.Line, rw.eof.Column, "<EOF>")
		}
		if m := reNearToken.FindStringSubmatch(msg); m != nil {
			near := strings.ReplaceAll(m[1], `""`, `"`)
			// Find the first source token whose rewritten text starts with the token
			// DuckDB names.
			for k, s := range rw.spans {
				end := len(rw.text)
				if k+1 < len(rw.spans) {
					end = rw.spans[k+1].out
				}
				if strings.HasPrefix(strings.TrimSpace(rw.text[s.out:end]), near) {
					t := s.tok
					se := sferr.Syntax(t.Line, t.Column, t.Text)
					se.Cause = de
					return se
				}
			}
		}
	}
	se := sferr.Compilation("001003", "42000", msg)
	se.Cause = de
	return se
}

// reInternal matches firn's internal DuckDB names (schemas s<id>, tables t_<hex>,
// views v_<hex>), quoted or not, qualified or not.
var reInternal = regexp.MustCompile(`(?i)"?\bs[0-9]+"?\."?[tv]_[0-9a-f]{16}\b"?|"?\b[tv]_[0-9a-f]{16}\b"?|"s[0-9]+"`)

// scrubNames replaces internal names in an error message with the names the
// statement used, so no DuckDB name reaches the client.
func scrubNames(msg string, refs []*Ref) string {
	for _, r := range refs {
		if r.Internal != "" {
			msg = strings.ReplaceAll(msg, r.Internal, r.Name())
		}
	}
	return reInternal.ReplaceAllStringFunc(msg, func(m string) string {
		bare := strings.ToLower(strings.Trim(m, `"`))
		for _, r := range refs {
			if r.Internal != "" && strings.Contains(strings.ToLower(r.Internal), bare) {
				return r.Name()
			}
		}
		return "<object>"
	})
}
