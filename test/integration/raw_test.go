package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// envelope is the Snowflake response envelope.
type envelope struct {
	Data    json.RawMessage `json:"data"`
	Code    any             `json:"code"`
	Message any             `json:"message"`
	Success bool            `json:"success"`
}

// rawPost posts a JSON body to path with a session token and decodes the envelope,
// checking the transport contract: HTTP 200 and application/json.
func (e *env) rawPost(t testing.TB, path, token string, body any) envelope {
	t.Helper()
	return e.rawPostHost(t, "", path, token, body)
}

// rawPostHost is rawPost with a Host header.
func (e *env) rawPostHost(t testing.TB, host, path, token string, body any) envelope {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest("POST", "http://"+e.addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/snowflake")
	if token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: HTTP %d; want 200", path, resp.StatusCode)
	}
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("POST %s: decode: %v", path, err)
	}
	return env
}

// rawLogin logs in with a password and returns the session and master tokens.
func (e *env) rawLogin(t testing.TB, account, user, password string) (token, master string) {
	t.Helper()
	r := e.rawPost(t, "/session/v1/login-request?requestId=00000000-0000-0000-0000-000000000000", "", map[string]any{
		"data": map[string]any{"ACCOUNT_NAME": account, "LOGIN_NAME": user, "PASSWORD": password,
			"CLIENT_APP_ID": "test", "CLIENT_APP_VERSION": "1"},
	})
	if !r.Success {
		t.Fatalf("login: %v %v", r.Code, r.Message)
	}
	var d struct {
		Token       string `json:"token"`
		MasterToken string `json:"masterToken"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Token, d.MasterToken
}
