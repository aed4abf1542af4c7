package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	sf "github.com/snowflakedb/gosnowflake"

	"github.com/firn/firn/internal/edge/edgetest"
	"github.com/firn/firn/internal/server"
)

// motoAccount is the AWS account moto owns every resource with.
const motoAccount = "123456789012"

// startMoto runs moto_server from the machine's Python on a free loopback port until
// the test ends and points aws-sdk-go-v2's configuration chain at it. A missing moto
// fails the test: nothing is skipped.
func startMoto(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import moto; print(moto.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("moto is required (python3 -m pip install 'moto[server]'): %v: %s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto %s: %v", strings.TrimSpace(string(out)), err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto did not start on %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a child process's readiness
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_EC2": url, "AWS_ENDPOINT_URL_STS": url, "AWS_REGION": "us-west-2",
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return url
}

// awsFixture creates, in moto, a VPC with n gateway endpoints and a federation token
// (the JSON `aws sts get-federation-token` prints) scoped to ec2:DescribeVpcEndpoints.
func awsFixture(t *testing.T, url string, n int) (endpoints []string, token string) {
	t.Helper()
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	ec := ec2.New(ec2.Options{Region: "us-west-2", Credentials: creds, BaseEndpoint: aws.String(url)})
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatalf("CreateVpc: %v", err)
	}
	for i := 0; i < n; i++ {
		ep, err := ec.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: vpc.Vpc.VpcId,
			ServiceName: aws.String("com.amazonaws.us-west-2.s3"), VpcEndpointType: ec2types.VpcEndpointTypeGateway})
		if err != nil {
			t.Fatalf("CreateVpcEndpoint: %v", err)
		}
		endpoints = append(endpoints, aws.ToString(ep.VpcEndpoint.VpcEndpointId))
	}
	st := sts.New(sts.Options{Region: "us-west-2", Credentials: creds, BaseEndpoint: aws.String(url)})
	ft, err := st.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("snowflake"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeVpcEndpoints"],"Resource":["*"]}]}`)})
	if err != nil {
		t.Fatalf("GetFederationToken: %v", err)
	}
	b, err := json.MarshalIndent(map[string]any{
		"Credentials": map[string]any{"AccessKeyId": ft.Credentials.AccessKeyId, "SecretAccessKey": ft.Credentials.SecretAccessKey,
			"SessionToken": ft.Credentials.SessionToken, "Expiration": ft.Credentials.Expiration.Format(time.RFC3339)},
		"FederatedUser":    map[string]any{"FederatedUserId": ft.FederatedUser.FederatedUserId, "Arn": ft.FederatedUser.Arn},
		"PackedPolicySize": aws.ToInt32(ft.PackedPolicySize),
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return endpoints, string(b)
}

// azureARM is a stand-in for Azure Resource Manager: GET on a private-endpoint
// resource ID answers 200 for the one valid bearer token, 401/403/404 otherwise.
func azureARM(t *testing.T, resourceID, goodToken string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("api-version") == "" {
			http.Error(w, `{"error":{"code":"MissingApiVersionParameter"}}`, http.StatusBadRequest)
			return
		}
		switch r.Header.Get("Authorization") {
		case "Bearer " + goodToken:
		case "":
			http.Error(w, `{"error":{"code":"AuthenticationFailed"}}`, http.StatusUnauthorized)
			return
		default:
			http.Error(w, `{"error":{"code":"AuthorizationFailed"}}`, http.StatusForbidden)
			return
		}
		if !strings.EqualFold(r.URL.Path, resourceID) {
			http.Error(w, `{"error":{"code":"ResourceNotFound"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"name":"pe","type":"Microsoft.Network/privateEndpoints","location":"westus2","properties":{"provisioningState":"Succeeded"}}`, resourceID)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// value runs a one-value query and returns its value, or the error.
func value(q queryer, query string) (string, error) {
	var v sql.NullString
	rs, err := q.QueryContext(context.Background(), query)
	if err != nil {
		return "", err
	}
	defer rs.Close()
	if !rs.Next() {
		return "", rs.Err()
	}
	if err := rs.Scan(&v); err != nil {
		return "", err
	}
	return v.String, rs.Err()
}

// switchingProxy dials through whichever ProxyClient was set last, so one driver
// session can send later requests through a different private endpoint.
type switchingProxy struct {
	p atomic.Pointer[edgetest.ProxyClient]
}

func (s *switchingProxy) set(p edgetest.ProxyClient) { s.p.Store(&p) }

func (s *switchingProxy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return s.p.Load().DialContext(ctx, network, addr)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestPrivateLinkPinning registers endpoints in moto-backed AWS and a stand-in Azure,
// then walks the seed's PE1/PE2 × A1/A2 table with drivers whose connections carry
// PROXY v2 headers naming the endpoint, plus the delay rule and unregistering.
func TestPrivateLinkPinning(t *testing.T) {
	motoURL := startMoto(t)
	pes, token := awsFixture(t, motoURL, 3)
	pe1, pe2, pe3 := pes[0], pes[1], pes[2]
	const azureLink = "587202689"
	azurePE := "/subscriptions/0cc51670-aaaa-bbbb-cccc-000000000001/resourceGroups/dbsec_test_rg/providers/Microsoft.Network/privateEndpoints/firn-pe"
	const azureToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcm0ifQ.c2ln"
	armURL := azureARM(t, azurePE, azureToken)
	e := startEdge(t, func(c *server.Config) { c.AzureARMURL = armURL })

	org := conn(t, e.admin())
	mustExec(t, org, "USE ROLE ORGADMIN",
		"CREATE ACCOUNT A1 ADMIN_NAME = ADM ADMIN_PASSWORD = 'Adm1-password-123' EMAIL = 'a1@example.com'",
		"CREATE ACCOUNT A2 ADMIN_NAME = ADM ADMIN_PASSWORD = 'Adm2-password-123' EMAIL = 'a2@example.com'",
		"USE ROLE ACCOUNTADMIN")
	pw := map[string]string{"A1": "Adm1-password-123", "A2": "Adm2-password-123"}
	a1 := conn(t, e.open("A1", "ADM", pw["A1"]))
	a2 := conn(t, e.open("A2", "ADM", pw["A2"]))
	register := func(endpoint, consumer, tok, delay string) string {
		q := fmt.Sprintf("SELECT SYSTEM$REGISTER_PRIVATELINK_ENDPOINT(%s, %s, %s%s)", sqlString(endpoint), sqlString(consumer), sqlString(tok), delay)
		return q
	}
	// through reports whether ADM of account can log in and query through endpoint.
	through := func(t *testing.T, endpoint, account string) bool {
		t.Helper()
		p := edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("10.20.30.40:40000"), VPCE: endpoint}
		db := e.viaProxy(t, p, account, "ADM", pw[account])
		var n int
		err := db.QueryRow("SELECT 1").Scan(&n)
		if err == nil {
			return true
		}
		sfErr(t, err, 390422)
		return false
	}

	t.Run("ACCOUNTADMIN only", func(t *testing.T) {
		c := conn(t, e.open("A1", "ADM", pw["A1"]))
		mustExec(t, c, "USE ROLE SYSADMIN")
		_, err := value(c, register(pe1, motoAccount, token, ""))
		sfErr(t, err, 3001)
		_, err = value(c, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()")
		sfErr(t, err, 3001)
	})

	t.Run("ownership proof refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, query string
			code        int
		}{
			{"other AWS account", register(pe1, "111122223333", token, ""), 100357},
			{"unknown endpoint", register("vpce-0123456789abcdef0", motoAccount, token, ""), 100357},
			{"not a token", register(pe1, motoAccount, "hello", ""), 100357},
			{"token without credentials", register(pe1, motoAccount, `{"Credentials":{}}`, ""), 100357},
			{"bad account id", register(pe1, "12345", token, ""), 100357},
			{"bad endpoint id", register("vpc-123", motoAccount, token, ""), 100357},
			{"delay too long", register(pe1, motoAccount, token, ", 1441"), 100357},
			{"negative delay", register(pe1, motoAccount, token, ", -1"), 100357},
			{"delay not a number", register(pe1, motoAccount, token, ", 'soon'"), 100357},
			{"too few arguments", "SELECT SYSTEM$REGISTER_PRIVATELINK_ENDPOINT('x', 'y')", 938},
			{"azure wrong token", register(azureLink, azurePE, "eyJ.bad.token", ""), 100357},
			{"azure wrong resource", register(azureLink, strings.Replace(azurePE, "firn-pe", "other-pe", 1), azureToken, ""), 100357},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := value(a1, tc.query)
				sfErr(t, err, tc.code)
			})
		}
		if got := one(t, a1, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()"); got != "[]" {
			t.Fatalf("registrations after refusals = %s, want []", got)
		}
	})

	t.Run("seed table with delay", func(t *testing.T) {
		// A1 registers PE1 with a 30-minute delay: nothing is blocked until then.
		got := one(t, a1, register(pe1, motoAccount, token, ", 30"))
		enforceAt := e.clock.Now().UTC().Add(30 * time.Minute)
		if !strings.Contains(got, "registered successfully") || !strings.Contains(got, enforceAt.Format("2006-01-02 15:04")) {
			t.Fatalf("register status %q; want enforcement at %s", got, enforceAt.Format("2006-01-02 15:04"))
		}
		if !through(t, pe1, "A2") {
			t.Fatal("PE1 → A2 denied inside the delay")
		}
		// Ten minutes later A2 also pins PE1 with no delay: the first registration's
		// enforcement time still rules. Then A2 moves its pin to PE2 (delay 0).
		e.clock.Advance(10 * time.Minute)
		got = one(t, a2, register(pe1, motoAccount, token, ", 0"))
		if !strings.Contains(got, enforceAt.Format("2006-01-02 15:04")) {
			t.Fatalf("second registration %q does not keep the first one's enforcement time %s", got, enforceAt)
		}
		one(t, a2, fmt.Sprintf("SELECT SYSTEM$UNREGISTER_PRIVATELINK_ENDPOINT(%s, %s, %s)", sqlString(pe1), sqlString(motoAccount), sqlString(token)))
		if got := one(t, a2, register(pe2, motoAccount, token, ", 0")); !strings.Contains(got, "enforced now") {
			t.Fatalf("zero-delay registration status %q", got)
		}
		if !through(t, pe1, "A2") {
			t.Fatal("PE1 → A2 denied before PE1's enforcement time")
		}
		e.clock.Advance(21 * time.Minute)

		for _, row := range []struct {
			pe, target string
			allow      bool
		}{
			{pe1, "A1", true},
			{pe1, "A2", false},
			{pe2, "A1", false},
			{pe2, "A2", true},
		} {
			name := map[string]string{pe1: "PE1", pe2: "PE2"}[row.pe] + "→" + row.target
			t.Run(name, func(t *testing.T) {
				if got := through(t, row.pe, row.target); got != row.allow {
					t.Fatalf("%s allowed = %v, want %v", name, got, row.allow)
				}
			})
		}
		// A session opened over the public network cannot be used through PE1 for A2:
		// the pin is checked on every request, from the connection's own identity.
		sw := &switchingProxy{}
		sw.set(edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("10.20.30.42:40000")})
		host, port, _ := net.SplitHostPort(e.addr)
		portN, _ := strconv.Atoi(port)
		sdb := sql.OpenDB(sf.NewConnector(sf.SnowflakeDriver{}, sf.Config{Account: "A2", User: "ADM", Password: pw["A2"],
			Host: host, Port: portN, Protocol: "http", MaxRetryCount: 1,
			Transporter: &http.Transport{DisableKeepAlives: true, DialContext: sw.DialContext}}))
		defer sdb.Close()
		sdb.SetMaxOpenConns(1)
		if _, err := value(sdb, "SELECT 1"); err != nil {
			t.Fatalf("public session: %v", err)
		}
		sw.set(edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("10.20.30.42:40000"), VPCE: pe1})
		_, err := value(sdb, "SELECT 1")
		sfErr(t, err, 390422)
		sw.set(edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("10.20.30.42:40000"), VPCE: pe2})
		if _, err := value(sdb, "SELECT 1"); err != nil {
			t.Fatalf("same session through A2's own endpoint: %v", err)
		}

		// Endpoints pinned by nobody, and the public network, are unaffected.
		if !through(t, pe3, "A2") || !through(t, "", "A2") {
			t.Fatal("an unpinned endpoint or a public request was blocked")
		}
		// Refusals land in LOGIN_HISTORY with Snowflake's code, naming only the client.
		found := false
		for _, l := range jwtLogins(t, e, "A2") {
			if !l.IsSuccess && l.ErrorCode == "390422" && l.ClientIP == "10.20.30.40" {
				found = true
				if strings.Contains(l.ErrorMessage, pe1) || strings.Contains(l.ErrorMessage, "A1") {
					t.Errorf("refusal reveals the pin: %q", l.ErrorMessage)
				}
			}
		}
		if !found {
			t.Error("no 390422 refusal from 10.20.30.40 in A2's LOGIN_HISTORY")
		}
	})

	t.Run("registrations JSON", func(t *testing.T) {
		cols, rs := rows(t, a1, "select system$get_privatelink_endpoint_registrations()")
		if len(cols) != 1 || cols[0] != "SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()" {
			t.Fatalf("columns %v", cols)
		}
		re := regexp.MustCompile(`^\[\{"consumerEndpointId":"` + motoAccount + `","consumerEndpointType":"Aws Id","pinnedConsumerEndpointId":"` +
			pe1 + `","providerServiceEndpoint":"vpce-svc-[0-9a-f]{17}"\}\]$`)
		if !re.MatchString(rs[0][0]) {
			t.Fatalf("registrations %s", rs[0][0])
		}
		if got := one(t, a2, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS() AS regs"); !strings.Contains(got, pe2) || strings.Contains(got, pe1) {
			t.Fatalf("A2 registrations %s", got)
		}
	})

	t.Run("azure", func(t *testing.T) {
		// az account get-access-token output is accepted as well as the bare token.
		azTok := fmt.Sprintf(`{"accessToken": %q, "expiresOn": "2030-01-01 00:00:00.000000", "subscription": "0cc51670", "tokenType": "Bearer"}`, azureToken)
		if got := one(t, a1, register(azureLink, azurePE, azTok, ", 0")); !strings.Contains(got, azureLink) {
			t.Fatalf("azure register %q", got)
		}
		got := one(t, a1, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()")
		if !strings.Contains(got, `{"consumerEndpointId":"`+azurePE+`","consumerEndpointType":"Azure Endpoint Connection Id","pinnedConsumerEndpointId":"`+azureLink+`","providerServiceEndpoint":"sf-pvlinksvc-`) {
			t.Fatalf("registrations %s", got)
		}
		for target, allow := range map[string]bool{"A1": true, "A2": false} {
			p := edgetest.ProxyClient{LocalIP: lbAddr, Source: netip.MustParseAddrPort("10.20.30.41:40000"), LinkID: 587202689, HasLinkID: true}
			db := e.viaProxy(t, p, target, "ADM", pw[target])
			var n int
			err := db.QueryRow("SELECT 1").Scan(&n)
			if allow && err != nil {
				t.Fatalf("LinkID → %s: %v", target, err)
			}
			if !allow {
				sfErr(t, err, 390422)
			}
		}
	})

	t.Run("unregister", func(t *testing.T) {
		unreg := fmt.Sprintf("SELECT SYSTEM$UNREGISTER_PRIVATELINK_ENDPOINT(%s, %s, %s)", sqlString(pe2), sqlString(motoAccount), sqlString(token))
		if got := one(t, a2, unreg); !strings.Contains(got, "unregistered successfully") {
			t.Fatalf("unregister %q", got)
		}
		if !through(t, pe2, "A1") {
			t.Fatal("PE2 → A1 still denied after PE2 was unregistered")
		}
		_, err := value(a2, unreg)
		sfErr(t, err, 100357)
		// A1 cannot unregister A2's or an unknown registration.
		_, err = value(a1, unreg)
		sfErr(t, err, 100357)
		if got := one(t, a2, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()"); got != "[]" {
			t.Fatalf("A2 registrations after unregister: %s", got)
		}

		// An endpoint deleted in AWS can still be unregistered (Snowflake asks for
		// exactly that), but not registered.
		one(t, a2, register(pe3, motoAccount, token, ", 0"))
		ec := ec2.New(ec2.Options{Region: "us-west-2", BaseEndpoint: aws.String(motoURL),
			Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "x", "")})
		if _, err := ec.DeleteVpcEndpoints(context.Background(), &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{pe3}}); err != nil {
			t.Fatalf("DeleteVpcEndpoints: %v", err)
		}
		_, err = value(a1, register(pe3, motoAccount, token, ", 0"))
		sfErr(t, err, 100357)
		one(t, a2, fmt.Sprintf("SELECT SYSTEM$UNREGISTER_PRIVATELINK_ENDPOINT(%s, %s, %s)", sqlString(pe3), sqlString(motoAccount), sqlString(token)))
		if got := one(t, a2, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS()"); got != "[]" {
			t.Fatalf("A2 registrations after unregistering a deleted endpoint: %s", got)
		}
	})
}

// TestPrivateLinkFunctions covers AUTHORIZE/REVOKE, GET_PRIVATELINK_CONFIG and the
// egress endpoint functions.
func TestPrivateLinkFunctions(t *testing.T) {
	motoURL := startMoto(t)
	_, token := awsFixture(t, motoURL, 0)
	e := start(t)
	c := conn(t, e.admin())

	t.Run("authorize and revoke", func(t *testing.T) {
		q := fmt.Sprintf("SELECT SYSTEM$AUTHORIZE_PRIVATELINK('%s', %s)", motoAccount, sqlString(token))
		if got := one(t, c, q); got != "Private link access authorized." {
			t.Fatalf("authorize %q", got)
		}
		_, err := value(c, fmt.Sprintf("SELECT SYSTEM$AUTHORIZE_PRIVATELINK('111122223333', %s)", sqlString(token)))
		sfErr(t, err, 100357)
		rq := fmt.Sprintf("SELECT SYSTEM$REVOKE_PRIVATELINK('%s', %s)", motoAccount, sqlString(token))
		if got := one(t, c, rq); got != "Private link access revoked." {
			t.Fatalf("revoke %q", got)
		}
		_, err = value(c, rq)
		sfErr(t, err, 100357)
	})

	t.Run("config", func(t *testing.T) {
		cols, rs := rows(t, c, "SELECT SYSTEM$GET_PRIVATELINK_CONFIG()")
		if cols[0] != "SYSTEM$GET_PRIVATELINK_CONFIG()" {
			t.Fatalf("column %q", cols[0])
		}
		var cfg map[string]string
		if err := json.Unmarshal([]byte(rs[0][0]), &cfg); err != nil {
			t.Fatalf("config %s: %v", rs[0][0], err)
		}
		for _, k := range []string{"privatelink-account-name", "privatelink-account-url", "regionless-privatelink-account-url",
			"privatelink-ocsp-url", "privatelink-connection-urls", "privatelink-vpce-id", "privatelink-account-principal"} {
			if cfg[k] == "" {
				t.Errorf("config lacks %s: %s", k, rs[0][0])
			}
		}
		if !strings.HasPrefix(cfg["privatelink-account-url"], "firn.") {
			t.Errorf("account url %q", cfg["privatelink-account-url"])
		}
	})

	t.Run("egress endpoints", func(t *testing.T) {
		if got := one(t, c, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()"); got != "[]" {
			t.Fatalf("info before provisioning %s", got)
		}
		got := one(t, c, "SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3', '*.s3.us-west-2.amazonaws.com')")
		if !regexp.MustCompile(`^Private endpoint with id 'vpce-[0-9a-f]{17}' provisioned successfully\.$`).MatchString(got) {
			t.Fatalf("provision %q", got)
		}
		azureRes := "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Sql/servers/db1"
		one(t, c, fmt.Sprintf("SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('%s', 'db1.database.windows.net', 'sqlServer')", azureRes))
		for _, bad := range []string{
			"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3', '*.s3.us-west-2.amazonaws.com')", // duplicate
			"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.kms', 'kms.us-west-2.amazonaws.com:443')",
			"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.kms', 'a.*.amazonaws.com')",
			"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('example.com', 'example.com')",
			"SELECT SYSTEM$PROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.kms', 'kms.us-west-2.amazonaws.com', 'blob')",
		} {
			_, err := value(c, bad)
			sfErr(t, err, 100357)
		}
		var info []map[string]any
		if err := json.Unmarshal([]byte(one(t, c, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()")), &info); err != nil || len(info) != 2 {
			t.Fatalf("info %v %v", info, err)
		}
		aws := info[1]
		if aws["provider_service_name"] != "com.amazonaws.us-west-2.s3" || aws["endpoint_state"] != "CREATED" ||
			aws["host"] != "*.s3.us-west-2.amazonaws.com" || aws["status"] != "Available" {
			t.Errorf("aws item %v", aws)
		}
		az := info[0]
		if az["provider_resource_id"] != azureRes || az["subresource"] != "sqlServer" || az["status"] != "APPROVED" {
			t.Errorf("azure item %v", az)
		}
		got = one(t, c, "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3')")
		if !strings.Contains(got, "marked for deletion") {
			t.Fatalf("deprovision %q", got)
		}
		if !strings.Contains(one(t, c, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()"), `"endpoint_state":"PENDING_DELETION"`) {
			t.Error("deprovisioned endpoint not PENDING_DELETION")
		}
		_, err := value(c, "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3')")
		sfErr(t, err, 100357)
		one(t, c, "SELECT SYSTEM$RESTORE_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3')")
		one(t, c, "SELECT SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3')")
		e.clock.Advance(7*24*time.Hour + time.Minute)
		c := conn(t, e.admin()) // the earlier session has expired
		if strings.Contains(one(t, c, "SELECT SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO()"), "com.amazonaws") {
			t.Error("endpoint still listed after the restore window")
		}
		_, err = value(c, "SELECT SYSTEM$RESTORE_PRIVATELINK_ENDPOINT('com.amazonaws.us-west-2.s3')")
		sfErr(t, err, 100357)
	})

	t.Run("not ACCOUNTADMIN", func(t *testing.T) {
		c2 := conn(t, e.admin())
		mustExec(t, c2, "USE ROLE SYSADMIN")
		_, err := value(c2, "SELECT SYSTEM$GET_PRIVATELINK_CONFIG()")
		sfErr(t, err, 3001)
	})
}
