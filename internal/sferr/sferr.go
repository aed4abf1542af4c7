// Package sferr defines the Snowflake-coded error every layer of firn returns to clients.
//
// A *Error carries Snowflake's five- or six-digit code (always a string of digits, because
// drivers decode it as one), its SQLSTATE and the exact message text. Any other error that
// reaches a client is converted by As into an internal error that reveals nothing.
package sferr

import (
	"errors"
	"fmt"
)

// Error is an error with a Snowflake error code.
type Error struct {
	Code     string // digits, e.g. "002003"
	SQLState string // e.g. "42S02"
	Message  string // full client-visible text
	Type     string // "COMPILATION", "EXECUTION", "" (login/session errors)
	Line     int    // -1 when unknown
	Pos      int    // -1 when unknown
	// Data holds extra fields merged into the envelope's data object (login errors
	// carry nextAction/authnMethod). It never holds secrets.
	Data map[string]any
	// Cause is an underlying error kept for logs only; it is never shown to clients.
	Cause error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (%s): %s", e.Code, e.SQLState, e.Message)
}

// Unwrap returns the cause kept for logging.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with the given code, SQLSTATE and message.
func New(code, sqlState, msg string) *Error {
	return &Error{Code: code, SQLState: sqlState, Message: msg, Line: -1, Pos: -1}
}

// Newf is New with a formatted message.
func Newf(code, sqlState, format string, args ...any) *Error {
	return New(code, sqlState, fmt.Sprintf(format, args...))
}

// As returns err as a *Error. Errors that carry no Snowflake code become an
// internal error (000603) whose message reveals nothing of the cause.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	ie := Internal()
	ie.Cause = err
	return ie
}

// Internal is the generic internal error.
func Internal() *Error {
	return &Error{Code: "000603", SQLState: "XX000", Message: "SQL execution internal error: Processing aborted due to error 300002:0.", Type: "EXECUTION", Line: -1, Pos: -1}
}

// Compilation returns a "SQL compilation error:\n<msg>" error.
func Compilation(code, sqlState, msg string) *Error {
	e := New(code, sqlState, "SQL compilation error:\n"+msg)
	e.Type = "COMPILATION"
	return e
}

// Syntax is the 001003 syntax error at a 1-based line and 0-based position.
func Syntax(line, pos int, token string) *Error {
	e := Compilation("001003", "42000", fmt.Sprintf("syntax error line %d at position %d unexpected '%s'.", line, pos, token))
	e.Line, e.Pos = line, pos
	return e
}

// DoesNotExist is 002003: "<Kind> '<NAME>' does not exist or not authorized." Kind is
// Snowflake's capitalised word ("Object", "Database", "Schema", "Warehouse", "Role", "User").
func DoesNotExist(kind, name string) *Error {
	return Compilation("002003", "02000", fmt.Sprintf("%s '%s' does not exist or not authorized.", kind, name))
}

// AlreadyExists is 002002: "Object '<NAME>' already exists."
func AlreadyExists(kind, name string) *Error {
	return Compilation("002002", "42710", fmt.Sprintf("%s '%s' already exists.", kind, name))
}

// InsufficientPrivileges is 003001: "Insufficient privileges to operate on <what>."
func InsufficientPrivileges(what string) *Error {
	e := New("003001", "42501", "SQL access control error:\nInsufficient privileges to operate on "+what+".")
	e.Type = "COMPILATION"
	return e
}

// Login errors. Codes and texts are Snowflake's.
var (
	// IncorrectCredentials is the one answer for unknown accounts, unknown users and wrong
	// passwords alike, so that nothing can be enumerated.
	IncorrectCredentials = func() *Error {
		e := New("390100", "08004", "Incorrect username or password was specified.")
		e.Data = map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "PASSWORD"}
		return e
	}
	// SessionExpired is sent for an expired session token; drivers then renew.
	SessionExpired = func() *Error { return New("390112", "08001", "Your session has expired. Please login again.") }
	// MasterExpired is sent when the master token has expired; drivers give up.
	MasterExpired = func() *Error {
		return New("390114", "08001", "Authentication token has expired.  The user must authenticate again.")
	}
	// InvalidToken answers an unknown or malformed token.
	InvalidToken = func() *Error { return New("390104", "08001", "Invalid session token. Please login again.") }
	// SessionGone answers a token whose session was closed.
	SessionGone = func() *Error {
		return New("390111", "08001", "Session no longer exists.  New login required to access the service.")
	}
)
