package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// patWorld seeds account FIRN with PERSON user PU (password "Pu-password-1", roles
// ANALYST and OTHER), SERVICE user SVC (role ANALYST), and a second account OTHERACCT
// with its own user PU. Users are written through the catalog so these tests do not
// depend on CREATE USER / GRANT.
func patWorld(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	hash, err := auth.HashPassword("Pu-password-1")
	if err != nil {
		t.Fatal(err)
	}
	err = e.srv.Store().Update(ctx, func(tx store.Tx) error {
		for _, u := range []*catalog.User{{Name: "PU", PasswordHash: hash}, {Name: "SVC", Type: "SERVICE"}} {
			if err := catalog.CreateUser(ctx, tx, "FIRN", catalog.RoleAccountAdmin, u); err != nil {
				return err
			}
		}
		for _, r := range []string{"ANALYST", "OTHER"} {
			if err := catalog.CreateRole(ctx, tx, "FIRN", catalog.RoleAccountAdmin, &catalog.Role{Name: r}); err != nil {
				return err
			}
		}
		for _, g := range [][2]string{{"ANALYST", "PU"}, {"OTHER", "PU"}, {"ANALYST", "SVC"}} {
			if err := catalog.GrantRole(ctx, tx, "FIRN", &catalog.RoleGrant{Role: g[0], GranteeKind: catalog.GranteeUser, Grantee: g[1]}); err != nil {
				return err
			}
		}
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "OTHERACCT"}, &catalog.User{Name: "PU", PasswordHash: hash})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// patDB opens (without pinging) a gosnowflake handle that logs in with a PAT.
func patDB(t *testing.T, e *env, account, user, secret string) *sql.DB {
	t.Helper()
	db, err := sql.Open("snowflake", e.dsn(account, user, "", "authenticator", "PROGRAMMATIC_ACCESS_TOKEN", "token", secret))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addPAT runs an ADD or ROTATE statement and returns its columns and single row.
func addPAT(t *testing.T, q queryer, stmt string) ([]string, []string) {
	t.Helper()
	cols, rs := rows(t, q, stmt)
	if len(rs) != 1 {
		t.Fatalf("%s: %d rows", stmt, len(rs))
	}
	return cols, rs[0]
}

// lastLogin returns the newest LOGIN_HISTORY row of account.
func lastLogin(t *testing.T, e *env, account string) *store.LoginRecord {
	t.Helper()
	var rec *store.LoginRecord
	err := e.srv.Store().View(context.Background(), func(tx store.Tx) error {
		ls, err := tx.Logins(context.Background(), account, 1)
		if len(ls) == 1 {
			rec = ls[0]
		}
		return err
	})
	if err != nil || rec == nil {
		t.Fatalf("login history: %v", err)
	}
	return rec
}

func TestPATLifecycle(t *testing.T) {
	e := start(t)
	patWorld(t, e)
	pu := conn(t, e.open("FIRN", "PU", "Pu-password-1"))

	cols, row := addPAT(t, pu, `ALTER USER ADD PROGRAMMATIC ACCESS TOKEN tok1 ROLE_RESTRICTION = 'ANALYST'
		DAYS_TO_EXPIRY = 2 MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 240 COMMENT = 'ci'`)
	if strings.Join(cols, ",") != "token_name,token_secret" || row[0] != "TOK1" || !strings.HasPrefix(row[1], auth.PATPrefix) {
		t.Fatalf("ADD answered %v %v", cols, row)
	}
	secret := row[1]

	// Log in with it: the session is held to the restricted role.
	c := conn(t, patDB(t, e, "FIRN", "PU", secret))
	if got := one(t, c, "SELECT CURRENT_ROLE()"); got != "ANALYST" {
		t.Fatalf("CURRENT_ROLE() = %q; want ANALYST", got)
	}
	_, err := c.ExecContext(context.Background(), "USE ROLE OTHER")
	sfErr(t, err, 3013)
	if rec := lastLogin(t, e, "FIRN"); rec.FirstFactor != "PROGRAMMATIC_ACCESS_TOKEN" || !rec.IsSuccess || rec.UserName != "PU" {
		t.Fatalf("login history %+v", rec)
	}
	// A PAT session may not change the user's tokens.
	_, err = c.ExecContext(context.Background(), "ALTER USER REMOVE PAT tok1")
	sfErr(t, err, 3001)

	// SHOW never shows the secret.
	cols, rs := rows(t, pu, "SHOW USER PATS")
	want := "name,user_name,role_restriction,expires_at,status,comment,created_on,created_by,mins_to_bypass_network_policy_requirement,rotated_to"
	if strings.Join(cols, ",") != want {
		t.Fatalf("SHOW USER PATS columns %v", cols)
	}
	if len(rs) != 1 || rs[0][0] != "TOK1" || rs[0][1] != "PU" || rs[0][2] != "ANALYST" || rs[0][4] != "ACTIVE" || rs[0][5] != "ci" || rs[0][7] != "PU" {
		t.Fatalf("SHOW USER PATS rows %v", rs)
	}
	for _, v := range rs[0] {
		if strings.Contains(v, secret[len(auth.PATPrefix):]) {
			t.Fatal("SHOW USER PATS shows the secret")
		}
	}
	admin := e.admin()
	if _, rs := rows(t, admin, "SHOW USER PROGRAMMATIC ACCESS TOKENS FOR USER pu"); len(rs) != 1 {
		t.Fatalf("admin SHOW FOR USER: %v", rs)
	}

	// Rotate: the old secret works for the window, the new one at once.
	cols, row = addPAT(t, pu, "ALTER USER pu ROTATE PAT tok1 EXPIRE_ROTATED_TOKEN_AFTER_HOURS = 1")
	if strings.Join(cols, ",") != "token_name,token_secret,rotated_token_name" || row[1] == secret || !strings.HasPrefix(row[2], "TOK1_ROTATED_") {
		t.Fatalf("ROTATE answered %v %v", cols, row)
	}
	rotated := row[1]
	for _, s := range []string{secret, rotated} {
		if err := patDB(t, e, "FIRN", "PU", s).Ping(); err != nil {
			t.Fatalf("login after rotation: %v", err)
		}
	}
	_, rs = rows(t, pu, "SHOW USER PATS")
	if len(rs) != 2 || rs[1][0] != "TOK1_ROTATED_"+strings.TrimPrefix(row[2], "TOK1_ROTATED_") || rs[1][9] != "TOK1" {
		t.Fatalf("SHOW after rotation %v", rs)
	}
	e.clock.Advance(61 * time.Minute)
	sfErr(t, patDB(t, e, "FIRN", "PU", secret).Ping(), 394400)
	if rec := lastLogin(t, e, "FIRN"); rec.IsSuccess || rec.ErrorCode != "394400" || rec.UserName != "PU" || rec.FirstFactor != "PROGRAMMATIC_ACCESS_TOKEN" {
		t.Fatalf("rotated-out login history %+v", rec)
	}
	if err := patDB(t, e, "FIRN", "PU", rotated).Ping(); err != nil {
		t.Fatalf("new secret after window: %v", err)
	}

	// Disable and re-enable.
	mustExec(t, pu, "ALTER USER MODIFY PAT tok1 SET DISABLED = TRUE")
	sfErr(t, patDB(t, e, "FIRN", "PU", rotated).Ping(), 394400)
	mustExec(t, pu, "ALTER USER MODIFY PAT tok1 UNSET DISABLED, COMMENT")
	if err := patDB(t, e, "FIRN", "PU", rotated).Ping(); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}

	// Another account does not know the token.
	sfErr(t, patDB(t, e, "OTHERACCT", "PU", rotated).Ping(), 394400)

	// Remove: refused at once.
	if got := one(t, pu, "ALTER USER REMOVE PAT tok1"); got != "Programmatic access token TOK1 successfully removed." {
		t.Fatalf("REMOVE answered %q", got)
	}
	sfErr(t, patDB(t, e, "FIRN", "PU", rotated).Ping(), 394400)
	if rec := lastLogin(t, e, "FIRN"); rec.IsSuccess || rec.ErrorCode != "394400" || rec.UserName != "PU" {
		t.Fatalf("removed-token login history %+v", rec)
	}
	_, err = pu.ExecContext(context.Background(), "ALTER USER REMOVE PAT tok1")
	sfErr(t, err, 2003)
}

func TestPATExpiryAndAsPassword(t *testing.T) {
	e := start(t)
	patWorld(t, e)
	admin := e.admin()
	_, row := addPAT(t, admin, "ALTER USER pu ADD PAT t DAYS_TO_EXPIRY = 1 MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 10000")
	secret := row[1]
	// Unrestricted: the user's default role (none, so PUBLIC) and any granted role.
	c := conn(t, patDB(t, e, "FIRN", "PU", secret))
	mustExec(t, c, "USE ROLE OTHER")
	// A PAT works in place of the password, too.
	if err := e.open("FIRN", "PU", secret).Ping(); err != nil {
		t.Fatalf("PAT as password: %v", err)
	}
	e.clock.Advance(24*time.Hour + time.Second)
	sfErr(t, patDB(t, e, "FIRN", "PU", secret).Ping(), 394400)
	// The clock jump ended the first admin session; log in again.
	_, rs := rows(t, e.admin(), "SHOW USER PATS FOR USER PU")
	if len(rs) != 1 || rs[0][4] != "EXPIRED" {
		t.Fatalf("SHOW after expiry %v", rs)
	}
}

func TestPATRules(t *testing.T) {
	e := start(t)
	patWorld(t, e)
	admin := conn(t, e.admin())
	pu := conn(t, e.open("FIRN", "PU", "Pu-password-1"))
	for _, tt := range []struct {
		name string
		q    queryer
		stmt string
		code int
	}{
		{"service without role restriction", admin, "ALTER USER svc ADD PAT s MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 10", 1423},
		{"service without network policy", admin, "ALTER USER svc ADD PAT s ROLE_RESTRICTION = 'ANALYST'", 1423},
		{"role not granted", admin, "ALTER USER pu ADD PAT s ROLE_RESTRICTION = 'SYSADMIN'", 1423},
		{"unknown role", admin, "ALTER USER pu ADD PAT s ROLE_RESTRICTION = 'NOPE'", 2003},
		{"days too many", admin, "ALTER USER pu ADD PAT s DAYS_TO_EXPIRY = 366", 1423},
		{"days zero", admin, "ALTER USER pu ADD PAT s DAYS_TO_EXPIRY = 0", 1423},
		{"bad name", admin, `ALTER USER pu ADD PAT "a-b"`, 1423},
		{"unknown user", admin, "ALTER USER nobody ADD PAT s", 2003},
		{"other user's tokens", pu, "ALTER USER admin ADD PAT s", 3001},
		{"other user's list", pu, "SHOW USER PATS FOR USER admin", 3001},
		{"remove missing", admin, "ALTER USER pu REMOVE PAT missing", 2003},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.q.ExecContext(context.Background(), tt.stmt)
			sfErr(t, err, tt.code)
		})
	}
	mustExec(t, admin, "ALTER USER IF EXISTS nobody ADD PAT s")
	addPAT(t, pu, "ALTER USER ADD PAT dup")
	_, err := pu.ExecContext(context.Background(), "ALTER USER ADD PAT dup")
	sfErr(t, err, 2002)

	// With a network policy in force, a SERVICE user's restricted token is issued and
	// used, and its session is held to the role.
	prev := catalog.SetNetworkPolicyChecker(catalog.NetworkPolicyFunc(func(_ context.Context, _ store.Tx, _, user string) (bool, error) {
		return user == "SVC", nil
	}))
	t.Cleanup(func() { catalog.SetNetworkPolicyChecker(prev) })
	_, row := addPAT(t, admin, "ALTER USER svc ADD PAT s ROLE_RESTRICTION = 'ANALYST'")
	c := conn(t, patDB(t, e, "FIRN", "SVC", row[1]))
	if got := one(t, c, "SELECT CURRENT_ROLE()"); got != "ANALYST" {
		t.Fatalf("service CURRENT_ROLE() = %q", got)
	}
	// Without a policy (PU) and outside the bypass window the token is refused.
	_, row = addPAT(t, admin, "ALTER USER pu ADD PAT nobypass")
	sfErr(t, patDB(t, e, "FIRN", "PU", row[1]).Ping(), 394400)
}

// BenchmarkPATLogin measures PAT logins per second through the real HTTP login
// endpoint at 32 concurrent clients (the body gosnowflake sends). Each login is a
// full login: token lookup, hash check, role check, LOGIN_HISTORY row and session.
func BenchmarkPATLogin(b *testing.B) {
	e := start(b)
	admin := e.admin()
	rs, err := admin.QueryContext(context.Background(), "ALTER USER ADD PAT bench ROLE_RESTRICTION = 'SYSADMIN' MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT = 600")
	if err != nil {
		b.Fatal(err)
	}
	var name, secret string
	for rs.Next() {
		if err := rs.Scan(&name, &secret); err != nil {
			b.Fatal(err)
		}
	}
	rs.Close()
	body := `{"data":{"CLIENT_APP_ID":"Go","CLIENT_APP_VERSION":"1.19.1","ACCOUNT_NAME":"FIRN","LOGIN_NAME":"ADMIN",` +
		`"AUTHENTICATOR":"PROGRAMMATIC_ACCESS_TOKEN","TOKEN":"` + secret + `","SESSION_PARAMETERS":{}}}`
	url := "http://" + e.addr + "/session/v1/login-request"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			var out struct {
				Success bool `json:"success"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || !out.Success {
				b.Errorf("login failed: %v", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
