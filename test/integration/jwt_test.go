package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// jwtKeys are two RSA-2048 key pairs, generated once per test binary.
var jwtKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// jwtPubBody is the value RSA_PUBLIC_KEY takes: base64 DER SubjectPublicKeyInfo.
func jwtPubBody(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// jwtDB opens (without pinging) a gosnowflake handle logging in as user with key k,
// the way users write it: privateKey in the DSN as base64url PKCS#8.
func jwtDB(t testing.TB, e *env, account, user string, k *rsa.PrivateKey) *sql.DB {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("snowflake", e.dsn(account, user, "", "authenticator", "SNOWFLAKE_JWT",
		"privateKey", base64.URLEncoding.EncodeToString(der)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// jwtPing logs in on a fresh handle and returns the login error.
func jwtPing(t testing.TB, e *env, account, user string, k *rsa.PrivateKey) error {
	t.Helper()
	db := jwtDB(t, e, account, user, k)
	defer db.Close()
	return db.PingContext(context.Background())
}

// jwtLogins returns an account's login history, newest first.
func jwtLogins(t testing.TB, e *env, account string) []*store.LoginRecord {
	t.Helper()
	var ls []*store.LoginRecord
	err := e.srv.Store().View(context.Background(), func(tx store.Tx) error {
		var err error
		ls, err = tx.Logins(context.Background(), account, 1<<20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// TestJWTLoginGo logs in with key-pair JWTs through gosnowflake, both from a DSN and
// from a Config, and checks the session and its LOGIN_HISTORY row.
func TestJWTLoginGo(t *testing.T) {
	e := start(t)
	ks := jwtKeys()
	admin := e.admin()
	mustExec(t, admin,
		fmt.Sprintf("CREATE USER kp_user TYPE = SERVICE DEFAULT_ROLE = PUBLIC RSA_PUBLIC_KEY = '%s'", jwtPubBody(t, ks[0])))

	db := jwtDB(t, e, "firn", "kp_user", ks[0])
	if got := one(t, db, "SELECT CURRENT_USER()"); got != "KP_USER" {
		t.Fatalf("CURRENT_USER() = %q", got)
	}
	l := jwtLogins(t, e, "FIRN")[0]
	if !l.IsSuccess || l.UserName != "KP_USER" || l.FirstFactor != "RSA_KEYPAIR" {
		t.Fatalf("history row %+v", l)
	}

	cfg := &sf.Config{Account: "FIRN", User: "kp_user", Host: "127.0.0.1", Protocol: "http",
		Authenticator: sf.AuthTypeJwt, PrivateKey: ks[0]}
	host, port, _ := splitAddr(t, e.addr)
	cfg.Host, cfg.Port = host, port
	connector := sf.NewConnector(sf.SnowflakeDriver{}, *cfg)
	cdb := sql.OpenDB(connector)
	t.Cleanup(func() { cdb.Close() })
	if got := one(t, cdb, "SELECT CURRENT_USER()"); got != "KP_USER" {
		t.Fatalf("CURRENT_USER() via Config = %q", got)
	}

	// A password login of the SERVICE user stays refused; the key is not a password.
	if err := jwtPing(t, e, "FIRN", "kp_user", ks[1]); err == nil {
		t.Fatal("a login signed with an unregistered key succeeded")
	} else {
		sfErr(t, err, 390144)
	}
}

func splitAddr(t testing.TB, addr string) (string, int, error) {
	t.Helper()
	u, err := url.Parse("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	var port int
	if _, err := fmt.Sscan(u.Port(), &port); err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), port, nil
}

// TestJWTKeyRotation moves a user from RSA_PUBLIC_KEY to RSA_PUBLIC_KEY_2 the way the
// documentation describes, and checks disabled and locked users are refused.
func TestJWTKeyRotation(t *testing.T) {
	e := start(t)
	ks := jwtKeys()
	admin := e.admin()
	mustExec(t, admin, fmt.Sprintf("CREATE USER rot RSA_PUBLIC_KEY = '%s'", jwtPubBody(t, ks[0])))
	steps := []struct {
		name       string
		stmt       string
		key1, key2 int // expected error code for each key, 0 = logs in
	}{
		{"key 1 only", "", 0, 390144},
		{"both slots", fmt.Sprintf("ALTER USER rot SET RSA_PUBLIC_KEY_2 = '%s'", jwtPubBody(t, ks[1])), 0, 0},
		{"key 1 removed", "ALTER USER rot UNSET RSA_PUBLIC_KEY", 390144, 0},
		{"disabled", "ALTER USER rot SET DISABLED = TRUE", 390144, 390101},
		{"enabled again", "ALTER USER rot SET DISABLED = FALSE", 390144, 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.stmt != "" {
				mustExec(t, admin, s.stmt)
			}
			for i, want := range []int{s.key1, s.key2} {
				err := jwtPing(t, e, "FIRN", "ROT", ks[i])
				if want == 0 {
					if err != nil {
						t.Fatalf("key %d: %v", i+1, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("key %d logged in; want %d", i+1, want)
				}
				sfErr(t, err, want)
			}
		})
	}
	t.Run("locked", func(t *testing.T) {
		ctx := context.Background()
		err := e.srv.Store().Update(ctx, func(tx store.Tx) error {
			u, err := catalog.GetUser(ctx, tx, "FIRN", "ROT")
			if err != nil {
				return err
			}
			u.LockedUntil = e.clock.Now().Add(20 * time.Second).Unix()
			return catalog.PutUser(ctx, tx, "FIRN", u)
		})
		if err != nil {
			t.Fatal(err)
		}
		sfErr(t, jwtPing(t, e, "FIRN", "ROT", ks[1]), 390102)
		// Past the lock, but within the JWT's lifetime plus skew (the driver signs with
		// the real clock).
		e.clock.Advance(30 * time.Second)
		if err := jwtPing(t, e, "FIRN", "ROT", ks[1]); err != nil {
			t.Fatalf("after the lock ends: %v", err)
		}
	})
}

// TestJWTAttacks sends hand-built tokens to the login endpoint: each is refused with
// 390144 and leaves a failed RSA_KEYPAIR row in LOGIN_HISTORY.
func TestJWTAttacks(t *testing.T) {
	e := start(t)
	ks := jwtKeys()
	ctx := context.Background()
	err := e.srv.Store().Update(ctx, func(tx store.Tx) error {
		for _, u := range []*catalog.User{
			{Name: "VICTIM", RSAPublicKey: jwtPubBody(t, ks[0]), RSAPublicKeyFP: auth.Fingerprint(&ks[0].PublicKey)},
			{Name: "NOKEY"},
		} {
			if err := catalog.CreateUser(ctx, tx, "FIRN", catalog.RoleAccountAdmin, u); err != nil {
				return err
			}
		}
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "ELSEWHERE", AdminName: "ADMIN"},
			&catalog.User{Name: "VICTIM", RSAPublicKey: jwtPubBody(t, ks[0])})
	})
	if err != nil {
		t.Fatal(err)
	}
	fp0 := auth.Fingerprint(&ks[0].PublicKey)
	now := e.clock.Now()
	claims := func(acct, user, fp string, iat, exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"iss": acct + "." + user + "." + fp, "sub": acct + "." + user, "iat": iat.Unix(), "exp": exp.Unix()}
	}
	signRS := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(ks[0])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := claims("FIRN", "VICTIM", fp0, now, now.Add(time.Minute))
	tests := []struct {
		name  string
		user  string // whose history row is expected
		token string
	}{
		{"alg none", "VICTIM", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}()},
		{"HS256 signed with the public key", "VICTIM", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, good).SignedString([]byte(jwtPubBody(t, ks[0])))
			return s
		}()},
		{"wrong fingerprint", "VICTIM", signRS(claims("FIRN", "VICTIM", auth.Fingerprint(&ks[1].PublicKey), now, now.Add(time.Minute)))},
		{"signed by another key", "VICTIM", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, good).SignedString(ks[1])
			return s
		}()},
		{"expired", "VICTIM", signRS(claims("FIRN", "VICTIM", fp0, now.Add(-10*time.Minute), now.Add(-9*time.Minute)))},
		{"iat in the future", "VICTIM", signRS(claims("FIRN", "VICTIM", fp0, now.Add(5*time.Minute), now.Add(6*time.Minute)))},
		{"exp - iat over an hour", "VICTIM", signRS(claims("FIRN", "VICTIM", fp0, now, now.Add(61*time.Minute)))},
		{"iss and sub name different users", "VICTIM", signRS(jwt.MapClaims{"iss": "FIRN.NOKEY." + fp0, "sub": "FIRN.VICTIM", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})},
		{"token of another account", "VICTIM", signRS(claims("ELSEWHERE", "VICTIM", fp0, now, now.Add(time.Minute)))},
		{"user without a key", "NOKEY", signRS(claims("FIRN", "NOKEY", fp0, now, now.Add(time.Minute)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(jwtLogins(t, e, "FIRN"))
			env := e.rawPost(t, "/session/v1/login-request?requestId=1", "", map[string]any{"data": map[string]any{
				"ACCOUNT_NAME": "firn", "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": tt.token, "CLIENT_APP_ID": "attack",
			}})
			if env.Success || fmt.Sprint(env.Code) != "390144" || env.Message != "JWT token is invalid." {
				t.Fatalf("answer success=%v code=%v message=%v; want 390144", env.Success, env.Code, env.Message)
			}
			ls := jwtLogins(t, e, "FIRN")
			if len(ls) != before+1 {
				t.Fatalf("%d new history rows; want 1", len(ls)-before)
			}
			if l := ls[0]; l.IsSuccess || l.UserName != tt.user || l.FirstFactor != "RSA_KEYPAIR" || l.ErrorCode != "390144" {
				t.Fatalf("history row %+v", l)
			}
		})
	}
	// The control: the good claims, properly signed, log in.
	env := e.rawPost(t, "/session/v1/login-request?requestId=2", "", map[string]any{"data": map[string]any{
		"ACCOUNT_NAME": "FIRN", "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": signRS(good)}})
	if !env.Success {
		t.Fatalf("the genuine token was refused: %v %v", env.Code, env.Message)
	}
	// Unknown users and accounts answer 390144 too, not 390100.
	for _, acct := range []string{"FIRN", "NOSUCHACCOUNT"} {
		env := e.rawPost(t, "/session/v1/login-request?requestId=3", "", map[string]any{"data": map[string]any{
			"ACCOUNT_NAME": acct, "AUTHENTICATOR": "SNOWFLAKE_JWT", "TOKEN": signRS(claims(acct, "GHOST", fp0, now, now.Add(time.Minute)))}})
		if env.Success || fmt.Sprint(env.Code) != "390144" {
			t.Fatalf("unknown user in %s: code %v; want 390144", acct, env.Code)
		}
	}
}
