package integration

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// seedDDL is the SQL of seed 000 (IAM authentication to AWS through external network
// access), verbatim with its placeholders filled in.
var seedDDL = []string{
	`CREATE OR REPLACE NETWORK RULE aws_api_gateway_network_rule
MODE = EGRESS
TYPE = HOST_PORT
VALUE_LIST = ('a1b2c3d4e5.execute-api.ap-northeast-1.amazonaws.com');`,
	`CREATE OR REPLACE SECURITY INTEGRATION aws_api_gateway_security_integration
TYPE = API_AUTHENTICATION
AUTH_TYPE = AWS_IAM
ENABLED = TRUE
AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/snowflake-api-gateway-role';`,
	`CREATE OR REPLACE SECRET aws_api_gateway_access_token
TYPE = CLOUD_PROVIDER_TOKEN
API_AUTHENTICATION = aws_api_gateway_security_integration;`,
	`CREATE OR REPLACE EXTERNAL ACCESS INTEGRATION aws_api_gateway_external_access_integration
ALLOWED_NETWORK_RULES = (aws_api_gateway_network_rule)
ALLOWED_AUTHENTICATION_SECRETS = (aws_api_gateway_access_token)
ENABLED = TRUE
COMMENT = 'Test API Gateway connectivity';`,
}

// descProps runs DESC ... INTEGRATION and returns property → [type, value, default].
func descProps(t *testing.T, q queryer, stmt string) map[string][3]string {
	t.Helper()
	cols, rs := rows(t, q, stmt)
	if strings.Join(cols, ",") != "property,property_type,property_value,property_default" {
		t.Fatalf("%s: columns %v", stmt, cols)
	}
	out := map[string][3]string{}
	for _, r := range rs {
		out[r[0]] = [3]string{r[1], r[2], r[3]}
	}
	return out
}

func TestIntegrations(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	ctx := context.Background()
	mustExec(t, c, "CREATE DATABASE idb", "CREATE SCHEMA idb.s")

	t.Run("seed 000 DDL", func(t *testing.T) {
		mustExec(t, c, seedDDL...)
		d := descProps(t, c, "DESC SECURITY INTEGRATION aws_api_gateway_security_integration")
		if d["API_AWS_IAM_USER_ARN"] != [3]string{"String", "arn:aws:iam::000000000000:user/firn", ""} {
			t.Errorf("API_AWS_IAM_USER_ARN %v", d["API_AWS_IAM_USER_ARN"])
		}
		ext := d["API_AWS_EXTERNAL_ID"]
		if ext[0] != "String" || !regexp.MustCompile(`^FIRN_SFCRole=1_[A-Za-z0-9+/]{27}=$`).MatchString(ext[1]) {
			t.Errorf("API_AWS_EXTERNAL_ID %v", ext)
		}
		if d["AWS_ROLE_ARN"][1] != "arn:aws:iam::123456789012:role/snowflake-api-gateway-role" ||
			d["ENABLED"] != [3]string{"Boolean", "true", "false"} || d["AUTH_TYPE"][1] != "AWS_IAM" {
			t.Errorf("DESC %v", d)
		}
		// The external ID is stable across ALTER and renewed by OR REPLACE.
		mustExec(t, c, "ALTER SECURITY INTEGRATION aws_api_gateway_security_integration SET ENABLED = FALSE COMMENT = 'off'")
		d2 := descProps(t, c, "DESC INTEGRATION aws_api_gateway_security_integration")
		if d2["API_AWS_EXTERNAL_ID"] != ext || d2["ENABLED"][1] != "false" || d2["COMMENT"][1] != "off" {
			t.Errorf("after ALTER: %v", d2)
		}
		mustExec(t, c, "ALTER SECURITY INTEGRATION aws_api_gateway_security_integration SET ENABLED = TRUE")

		ea := descProps(t, c, "DESC EXTERNAL ACCESS INTEGRATION aws_api_gateway_external_access_integration")
		want := map[string][3]string{
			"ALLOWED_NETWORK_RULES":                   {"List", "[IDB.S.AWS_API_GATEWAY_NETWORK_RULE]", "[]"},
			"ALLOWED_API_AUTHENTICATION_INTEGRATIONS": {"List", "[]", "[]"},
			"ALLOWED_AUTHENTICATION_SECRETS":          {"List", "[IDB.S.AWS_API_GATEWAY_ACCESS_TOKEN]", "[]"},
			"ENABLED":                                 {"Boolean", "true", "false"},
			"COMMENT":                                 {"String", "Test API Gateway connectivity", ""},
		}
		for k, v := range want {
			if ea[k] != v {
				t.Errorf("EAI %s = %v; want %v", k, ea[k], v)
			}
		}
		_, rs := rows(t, c, "DESC SECRET aws_api_gateway_access_token")
		if rs[0][6] != "CLOUD_PROVIDER_TOKEN" || rs[0][11] != "AWS_API_GATEWAY_SECURITY_INTEGRATION" {
			t.Errorf("DESC SECRET %v", rs)
		}
	})

	t.Run("OAUTH2 integration", func(t *testing.T) {
		mustExec(t, c, `CREATE SECURITY INTEGRATION oauth_int TYPE = API_AUTHENTICATION AUTH_TYPE = OAUTH2 ENABLED = TRUE
			OAUTH_TOKEN_ENDPOINT = 'https://login.example.com/oauth/token' OAUTH_CLIENT_ID = 'my-client'
			OAUTH_CLIENT_SECRET = 'integration-client-secret-xyz' OAUTH_GRANT = CLIENT_CREDENTIALS
			OAUTH_ALLOWED_SCOPES = ('https://graph.example.com/.default', 'read') OAUTH_ACCESS_TOKEN_VALIDITY = 3600`)
		d := descProps(t, c, "DESC SECURITY INTEGRATION oauth_int")
		want := map[string][3]string{
			"ENABLED":                      {"Boolean", "true", "false"},
			"OAUTH_ACCESS_TOKEN_VALIDITY":  {"Integer", "3600", "0"},
			"OAUTH_REFRESH_TOKEN_VALIDITY": {"Integer", "0", "0"},
			"OAUTH_CLIENT_ID":              {"String", "my-client", ""},
			"OAUTH_CLIENT_AUTH_METHOD":     {"String", "CLIENT_SECRET_BASIC", "CLIENT_SECRET_BASIC"},
			"OAUTH_TOKEN_ENDPOINT":         {"String", "https://login.example.com/oauth/token", ""},
			"OAUTH_ALLOWED_SCOPES":         {"List", "[https://graph.example.com/.default, read]", "[]"},
			"OAUTH_GRANT":                  {"String", "CLIENT_CREDENTIALS", ""},
			"AUTH_TYPE":                    {"String", "OAUTH2", ""},
		}
		for k, v := range want {
			if d[k] != v {
				t.Errorf("%s = %v; want %v", k, d[k], v)
			}
		}
		for k, v := range d {
			if strings.Contains(k, "SECRET") || strings.Contains(v[1], "integration-client-secret-xyz") {
				t.Errorf("DESC shows the client secret: %s %v", k, v)
			}
		}
		mustExec(t, c,
			"CREATE SECRET idb.s.oauth_cc TYPE = OAUTH2 API_AUTHENTICATION = oauth_int OAUTH_SCOPES = ('read')",
			"ALTER SECURITY INTEGRATION oauth_int SET OAUTH_CLIENT_SECRET = 'integration-client-secret-2' OAUTH_CLIENT_AUTH_METHOD = CLIENT_SECRET_POST",
			"ALTER SECURITY INTEGRATION oauth_int UNSET COMMENT")
		if d := descProps(t, c, "DESC INTEGRATION oauth_int"); d["OAUTH_CLIENT_AUTH_METHOD"][1] != "CLIENT_SECRET_POST" {
			t.Errorf("after ALTER: %v", d)
		}
	})

	t.Run("SHOW INTEGRATIONS", func(t *testing.T) {
		cols, rs := rows(t, c, "SHOW INTEGRATIONS")
		if strings.Join(cols, ",") != "name,type,category,enabled,comment,created_on" {
			t.Fatalf("columns %v", cols)
		}
		got := map[string]string{}
		for _, r := range rs {
			got[r[0]] = strings.Join(r[1:5], "|")
		}
		want := map[string]string{
			"AWS_API_GATEWAY_SECURITY_INTEGRATION":        "API_AUTHENTICATION|SECURITY|true|off",
			"AWS_API_GATEWAY_EXTERNAL_ACCESS_INTEGRATION": "EXTERNAL_ACCESS|SECURITY|true|Test API Gateway connectivity",
			"OAUTH_INT": "API_AUTHENTICATION|SECURITY|true|NULL",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q; want %q", k, got[k], v)
			}
		}
		if _, rs := rows(t, c, "SHOW SECURITY INTEGRATIONS"); len(rs) != 2 {
			t.Errorf("SHOW SECURITY INTEGRATIONS: %v", rs)
		}
		if _, rs := rows(t, c, "SHOW EXTERNAL ACCESS INTEGRATIONS LIKE 'aws%'"); len(rs) != 1 {
			t.Errorf("SHOW EXTERNAL ACCESS INTEGRATIONS: %v", rs)
		}
	})

	t.Run("external access integration rules", func(t *testing.T) {
		mustExec(t, c,
			"CREATE NETWORK RULE idb.s.ingress_rule MODE = INGRESS TYPE = IPV4 VALUE_LIST = ('10.0.0.1')",
			"CREATE NETWORK RULE idb.s.egress2 MODE = EGRESS TYPE = HOST_PORT VALUE_LIST = ('api.example.com:443')",
		)
		tests := []struct {
			sql  string
			code int
		}{
			{"CREATE EXTERNAL ACCESS INTEGRATION bad1 ALLOWED_NETWORK_RULES = (idb.s.ingress_rule) ENABLED = TRUE", 1423},
			{"CREATE EXTERNAL ACCESS INTEGRATION bad2 ENABLED = TRUE", 2029},
			{"CREATE EXTERNAL ACCESS INTEGRATION bad3 ALLOWED_NETWORK_RULES = (idb.s.nope)", 2003},
			{"CREATE EXTERNAL ACCESS INTEGRATION bad4 ALLOWED_NETWORK_RULES = (idb.s.egress2) ALLOWED_AUTHENTICATION_SECRETS = (idb.s.nope)", 2003},
			{"CREATE EXTERNAL ACCESS INTEGRATION bad5 ALLOWED_NETWORK_RULES = (idb.s.egress2) ALLOWED_API_AUTHENTICATION_INTEGRATIONS = (aws_api_gateway_external_access_integration)", 1423},
			// One namespace for every integration type.
			{"CREATE EXTERNAL ACCESS INTEGRATION oauth_int ALLOWED_NETWORK_RULES = (idb.s.egress2)", 2002},
			{"CREATE SECURITY INTEGRATION bad6 TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM AWS_ROLE_ARN = 'arn:aws:iam::12:role/x'", 1423},
			{"CREATE SECURITY INTEGRATION bad7 TYPE = API_AUTHENTICATION AUTH_TYPE = OAUTH2 OAUTH_TOKEN_ENDPOINT = 'http://idp.example.com/token'", 1423},
			{"CREATE SECURITY INTEGRATION bad8 TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM", 2029},
			{"DESC SECURITY INTEGRATION aws_api_gateway_external_access_integration", 2003},
			{"DROP INTEGRATION nope", 2003},
		}
		for _, tt := range tests {
			_, err := c.ExecContext(ctx, tt.sql)
			sfErr(t, err, tt.code)
		}
		if _, rs := rows(t, c, "SHOW INTEGRATIONS LIKE 'bad%'"); len(rs) != 0 {
			t.Fatalf("a failed CREATE left an integration behind: %v", rs)
		}
		mustExec(t, c,
			`CREATE EXTERNAL ACCESS INTEGRATION eai2 ALLOWED_NETWORK_RULES = (idb.s.egress2, idb.s.aws_api_gateway_network_rule)
			 ALLOWED_API_AUTHENTICATION_INTEGRATIONS = (oauth_int) ALLOWED_AUTHENTICATION_SECRETS = all ENABLED = FALSE`,
		)
		d := descProps(t, c, "DESC INTEGRATION eai2")
		if d["ALLOWED_AUTHENTICATION_SECRETS"][1] != "[all]" || d["ALLOWED_API_AUTHENTICATION_INTEGRATIONS"][1] != "[OAUTH_INT]" ||
			d["ENABLED"][1] != "false" || d["ALLOWED_NETWORK_RULES"][1] != "[IDB.S.EGRESS2, IDB.S.AWS_API_GATEWAY_NETWORK_RULE]" {
			t.Errorf("DESC eai2 %v", d)
		}
		mustExec(t, c,
			"ALTER EXTERNAL ACCESS INTEGRATION eai2 SET ALLOWED_AUTHENTICATION_SECRETS = none ENABLED = TRUE",
			"ALTER EXTERNAL ACCESS INTEGRATION eai2 UNSET ALLOWED_API_AUTHENTICATION_INTEGRATIONS, COMMENT",
		)
		d = descProps(t, c, "DESC INTEGRATION eai2")
		if d["ALLOWED_AUTHENTICATION_SECRETS"][1] != "[]" || d["ALLOWED_API_AUTHENTICATION_INTEGRATIONS"][1] != "[]" || d["ENABLED"][1] != "true" {
			t.Errorf("DESC eai2 after ALTER %v", d)
		}
		_, err := c.ExecContext(ctx, "ALTER EXTERNAL ACCESS INTEGRATION eai2 SET ALLOWED_NETWORK_RULES = (idb.s.ingress_rule)")
		sfErr(t, err, 1423)
		mustExec(t, c, "DROP INTEGRATION eai2", "DROP INTEGRATION IF EXISTS eai2")
	})

	t.Run("privileges", func(t *testing.T) {
		mustExec(t, c,
			"CREATE ROLE int_user", "CREATE ROLE int_none",
			"CREATE USER int_u PASSWORD = 'Int-u-pass-12345'",
			"GRANT ROLE int_user TO USER int_u", "GRANT ROLE int_none TO USER int_u",
			"GRANT USAGE ON INTEGRATION aws_api_gateway_security_integration TO ROLE int_user",
			"GRANT USAGE ON DATABASE idb TO ROLE int_user", "GRANT USAGE ON SCHEMA idb.s TO ROLE int_user",
			"GRANT CREATE SECRET ON SCHEMA idb.s TO ROLE int_user",
		)
		as := func(role string) *connT {
			cn := conn(t, e.open("FIRN", "INT_U", "Int-u-pass-12345", "role", role))
			mustExec(t, cn, "USE SECONDARY ROLES NONE")
			return &connT{t: t, c: cn}
		}
		u, n := as("INT_USER"), as("INT_NONE")
		// CREATE INTEGRATION is ACCOUNTADMIN's by default.
		u.fails("CREATE SECURITY INTEGRATION mine TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/x'", 3001)
		u.fails("CREATE EXTERNAL ACCESS INTEGRATION mine ALLOWED_NETWORK_RULES = (idb.s.egress2)", 3001)
		// USAGE: DESC and SHOW, and the integration can back a secret; not ALTER or DROP.
		if d := descProps(t, u.c, "DESC SECURITY INTEGRATION aws_api_gateway_security_integration"); d["API_AWS_EXTERNAL_ID"][1] == "" {
			t.Errorf("DESC with USAGE: %v", d)
		}
		if _, rs := rows(t, u.c, "SHOW INTEGRATIONS"); len(rs) != 1 {
			t.Errorf("SHOW with USAGE: %v", rs)
		}
		mustExec(t, u.c, "CREATE SECRET idb.s.mine TYPE = CLOUD_PROVIDER_TOKEN API_AUTHENTICATION = aws_api_gateway_security_integration")
		u.fails("ALTER SECURITY INTEGRATION aws_api_gateway_security_integration SET ENABLED = FALSE", 3001)
		u.fails("DROP INTEGRATION aws_api_gateway_security_integration", 3001)
		// No privilege: it does not exist as far as the role can tell.
		n.fails("DESC INTEGRATION aws_api_gateway_security_integration", 2003)
		if _, rs := rows(t, n.c, "SHOW INTEGRATIONS"); len(rs) != 0 {
			t.Errorf("SHOW without privileges: %v", rs)
		}
		// CREATE INTEGRATION granted: the creator's role owns the new integration.
		mustExec(t, c, "GRANT CREATE INTEGRATION ON ACCOUNT TO ROLE int_user")
		mustExec(t, u.c, "CREATE SECURITY INTEGRATION mine TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/x'",
			"ALTER INTEGRATION mine SET COMMENT = 'owned'", "DROP INTEGRATION mine")
	})

	t.Run("rename follows references", func(t *testing.T) {
		mustExec(t, c, "ALTER SECURITY INTEGRATION aws_api_gateway_security_integration RENAME TO aws_int_renamed")
		_, rs := rows(t, c, "DESC SECRET idb.s.aws_api_gateway_access_token")
		if rs[0][11] != "AWS_INT_RENAMED" {
			t.Errorf("secret's integration after rename: %v", rs[0][11])
		}
		if _, rs := rows(t, c, "SHOW GRANTS ON INTEGRATION aws_int_renamed"); len(rs) < 2 {
			t.Errorf("grants after rename: %v", rs)
		}
	})
}
