package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// testKeys are generated once: RSA key generation is slow under -race.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
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

// authEnv is a Service over a fresh store with account ACME and user JWTUSER, whose
// RSA_PUBLIC_KEY is testKeys()[0]; now is a settable clock.
type authEnv struct {
	svc *Service
	st  store.Store
	now time.Time
	mu  sync.Mutex
}

func (e *authEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func newAuthEnv(t testing.TB) *authEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	var err error
	e := &authEnv{st: st, now: time.Unix(1_750_000_000, 0)}
	e.svc = NewService(Config{Store: st, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	body := keyBody(t, &testKeys()[0].PublicKey)
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "ACME", AdminName: "ADMIN"}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "OTHER", AdminName: "ADMIN"}, &catalog.User{Name: "ADMIN"}); err != nil {
			return err
		}
		return catalog.CreateUser(ctx, tx, "ACME", "ACCOUNTADMIN", &catalog.User{Name: "JWTUSER", RSAPublicKey: body})
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func keyBody(t testing.TB, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// sign builds a token the way the drivers do, then lets mod change its claims.
func sign(t testing.TB, key *rsa.PrivateKey, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	var k any = key
	if _, ok := method.(*jwt.SigningMethodHMAC); ok {
		k = []byte(keyBody(t, &key.PublicKey))
	}
	if method == jwt.SigningMethodNone {
		k = jwt.UnsafeAllowNoneSignatureType
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goClaims(account, user string, pub *rsa.PublicKey, iat time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": account + "." + user + "." + Fingerprint(pub), "sub": account + "." + user,
		"iat": iat.Unix(), "exp": iat.Add(time.Minute).Unix(), "nbf": 1444478400,
	}
}

func TestJWTLogin(t *testing.T) {
	e := newAuthEnv(t)
	ks := testKeys()
	now := e.now
	withKey2 := func(t *testing.T) {
		err := e.st.Update(context.Background(), func(tx store.Tx) error {
			u, err := catalog.GetUser(context.Background(), tx, "ACME", "JWTUSER")
			if err != nil {
				return err
			}
			u.RSAPublicKey2 = keyBody(t, &ks[1].PublicKey)
			return catalog.PutUser(context.Background(), tx, "ACME", u)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	node := jwt.MapClaims{ // Node: milliseconds, no nbf
		"iss": "ACME.JWTUSER." + Fingerprint(&ks[0].PublicKey), "sub": "ACME.JWTUSER",
		"iat": now.UnixMilli(), "exp": now.UnixMilli() + 120_000,
	}
	mod := func(f func(c jwt.MapClaims)) jwt.MapClaims {
		c := goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)
		f(c)
		return c
	}
	tests := []struct {
		name    string
		account string // login body ACCOUNT_NAME
		token   string
		setup   func(t *testing.T)
		want    string // error code, "" for success
		history bool   // a LOGIN_HISTORY row is expected
	}{
		{name: "go claims", account: "acme", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)), history: true},
		{name: "node milliseconds", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, node), history: true},
		{name: "lower-case names", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS512, goClaims("acme", "jwtuser", &ks[0].PublicKey, now)), history: true},
		{name: "org-account form", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS384, goClaims("FIRN-ACME", "JWTUSER", &ks[0].PublicKey, now)), history: true},
		{name: "within skew", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now.Add(50*time.Second))), history: true},
		{name: "alg none", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodNone, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)), want: "390144", history: true},
		{name: "HS256 with public key", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodHS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)), want: "390144", history: true},
		{name: "PS256", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodPS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)), want: "390144", history: true},
		{name: "signed by other key", account: "ACME", token: sign(t, ks[1], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)), want: "390144", history: true},
		{name: "wrong fingerprint", account: "ACME", token: sign(t, ks[1], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[1].PublicKey, now)), want: "390144", history: true},
		{name: "key 2 after it is set", account: "ACME", setup: withKey2, token: sign(t, ks[1], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[1].PublicKey, now)), history: true},
		{name: "expired", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now.Add(-2*time.Minute-time.Second))), want: "390144", history: true},
		{name: "iat in the future", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now.Add(61*time.Second))), want: "390144", history: true},
		{name: "lifetime over an hour", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, mod(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour + time.Second).Unix() })), want: "390144", history: true},
		{name: "no exp", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, mod(func(c jwt.MapClaims) { delete(c, "exp") })), want: "390144", history: true},
		{name: "exp not a number", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, mod(func(c jwt.MapClaims) { c["exp"] = "soon" })), want: "390144", history: true},
		{name: "nbf in the future", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, mod(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })), want: "390144", history: true},
		{name: "iss names another user", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, mod(func(c jwt.MapClaims) { c["iss"] = "ACME.ADMIN." + Fingerprint(&ks[0].PublicKey) })), want: "390144", history: true},
		{name: "token of another account", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("OTHER", "JWTUSER", &ks[0].PublicKey, now)), want: "390144", history: true},
		{name: "unknown user", account: "ACME", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "NOBODY", &ks[0].PublicKey, now)), want: "390144"},
		{name: "unknown account", account: "NOPE", token: sign(t, ks[0], jwt.SigningMethodRS256, goClaims("NOPE", "JWTUSER", &ks[0].PublicKey, now)), want: "390144"},
		{name: "garbage", account: "ACME", token: "not.a.jwt", want: "390144"},
		{name: "empty", account: "ACME", token: "", want: "390144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			before := loginCount(t, e.st, "ACME")
			sess, err := e.svc.Login(context.Background(), &LoginRequest{Account: tt.account, Authenticator: "SNOWFLAKE_JWT", Token: tt.token})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if sess.User != "JWTUSER" || sess.AuthMethod != "RSA_KEYPAIR" {
					t.Fatalf("session user %q method %q", sess.User, sess.AuthMethod)
				}
			} else if se := sferr.As(err); err == nil || se.Code != tt.want || se.Message != "JWT token is invalid." {
				t.Fatalf("Login error %v; want %s JWT token is invalid.", err, tt.want)
			}
			after := loginCount(t, e.st, "ACME")
			if got := after - before; (got == 1) != tt.history {
				t.Fatalf("%d new LOGIN_HISTORY rows; want history=%v", got, tt.history)
			}
			if tt.history {
				l := lastLogin(t, e.st, "ACME")
				if l.FirstFactor != "RSA_KEYPAIR" || l.IsSuccess != (tt.want == "") || l.ErrorCode != tt.want {
					t.Fatalf("history row %+v", l)
				}
			}
		})
	}
}

func loginCount(t testing.TB, st store.Store, account string) int {
	t.Helper()
	var n int
	if err := st.View(context.Background(), func(tx store.Tx) error {
		ls, err := tx.Logins(context.Background(), account, 1<<20)
		n = len(ls)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func lastLogin(t testing.TB, st store.Store, account string) *store.LoginRecord {
	t.Helper()
	var l *store.LoginRecord
	if err := st.View(context.Background(), func(tx store.Tx) error {
		ls, err := tx.Logins(context.Background(), account, 1)
		if len(ls) == 1 {
			l = ls[0]
		}
		return err
	}); err != nil || l == nil {
		t.Fatalf("no login history: %v", err)
	}
	return l
}

func TestJWTCheckTimes(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	j := NewJWT(func() time.Time { return now }, 30*time.Second, "")
	sec := func(d time.Duration) float64 { return float64(now.Add(d).Unix()) }
	ms := func(d time.Duration) float64 { return float64(now.Add(d).UnixMilli()) }
	for _, tt := range []struct {
		name     string
		iat, exp float64
		ok       bool
	}{
		{"seconds", sec(0), sec(time.Minute), true},
		{"milliseconds", ms(0), ms(2 * time.Minute), true},
		{"exactly one hour", sec(-time.Minute), sec(time.Hour - time.Minute), true},
		{"over one hour", sec(0), sec(time.Hour + time.Second), false},
		{"exp before iat", sec(0), sec(-time.Second), false},
		{"expired beyond skew", sec(-2 * time.Minute), sec(-31 * time.Second), false},
		{"expired within skew", sec(-2 * time.Minute), sec(-29 * time.Second), true},
		{"iat beyond skew", sec(31 * time.Second), sec(time.Minute), false},
		{"iat within skew", sec(29 * time.Second), sec(time.Minute), true},
		{"millisecond iat beyond skew", ms(31 * time.Second), ms(time.Minute), false},
		{"negative", -1, sec(time.Minute), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := j.checkTimes(jwt.MapClaims{"iat": tt.iat, "exp": tt.exp})
			if (err == nil) != tt.ok {
				t.Fatalf("checkTimes = %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestJWTKeyCache checks that a key is parsed once and that a changed body is a miss.
func TestJWTKeyCache(t *testing.T) {
	var c keyCache
	ks := testKeys()
	b0, b1 := keyBody(t, &ks[0].PublicKey), keyBody(t, &ks[1].PublicKey)
	k0, err := c.get(b0)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.get(b0)
	if again != k0 {
		t.Fatal("second get re-parsed the key")
	}
	k1, err := c.get(b1)
	if err != nil || k1 == k0 || k1.fp != Fingerprint(&ks[1].PublicKey) {
		t.Fatalf("get(key 2) = %+v, %v", k1, err)
	}
	if _, err := c.get("bm90IGEga2V5"); err == nil {
		t.Fatal("a non-key body parsed")
	}
}

// FuzzJWTAuthenticate feeds arbitrary tokens to the authenticator: none may log in,
// and none may panic.
func FuzzJWTAuthenticate(f *testing.F) {
	ks := testKeys()
	now := time.Unix(1_750_000_000, 0)
	f.Add(sign(f, ks[0], jwt.SigningMethodRS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)))
	f.Add(sign(f, ks[0], jwt.SigningMethodHS256, goClaims("ACME", "JWTUSER", &ks[0].PublicKey, now)))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	j := NewJWT(func() time.Time { return now }, 0, "")
	acct := &catalog.Account{Name: "ACME"}
	body := keyBody(f, &ks[0].PublicKey)
	f.Fuzz(func(t *testing.T, tok string) {
		tx := &fakeUserTx{u: &catalog.User{Name: "JWTUSER", LoginName: "JWTUSER", RSAPublicKey: body}}
		out, err := j.Authenticate(context.Background(), tx, acct, &LoginRequest{Token: tok})
		if err == nil && out.Err == nil {
			// Only a genuine signature by the key can succeed; the fuzzer cannot forge one,
			// so success means the input is the seed token (or a re-encoding of it).
			if _, perr := jwt.NewParser(jwt.WithValidMethods(jwtMethods), jwt.WithoutClaimsValidation()).Parse(tok, func(*jwt.Token) (any, error) { return &ks[0].PublicKey, nil }); perr != nil {
				t.Fatalf("token %q accepted without a valid signature", tok)
			}
		}
	})
}

// fakeUserTx is a store.Tx holding one user of account ACME; methods other than Get
// and List panic.
type fakeUserTx struct {
	store.Tx
	u *catalog.User
}

func (f *fakeUserTx) Get(ctx context.Context, k store.Key) (*store.Record, error) {
	recs, err := f.List(ctx, k.Account, k.Kind, k.Parent)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Key == k {
			return r, nil
		}
	}
	return nil, store.ErrNotFound
}

func (f *fakeUserTx) List(_ context.Context, account, kind, _ string) ([]*store.Record, error) {
	if account != "ACME" || kind != catalog.KindUser {
		return nil, nil
	}
	b, err := json.Marshal(f.u)
	if err != nil {
		return nil, err
	}
	return []*store.Record{{Key: catalog.UserKey("ACME", f.u.Name), Data: b}}, nil
}

// BenchmarkJWTLogin measures Service.Login for a key-pair JWT against a SQLite store:
// token verification, the login-history and lockout write and session state.
// Tokens are signed outside the timer.
func BenchmarkJWTLogin(b *testing.B) {
	e := newAuthEnv(b)
	k := testKeys()[0]
	toks := make([]string, 256)
	for i := range toks {
		c := goClaims("ACME", "JWTUSER", &k.PublicKey, e.now)
		c["jti"] = i
		toks[i] = sign(b, k, jwt.SigningMethodRS256, c)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := e.svc.Login(context.Background(), &LoginRequest{Account: "ACME", Authenticator: "SNOWFLAKE_JWT", Token: toks[i%len(toks)]}); err != nil {
			b.Fatal(err)
		}
	}
}
