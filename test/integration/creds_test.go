package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/firn/firn/internal/creds"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/server"
	"github.com/firn/firn/internal/store"
)

const (
	credsPW     = "brokerPW-9f3k-never-shown"
	credsClient = "brokerCS-2m7q-never-shown"
)

// runAdmin runs the firn binary's admin command and returns its stdout.
func runAdminCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(firnBinary(t), append([]string{"admin"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("firn admin %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

// TestCredsBrokerAndAdmin drives the credential broker of a real server on objects
// made through gosnowflake, and `firn admin` (the built binary) against it:
// rotate-master-key while it serves, creds audit, creds cache. Then, with the server
// stopped, the old master key no longer opens the data dir and the new one does.
func TestCredsBrokerAndAdmin(t *testing.T) {
	var tokenCalls atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := tokenCalls.Add(1)
		if id, sec, ok := r.BasicAuth(); !ok || id != "client-1" || sec != credsClient || r.FormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"brokerAT-%d-never-shown","token_type":"Bearer","expires_in":3600}`, n)
	}))
	defer tokens.Close()

	dir := t.TempDir()
	withDir := func(c *server.Config) { c.DataDir = dir }
	ctx := context.Background()
	p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION D.S.F"}
	eais := []string{"EAI"}
	pwRef := creds.SecretRef{Database: "D", Schema: "S", Name: "PW"}
	tokRef := creds.SecretRef{Database: "D", Schema: "S", Name: "TOK"}
	var oldKey []byte

	t.Run("running server", func(t *testing.T) {
		e := start(t, withDir)
		db := e.admin()
		mustExec(t, db,
			"CREATE DATABASE D", "CREATE SCHEMA D.S",
			"CREATE SECRET D.S.PW TYPE = PASSWORD USERNAME = 'svc' PASSWORD = '"+credsPW+"'",
			"CREATE SECURITY INTEGRATION OI TYPE = API_AUTHENTICATION AUTH_TYPE = OAUTH2 ENABLED = TRUE "+
				"OAUTH_TOKEN_ENDPOINT = '"+tokens.URL+"/token' OAUTH_CLIENT_ID = 'client-1' OAUTH_CLIENT_SECRET = '"+credsClient+"' "+
				"OAUTH_GRANT = 'CLIENT_CREDENTIALS' OAUTH_ALLOWED_SCOPES = ('read')",
			"CREATE SECRET D.S.TOK TYPE = OAUTH2 API_AUTHENTICATION = OI OAUTH_SCOPES = ('read')",
			// The token endpoint must be allowed by the EAI's rules (firn's default).
			"CREATE NETWORK RULE D.S.R MODE = EGRESS TYPE = HOST_PORT VALUE_LIST = ('api.example.com', '"+strings.TrimPrefix(tokens.URL, "http://")+"')",
			"CREATE EXTERNAL ACCESS INTEGRATION EAI ALLOWED_NETWORK_RULES = (D.S.R) "+
				"ALLOWED_AUTHENTICATION_SECRETS = (D.S.PW, D.S.TOK) ENABLED = TRUE",
		)
		b := e.srv.Creds()
		c, err := b.Resolve(ctx, p, eais, pwRef)
		if err != nil || c.Username != "svc" || c.Password.Reveal() != credsPW {
			t.Fatalf("resolve PW: %+v, %v", c, err)
		}
		c, err = b.Resolve(ctx, p, eais, tokRef)
		if err != nil || c.AccessToken.Reveal() != "brokerAT-1-never-shown" {
			t.Fatalf("resolve TOK: %+v, %v", c, err)
		}
		if _, err := b.Resolve(ctx, p, eais, tokRef); err != nil || tokenCalls.Load() != 1 {
			t.Fatalf("cached TOK: %v after %d token calls", err, tokenCalls.Load())
		}

		// The admin socket is private to the server's user.
		sock := server.AdminSocketPath(dir)
		for path, want := range map[string]os.FileMode{filepath.Dir(sock): 0o700, sock: 0o600} {
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
			}
		}

		keyFile := filepath.Join(dir, "master.key")
		oldKey, err = os.ReadFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		oldID := e.srv.MasterKeyID()
		out := runAdminCmd(t, "rotate-master-key", "--data-dir", dir)
		newID := e.srv.MasterKeyID()
		if newID == oldID || !strings.Contains(out, oldID+" -> "+newID) {
			t.Fatalf("rotate-master-key printed %q; key id %s -> %s", out, oldID, newID)
		}
		newKey, _ := os.ReadFile(keyFile)
		if bytes.Equal(newKey, oldKey) {
			t.Fatal("master key file unchanged after rotation")
		}
		// The stored data keys no longer unwrap under the old key.
		old, err := secrets.ParseMasterKey(string(oldKey))
		if err != nil {
			t.Fatal(err)
		}
		err = e.srv.Store().View(ctx, func(tx store.Tx) error {
			recs, err := tx.List(ctx, "", "DATA_KEY", "*")
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return errors.New("no stored data keys")
			}
			for _, r := range recs {
				var wk secrets.WrappedKey
				if err := json.Unmarshal(r.Data, &wk); err != nil {
					return err
				}
				if _, err := secrets.Unwrap(old, r.Parent, wk); !errors.Is(err, secrets.ErrWrongMasterKey) {
					return fmt.Errorf("data key of %s under the old master key: %v", r.Parent, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Ciphertexts sealed before the rotation still open, and new ones too.
		b.Invalidate("")
		if c, err := b.Resolve(ctx, p, eais, pwRef); err != nil || c.Password.Reveal() != credsPW {
			t.Fatalf("resolve PW after rotation: %v", err)
		}
		mustExec(t, db, "CREATE SECRET D.S.PW2 TYPE = GENERIC_STRING SECRET_STRING = 'after-rotation-value'",
			"ALTER EXTERNAL ACCESS INTEGRATION EAI SET ALLOWED_AUTHENTICATION_SECRETS = all")
		b.Invalidate("")
		if c, err := b.Resolve(ctx, p, eais, creds.SecretRef{Database: "D", Schema: "S", Name: "PW2"}); err != nil ||
			c.String.Reveal() != "after-rotation-value" {
			t.Fatalf("resolve PW2: %v", err)
		}
		// A denial for the audit trail.
		if _, err := b.Resolve(ctx, p, []string{"NOPE"}, pwRef); err == nil {
			t.Fatal("resolved through an unknown EAI")
		}

		var recs []store.CredsAuditRecord
		out = runAdminCmd(t, "creds", "audit", "--data-dir", dir, "--account", "firn", "--format", "json")
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			t.Fatalf("creds audit json: %v\n%s", err, out)
		}
		var events int64
		for _, r := range recs {
			events += r.Count
		}
		if events != 6 || len(recs) < 5 || recs[0].Outcome != creds.OutcomeDenied || recs[1].Secret != "D.S.PW2" || recs[1].Outcome != creds.OutcomeIssued {
			t.Errorf("creds audit: %d events in %+v", events, recs)
		}
		text := runAdminCmd(t, "creds", "audit", "--data-dir", dir, "--limit", "2")
		if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) != 3 || !strings.Contains(lines[0], "COUNT") || !strings.Contains(lines[1], "DENIED") {
			t.Errorf("creds audit text:\n%s", text)
		}
		var cache []creds.CacheEntry
		out = runAdminCmd(t, "creds", "cache", "--data-dir", dir, "--format", "json")
		if err := json.Unmarshal([]byte(out), &cache); err != nil {
			t.Fatalf("creds cache json: %v\n%s", err, out)
		}
		if len(cache) != 1 || cache[0].Secret != "D.S.TOK" || cache[0].Type != "OAUTH2" || cache[0].Hits != 2 || cache[0].Fetches != 1 ||
			!cache[0].RefreshAt.After(cache[0].Issued) || !cache[0].Expires.After(cache[0].RefreshAt) {
			t.Errorf("creds cache = %+v", cache)
		}
		for _, o := range []string{out, text, runAdminCmd(t, "creds", "cache", "--data-dir", dir)} {
			for _, v := range []string{credsPW, credsClient, "brokerAT-1", "after-rotation-value"} {
				if strings.Contains(o, v) {
					t.Errorf("admin output shows a value: %s", o)
				}
			}
		}
	})

	t.Run("old master key refused", func(t *testing.T) {
		_, err := server.New(ctx, server.Config{DataDir: dir, MasterKey: string(oldKey), AdminPassword: adminPassword})
		if !errors.Is(err, secrets.ErrWrongMasterKey) {
			t.Fatalf("server.New with the old master key: %v", err)
		}
	})

	t.Run("restart with the new key", func(t *testing.T) {
		e := start(t, withDir)
		if c, err := e.srv.Creds().Resolve(ctx, p, eais, pwRef); err != nil || c.Password.Reveal() != credsPW {
			t.Fatalf("resolve PW after restart: %v", err)
		}
		// A committed statement takes effect on the next Resolve, not after the
		// decision cache's TTL.
		mustExec(t, e.admin(), "ALTER EXTERNAL ACCESS INTEGRATION EAI SET ENABLED = FALSE")
		if _, err := e.srv.Creds().Resolve(ctx, p, eais, pwRef); err == nil {
			t.Fatal("resolve through a disabled EAI succeeded from the decision cache")
		}
		mustExec(t, e.admin(), "ALTER EXTERNAL ACCESS INTEGRATION EAI SET ENABLED = TRUE")
		if _, err := e.srv.Creds().Resolve(ctx, p, eais, pwRef); err != nil {
			t.Fatalf("resolve after re-enabling the EAI: %v", err)
		}
	})

	// Nothing on disk holds a value in clear.
	_ = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Mode()&os.ModeSocket != 0 {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, v := range []string{credsPW, credsClient, "brokerAT-1", "after-rotation-value"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s contains %q", path, v)
			}
		}
		return nil
	})
}

// TestCredsSeedCloudProviderToken runs seed 000's DDL verbatim (names filled in)
// through gosnowflake, then resolves its CLOUD_PROVIDER_TOKEN secret through the
// server's broker: STS AssumeRole goes to moto_server through a recording proxy (via
// AWS_ENDPOINT_URL_STS, i.e. aws-sdk-go-v2's default configuration), and the
// temporary credentials that come back are used to call moto's GetCallerIdentity.
func TestCredsSeedCloudProviderToken(t *testing.T) {
	motoURL := startMoto(t) // privatelink_test.go
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFIRNINTEGRATION1")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "firn-integration-platform-secret")
	target, _ := url.Parse(motoURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var calls []url.Values
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		mu.Lock()
		calls = append(calls, form)
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", proxy.URL)

	e := start(t)
	c := conn(t, e.admin())
	const roleARN = "arn:aws:iam::" + motoAccount + ":role/snowflake-api-gateway-role"
	mustExec(t, c, "CREATE DATABASE SEED", "USE SCHEMA SEED.PUBLIC",
		`CREATE OR REPLACE NETWORK RULE aws_api_gateway_network_rule
MODE = EGRESS
TYPE = HOST_PORT
VALUE_LIST = ('a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com');`,
		`CREATE OR REPLACE SECURITY INTEGRATION aws_api_gateway_security_integration
TYPE = API_AUTHENTICATION
AUTH_TYPE = AWS_IAM
ENABLED = TRUE
AWS_ROLE_ARN = '`+roleARN+`';`,
		`CREATE OR REPLACE SECRET aws_api_gateway_access_token
TYPE = CLOUD_PROVIDER_TOKEN
API_AUTHENTICATION = aws_api_gateway_security_integration;`,
		`CREATE OR REPLACE EXTERNAL ACCESS INTEGRATION aws_api_gateway_external_access_integration
ALLOWED_NETWORK_RULES = (aws_api_gateway_network_rule)
ALLOWED_AUTHENTICATION_SECRETS = (aws_api_gateway_access_token)
ENABLED = TRUE
COMMENT = 'Test API Gateway connectivity';`)
	var extID string
	_, desc := rows(t, c, "DESC SECURITY INTEGRATION aws_api_gateway_security_integration")
	for _, r := range desc {
		if r[0] == "API_AWS_EXTERNAL_ID" {
			extID = r[2]
		}
	}
	if extID == "" {
		t.Fatalf("DESC shows no API_AWS_EXTERNAL_ID: %v", desc)
	}

	ref, err := creds.ParseSecretRef("seed.public.aws_api_gateway_access_token")
	if err != nil {
		t.Fatal(err)
	}
	p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION SEED.PUBLIC.AWS_API_GATEWAY_POST_FUNCTION"}
	cred, err := e.srv.Creds().Resolve(context.Background(), p, []string{"AWS_API_GATEWAY_EXTERNAL_ACCESS_INTEGRATION"}, ref)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	mu.Lock()
	got := calls
	mu.Unlock()
	const session = "firn-FIRN-SEED.PUBLIC.AWS_API_GATEWAY_ACCESS_TOKEN"
	if len(got) != 1 || got[0].Get("Action") != "AssumeRole" || got[0].Get("RoleArn") != roleARN ||
		got[0].Get("ExternalId") != extID || got[0].Get("RoleSessionName") != session || got[0].Get("DurationSeconds") != "3600" {
		t.Fatalf("STS requests = %v; want one AssumeRole of %s with external ID %s, session %s", got, roleARN, extID, session)
	}
	if !strings.HasPrefix(cred.AWS.AccessKeyID, "ASIA") {
		t.Errorf("access key id %q", cred.AWS.AccessKeyID)
	}
	// The temporary credentials work: moto says who they are.
	stsc := sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: aws.String(motoURL),
		Credentials: credentials.NewStaticCredentialsProvider(cred.AWS.AccessKeyID, cred.AWS.SecretAccessKey.Reveal(), cred.AWS.SessionToken.Reveal())})
	id, err := stsc.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the issued credentials: %v", err)
	}
	if want := "assumed-role/snowflake-api-gateway-role/" + session; !strings.HasSuffix(aws.ToString(id.Arn), want) {
		t.Errorf("caller = %s, want …%s", aws.ToString(id.Arn), want)
	}
}
