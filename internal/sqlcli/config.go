package sqlcli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Firn's defaults, used for any setting nothing else provides.
const (
	DefaultHost     = "127.0.0.1"
	DefaultPort     = 8765
	DefaultProtocol = "http"
	DefaultAccount  = "FIRN"
)

// Keys lists the connection settings firn sql understands, by their canonical
// (Python connector) names. They are the keys of connection tables in the TOML
// files, the <KEY> of SNOWFLAKE_CONNECTIONS_<NAME>_<KEY> and SNOWFLAKE_<KEY>
// environment variables (upper-cased) and, with '_' replaced by '-', the
// command-line flags.
var Keys = []string{
	"account", "user", "password", "host", "port", "protocol",
	"database", "schema", "warehouse", "role", "authenticator",
	"private_key_file", "private_key_file_pwd", "token", "token_file_path",
}

// keyAliases maps other spellings accepted in configuration files to canonical keys.
var keyAliases = map[string]string{
	"username":         "user",
	"accountname":      "account",
	"dbname":           "database",
	"schemaname":       "schema",
	"rolename":         "role",
	"warehousename":    "warehouse",
	"private_key_path": "private_key_file",
	"private_key_pwd":  "private_key_file_pwd",
}

// Connection holds resolved connection settings.
type Connection struct {
	Name              string // connection name that was looked up
	Account           string
	User              string
	Password          string
	Host              string
	Port              int
	Protocol          string
	Database          string
	Schema            string
	Warehouse         string
	Role              string
	Authenticator     string // lower-case: snowflake, snowflake_jwt, oauth, programmatic_access_token
	PrivateKeyFile    string
	PrivateKeyFilePwd string
	Token             string
	TokenFilePath     string
}

// LookupEnv reports the value of an environment variable; os.LookupEnv is one.
type LookupEnv func(key string) (string, bool)

// ResolveConnection resolves the settings of one named connection.
//
// The directory is $SNOWFLAKE_HOME, or ~/.snowflake when it is unset. Its
// config.toml may hold default_connection_name and [connections.NAME] tables;
// when connections.toml exists, its top-level [NAME] tables replace
// config.toml's connections. A file that is writable by group or others is
// refused, and one readable by them draws a warning on warn.
//
// The connection name is name when non-empty, else
// $SNOWFLAKE_DEFAULT_CONNECTION_NAME, else the file's default_connection_name,
// else "default". A name given explicitly (name or the environment) must
// exist in the files unless some other source configures the connection.
//
// Each setting is taken from, highest precedence first: flags (canonical key →
// value), SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>, the connection's table in the
// files, SNOWFLAKE_<KEY>, and finally firn's defaults (host 127.0.0.1, port
// 8765, protocol http, account FIRN). This is the Snowflake CLI's order.
func ResolveConnection(name string, flags map[string]string, env LookupEnv, warn io.Writer) (*Connection, error) {
	if env == nil {
		env = os.LookupEnv
	}
	if warn == nil {
		warn = io.Discard
	}
	dir, err := configDir(env)
	if err != nil {
		return nil, err
	}
	files, err := loadFiles(dir, warn)
	if err != nil {
		return nil, err
	}

	explicit := name != ""
	if name == "" {
		if v, ok := env("SNOWFLAKE_DEFAULT_CONNECTION_NAME"); ok && v != "" {
			name, explicit = v, true
		}
	}
	if name == "" {
		name = files.defaultName
	}
	if name == "" {
		name = "default"
	}

	values := make(map[string]string)
	for _, k := range Keys {
		if v, ok := env("SNOWFLAKE_" + strings.ToUpper(k)); ok && v != "" {
			values[k] = v
		}
	}
	table, found := files.connections[name]
	for k, v := range table {
		values[k] = v
	}
	envFound := false
	prefix := "SNOWFLAKE_CONNECTIONS_" + strings.ToUpper(name) + "_"
	for _, k := range Keys {
		if v, ok := env(prefix + strings.ToUpper(k)); ok && v != "" {
			values[k] = v
			envFound = true
		}
	}
	for k, v := range flags {
		ck, err := canonicalKey(k)
		if err != nil {
			return nil, fmt.Errorf("flag --%s: %w", k, err)
		}
		values[ck] = v
	}
	if explicit && !found && !envFound {
		names := make([]string, 0, len(files.connections))
		for n := range files.connections {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("connection %q is not configured: no connections in %s", name, dir)
		}
		return nil, fmt.Errorf("connection %q is not configured in %s (known: %s)", name, dir, strings.Join(names, ", "))
	}
	return newConnection(name, values)
}

func newConnection(name string, v map[string]string) (*Connection, error) {
	c := &Connection{
		Name:              name,
		Account:           v["account"],
		User:              v["user"],
		Password:          v["password"],
		Host:              v["host"],
		Protocol:          strings.ToLower(v["protocol"]),
		Database:          v["database"],
		Schema:            v["schema"],
		Warehouse:         v["warehouse"],
		Role:              v["role"],
		Authenticator:     strings.ToLower(v["authenticator"]),
		PrivateKeyFile:    v["private_key_file"],
		PrivateKeyFilePwd: v["private_key_file_pwd"],
		Token:             v["token"],
		TokenFilePath:     v["token_file_path"],
	}
	if p := v["port"]; p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("connection %q: invalid port %q", name, p)
		}
		c.Port = n
	}
	if c.Account == "" {
		c.Account = DefaultAccount
	}
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Protocol == "" {
		c.Protocol = DefaultProtocol
	}
	if c.Protocol != "http" && c.Protocol != "https" {
		return nil, fmt.Errorf("connection %q: protocol must be http or https, not %q", name, c.Protocol)
	}
	if c.Authenticator == "" {
		c.Authenticator = "snowflake"
	}
	return c, nil
}

func configDir(env LookupEnv) (string, error) {
	if d, ok := env("SNOWFLAKE_HOME"); ok && d != "" {
		return expandHome(d, env)
	}
	home, err := homeDir(env)
	if err != nil {
		return "", fmt.Errorf("locating ~/.snowflake: %w", err)
	}
	return filepath.Join(home, ".snowflake"), nil
}

func homeDir(env LookupEnv) (string, error) {
	if h, ok := env("HOME"); ok && h != "" {
		return h, nil
	}
	return os.UserHomeDir()
}

func expandHome(p string, env LookupEnv) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := homeDir(env)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, p[1:]), nil
}

type configFiles struct {
	defaultName string
	connections map[string]map[string]string
}

func loadFiles(dir string, warn io.Writer) (*configFiles, error) {
	cf := &configFiles{connections: map[string]map[string]string{}}

	var cfg struct {
		DefaultConnectionName string                    `toml:"default_connection_name"`
		Connections           map[string]map[string]any `toml:"connections"`
	}
	ok, err := decodeFile(filepath.Join(dir, "config.toml"), &cfg, warn)
	if err != nil {
		return nil, err
	}
	if ok {
		cf.defaultName = cfg.DefaultConnectionName
		if err := cf.setConnections(cfg.Connections, filepath.Join(dir, "config.toml")); err != nil {
			return nil, err
		}
	}

	var conns map[string]any
	path := filepath.Join(dir, "connections.toml")
	ok, err = decodeFile(path, &conns, warn)
	if err != nil {
		return nil, err
	}
	if ok {
		tables := make(map[string]map[string]any)
		for name, v := range conns {
			if t, isTable := v.(map[string]any); isTable {
				tables[name] = t
			}
		}
		cf.connections = map[string]map[string]string{}
		if err := cf.setConnections(tables, path); err != nil {
			return nil, err
		}
	}
	return cf, nil
}

func (cf *configFiles) setConnections(tables map[string]map[string]any, path string) error {
	for name, t := range tables {
		m := make(map[string]string, len(t))
		for k, v := range t {
			ck, err := canonicalKey(k)
			if err != nil {
				// Unknown keys (session parameters, client options) are ignored,
				// as other clients ignore what they do not understand.
				continue
			}
			s, err := tomlString(v)
			if err != nil {
				return fmt.Errorf("%s: connection %q key %q: %w", path, name, k, err)
			}
			m[ck] = s
		}
		cf.connections[name] = m
	}
	return nil
}

func tomlString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	default:
		return "", fmt.Errorf("unsupported value type %T", v)
	}
}

func canonicalKey(k string) (string, error) {
	k = strings.ReplaceAll(strings.ToLower(k), "-", "_")
	if a, ok := keyAliases[k]; ok {
		return a, nil
	}
	for _, known := range Keys {
		if k == known {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown connection setting %q", k)
}

// decodeFile decodes the TOML file at path into v after checking its
// permissions. It reports false when the file does not exist.
func decodeFile(path string, v any, warn io.Writer) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading configuration: %w", err)
	}
	if err := checkPermissions(path, fi.Mode(), warn); err != nil {
		return false, err
	}
	if _, err := toml.DecodeFile(path, v); err != nil {
		return false, fmt.Errorf("parsing %s: %w", path, err)
	}
	return true, nil
}

// checkPermissions refuses files writable by group or others and warns about
// files they can read, as the Snowflake CLI does. Windows has no such bits.
func checkPermissions(path string, mode fs.FileMode, warn io.Writer) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	perm := mode.Perm()
	if perm&0o022 != 0 {
		return fmt.Errorf("refusing to read %s: it is writable by group or others (mode %#o); run: chmod 0600 %s", path, perm, path)
	}
	if perm&0o044 != 0 {
		fmt.Fprintf(warn, "Warning: %s is readable by group or others (mode %#o); run: chmod 0600 %s\n", path, perm, path)
	}
	return nil
}
