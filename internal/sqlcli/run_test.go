package sqlcli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/snowflakedb/gosnowflake"
)

// fakeExecutor answers statements from a table and records what ran.
type fakeExecutor struct {
	results map[string]*resultSet
	ran     []string
}

func (f *fakeExecutor) exec(_ context.Context, stmt string) (*resultSet, error) {
	f.ran = append(f.ran, stmt)
	if rs, ok := f.results[stmt]; ok {
		return rs, nil
	}
	return nil, &gosnowflake.SnowflakeError{Number: 2003, SQLState: "02000",
		Message: fmt.Sprintf("SQL compilation error:\nObject '%s' does not exist or not authorized.", stmt)}
}

func newFake() *fakeExecutor {
	return &fakeExecutor{results: map[string]*resultSet{
		"SELECT 1":  {Columns: []column{{"1", "FIXED"}}, Rows: [][]cell{{text("1")}}},
		"SELECT 2":  {Columns: []column{{"2", "FIXED"}}, Rows: [][]cell{{text("2")}}},
		"SELECT\n1": {Columns: []column{{"1", "FIXED"}}, Rows: [][]cell{{text("1")}}},
	}}
}

const table1 = "+---+\n| 1 |\n|---|\n| 1 |\n+---+\n1 Row(s) produced.\n"
const table2 = "+---+\n| 2 |\n|---|\n| 2 |\n+---+\n1 Row(s) produced.\n"

func TestRunScript(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		wantRan    []string
		wantOut    string
		wantErrOut string
		wantErr    bool
	}{
		{name: "two statements", text: "SELECT 1; SELECT 2;", wantRan: []string{"SELECT 1", "SELECT 2"}, wantOut: table1 + table2},
		{
			name: "stops at first error", text: "SELECT 1; T; SELECT 2", wantRan: []string{"SELECT 1", "T"}, wantOut: table1,
			wantErrOut: "Error: 002003 (02000): SQL compilation error:\nObject 'T' does not exist or not authorized.\n", wantErr: true,
		},
		{name: "nothing to run", text: "-- only a comment\n", wantRan: nil},
		{
			name: "unterminated string runs nothing", text: "SELECT 1; SELECT 'abc", wantRan: nil, wantErr: true,
			wantErrOut: "Error: 001003 (42000): SQL compilation error:\nsyntax error line 1 at position 17 unexpected ''abc'.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var out, errOut bytes.Buffer
			err := runScript(context.Background(), f, FormatTable, tt.text, &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrReported) {
				t.Errorf("err = %v, want it to wrap ErrReported", err)
			}
			if !reflect.DeepEqual(f.ran, tt.wantRan) {
				t.Errorf("ran %q, want %q", f.ran, tt.wantRan)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if errOut.String() != tt.wantErrOut {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

func TestREPL(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantRan    []string
		wantOut    string
		wantErrOut string
	}{
		{
			name:    "statement per line",
			in:      "SELECT 1;\nSELECT 2;\n",
			wantRan: []string{"SELECT 1", "SELECT 2"},
			wantOut: "FIRN ADMIN> " + table1 + "FIRN ADMIN> " + table2 + "FIRN ADMIN> \n",
		},
		{
			name:    "statement over several lines",
			in:      "SELECT\n1\n;\n",
			wantRan: []string{"SELECT\n1"},
			wantOut: "FIRN ADMIN>          ->          -> " + table1 + "FIRN ADMIN> \n",
		},
		{
			name:    "two statements on one line",
			in:      "SELECT 1; SELECT 2;\n",
			wantRan: []string{"SELECT 1", "SELECT 2"},
			wantOut: "FIRN ADMIN> " + table1 + table2 + "FIRN ADMIN> \n",
		},
		{
			name:       "continues after an error",
			in:         "NOPE;\nSELECT 1;\n",
			wantRan:    []string{"NOPE", "SELECT 1"},
			wantOut:    "FIRN ADMIN> FIRN ADMIN> " + table1 + "FIRN ADMIN> \n",
			wantErrOut: "Error: 002003 (02000): SQL compilation error:\nObject 'NOPE' does not exist or not authorized.\n",
		},
		{
			name:    "exit ends the session",
			in:      "SELECT 1;\n!exit\nSELECT 2;\n",
			wantRan: []string{"SELECT 1"},
			wantOut: "FIRN ADMIN> " + table1 + "FIRN ADMIN> ",
		},
		{
			name:    "quit ends the session",
			in:      "quit\n",
			wantRan: nil,
			wantOut: "FIRN ADMIN> ",
		},
		{
			name:       "unterminated statement at EOF is discarded",
			in:         "SELECT 1",
			wantRan:    nil,
			wantOut:    "FIRN ADMIN>          -> \n",
			wantErrOut: "Warning: discarded the unterminated statement at end of input (end statements with ';')\n",
		},
		{
			name:    "semicolon inside a string spans lines",
			in:      "SELECT 'a;\nb';\n",
			wantRan: []string{"SELECT 'a;\nb'"},
			wantOut: "FIRN ADMIN>          -> FIRN ADMIN> \n",
			wantErrOut: "Error: 002003 (02000): SQL compilation error:\n" +
				"Object 'SELECT 'a;\nb'' does not exist or not authorized.\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var out, errOut bytes.Buffer
			if err := repl(context.Background(), f, FormatTable, "FIRN ADMIN", strings.NewReader(tt.in), &out, &errOut); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.ran, tt.wantRan) {
				t.Errorf("ran %q, want %q", f.ran, tt.wantRan)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if errOut.String() != tt.wantErrOut {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

func TestREPLCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := newFake()
	err := repl(ctx, f, FormatTable, "X", strings.NewReader("SELECT 1;\n"), &bytes.Buffer{}, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(f.ran) != 0 {
		t.Errorf("ran %q after cancellation", f.ran)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      Options
		wantUsage bool
		wantHelp  bool
	}{
		{name: "defaults", args: nil, want: Options{Format: FormatTable}},
		{
			name: "short flags", args: []string{"-c", "local", "-q", "SHOW USERS", "--format", "json"},
			want: Options{Connection: "local", Query: "SHOW USERS", Format: FormatJSON},
		},
		{
			name: "long flags and settings",
			args: []string{"--connection=x", "-f", "a.sql", "--format=csv", "--account", "A", "--user", "U", "--password", "P",
				"--host", "h", "--port", "1", "--protocol", "https", "--database", "D", "--schema", "S", "--warehouse", "W",
				"--role", "R", "--authenticator", "snowflake_jwt", "--private-key-file", "k.p8", "--token", "T"},
			want: Options{Connection: "x", File: "a.sql", Format: FormatCSV, Settings: map[string]string{
				"account": "A", "user": "U", "password": "P", "host": "h", "port": "1", "protocol": "https",
				"database": "D", "schema": "S", "warehouse": "W", "role": "R", "authenticator": "snowflake_jwt",
				"private_key_file": "k.p8", "token": "T"}},
		},
		{name: "unknown flag", args: []string{"--bogus"}, wantUsage: true},
		{name: "bad format", args: []string{"--format", "yaml"}, wantUsage: true},
		{name: "query and file", args: []string{"-q", "x", "-f", "y"}, wantUsage: true},
		{name: "positional argument", args: []string{"SELECT 1"}, wantUsage: true},
		{name: "help", args: []string{"-h"}, wantHelp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got, err := ParseFlags(tt.args, &out)
			switch {
			case tt.wantUsage:
				if !errors.Is(err, ErrUsage) {
					t.Fatalf("err = %v, want ErrUsage", err)
				}
			case tt.wantHelp:
				if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage: firn sql") {
					t.Fatalf("err = %v, output %q; want flag.ErrHelp and usage", err, out.String())
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			}
		})
	}
}

func TestDriverConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.p8")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Connection{Account: "FIRN", User: "ADMIN", Host: "127.0.0.1", Port: 8765, Protocol: "http"}
	tests := []struct {
		name     string
		edit     func(c *Connection)
		wantAuth gosnowflake.AuthType
		check    func(t *testing.T, cfg *gosnowflake.Config)
		wantErr  string
	}{
		{
			name: "password", edit: func(c *Connection) { c.Authenticator = "snowflake"; c.Password = "pw"; c.Database = "DB" },
			wantAuth: gosnowflake.AuthTypeSnowflake,
			check: func(t *testing.T, cfg *gosnowflake.Config) {
				if cfg.Password != "pw" || cfg.Host != "127.0.0.1" || cfg.Port != 8765 || cfg.Protocol != "http" ||
					cfg.Account != "FIRN" || cfg.User != "ADMIN" || cfg.Database != "DB" {
					t.Errorf("config %+v does not carry the connection settings", cfg)
				}
			},
		},
		{
			name: "jwt", edit: func(c *Connection) { c.Authenticator = "snowflake_jwt"; c.PrivateKeyFile = keyFile },
			wantAuth: gosnowflake.AuthTypeJwt,
			check: func(t *testing.T, cfg *gosnowflake.Config) {
				if cfg.PrivateKey == nil || !cfg.PrivateKey.Equal(key) {
					t.Error("private key not loaded")
				}
			},
		},
		{
			name: "oauth", edit: func(c *Connection) { c.Authenticator = "oauth"; c.Token = "tok" },
			wantAuth: gosnowflake.AuthTypeOAuth,
			check: func(t *testing.T, cfg *gosnowflake.Config) {
				if cfg.Token != "tok" {
					t.Errorf("Token = %q", cfg.Token)
				}
			},
		},
		{
			name: "pat from token file", edit: func(c *Connection) { c.Authenticator = "programmatic_access_token"; c.TokenFilePath = tokenFile },
			wantAuth: gosnowflake.AuthTypePat,
			check: func(t *testing.T, cfg *gosnowflake.Config) {
				if cfg.Token != "file-token" {
					t.Errorf("Token = %q", cfg.Token)
				}
			},
		},
		{name: "jwt without key", edit: func(c *Connection) { c.Authenticator = "snowflake_jwt" }, wantErr: "needs private_key_file"},
		{name: "oauth without token", edit: func(c *Connection) { c.Authenticator = "oauth" }, wantErr: "needs a token"},
		{name: "password without user", edit: func(c *Connection) { c.User = ""; c.Password = "pw" }, wantErr: "no user configured"},
		{name: "password missing", edit: func(c *Connection) {}, wantErr: "no password configured"},
		{name: "unsupported", edit: func(c *Connection) { c.Authenticator = "externalbrowser" }, wantErr: "unsupported authenticator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			cfg, err := c.DriverConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Authenticator != tt.wantAuth {
				t.Errorf("Authenticator = %v, want %v", cfg.Authenticator, tt.wantAuth)
			}
			tt.check(t, cfg)
		})
	}
}

func TestParsePrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pem     []byte
		wantErr string
	}{
		{"pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), ""},
		{"pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), ""},
		{"encrypted pkcs8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "not supported"},
		{"not pem", []byte("hello"), "not PEM"},
		{"wrong block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "unsupported PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePrivateKey(tt.pem, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Error("parsed key differs")
			}
		})
	}
}
