package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/auth"
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

// oauthKeyRecord reads account's OAuth signing-key record (there is one per account).
func oauthKeyRecord(t *testing.T, srv *server.Server, account string) *store.Record {
	t.Helper()
	var recs []*store.Record
	if err := srv.Store().View(context.Background(), func(tx store.Tx) error {
		var err error
		recs, err = tx.List(context.Background(), account, auth.KindOAuthKey, "*")
		return err
	}); err != nil || len(recs) != 1 {
		t.Fatalf("OAuth signing key records of %s: %d, %v; want 1", account, len(recs), err)
	}
	return recs[0]
}

// oauthSigningKey opens account's sealed OAuth signing key with the server's keyring
// and checks that it is the key that signed tok.
func oauthSigningKey(t *testing.T, srv *server.Server, account, tok string) []byte {
	t.Helper()
	key, legacy, err := auth.OpenOAuthKeyRecord(srv.Keyring(), account, oauthKeyRecord(t, srv, account).Data)
	if err != nil || legacy {
		t.Fatalf("open the OAuth signing key of %s: legacy %v, %v", account, legacy, err)
	}
	if _, err := jwt.NewParser(jwt.WithoutClaimsValidation()).Parse(tok, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
		t.Fatalf("the unsealed key did not sign the token: %v", err)
	}
	return bytes.Clone(key)
}

// byteForms are the encodings under which key bytes could be written to disk.
func byteForms(key []byte) [][]byte {
	return [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawURLEncoding.EncodeToString(key)),
		[]byte(hex.EncodeToString(key)), []byte(strings.ToUpper(hex.EncodeToString(key)))}
}

// scanDir fails t for every file under dir that contains one of forms, and returns
// the names of the files it read.
func scanDir(t *testing.T, dir string, what string, forms [][]byte) map[string]bool {
	t.Helper()
	read := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err // directories, and the admin socket
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		read[d.Name()] = len(b) > 0
		for _, f := range forms {
			if bytes.Contains(b, f) {
				t.Errorf("%s contains %s", path, what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return read
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
	// The OAuth token minted in the lifecycle, the sealed record of its signing key
	// and the key's encodings, which must never be found on disk or in the logs.
	var oauthTok string
	var oauthSealed []byte
	var oauthKeyForms [][]byte

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

		t.Run("OAuth signing key is sealed", func(t *testing.T) {
			tok, err := e.srv.MintOAuthToken(ctx, "FIRN", "ADMIN", "", "", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			db, err := oauthPing(t, e, "FIRN", "ADMIN", tok)
			if err != nil {
				t.Fatalf("OAuth login: %v", err)
			}
			if got := one(t, db, "SELECT CURRENT_USER()"); got != "ADMIN" {
				t.Fatalf("CURRENT_USER() = %q", got)
			}
			oauthTok = tok
			oauthKeyForms = byteForms(oauthSigningKey(t, e.srv, "FIRN", tok))
			oauthSealed = bytes.Clone(oauthKeyRecord(t, e.srv, "FIRN").Data)
			// The server is running, so the key's insert is still in the WAL.
			read := scanDir(t, dir, "the OAuth signing key", oauthKeyForms)
			if !read["firn.db-wal"] {
				t.Errorf("no non-empty WAL was scanned (files: %v)", read)
			}
			var rec map[string]json.RawMessage
			if err := json.Unmarshal(oauthSealed, &rec); err != nil || len(rec) != 1 || rec["sealed"] == nil {
				t.Errorf("record %s: want only a sealed field (%v)", oauthSealed, err)
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
			// Only data keys are re-wrapped: the sealed OAuth key is untouched and
			// its tokens keep working.
			if !bytes.Equal(oauthKeyRecord(t, e.srv, "FIRN").Data, oauthSealed) {
				t.Fatal("master key rotation rewrote the sealed OAuth signing key")
			}
			if _, err := oauthPing(t, e, "FIRN", "ADMIN", oauthTok); err != nil {
				t.Fatalf("OAuth login after rotation: %v", err)
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
		// A new process unseals the OAuth key under the rotated master key.
		if _, err := oauthPing(t, e, "FIRN", "ADMIN", oauthTok); err != nil {
			t.Fatalf("OAuth login after restart: %v", err)
		}
		if tok, err := e.srv.MintOAuthToken(ctx, "FIRN", "ADMIN", "", "", time.Minute); err != nil {
			t.Fatal(err)
		} else if _, err := oauthPing(t, e, "FIRN", "ADMIN", tok); err != nil {
			t.Fatalf("OAuth login with a token minted after restart: %v", err)
		}
		if !bytes.Equal(oauthKeyRecord(t, e.srv, "FIRN").Data, oauthSealed) {
			t.Fatal("the sealed OAuth signing key changed")
		}
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

		// A tampered OAuth signing key refuses the token as invalid (390303), and
		// minting fails rather than replacing the key.
		oauthKey := oauthKeyRecord(t, e.srv, "FIRN").Key
		err = e.srv.Store().Update(ctx, func(tx store.Tx) error {
			r, err := tx.Get(ctx, oauthKey)
			if err != nil {
				return err
			}
			var rec struct{ Sealed []byte }
			if err := json.Unmarshal(r.Data, &rec); err != nil {
				return err
			}
			rec.Sealed[len(rec.Sealed)-1] ^= 1
			if r.Data, err = json.Marshal(map[string][]byte{"sealed": rec.Sealed}); err != nil {
				return err
			}
			return tx.Put(ctx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = oauthPing(t, e, "FIRN", "ADMIN", oauthTok)
		sfErr(t, err, 390303)
		if _, err := e.srv.MintOAuthToken(ctx, "FIRN", "ADMIN", "", "", time.Minute); !errors.Is(err, auth.ErrOAuthKeySealed) {
			t.Fatalf("mint with a tampered key: %v; want %v", err, auth.ErrOAuthKeySealed)
		}
		if !strings.Contains(logs.String(), "signing key cannot be unsealed") {
			t.Error("the refused login's cause was not logged")
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
			for _, f := range oauthKeyForms {
				if bytes.Contains(b, f) {
					t.Errorf("%s contains the OAuth signing key", path)
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
		if len(oauthKeyForms) == 0 {
			t.Error("no OAuth signing key was minted")
		}
		for _, f := range oauthKeyForms {
			if strings.Contains(out, string(f)) {
				t.Error("logs contain the OAuth signing key")
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

// TestOAuthKeyLegacySealedAtStart stores an OAuth signing key in plaintext, as firn
// did before keys were sealed: tokens it signed log in, and the next start re-seals
// the same key, after which they still do.
func TestOAuthKeyLegacySealedAtStart(t *testing.T) {
	dir := t.TempDir()
	logs := &logBuf{}
	ctx := context.Background()
	legacyKey := bytes.Repeat([]byte{0x3c, 0xa5, 0x17, 0xe9}, 8)
	var tok string
	t.Run("legacy record verifies", func(t *testing.T) {
		e := start(t, inDir(dir, logs))
		b, err := json.Marshal(map[string][]byte{"key": legacyKey})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Store().Update(ctx, func(tx store.Tx) error {
			return tx.Insert(ctx, &store.Record{Key: store.Key{Account: "FIRN", Kind: auth.KindOAuthKey, Name: "CURRENT"}, Data: b})
		}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		tok, err = jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "firn", "sub": "ADMIN", "aud": []string{auth.OAuthAudience}, "acct": "FIRN",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "legacy",
		}).SignedString(legacyKey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := oauthPing(t, e, "FIRN", "ADMIN", tok); err != nil {
			t.Fatalf("login with a legacy key: %v", err)
		}
	})
	t.Run("start re-seals it", func(t *testing.T) {
		e := start(t, inDir(dir, logs))
		if !strings.Contains(logs.String(), `msg="sealed a plaintext OAuth signing key" account=FIRN`) {
			t.Error("the re-sealing was not logged")
		}
		rec := oauthKeyRecord(t, e.srv, "FIRN").Data
		for _, f := range byteForms(legacyKey) {
			if bytes.Contains(rec, f) {
				t.Fatalf("the re-sealed record holds the key: %s", rec)
			}
		}
		if key := oauthSigningKey(t, e.srv, "FIRN", tok); !bytes.Equal(key, legacyKey) {
			t.Fatal("re-sealing changed the key")
		}
		if _, err := oauthPing(t, e, "FIRN", "ADMIN", tok); err != nil {
			t.Fatalf("login after re-sealing: %v", err)
		}
	})
}
