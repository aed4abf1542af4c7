// Package sqlcli implements `firn sql`, a small SQL client for firn and Snowflake.
//
// It connects through the unmodified gosnowflake driver (database/sql), so it
// exercises the same wire protocol as every other client. Connection settings
// are read the way the Snowflake CLI reads them (see ResolveConnection), from
// $SNOWFLAKE_HOME/config.toml and connections.toml, environment variables and
// command-line flags.
//
// Statements come from -q, from -f, from standard input when it is not a
// terminal, or from an interactive prompt that reads statements terminated by
// ';'. Statements are split with firn's SQL splitter (internal/sql.Split).
// Results are printed as aligned tables (like snowsql), JSON or CSV.
//
// Values are rendered as text the way Snowflake's default output formats show
// them: NUMBER and FLOAT exactly as the server sent them, BOOLEAN as True/False
// (like snowsql), DATE as YYYY-MM-DD, TIME as HH24:MI:SS, TIMESTAMP_NTZ as
// YYYY-MM-DD HH24:MI:SS.FF3, TIMESTAMP_LTZ and TIMESTAMP_TZ with a trailing
// ±HHMM offset, BINARY as upper-case hex, and VARIANT, OBJECT and ARRAY as the
// JSON text the server sent. SQL NULL prints as NULL in tables, null in JSON
// and an empty field in CSV.
package sqlcli
