package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

func TestOAuthMintLimits(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name          string
		account, user string
		ttl           time.Duration
		ok            bool
	}{
		{"default ttl", "acme", "JWTUSER", 0, true},
		{"one hour", "ACME", "jwtuser", time.Hour, true},
		{"over an hour", "ACME", "JWTUSER", time.Hour + time.Second, false},
		{"negative", "ACME", "JWTUSER", -time.Second, false},
		{"unknown user", "ACME", "NOBODY", time.Minute, false},
		{"unknown account", "NOPE", "JWTUSER", time.Minute, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := e.svc.MintOAuthToken(ctx, tt.account, tt.user, "", "", tt.ttl)
			if (err == nil) != tt.ok {
				t.Fatalf("MintOAuthToken = %q, %v; want ok=%v", tok, err, tt.ok)
			}
		})
	}
}

func TestOAuthLogin(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := context.Background()
	mint := func(account, user, role, aud string, ttl time.Duration) string {
		t.Helper()
		tok, err := e.svc.MintOAuthToken(ctx, account, user, role, aud, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if err := e.st.Update(ctx, func(tx store.Tx) error {
		return catalog.CreateUser(ctx, tx, "OTHER", "ACCOUNTADMIN", &catalog.User{Name: "JWTUSER"})
	}); err != nil {
		t.Fatal(err)
	}
	good := mint("ACME", "JWTUSER", "", "", time.Minute)
	tampered := func() string {
		parts := strings.Split(good, ".")
		c := oauthClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(good, &c); err != nil {
			t.Fatal(err)
		}
		c.Subject = "ADMIN"
		forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte("guess"))
		return strings.Join([]string{strings.Split(forged, ".")[0], strings.Split(forged, ".")[1], parts[2]}, ".")
	}()
	tests := []struct {
		name     string
		account  string
		login    string
		token    func() string
		advance  time.Duration
		want     string
		wantUser string // user whose history row is expected ("" for none)
		role     string
	}{
		{name: "valid", account: "ACME", token: func() string { return good }, wantUser: "JWTUSER", role: "PUBLIC"},
		{name: "valid with login name", account: "ACME", login: "jwtuser", token: func() string { return good }, wantUser: "JWTUSER", role: "PUBLIC"},
		{name: "login name of someone else", account: "ACME", login: "ADMIN", token: func() string { return good }, want: "390303", wantUser: "JWTUSER"},
		{name: "role restriction", account: "ACME", token: func() string { return mint("ACME", "JWTUSER", "public", "", time.Minute) }, wantUser: "JWTUSER", role: "PUBLIC"},
		{name: "other account", account: "OTHER", token: func() string { return good }, want: "390303", wantUser: "JWTUSER"},
		{name: "tampered", account: "ACME", token: func() string { return tampered }, want: "390303", wantUser: "ADMIN"},
		{name: "other audience", account: "ACME", token: func() string { return mint("ACME", "JWTUSER", "", "ingress", time.Minute) }, want: "390303", wantUser: "JWTUSER"},
		{name: "garbage", account: "ACME", token: func() string { return "x.y.z" }, want: "390303"},
		{name: "expired", account: "ACME", token: func() string { return good }, advance: time.Minute + time.Second, want: "390318", wantUser: "JWTUSER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token()
			e.mu.Lock()
			e.now = e.now.Add(tt.advance)
			e.mu.Unlock()
			before := loginCount(t, e.st, tt.account)
			sess, err := e.svc.Login(ctx, &LoginRequest{Account: tt.account, LoginName: tt.login, Authenticator: "OAUTH", Token: tok})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if sess.User != "JWTUSER" || sess.Role != tt.role || sess.AuthMethod != "OAUTH_ACCESS_TOKEN" {
					t.Fatalf("session %+v", sess)
				}
			} else if se := sferr.As(err); err == nil || se.Code != tt.want {
				t.Fatalf("Login error %v; want %s", err, tt.want)
			}
			got := loginCount(t, e.st, tt.account) - before
			if (got == 1) != (tt.wantUser != "") {
				t.Fatalf("%d new history rows; want a row for %q", got, tt.wantUser)
			}
			if tt.wantUser != "" {
				l := lastLogin(t, e.st, tt.account)
				if l.UserName != tt.wantUser || l.FirstFactor != "OAUTH_ACCESS_TOKEN" || l.ErrorCode != tt.want {
					t.Fatalf("history row %+v", l)
				}
			}
		})
	}
}

// TestOAuthRoleRestriction checks that a role-restricted token cannot open a session
// in another role.
func TestOAuthRoleRestriction(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := context.Background()
	tok, err := e.svc.MintOAuthToken(ctx, "ACME", "ADMIN", "PUBLIC", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Login(ctx, &LoginRequest{Account: "ACME", Authenticator: "OAUTH", Token: tok, Role: "ACCOUNTADMIN"})
	if se := sferr.As(err); err == nil || se.Code != "390189" {
		t.Fatalf("Login as ACCOUNTADMIN with a PUBLIC token: %v; want 390189", err)
	}
	sess, err := e.svc.Login(ctx, &LoginRequest{Account: "ACME", Authenticator: "OAUTH", Token: tok})
	if err != nil || sess.Role != "PUBLIC" || sess.RoleRestriction != "PUBLIC" {
		t.Fatalf("Login = %+v, %v; want role PUBLIC restricted", sess, err)
	}
}

// newOAuthEnv is newAuthEnv with a keyring installed. Like the server's, the
// keyring persists a new data key through a store transaction of its own, so
// sealing inside a transaction would deadlock these tests.
func newOAuthEnv(t testing.TB) *authEnv {
	t.Helper()
	e := newAuthEnv(t)
	e.svc.SetKeyring(newTestKeyring(t, e.st))
	return e
}

func newTestKeyring(t testing.TB, st store.Store) *secrets.Keyring {
	t.Helper()
	mk, _, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return secrets.NewKeyring(mk, func(account string, wk secrets.WrappedKey) error {
		b, err := json.Marshal(wk)
		if err != nil {
			return err
		}
		return st.Update(context.Background(), func(tx store.Tx) error {
			return tx.Insert(context.Background(), &store.Record{
				Key: store.Key{Kind: "TEST_DATA_KEY", Parent: account, Name: strconv.Itoa(wk.Version)}, Data: b})
		})
	})
}

// oauthRecord reads account's signing-key record body.
func oauthRecord(t testing.TB, st store.Store, account string) []byte {
	t.Helper()
	var data []byte
	if err := st.View(context.Background(), func(tx store.Tx) error {
		r, err := tx.Get(context.Background(), oauthKeyKey(account))
		if err == nil {
			data = r.Data
		}
		return err
	}); err != nil {
		t.Fatalf("signing key record of %s: %v", account, err)
	}
	return data
}

func putOAuthRecord(t testing.TB, st store.Store, account string, data []byte) {
	t.Helper()
	if err := st.Update(context.Background(), func(tx store.Tx) error {
		r, err := tx.Get(context.Background(), oauthKeyKey(account))
		if errors.Is(err, store.ErrNotFound) {
			return tx.Insert(context.Background(), &store.Record{Key: oauthKeyKey(account), Data: data})
		}
		if err != nil {
			return err
		}
		r.Data = data
		return tx.Put(context.Background(), r)
	}); err != nil {
		t.Fatal(err)
	}
}

// keyForms are the encodings under which key bytes could appear in a record.
func keyForms(key []byte) [][]byte {
	return [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawURLEncoding.EncodeToString(key)),
		[]byte(hex.EncodeToString(key))}
}

// signedBy reports whether tok's HS256 signature verifies under key.
func signedBy(tok string, key []byte) bool {
	_, err := jwt.NewParser(jwt.WithoutClaimsValidation()).Parse(tok, func(*jwt.Token) (any, error) { return key, nil })
	return err == nil
}

func oauthLogin(e *authEnv, account, tok string) error {
	_, err := e.svc.Login(context.Background(), &LoginRequest{Account: account, Authenticator: "OAUTH", Token: tok})
	return err
}

// TestOAuthKeySealed checks that a minted key is stored only as ciphertext, that the
// ciphertext opens to the key that signed the token, and that master-key rotation
// leaves the record and the tokens alone.
func TestOAuthKeySealed(t *testing.T) {
	e := newAuthEnv(t)
	kr := newTestKeyring(t, e.st)
	e.svc.SetKeyring(kr)
	ctx := context.Background()
	tok, err := e.svc.MintOAuthToken(ctx, "ACME", "JWTUSER", "", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	data := oauthRecord(t, e.st, "ACME")
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(data, &rec); err != nil || len(rec) != 1 || rec["sealed"] == nil {
		t.Fatalf("record %s: want only a sealed field (%v)", data, err)
	}
	key, legacy, err := OpenOAuthKeyRecord(kr, "ACME", data)
	if err != nil || legacy || len(key) != 32 || !signedBy(tok, key) {
		t.Fatalf("OpenOAuthKeyRecord = %d bytes, legacy %v, %v; want the token's 32-byte key", len(key), legacy, err)
	}
	for _, f := range keyForms(key) {
		if bytes.Contains(data, f) {
			t.Fatalf("record holds the key in plaintext (%q)", f)
		}
	}
	// A second mint reuses the key; the record is unchanged.
	tok2, err := e.svc.MintOAuthToken(ctx, "ACME", "ADMIN", "", "", time.Minute)
	if err != nil || !signedBy(tok2, key) || !bytes.Equal(oauthRecord(t, e.st, "ACME"), data) {
		t.Fatalf("second mint: %v; want the same key and record", err)
	}

	mk, _, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.RotateMaster(mk, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(oauthRecord(t, e.st, "ACME"), data) {
		t.Fatal("master-key rotation changed the sealed record")
	}
	// A fresh service (no cached key) opens the record under the rotated master key.
	fresh := NewService(Config{Store: e.st, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	fresh.SetKeyring(kr)
	if _, err := fresh.Login(ctx, &LoginRequest{Account: "ACME", Authenticator: "OAUTH", Token: tok}); err != nil {
		t.Fatalf("login after master-key rotation: %v", err)
	}
}

// TestOAuthKeyLegacy checks that a plaintext record written by an older firn still
// verifies, and is re-sealed, keeping the key, at start (SealLegacyOAuthKeys) or by
// the next mint.
func TestOAuthKeyLegacy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		migrate func(t *testing.T, e *authEnv, kr *secrets.Keyring)
	}{
		{"at start", func(t *testing.T, e *authEnv, kr *secrets.Keyring) {
			got, err := SealLegacyOAuthKeys(context.Background(), e.st, kr)
			if err != nil || len(got) != 1 || got[0] != "ACME" {
				t.Fatalf("SealLegacyOAuthKeys = %v, %v; want [ACME]", got, err)
			}
			if again, err := SealLegacyOAuthKeys(context.Background(), e.st, kr); err != nil || len(again) != 0 {
				t.Fatalf("second SealLegacyOAuthKeys = %v, %v; want nothing", again, err)
			}
		}},
		{"by the next mint", func(t *testing.T, e *authEnv, _ *secrets.Keyring) {
			if _, err := e.svc.MintOAuthToken(context.Background(), "ACME", "ADMIN", "", "", time.Minute); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthEnv(t)
			kr := newTestKeyring(t, e.st)
			e.svc.SetKeyring(kr)
			legacyKey := bytes.Repeat([]byte{0x5a, 0xc3}, 16)
			b, err := json.Marshal(map[string][]byte{"key": legacyKey})
			if err != nil {
				t.Fatal(err)
			}
			putOAuthRecord(t, e.st, "ACME", b)
			now := e.clock()
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, oauthClaims{
				RegisteredClaims: jwt.RegisteredClaims{Issuer: oauthIssuer, Subject: "JWTUSER", Audience: jwt.ClaimStrings{OAuthAudience},
					IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))},
				Account: "ACME",
			}).SignedString(legacyKey)
			if err != nil {
				t.Fatal(err)
			}
			if err := oauthLogin(e, "ACME", tok); err != nil {
				t.Fatalf("login with a legacy key: %v", err)
			}
			tt.migrate(t, e, kr)
			data := oauthRecord(t, e.st, "ACME")
			for _, f := range keyForms(legacyKey) {
				if bytes.Contains(data, f) {
					t.Fatalf("re-sealed record still holds the key: %s", data)
				}
			}
			if key, legacy, err := OpenOAuthKeyRecord(kr, "ACME", data); err != nil || legacy || !bytes.Equal(key, legacyKey) {
				t.Fatalf("re-sealed record opens to legacy=%v, %v; want the same key sealed", legacy, err)
			}
			if err := oauthLogin(e, "ACME", tok); err != nil {
				t.Fatalf("login after re-sealing: %v", err)
			}
		})
	}
}

// TestOAuthKeyRefused checks that a signing-key record that cannot be opened makes a
// login fail with 390303 (the cause naming the sealed key) and minting fail with an
// error, whatever is wrong with it, even after the key was cached.
func TestOAuthKeyRefused(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, e *authEnv)
		want  error // also wrapped by the cause, besides ErrOAuthKeySealed
	}{
		{"tampered ciphertext", func(t *testing.T, e *authEnv) {
			var rec oauthKeyRecord
			if err := json.Unmarshal(oauthRecord(t, e.st, "ACME"), &rec); err != nil {
				t.Fatal(err)
			}
			rec.Sealed[len(rec.Sealed)-1] ^= 1
			b, _ := json.Marshal(rec)
			putOAuthRecord(t, e.st, "ACME", b)
		}, secrets.ErrTampered},
		{"truncated ciphertext", func(t *testing.T, e *authEnv) {
			putOAuthRecord(t, e.st, "ACME", []byte(`{"sealed":"AQAAAAE="}`))
		}, secrets.ErrTampered},
		{"copied from another account", func(t *testing.T, e *authEnv) {
			if _, err := e.svc.MintOAuthToken(context.Background(), "OTHER", "ADMIN", "", "", time.Minute); err != nil {
				t.Fatal(err)
			}
			putOAuthRecord(t, e.st, "ACME", oauthRecord(t, e.st, "OTHER"))
		}, secrets.ErrTampered},
		{"wrong master key", func(t *testing.T, e *authEnv) {
			// A keyring that never loaded ACME's data key, as with another master key.
			e.svc = NewService(Config{Store: e.st, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			e.svc.SetKeyring(newTestKeyring(t, e.st))
		}, secrets.ErrNoDataKey},
		{"no keyring", func(t *testing.T, e *authEnv) {
			e.svc = NewService(Config{Store: e.st, Now: e.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		}, nil},
		{"malformed record", func(t *testing.T, e *authEnv) {
			putOAuthRecord(t, e.st, "ACME", []byte(`{"sealed":`))
		}, nil},
		{"empty record", func(t *testing.T, e *authEnv) {
			putOAuthRecord(t, e.st, "ACME", []byte(`{}`))
		}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newOAuthEnv(t)
			ctx := context.Background()
			tok, err := e.svc.MintOAuthToken(ctx, "ACME", "JWTUSER", "", "", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := oauthLogin(e, "ACME", tok); err != nil {
				t.Fatalf("login before: %v", err)
			}
			tt.spoil(t, e)
			err = oauthLogin(e, "ACME", tok)
			se := sferr.As(err)
			if err == nil || se.Code != "390303" || !errors.Is(err, ErrOAuthKeySealed) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("login = %v (cause %v); want 390303 caused by %v, %v", err, se.Cause, ErrOAuthKeySealed, tt.want)
			}
			if l := lastLogin(t, e.st, "ACME"); l.ErrorCode != "390303" || l.UserName != "JWTUSER" {
				t.Fatalf("history row %+v", l)
			}
			if _, err := e.svc.MintOAuthToken(ctx, "ACME", "JWTUSER", "", "", time.Minute); !errors.Is(err, ErrOAuthKeySealed) {
				t.Fatalf("mint with a broken key = %v; want %v", err, ErrOAuthKeySealed)
			}
		})
	}
}

// TestOAuthKeyConcurrentMint mints for an account without a key (and without a data
// key) from many goroutines: sealing creates the data key in a transaction of its
// own, every minter ends with the one stored key, and nothing deadlocks.
func TestOAuthKeyConcurrentMint(t *testing.T) {
	e := newOAuthEnv(t)
	ctx := context.Background()
	toks := make([]string, 8)
	var wg sync.WaitGroup
	errs := make([]error, len(toks))
	for i := range toks {
		wg.Go(func() { toks[i], errs[i] = e.svc.MintOAuthToken(ctx, "ACME", "JWTUSER", "", "", time.Minute) })
	}
	wg.Wait()
	for i, tok := range toks {
		if errs[i] != nil {
			t.Fatalf("mint %d: %v", i, errs[i])
		}
		if err := oauthLogin(e, "ACME", tok); err != nil {
			t.Fatalf("login with token %d: %v", i, err)
		}
	}
}
