package session_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// clock is an injectable time source.
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

type fixture struct {
	st  store.Store
	clk *clock
	m   *session.Manager
}

func newFixture(t *testing.T, validity func(context.Context, string) (time.Duration, time.Duration, time.Duration)) *fixture {
	t.Helper()
	st := storetest.Open(t)
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &fixture{st: st, clk: clk, m: session.NewManager(st, session.Config{Now: clk.Now, Validity: validity})}
}

func (f *fixture) login(t *testing.T) (*session.Session, session.Tokens) {
	t.Helper()
	s := &session.Session{
		Account:  "ACME",
		User:     "ALICE",
		UserType: "PERSON",
		Role:     "SYSADMIN",
		Database: "DB1",
		Params:   map[string]string{"TIMEZONE": "UTC"},
	}
	tok, err := f.m.Create(context.Background(), s)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s, tok
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *sferr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want Snowflake code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, code)
	}
}

func TestCreateAndAuthenticate(t *testing.T) {
	f := newFixture(t, nil)
	s, tok := f.login(t)
	if s.ID <= 0 {
		t.Fatalf("ID = %d, want positive", s.ID)
	}
	if !strings.HasPrefix(tok.SessionToken, "ST-") || !strings.HasPrefix(tok.MasterToken, "MT-") {
		t.Fatalf("tokens %q %q lack their prefixes", tok.SessionToken, tok.MasterToken)
	}
	if tok.SessionValidity != time.Hour || tok.MasterValidity != 4*time.Hour {
		t.Fatalf("validity = %v/%v, want 1h/4h", tok.SessionValidity, tok.MasterValidity)
	}
	_, tok2 := f.login(t)
	if tok2.SessionToken == tok.SessionToken || tok2.MasterToken == tok.MasterToken {
		t.Fatal("two logins got the same token")
	}

	got, err := f.m.Authenticate(context.Background(), tok.SessionToken)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if got.ID != s.ID || got.Account != "ACME" || got.User != "ALICE" || got.Role != "SYSADMIN" ||
		got.Database != "DB1" || got.Params["TIMEZONE"] != "UTC" {
		t.Fatalf("Authenticate = %+v, want the created session", got)
	}
	if !got.TokenExpiry.Equal(f.clk.Now().Add(time.Hour)) || !got.MasterExpiry.Equal(f.clk.Now().Add(4*time.Hour)) {
		t.Fatalf("expiries %v %v", got.TokenExpiry, got.MasterExpiry)
	}

	// Tokens are stored only as hashes: no stored byte string contains either token's
	// random part.
	err = f.st.View(context.Background(), func(tx store.Tx) error {
		rec, err := tx.SessionByID(context.Background(), s.ID)
		if err != nil {
			return err
		}
		for _, tk := range []string{tok.SessionToken, tok.MasterToken} {
			_, secret, _ := strings.Cut(tk, ".")
			for _, b := range [][]byte{rec.TokenHash, rec.MasterHash, rec.Data} {
				if len(secret) < 40 || bytes.Contains(b, []byte(secret)) {
					t.Errorf("token %q: random part %q stored in plaintext", tk, secret)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticateErrors(t *testing.T) {
	f := newFixture(t, nil)
	_, tok := f.login(t)
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "nonsense"},
		{"unknown", "ST-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"master token", tok.MasterToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.m.Authenticate(context.Background(), tc.token)
			wantCode(t, err, "390104")
		})
	}
}

func TestExpiryAndRenew(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	s, tok := f.login(t)

	f.clk.Advance(time.Hour)
	_, err := f.m.Authenticate(ctx, tok.SessionToken)
	wantCode(t, err, "390112")

	got, ntok, err := f.m.Renew(ctx, tok.MasterToken, tok.SessionToken)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if got.ID != s.ID || got.User != "ALICE" {
		t.Fatalf("Renew session = %+v", got)
	}
	if ntok.SessionToken == tok.SessionToken || ntok.MasterToken != tok.MasterToken {
		t.Fatalf("Renew tokens: new session %v, master kept %v", ntok.SessionToken != tok.SessionToken, ntok.MasterToken == tok.MasterToken)
	}
	if ntok.SessionValidity != time.Hour || ntok.MasterValidity != 3*time.Hour {
		t.Fatalf("validities %v/%v, want 1h and the master's remaining 3h", ntok.SessionValidity, ntok.MasterValidity)
	}
	if _, err := f.m.Authenticate(ctx, ntok.SessionToken); err != nil {
		t.Fatalf("Authenticate renewed token: %v", err)
	}
	_, err = f.m.Authenticate(ctx, tok.SessionToken)
	wantCode(t, err, "390104")

	// The old session token is no longer the session's.
	_, _, err = f.m.Renew(ctx, tok.MasterToken, tok.SessionToken)
	wantCode(t, err, "390104")
	_, _, err = f.m.Renew(ctx, "MT-unknown", "")
	wantCode(t, err, "390104")
	_, _, err = f.m.Renew(ctx, ntok.SessionToken, "")
	wantCode(t, err, "390104")

	// Renewal without the old token is allowed; the session token never outlives
	// the master token.
	f.clk.Advance(150 * time.Minute)
	_, ntok2, err := f.m.Renew(ctx, tok.MasterToken, "")
	if err != nil {
		t.Fatalf("Renew without old token: %v", err)
	}
	if ntok2.SessionValidity != 30*time.Minute {
		t.Fatalf("session validity %v, want capped to master's remaining 30m", ntok2.SessionValidity)
	}
	_, err = f.m.Authenticate(ctx, ntok.SessionToken)
	wantCode(t, err, "390104")
}

func TestMasterExpiry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	_, tok := f.login(t)
	f.clk.Advance(4 * time.Hour)
	_, err := f.m.Authenticate(ctx, tok.SessionToken)
	wantCode(t, err, "390112")
	_, _, err = f.m.Renew(ctx, tok.MasterToken, tok.SessionToken)
	wantCode(t, err, "390114")
}

func TestIdleTimeout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(context.Context, string) (time.Duration, time.Duration, time.Duration) {
		return 2 * time.Hour, 8 * time.Hour, 10 * time.Minute
	})
	_, tok := f.login(t)
	if tok.SessionValidity != 2*time.Hour || tok.MasterValidity != 8*time.Hour {
		t.Fatalf("validity = %v/%v from Config.Validity", tok.SessionValidity, tok.MasterValidity)
	}
	// Activity keeps the session alive.
	for range 3 {
		f.clk.Advance(9 * time.Minute)
		if _, err := f.m.Authenticate(ctx, tok.SessionToken); err != nil {
			t.Fatalf("Authenticate within idle timeout: %v", err)
		}
	}
	f.clk.Advance(11 * time.Minute)
	_, err := f.m.Authenticate(ctx, tok.SessionToken)
	wantCode(t, err, "390112")
	// The idle session is gone: renewal cannot bring it back.
	_, _, err = f.m.Renew(ctx, tok.MasterToken, tok.SessionToken)
	wantCode(t, err, "390104")
}

func TestLastUsedTouchedAtMostOncePerMinute(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	_, tok := f.login(t)
	created := f.clk.Now()
	lastUsed := func() time.Time {
		t.Helper()
		s, err := f.m.Authenticate(ctx, tok.SessionToken)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		return s.LastUsed
	}
	f.clk.Advance(30 * time.Second)
	if got := lastUsed(); !got.Equal(created) {
		t.Fatalf("LastUsed = %v after 30s, want unchanged %v", got, created)
	}
	f.clk.Advance(31 * time.Second)
	if got := lastUsed(); !got.Equal(created.Add(61 * time.Second)) {
		t.Fatalf("LastUsed = %v after 61s, want touched", got)
	}
}

func TestSaveKeepsConcurrentRenewal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	_, tok := f.login(t)
	s, err := f.m.Authenticate(ctx, tok.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	// Another request renews the tokens while s is in use.
	_, ntok, err := f.m.Renew(ctx, tok.MasterToken, tok.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	s.Role = "ANALYST"
	s.Schema = "PUBLIC"
	s.Params["QUERY_TAG"] = "x"
	if err := f.m.Save(ctx, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := f.m.Authenticate(ctx, ntok.SessionToken)
	if err != nil {
		t.Fatalf("renewed token after Save: %v", err)
	}
	if got.Role != "ANALYST" || got.Schema != "PUBLIC" || got.Params["QUERY_TAG"] != "x" {
		t.Fatalf("saved state = %+v", got)
	}
	if err := f.m.Save(ctx, &session.Session{ID: got.ID}); err == nil {
		t.Fatal("Save of a session not issued by the manager succeeded")
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	s, tok := f.login(t)
	_, other := f.login(t)
	if err := f.m.Close(ctx, s); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := f.m.Close(ctx, s); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := f.m.Authenticate(ctx, tok.SessionToken)
	wantCode(t, err, "390104")
	_, _, err = f.m.Renew(ctx, tok.MasterToken, "")
	wantCode(t, err, "390104")
	wantCode(t, f.m.Save(ctx, s), "390111")
	if _, err := f.m.Authenticate(ctx, other.SessionToken); err != nil {
		t.Fatalf("other session after Close: %v", err)
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	_, old := f.login(t)
	f.clk.Advance(3 * time.Hour)
	_, fresh := f.login(t)
	f.clk.Advance(time.Hour + time.Second)
	n, err := f.m.Sweep(ctx)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n != 1 {
		t.Fatalf("Sweep removed %d, want 1", n)
	}
	_, _, err = f.m.Renew(ctx, old.MasterToken, "")
	wantCode(t, err, "390104")
	if _, _, err := f.m.Renew(ctx, fresh.MasterToken, ""); err != nil {
		t.Fatalf("Renew of unexpired session after Sweep: %v", err)
	}
}

// TestSweepIdle: the sweep ends sessions idle for longer than their idle timeout (read
// from the store's indexed end, not by decoding every session) and keeps those used
// since.
func TestSweepIdle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(context.Context, string) (time.Duration, time.Duration, time.Duration) {
		return time.Hour, 4 * time.Hour, 10 * time.Minute
	})
	_, idle := f.login(t)
	_, used := f.login(t)
	f.clk.Advance(5 * time.Minute)
	if _, err := f.m.Authenticate(ctx, used.SessionToken); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	f.clk.Advance(6 * time.Minute)
	n, err := f.m.Sweep(ctx)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n != 1 {
		t.Fatalf("Sweep removed %d, want 1 (the idle session)", n)
	}
	_, _, err = f.m.Renew(ctx, idle.MasterToken, "")
	wantCode(t, err, "390104")
	if _, err := f.m.Authenticate(ctx, used.SessionToken); err != nil {
		t.Fatalf("session used 6 minutes ago was swept: %v", err)
	}
}

func TestCloseUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	_, a1 := f.login(t)
	_, a2 := f.login(t)
	bob := &session.Session{Account: "ACME", User: "BOB", Role: "PUBLIC"}
	btok, err := f.m.Create(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.m.CloseUser(ctx, "acme", "alice")
	if err != nil || n != 2 {
		t.Fatalf("CloseUser = %d, %v; want 2", n, err)
	}
	for _, tok := range []string{a1.SessionToken, a2.SessionToken} {
		_, err := f.m.Authenticate(ctx, tok)
		wantCode(t, err, "390104")
	}
	if _, err := f.m.Authenticate(ctx, btok.SessionToken); err != nil {
		t.Fatalf("other user's session: %v", err)
	}
}
