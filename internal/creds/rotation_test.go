package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// rotatingServer is an OAuth token endpoint that rotates refresh tokens: every
// refresh_token grant answers a new refresh token rt-<n> and, when strict, spends
// the one presented, so a spent token is refused with invalid_grant. hold, when set,
// is called (outside the lock) with each request's refresh token before it is
// checked; tests block in it to interleave refreshers.
type rotatingServer struct {
	*httptest.Server
	mu      sync.Mutex
	n       int
	strict  bool
	valid   map[string]bool
	used    []string // refresh tokens presented, in order
	refused []string // refresh tokens refused
	hold    func(rt string)
}

func newRotatingServer(t testing.TB, initial string) *rotatingServer {
	rs := &rotatingServer{strict: true, valid: map[string]bool{initial: true}}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		id, sec, _ := r.BasicAuth()
		if id != "client-1" || sec != clientSc || r.PostForm.Get("grant_type") != "refresh_token" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		rt := r.PostForm.Get("refresh_token")
		rs.mu.Lock()
		hold := rs.hold
		rs.mu.Unlock()
		if hold != nil {
			hold(rt)
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.used = append(rs.used, rt)
		if rs.strict && !rs.valid[rt] {
			rs.refused = append(rs.refused, rt)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
			return
		}
		delete(rs.valid, rt)
		rs.n++
		next := fmt.Sprintf("rt-%d-never-shown", rs.n)
		rs.valid[next] = true
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("at-%d-never-shown", rs.n),
			"token_type": "Bearer", "expires_in": 600, "refresh_token": next})
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *rotatingServer) setHold(h func(rt string)) {
	rs.mu.Lock()
	rs.hold = h
	rs.mu.Unlock()
}

func (rs *rotatingServer) state() (used, refused []string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.used...), append([]string(nil), rs.refused...)
}

// rotationFixture is a fixture with an AUTHORIZATION_CODE OAuth integration on a
// rotating server, secret DB.SCH.AC holding refresh token refreshT, and EAI allowing
// it and the endpoint.
func rotationFixture(t *testing.T) (*fixture, *rotatingServer) {
	f := newFixture(t)
	rs := newRotatingServer(t, refreshT)
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: rs.URL + "/token", OAuthClientID: "client-1", OAuthGrant: "AUTHORIZATION_CODE"}, clientSc)
	f.secret(&catalog.Secret{Name: "AC", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT",
		OAuthRefreshTokenExpiry: f.clock.Now().Add(30 * 24 * time.Hour)}, &catalog.SecretValue{OAuthRefreshToken: refreshT})
	f.eai("EAI", catalog.SecretsAll, nil)
	f.allowEgress("EAI", rs.URL)
	return f, rs
}

// storedRefreshToken opens DB.SCH.<name>'s sealed value ("" when it does not exist).
func (f *fixture) storedRefreshToken(name string) (string, *catalog.Secret) {
	f.t.Helper()
	var s *catalog.Secret
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		var err error
		s, err = catalog.GetSecret(context.Background(), tx, acct, "DB", "SCH", name)
		return err
	})
	if catalog.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := s.Open(f.kr, acct)
	if err != nil {
		f.t.Fatal(err)
	}
	return v.OAuthRefreshToken, s
}

// alterSecret changes DB.SCH.<name> as ALTER SECRET does: new material is sealed
// outside the transaction, then the record is read again and put.
func (f *fixture) alterSecret(name string, fn func(*catalog.Secret), refresh string) {
	f.t.Helper()
	_, cur := f.storedRefreshToken(name)
	var sealed []byte
	if refresh != "" {
		probe := *cur
		if err := probe.Seal(f.kr, acct, &catalog.SecretValue{OAuthRefreshToken: refresh}); err != nil {
			f.t.Fatal(err)
		}
		sealed = probe.Sealed
	}
	f.update(func(ctx context.Context, tx store.Tx) error {
		s, err := catalog.GetSecret(ctx, tx, acct, "DB", "SCH", name)
		if err != nil {
			return err
		}
		if fn != nil {
			fn(s)
		}
		if sealed != nil {
			s.Sealed = sealed
		}
		return catalog.PutSecret(ctx, tx, acct, s)
	})
}

// lastAudit returns the newest audit rows with the given outcome.
func lastAudit(t *testing.T, b *Broker, outcome string) []*store.CredsAuditRecord {
	t.Helper()
	recs, err := b.Audit(context.Background(), acct, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.CredsAuditRecord
	for _, r := range recs {
		if r.Outcome == outcome {
			out = append(out, r)
		}
	}
	return out
}

// reasons lists audit rows' outcomes and reasons, for failure messages.
func reasons(recs []*store.CredsAuditRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Outcome + ": " + r.Reason
	}
	return out
}

// memOnlySource hides CatalogSource's RefreshTokenSaver: the broker can only keep
// rotated tokens in memory, as it did before they were stored.
type memOnlySource struct{ Source }

// TestRefreshTokenRotationPersists: a rotated refresh token is stored in the secret
// (sealed), so a broker with a fresh cache over the same store — a restart, or
// another replica — uses it, while the spent one is refused by the server.
func TestRefreshTokenRotationPersists(t *testing.T) {
	f, rs := rotationFixture(t)
	ctx := context.Background()
	b1 := f.broker()
	c, err := b1.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
	if err != nil || c.AccessToken.Reveal() != "at-1-never-shown" {
		t.Fatalf("first resolve: %+v, %v", c, err)
	}
	if got, _ := f.storedRefreshToken("AC"); got != "rt-1-never-shown" {
		t.Fatalf("stored refresh token after rotation = %q, want rt-1", got)
	}
	rot := lastAudit(t, b1, OutcomeRotated)
	if len(rot) != 1 || !strings.Contains(rot[0].Reason, "stored in the secret") || rot[0].Integration != "EAI" ||
		rot[0].Secret != "DB.SCH.AC" || rot[0].Source != SourceUpstream {
		t.Errorf("rotation audit = %q", reasons(rot))
	}

	// The broker's own write is not an ALTER: past the decision TTL the cached token
	// is still served, with no upstream call.
	f.clock.Advance(2 * DefaultDecisionTTL)
	if c, err := b1.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil || c.AccessToken.Reveal() != "at-1-never-shown" {
		t.Fatalf("cached resolve after the rotation write: %+v, %v", c, err)
	}
	if used, _ := rs.state(); len(used) != 1 {
		t.Fatalf("token requests after a cached resolve = %v", used)
	}
	b1.Close()

	// A fresh broker over the same store (a restart) uses the stored, rotated token.
	b2 := f.broker()
	c, err = b2.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
	if err != nil || c.AccessToken.Reveal() != "at-2-never-shown" {
		t.Fatalf("resolve after restart: %+v, %v", c, err)
	}
	if used, refused := rs.state(); len(used) != 2 || used[1] != "rt-1-never-shown" || len(refused) != 0 {
		t.Fatalf("after restart: used %v, refused %v; want rt-1 used and nothing refused", used, refused)
	}
	if got, _ := f.storedRefreshToken("AC"); got != "rt-2-never-shown" {
		t.Fatalf("stored refresh token = %q, want rt-2", got)
	}

	// The refresh at 80% uses the latest token too.
	f.clock.Advance(9 * time.Minute)
	if c, err := b2.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil || c.AccessToken.Reveal() != "at-3-never-shown" {
		t.Fatalf("refresh: %+v, %v", c, err)
	}

	// An ALTER (any property) is a new version: the cached token is discarded and the
	// stored refresh token is used.
	f.alterSecret("AC", func(s *catalog.Secret) { s.Comment = "altered" }, "")
	b2.Invalidate(acct)
	if c, err := b2.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil || c.AccessToken.Reveal() != "at-4-never-shown" {
		t.Fatalf("resolve after ALTER: %+v, %v", c, err)
	}
	if got, s := f.storedRefreshToken("AC"); got != "rt-4-never-shown" || s.Comment != "altered" {
		t.Fatalf("after ALTER: stored %q, comment %q", got, s.Comment)
	}

	// Without storing (the old behaviour), a restart presents a spent token, which
	// the server refuses.
	b3 := f.broker(func(c *Config) { c.Source = memOnlySource{c.Source} })
	if _, err := b3.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.storedRefreshToken("AC"); got != "rt-4-never-shown" {
		t.Fatalf("a source that cannot store changed the secret: %q", got)
	}
	if rot := lastAudit(t, b3, OutcomeRotated); len(rot) == 0 || !strings.Contains(rot[0].Reason, "kept in memory only") {
		t.Errorf("in-memory rotation audit = %q", reasons(rot))
	}
	b3.Close()
	b4 := f.broker(func(c *Config) { c.Source = memOnlySource{c.Source} })
	_, err = b4.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
	if se := sferr.As(err); err == nil || se.Code != "100358" || !strings.Contains(se.Message, "invalid_grant") ||
		strings.Contains(se.Message, "rt-4-never-shown") {
		t.Fatalf("restart over a spent token: %v", err)
	}
	if _, refused := rs.state(); len(refused) != 1 || refused[0] != "rt-4-never-shown" {
		t.Errorf("refused = %v, want the spent rt-4", refused)
	}
	assertNoValues(t, b2, f.dir, refreshT, clientSc, "rt-1-never-shown", "rt-2-never-shown", "rt-4-never-shown",
		"rt-5-never-shown", "at-1-never-shown")
}

// TestRefreshTokenRotationConcurrentRefreshers: two brokers (replicas) over one
// store refresh the same secret at once. The compare-and-swap keeps the token of the
// refresher that stored first; a refresher whose spent token the server refuses
// retries with the token the other stored.
func TestRefreshTokenRotationConcurrentRefreshers(t *testing.T) {
	cases := []struct {
		name   string
		strict bool
		// wantStored is the token stored at the end; wantReason the audit reason of
		// the first (held) refresher's rotation.
		wantStored, wantReason string
	}{
		// The server accepts the token twice: the held refresher's rotated token is
		// older than the stored one and must not overwrite it.
		{"lenient server: compare-and-swap refuses the stale write", false, "rt-1-never-shown", "altered, replaced or dropped meanwhile"},
		// The server refuses the spent token: the held refresher reads the secret
		// again and refreshes with the token the other stored.
		{"strict server: retry with the newly stored token", true, "rt-2-never-shown", "stored in the secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, rs := rotationFixture(t)
			rs.strict = tc.strict
			arrived, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			rs.setHold(func(string) {
				if first.CompareAndSwap(false, true) { // only the first request waits
					close(arrived)
					<-release
				}
			})
			b1, b2 := f.broker(), f.broker()
			ctx := context.Background()
			type res struct {
				c   Credential
				err error
			}
			done := make(chan res, 1)
			go func() {
				c, err := b1.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
				done <- res{c, err}
			}()
			<-arrived // b1's refresh with the stored token is at the server
			c2, err := b2.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
			if err != nil || c2.AccessToken.Reveal() != "at-1-never-shown" {
				t.Fatalf("b2: %+v, %v", c2, err)
			}
			if got, _ := f.storedRefreshToken("AC"); got != "rt-1-never-shown" {
				t.Fatalf("b2 stored %q", got)
			}
			close(release)
			r1 := <-done
			if r1.err != nil {
				t.Fatalf("b1: %v", r1.err)
			}
			if got, _ := f.storedRefreshToken("AC"); got != tc.wantStored {
				t.Errorf("stored refresh token = %q, want %s", got, tc.wantStored)
			}
			rot := lastAudit(t, b1, OutcomeRotated)
			if len(rot) == 0 || !strings.Contains(rot[0].Reason, tc.wantReason) {
				t.Errorf("b1 rotation audit = %q, want reason %q", reasons(rot), tc.wantReason)
			}
			// Whatever happened, a fresh broker works with the stored token.
			f.clock.Advance(time.Second)
			b3 := f.broker()
			if _, err := b3.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil {
				t.Fatalf("fresh broker after the race: %v", err)
			}
			if used, _ := rs.state(); used[len(used)-1] != tc.wantStored {
				t.Errorf("fresh broker used %q, want %s", used[len(used)-1], tc.wantStored)
			}
		})
	}
}

// TestRefreshTokenRotationSecretChanged: a secret altered (new refresh token) or
// dropped while a refresh is in flight keeps the change: the rotated token is not
// written over it, and a dropped secret is not re-created.
func TestRefreshTokenRotationSecretChanged(t *testing.T) {
	cases := []struct {
		name   string
		change func(f *fixture)
		check  func(t *testing.T, f *fixture)
	}{
		{"altered", func(f *fixture) { f.alterSecret("AC", nil, "rt-user-never-shown") }, func(t *testing.T, f *fixture) {
			if got, s := f.storedRefreshToken("AC"); s == nil || got != "rt-user-never-shown" {
				t.Errorf("stored refresh token = %q, want the one ALTER set", got)
			}
		}},
		{"dropped", func(f *fixture) {
			f.update(func(ctx context.Context, tx store.Tx) error {
				s, err := catalog.GetSecret(ctx, tx, acct, "DB", "SCH", "AC")
				if err != nil {
					return err
				}
				return catalog.DeleteSecret(ctx, tx, acct, s)
			})
		}, func(t *testing.T, f *fixture) {
			if _, s := f.storedRefreshToken("AC"); s != nil {
				t.Errorf("dropped secret re-created: %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, rs := rotationFixture(t)
			rs.strict = false
			arrived, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			rs.setHold(func(string) {
				if first.CompareAndSwap(false, true) {
					close(arrived)
					<-release
				}
			})
			b := f.broker()
			done := make(chan error, 1)
			go func() {
				_, err := b.Resolve(context.Background(), app, []string{"EAI"}, ref("AC"))
				done <- err
			}()
			<-arrived
			tc.change(f)
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("resolve: %v", err)
			}
			tc.check(t, f)
			rot := lastAudit(t, b, OutcomeRotated)
			if len(rot) != 1 || !strings.Contains(rot[0].Reason, "not stored: the secret was altered, replaced or dropped meanwhile") {
				t.Errorf("rotation audit = %q", reasons(rot))
			}
		})
	}
}

// TestTokenEndpointEgress: the OAuth token endpoint is called only if the network
// rules of an EAI through which the secret is resolved allow its host:port.
func TestTokenEndpointEgress(t *testing.T) {
	f := newFixture(t)
	ts := newTokenServer(t)
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: ts.URL + "/token", OAuthClientID: "client-1"}, clientSc)
	f.secret(&catalog.Secret{Name: "CC", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT"}, nil)
	host, port, _ := endpointHostPort(ts.URL)
	endpoint := fmt.Sprintf("%s:%d", host, port)
	for _, e := range []string{"NO_RULES", "API_ONLY", "DEFAULT_PORT", "OTHER_PORT", "ALLOWED"} {
		f.eai(e, catalog.SecretsAll, nil)
	}
	f.allowEgress("API_ONLY", "https://api.example.com")
	f.allowEgress("DEFAULT_PORT", "https://"+host)                               // host:443
	f.allowEgress("OTHER_PORT", fmt.Sprintf("http://%s:%d", host, port%65535+1)) // the next port
	f.allowEgress("ALLOWED", "https://api.example.com", ts.URL)
	b := f.broker()

	cases := []struct {
		name    string
		eais    []string
		wantEAI string // "" = denied
	}{
		{"no network rules", []string{"NO_RULES"}, ""},
		{"rules for the API host only", []string{"API_ONLY"}, ""},
		{"host on the default port 443", []string{"DEFAULT_PORT"}, ""},
		{"host on another port", []string{"OTHER_PORT"}, ""},
		{"host:port allowed", []string{"ALLOWED"}, "ALLOWED"},
		{"the EAI whose rules allow the endpoint is chosen", []string{"API_ONLY", "ALLOWED"}, "ALLOWED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := ts.calls.Load()
			cred, err := b.Resolve(context.Background(), app, c.eais, ref("CC"))
			recs, aerr := b.Audit(context.Background(), acct, 1)
			if aerr != nil || len(recs) != 1 {
				t.Fatalf("audit: %v, %v", recs, aerr)
			}
			if c.wantEAI != "" {
				if err != nil || cred.Integration != c.wantEAI || recs[0].Outcome != OutcomeIssued || recs[0].Integration != c.wantEAI {
					t.Fatalf("resolve: %+v, %v; audit %+v", cred, err, *recs[0])
				}
				return
			}
			var se *sferr.Error
			if !errors.As(err, &se) || se.Code != "003001" || se.SQLState != "42501" ||
				!strings.Contains(se.Message, "OAuth token endpoint "+endpoint) || !strings.Contains(se.Message, c.eais[0]) {
				t.Fatalf("err = %v, want 003001 naming the endpoint and the EAI", err)
			}
			if ts.calls.Load() != before {
				t.Errorf("the token endpoint was called although refused")
			}
			if recs[0].Outcome != OutcomeDenied || recs[0].Integration != "" ||
				!strings.Contains(recs[0].Reason, "oauth token endpoint "+endpoint+" is not allowed by the network rules of eai") {
				t.Errorf("audit = %+v", *recs[0])
			}
		})
	}

	// Dropping the rule takes effect with the next decision.
	t.Run("rule dropped", func(t *testing.T) {
		f.update(func(ctx context.Context, tx store.Tx) error {
			return catalog.DropNetworkRule(ctx, tx, acct, "DB", "SCH", "ALLOWED_EGRESS_0")
		})
		b.Invalidate(acct)
		if _, err := b.Resolve(context.Background(), app, []string{"ALLOWED"}, ref("CC")); err == nil || sferr.As(err).Code != "003001" {
			t.Fatalf("after DROP NETWORK RULE: %v", err)
		}
	})
}
