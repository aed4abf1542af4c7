// Package sql is firn's lexer and parser for the Snowflake SQL dialect.
//
// It parses the control statements firn executes itself — USE, ALTER SESSION,
// SHOW, CREATE / ALTER / DROP / DESCRIBE of account objects, GRANT and REVOKE —
// into the node types of ast.go. Everything else (SELECT, DML, data DDL such as
// CREATE TABLE, transaction control, scripting blocks) parses as *Query and is
// left to the data engine, which can use Tokenize to inspect or rewrite it.
//
// The parser is table-driven so that new statements and object kinds need few
// changes: statements maps a leading keyword to its parser, queryVerbs lists the
// data engine's verbs, controlKinds and dataKinds (kinds.go) list object kinds,
// createParsers holds kind-specific CREATE grammars, and every other property list
// goes through the generic grammar of props.go.
//
// Errors are *sferr.Error values, mostly 001003 syntax errors carrying Snowflake's
// "line L at position P" (1-based line, 0-based character position in the line).
package sql
