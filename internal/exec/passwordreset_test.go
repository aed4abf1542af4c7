package exec

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/store/storetest"
)

// resetClock is a settable test clock.
type resetClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *resetClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *resetClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newResetEngine returns an Engine (no data engine) over a fresh store with account A,
// whose ADMIN has ACCOUNTADMIN, and the admin's session.
func newResetEngine(t *testing.T) (*Engine, *session.Session, *resetClock, store.Store) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	if err := st.Update(ctx, func(tx store.Tx) error {
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: "A", Edition: "ENTERPRISE", Org: true}, &catalog.User{Name: "ADMIN", LoginName: "ADMIN"})
	}); err != nil {
		t.Fatal(err)
	}
	clk := &resetClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := New(Config{Store: st, Now: clk.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return e, &session.Session{ID: 1, Account: "A", User: "ADMIN", Role: catalog.RoleAccountAdmin}, clk, st
}

// resetLinkOf runs ALTER USER <user> RESET PASSWORD and returns the link's account and
// token, checking the result's shape.
func resetLinkOf(t *testing.T, e *Engine, s *session.Session, user string) (account, token string) {
	t.Helper()
	ctx := WithBaseURL(context.Background(), "http://firn.test:8765")
	set, err := e.Execute(ctx, s, &Request{QueryID: "reset-" + user, SQL: "ALTER USER " + user + " RESET PASSWORD"})
	if err != nil {
		t.Fatalf("RESET PASSWORD %s: %v", user, err)
	}
	if len(set.Columns) != 1 || set.Columns[0].Name != "status" || len(set.Rows) != 1 {
		t.Fatalf("result shape: %+v", set)
	}
	text := set.Rows[0][0].(string)
	prefix := strings.ToUpper(user) + "'s password reset link: http://firn.test:8765" + PasswordResetPath + "?"
	if !strings.HasPrefix(text, prefix) {
		t.Fatalf("status %q does not start with %q", text, prefix)
	}
	q, err := url.ParseQuery(strings.TrimPrefix(text, prefix))
	if err != nil {
		t.Fatal(err)
	}
	return q.Get("account"), q.Get("token")
}

func TestResetTokenShape(t *testing.T) {
	tok, id, hash, err := newResetToken()
	if err != nil {
		t.Fatal(err)
	}
	if len(hash) != 32 || url.QueryEscape(tok) != tok {
		t.Fatalf("token %q is not URL-safe or hash is %d bytes", tok, len(hash))
	}
	patSecret, _, _, err := auth.NewPATSecret()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token string
		ok          bool
	}{
		{"fresh", tok, true},
		{"empty", "", false},
		{"truncated", tok[:len(tok)-1], false},
		{"wrong prefix", "firnpat_" + tok[len(resetPrefix):], false},
		{"a PAT secret", patSecret, false},
		{"no separator", tok[:len(resetPrefix)+len(id)] + "." + tok[len(resetPrefix)+16+1:] /* after the 16-character lookup id and "_" */, false},
		{"not base64url", tok[:len(tok)-1] + "=", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseResetToken(tc.token)
			if ok != tc.ok || ok && got != id {
				t.Fatalf("parseResetToken = %q, %v; want %q, %v", got, ok, id, tc.ok)
			}
		})
	}
}

func TestPasswordReset(t *testing.T) {
	ctx := context.Background()
	const newPW = "N3w-passw0rd-x"
	for _, tc := range []struct {
		name string
		// between runs after the link is issued and before it is used.
		between func(t *testing.T, e *Engine, s *session.Session, clk *resetClock)
		valid   bool
	}{
		{"fresh link", nil, true},
		{"just before expiry", func(t *testing.T, _ *Engine, _ *session.Session, clk *resetClock) {
			clk.advance(PasswordResetValidity - time.Second)
		}, true},
		{"expired", func(t *testing.T, _ *Engine, _ *session.Session, clk *resetClock) {
			clk.advance(PasswordResetValidity)
		}, false},
		{"superseded by a new RESET", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			resetLinkOf(t, e, s, "u1")
		}, false},
		{"SET PASSWORD", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "ALTER USER u1 SET PASSWORD = 'Adm1n-chosen-pw'")
		}, false},
		{"unrelated ALTER USER", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "ALTER USER u1 SET COMMENT = 'still valid'")
		}, true},
		{"RENAME", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "ALTER USER u1 RENAME TO u9")
		}, false},
		{"RENAME and back", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "ALTER USER u1 RENAME TO u9", "ALTER USER u9 RENAME TO u1")
		}, false},
		{"DROP and CREATE again", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "DROP USER u1", "CREATE USER u1 PASSWORD = 'Old-passw0rd-1'")
		}, false},
		{"TYPE = SERVICE", func(t *testing.T, e *Engine, s *session.Session, _ *resetClock) {
			execAll(t, e, s, "ALTER USER u1 SET TYPE = SERVICE")
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, s, clk, st := newResetEngine(t)
			execAll(t, e, s, "CREATE USER u1 PASSWORD = 'Old-passw0rd-1' MUST_CHANGE_PASSWORD = TRUE", "CREATE USER u2 PASSWORD = 'Other-passw0rd-2'")
			// A locked-out user: the reset clears the lockout.
			if err := st.Update(ctx, func(tx store.Tx) error {
				u, err := catalog.GetUser(ctx, tx, "A", "U1")
				if err != nil {
					return err
				}
				u.FailedLogins, u.LockedUntil = 3, clk.now().Add(time.Hour).Unix()
				return catalog.PutUser(ctx, tx, "A", u)
			}); err != nil {
				t.Fatal(err)
			}
			acct, tok := resetLinkOf(t, e, s, "u1")
			if acct != "A" {
				t.Fatalf("link account %q", acct)
			}
			if tc.between != nil {
				tc.between(t, e, s, clk)
			}
			_, _, err := e.PasswordResetUser(ctx, "a", tok) // account case-insensitive
			if tc.valid != (err == nil) || err != nil && !errors.Is(err, ErrPasswordResetInvalid) {
				t.Fatalf("PasswordResetUser: %v (want valid=%v)", err, tc.valid)
			}
			_, user, err := e.RedeemPasswordReset(ctx, "A", tok, newPW)
			if !tc.valid {
				if !errors.Is(err, ErrPasswordResetInvalid) {
					t.Fatalf("RedeemPasswordReset: %v, want ErrPasswordResetInvalid", err)
				}
				return
			}
			if err != nil || user != "U1" {
				t.Fatalf("RedeemPasswordReset = %q, %v", user, err)
			}
			var u *catalog.User
			if err := st.View(ctx, func(tx store.Tx) (err error) {
				u, err = catalog.GetUser(ctx, tx, "A", "U1")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if ok, _ := auth.VerifyPassword(u.PasswordHash, newPW); !ok {
				t.Fatal("new password does not verify")
			}
			if u.MustChangePassword || u.FailedLogins != 0 || u.LockedUntil != 0 {
				t.Fatalf("after reset: must_change=%v failed=%d locked_until=%d", u.MustChangePassword, u.FailedLogins, u.LockedUntil)
			}
			if _, _, err := e.RedeemPasswordReset(ctx, "A", tok, "An0ther-passw0rd"); !errors.Is(err, ErrPasswordResetInvalid) {
				t.Fatalf("second use: %v, want ErrPasswordResetInvalid", err)
			}
		})
	}
}

func TestPasswordResetRefusals(t *testing.T) {
	ctx := context.Background()
	e, s, _, st := newResetEngine(t)
	execAll(t, e, s,
		"CREATE USER u1 PASSWORD = 'Old-passw0rd-1'",
		"CREATE USER bot TYPE = SERVICE",
		"CREATE ROLE weak", "GRANT ROLE weak TO USER u1")
	for _, tc := range []struct {
		name string
		sess *session.Session
		sql  string
		code string
	}{
		{"SERVICE user", s, "ALTER USER bot RESET PASSWORD", "001423"},
		{"no OWNERSHIP", &session.Session{ID: 2, Account: "A", User: "U1", Role: "WEAK"}, "ALTER USER admin RESET PASSWORD", "003001"},
		{"own user without OWNERSHIP", &session.Session{ID: 2, Account: "A", User: "U1", Role: "WEAK"}, "ALTER USER u1 RESET PASSWORD", "003001"},
		{"unknown user", s, "ALTER USER nobody RESET PASSWORD", "002003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Execute(ctx, tc.sess, &Request{QueryID: "q", SQL: tc.sql})
			if se := sferr.As(err); err == nil || se.Code != tc.code {
				t.Fatalf("%s: %v, want %s", tc.sql, err, tc.code)
			}
		})
	}
	set, err := e.Execute(ctx, s, &Request{QueryID: "q", SQL: "ALTER USER IF EXISTS nobody RESET PASSWORD"})
	if err != nil || set.Rows[0][0] != executed {
		t.Fatalf("IF EXISTS: %v %v", set, err)
	}
	var n int
	if err := st.View(ctx, func(tx store.Tx) error {
		rs, err := tx.List(ctx, "A", catalog.KindPasswordReset, "")
		n = len(rs)
		return err
	}); err != nil || n != 0 {
		t.Fatalf("refused statements stored %d reset records (%v)", n, err)
	}

	_, tok := resetLinkOf(t, e, s, "u1")
	for _, tc := range []struct {
		name, account, token, password string
		code                           string // "" = ErrPasswordResetInvalid
	}{
		{"other account", "B", tok, "N3w-passw0rd-x", ""},
		{"tampered key", "A", tamper(tok), "N3w-passw0rd-x", ""},
		{"malformed", "A", "firnpwr_x", "N3w-passw0rd-x", ""},
		{"weak password", "A", tok, "password", "003002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.RedeemPasswordReset(ctx, tc.account, tc.token, tc.password)
			if tc.code == "" {
				if !errors.Is(err, ErrPasswordResetInvalid) {
					t.Fatalf("%v, want ErrPasswordResetInvalid", err)
				}
				return
			}
			var se *sferr.Error
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("%v, want %s", err, tc.code)
			}
		})
	}
	// The refusals above left the link usable; the record holds no plaintext token.
	if err := st.View(ctx, func(tx store.Tx) error {
		rs, err := tx.List(ctx, "A", catalog.KindPasswordReset, "")
		if err != nil {
			return err
		}
		if len(rs) != 1 || strings.Contains(string(rs[0].Data), tok[len(resetPrefix)+16+1:] /* after the 16-character lookup id and "_" */) {
			t.Errorf("stored records: %d, plaintext key stored: %v", len(rs), len(rs) == 1)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.RedeemPasswordReset(ctx, "A", tok, "N3w-passw0rd-x"); err != nil {
		t.Fatalf("redeem after refusals: %v", err)
	}
}

// tamper changes one character of the token's key, keeping it well-formed.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestPasswordResetNotKept checks that the link is not kept for RESULT_SCAN while
// other statements' results are.
func TestPasswordResetNotKept(t *testing.T) {
	e, s, _, _ := newResetEngine(t)
	execAll(t, e, s, "CREATE USER u1 PASSWORD = 'Old-passw0rd-1'")
	resetLinkOf(t, e, s, "u1")
	if _, err := e.results.scan(s, "reset-u1"); err == nil {
		t.Fatal("RESULT_SCAN of RESET PASSWORD returned the link")
	}
	if id, _ := e.results.lastQueryID(s, -1); id != "reset-u1" {
		t.Fatalf("LAST_QUERY_ID() = %q", id)
	}
	if _, err := e.Execute(context.Background(), s, &Request{QueryID: "show", SQL: "SHOW USERS"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.results.scan(s, "show"); err != nil {
		t.Fatalf("RESULT_SCAN of SHOW USERS: %v", err)
	}
}
