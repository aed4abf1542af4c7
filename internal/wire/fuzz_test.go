package wire_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/wire"
)

// FuzzRequestBodies posts arbitrary bytes to the login and query endpoints. Whatever
// arrives, the reply is HTTP 200 (404 only for unknown paths) with a JSON envelope
// whose code is a string of digits or null: drivers retry 5xx forever and fail to
// decode anything else.
func FuzzRequestBodies(f *testing.F) {
	f.Add([]byte(`{"data":{"ACCOUNT_NAME":"a","LOGIN_NAME":"alice","PASSWORD":"pw"}}`), false)
	f.Add([]byte(`{"sqlText":"SELECT 1","asyncExec":false,"bindings":{"1":{"type":"FIXED","value":"1"}}}`), true)
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00}, true)
	f.Add([]byte(`{"data":{"SESSION_PARAMETERS":{"X":[1,{"a":null}]},"ACCOUNT_NAME":7}}`), false)
	f.Add([]byte(`{"sqlText":null,"parameters":{"MULTI_STATEMENT_COUNT":"x"}}`), true)

	st, err := store.OpenSQLite(context.Background(), filepath.Join(f.TempDir(), "firn.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	sessions := session.NewManager(st, session.Config{})
	ws := wire.New(wire.Config{Auth: &fakeAuth{}, Exec: newFakeExec(), Sessions: sessions,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LongPoll: 50 * time.Millisecond})
	defer ws.Close()
	h := ws.Handler()
	token := loginToken(f, h)

	f.Fuzz(func(t *testing.T, body []byte, query bool) {
		path, tok := "/session/v1/login-request?requestId=1", ""
		if query {
			path, tok = "/queries/v1/query-request?requestId=fuzz", token
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", `Snowflake Token="`+tok+`"`)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d for %q", rec.Code, body)
		}
		var env struct {
			Code    *string `json:"code"`
			Success *bool   `json:"success"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success == nil {
			t.Fatalf("reply is not an envelope: %q (%v)", rec.Body.String(), err)
		}
		if env.Code != nil {
			for _, c := range *env.Code {
				if c < '0' || c > '9' {
					t.Fatalf("code %q is not digits", *env.Code)
				}
			}
		}
	})
}

// loginToken logs in through the handler and returns the session token.
func loginToken(f *testing.F, h http.Handler) string {
	body := `{"data":{"ACCOUNT_NAME":"a","LOGIN_NAME":"alice","PASSWORD":"pw"}}`
	req := httptest.NewRequest("POST", "/session/v1/login-request?requestId=1", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Data.Token == "" {
		f.Fatalf("login: %s", rec.Body.String())
	}
	return env.Data.Token
}
