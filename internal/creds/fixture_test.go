package creds

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// motoURL is the moto_server every test of this binary shares (TestMain starts it).
var motoURL string

func TestMain(m *testing.M) {
	// The AWS SDK's default configuration must see only what the tests set.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAFIRNTESTPLATFORM", "AWS_SECRET_ACCESS_KEY": "firn-test-platform-secret",
		"AWS_REGION": "us-west-2", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		os.Setenv(k, v)
	}
	os.Unsetenv("AWS_PROFILE")
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_ENDPOINT_URL")
	stop, err := startMoto()
	if err != nil {
		fmt.Fprintf(os.Stderr, "creds tests need moto_server (python3 -m moto.server): %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startMoto runs python3 -m moto.server on a free loopback port and waits until it
// answers.
func startMoto() (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	u := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(u + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			motoURL = u
			return stop, nil
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto_server exited: %v\n%s", err, logs.String())
		case <-time.After(100 * time.Millisecond): // readiness poll of an external process
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("moto_server did not answer within 60 s\n%s", logs.String())
		}
	}
}

// stsCall is one AssumeRole request seen by the recording proxy.
type stsCall struct {
	Action, RoleArn, ExternalID, SessionName, Duration string
}

// stsProxy is a recording reverse proxy in front of moto: it records every STS
// request's parameters and counts them.
type stsProxy struct {
	*httptest.Server
	mu    sync.Mutex
	calls []stsCall
	// fail, when set, answers AssumeRole with an STS AccessDenied error.
	fail bool
}

func newSTSProxy(t testing.TB) *stsProxy {
	t.Helper()
	target, _ := url.Parse(motoURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	p := &stsProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		c := stsCall{Action: form.Get("Action"), RoleArn: form.Get("RoleArn"), ExternalID: form.Get("ExternalId"),
			SessionName: form.Get("RoleSessionName"), Duration: form.Get("DurationSeconds")}
		p.mu.Lock()
		p.calls = append(p.calls, c)
		fail := p.fail
		p.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::000000000000:user/firn is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	t.Setenv("AWS_ENDPOINT_URL_STS", p.URL)
	return p
}

func (p *stsProxy) Calls() []stsCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]stsCall(nil), p.calls...)
}

func (p *stsProxy) setFail(v bool) {
	p.mu.Lock()
	p.fail = v
	p.mu.Unlock()
}

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Now().UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	acct     = "ACME"
	appRole  = "APP"
	roleARN  = "arn:aws:iam::444455556666:role/ext-access"
	extID    = "ACME_SFCRole=2_abc123="
	password = "pw-Tq8-never-shown"
	genStr   = "gs-Zx1-never-shown"
	clientSc = "cs-Kp3-never-shown"
	refreshT = "rt-Wm5-never-shown"
)

// fixture is a real store with an account, a database DB, schema DB.SCH, a role APP
// and a keyring; helpers add secrets, integrations and grants through the catalog.
type fixture struct {
	t     testing.TB
	dir   string
	st    *store.SQLite
	kr    *secrets.Keyring
	clock *testClock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mk, _, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, st: st, kr: secrets.NewKeyring(mk, nil), clock: newClock()}
	f.update(func(ctx context.Context, tx store.Tx) error {
		if err := catalog.CreateAccount(ctx, tx, &catalog.Account{Name: acct, Edition: "ENTERPRISE"},
			&catalog.User{Name: "ADMIN", LoginName: "ADMIN"}); err != nil {
			return err
		}
		if err := catalog.CreateRole(ctx, tx, acct, catalog.RoleSecurityAdmin, &catalog.Role{Name: appRole}); err != nil {
			return err
		}
		if err := catalog.CreateDatabase(ctx, tx, acct, catalog.RoleSysAdmin, &catalog.Database{Name: "DB"}); err != nil {
			return err
		}
		return catalog.CreateSchema(ctx, tx, acct, catalog.RoleSysAdmin, &catalog.Schema{Database: "DB", Name: "SCH"})
	})
	f.grant("USAGE", catalog.Object{Kind: "DATABASE", Name: "DB"}, appRole)
	f.grant("USAGE", catalog.Object{Kind: "SCHEMA", Database: "DB", Name: "SCH"}, appRole)
	return f
}

func (f *fixture) update(fn func(ctx context.Context, tx store.Tx) error) {
	f.t.Helper()
	ctx := context.Background()
	if err := f.st.Update(ctx, func(tx store.Tx) error { return fn(ctx, tx) }); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) grant(priv string, on catalog.Object, role string) {
	f.t.Helper()
	f.update(func(ctx context.Context, tx store.Tx) error {
		return catalog.PutPrivilegeGrant(ctx, tx, acct, &catalog.PrivilegeGrant{Privilege: priv, On: on, Grantee: role})
	})
}

func (f *fixture) revoke(priv string, on catalog.Object, role string) {
	f.t.Helper()
	f.update(func(ctx context.Context, tx store.Tx) error {
		_, err := catalog.DeletePrivilegeGrant(ctx, tx, acct, &catalog.PrivilegeGrant{Privilege: priv, On: on, Grantee: role})
		return err
	})
}

// secret creates DB.SCH.<name>, sealing v, and grants READ on it to APP.
func (f *fixture) secret(s *catalog.Secret, v *catalog.SecretValue) {
	f.t.Helper()
	s.Database, s.Schema = "DB", "SCH"
	uid, err := catalog.NewUID()
	if err != nil {
		f.t.Fatal(err)
	}
	s.UID = uid
	if v != nil {
		if err := s.Seal(f.kr, acct, v); err != nil {
			f.t.Fatal(err)
		}
	}
	f.update(func(ctx context.Context, tx store.Tx) error {
		return catalog.CreateSecret(ctx, tx, acct, catalog.RoleSysAdmin, s)
	})
	f.grant(catalog.PrivRead, s.Object(), appRole)
}

// integration creates an integration and grants USAGE on it to APP.
func (f *fixture) integration(i *catalog.Integration, clientSecret string) {
	f.t.Helper()
	uid, err := catalog.NewUID()
	if err != nil {
		f.t.Fatal(err)
	}
	i.UID, i.Category = uid, catalog.CategorySecurity
	if clientSecret != "" {
		if err := i.SealClientSecret(f.kr, acct, clientSecret); err != nil {
			f.t.Fatal(err)
		}
	}
	f.update(func(ctx context.Context, tx store.Tx) error {
		return catalog.CreateIntegration(ctx, tx, acct, catalog.RoleAccountAdmin, i)
	})
	f.grant("USAGE", i.Object(), appRole)
}

// alterIntegration applies fn to a stored integration.
func (f *fixture) alterIntegration(name string, fn func(*catalog.Integration)) {
	f.t.Helper()
	f.update(func(ctx context.Context, tx store.Tx) error {
		i, err := catalog.GetIntegration(ctx, tx, acct, name)
		if err != nil {
			return err
		}
		fn(i)
		return catalog.PutIntegration(ctx, tx, acct, i)
	})
}

func (f *fixture) eai(name string, mode string, secrets []catalog.Object, apiInts ...string) {
	f.integration(&catalog.Integration{Name: name, Type: catalog.IntegrationExternalAccess, Enabled: true,
		AllowedSecretsMode: mode, AllowedSecrets: secrets, AllowedAPIIntegrations: apiInts}, "")
}

// allowEgress creates the EGRESS HOST_PORT network rule DB.SCH.<eai>_EGRESS_<n>
// allowing the host:port of each URL and adds it to the ALLOWED_NETWORK_RULES of
// external access integration eai.
func (f *fixture) allowEgress(eai string, urls ...string) {
	f.t.Helper()
	var values []string
	for _, u := range urls {
		host, port, ok := endpointHostPort(u)
		if !ok {
			f.t.Fatalf("allowEgress: bad URL %q", u)
		}
		values = append(values, net.JoinHostPort(host, fmt.Sprint(port)))
	}
	f.update(func(ctx context.Context, tx store.Tx) error {
		i, err := catalog.GetIntegration(ctx, tx, acct, eai)
		if err != nil {
			return err
		}
		r := &catalog.NetworkRule{Database: "DB", Schema: "SCH", Name: fmt.Sprintf("%s_EGRESS_%d", eai, len(i.AllowedNetworkRules)),
			Type: "HOST_PORT", Mode: "EGRESS", Values: values}
		if err := catalog.CreateNetworkRule(ctx, tx, acct, catalog.RoleSysAdmin, r); err != nil {
			return err
		}
		i.AllowedNetworkRules = append(i.AllowedNetworkRules,
			catalog.Object{Kind: "NETWORK RULE", Database: r.Database, Schema: r.Schema, Name: r.Name})
		return catalog.PutIntegration(ctx, tx, acct, i)
	})
}

func (f *fixture) broker(opts ...func(*Config)) *Broker {
	cfg := Config{Store: f.st, Source: CatalogSource{Keyring: func() *secrets.Keyring { return f.kr }},
		Now: f.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	b := New(cfg)
	f.t.Cleanup(b.Close)
	return b
}

func secretObj(name string) catalog.Object {
	return catalog.Object{Kind: "SECRET", Database: "DB", Schema: "SCH", Name: name}
}

func ref(name string) SecretRef { return SecretRef{Database: "DB", Schema: "SCH", Name: name} }

var app = Principal{Account: acct, Role: appRole, Workload: "FUNCTION DB.SCH.F"}

// assertNoValues fails if any of values occurs in the audit trail or in any file of dir.
func assertNoValues(t testing.TB, b *Broker, dir string, values ...string) {
	t.Helper()
	recs, err := b.Audit(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		row := fmt.Sprintf("%+v", *r)
		for _, v := range values {
			if v != "" && strings.Contains(row, v) {
				t.Errorf("audit row contains a credential value: %s", row)
			}
		}
	}
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, v := range values {
			if v != "" && bytes.Contains(b, []byte(v)) {
				t.Errorf("%s contains a credential value", p)
			}
		}
		return nil
	})
}
