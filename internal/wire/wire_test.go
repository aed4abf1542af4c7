package wire_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
	"github.com/firn/firn/internal/wire"
)

func TestMain(m *testing.M) {
	os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
	os.Setenv("SF_DISABLE_MINICORE", "true")
	os.Exit(m.Run())
}

// failsafe bounds waits for events that must happen; it is never used to pace a test.
const failsafe = 30 * time.Second

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hit is one request the server received.
type hit struct {
	Method, Path, Query, Auth string
}

// recorder logs requests and lets tests wait for one.
type recorder struct {
	mu   sync.Mutex
	hits []hit
	ch   chan hit
}

func (rc *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := hit{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")}
		rc.mu.Lock()
		rc.hits = append(rc.hits, x)
		rc.mu.Unlock()
		select {
		case rc.ch <- x:
		default:
		}
		h.ServeHTTP(w, r)
	})
}

// await consumes recorded requests until one matches.
func (rc *recorder) await(t *testing.T, match func(hit) bool) hit {
	t.Helper()
	x, ok := rc.next(match)
	if !ok {
		t.Fatal("expected request never arrived")
	}
	return x
}

// next is await for goroutines other than the test's: it reports failure instead.
func (rc *recorder) next(match func(hit) bool) (hit, bool) {
	timer := time.NewTimer(failsafe)
	defer timer.Stop()
	for {
		select {
		case x := <-rc.ch:
			if match(x) {
				return x, true
			}
		case <-timer.C:
			return hit{}, false
		}
	}
}

func (rc *recorder) count(method, path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, x := range rc.hits {
		if x.Method == method && x.Path == path {
			n++
		}
	}
	return n
}

type env struct {
	srv  *httptest.Server
	ws   *wire.Server
	clk  *clock
	auth *fakeAuth
	exec *fakeExec
	rec  *recorder
	port string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := storetest.Open(t)
	e := &env{
		clk:  &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		auth: &fakeAuth{},
		exec: newFakeExec(),
		rec:  &recorder{ch: make(chan hit, 4096)},
	}
	e.ws = wire.New(wire.Config{
		Auth:     e.auth,
		Exec:     e.exec,
		Sessions: session.NewManager(st, session.Config{Now: e.clk.Now}),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      e.clk.Now,
		LongPoll: 5 * time.Millisecond,
	})
	e.srv = httptest.NewServer(e.rec.wrap(e.ws.Handler()))
	t.Cleanup(func() {
		e.ws.Close()
		e.srv.Close()
	})
	u, _ := url.Parse(e.srv.URL)
	e.port = u.Port()
	return e
}

func (e *env) dsn(extra string) string {
	return fmt.Sprintf("alice:pw@127.0.0.1:%s/DB1/PUBLIC?account=acme&protocol=http&warehouse=WH1%s", e.port, extra)
}

func (e *env) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("snowflake", e.dsn(""))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

// reply is a decoded envelope.
type reply struct {
	Status      int
	ContentType string
	Success     bool            `json:"success"`
	Code        *string         `json:"code"`
	Message     *string         `json:"message"`
	Data        json.RawMessage `json:"data"`
}

func (r *reply) code() string {
	if r.Code == nil {
		return ""
	}
	return *r.Code
}

func (r *reply) data(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatalf("data %s: %v", r.Data, err)
	}
	return m
}

type rawReq struct {
	method, path string
	token        string
	host         string
	header       map[string]string
	body         []byte
}

func (e *env) do(t *testing.T, rq rawReq) *reply {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	req, err := http.NewRequest(rq.method, e.srv.URL+rq.path, bytes.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if rq.token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+rq.token+`"`)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &reply{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if err := json.Unmarshal(b, r); err != nil {
		t.Fatalf("%s %s: reply %q is not JSON: %v", rq.method, rq.path, b, err)
	}
	if !strings.HasPrefix(r.ContentType, "application/json") {
		t.Fatalf("%s %s: Content-Type %q", rq.method, rq.path, r.ContentType)
	}
	if r.Code != nil && strings.Trim(*r.Code, "0123456789") != "" {
		t.Fatalf("%s %s: code %q is not digits", rq.method, rq.path, *r.Code)
	}
	return r
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// login logs in by hand and returns the session and master tokens.
func (e *env) login(t *testing.T, host string, data map[string]any) (string, string, *reply) {
	t.Helper()
	if data == nil {
		data = map[string]any{"ACCOUNT_NAME": "acme", "LOGIN_NAME": "alice", "PASSWORD": "pw"}
	}
	r := e.do(t, rawReq{path: "/session/v1/login-request?requestId=1", host: host, body: mustJSON(t, map[string]any{"data": data})})
	if r.Status != http.StatusOK || !r.Success {
		t.Fatalf("login failed: %d %s %v", r.Status, r.code(), r.Message)
	}
	d := r.data(t)
	return d["token"].(string), d["masterToken"].(string), r
}

func (e *env) query(t *testing.T, token, requestID, sqlText string) *reply {
	t.Helper()
	path := "/queries/v1/query-request?request_guid=x"
	if requestID != "" {
		path += "&requestId=" + requestID
	}
	return e.do(t, rawReq{path: path, token: token, body: mustJSON(t, map[string]any{"sqlText": sqlText, "sequenceId": 1})})
}

func sfError(t *testing.T, err error) *sf.SnowflakeError {
	t.Helper()
	var se *sf.SnowflakeError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a SnowflakeError", err, err)
	}
	return se
}

func TestDriverLogin(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	var n int64
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
	req := e.auth.last()
	if req.Account != "acme" || req.LoginName != "alice" || req.ClientApp != "Go" ||
		req.Database != "DB1" || req.Schema != "PUBLIC" || req.Warehouse != "WH1" {
		t.Fatalf("LoginRequest = %+v", req)
	}
	if !req.ClientIP.IsLoopback() {
		t.Fatalf("ClientIP = %v, want loopback", req.ClientIP)
	}
	// gosnowflake reports its connection telemetry right after login.
	if e.rec.count("POST", "/telemetry/send") == 0 {
		t.Fatal("no telemetry request")
	}
}

func TestDriverLoginFailure(t *testing.T) {
	e := newEnv(t)
	db, err := sql.Open("snowflake", strings.Replace(e.dsn(""), ":pw@", ":wrong@", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	se := sfError(t, db.Ping())
	if se.Number != 390100 || !strings.Contains(se.Message, "Incorrect username or password") {
		t.Fatalf("error = %+v, want 390100", se)
	}
}

func TestLoginReply(t *testing.T) {
	e := newEnv(t)
	_, _, r := e.login(t, "", map[string]any{
		"ACCOUNT_NAME": "acme.us-east-1", "LOGIN_NAME": "alice", "PASSWORD": "pw",
		"CLIENT_APP_ID": "JavaScript", "CLIENT_APP_VERSION": "3.3.0", "AUTHENTICATOR": "snowflake",
		"SESSION_PARAMETERS": map[string]any{
			"CLIENT_SESSION_KEEP_ALIVE":                     true,
			"CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY": 900,
			"QUERY_TAG":                            "tag",
			"CLIENT_STAGE_ARRAY_BINDING_THRESHOLD": 10,
		},
	})
	req := e.auth.last()
	if req.Account != "acme" || req.Authenticator != "SNOWFLAKE" || req.ClientApp != "JavaScript" {
		t.Fatalf("LoginRequest = %+v", req)
	}
	if v, ok := req.SessionParams["CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY"].(int64); !ok || v != 900 {
		t.Fatalf("SessionParams = %#v", req.SessionParams)
	}
	d := r.data(t)
	if d["validityInSeconds"].(float64) != 3600 || d["masterValidityInSeconds"].(float64) != 14400 ||
		d["sessionId"].(float64) <= 0 || d["displayUserName"] != "ALICE" || d["serverVersion"] == "" {
		t.Fatalf("login data = %v", d)
	}
	if si := d["sessionInfo"].(map[string]any); si["roleName"] != "SYSADMIN" || si["databaseName"] != nil {
		t.Fatalf("sessionInfo = %v", si)
	}
	ps := map[string]any{}
	for _, p := range d["parameters"].([]any) {
		m := p.(map[string]any)
		ps[m["name"].(string)] = m["value"]
	}
	want := map[string]any{
		"TIMEZONE":                  "America/New_York",
		"CLIENT_SESSION_KEEP_ALIVE": true, // the client's value wins, as a JSON bool
		"CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY": float64(900),
		"QUERY_TAG": "tag",
	}
	for k, v := range want {
		if ps[k] != v {
			t.Errorf("parameter %s = %#v, want %#v", k, ps[k], v)
		}
	}
	if _, ok := ps["CLIENT_STAGE_ARRAY_BINDING_THRESHOLD"]; ok {
		t.Error("CLIENT_STAGE_ARRAY_BINDING_THRESHOLD was sent")
	}
}

func TestLoginErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name     string
		body     []byte
		wantCode string
	}{
		{"wrong password", mustJSON(t, map[string]any{"data": map[string]any{"ACCOUNT_NAME": "acme", "LOGIN_NAME": "alice", "PASSWORD": "x"}}), "390100"},
		{"not JSON", []byte("{nope"), "000601"},
		{"no data", []byte(`{"x":1}`), "000601"},
		{"authenticator panic", mustJSON(t, map[string]any{"data": map[string]any{"ACCOUNT_NAME": "acme", "LOGIN_NAME": "panic"}}), "000603"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, rawReq{path: "/session/v1/login-request", body: tc.body})
			if r.Status != 200 || r.Success || r.code() != tc.wantCode {
				t.Fatalf("reply = %d success=%v code=%s", r.Status, r.Success, r.code())
			}
			if tc.wantCode == "390100" {
				d := r.data(t)
				if d["nextAction"] != "RETRY_LOGIN" || d["authnMethod"] != "PASSWORD" || d["sqlState"] != "08004" {
					t.Fatalf("data = %v", d)
				}
			}
			if tc.wantCode == "000603" && strings.Contains(string(r.Data)+*r.Message, "exploded") {
				t.Fatal("panic text reached the client")
			}
		})
	}
}

func TestAccountFromHost(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "acme.firn.example:443", map[string]any{"LOGIN_NAME": "alice", "PASSWORD": "pw"})
	if got := e.auth.last().Account; got != "acme" {
		t.Fatalf("account from Host = %q, want acme", got)
	}
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"acme.firn.example", true},
		{"ACME.firn.example:8443", true},
		{"127.0.0.1:9", true},
		{"localhost:9", true},
		{"[::1]:9", true},
		{"other.firn.example", false},
	} {
		r := e.do(t, rawReq{path: "/session/heartbeat", token: tok, host: tc.host})
		if r.Success != tc.ok || (!tc.ok && r.code() != "390104") {
			t.Errorf("heartbeat via %s: success=%v code=%s, want ok=%v", tc.host, r.Success, r.code(), tc.ok)
		}
	}
	// With neither ACCOUNT_NAME nor an account in the Host, the login has no account.
	r := e.do(t, rawReq{path: "/session/v1/login-request", body: mustJSON(t, map[string]any{"data": map[string]any{"LOGIN_NAME": "alice", "PASSWORD": "pw"}})})
	if r.Success || r.code() != "390100" || e.auth.last().Account != "" {
		t.Fatalf("login without account: %v %s (account %q)", r.Success, r.code(), e.auth.last().Account)
	}
}

func TestHostAccountOverride(t *testing.T) {
	e := newEnv(t)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws := wire.New(wire.Config{Auth: e.auth, Exec: e.exec, Sessions: session.NewManager(st, session.Config{}),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		HostAccount: func(string) string { return "" }})
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	e.srv = srv
	tok, _, _ := e.login(t, "snowflake.corp.example", nil)
	if r := e.do(t, rawReq{path: "/session/heartbeat", token: tok, host: "snowflake.corp.example"}); !r.Success {
		t.Fatalf("heartbeat with host accounts disabled: %s", r.code())
	}
}

func TestDriverAllTypes(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	var (
		i       int64
		d       float64
		dText   string
		bigText string
		r       float64
		s       string
		b       bool
		dt, tm  time.Time
		ntz     time.Time
		ltz, tz time.Time
		v, o, a string
		bin     []byte
		n       sql.NullString
	)
	row := db.QueryRow("SELECT ALLTYPES")
	if err := row.Scan(&i, &d, &bigText, &r, &s, &b, &dt, &tm, &ntz, &ltz, &tz, &v, &o, &a, &bin, &n); err != nil {
		t.Fatalf("scan: %v", err)
	}
	if err := db.QueryRow("SELECT ALLTYPES").Scan(new(any), &dText, new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any)); err != nil {
		t.Fatal(err)
	}
	if i != 42 || d != 3.14 || dText != "3.14" || bigText != wantBig || r != 1.5 || s != "héllo" || !b {
		t.Errorf("scalars: %d %v %q %q %v %q %v", i, d, dText, bigText, r, s, b)
	}
	if !dt.Equal(wantDate) {
		t.Errorf("date = %v", dt)
	}
	if tm.Hour() != 1 || tm.Minute() != 2 || tm.Second() != 3 || tm.Nanosecond() != 500000000 {
		t.Errorf("time = %v", tm)
	}
	if !ntz.Equal(wantNTZ) {
		t.Errorf("timestamp_ntz = %v, want %v", ntz, wantNTZ)
	}
	if !ltz.Equal(wantLTZ) || ltz.Location().String() != "America/New_York" {
		t.Errorf("timestamp_ltz = %v (%v), want %v in the session time zone", ltz, ltz.Location(), wantLTZ)
	}
	if _, off := tz.Zone(); !tz.Equal(wantTZ) || off != 3600 {
		t.Errorf("timestamp_tz = %v, want %v", tz, wantTZ)
	}
	if v != `{"a":1}` || o != `{"k":"v"}` || a != `[1,2]` {
		t.Errorf("semi-structured = %s %s %s", v, o, a)
	}
	if string(bin) != "Hello" || n.Valid {
		t.Errorf("binary %q, null %v", bin, n)
	}

	rows, err := db.Query("SELECT ALLTYPES")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"FIXED", "FIXED", "FIXED", "REAL", "TEXT", "BOOLEAN", "DATE", "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "VARIANT", "OBJECT", "ARRAY", "BINARY", "TEXT"}
	for k, ct := range cts {
		if ct.DatabaseTypeName() != want[k] {
			t.Errorf("column %s type %s, want %s", ct.Name(), ct.DatabaseTypeName(), want[k])
		}
	}
	if p, s, ok := cts[1].DecimalSize(); !ok || p != 10 || s != 2 {
		t.Errorf("D decimal size = %d,%d,%v", p, s, ok)
	}
	if nullable, ok := cts[15].Nullable(); !ok || !nullable {
		t.Errorf("N nullable = %v,%v", nullable, ok)
	}
}

func TestDriverDMLAndDDL(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	res, err := db.Exec("INSERT")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 3 {
		t.Fatalf("RowsAffected = %d, %v", n, err)
	}
	res, err = db.Exec("EMPTY INSERT")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 0 {
		t.Fatalf("RowsAffected of an empty DML result = %d, %v", n, err)
	}
	if _, err := db.Exec("CREATE TABLE T"); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := db.QueryRow("CREATE TABLE T").Scan(&status); err != nil || status != "Table T successfully created." {
		t.Fatalf("DDL status = %q, %v", status, err)
	}
}

func TestDriverSessionState(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "USE ROLE ANALYST"); err != nil {
		t.Fatal(err)
	}
	// The raw reply to a later query reports the persisted role.
	tok := e.rec.await(t, func(h hit) bool { return h.Path == "/queries/v1/query-request" }).Auth
	tok = strings.TrimSuffix(strings.TrimPrefix(tok, `Snowflake Token="`), `"`)
	r := e.query(t, tok, "", "SELECT 1")
	if got := r.data(t)["finalRoleName"]; got != "ANALYST" {
		t.Fatalf("finalRoleName = %v, want ANALYST", got)
	}
}

func TestDriverError(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	_, err := db.Query("BAD")
	se := sfError(t, err)
	if se.Number != 2003 || se.SQLState != "02000" || se.QueryID == "" || !strings.Contains(se.Message, "Object 'T' does not exist") {
		t.Fatalf("error = %+v", se)
	}

	tok, _, _ := e.login(t, "", nil)
	r := e.query(t, tok, "", "BAD")
	d := r.data(t)
	if r.Success || r.code() != "002003" || d["errorCode"] != "002003" || d["sqlState"] != "02000" ||
		d["type"] != "COMPILATION" || d["line"] != float64(-1) || d["pos"] != float64(-1) ||
		d["internalError"] != false || d["queryId"] == "" {
		t.Fatalf("error reply %s %s", r.code(), r.Data)
	}
	r = e.query(t, tok, "", "OPAQUE")
	if r.code() != "000603" || strings.Contains(string(r.Data)+*r.Message, "secret") || r.data(t)["internalError"] != true {
		t.Fatalf("opaque error reply %s %v %s", r.code(), *r.Message, r.Data)
	}
}

func TestDriverSlowQuery(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	go func() {
		// Release the query only once the driver has been told it is in progress.
		if _, ok := e.rec.next(func(h hit) bool { return strings.HasSuffix(h.Path, "/result") }); !ok {
			t.Error("the driver never polled for the result")
		}
		close(e.exec.release)
	}()
	var n int64
	if err := db.QueryRow("SLOW").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SLOW = %d, %v", n, err)
	}
}

func TestDriverAsync(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	ctx := sf.WithAsyncMode(context.Background())
	// QueryContext returns while the executor is still blocked: the reply was 333334.
	rows, err := db.QueryContext(ctx, "SLOW")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	close(e.exec.release)
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	var n int64
	if err := rows.Scan(&n); err != nil || n != 42 {
		t.Fatalf("async SLOW = %d, %v", n, err)
	}
}

func TestDriverAbort(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := db.QueryContext(ctx, "BLOCK")
		errc <- err
	}()
	var qid string
	select {
	case qid = <-e.exec.started:
	case <-time.After(failsafe):
		t.Fatal("query never started")
	}
	cancel()
	select {
	case err := <-e.exec.canceled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("executor ctx error = %v", err)
		}
	case <-time.After(failsafe):
		t.Fatal("cancellation never reached the executor")
	}
	if err := <-errc; err == nil {
		t.Fatal("cancelled query returned no error")
	}
	e.rec.await(t, func(h hit) bool { return h.Path == "/queries/v1/abort-request" })

	// The query's final state: a canceled error and ABORTED status.
	tok, _, _ := e.login(t, "", nil)
	var r *reply
	for r = e.do(t, rawReq{method: "GET", path: "/queries/" + qid + "/result", token: tok}); r.code() == "333334"; {
		r = e.do(t, rawReq{method: "GET", path: "/queries/" + qid + "/result", token: tok})
	}
	if r.code() != "000604" {
		t.Fatalf("result of aborted query: %s %s", r.code(), r.Data)
	}
	m := e.do(t, rawReq{method: "GET", path: "/monitoring/queries/" + qid, token: tok})
	qs := m.data(t)["queries"].([]any)
	if len(qs) != 1 || qs[0].(map[string]any)["status"] != "ABORTED" {
		t.Fatalf("monitoring = %s", m.Data)
	}
	// Aborting a finished query answers 000605.
	a := e.do(t, rawReq{path: "/queries/" + qid + "/abort-request", token: tok})
	if a.Success || a.code() != "000605" {
		t.Fatalf("abort of finished query: %v %s", a.Success, a.code())
	}
	a = e.do(t, rawReq{path: "/queries/v1/abort-request", token: tok, body: []byte(`{"requestId":"nope"}`)})
	if a.Success || a.code() != "000605" {
		t.Fatalf("abort of unknown request: %v %s", a.Success, a.code())
	}
}

func TestAbortByQueryID(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	r := e.do(t, rawReq{path: "/queries/v1/query-request?requestId=r1", token: tok, body: []byte(`{"sqlText":"BLOCK","asyncExec":true}`)})
	if r.code() != "333334" {
		t.Fatalf("async reply %s", r.code())
	}
	d := r.data(t)
	qid := d["queryId"].(string)
	if d["getResultUrl"] != "/queries/"+qid+"/result" {
		t.Fatalf("getResultUrl = %v", d["getResultUrl"])
	}
	if got := <-e.exec.started; got != qid {
		t.Fatalf("executor got query id %s, reply %s", got, qid)
	}
	m := e.do(t, rawReq{method: "GET", path: "/monitoring/queries/" + qid, token: tok})
	if st := m.data(t)["queries"].([]any)[0].(map[string]any)["status"]; st != "RUNNING" {
		t.Fatalf("status = %v, want RUNNING", st)
	}
	a := e.do(t, rawReq{path: "/queries/" + qid + "/abort-request", token: tok})
	if !a.Success {
		t.Fatalf("abort: %s %v", a.code(), a.Message)
	}
	if err := <-e.exec.canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("executor ctx error = %v", err)
	}
}

func TestDriverRenewAfterExpiry(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	var n int64
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(61 * time.Minute)
	if err := db.QueryRow("SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("query after expiry = %d, %v", n, err)
	}
	if e.rec.count("POST", "/session/token-request") != 1 {
		t.Fatalf("token-request count = %d, want 1", e.rec.count("POST", "/session/token-request"))
	}
	if got := e.exec.count("SELECT 1"); got != 2 {
		t.Fatalf("SELECT 1 ran %d times, want 2", got)
	}
}

func TestRenewByHand(t *testing.T) {
	e := newEnv(t)
	tok, master, _ := e.login(t, "", nil)
	e.clk.Advance(2 * time.Hour)
	if r := e.query(t, tok, "", "SELECT 1"); r.code() != "390112" || r.Success {
		t.Fatalf("expired token: %s", r.code())
	}
	r := e.do(t, rawReq{path: "/session/token-request?requestId=2", token: master,
		body: mustJSON(t, map[string]any{"oldSessionToken": tok, "requestType": "RENEW"})})
	if !r.Success {
		t.Fatalf("renew: %s %v", r.code(), *r.Message)
	}
	d := r.data(t)
	if d["masterToken"] != master || d["sessionToken"] == tok || d["validityInSecondsST"] != float64(3600) || d["validityInSecondsMT"] != float64(7200) {
		t.Fatalf("renew data = %v", d)
	}
	if r := e.query(t, d["sessionToken"].(string), "", "SELECT 1"); !r.Success {
		t.Fatalf("query with renewed token: %s", r.code())
	}
	if r := e.query(t, tok, "", "SELECT 1"); r.code() != "390104" {
		t.Fatalf("old token: %s, want 390104", r.code())
	}
	e.clk.Advance(2 * time.Hour)
	r = e.do(t, rawReq{path: "/session/token-request", token: master, body: []byte(`{"requestType":"RENEW"}`)})
	if r.code() != "390114" {
		t.Fatalf("renew after master expiry: %s, want 390114", r.code())
	}
}

func TestHeartbeatAndClose(t *testing.T) {
	e := newEnv(t)
	tok, master, _ := e.login(t, "", nil)
	if r := e.do(t, rawReq{path: "/session/heartbeat?requestId=3", token: tok}); !r.Success || string(r.Data) != "null" {
		t.Fatalf("heartbeat: %v %s", r.Success, r.Data)
	}
	if r := e.do(t, rawReq{path: "/session/heartbeat"}); r.code() != "390104" {
		t.Fatalf("heartbeat without token: %s", r.code())
	}
	if r := e.do(t, rawReq{path: "/telemetry/send", token: tok, body: []byte(`{"logs":[]}`)}); !r.Success || string(r.Data) != `"Log Received"` {
		t.Fatalf("telemetry: %v %s", r.Success, r.Data)
	}
	// A running query is cancelled by close.
	if r := e.do(t, rawReq{path: "/queries/v1/query-request", token: tok, body: []byte(`{"sqlText":"BLOCK","asyncExec":true}`)}); r.code() != "333334" {
		t.Fatalf("async BLOCK: %s", r.code())
	}
	<-e.exec.started
	if r := e.do(t, rawReq{path: "/session?delete=true&requestId=4", token: tok}); !r.Success {
		t.Fatalf("close: %s", r.code())
	}
	if err := <-e.exec.canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("executor ctx after close = %v", err)
	}
	if r := e.do(t, rawReq{path: "/session/heartbeat", token: tok}); r.code() != "390104" {
		t.Fatalf("heartbeat after close: %s", r.code())
	}
	if r := e.do(t, rawReq{path: "/session/token-request", token: master, body: []byte(`{}`)}); r.code() != "390104" {
		t.Fatalf("renew after close: %s", r.code())
	}
}

func TestDriverClose(t *testing.T) {
	e := newEnv(t)
	db, err := sql.Open("snowflake", e.dsn(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	h := e.rec.await(t, func(h hit) bool { return h.Path == "/session" && strings.Contains(h.Query, "delete=true") })
	tok := strings.TrimSuffix(strings.TrimPrefix(h.Auth, `Snowflake Token="`), `"`)
	if r := e.do(t, rawReq{path: "/session/heartbeat", token: tok}); r.code() != "390104" {
		t.Fatalf("driver's token after close: %s", r.code())
	}
}

func TestGzipBody(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"sqlText":"SELECT 1"}`))
	zw.Close()
	for _, hdr := range []map[string]string{{"Content-Encoding": "gzip"}, nil} {
		r := e.do(t, rawReq{path: "/queries/v1/query-request", token: tok, header: hdr, body: buf.Bytes()})
		if !r.Success || r.data(t)["rowset"].([]any)[0].([]any)[0] != "1" {
			t.Fatalf("gzip query (header %v): %s %s", hdr, r.code(), r.Data)
		}
	}
	r := e.do(t, rawReq{path: "/queries/v1/query-request", token: tok, header: map[string]string{"Content-Encoding": "gzip"}, body: []byte("not gzip")})
	if r.Success || r.Status != 200 {
		t.Fatalf("bad gzip: %d %v", r.Status, r.Success)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws := wire.New(wire.Config{Auth: e.auth, Exec: e.exec, Sessions: session.NewManager(st, session.Config{}), MaxBodyBytes: 1024,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	e.srv = srv
	tok, _, _ := e.login(t, "", nil)
	big := mustJSON(t, map[string]any{"sqlText": "SELECT 1", "pad": strings.Repeat("x", 2000)})
	r := e.do(t, rawReq{path: "/queries/v1/query-request", token: tok, body: big})
	if r.Success || r.code() != "000602" || !strings.Contains(*r.Message, "1024") {
		t.Fatalf("oversized body: %s %v", r.code(), r.Message)
	}
	// A small gzip body that expands beyond the limit is refused too.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(big)
	zw.Close()
	if buf.Len() >= 1024 {
		t.Fatalf("compressed body is %d bytes", buf.Len())
	}
	r = e.do(t, rawReq{path: "/queries/v1/query-request", token: tok, body: buf.Bytes()})
	if r.Success || r.code() != "000602" {
		t.Fatalf("gzip bomb: %s", r.code())
	}
}

func TestRequestIDIdempotency(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	r1 := e.query(t, tok, "req-1", "COUNT")
	if r1.code() != "333334" {
		t.Fatalf("first post: %s", r1.code())
	}
	qid := r1.data(t)["queryId"].(string)
	r2 := e.query(t, tok, "req-1", "COUNT")
	if r2.code() != "333334" || r2.data(t)["queryId"] != qid {
		t.Fatalf("retry while running: %s %s", r2.code(), r2.Data)
	}
	close(e.exec.release)
	var r3 *reply
	for r3 = e.query(t, tok, "req-1", "COUNT"); r3.code() == "333334"; {
		r3 = e.query(t, tok, "req-1", "COUNT")
	}
	if !r3.Success || r3.data(t)["queryId"] != qid {
		t.Fatalf("retry after finish: %s %s", r3.code(), r3.Data)
	}
	if n := e.exec.count("COUNT"); n != 1 {
		t.Fatalf("COUNT executed %d times, want 1", n)
	}
	// Another requestId, or another session, runs again.
	if r := e.query(t, tok, "req-2", "COUNT"); r.data(t)["queryId"] == qid {
		t.Fatal("new requestId reused the old query")
	}
	tok2, _, _ := e.login(t, "", nil)
	if r := e.query(t, tok2, "req-1", "COUNT"); r.data(t)["queryId"] == qid {
		t.Fatal("another session reused the query")
	}
	if n := e.exec.count("COUNT"); n != 3 {
		t.Fatalf("COUNT executed %d times, want 3", n)
	}
}

func TestPanicInExecutor(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	_, err := db.Query("PANIC")
	if se := sfError(t, err); se.Number != 603 {
		t.Fatalf("error = %+v, want 000603", se)
	}
	tok, _, _ := e.login(t, "", nil)
	r := e.query(t, tok, "", "PANIC")
	if r.Status != 200 || r.Success || r.code() != "000603" || r.data(t)["internalError"] != true ||
		strings.Contains(string(r.Data)+*r.Message, "exploded") {
		t.Fatalf("panic reply: %d %s %v %s", r.Status, r.code(), *r.Message, r.Data)
	}
	// The server keeps serving.
	if r := e.query(t, tok, "", "SELECT 1"); !r.Success {
		t.Fatalf("after panic: %s", r.code())
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"},
		{"POST", "/session/authenticator-request"},
		{"GET", "/session/v1/login-request"},
		{"POST", "/session"},
	} {
		r := e.do(t, rawReq{method: tc.method, path: tc.path})
		if r.Status != http.StatusNotFound || r.Success {
			t.Errorf("%s %s: %d success=%v", tc.method, tc.path, r.Status, r.Success)
		}
	}
}

func TestUnknownQueryID(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	r := e.do(t, rawReq{method: "GET", path: "/queries/01b2c3d4-0000-1a2b-0000-00001234abcd/result", token: tok})
	if r.Success || r.code() != "000709" {
		t.Fatalf("unknown query: %s", r.code())
	}
	m := e.do(t, rawReq{method: "GET", path: "/monitoring/queries/01b2c3d4-0000-1a2b-0000-00001234abcd", token: tok})
	if !m.Success || len(m.data(t)["queries"].([]any)) != 0 {
		t.Fatalf("monitoring of unknown query: %s", m.Data)
	}
	// A finished query reports SUCCESS; another user cannot see it.
	r = e.query(t, tok, "", "SELECT 1")
	qid := r.data(t)["queryId"].(string)
	bob, _, _ := e.login(t, "", map[string]any{"ACCOUNT_NAME": "acme", "LOGIN_NAME": "bob", "PASSWORD": "pw"})
	if r := e.do(t, rawReq{method: "GET", path: "/queries/" + qid + "/result", token: bob}); r.code() != "000709" {
		t.Fatalf("another user's result: %s", r.code())
	}
	if r := e.do(t, rawReq{path: "/queries/" + qid + "/abort-request", token: bob}); r.code() != "000605" {
		t.Fatalf("another user's abort: %s", r.code())
	}
	m = e.do(t, rawReq{method: "GET", path: "/monitoring/queries/" + qid, token: tok})
	q := m.data(t)["queries"].([]any)[0].(map[string]any)
	if q["status"] != "SUCCESS" || q["sqlText"] != "SELECT 1" || q["id"] != qid {
		t.Fatalf("monitoring = %v", q)
	}
	if r := e.do(t, rawReq{method: "GET", path: "/queries/" + qid + "/result", token: tok}); !r.Success || r.data(t)["queryId"] != qid {
		t.Fatalf("result by id: %s", r.code())
	}
}

func TestDriverMultiStatement(t *testing.T) {
	e := newEnv(t)
	db := e.db(t)
	ctx, err := sf.WithMultiStatement(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "MULTI")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if len(got) != 2 || got[0] != 7 || got[1] != 8 {
		t.Fatalf("first result = %v", got)
	}
	if !rows.NextResultSet() || !rows.Next() {
		t.Fatalf("no second result: %v", rows.Err())
	}
	var inserted int64
	if err := rows.Scan(&inserted); err != nil || inserted != 5 {
		t.Fatalf("second result = %d, %v", inserted, err)
	}
	rows.Close() // frees the only connection
	res, err := db.ExecContext(ctx, "MULTI")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 5 {
		t.Fatalf("multi RowsAffected = %d, %v", n, err)
	}
	// Without the count the executor refuses.
	_, err = db.Query("MULTI")
	if se := sfError(t, err); se.Number != 8 {
		t.Fatalf("error = %+v", se)
	}
}

func TestQueryReplyShape(t *testing.T) {
	e := newEnv(t)
	tok, _, _ := e.login(t, "", nil)
	r := e.query(t, tok, "", "CREATE TABLE T")
	d := r.data(t)
	if d["statementTypeId"] != float64(0x6000) || d["version"] != float64(1) || d["queryResultFormat"] != "json" ||
		d["total"] != float64(1) || d["returned"] != float64(1) || d["finalRoleName"] != "SYSADMIN" {
		t.Fatalf("reply = %s", r.Data)
	}
	rt := d["rowtype"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "type", "precision", "scale", "nullable", "length", "byteLength", "database", "schema", "table", "collation"} {
		if _, ok := rt[k]; !ok {
			t.Errorf("rowtype lacks %q", k)
		}
	}
	names := map[string]bool{}
	for _, p := range d["parameters"].([]any) {
		names[p.(map[string]any)["name"].(string)] = true
	}
	if !names["TIMEZONE"] || !names["BINARY_OUTPUT_FORMAT"] || names["CLIENT_STAGE_ARRAY_BINDING_THRESHOLD"] {
		t.Fatalf("parameters = %v", names)
	}
	r = e.query(t, tok, "", "INSERT")
	if rs := r.data(t)["rowset"].([]any); len(rs) != 1 || rs[0].([]any)[0] != "3" {
		t.Fatalf("DML rowset = %v", rs)
	}
	r = e.query(t, tok, "", "EMPTY INSERT")
	if rs := r.data(t)["rowset"].([]any); len(rs) != 1 || rs[0].([]any)[0] != "0" {
		t.Fatalf("empty DML rowset = %v", rs)
	}
}
