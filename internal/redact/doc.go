// Package redact removes secret values from SQL statement text before it is recorded
// in query history or logged, and scrubs them from error messages. A value is secret
// when it is assigned to a sensitive property (PASSWORD, SECRET_STRING,
// OAUTH_CLIENT_SECRET, ...); object kinds with secret properties add theirs with
// Register. The statement is tokenized with package sql, so quoting, $$ strings and
// comments are understood; text that does not tokenize is cut after the first
// sensitive name.
package redact
