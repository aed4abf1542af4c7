package integration

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/store"
)

// oauthPing logs in through gosnowflake with authenticator=OAUTH on a fresh handle
// and returns the handle and the login error.
func oauthPing(t *testing.T, e *env, account, user, token string) (*sql.DB, error) {
	t.Helper()
	db, err := sql.Open("snowflake", e.dsn(account, user, "", "authenticator", "OAUTH", "token", token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, db.PingContext(context.Background())
}

// TestOAuthLogin mints tokens with the server and logs in with them through
// gosnowflake: a valid token, a role-restricted one, a token used in another account,
// an expired one and a tampered one.
func TestOAuthLogin(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	admin := e.admin()
	mustExec(t, admin, "CREATE ROLE reporter", "GRANT ROLE reporter TO USER admin")
	err := e.srv.Store().Update(ctx, func(tx store.Tx) error {
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "OTHERCO", AdminName: "ADMIN"}, &catalog.User{Name: "ADMIN"})
	})
	if err != nil {
		t.Fatal(err)
	}

	tok, err := e.srv.MintOAuthToken(ctx, "FIRN", "ADMIN", "", "", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	db, err := oauthPing(t, e, "FIRN", "ADMIN", tok)
	if err != nil {
		t.Fatalf("OAuth login: %v", err)
	}
	if got := one(t, db, "SELECT CURRENT_USER() || ' ' || CURRENT_ROLE()"); got != "ADMIN ACCOUNTADMIN" {
		t.Fatalf("session = %q", got)
	}
	if l := jwtLogins(t, e, "FIRN")[0]; !l.IsSuccess || l.FirstFactor != "OAUTH_ACCESS_TOKEN" {
		t.Fatalf("history row %+v", l)
	}

	t.Run("role restriction", func(t *testing.T) {
		rtok, err := e.srv.MintOAuthToken(ctx, "FIRN", "ADMIN", "reporter", "", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		db, err := oauthPing(t, e, "FIRN", "ADMIN", rtok)
		if err != nil {
			t.Fatal(err)
		}
		if got := one(t, db, "SELECT CURRENT_ROLE()"); got != "REPORTER" {
			t.Fatalf("CURRENT_ROLE() = %q; want REPORTER", got)
		}
		_, err = oauthPing(t, e, "FIRN", "ADMIN", rtok+"&role=ACCOUNTADMIN")
		if err == nil {
			t.Fatal("a token with junk appended logged in")
		}
	})

	t.Run("other account", func(t *testing.T) {
		before := len(jwtLogins(t, e, "OTHERCO"))
		_, err := oauthPing(t, e, "OTHERCO", "ADMIN", tok)
		sfErr(t, err, 390303)
		ls := jwtLogins(t, e, "OTHERCO")
		// gosnowflake retries once on 390303.
		if len(ls) <= before || ls[0].ErrorCode != "390303" || ls[0].FirstFactor != "OAUTH_ACCESS_TOKEN" {
			t.Fatalf("history of OTHERCO: %d new rows, newest %+v", len(ls)-before, ls[0])
		}
	})

	t.Run("tampered", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		sig := []byte(parts[2])
		if sig[0] == 'A' {
			sig[0] = 'B'
		} else {
			sig[0] = 'A'
		}
		_, err := oauthPing(t, e, "FIRN", "ADMIN", parts[0]+"."+parts[1]+"."+string(sig))
		sfErr(t, err, 390303)
	})

	t.Run("expired", func(t *testing.T) {
		before := len(jwtLogins(t, e, "FIRN"))
		e.clock.Advance(5*time.Minute + time.Second)
		_, err := oauthPing(t, e, "FIRN", "ADMIN", tok)
		se := sfErr(t, err, 390318)
		if se.Message != "OAuth access token expired." {
			t.Fatalf("message %q", se.Message)
		}
		ls := jwtLogins(t, e, "FIRN")
		if n := len(ls) - before; n < 1 || n > 2 || ls[0].ErrorCode != "390318" {
			t.Fatalf("%d new history rows (newest %+v); want 1 or 2 (the driver retries once)", n, ls[0])
		}
	})
}
