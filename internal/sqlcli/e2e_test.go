package sqlcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fakeSnowflake is a minimal Snowflake REST endpoint, enough for gosnowflake
// to log in, run the statements below and close the session.
func fakeSnowflake(t *testing.T) *httptest.Server {
	t.Helper()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(v); err != nil {
			t.Errorf("encoding reply: %v", err)
		}
	}
	params := []map[string]any{{"name": "TIMEZONE", "value": "UTC"}}
	col := func(name, typ string, scale int) map[string]any {
		return map[string]any{"name": name, "type": typ, "precision": 38, "scale": scale, "nullable": true}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Data map[string]any }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("login body: %v", err)
		}
		if body.Data["LOGIN_NAME"] != "ADMIN" || body.Data["PASSWORD"] != "pw" || body.Data["ACCOUNT_NAME"] != "FIRN" {
			reply(w, map[string]any{"success": false, "code": "390100", "message": "Incorrect username or password was specified.",
				"data": map[string]any{"nextAction": "RETRY_LOGIN", "authnMethod": "PASSWORD"}})
			return
		}
		reply(w, map[string]any{"success": true, "data": map[string]any{
			"token": "ST", "masterToken": "MT", "sessionId": 1, "validityInSeconds": 3600, "parameters": params}})
	})
	mux.HandleFunc("POST /queries/v1/query-request", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			SQLText string `json:"sqlText"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("query body: %v", err)
		}
		data := map[string]any{"queryId": "01b2c3d4-0000-1a2b-0000-00001234abcd", "queryResultFormat": "json",
			"version": 1, "parameters": params}
		switch body.SQLText {
		case "SELECT TYPES":
			data["statementTypeId"] = 4096
			data["rowtype"] = []any{col("N", "fixed", 0), col("F", "real", 0), col("S", "text", 0), col("B", "boolean", 0),
				col("D", "date", 0), col("TS", "timestamp_ntz", 3), col("V", "variant", 0), col("BIN", "binary", 0)}
			data["rowset"] = [][]any{
				{"1", "1.5", "x", "1", "19724", "1704164645.123000000", `{"a":1}`, "48656C6C6F"},
				{"2", nil, nil, "0", nil, nil, nil, nil},
			}
			data["total"], data["returned"] = 2, 2
		case "CREATE DATABASE D":
			data["statementTypeId"] = 0x6000 + 0x100
			data["rowtype"] = []any{col("status", "text", 0)}
			data["rowset"] = [][]any{{"Database D successfully created."}}
			data["total"], data["returned"] = 1, 1
		default:
			reply(w, map[string]any{"success": false, "code": "001003",
				"message": "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'.",
				"data":    map[string]any{"sqlState": "42000", "errorCode": "001003", "queryId": "01b2c3d4-0000-1a2b-0000-00001234abce"}})
			return
		}
		reply(w, map[string]any{"success": true, "data": data})
	})
	ok := func(w http.ResponseWriter, r *http.Request) { reply(w, map[string]any{"success": true, "data": nil}) }
	mux.HandleFunc("POST /telemetry/send", ok)
	mux.HandleFunc("POST /session", ok)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRunAgainstFakeServer(t *testing.T) {
	t.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	srv := fakeSnowflake(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SNOWFLAKE_HOME": t.TempDir(), "SNOWFLAKE_HOST": u.Hostname(), "SNOWFLAKE_PORT": u.Port(),
		"SNOWFLAKE_USER": "ADMIN", "SNOWFLAKE_PASSWORD": "pw",
	}
	const typesTable = "+---+------+------+-------+------------+-------------------------+---------+------------+\n" +
		"| N | F    | S    | B     | D          | TS                      | V       | BIN        |\n" +
		"|---+------+------+-------+------------+-------------------------+---------+------------|\n" +
		"| 1 |  1.5 | x    | True  | 2024-01-02 | 2024-01-02 03:04:05.123 | {\"a\":1} | 48656C6C6F |\n" +
		"| 2 | NULL | NULL | False | NULL       | NULL                    | NULL    | NULL       |\n" +
		"+---+------+------+-------+------------+-------------------------+---------+------------+\n" +
		"2 Row(s) produced.\n"
	tests := []struct {
		name       string
		opts       Options
		stdin      string
		wantOut    string
		wantErrOut string
		wantErr    error
	}{
		{name: "typed query", opts: Options{Query: "SELECT TYPES"}, wantOut: typesTable},
		{
			name: "ddl status and json", opts: Options{Query: "CREATE DATABASE D", Format: FormatJSON},
			wantOut: "[\n  {\n    \"status\": \"Database D successfully created.\"\n  }\n]\n",
		},
		{
			name: "statements from stdin stop at the error", stdin: "CREATE DATABASE D;\nSELEC 1;\nSELECT TYPES;\n", opts: Options{Format: FormatCSV},
			wantOut:    "status\nDatabase D successfully created.\n",
			wantErrOut: "Error: 001003 (42000): SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'SELEC'.\n",
			wantErr:    ErrReported,
		},
		{
			name: "wrong password", opts: Options{Query: "SELECT TYPES", Settings: map[string]string{"password": "nope"}},
			wantErr: errLogin,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.LookupEnv = envMap(env)
			var out, errOut bytes.Buffer
			err := Run(context.Background(), tt.opts, strings.NewReader(tt.stdin), &out, &errOut)
			switch {
			case tt.wantErr == errLogin:
				if err == nil || !strings.Contains(err.Error(), "390100 (08004): Incorrect username or password was specified.") {
					t.Fatalf("err = %v, want the 390100 login error", err)
				}
				return
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout =\n%s\nwant\n%s", out.String(), tt.wantOut)
			}
			if errOut.String() != tt.wantErrOut {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}

var errLogin = errors.New("login error")
