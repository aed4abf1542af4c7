// Package params is the registry of session, user and account parameters: their types,
// defaults and descriptions, and the rule that resolves a parameter's effective value
// (session over user over account over default).
package params

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Param is a parameter's value as drivers receive it in the "parameters" array of
// login and query responses.
type Param struct {
	Name  string
	Value any // string, bool, int64
}

// Type is a parameter's value type as SHOW PARAMETERS reports it.
type Type string

// Parameter types.
const (
	String  Type = "STRING"
	Boolean Type = "BOOLEAN"
	Number  Type = "NUMBER"
)

// Level is where a parameter may be set.
type Level uint8

// Levels, combinable.
const (
	Session Level = 1 << iota
	User
	Account
)

// Def describes one parameter.
type Def struct {
	Name        string
	Type        Type
	Default     string
	Levels      Level
	Description string
	// Response marks parameters sent to drivers in every login and query response.
	Response bool
	// Min and Max bound NUMBER parameters (inclusive); both zero means unbounded.
	Min, Max int64
}

var defs = map[string]*Def{}

func def(d Def) { defs[d.Name] = &d }

const all = Session | User | Account

func init() {
	def(Def{Name: "TIMEZONE", Type: String, Default: "America/Los_Angeles", Levels: all, Response: true, Description: "time zone"})
	def(Def{Name: "TIMESTAMP_OUTPUT_FORMAT", Type: String, Default: "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM", Levels: all, Response: true, Description: "Default display format for all timestamp types."})
	def(Def{Name: "TIMESTAMP_NTZ_OUTPUT_FORMAT", Type: String, Default: "YYYY-MM-DD HH24:MI:SS.FF3", Levels: all, Response: true, Description: "Display format for TIMESTAMP_NTZ values. If empty, TIMESTAMP_OUTPUT_FORMAT is used."})
	def(Def{Name: "TIMESTAMP_LTZ_OUTPUT_FORMAT", Type: String, Default: "", Levels: all, Response: true, Description: "Display format for TIMESTAMP_LTZ values. If empty, TIMESTAMP_OUTPUT_FORMAT is used."})
	def(Def{Name: "TIMESTAMP_TZ_OUTPUT_FORMAT", Type: String, Default: "", Levels: all, Response: true, Description: "Display format for TIMESTAMP_TZ values. If empty, TIMESTAMP_OUTPUT_FORMAT is used."})
	def(Def{Name: "DATE_OUTPUT_FORMAT", Type: String, Default: "YYYY-MM-DD", Levels: all, Response: true, Description: "Display format for dates."})
	def(Def{Name: "TIME_OUTPUT_FORMAT", Type: String, Default: "HH24:MI:SS", Levels: all, Response: true, Description: "Display format for times."})
	def(Def{Name: "BINARY_OUTPUT_FORMAT", Type: String, Default: "HEX", Levels: all, Response: true, Description: "Display format for binary values."})
	def(Def{Name: "TIMESTAMP_TYPE_MAPPING", Type: String, Default: "TIMESTAMP_NTZ", Levels: all, Description: "If TIMESTAMP type is used, what specific TIMESTAMP* type it should map to."})
	def(Def{Name: "CLIENT_SESSION_KEEP_ALIVE", Type: Boolean, Default: "false", Levels: all, Response: true, Description: "If true, client session will not expire automatically"})
	def(Def{Name: "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", Type: Number, Default: "3600", Levels: all, Response: true, Min: 900, Max: 3600, Description: "Heartbeat frequency in seconds for CLIENT_SESSION_KEEP_ALIVE."})
	def(Def{Name: "JS_TREAT_INTEGER_AS_BIGINT", Type: Boolean, Default: "false", Levels: all, Description: "If true, the Node.js driver returns integers as BigInt."})
	def(Def{Name: "QUERY_TAG", Type: String, Default: "", Levels: all, Description: "String (up to 4000 characters) that can be used to tag queries and other SQL statements executed within a session."})
	def(Def{Name: "STATEMENT_TIMEOUT_IN_SECONDS", Type: Number, Default: "172800", Levels: all, Min: 0, Max: 604800, Description: "Timeout in seconds for statements: statements are automatically canceled if they run for longer; if set to zero, max value (604800) is enforced."})
	def(Def{Name: "MULTI_STATEMENT_COUNT", Type: Number, Default: "1", Levels: all, Min: 0, Max: 1000, Description: "Number of statement included in submitted query text. Used to confirm the number of statements executed. 0 means any number."})
	def(Def{Name: "AUTOCOMMIT", Type: Boolean, Default: "true", Levels: all, Description: "The autocommit property determines whether is statement should to be implicitly wrapped within a transaction or not."})
	def(Def{Name: "QUOTED_IDENTIFIERS_IGNORE_CASE", Type: Boolean, Default: "false", Levels: all, Description: "If true, the case of quoted identifiers is ignored"})
	def(Def{Name: "ABORT_DETACHED_QUERY", Type: Boolean, Default: "false", Levels: all, Description: "If true, Snowflake will automatically abort queries when it detects that the client has disappeared."})
	def(Def{Name: "LOCK_TIMEOUT", Type: Number, Default: "43200", Levels: all, Description: "Number of seconds to wait while trying to lock a resource, before timing out and aborting the statement."})
	def(Def{Name: "WEEK_START", Type: Number, Default: "0", Levels: all, Min: 0, Max: 7, Description: "Specifies the first day of the week (0 means Monday (legacy), 1 = Monday, ..., 7 = Sunday)"})
	def(Def{Name: "GO_QUERY_RESULT_FORMAT", Type: String, Default: "JSON", Levels: all, Description: "Format used to serialize the query result to send back to golang driver (firn always answers JSON)"})
	def(Def{Name: "PYTHON_CONNECTOR_QUERY_RESULT_FORMAT", Type: String, Default: "JSON", Levels: all, Description: "Format used to serialize the query result to send back to python connector (firn always answers JSON)"})
	def(Def{Name: "NETWORK_POLICY", Type: String, Default: "", Levels: User | Account, Description: "Network policy assigned for the given target."})
	// firn's token lifetimes, settable per account by ACCOUNTADMIN.
	def(Def{Name: "SESSION_TOKEN_VALIDITY_IN_SECONDS", Type: Number, Default: "3600", Levels: Account, Min: 1, Max: 86400, Description: "Lifetime of a session token in seconds; drivers renew it with the master token (firn)."})
	def(Def{Name: "MASTER_TOKEN_VALIDITY_IN_SECONDS", Type: Number, Default: "14400", Levels: Account, Min: 1, Max: 2592000, Description: "Lifetime of a master token in seconds, after which a new login is required (firn)."})
	def(Def{Name: "SESSION_IDLE_TIMEOUT_MINS", Type: Number, Default: "240", Levels: Account, Min: 5, Max: 240, Description: "Minutes of inactivity after which a session ends."})
}

// Lookup returns the definition of a parameter by (case-insensitive) name.
func Lookup(name string) (*Def, bool) {
	d, ok := defs[strings.ToUpper(name)]
	return d, ok
}

// All returns every definition, sorted by name. The caller may modify the slice.
func All() []*Def {
	return slices.Clone(sorted())
}

// sorted is every definition by name, computed once: definitions are fixed at init
// and every login lists them for its reply.
var sorted = sync.OnceValue(func() []*Def {
	out := make([]*Def, 0, len(defs))
	for _, d := range defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
})

// Normalize validates a value for a parameter and returns its canonical text form
// (booleans "true"/"false", numbers in decimal). The error text is Snowflake-shaped and
// names the parameter but never echoes anything else.
func (d *Def) Normalize(v string) (string, error) {
	switch d.Type {
	case Boolean:
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "TRUE", "1", "YES", "ON":
			return "true", nil
		case "FALSE", "0", "NO", "OFF":
			return "false", nil
		}
		return "", fmt.Errorf("invalid value [%s] for parameter '%s'", v, d.Name)
	case Number:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "", fmt.Errorf("invalid value [%s] for parameter '%s'", v, d.Name)
		}
		if (d.Min != 0 || d.Max != 0) && (n < d.Min || n > d.Max) {
			return "", fmt.Errorf("invalid value [%d] for parameter '%s'", n, d.Name)
		}
		return strconv.FormatInt(n, 10), nil
	}
	return v, nil
}

// Typed returns a value's text converted to the JSON type drivers expect.
func (d *Def) Typed(v string) any {
	switch d.Type {
	case Boolean:
		return v == "true"
	case Number:
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			return n
		}
	}
	return v
}

// Resolved is a parameter's effective value and the level that set it.
type Resolved struct {
	Def   *Def
	Value string
	Level string // "", "SESSION", "USER", "ACCOUNT"
}

// Resolve returns the effective value of a parameter given the values set at each level
// (any map may be nil). Keys of the maps are upper-case names.
func Resolve(d *Def, session, user, account map[string]string) Resolved {
	if v, ok := session[d.Name]; ok && d.Levels&Session != 0 {
		return Resolved{d, v, "SESSION"}
	}
	if v, ok := user[d.Name]; ok && d.Levels&User != 0 {
		return Resolved{d, v, "USER"}
	}
	if v, ok := account[d.Name]; ok && d.Levels&Account != 0 {
		return Resolved{d, v, "ACCOUNT"}
	}
	return Resolved{d, d.Default, ""}
}
