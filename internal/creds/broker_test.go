package creds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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

func TestResolveStoredSecrets(t *testing.T) {
	f := newFixture(t)
	f.secret(&catalog.Secret{Name: "PW", Type: catalog.SecretPassword, Username: "svc"}, &catalog.SecretValue{Password: password})
	f.secret(&catalog.Secret{Name: "GS", Type: catalog.SecretGenericString}, &catalog.SecretValue{SecretString: genStr})
	f.eai("EAI", catalog.SecretsList, []catalog.Object{secretObj("PW"), secretObj("GS")})
	b := f.broker()
	ctx := context.Background()

	c, err := b.Resolve(ctx, app, []string{"EAI"}, ref("PW"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != TypePassword || c.Username != "svc" || c.Password.Reveal() != password || c.Integration != "EAI" || !c.Expires.IsZero() {
		t.Errorf("PASSWORD credential = %+v", c)
	}
	c, err = b.Resolve(ctx, app, []string{"EAI"}, ref("GS"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != TypeGenericString || c.String.Reveal() != genStr {
		t.Errorf("GENERIC_STRING credential = %+v", c)
	}
	recs, err := b.Audit(ctx, acct, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("audit rows = %d, want 2", len(recs))
	}
	got := recs[0] // newest first
	if got.Secret != "DB.SCH.GS" || got.SecretType != TypeGenericString || got.Outcome != OutcomeIssued ||
		got.Source != SourceStore || got.Role != appRole || got.Workload != app.Workload || got.Integration != "EAI" {
		t.Errorf("audit row = %+v", *got)
	}
	assertNoValues(t, b, f.dir, password, genStr)
}

func TestAssumeRoleMoto(t *testing.T) {
	f := newFixture(t)
	proxy := newSTSProxy(t)
	f.integration(&catalog.Integration{Name: "AWS_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeAWSIAM,
		Enabled: true, AWSRoleARN: roleARN, AWSExternalID: extID}, "")
	f.secret(&catalog.Secret{Name: "AWS_TOKEN", Type: catalog.SecretCloudProviderToken, APIAuthentication: "AWS_INT"}, nil)
	f.eai("EAI", catalog.SecretsList, []catalog.Object{secretObj("AWS_TOKEN")})
	b := f.broker()
	ctx := context.Background()

	c, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AWS_TOKEN"))
	if err != nil {
		t.Fatal(err)
	}
	calls := proxy.Calls()
	if len(calls) != 1 {
		t.Fatalf("STS calls = %d, want 1", len(calls))
	}
	want := stsCall{Action: "AssumeRole", RoleArn: roleARN, ExternalID: extID, SessionName: "firn-ACME-DB.SCH.AWS_TOKEN", Duration: "3600"}
	if calls[0] != want {
		t.Errorf("AssumeRole request = %+v, want %+v", calls[0], want)
	}
	if !strings.HasPrefix(c.AWS.AccessKeyID, "ASIA") || c.AWS.SecretAccessKey.Reveal() == "" || c.AWS.SessionToken.Reveal() == "" {
		t.Errorf("credentials = %+v", c.AWS)
	}
	issued := f.clock.Now()
	if d := c.Expires.Sub(issued); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expires in %v, want about 1h", d)
	}

	// Cached until 80% of the lifetime, then refreshed once.
	steps := []struct {
		at    time.Duration
		calls int
		src   string
	}{
		{time.Minute, 1, SourceCache},
		{47 * time.Minute, 1, SourceCache},
		{48*time.Minute + time.Second, 2, SourceUpstream},
		{50 * time.Minute, 2, SourceCache},
	}
	first := c.AWS.AccessKeyID
	for _, s := range steps {
		f.clock.Advance(issued.Add(s.at).Sub(f.clock.Now()))
		c2, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AWS_TOKEN"))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(proxy.Calls()); n != s.calls {
			t.Errorf("at %v: STS calls = %d, want %d", s.at, n, s.calls)
		}
		recs, _ := b.Audit(ctx, acct, 1)
		if recs[0].Source != s.src || recs[0].ExpiresAt.IsZero() {
			t.Errorf("at %v: audit = %+v, want source %s", s.at, *recs[0], s.src)
		}
		if s.src == SourceUpstream && c2.AWS.AccessKeyID == first {
			t.Errorf("at %v: refreshed credentials have the old key id", s.at)
		}
	}
	st := b.CacheState()
	if len(st) != 1 || st[0].Secret != "DB.SCH.AWS_TOKEN" || st[0].Type != TypeCloudProviderToken || st[0].Fetches != 2 || st[0].Hits != 5 {
		t.Errorf("cache state = %+v", st)
	}
	if !st[0].RefreshAt.Equal(st[0].Issued.Add(time.Duration(float64(st[0].Expires.Sub(st[0].Issued)) * RefreshFraction))) {
		t.Errorf("refresh at %v is not 80%% of [%v, %v]", st[0].RefreshAt, st[0].Issued, st[0].Expires)
	}

	// A failing refresh keeps serving the valid token; past expiry it fails cleanly.
	proxy.setFail(true)
	f.clock.Advance(50 * time.Minute) // 100 min: past the second token's refresh-at (96), before its expiry (108)
	if _, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AWS_TOKEN")); err != nil {
		t.Fatalf("refresh failure with a valid token: %v", err)
	}
	if st := b.CacheState(); !strings.Contains(st[0].LastError, "AccessDenied") {
		t.Errorf("cache last error = %q", st[0].LastError)
	}
	f.clock.Advance(30 * time.Minute)
	_, err = b.Resolve(ctx, app, []string{"EAI"}, ref("AWS_TOKEN"))
	var se *sferr.Error
	if !errors.As(err, &se) || !strings.Contains(se.Message, "AccessDenied") {
		t.Fatalf("expired token with failing STS: %v", err)
	}
	recs, _ := b.Audit(ctx, acct, 1)
	if recs[0].Outcome != OutcomeFailed || !strings.Contains(recs[0].Reason, "AccessDenied") {
		t.Errorf("audit of a failure = %+v", *recs[0])
	}
	assertNoValues(t, b, f.dir, c.AWS.SecretAccessKey.Reveal(), c.AWS.SessionToken.Reveal())
}

// tokenServer is an OAuth token endpoint that counts requests and checks them.
type tokenServer struct {
	*httptest.Server
	calls     atomic.Int64
	mu        sync.Mutex
	forms     []map[string]string
	expiresIn int
	rotate    bool
}

func newTokenServer(t testing.TB) *tokenServer {
	ts := &tokenServer{expiresIn: 600}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.calls.Add(1)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id, sec, ok := r.BasicAuth()
		if !ok {
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		form := map[string]string{"grant_type": r.PostForm.Get("grant_type"), "scope": r.PostForm.Get("scope"),
			"refresh_token": r.PostForm.Get("refresh_token"), "client_id": id, "basic": fmt.Sprint(ok)}
		ts.mu.Lock()
		ts.forms = append(ts.forms, form)
		exp, rotate := ts.expiresIn, ts.rotate
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if id != "client-1" || sec != clientSc {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"bad client `+sec+`"}`)
			return
		}
		resp := map[string]any{"access_token": fmt.Sprintf("at-%d-never-shown", n), "token_type": "Bearer"}
		if exp > 0 {
			resp["expires_in"] = exp
		}
		if rotate {
			resp["refresh_token"] = fmt.Sprintf("rt-rotated-%d", n)
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) Forms() []map[string]string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]map[string]string(nil), ts.forms...)
}

func TestOAuthClientCredentials(t *testing.T) {
	f := newFixture(t)
	ts := newTokenServer(t)
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: ts.URL + "/token", OAuthClientID: "client-1", OAuthGrant: "CLIENT_CREDENTIALS",
		OAuthAllowedScopes: []string{"read", "write"}}, clientSc)
	f.secret(&catalog.Secret{Name: "CC", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT", OAuthScopes: []string{"read"}}, nil)
	f.secret(&catalog.Secret{Name: "CC_ALL", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT"}, nil)
	// Allowed through ALLOWED_API_AUTHENTICATION_INTEGRATIONS rather than the list.
	f.eai("EAI", catalog.SecretsNone, nil, "OAUTH_INT")
	f.allowEgress("EAI", ts.URL)
	b := f.broker()
	ctx := context.Background()

	c, err := b.Resolve(ctx, app, []string{"EAI"}, ref("CC"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != TypeOAuth2 || c.AccessToken.Reveal() != "at-1-never-shown" || c.TokenType != "Bearer" {
		t.Errorf("credential = %+v", c)
	}
	if d := c.Expires.Sub(f.clock.Now()); d != 10*time.Minute {
		t.Errorf("expires in %v, want 10m (expires_in 600)", d)
	}
	forms := ts.Forms()
	if len(forms) != 1 || forms[0]["grant_type"] != "client_credentials" || forms[0]["scope"] != "read" ||
		forms[0]["client_id"] != "client-1" || forms[0]["basic"] != "true" {
		t.Errorf("token requests = %v", forms)
	}
	if _, err := b.Resolve(ctx, app, []string{"EAI"}, ref("CC_ALL")); err != nil {
		t.Fatal(err)
	}
	if forms := ts.Forms(); len(forms) != 2 || forms[1]["scope"] != "read write" {
		t.Errorf("scopes default to the integration's allowed scopes: %v", forms)
	}

	// Cached until 80% (8 min), then one refresh.
	f.clock.Advance(7*time.Minute + 59*time.Second)
	if c, _ := b.Resolve(ctx, app, []string{"EAI"}, ref("CC")); c.AccessToken.Reveal() != "at-1-never-shown" || ts.calls.Load() != 2 {
		t.Errorf("before 80%%: token %s after %d calls", c.AccessToken.Reveal(), ts.calls.Load())
	}
	f.clock.Advance(2 * time.Second)
	if c, _ := b.Resolve(ctx, app, []string{"EAI"}, ref("CC")); c.AccessToken.Reveal() != "at-3-never-shown" || ts.calls.Load() != 3 {
		t.Errorf("after 80%%: token %s after %d calls", c.AccessToken.Reveal(), ts.calls.Load())
	}

	// OAUTH_ACCESS_TOKEN_VALIDITY caps the lifetime; CLIENT_SECRET_POST sends the
	// client in the form. Altering the integration discards the cached token.
	f.alterIntegration("OAUTH_INT", func(i *catalog.Integration) {
		i.OAuthAccessTokenValidity = 100
		i.OAuthClientAuthMethod = "CLIENT_SECRET_POST"
	})
	b.Invalidate(acct)
	c, err = b.Resolve(ctx, app, []string{"EAI"}, ref("CC"))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Expires.Sub(f.clock.Now()); d != 100*time.Second {
		t.Errorf("expires in %v, want 100s (OAUTH_ACCESS_TOKEN_VALIDITY)", d)
	}
	if forms := ts.Forms(); forms[len(forms)-1]["basic"] != "false" {
		t.Errorf("CLIENT_SECRET_POST request = %v", forms[len(forms)-1])
	}

	// A rejected client: the error and the audit row carry the OAuth error, not the body.
	f.alterIntegration("OAUTH_INT", func(i *catalog.Integration) { i.OAuthClientID = "client-2" })
	b.Invalidate(acct)
	_, err = b.Resolve(ctx, app, []string{"EAI"}, ref("CC"))
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), clientSc) {
		t.Errorf("rejected client error = %v", err)
	}
	assertNoValues(t, b, f.dir, clientSc, "at-1-never-shown", "at-3-never-shown")
}

func TestOAuthRefreshToken(t *testing.T) {
	f := newFixture(t)
	ts := newTokenServer(t)
	ts.rotate = true
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: ts.URL + "/token", OAuthClientID: "client-1", OAuthGrant: "AUTHORIZATION_CODE"}, clientSc)
	f.secret(&catalog.Secret{Name: "AC", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT",
		OAuthRefreshTokenExpiry: f.clock.Now().Add(30 * 24 * time.Hour)}, &catalog.SecretValue{OAuthRefreshToken: refreshT})
	f.eai("EAI", catalog.SecretsAll, nil)
	f.allowEgress("EAI", ts.URL)
	b := f.broker()
	ctx := context.Background()

	c, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AC"))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessToken.Reveal() != "at-1-never-shown" {
		t.Errorf("credential = %+v", c)
	}
	f.clock.Advance(9 * time.Minute)
	if _, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err != nil {
		t.Fatal(err)
	}
	forms := ts.Forms()
	if len(forms) != 2 || forms[0]["grant_type"] != "refresh_token" || forms[0]["refresh_token"] != refreshT ||
		forms[1]["refresh_token"] != "rt-rotated-1" {
		t.Errorf("refresh requests = %v (want the stored token, then the rotated one)", forms)
	}
	// Past the refresh token's expiry nothing is fetched.
	f.clock.Advance(31 * 24 * time.Hour)
	if _, err := b.Resolve(ctx, app, []string{"EAI"}, ref("AC")); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired refresh token: %v", err)
	}
	if n := ts.calls.Load(); n != 2 {
		t.Errorf("token calls = %d, want 2", n)
	}
	assertNoValues(t, b, f.dir, refreshT, clientSc, "rt-rotated-1", "at-1-never-shown")
}

func TestConcurrentResolvesOneUpstreamCall(t *testing.T) {
	f := newFixture(t)
	proxy := newSTSProxy(t)
	ts := newTokenServer(t)
	f.integration(&catalog.Integration{Name: "AWS_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeAWSIAM,
		Enabled: true, AWSRoleARN: roleARN, AWSExternalID: extID}, "")
	f.integration(&catalog.Integration{Name: "OAUTH_INT", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
		Enabled: true, OAuthTokenEndpoint: ts.URL, OAuthClientID: "client-1"}, clientSc)
	f.secret(&catalog.Secret{Name: "T1", Type: catalog.SecretCloudProviderToken, APIAuthentication: "AWS_INT"}, nil)
	f.secret(&catalog.Secret{Name: "T2", Type: catalog.SecretCloudProviderToken, APIAuthentication: "AWS_INT"}, nil)
	f.secret(&catalog.Secret{Name: "O1", Type: catalog.SecretOAuth2, APIAuthentication: "OAUTH_INT"}, nil)
	f.eai("EAI", catalog.SecretsAll, nil)
	f.allowEgress("EAI", ts.URL)
	b := f.broker()

	const n = 1000
	for _, lifetime := range []int{1, 2} {
		var wg sync.WaitGroup
		start := make(chan struct{})
		var failures atomic.Int64
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				name := []string{"T1", "T2", "O1"}[i%3]
				if _, err := b.Resolve(context.Background(), app, []string{"EAI"}, ref(name)); err != nil {
					failures.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if failures.Load() != 0 {
			t.Fatalf("lifetime %d: %d resolves failed", lifetime, failures.Load())
		}
		sessions := map[string]int{}
		for _, c := range proxy.Calls() {
			sessions[c.SessionName]++
		}
		if len(proxy.Calls()) != 2*lifetime || sessions["firn-ACME-DB.SCH.T1"] != lifetime || sessions["firn-ACME-DB.SCH.T2"] != lifetime {
			t.Errorf("lifetime %d: STS calls by session = %v, want %d per secret", lifetime, sessions, lifetime)
		}
		t.Logf("after lifetime %d: %d concurrent resolves; STS AssumeRole calls by session %v; OAuth token calls %d",
			lifetime, n, sessions, ts.calls.Load())
		if got := ts.calls.Load(); got != int64(lifetime) {
			t.Errorf("lifetime %d: token endpoint calls = %d, want %d", lifetime, got, lifetime)
		}
		// Next lifetime: past both tokens' refresh points (OAuth 10 min, STS 1 h).
		f.clock.Advance(50 * time.Minute)
	}
	recs, err := b.Audit(context.Background(), acct, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, r := range recs {
		total += r.Count
	}
	if total != 2*n || len(recs) >= 2*n {
		t.Errorf("audit: %d events in %d rows, want %d events aggregated into fewer rows", total, len(recs), 2*n)
	}
}

func TestDenials(t *testing.T) {
	f := newFixture(t)
	f.secret(&catalog.Secret{Name: "PW", Type: catalog.SecretPassword, Username: "u"}, &catalog.SecretValue{Password: password})
	f.secret(&catalog.Secret{Name: "OTHER", Type: catalog.SecretGenericString}, &catalog.SecretValue{SecretString: genStr})
	f.secret(&catalog.Secret{Name: "KEY", Type: catalog.SecretSymmetricKey, Algorithm: "GENERIC", KeyLength: 256},
		&catalog.SecretValue{SymmetricKey: make([]byte, 32)})
	f.integration(&catalog.Integration{Name: "AWS_OFF", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeAWSIAM,
		Enabled: false, AWSRoleARN: roleARN, AWSExternalID: extID}, "")
	f.secret(&catalog.Secret{Name: "AWS_T", Type: catalog.SecretCloudProviderToken, APIAuthentication: "AWS_OFF"}, nil)
	f.eai("ON", catalog.SecretsList, []catalog.Object{secretObj("PW"), secretObj("KEY"), secretObj("AWS_T")})
	f.eai("OFF", catalog.SecretsList, []catalog.Object{secretObj("OTHER")})
	f.alterIntegration("OFF", func(i *catalog.Integration) { i.Enabled = false })
	f.eai("NONE", catalog.SecretsNone, nil)
	f.update(func(ctx context.Context, tx store.Tx) error {
		return catalog.CreateRole(ctx, tx, acct, catalog.RoleSecurityAdmin, &catalog.Role{Name: "NOBODY"})
	})
	f.integration(&catalog.Integration{Name: "NO_USAGE", Type: catalog.IntegrationExternalAccess, Enabled: true,
		AllowedSecretsMode: catalog.SecretsAll}, "")
	f.revoke("USAGE", catalog.Object{Kind: "INTEGRATION", Name: "NO_USAGE"}, appRole)
	b := f.broker()

	const notAllowed = "003001"
	const missing = "002003"
	cases := []struct {
		name   string
		p      Principal
		eais   []string
		secret string
		code   string
		reason string
	}{
		{"eai disabled", app, []string{"OFF"}, "OTHER", notAllowed, "eai OFF is disabled"},
		{"secret not in the list", app, []string{"ON"}, "OTHER", notAllowed, "eai ON does not allow the secret"},
		{"eai allows none", app, []string{"NONE"}, "PW", notAllowed, "eai NONE does not allow the secret"},
		{"no eai", app, nil, "PW", notAllowed, "workload has no external access integration"},
		{"unknown eai", app, []string{"NOPE"}, "PW", notAllowed, "eai NOPE does not exist"},
		{"no usage on the eai", app, []string{"NO_USAGE"}, "PW", notAllowed, "lacks USAGE on eai NO_USAGE"},
		{"role without READ", Principal{Account: acct, Role: "NOBODY", Workload: "F"}, []string{"ON"}, "PW", missing, "lacks USAGE on the secret's database"},
		{"unknown role", Principal{Account: acct, Role: "GHOST", Workload: "F"}, []string{"ON"}, "PW", missing, "role GHOST does not exist"},
		{"unknown secret", app, []string{"ON"}, "NOPE", missing, "secret does not exist"},
		{"other account", Principal{Account: "EVIL", Role: appRole, Workload: "F"}, []string{"ON"}, "PW", missing, "does not exist"},
		{"symmetric key", app, []string{"ON"}, "KEY", notAllowed, "not issued to workloads"},
		{"integration disabled", app, []string{"ON"}, "AWS_T", notAllowed, "security integration AWS_OFF is disabled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.Resolve(context.Background(), c.p, c.eais, ref(c.secret))
			var se *sferr.Error
			if !errors.As(err, &se) || se.Code != c.code {
				t.Fatalf("err = %v, want code %s", err, c.code)
			}
			if strings.Contains(se.Message, password) {
				t.Errorf("error shows the value: %s", se.Message)
			}
			recs, err := b.Audit(context.Background(), c.p.Account, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Outcome != OutcomeDenied || !strings.Contains(recs[0].Reason, c.reason) || recs[0].Integration != "" {
				t.Errorf("audit = %+v, want DENIED with reason containing %q", recs, c.reason)
			}
		})
	}

	// READ on the secret without USAGE on the schema, and USAGE on the secret instead
	// of READ, are denied; READ is what Snowflake requires of the owner role.
	t.Run("usage is not read", func(t *testing.T) {
		f.revoke(catalog.PrivRead, secretObj("PW"), appRole)
		f.grant("USAGE", secretObj("PW"), appRole)
		b.Invalidate(acct)
		_, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW"))
		if se := sferr.As(err); err == nil || se.Code != missing {
			t.Fatalf("USAGE without READ: %v", err)
		}
	})

	// Decisions are cached for DecisionTTL: a revoked grant takes effect when it
	// lapses (or at once after Invalidate).
	t.Run("revocation", func(t *testing.T) {
		f.grant(catalog.PrivRead, secretObj("PW"), appRole)
		b.Invalidate(acct)
		if _, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW")); err != nil {
			t.Fatal(err)
		}
		f.revoke(catalog.PrivRead, secretObj("PW"), appRole)
		if _, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW")); err != nil {
			t.Fatalf("within the decision TTL the cached decision stands: %v", err)
		}
		f.clock.Advance(DefaultDecisionTTL)
		if _, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW")); err == nil {
			t.Fatal("resolved after READ was revoked and the decision TTL passed")
		}
		// NotifyChanged drops cached decisions at once.
		f.grant(catalog.PrivRead, secretObj("PW"), appRole)
		NotifyChanged(acct)
		if _, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW")); err != nil {
			t.Fatal(err)
		}
		f.revoke(catalog.PrivRead, secretObj("PW"), appRole)
		NotifyChanged(acct)
		if _, err := b.Resolve(context.Background(), app, []string{"ON"}, ref("PW")); err == nil {
			t.Fatal("resolved after READ was revoked and NotifyChanged")
		}
	})
	assertNoValues(t, b, f.dir, password, genStr)
}

func TestSessionName(t *testing.T) {
	cases := []struct {
		account string
		ref     SecretRef
		want    string
	}{
		{"ACME", SecretRef{"DB", "SCH", "S"}, "firn-ACME-DB.SCH.S"},
		{"ACME", SecretRef{"my db", "SCH", `a"b`}, "firn-ACME-my-db.SCH.a-b"},
		{"ACME", SecretRef{strings.Repeat("D", 40), "SCH", "SECRET_WITH_LONG_NAME"}, ""},
	}
	for _, c := range cases {
		got := SessionName(c.account, c.ref)
		if len(got) < 2 || len(got) > 64 {
			t.Errorf("SessionName(%v) = %q: length %d outside 2..64", c.ref, got, len(got))
		}
		for _, r := range got {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r)) {
				t.Errorf("SessionName(%v) = %q has %q", c.ref, got, r)
			}
		}
		if c.want != "" && got != c.want {
			t.Errorf("SessionName(%v) = %q, want %q", c.ref, got, c.want)
		}
		if SessionName(c.account, c.ref) != got {
			t.Errorf("SessionName is not deterministic")
		}
	}
	long1 := SessionName("ACME", SecretRef{strings.Repeat("D", 60), "SCH", "A"})
	long2 := SessionName("ACME", SecretRef{strings.Repeat("D", 60), "SCH", "B"})
	if long1 == long2 {
		t.Errorf("truncated session names collide: %q", long1)
	}
}

func TestParseSecretRef(t *testing.T) {
	cases := []struct {
		in   string
		want SecretRef
		err  bool
	}{
		{"db.sch.s", SecretRef{"DB", "SCH", "S"}, false},
		{`"my db"."Sch".s_1$`, SecretRef{"my db", "Sch", "S_1$"}, false},
		{`db.sch."a""b.c"`, SecretRef{"DB", "SCH", `a"b.c`}, false},
		{"db.sch", SecretRef{}, true},
		{"db..s", SecretRef{}, true},
		{"db.sch.s.x", SecretRef{}, true},
		{`db.sch."open`, SecretRef{}, true},
		{"db.sch.1s", SecretRef{}, true},
		{"db.sch.s-x", SecretRef{}, true},
		{`db.sch.""`, SecretRef{}, true},
		{"", SecretRef{}, true},
		{"db.sch.", SecretRef{}, true},
	}
	for _, c := range cases {
		got, err := ParseSecretRef(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseSecretRef(%q) = %v, %v; want %v, err %v", c.in, got, err, c.want, c.err)
		}
	}
}

func FuzzParseSecretRef(f *testing.F) {
	for _, s := range []string{"db.sch.s", `"a"."b"."c"`, `db.sch."a""b"`, "a.b", `"`, "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseSecretRef(s)
		if err != nil {
			return
		}
		if r.Database == "" || r.Schema == "" || r.Name == "" {
			t.Fatalf("ParseSecretRef(%q) = %v with an empty part", s, r)
		}
		// Quoting every part reproduces the same reference.
		q := func(p string) string { return `"` + strings.ReplaceAll(p, `"`, `""`) + `"` }
		r2, err := ParseSecretRef(q(r.Database) + "." + q(r.Schema) + "." + q(r.Name))
		if err != nil || r2 != r {
			t.Fatalf("round trip of %q: %v, %v", s, r2, err)
		}
	})
}

func TestSensitiveRedaction(t *testing.T) {
	c := Credential{Type: TypePassword, Username: "u", Password: Sensitive(password),
		AWS: AWSCredentials{AccessKeyID: "ASIA1", SecretAccessKey: Sensitive(genStr), SessionToken: Sensitive(clientSc)}}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", slog.Any("cred", c), slog.Any("pw", c.Password))
	js, _ := json.Marshal(c)
	outs := []string{fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c.Password, c.Password, c.Password), string(js), logged.String()}
	for _, o := range outs {
		for _, v := range []string{password, genStr, clientSc} {
			if strings.Contains(o, v) {
				t.Errorf("value leaked: %s", o)
			}
		}
		if !strings.Contains(o, redacted) {
			t.Errorf("no redaction marker in %s", o)
		}
	}
	if c.Password.Reveal() != password {
		t.Error("Reveal lost the value")
	}
}

func TestOAuthEndpointMisbehaves(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		url     string // instead of the handler's server
		want    string
	}{
		{name: "redirect is not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		}, want: "307"},
		{name: "no access token", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":60}`)
		}, want: "access_token"},
		{name: "plain http to a remote host", url: "http://token.example.com/oauth/token", want: "must use https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			endpoint := c.url
			if c.handler != nil {
				srv := httptest.NewServer(c.handler)
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			}
			f.integration(&catalog.Integration{Name: "OI", Type: catalog.IntegrationAPIAuthentication, AuthType: catalog.AuthTypeOAuth2,
				Enabled: true, OAuthTokenEndpoint: endpoint, OAuthClientID: "client-1"}, clientSc)
			f.secret(&catalog.Secret{Name: "T", Type: catalog.SecretOAuth2, APIAuthentication: "OI"}, nil)
			f.eai("EAI", catalog.SecretsAll, nil)
			f.allowEgress("EAI", endpoint)
			_, err := f.broker().Resolve(context.Background(), app, []string{"EAI"}, ref("T"))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), clientSc) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
