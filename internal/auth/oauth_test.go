package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

func TestOAuthMintLimits(t *testing.T) {
	e := newAuthEnv(t)
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
	e := newAuthEnv(t)
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
	e := newAuthEnv(t)
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
