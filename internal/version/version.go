// Package version reports firn's version and the Snowflake server version it emulates.
package version

// Version is firn's release version, set at build time with
// -ldflags "-X github.com/firn/firn/internal/version.Version=v1.2.3".
var Version = "0.1.0-dev"

// Snowflake is the server version firn reports to drivers and CURRENT_VERSION().
const Snowflake = "9.0.0"
