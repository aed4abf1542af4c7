// Package data runs Snowflake data statements (SELECT, WITH, VALUES) on an embedded,
// locked-down DuckDB database.
//
// A statement goes through these steps:
//
//  1. It is split into tokens by package sql's lexer. Statements that are not queries
//     (ATTACH, INSTALL, LOAD, COPY, EXPORT, PRAGMA, SET, ...) and multi-statement text
//     are refused with a Snowflake error before DuckDB sees them.
//  2. The tokens are rewritten into DuckDB SQL: context functions (CURRENT_USER(),
//     CURRENT_DATABASE(), CURRENT_TIMESTAMP, ...) become typed literals taken from the
//     session's Context; Snowflake type names after :: and in CAST(... AS type) become
//     DuckDB types; string literals are re-quoted with DuckDB's rules (Snowflake's
//     backslash escapes are resolved by the lexer); bind markers (? and :n) become
//     CAST($n AS type) over text parameters; comments are dropped.
//  3. The rewritten text is prepared as exactly one statement, which must be a SELECT
//     by DuckDB's own classification. Columns whose DuckDB values have no direct
//     Snowflake form (JSON, LIST, STRUCT, MAP, UUID, INTERVAL, ...) are converted to
//     JSON or VARCHAR text inside DuckDB by wrapping the query.
//  4. Rows are read under the caller's context (cancellation interrupts DuckDB) and
//     converted to the Go values package result encodes.
//
// # Lockdown
//
// The database runs untrusted SQL. External access (files, network, extensions) is
// disabled, extension auto-install and auto-load are off, community extensions and
// persistent secrets are refused, and the configuration is locked after setup, so
// no statement can re-enable anything. Only SELECT statements are executed.
//
// # Types
//
// DuckDB result types map to Snowflake rowtypes as follows: BOOLEAN → boolean;
// TINYINT … BIGINT, unsigned integers, HUGEINT → fixed(38,0); DECIMAL(p,s) →
// fixed(p,s); FLOAT, DOUBLE → real; VARCHAR, UUID, INTERVAL, ENUM, TIME WITH TIME
// ZONE, BIT → text; DATE → date; TIME → time(9); TIMESTAMP (all precisions) →
// timestamp_ntz(9); TIMESTAMP WITH TIME ZONE → timestamp_ltz(9); BLOB → binary;
// JSON → variant; LIST and ARRAY → array; STRUCT, MAP and UNION → object.
//
// Snowflake's TIMESTAMP_LTZ and TIMESTAMP_TZ both become DuckDB's TIMESTAMPTZ, which
// stores an instant and no offset, so results are timestamp_ltz: the instant is kept
// exactly and the driver shows it in the session TIMEZONE, but a TIMESTAMP_TZ value's
// own offset is lost. DuckDB's TimeZone is fixed to UTC (the configuration is locked),
// so a TIMESTAMP_LTZ/TZ literal without an offset is read as UTC rather than in the
// session time zone. TIMESTAMP and TIMESTAMP_NTZ become TIMESTAMP_NS to keep
// nanoseconds; TIMESTAMPTZ and TIME hold microseconds.
package data
