// Package wire serves Snowflake's REST v1 protocol over HTTP, the protocol unmodified
// Snowflake drivers (gosnowflake, snowflake-sdk) speak: login, query requests with
// server-side long polling and asynchronous execution, result and status fetches,
// aborts, token renewal, heartbeats, session close and telemetry.
//
// Every reply is HTTP 200 with a JSON envelope {"data","code","message","success"}
// (only unknown paths get 404). The package authenticates nothing and executes
// nothing itself: it calls an Authenticator at login, a session.Manager for tokens and
// an Executor for statements, all supplied in Config.
package wire
