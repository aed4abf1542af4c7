package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/ingress"
)

// srcClient is a gosnowflake handle whose TCP connections come from a loopback
// source address that the test can change between requests (127.0.0.0/8 is all
// loopback on Linux). Keep-alives are off, so every request dials anew from the
// current source address while the session token stays the same.
type srcClient struct {
	db  *sql.DB
	src atomic.Pointer[net.TCPAddr]
}

func (e *env) from(t *testing.T, src, user, password string) *srcClient {
	t.Helper()
	c := &srcClient{}
	c.setSrc(src)
	host, port, _ := net.SplitHostPort(e.addr)
	var portN int
	for _, ch := range port {
		portN = portN*10 + int(ch-'0')
	}
	tr := &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: c.src.Load()}
			return d.DialContext(ctx, network, addr)
		}}
	cfg := sf.Config{Account: "FIRN", User: user, Password: password, Host: host, Port: portN,
		Protocol: "http", Transporter: tr, MaxRetryCount: 1}
	c.db = sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, cfg))
	c.db.SetMaxOpenConns(1)
	t.Cleanup(func() { c.db.Close() })
	return c
}

func (c *srcClient) setSrc(ip string) {
	c.src.Store(&net.TCPAddr{IP: net.ParseIP(ip)})
}

// query runs q (logging in first if needed) and returns the error, if any.
func (c *srcClient) query(q string) error {
	var v any
	return c.db.QueryRow(q).Scan(&v)
}

// refusedLogin reports whether LOGIN_HISTORY holds a refusal of user from ip with code 390422.
func refusedLogin(t *testing.T, e *env, user, ip string) bool {
	for _, l := range jwtLogins(t, e, "FIRN") {
		if l.UserName == user && l.ClientIP == ip && !l.IsSuccess && l.ErrorCode == "390422" {
			if strings.Contains(l.ErrorMessage, "NETDB") || strings.Contains(l.ErrorMessage, "P_") {
				t.Errorf("refusal reveals the policy: %q", l.ErrorMessage)
			}
			return true
		}
	}
	return false
}

func TestNetworkPolicies(t *testing.T) {
	e := start(t)
	admin := conn(t, e.admin()) // from 127.0.0.1
	mustExec(t, admin,
		"CREATE DATABASE NETDB", "CREATE SCHEMA NETDB.S",
		"CREATE NETWORK RULE NETDB.S.LOCAL12 TYPE = IPV4 VALUE_LIST = ('127.0.0.1', '127.0.0.2') MODE = INGRESS COMMENT = 'lo'",
		"CREATE NETWORK RULE NETDB.S.ONLY3 TYPE = IPV4 VALUE_LIST = ('127.0.0.3/32')",
		"CREATE NETWORK RULE NETDB.S.LOOP8 TYPE = IPV4 VALUE_LIST = ('127.0.0.0/8')",
		"CREATE NETWORK RULE NETDB.S.EGRESS TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('example.com', '*.example.org:8443')",
		"CREATE USER U PASSWORD = 'U-password-123'",
		"CREATE ROLE NETLESS", "GRANT ROLE NETLESS TO USER U", "ALTER USER U SET DEFAULT_ROLE = NETLESS",
	)

	t.Run("rule validation", func(t *testing.T) {
		for _, c := range []struct {
			stmt string
			code int
		}{
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = IPV4 VALUE_LIST = ('300.1.1.1')", 1008},
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = IPV4 VALUE_LIST = ('::1')", 1008},
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = HOST_PORT VALUE_LIST = ('a.com') MODE = INGRESS", 1008},
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = HOST_PORT VALUE_LIST = ('0.0.0.0:22') MODE = EGRESS", 1008},
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = AWSVPCEID VALUE_LIST = ('vpc-0123456789abcdef0')", 1008},
			{"CREATE NETWORK RULE NETDB.S.BAD TYPE = IPV4", 1423},
			{"CREATE NETWORK RULE NETDB.S.LOCAL12 TYPE = IPV4 VALUE_LIST = ('1.2.3.4')", 2002},
			{"CREATE OR ALTER NETWORK RULE NETDB.S.LOCAL12 TYPE = IPV6 VALUE_LIST = ('::1')", 1423},
			{"CREATE NETWORK POLICY P_BAD ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.EGRESS')", 1008},
			{"CREATE NETWORK POLICY P_BAD ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.NOPE')", 2003},
			{"CREATE NETWORK POLICY P_BAD ALLOWED_IP_LIST = ('10.0.0.0/33')", 1008},
			{"ALTER ACCOUNT SET NETWORK_POLICY = NOPE", 2003},
		} {
			_, err := admin.ExecContext(context.Background(), c.stmt)
			sfErr(t, err, c.code)
		}
		// Failed statements leave nothing behind.
		if _, rs := rows(t, admin, "SHOW NETWORK RULES LIKE 'BAD' IN ACCOUNT"); len(rs) != 0 {
			t.Errorf("BAD rule exists: %v", rs)
		}
		if _, rs := rows(t, admin, "SHOW NETWORK POLICIES LIKE 'P_BAD'"); len(rs) != 0 {
			t.Errorf("P_BAD exists: %v", rs)
		}
	})

	t.Run("show and describe", func(t *testing.T) {
		cols, rs := rows(t, admin, "SHOW NETWORK RULES IN SCHEMA NETDB.S")
		want := "created_on,name,database_name,schema_name,owner,comment,type,mode,entries_in_valuelist,owner_role_type"
		if strings.Join(cols, ",") != want {
			t.Errorf("SHOW NETWORK RULES columns %v", cols)
		}
		if len(rs) != 4 || rs[1][1] != "LOCAL12" || rs[1][4] != "ACCOUNTADMIN" || rs[1][5] != "lo" || rs[1][6] != "IPV4" || rs[1][7] != "INGRESS" || rs[1][8] != "2" {
			t.Errorf("SHOW NETWORK RULES rows %v", rs)
		}
		cols, rs = rows(t, admin, "DESC NETWORK RULE NETDB.S.EGRESS")
		if strings.Join(cols, ",") != "created_on,name,database_name,schema_name,owner,comment,type,mode,value_list" {
			t.Errorf("DESC NETWORK RULE columns %v", cols)
		}
		if len(rs) != 1 || rs[0][6] != "HOST_PORT" || rs[0][7] != "EGRESS" || rs[0][8] != "example.com,*.example.org:8443" {
			t.Errorf("DESC NETWORK RULE %v", rs)
		}
		mustExec(t, admin,
			"CREATE NETWORK POLICY P_DESC ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.LOCAL12', NETDB.S.ONLY3) BLOCKED_IP_LIST = ('10.1.1.1') COMMENT = 'c'",
			"ALTER NETWORK POLICY P_DESC ADD BLOCKED_NETWORK_RULE_LIST = ('NETDB.S.ONLY3')",
			"ALTER NETWORK POLICY P_DESC REMOVE ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.ONLY3')")
		cols, rs = rows(t, admin, "SHOW NETWORK POLICIES LIKE 'P_DESC'")
		if strings.Join(cols, ",") != "created_on,name,comment,entries_in_allowed_ip_list,entries_in_blocked_ip_list,entries_in_allowed_network_rules,entries_in_blocked_network_rules" {
			t.Errorf("SHOW NETWORK POLICIES columns %v", cols)
		}
		if len(rs) != 1 || strings.Join(rs[0][1:], ",") != "P_DESC,c,0,1,1,1" {
			t.Errorf("SHOW NETWORK POLICIES %v", rs)
		}
		cols, rs = rows(t, admin, "DESC NETWORK POLICY P_DESC")
		if strings.Join(cols, ",") != "name,value" {
			t.Errorf("DESC NETWORK POLICY columns %v", cols)
		}
		got := map[string]string{}
		for _, r := range rs {
			got[r[0]] = r[1]
		}
		if len(got) != 3 || got["BLOCKED_IP_LIST"] != "10.1.1.1" ||
			got["ALLOWED_NETWORK_RULE_LIST"] != `[{"fullyQualifiedRuleName":"NETDB.S.LOCAL12"}]` ||
			got["BLOCKED_NETWORK_RULE_LIST"] != `[{"fullyQualifiedRuleName":"NETDB.S.ONLY3"}]` {
			t.Errorf("DESC NETWORK POLICY %v", got)
		}
		_, err := admin.ExecContext(context.Background(), "DROP NETWORK RULE NETDB.S.ONLY3")
		sfErr(t, err, 1492) // used by P_DESC
		mustExec(t, admin, "DROP NETWORK POLICY P_DESC",
			"CREATE EXTERNAL ACCESS INTEGRATION NP_EAI ALLOWED_NETWORK_RULES = (NETDB.S.EGRESS) ENABLED = TRUE")
		_, err = admin.ExecContext(context.Background(), "DROP NETWORK RULE NETDB.S.EGRESS")
		sfErr(t, err, 1492) // used by NP_EAI
		mustExec(t, admin, "DROP INTEGRATION NP_EAI")
	})

	t.Run("privileges", func(t *testing.T) {
		u := e.from(t, "127.0.0.1", "U", "U-password-123")
		for _, c := range []struct {
			stmt string
			code int
		}{
			{"CREATE NETWORK POLICY P_U ALLOWED_IP_LIST = ('127.0.0.1')", 3001},
			{"CREATE NETWORK RULE NETDB.S.R_U TYPE = IPV4 VALUE_LIST = ('127.0.0.1')", 3001},
			{"ALTER ACCOUNT SET NETWORK_POLICY = NOPE", 3001},
			{"DESC NETWORK RULE NETDB.S.LOCAL12", 2003},
		} {
			_, err := u.db.ExecContext(context.Background(), c.stmt)
			if err == nil {
				t.Errorf("%s: succeeded", c.stmt)
				continue
			}
			var se *sf.SnowflakeError
			if !asSF(err, &se) || se.Number != c.code {
				t.Errorf("%s: %v; want %d", c.stmt, err, c.code)
			}
		}
		mustExec(t, admin, "CREATE NETWORK POLICY P_PRIV ALLOWED_IP_LIST = ('127.0.0.1')")
		_, err := u.db.ExecContext(context.Background(), "DROP NETWORK POLICY P_PRIV")
		if err == nil {
			t.Error("DROP of an unowned policy succeeded")
		}
		mustExec(t, admin, "DROP NETWORK POLICY P_PRIV")
	})

	t.Run("self-lockout", func(t *testing.T) {
		mustExec(t, admin, "CREATE NETWORK POLICY P_LOCK ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.ONLY3')")
		_, err := admin.ExecContext(context.Background(), "ALTER ACCOUNT SET NETWORK_POLICY = P_LOCK")
		se := sfErr(t, err, 1498)
		if !strings.Contains(se.Message, "127.0.0.1") {
			t.Errorf("lockout message %q", se.Message)
		}
		// Nothing was activated: another address still logs in.
		if err := e.from(t, "127.0.0.4", "U", "U-password-123").query("SELECT 1"); err != nil {
			t.Errorf("login from 127.0.0.4 after refused activation: %v", err)
		}
		mustExec(t, admin, "DROP NETWORK POLICY P_LOCK")
	})

	t.Run("account policy", func(t *testing.T) {
		mustExec(t, admin,
			"CREATE NETWORK POLICY P_ACCT ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.LOOP8') BLOCKED_NETWORK_RULE_LIST = ('NETDB.S.ONLY3')",
			"ALTER ACCOUNT SET NETWORK_POLICY = P_ACCT")
		u := e.from(t, "127.0.0.2", "U", "U-password-123")
		if err := u.query("SELECT 1"); err != nil {
			t.Fatalf("login from allowed 127.0.0.2: %v", err)
		}
		// The same session's token, used from a blocked address, is refused.
		u.setSrc("127.0.0.3")
		err := u.query("SELECT 2")
		sfErr(t, err, 390422)
		u.setSrc("127.0.0.2")
		if err := u.query("SELECT 3"); err != nil {
			t.Errorf("back from 127.0.0.2: %v", err)
		}
		// A fresh login from the blocked address is refused and recorded.
		err = e.from(t, "127.0.0.3", "U", "U-password-123").query("SELECT 1")
		se := sfErr(t, err, 390422)
		if !strings.Contains(se.Message, "Incoming request with IP/Token 127.0.0.3 is not allowed to access Snowflake") {
			t.Errorf("refusal message %q", se.Message)
		}
		if !refusedLogin(t, e, "U", "127.0.0.3") {
			t.Error("refusal not in LOGIN_HISTORY")
		}
		// A wrong password from a blocked address reveals nothing about the password.
		err = e.from(t, "127.0.0.3", "U", "wrong").query("SELECT 1")
		sfErr(t, err, 390422)
		// Nor about which users exist: an unknown user gets the same refusal.
		err = e.from(t, "127.0.0.3", "NO_SUCH_USER", "wrong").query("SELECT 1")
		sfErr(t, err, 390422)
		// An active policy cannot be dropped or replaced; changing it to lock out the
		// caller is refused.
		_, err = admin.ExecContext(context.Background(), "DROP NETWORK POLICY P_ACCT")
		sfErr(t, err, 1492)
		_, err = admin.ExecContext(context.Background(), "CREATE OR REPLACE NETWORK POLICY P_ACCT ALLOWED_IP_LIST = ('127.0.0.1')")
		sfErr(t, err, 1492)
		_, err = admin.ExecContext(context.Background(), "ALTER NETWORK POLICY P_ACCT SET ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.ONLY3')")
		sfErr(t, err, 1498)
		_, err = admin.ExecContext(context.Background(), "ALTER NETWORK RULE NETDB.S.LOOP8 SET VALUE_LIST = ('127.0.0.2')")
		sfErr(t, err, 1498)
		// Narrowing the rule (without locking out the caller) takes effect at once.
		mustExec(t, admin, "ALTER NETWORK RULE NETDB.S.LOOP8 SET VALUE_LIST = ('127.0.0.1', '127.0.0.4')")
		err = u.query("SELECT 4")
		sfErr(t, err, 390422)
		mustExec(t, admin, "ALTER NETWORK RULE NETDB.S.LOOP8 SET VALUE_LIST = ('127.0.0.0/8')")

		// explain uses the enforcing function.
		ex, err := ingress.Explain(context.Background(), e.srv.Store(), nil, "firn", "u", netip.MustParseAddr("127.0.0.3"), "")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Result.Allowed || ex.Result.Level != ingress.LevelAccount || ex.Result.Policy != "P_ACCT" || ex.Result.Rule != "NETDB.S.ONLY3" {
			t.Errorf("explain %+v", ex.Result)
		}
	})

	t.Run("user policy takes precedence", func(t *testing.T) {
		mustExec(t, admin, "CREATE NETWORK POLICY P_USER ALLOWED_IP_LIST = ('127.0.0.3')",
			"ALTER USER U SET NETWORK_POLICY = P_USER")
		// The account policy blocks 127.0.0.3, the user's allows only it.
		if err := e.from(t, "127.0.0.3", "U", "U-password-123").query("SELECT 1"); err != nil {
			t.Errorf("user policy: login from 127.0.0.3: %v", err)
		}
		err := e.from(t, "127.0.0.2", "U", "U-password-123").query("SELECT 1")
		sfErr(t, err, 390422)
		ex, err := ingress.Explain(context.Background(), e.srv.Store(), nil, "FIRN", "U", netip.MustParseAddr("127.0.0.2"), "")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Result.Allowed || ex.Result.Level != ingress.LevelUser || ex.Result.Policy != "P_USER" || ex.Result.Rule != "" {
			t.Errorf("explain %+v", ex.Result)
		}
		_, err = admin.ExecContext(context.Background(), "DROP NETWORK POLICY P_USER")
		se := sfErr(t, err, 1492)
		if !strings.Contains(se.Message, "USER with name U") {
			t.Errorf("drop message %q", se.Message)
		}
		// The admin is unaffected by U's policy.
		if err := e.from(t, "127.0.0.2", "ADMIN", adminPassword).query("SELECT 1"); err != nil {
			t.Errorf("admin from 127.0.0.2: %v", err)
		}
		mustExec(t, admin, "ALTER USER U UNSET NETWORK_POLICY", "DROP NETWORK POLICY P_USER")
	})

	t.Run("PAT needs a network policy", func(t *testing.T) {
		mustExec(t, admin, "ALTER ACCOUNT UNSET NETWORK_POLICY")
		_, row := addPAT(t, admin, "ALTER USER U ADD PAT NP_TOK")
		secret := row[1]
		err := patDB(t, e, "FIRN", "U", secret).Ping()
		sfErr(t, err, 394400) // no account or user policy: PAT refused
		mustExec(t, admin, "CREATE NETWORK POLICY P_PAT ALLOWED_IP_LIST = ('127.0.0.1')",
			"ALTER USER U SET NETWORK_POLICY = P_PAT")
		if err := patDB(t, e, "FIRN", "U", secret).Ping(); err != nil {
			t.Errorf("PAT login with a user policy: %v", err)
		}
		mustExec(t, admin, "ALTER USER U UNSET NETWORK_POLICY", "DROP NETWORK POLICY P_PAT",
			"ALTER USER U REMOVE PAT NP_TOK", "ALTER ACCOUNT SET NETWORK_POLICY = P_ACCT")
	})

	t.Run("a schema holding a rule in use cannot be dropped", func(t *testing.T) {
		mustExec(t, admin, "CREATE SCHEMA NETDB.HELD",
			"CREATE NETWORK RULE NETDB.HELD.BLOCK9 TYPE = IPV4 VALUE_LIST = ('127.0.0.9')",
			"CREATE NETWORK POLICY P_HELD ALLOWED_NETWORK_RULE_LIST = ('NETDB.S.LOOP8') BLOCKED_NETWORK_RULE_LIST = ('NETDB.HELD.BLOCK9')")
		for _, stmt := range []string{"DROP SCHEMA NETDB.HELD", "DROP DATABASE NETDB"} {
			_, err := admin.ExecContext(context.Background(), stmt)
			sfErr(t, err, 1492)
		}
		if _, rs := rows(t, admin, "SHOW NETWORK RULES LIKE 'BLOCK9' IN SCHEMA NETDB.HELD"); len(rs) != 1 {
			t.Fatalf("BLOCK9 after refused drops: %v", rs)
		}
		mustExec(t, admin, "DROP NETWORK POLICY P_HELD", "DROP SCHEMA NETDB.HELD")
	})

	t.Run("deactivate", func(t *testing.T) {
		mustExec(t, admin, "ALTER ACCOUNT UNSET NETWORK_POLICY", "DROP NETWORK POLICY P_ACCT")
		if err := e.from(t, "127.0.0.3", "U", "U-password-123").query("SELECT 1"); err != nil {
			t.Errorf("login after deactivation: %v", err)
		}
	})
}

func asSF(err error, se **sf.SnowflakeError) bool {
	return errors.As(err, se)
}

// BenchmarkSelect1Ingress measures the SELECT 1 round trip with and without an
// active account network policy (10,000 CIDRs over 100 rules) on one server. The two
// are interleaved query by query (account FIRN has the policy, account NOPOL has none),
// so machine noise affects both alike; the ratio is reported as policy/none.
func BenchmarkSelect1Ingress(b *testing.B) {
	e := start(b)
	c := conn(b, e.admin())
	mustExec(b, c, "USE ROLE ORGADMIN", "CREATE ACCOUNT NOPOL ADMIN_NAME = NA ADMIN_PASSWORD = 'Na-password-1234' EMAIL = 'na@example.com'",
		"USE ROLE ACCOUNTADMIN", "CREATE DATABASE BENCHNET", "CREATE SCHEMA BENCHNET.S")
	var list []string
	for i := range 100 {
		vals := make([]string, 100)
		for j := range vals {
			vals[j] = fmt.Sprintf("'10.%d.%d.0/24'", i, j)
		}
		if i == 0 {
			vals[0] = "'127.0.0.0/8'"
		}
		mustExec(b, c, fmt.Sprintf("CREATE NETWORK RULE BENCHNET.S.R%d TYPE = IPV4 VALUE_LIST = (%s)", i, strings.Join(vals, ",")))
		list = append(list, fmt.Sprintf("'BENCHNET.S.R%d'", i))
	}
	mustExec(b, c, "CREATE NETWORK POLICY BENCHP ALLOWED_NETWORK_RULE_LIST = ("+strings.Join(list, ",")+")",
		"ALTER ACCOUNT SET NETWORK_POLICY = BENCHP")
	other := conn(b, e.open("NOPOL", "NA", "Na-password-1234"))
	ctx := context.Background()
	q := func(c *sql.Conn) time.Duration {
		t0 := time.Now()
		rs, err := c.QueryContext(ctx, "SELECT 1")
		if err != nil {
			b.Fatal(err)
		}
		for rs.Next() {
		}
		rs.Close()
		return time.Since(t0)
	}
	q(c)
	q(other)
	var with, without time.Duration
	n := 0
	for b.Loop() {
		without += q(other)
		with += q(c)
		n++
	}
	b.ReportMetric(float64(without.Nanoseconds())/float64(n), "ns-nopolicy/op")
	b.ReportMetric(float64(with.Nanoseconds())/float64(n), "ns-policy/op")
	b.ReportMetric(float64(with)/float64(without), "ratio")
}
