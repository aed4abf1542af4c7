package data

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/version"
)

// Context is the session state a data statement sees: it supplies the values of the
// context functions (CURRENT_USER(), CURRENT_DATABASE(), CURRENT_TIMESTAMP, ...).
// Empty fields make the matching function return NULL.
type Context struct {
	Account, User, Role, Database, Schema, Warehouse, ClientApp, ClientVersion string
	SessionID                                                                  int64
	// SecondaryRoles is nil for none, ["ALL"] for all, or explicit role names.
	SecondaryRoles []string
	// Now is the statement's start time; zero means the time Query is called.
	Now time.Time
	// TimeZone is the session TIMEZONE parameter (an IANA name); "" means UTC.
	TimeZone string
	// ClientIP is the client's address for CURRENT_IP_ADDRESS(); "" gives NULL.
	ClientIP string
	// Sources supplies earlier results (RESULT_SCAN, LAST_QUERY_ID, ->>) and system
	// views (ACCOUNT_USAGE); nil makes them unavailable. See resultscan.go.
	Sources Sources
}

// sqlString quotes s as a DuckDB string literal. DuckDB reads backslashes literally,
// so doubling single quotes is the only escaping needed. NUL bytes, which DuckDB
// strings cannot hold, are dropped.
func sqlString(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// textOrNull returns a VARCHAR literal, or a VARCHAR NULL for "".
func textOrNull(s string) string {
	if s == "" {
		return "CAST(NULL AS VARCHAR)"
	}
	return "CAST(" + sqlString(s) + " AS VARCHAR)"
}

// location returns the session time zone, UTC when unset or unknown.
func (c *Context) location() *time.Location {
	if c.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// contextFunc returns the SQL literal for context function name (upper case), and
// whether name is one. now is the statement's time.
func (e *Engine) contextFunc(c *Context, name string, now time.Time) (string, bool) {
	switch name {
	case "CURRENT_VERSION":
		return textOrNull(version.Snowflake), true
	case "CURRENT_ACCOUNT", "CURRENT_ACCOUNT_NAME":
		return textOrNull(c.Account), true
	case "CURRENT_ORGANIZATION_NAME":
		return textOrNull(e.cfg.Organization), true
	case "CURRENT_REGION":
		return textOrNull(e.cfg.Region), true
	case "CURRENT_USER":
		return textOrNull(c.User), true
	case "CURRENT_ROLE":
		return textOrNull(c.Role), true
	case "CURRENT_SECONDARY_ROLES":
		return textOrNull(secondaryRolesJSON(c.SecondaryRoles)), true
	case "CURRENT_DATABASE":
		return textOrNull(c.Database), true
	case "CURRENT_SCHEMA":
		if c.Database == "" {
			return textOrNull(""), true
		}
		return textOrNull(c.Schema), true
	case "CURRENT_WAREHOUSE":
		return textOrNull(c.Warehouse), true
	case "CURRENT_SESSION":
		if c.SessionID == 0 {
			return textOrNull(""), true
		}
		return textOrNull(strconv.FormatInt(c.SessionID, 10)), true
	case "CURRENT_CLIENT":
		return textOrNull(strings.TrimSpace(c.ClientApp + " " + c.ClientVersion)), true
	case "CURRENT_IP_ADDRESS":
		return textOrNull(c.ClientIP), true
	case "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "SYSTIMESTAMP", "GETDATE":
		return "CAST(" + sqlString(now.UTC().Format("2006-01-02 15:04:05.999999Z07:00")) + " AS TIMESTAMPTZ)", true
	case "SYSDATE":
		return "CAST(" + sqlString(now.UTC().Format("2006-01-02 15:04:05.999999999")) + " AS TIMESTAMP_NS)", true
	case "CURRENT_DATE":
		return "CAST(" + sqlString(now.In(c.location()).Format("2006-01-02")) + " AS DATE)", true
	case "CURRENT_TIME", "LOCALTIME":
		return "CAST(" + sqlString(now.In(c.location()).Format("15:04:05.999999")) + " AS TIME)", true
	}
	return "", false
}

// bareContextFuncs may be written without parentheses, as in SQL's CURRENT_DATE.
var bareContextFuncs = map[string]bool{
	"CURRENT_TIMESTAMP": true, "LOCALTIMESTAMP": true, "CURRENT_DATE": true,
	"CURRENT_TIME": true, "LOCALTIME": true, "CURRENT_USER": true, "CURRENT_ROLE": true,
}

// secondaryRolesJSON renders CURRENT_SECONDARY_ROLES(): a JSON object whose "roles"
// lists the explicit roles and whose "value" is "ALL" for USE SECONDARY ROLES ALL.
func secondaryRolesJSON(roles []string) string {
	value := ""
	var names []string
	for _, r := range roles {
		if strings.EqualFold(r, "ALL") {
			value = "ALL"
			continue
		}
		names = append(names, r)
	}
	list := strings.Join(names, ",")
	if value == "" {
		value = list
	}
	b, err := json.Marshal(struct {
		Roles string `json:"roles"`
		Value string `json:"value"`
	}{list, value})
	if err != nil {
		return ""
	}
	return string(b)
}
