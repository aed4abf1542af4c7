package sqlcli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envMap returns a LookupEnv backed by m.
func envMap(m map[string]string) LookupEnv {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is filtered by the umask; set it exactly.
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

const configTOML = `
default_connection_name = "cfgdefault"

[connections.cfgdefault]
account = "CFGACCT"
user = "cfguser"
password = "cfgpw"

[connections.other]
account = "OTHER"
user = "otheruser"
port = 9000
`

const connectionsTOML = `
[local]
account = "LOCALACCT"
user = "alice"
password = "s3cret"
host = "localhost"
port = "8766"
protocol = "http"
database = "DB1"
schema = "PUBLIC"
warehouse = "WH"
role = "SYSADMIN"

[intport]
account = "X"
username = "bob"
port = 8767

[default]
user = "dflt"
`

func TestResolveConnection(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string // file name → content
		conn    string
		flags   map[string]string
		env     map[string]string
		want    Connection
		wantErr string
	}{
		{
			name: "nothing configured gives firn defaults",
			want: Connection{Name: "default", Account: "FIRN", Host: "127.0.0.1", Port: 8765, Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "config.toml default_connection_name",
			files: map[string]string{"config.toml": configTOML},
			want: Connection{Name: "cfgdefault", Account: "CFGACCT", User: "cfguser", Password: "cfgpw",
				Host: "127.0.0.1", Port: 8765, Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "config.toml integer port",
			files: map[string]string{"config.toml": configTOML},
			conn:  "other",
			want: Connection{Name: "other", Account: "OTHER", User: "otheruser",
				Host: "127.0.0.1", Port: 9000, Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "connections.toml string port and all keys",
			files: map[string]string{"connections.toml": connectionsTOML},
			conn:  "local",
			want: Connection{Name: "local", Account: "LOCALACCT", User: "alice", Password: "s3cret", Host: "localhost",
				Port: 8766, Protocol: "http", Database: "DB1", Schema: "PUBLIC", Warehouse: "WH", Role: "SYSADMIN",
				Authenticator: "snowflake"},
		},
		{
			name:  "connections.toml integer port and username alias",
			files: map[string]string{"connections.toml": connectionsTOML},
			conn:  "intport",
			want: Connection{Name: "intport", Account: "X", User: "bob", Host: "127.0.0.1", Port: 8767,
				Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:    "connections.toml replaces config.toml connections",
			files:   map[string]string{"config.toml": configTOML, "connections.toml": connectionsTOML},
			conn:    "other",
			wantErr: `connection "other" is not configured`,
		},
		{
			name:  "config.toml default name still applies with connections.toml",
			files: map[string]string{"config.toml": configTOML, "connections.toml": connectionsTOML + "\n[cfgdefault]\nuser = \"fromconns\"\n"},
			want: Connection{Name: "cfgdefault", User: "fromconns", Account: "FIRN", Host: "127.0.0.1", Port: 8765,
				Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "SNOWFLAKE_DEFAULT_CONNECTION_NAME beats the file",
			files: map[string]string{"config.toml": configTOML},
			env:   map[string]string{"SNOWFLAKE_DEFAULT_CONNECTION_NAME": "other"},
			want: Connection{Name: "other", Account: "OTHER", User: "otheruser",
				Host: "127.0.0.1", Port: 9000, Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "-c beats SNOWFLAKE_DEFAULT_CONNECTION_NAME",
			files: map[string]string{"config.toml": configTOML},
			conn:  "cfgdefault",
			env:   map[string]string{"SNOWFLAKE_DEFAULT_CONNECTION_NAME": "other"},
			want: Connection{Name: "cfgdefault", Account: "CFGACCT", User: "cfguser", Password: "cfgpw",
				Host: "127.0.0.1", Port: 8765, Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "falls back to the default connection",
			files: map[string]string{"connections.toml": connectionsTOML},
			want: Connection{Name: "default", User: "dflt", Account: "FIRN", Host: "127.0.0.1", Port: 8765,
				Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:  "precedence: flags > per-connection env > file > generic env",
			files: map[string]string{"connections.toml": connectionsTOML},
			conn:  "local",
			env: map[string]string{
				"SNOWFLAKE_USER":                       "genericuser",
				"SNOWFLAKE_WAREHOUSE":                  "GENERICWH",
				"SNOWFLAKE_AUTHENTICATOR":              "SNOWFLAKE_JWT",
				"SNOWFLAKE_CONNECTIONS_LOCAL_PASSWORD": "envpw",
				"SNOWFLAKE_CONNECTIONS_LOCAL_ROLE":     "ENVROLE",
				"SNOWFLAKE_CONNECTIONS_OTHER_ROLE":     "IGNORED",
			},
			flags: map[string]string{"role": "FLAGROLE", "port": "9999"},
			want: Connection{Name: "local", Account: "LOCALACCT", User: "alice", Password: "envpw", Host: "localhost",
				Port: 9999, Protocol: "http", Database: "DB1", Schema: "PUBLIC", Warehouse: "WH", Role: "FLAGROLE",
				Authenticator: "snowflake_jwt"},
		},
		{
			name: "generic env only",
			env: map[string]string{
				"SNOWFLAKE_ACCOUNT": "ENVACCT", "SNOWFLAKE_USER": "u", "SNOWFLAKE_PASSWORD": "p",
				"SNOWFLAKE_HOST": "h.example", "SNOWFLAKE_PORT": "443", "SNOWFLAKE_PROTOCOL": "HTTPS",
				"SNOWFLAKE_DATABASE": "D", "SNOWFLAKE_SCHEMA": "S", "SNOWFLAKE_WAREHOUSE": "W", "SNOWFLAKE_ROLE": "R",
				"SNOWFLAKE_PRIVATE_KEY_FILE": "/k.p8", "SNOWFLAKE_PRIVATE_KEY_FILE_PWD": "kp", "SNOWFLAKE_TOKEN": "tok",
			},
			want: Connection{Name: "default", Account: "ENVACCT", User: "u", Password: "p", Host: "h.example", Port: 443,
				Protocol: "https", Database: "D", Schema: "S", Warehouse: "W", Role: "R", Authenticator: "snowflake",
				PrivateKeyFile: "/k.p8", PrivateKeyFilePwd: "kp", Token: "tok"},
		},
		{
			name: "per-connection env configures an unknown name",
			conn: "ci",
			env:  map[string]string{"SNOWFLAKE_CONNECTIONS_CI_USER": "ciuser"},
			want: Connection{Name: "ci", User: "ciuser", Account: "FIRN", Host: "127.0.0.1", Port: 8765,
				Protocol: "http", Authenticator: "snowflake"},
		},
		{
			name:    "explicit unknown connection",
			files:   map[string]string{"config.toml": configTOML},
			conn:    "nope",
			wantErr: `connection "nope" is not configured`,
		},
		{
			name:    "invalid port",
			flags:   map[string]string{"port": "http"},
			wantErr: `invalid port "http"`,
		},
		{
			name:    "invalid protocol",
			flags:   map[string]string{"protocol": "ftp"},
			wantErr: "protocol must be http or https",
		},
		{
			name:    "bad TOML",
			files:   map[string]string{"connections.toml": "[x\n"},
			wantErr: "parsing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content, 0o600)
			}
			env := map[string]string{"SNOWFLAKE_HOME": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			var warn bytes.Buffer
			got, err := ResolveConnection(tt.conn, tt.flags, envMap(env), &warn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			if warn.Len() != 0 {
				t.Errorf("unexpected warning %q", warn.String())
			}
		})
	}
}

func TestResolveConnectionDefaultHome(t *testing.T) {
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, ".snowflake"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".snowflake"), "connections.toml", "[default]\nuser = \"homeuser\"\n", 0o600)
	got, err := ResolveConnection("", nil, envMap(map[string]string{"HOME": home}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "homeuser" {
		t.Errorf("User = %q, want homeuser from ~/.snowflake/connections.toml", got.User)
	}
}

func TestResolveConnectionPermissions(t *testing.T) {
	tests := []struct {
		mode     os.FileMode
		wantErr  bool
		wantWarn bool
	}{
		{mode: 0o600},
		{mode: 0o400},
		{mode: 0o640, wantWarn: true},
		{mode: 0o644, wantWarn: true},
		{mode: 0o620, wantErr: true},
		{mode: 0o602, wantErr: true},
		{mode: 0o666, wantErr: true},
	}
	for _, tt := range tests {
		for _, file := range []string{"config.toml", "connections.toml"} {
			t.Run(file+"/"+tt.mode.String(), func(t *testing.T) {
				dir := t.TempDir()
				writeFile(t, dir, file, "", tt.mode)
				var warn bytes.Buffer
				_, err := ResolveConnection("", nil, envMap(map[string]string{"SNOWFLAKE_HOME": dir}), &warn)
				if (err != nil) != tt.wantErr {
					t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
				}
				if tt.wantErr && !strings.Contains(err.Error(), "writable by group or others") {
					t.Errorf("err = %v, want a permissions error", err)
				}
				if gotWarn := strings.Contains(warn.String(), "readable by group or others"); gotWarn != tt.wantWarn {
					t.Errorf("warning = %q, want warning %v", warn.String(), tt.wantWarn)
				}
			})
		}
	}
}
