package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/firn/firn/internal/creds"
	"github.com/firn/firn/internal/server"
	"github.com/firn/firn/internal/sferr"
)

const (
	rotClient = "rotCS-8v2w-never-shown"
	rotRT0    = "rotRT-initial-never-shown"
	rotRTUser = "rotRT-altered-never-shown"
)

// strictRotatingEndpoint is an OAuth token endpoint that accepts each refresh token
// once and answers a new one (rotRT-<n>), refusing spent tokens with invalid_grant.
type strictRotatingEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	n     int
	valid map[string]bool
	used  []string
}

func newStrictRotatingEndpoint(t *testing.T, valid ...string) *strictRotatingEndpoint {
	ep := &strictRotatingEndpoint{valid: map[string]bool{}}
	for _, v := range valid {
		ep.valid[v] = true
	}
	ep.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, sec, _ := r.BasicAuth()
		rt := r.FormValue("refresh_token")
		ep.mu.Lock()
		defer ep.mu.Unlock()
		ep.used = append(ep.used, rt)
		if id != "rot-client" || sec != rotClient || r.FormValue("grant_type") != "refresh_token" || !ep.valid[rt] {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		delete(ep.valid, rt)
		ep.n++
		next := fmt.Sprintf("rotRT-%d-never-shown", ep.n)
		ep.valid[next] = true
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("rotAT-%d-never-shown", ep.n),
			"token_type": "Bearer", "expires_in": 3600, "refresh_token": next})
	}))
	t.Cleanup(ep.Close)
	return ep
}

func (ep *strictRotatingEndpoint) allow(rt string) {
	ep.mu.Lock()
	ep.valid[rt] = true
	ep.mu.Unlock()
}

func (ep *strictRotatingEndpoint) lastUsed() string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if len(ep.used) == 0 {
		return ""
	}
	return ep.used[len(ep.used)-1]
}

// TestCredsOAuthRotationAndEgress drives an authorization-code OAUTH2 secret made
// through gosnowflake: the token endpoint is refused until the EAI's network rule
// allows its host:port; the refresh token the server rotates is stored in the
// secret, so the restarted server uses it (the strict endpoint refuses the spent
// one); ALTER SECRET SET OAUTH_REFRESH_TOKEN takes precedence.
func TestCredsOAuthRotationAndEgress(t *testing.T) {
	ep := newStrictRotatingEndpoint(t, rotRT0)
	hostPort := strings.TrimPrefix(ep.URL, "http://")
	dir := t.TempDir()
	withDir := func(c *server.Config) { c.DataDir = dir }
	ctx := context.Background()
	p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION D.S.CALL_API"}
	eais := []string{"API_EAI"}
	ref := creds.SecretRef{Database: "D", Schema: "S", Name: "AC"}

	t.Run("first server", func(t *testing.T) {
		e := start(t, withDir)
		db := e.admin()
		mustExec(t, db,
			"CREATE DATABASE D", "CREATE SCHEMA D.S",
			"CREATE SECURITY INTEGRATION OI TYPE = API_AUTHENTICATION AUTH_TYPE = OAUTH2 ENABLED = TRUE "+
				"OAUTH_TOKEN_ENDPOINT = '"+ep.URL+"/token' OAUTH_CLIENT_ID = 'rot-client' OAUTH_CLIENT_SECRET = '"+rotClient+"' "+
				"OAUTH_GRANT = 'AUTHORIZATION_CODE'",
			"CREATE SECRET D.S.AC TYPE = OAUTH2 API_AUTHENTICATION = OI OAUTH_REFRESH_TOKEN = '"+rotRT0+"'",
			"CREATE NETWORK RULE D.S.API_RULE MODE = EGRESS TYPE = HOST_PORT VALUE_LIST = ('api.example.com')",
			"CREATE EXTERNAL ACCESS INTEGRATION API_EAI ALLOWED_NETWORK_RULES = (D.S.API_RULE) "+
				"ALLOWED_AUTHENTICATION_SECRETS = (D.S.AC) ENABLED = TRUE",
		)
		b := e.srv.Creds()
		_, err := b.Resolve(ctx, p, eais, ref)
		if se := sferr.As(err); err == nil || se.Code != "003001" || !strings.Contains(se.Message, "OAuth token endpoint "+hostPort) {
			t.Fatalf("token endpoint outside the EAI's rules: %v", err)
		}
		if ep.lastUsed() != "" {
			t.Fatal("the refused token endpoint was called")
		}
		// Allowing the endpoint's host:port takes effect with the committed statement.
		mustExec(t, db, "ALTER NETWORK RULE D.S.API_RULE SET VALUE_LIST = ('api.example.com', '"+hostPort+"')")
		c, err := b.Resolve(ctx, p, eais, ref)
		if err != nil || c.AccessToken.Reveal() != "rotAT-1-never-shown" || c.Integration != "API_EAI" {
			t.Fatalf("resolve: %+v, %v", c, err)
		}
		recs, err := b.Audit(ctx, "FIRN", 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range recs {
			got[r.Outcome] = r.Reason
		}
		if len(recs) != 3 || !strings.Contains(got[creds.OutcomeDenied], "oauth token endpoint "+hostPort) ||
			!strings.Contains(got[creds.OutcomeRotated], "stored in the secret") || got[creds.OutcomeIssued] != "" {
			t.Errorf("audit = %q", got)
		}
		if _, ok := got[creds.OutcomeIssued]; !ok {
			t.Errorf("no ISSUED row: %q", got)
		}
		// DESC SECRET shows no value.
		_, desc := rows(t, db, "DESC SECRET D.S.AC")
		if s := fmt.Sprint(desc); strings.Contains(s, "never-shown") {
			t.Errorf("DESC SECRET shows a value: %s", s)
		}
	})

	t.Run("restarted server uses the rotated token", func(t *testing.T) {
		e := start(t, withDir)
		c, err := e.srv.Creds().Resolve(ctx, p, eais, ref)
		if err != nil || c.AccessToken.Reveal() != "rotAT-2-never-shown" || ep.lastUsed() != "rotRT-1-never-shown" {
			t.Fatalf("resolve after restart: %+v, %v (refresh token used: %s)", c, err, ep.lastUsed())
		}
		// ALTER SECRET SET OAUTH_REFRESH_TOKEN replaces the stored (rotated) token and
		// discards the cached access token.
		ep.allow(rotRTUser)
		mustExec(t, e.admin(), "ALTER SECRET D.S.AC SET OAUTH_REFRESH_TOKEN = '"+rotRTUser+"'")
		c, err = e.srv.Creds().Resolve(ctx, p, eais, ref)
		if err != nil || c.AccessToken.Reveal() != "rotAT-3-never-shown" || ep.lastUsed() != rotRTUser {
			t.Fatalf("resolve after ALTER SECRET: %+v, %v (refresh token used: %s)", c, err, ep.lastUsed())
		}
	})

	t.Run("and again", func(t *testing.T) {
		e := start(t, withDir)
		if _, err := e.srv.Creds().Resolve(ctx, p, eais, ref); err != nil || ep.lastUsed() != "rotRT-3-never-shown" {
			t.Fatalf("resolve after the second restart: %v (refresh token used: %s)", err, ep.lastUsed())
		}
	})

	// No token is on disk in clear.
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Mode()&os.ModeSocket != 0 {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, v := range []string{rotClient, rotRT0, rotRTUser, "rotRT-1-never", "rotRT-2-never", "rotRT-4-never", "rotAT-1-never"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s contains %q", path, v)
			}
		}
		return nil
	})
}
