package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/exec"
)

// resetLink runs ALTER USER <user> RESET PASSWORD and returns the link, checking the
// result's shape: one row, column status, "<USER>'s password reset link: <url>".
func resetLink(t *testing.T, e *env, q queryer, user string) string {
	t.Helper()
	cols, rs := rows(t, q, "ALTER USER "+user+" RESET PASSWORD")
	if len(cols) != 1 || cols[0] != "status" || len(rs) != 1 {
		t.Fatalf("RESET PASSWORD result: %v %v", cols, rs)
	}
	prefix := strings.ToUpper(user) + "'s password reset link: "
	link, ok := strings.CutPrefix(rs[0][0], prefix)
	if !ok || !strings.HasPrefix(link, "http://"+e.addr+exec.PasswordResetPath+"?") {
		t.Fatalf("RESET PASSWORD status %q", rs[0][0])
	}
	return link
}

// linkParams returns a link's account and token.
func linkParams(t *testing.T, link string) (account, token string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("account"), u.Query().Get("token")
}

// resetReply is one answer of the reset page.
type resetReply struct {
	status int
	header http.Header
	body   string
}

func doReset(t *testing.T, c *http.Client, req *http.Request) resetReply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resetReply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// openLink GETs the reset page of link.
func openLink(t *testing.T, c *http.Client, link string) resetReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doReset(t, c, req)
}

// submitForm POSTs the reset form of link as a browser would.
func submitForm(t *testing.T, c *http.Client, e *env, link, password, confirm string) resetReply {
	t.Helper()
	account, token := linkParams(t, link)
	form := url.Values{"account": {account}, "token": {token}, "password": {password}, "confirm": {confirm}}
	req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+exec.PasswordResetPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doReset(t, c, req)
}

// submitJSON POSTs a JSON reset request for link.
func submitJSON(t *testing.T, c *http.Client, e *env, link, password string) resetReply {
	t.Helper()
	account, token := linkParams(t, link)
	b, _ := json.Marshal(map[string]string{"account": account, "token": token, "password": password})
	req, err := http.NewRequest(http.MethodPost, "http://"+e.addr+exec.PasswordResetPath, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return doReset(t, c, req)
}

// jsonCode returns the code of a JSON reply ("" for success).
func jsonCode(t *testing.T, r resetReply) string {
	t.Helper()
	var env struct {
		Code    *string `json:"code"`
		Success bool    `json:"success"`
	}
	if err := json.Unmarshal([]byte(r.body), &env); err != nil {
		t.Fatalf("reply %d %q: %v", r.status, r.body, err)
	}
	if env.Code == nil {
		return ""
	}
	return *env.Code
}

// ping logs in as user with password and returns the error, if any.
func ping(e *env, user, password string) error {
	db, err := sql.Open("snowflake", e.dsn("FIRN", user, password))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// TestResetPassword drives ALTER USER … RESET PASSWORD end to end: the administrator
// gets a link through gosnowflake, an HTTP client completes the reset, and the user
// logs in with the new password through gosnowflake.
func TestResetPassword(t *testing.T) {
	logs := &logBuf{}
	e := start(t, inDir(t.TempDir(), logs))
	admin := conn(t, e.admin())
	mustExec(t, admin,
		"CREATE USER alice PASSWORD = 'Old-passw0rd-1' MUST_CHANGE_PASSWORD = TRUE",
		"CREATE USER bob PASSWORD = 'Bob-passw0rd-1'",
		"CREATE USER bot TYPE = SERVICE",
		"CREATE ROLE nopriv", "GRANT ROLE nopriv TO USER bob", "ALTER USER bob SET DEFAULT_ROLE = nopriv",
		"CREATE USER dave PASSWORD = 'Dave-passw0rd-1'",
		"CREATE NETWORK POLICY only3 ALLOWED_IP_LIST = ('127.0.0.3')",
		"ALTER USER dave SET NETWORK_POLICY = only3",
	)
	web := &http.Client{Timeout: 30 * time.Second}
	var tokens []string // every token handed out; none may reach the logs
	issue := func(user string) string {
		t.Helper()
		link := resetLink(t, e, admin, user)
		_, tok := linkParams(t, link)
		tokens = append(tokens, tok)
		return link
	}

	t.Run("reset, log in with the new password", func(t *testing.T) {
		// Lock alice out first: the reset clears the lockout.
		for range 5 {
			_ = ping(e, "alice", "Wrong-passw0rd-9")
		}
		sfErr(t, ping(e, "alice", "Old-passw0rd-1"), 390102)

		link := issue("alice")
		// The link is shown once: RESULT_SCAN does not keep it.
		_, err := admin.QueryContext(context.Background(), "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))")
		sfErr(t, err, 2003)

		page := openLink(t, web, link)
		if page.status != http.StatusOK || !strings.Contains(page.body, "<form") || !strings.Contains(page.body, "ALICE") {
			t.Fatalf("GET link: %d %q", page.status, page.body)
		}
		for h, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
			"Referrer-Policy":         "no-referrer",
			"Content-Type":            "text/html; charset=utf-8",
		} {
			if got := page.header.Get(h); got != want {
				t.Errorf("%s: %q; want %q", h, got, want)
			}
		}
		for _, tc := range []struct {
			name, password, confirm, want string
		}{
			{"policy refusal", "short1A", "short1A", "PASSWORD_TOO_SHORT"},
			{"passwords differ", "N3w-passw0rd-1", "N3w-passw0rd-2", "differ"},
		} {
			r := submitForm(t, web, e, link, tc.password, tc.confirm)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, "<form") {
				t.Errorf("%s: %d %q", tc.name, r.status, r.body)
			}
		}
		r := submitForm(t, web, e, link, "N3w-passw0rd-1", "N3w-passw0rd-1")
		if r.status != http.StatusOK || !strings.Contains(r.body, "has been changed") {
			t.Fatalf("POST form: %d %q", r.status, r.body)
		}
		db := e.open("FIRN", "alice", "N3w-passw0rd-1")
		if got := one(t, db, "SELECT CURRENT_USER()"); got != "ALICE" {
			t.Errorf("CURRENT_USER() = %q", got)
		}
		sfErr(t, ping(e, "alice", "Old-passw0rd-1"), 390100)
		_, desc := rows(t, admin, "DESC USER alice")
		for _, row := range desc {
			if row[0] == "MUST_CHANGE_PASSWORD" && row[1] != "false" {
				t.Errorf("MUST_CHANGE_PASSWORD = %q after the reset", row[1])
			}
		}

		// The link is burnt.
		if r := submitForm(t, web, e, link, "An0ther-passw0rd", "An0ther-passw0rd"); r.status != http.StatusGone {
			t.Errorf("reused link: %d %q", r.status, r.body)
		}
		if r := openLink(t, web, link); r.status != http.StatusGone || strings.Contains(r.body, "<form") {
			t.Errorf("GET reused link: %d %q", r.status, r.body)
		}
		sfErr(t, ping(e, "alice", "An0ther-passw0rd"), 390100)
	})

	t.Run("a second RESET invalidates the first link", func(t *testing.T) {
		first, second := issue("alice"), issue("alice")
		if r := submitJSON(t, web, e, first, "Fir5t-passw0rd"); r.status != http.StatusGone || jsonCode(t, r) != "390400" {
			t.Errorf("first link: %d %q", r.status, r.body)
		}
		if r := submitJSON(t, web, e, second, "Sec0nd-passw0rd"); r.status != http.StatusOK || jsonCode(t, r) != "" {
			t.Fatalf("second link: %d %q", r.status, r.body)
		}
		if err := ping(e, "alice", "Sec0nd-passw0rd"); err != nil {
			t.Fatalf("login with the second link's password: %v", err)
		}
	})

	t.Run("refused statements", func(t *testing.T) {
		_, err := admin.ExecContext(context.Background(), "ALTER USER bot RESET PASSWORD")
		sfErr(t, err, 1423)
		bob := e.open("FIRN", "bob", "Bob-passw0rd-1")
		_, err = bob.ExecContext(context.Background(), "ALTER USER alice RESET PASSWORD")
		sfErr(t, err, 3001)
	})

	t.Run("refused links", func(t *testing.T) {
		link := issue("alice")
		account, token := linkParams(t, link)
		base := "http://" + e.addr + exec.PasswordResetPath
		for _, tc := range []struct {
			name, url string
		}{
			{"no token", base + "?account=" + account},
			{"malformed token", base + "?account=FIRN&token=firnpwr_abc"},
			{"other account", base + "?" + url.Values{"account": {"NOPE"}, "token": {token}}.Encode()},
			{"tampered token", base + "?" + url.Values{"account": {account}, "token": {token[:len(token)-4] + "AAAA"}}.Encode()},
		} {
			if r := openLink(t, web, tc.url); r.status != http.StatusGone || !strings.Contains(r.body, "invalid or has expired") {
				t.Errorf("%s: %d %q", tc.name, r.status, r.body)
			}
		}
		req, _ := http.NewRequest(http.MethodPut, link, nil)
		if r := doReset(t, web, req); r.status != http.StatusMethodNotAllowed {
			t.Errorf("PUT: %d", r.status)
		}
		// None of it used the link up.
		if r := openLink(t, web, link); r.status != http.StatusOK {
			t.Errorf("link after refusals: %d %q", r.status, r.body)
		}
	})

	t.Run("network policy", func(t *testing.T) {
		link := issue("dave")
		from := func(ip string) *http.Client {
			return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
				DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}}
		}
		if r := openLink(t, from("127.0.0.1"), link); r.status != http.StatusForbidden || strings.Contains(r.body, "<form") {
			t.Errorf("GET from a refused address: %d %q", r.status, r.body)
		}
		if r := submitJSON(t, from("127.0.0.1"), e, link, "Dave-n3w-passw0rd"); r.status != http.StatusForbidden || jsonCode(t, r) != "390422" {
			t.Errorf("POST from a refused address: %d %q", r.status, r.body)
		}
		if r := submitJSON(t, from("127.0.0.3"), e, link, "Dave-n3w-passw0rd"); r.status != http.StatusOK {
			t.Fatalf("POST from the allowed address: %d %q", r.status, r.body)
		}
	})

	t.Run("expired link", func(t *testing.T) {
		link := issue("alice")
		e.clock.Advance(exec.PasswordResetValidity)
		if r := submitForm(t, web, e, link, "Late-passw0rd-1", "Late-passw0rd-1"); r.status != http.StatusGone {
			t.Errorf("expired link: %d %q", r.status, r.body)
		}
		sfErr(t, ping(e, "alice", "Late-passw0rd-1"), 390100)
	})

	for _, tok := range tokens {
		if strings.Contains(logs.String(), tok[len("firnpwr_"):]) {
			t.Errorf("a reset token reached the log")
		}
	}
	if !strings.Contains(logs.String(), "password reset completed") {
		t.Errorf("no log line for the completed resets")
	}
}
