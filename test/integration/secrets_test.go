package integration

import (
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/server"
	"github.com/firn/firn/internal/store"
)

// logBuf collects a server's log output for inspection.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// inDir runs the server on dir and logs everything (debug included) to logs.
func inDir(dir string, logs *logBuf) option {
	return func(c *server.Config) {
		c.DataDir = dir
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// openSecret reads a secret's record and decrypts it with the server's keyring.
func openSecret(t *testing.T, srv *server.Server, db, schema, name string) (*catalog.SecretValue, error) {
	t.Helper()
	var sec *catalog.Secret
	if err := srv.Store().View(context.Background(), func(tx store.Tx) error {
		var err error
		sec, err = catalog.GetSecret(context.Background(), tx, "FIRN", db, schema, name)
		return err
	}); err != nil {
		t.Fatalf("read secret %s: %v", name, err)
	}
	return sec.Open(srv.Keyring(), "FIRN")
}

// Plaintexts every subtest uses; none may ever be found in the data dir or the logs.
const (
	pwSecret        = "Pw-plaintext-7f3a9c"
	pwSecret2       = "Pw-rotated-plaintext-55e1"
	genericSecret   = "Generic-plaintext-b41d"
	refreshToken    = "Refresh-token-plaintext-c0ffee"
	clientSecret    = "Client-secret-plaintext-9912"
	secUserPassword = "User-Passw0rd-plaintext-31"
)

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	logs := &logBuf{}
	ctx := context.Background()

	t.Run("lifecycle", func(t *testing.T) {
		e := start(t, inDir(dir, logs))
		c := conn(t, e.admin())
		mustExec(t, c,
			"CREATE DATABASE sdb",
			"CREATE SCHEMA sdb.s1",
			"CREATE SECURITY INTEGRATION oauth_int TYPE = API_AUTHENTICATION AUTH_TYPE = OAUTH2 ENABLED = TRUE "+
				"OAUTH_TOKEN_ENDPOINT = 'https://idp.example.com/token' OAUTH_CLIENT_ID = 'cid' OAUTH_CLIENT_SECRET = '"+clientSecret+"' "+
				"OAUTH_GRANT = 'CLIENT_CREDENTIALS' OAUTH_ALLOWED_SCOPES = ('read', 'write')",
			"CREATE SECURITY INTEGRATION aws_int TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/r'",
			"CREATE SECRET pw TYPE = PASSWORD USERNAME = 'svc' PASSWORD = '"+pwSecret+"' COMMENT = 'db login'",
			"CREATE SECRET gen TYPE = GENERIC_STRING SECRET_STRING = $$"+genericSecret+"$$",
			"CREATE SECRET oc TYPE = OAUTH2 API_AUTHENTICATION = oauth_int OAUTH_SCOPES = ('read')",
			"CREATE SECRET oa TYPE = OAUTH2 API_AUTHENTICATION = oauth_int OAUTH_REFRESH_TOKEN = '"+refreshToken+"' OAUTH_REFRESH_TOKEN_EXPIRY_TIME = '2030-01-02 03:04:05'",
			"CREATE SECRET cpt TYPE = CLOUD_PROVIDER_TOKEN API_AUTHENTICATION = aws_int",
			"CREATE SECRET sym TYPE = SYMMETRIC_KEY ALGORITHM = GENERIC",
			"CREATE USER sec_user PASSWORD = '"+secUserPassword+"'",
			"ALTER USER sec_user SET PASSWORD = '"+secUserPassword+"'",
		)

		t.Run("SHOW SECRETS", func(t *testing.T) {
			cols, rs := rows(t, c, "SHOW SECRETS IN SCHEMA sdb.s1")
			want := []string{"created_on", "name", "schema_name", "database_name", "owner", "comment", "secret_type", "oauth_scopes", "owner_role_type"}
			if strings.Join(cols, ",") != strings.Join(want, ",") {
				t.Fatalf("columns %v; want %v", cols, want)
			}
			got := map[string]string{}
			for _, r := range rs {
				got[r[1]] = strings.Join(r[2:], "|")
			}
			wantRows := map[string]string{
				"CPT": "S1|SDB|ACCOUNTADMIN||CLOUD_PROVIDER_TOKEN|NULL|ROLE",
				"GEN": "S1|SDB|ACCOUNTADMIN||GENERIC_STRING|NULL|ROLE",
				"OA":  "S1|SDB|ACCOUNTADMIN||OAUTH2|[]|ROLE",
				"OC":  "S1|SDB|ACCOUNTADMIN||OAUTH2|[read]|ROLE",
				"PW":  "S1|SDB|ACCOUNTADMIN|db login|PASSWORD|NULL|ROLE",
				"SYM": "S1|SDB|ACCOUNTADMIN||SYMMETRIC_KEY|NULL|ROLE",
			}
			for n, w := range wantRows {
				if got[n] != w {
					t.Errorf("%s: %q; want %q", n, got[n], w)
				}
			}
			if len(got) != len(wantRows) {
				t.Errorf("rows %v", got)
			}
			if _, rs := rows(t, c, "SHOW SECRETS LIKE 'o%' IN ACCOUNT"); len(rs) != 2 {
				t.Errorf("LIKE 'o%%' rows %v", rs)
			}
		})

		t.Run("DESC SECRET", func(t *testing.T) {
			wantCols := []string{"created_on", "name", "schema_name", "database_name", "owner", "comment", "secret_type", "username",
				"oauth_access_token_expiry_time", "oauth_refresh_token_expiry_time", "oauth_scopes", "integration_name", "algorithm",
				"key_length", "workload_identity_federation_issuer", "workload_identity_federation_subject"}
			tests := []struct {
				name string
				want map[string]string
			}{
				{"sdb.s1.pw", map[string]string{"secret_type": "PASSWORD", "username": "svc", "integration_name": "NULL", "comment": "db login"}},
				{"sdb.s1.gen", map[string]string{"secret_type": "GENERIC_STRING", "username": "NULL"}},
				{"sdb.s1.oc", map[string]string{"secret_type": "OAUTH2", "oauth_scopes": "[read]", "integration_name": "OAUTH_INT"}},
				{"sdb.s1.cpt", map[string]string{"secret_type": "CLOUD_PROVIDER_TOKEN", "integration_name": "AWS_INT"}},
				{"sdb.s1.sym", map[string]string{"secret_type": "SYMMETRIC_KEY", "algorithm": "GENERIC", "key_length": "256"}},
			}
			for _, tt := range tests {
				cols, rs := rows(t, c, "DESC SECRET "+tt.name)
				if strings.Join(cols, ",") != strings.Join(wantCols, ",") || len(rs) != 1 {
					t.Fatalf("%s: cols %v rows %v", tt.name, cols, rs)
				}
				for k, v := range tt.want {
					if got := rs[0][column(t, cols, k)]; got != v {
						t.Errorf("%s %s = %q; want %q", tt.name, k, got, v)
					}
				}
			}
			_, rs := rows(t, c, "DESC SECRET sdb.s1.oa")
			if exp, err := time.Parse(time.RFC3339, rs[0][9]); err != nil || !exp.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Errorf("refresh token expiry %q (%v)", rs[0][9], err)
			}
		})

		t.Run("values are sealed and decrypt", func(t *testing.T) {
			v, err := openSecret(t, e.srv, "SDB", "S1", "PW")
			if err != nil || v.Password != pwSecret {
				t.Fatalf("open pw: %v", err)
			}
			v, err = openSecret(t, e.srv, "SDB", "S1", "GEN")
			if err != nil || v.SecretString != genericSecret {
				t.Fatalf("open gen: %v", err)
			}
			v, err = openSecret(t, e.srv, "SDB", "S1", "SYM")
			if err != nil || len(v.SymmetricKey) != 32 {
				t.Fatalf("open sym: %v", err)
			}
			mustExec(t, c, "ALTER SECRET sdb.s1.pw SET PASSWORD = '"+pwSecret2+"' COMMENT = 'rotated'")
			v, err = openSecret(t, e.srv, "SDB", "S1", "PW")
			if err != nil || v.Password != pwSecret2 {
				t.Fatalf("open altered pw: %v", err)
			}
		})

		t.Run("errors", func(t *testing.T) {
			tests := []struct {
				sql  string
				code int
			}{
				{"CREATE SECRET sdb.s1.pw TYPE = PASSWORD USERNAME = 'a' PASSWORD = 'b'", 2002},
				{"CREATE SECRET sdb.s1.x TYPE = PASSWORD USERNAME = 'a'", 2029},
				{"CREATE SECRET sdb.s1.x TYPE = GENERIC_STRING PASSWORD = 'b'", 1423},
				{"CREATE SECRET sdb.s1.x TYPE = CLOUD_PROVIDER_TOKEN API_AUTHENTICATION = oauth_int", 1423},
				{"CREATE SECRET sdb.s1.x TYPE = OAUTH2 API_AUTHENTICATION = oauth_int OAUTH_SCOPES = ('admin')", 1423},
				{"CREATE SECRET sdb.s1.x TYPE = OAUTH2 API_AUTHENTICATION = nope", 2003},
				{"CREATE SECRET nodb.s1.x TYPE = GENERIC_STRING SECRET_STRING = 'v'", 2003},
				{"DESC SECRET sdb.s1.missing", 2003},
				{"ALTER SECRET sdb.s1.gen SET USERNAME = 'x'", 1423},
				{"DROP SECRET sdb.s1.missing", 2003},
			}
			for _, tt := range tests {
				_, err := c.ExecContext(ctx, tt.sql)
				sfErr(t, err, tt.code)
			}
			mustExec(t, c, "CREATE SECRET IF NOT EXISTS sdb.s1.pw TYPE = GENERIC_STRING SECRET_STRING = 'ignored'",
				"DROP SECRET IF EXISTS sdb.s1.missing")
			if got := one(t, c, "SELECT 1"); got != "1" {
				t.Fatal(got)
			}
		})

		t.Run("rename and replace", func(t *testing.T) {
			mustExec(t, c, "CREATE SECRET sdb.s1.tmp TYPE = GENERIC_STRING SECRET_STRING = '"+genericSecret+"'",
				"ALTER SECRET sdb.s1.tmp RENAME TO tmp2")
			v, err := openSecret(t, e.srv, "SDB", "S1", "TMP2")
			if err != nil || v.SecretString != genericSecret {
				t.Fatalf("renamed secret: %v", err)
			}
			mustExec(t, c, "CREATE OR REPLACE SECRET sdb.s1.tmp2 TYPE = SYMMETRIC_KEY", "DROP SECRET sdb.s1.tmp2")
			_, err = c.ExecContext(ctx, "DESC SECRET sdb.s1.tmp2")
			sfErr(t, err, 2003)
		})

		t.Run("privileges", func(t *testing.T) {
			mustExec(t, c,
				"CREATE ROLE r_usage", "CREATE ROLE r_read", "CREATE ROLE r_create",
				"CREATE USER sec_u PASSWORD = 'Sec-u-pass-12345'",
				"GRANT ROLE r_usage TO USER sec_u", "GRANT ROLE r_read TO USER sec_u", "GRANT ROLE r_create TO USER sec_u",
				"GRANT USAGE ON DATABASE sdb TO ROLE r_usage", "GRANT USAGE ON SCHEMA sdb.s1 TO ROLE r_usage",
				"GRANT USAGE ON DATABASE sdb TO ROLE r_read", "GRANT USAGE ON SCHEMA sdb.s1 TO ROLE r_read",
				"GRANT USAGE ON DATABASE sdb TO ROLE r_create", "GRANT USAGE ON SCHEMA sdb.s1 TO ROLE r_create",
				"GRANT USAGE ON SECRET sdb.s1.gen TO ROLE r_usage",
				"GRANT READ ON SECRET sdb.s1.gen TO ROLE r_read",
			)
			asRole := func(role string) *connT {
				cn := conn(t, e.open("FIRN", "SEC_U", "Sec-u-pass-12345", "role", role))
				mustExec(t, cn, "USE SECONDARY ROLES NONE")
				return &connT{t: t, c: cn}
			}
			u, r, cr := asRole("R_USAGE"), asRole("R_READ"), asRole("R_CREATE")
			// USAGE: DESC and SHOW, but not ALTER or DROP.
			if _, rs := rows(t, u.c, "DESC SECRET sdb.s1.gen"); len(rs) != 1 {
				t.Fatalf("DESC with USAGE: %v", rs)
			}
			if _, rs := rows(t, u.c, "SHOW SECRETS IN SCHEMA sdb.s1"); len(rs) != 1 || rs[0][1] != "GEN" {
				t.Fatalf("SHOW with USAGE: %v", rs)
			}
			u.fails("ALTER SECRET sdb.s1.gen SET COMMENT = 'x'", 3001)
			u.fails("DROP SECRET sdb.s1.gen", 3001)
			u.fails("DESC SECRET sdb.s1.pw", 2003)
			// USAGE on the secret is not enough without USAGE on its schema.
			mustExec(t, c, "REVOKE USAGE ON SCHEMA sdb.s1 FROM ROLE r_usage")
			u.fails("DESC SECRET sdb.s1.gen", 2003)
			mustExec(t, c, "GRANT USAGE ON SCHEMA sdb.s1 TO ROLE r_usage")
			// READ: listed (it holds a privilege) but cannot DESC.
			r.fails("DESC SECRET sdb.s1.gen", 2003)
			if _, rs := rows(t, r.c, "SHOW SECRETS IN SCHEMA sdb.s1"); len(rs) != 1 {
				t.Fatalf("SHOW with READ: %v", rs)
			}
			// CREATE SECRET on the schema is needed to create one.
			cr.fails("CREATE SECRET sdb.s1.mine TYPE = GENERIC_STRING SECRET_STRING = 'v'", 3001)
			mustExec(t, c, "GRANT CREATE SECRET ON SCHEMA sdb.s1 TO ROLE r_create")
			mustExec(t, cr.c, "CREATE SECRET sdb.s1.mine TYPE = GENERIC_STRING SECRET_STRING = 'v'",
				"ALTER SECRET sdb.s1.mine SET COMMENT = 'mine'", "DROP SECRET sdb.s1.mine")
			// A secret referencing an integration needs USAGE on it.
			cr.fails("CREATE SECRET sdb.s1.c2 TYPE = CLOUD_PROVIDER_TOKEN API_AUTHENTICATION = aws_int", 2003)
			// MODIFY allows ALTER without ownership.
			mustExec(t, c, "GRANT MODIFY ON SECRET sdb.s1.gen TO ROLE r_usage")
			mustExec(t, u.c, "ALTER SECRET sdb.s1.gen SET COMMENT = 'modified'")
			u.fails("ALTER SECRET sdb.s1.gen RENAME TO gen2", 3001)
			// Future grants and ownership transfer work like any schema object's.
			mustExec(t, c, "GRANT USAGE ON FUTURE SECRETS IN SCHEMA sdb.s1 TO ROLE r_read",
				"CREATE SECRET sdb.s1.fut TYPE = GENERIC_STRING SECRET_STRING = 'f'")
			if _, rs := rows(t, r.c, "DESC SECRET sdb.s1.fut"); len(rs) != 1 {
				t.Fatalf("DESC through a future grant: %v", rs)
			}
			if _, rs := rows(t, c, "SHOW GRANTS ON SECRET sdb.s1.fut"); len(rs) != 2 {
				t.Errorf("SHOW GRANTS ON SECRET: %v", rs)
			}
			mustExec(t, c, "GRANT OWNERSHIP ON SECRET sdb.s1.fut TO ROLE r_usage")
			mustExec(t, u.c, "ALTER SECRET sdb.s1.fut RENAME TO fut2", "DROP SECRET sdb.s1.fut2")
		})

		t.Run("history is redacted", func(t *testing.T) {
			_, rs := rows(t, c, `SELECT query_text FROM snowflake.account_usage.query_history
				WHERE query_text ILIKE '%secret%' OR query_text ILIKE '%password%'`)
			redacted := 0
			for _, r := range rs {
				for _, p := range []string{pwSecret, pwSecret2, genericSecret, refreshToken, clientSecret, secUserPassword} {
					if strings.Contains(r[0], p) {
						t.Errorf("history holds a secret value: %q", r[0])
					}
				}
				if strings.Contains(r[0], "'***'") {
					redacted++
				}
			}
			if redacted < 5 {
				t.Errorf("%d redacted statements in history; want at least 5: %v", redacted, rs)
			}
		})

		t.Run("rotate master key", func(t *testing.T) {
			before, err := os.ReadFile(filepath.Join(dir, "master.key"))
			if err != nil {
				t.Fatal(err)
			}
			mk, _, err := secrets.GenerateMasterKey()
			if err != nil {
				t.Fatal(err)
			}
			if err := e.srv.RotateMasterKey(ctx, mk); err != nil {
				t.Fatalf("RotateMasterKey: %v", err)
			}
			after, err := os.ReadFile(filepath.Join(dir, "master.key"))
			if err != nil || bytes.Equal(before, after) {
				t.Fatalf("key file not replaced: %v", err)
			}
			if e.srv.MasterKeyID() != mk.ID() {
				t.Fatal("keyring not switched")
			}
			if v, err := openSecret(t, e.srv, "SDB", "S1", "PW"); err != nil || v.Password != pwSecret2 {
				t.Fatalf("open after rotation: %v", err)
			}
		})
	})

	t.Run("restart keeps secrets decryptable", func(t *testing.T) {
		e := start(t, inDir(dir, logs))
		v, err := openSecret(t, e.srv, "SDB", "S1", "PW")
		if err != nil || v.Password != pwSecret2 {
			t.Fatalf("open after restart: %v", err)
		}
		c := conn(t, e.admin())
		if _, rs := rows(t, c, "SHOW SECRETS IN DATABASE sdb"); len(rs) != 6 {
			t.Fatalf("secrets after restart: %v", rs)
		}
		mustExec(t, c, "ALTER SECRET sdb.s1.gen SET SECRET_STRING = '"+genericSecret+"'")
	})

	t.Run("wrong or missing master key refuses to start", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.key")
		mk, _, err := secrets.GenerateMasterKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := mk.WriteFile(other); err != nil {
			t.Fatal(err)
		}
		tests := []struct{ name, file, want string }{
			{"other key", other, "do not match the master key"},
			{"missing key file", filepath.Join(t.TempDir(), "absent.key"), "is missing but the data dir holds encrypted data"},
		}
		for _, tt := range tests {
			_, err := server.New(ctx, server.Config{DataDir: dir, AdminPassword: adminPassword, MasterKeyFile: tt.file,
				Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: server.New = %v; want %q", tt.name, err, tt.want)
			}
		}
		if _, err := os.Stat(tests[1].file); err == nil {
			t.Error("a new key file was generated over encrypted data")
		}
	})

	t.Run("tampered ciphertext is a clear error", func(t *testing.T) {
		e := start(t, inDir(dir, logs))
		err := e.srv.Store().Update(ctx, func(tx store.Tx) error {
			sec, err := catalog.GetSecret(ctx, tx, "FIRN", "SDB", "S1", "PW")
			if err != nil {
				return err
			}
			sec.Sealed[len(sec.Sealed)-1] ^= 1
			return catalog.PutSecret(ctx, tx, "FIRN", sec)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := openSecret(t, e.srv, "SDB", "S1", "PW"); err == nil || !strings.Contains(err.Error(), "tampered") {
			t.Fatalf("open tampered: %v", err)
		}
		c := conn(t, e.admin())
		_, err = c.ExecContext(ctx, "ALTER SECRET sdb.s1.pw SET PASSWORD = 'new-value-x'")
		se := sfErr(t, err, 603)
		if !strings.Contains(se.Message, "failed authentication") {
			t.Fatalf("message %q", se.Message)
		}
	})

	t.Run("no plaintext in the data dir or the logs", func(t *testing.T) {
		plain := []string{pwSecret, pwSecret2, genericSecret, refreshToken, clientSecret, secUserPassword}
		redactedSeen := false
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, p := range plain {
				if bytes.Contains(b, []byte(p)) {
					t.Errorf("%s contains the plaintext %q", path, p)
				}
			}
			redactedSeen = redactedSeen || bytes.Contains(b, []byte("PASSWORD = '***'"))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !redactedSeen {
			t.Error("no redacted statement found in the data dir: was history written where the scan looks?")
		}
		out := logs.String()
		if !strings.Contains(out, "master key generated") || !strings.Contains(out, filepath.Join(dir, "master.key")) {
			t.Errorf("the generated master key's path was not logged")
		}
		for _, p := range plain {
			if strings.Contains(out, p) {
				t.Errorf("logs contain the plaintext %q", p)
			}
		}
		st, err := os.Stat(filepath.Join(dir, "master.key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("master.key mode: %v %v", st, err)
		}
	})
}

// connT is a connection that asserts failures.
type connT struct {
	t *testing.T
	c queryer
}

func (c *connT) fails(sql string, code int) {
	c.t.Helper()
	_, err := c.c.ExecContext(context.Background(), sql)
	sfErr(c.t, err, code)
}

// TestSecretsProcess runs `firn serve` with the key and IAM-user flags, kills it with
// SIGKILL and restarts it, with the key file and then with FIRN_MASTER_KEY: stored
// secrets stay usable (ALTER ... SET PASSWORD must open the old value first).
func TestSecretsProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "keys", "firn.key")
	flags := []string{"--master-key-file", keyFile, "--aws-iam-user-arn", "arn:aws:iam::111122223333:user/firn-sts"}
	open := func(p *proc) queryer {
		db, err := sql.Open("snowflake", p.dsn("FIRN", "ADMIN", adminPassword))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return conn(t, db)
	}

	p := startProc(t, dir, flags...)
	c := open(p)
	mustExec(t, c, "CREATE DATABASE pdb",
		"CREATE SECRET pdb.public.pw TYPE = PASSWORD USERNAME = 'u' PASSWORD = 'proc-plaintext-1'",
		"CREATE SECURITY INTEGRATION pi TYPE = API_AUTHENTICATION AUTH_TYPE = AWS_IAM AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/r'")
	if d := descProps(t, c, "DESC INTEGRATION pi"); d["API_AWS_IAM_USER_ARN"][1] != "arn:aws:iam::111122223333:user/firn-sts" {
		t.Errorf("API_AWS_IAM_USER_ARN %v", d["API_AWS_IAM_USER_ARN"])
	}
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); err == nil {
		t.Error("a default master.key was created although --master-key-file was given")
	}
	p.kill()

	p = startProc(t, dir, flags...)
	mustExec(t, open(p), "ALTER SECRET pdb.public.pw SET PASSWORD = 'proc-plaintext-2'")
	p.kill()

	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(secrets.MasterKeyEnv, strings.TrimSpace(string(key)))
	p = startProc(t, dir, "--master-key-file", filepath.Join(t.TempDir(), "unused.key"))
	mustExec(t, open(p), "ALTER SECRET pdb.public.pw SET PASSWORD = 'proc-plaintext-3'")
	p.kill()
}
