package integration

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const userPassword = "Us3r-test-password"

// login tries to log in and returns the error (nil on success).
func login(e *env, account, user, password string, params ...string) error {
	db, err := sql.Open("snowflake", e.dsn(account, user, password, params...))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

var showUsersColumns = []string{"name", "created_on", "login_name", "display_name", "first_name", "last_name", "email",
	"mins_to_unlock", "days_to_expiry", "comment", "disabled", "must_change_password", "snowflake_lock",
	"default_warehouse", "default_namespace", "default_role", "default_secondary_roles", "ext_authn_duo",
	"ext_authn_uid", "mins_to_bypass_mfa", "owner", "last_success_login", "expires_at_time", "locked_until_time",
	"has_password", "has_rsa_public_key", "type", "has_mfa", "has_pat", "has_workload_identity", "is_from_organization_user"}

var descUserProperties = []string{"NAME", "COMMENT", "DISPLAY_NAME", "TYPE", "LOGIN_NAME", "FIRST_NAME", "MIDDLE_NAME",
	"LAST_NAME", "EMAIL", "PASSWORD", "MUST_CHANGE_PASSWORD", "DISABLED", "SNOWFLAKE_LOCK", "SNOWFLAKE_SUPPORT",
	"DAYS_TO_EXPIRY", "MINS_TO_UNLOCK", "DEFAULT_WAREHOUSE", "DEFAULT_NAMESPACE", "DEFAULT_ROLE",
	"DEFAULT_SECONDARY_ROLES", "EXT_AUTHN_DUO", "EXT_AUTHN_UID", "DEFAULT_MFA_METHOD", "HAS_MFA", "HAS_PAT",
	"HAS_WORKLOAD_IDENTITY", "MINS_TO_BYPASS_MFA", "MINS_TO_BYPASS_NETWORK_POLICY", "RSA_PUBLIC_KEY",
	"RSA_PUBLIC_KEY_FP", "RSA_PUBLIC_KEY_LAST_SET_TIME", "RSA_PUBLIC_KEY_2", "RSA_PUBLIC_KEY_2_FP",
	"RSA_PUBLIC_KEY_2_LAST_SET_TIME", "PASSWORD_LAST_SET_TIME", "CUSTOM_LANDING_PAGE_URL",
	"CUSTOM_LANDING_PAGE_URL_FLUSH_NEXT_UI_LOAD", "IS_FROM_ORGANIZATION_USER"}

// describeUser returns DESC USER as property -> value, checking columns and row order.
func describeUser(t *testing.T, q queryer, name string) map[string]string {
	t.Helper()
	cols, rs := rows(t, q, "DESC USER "+name)
	if want := []string{"property", "value", "default", "description"}; !reflect.DeepEqual(cols, want) {
		t.Fatalf("DESC USER columns %v; want %v", cols, want)
	}
	var props []string
	out := map[string]string{}
	for _, r := range rs {
		props = append(props, r[0])
		out[r[0]] = r[1]
	}
	if !reflect.DeepEqual(props, descUserProperties) {
		t.Fatalf("DESC USER properties %v;\nwant %v", props, descUserProperties)
	}
	return out
}

func TestUsersCreateShowDescribeLogin(t *testing.T) {
	e := start(t)
	admin := e.admin()
	mustExec(t, admin,
		"CREATE USER alice PASSWORD = '"+userPassword+"' LOGIN_NAME = 'alice@example.com' DISPLAY_NAME = 'Alice A' "+
			"FIRST_NAME = 'Alice' MIDDLE_NAME = 'B' LAST_NAME = 'Anders' EMAIL = 'alice@example.com' COMMENT = 'analyst' "+
			"DEFAULT_ROLE = PUBLIC DEFAULT_NAMESPACE = 'nodb.public' TIMEZONE = 'UTC'",
		"CREATE USER svc TYPE = SERVICE COMMENT = 'robot'",
		"CREATE USER legacy TYPE = LEGACY_SERVICE PASSWORD = '"+userPassword+"'",
	)
	if _, err := admin.Exec("CREATE USER alice"); err == nil {
		t.Fatal("CREATE USER of an existing user succeeded")
	} else {
		sfErr(t, err, 2002)
	}
	mustExec(t, admin, "CREATE USER IF NOT EXISTS alice")

	cols, rs := rows(t, admin, "SHOW USERS")
	if !reflect.DeepEqual(cols, showUsersColumns) {
		t.Fatalf("SHOW USERS columns %v", cols)
	}
	byName := map[string][]string{}
	for _, r := range rs {
		byName[r[0]] = r
	}
	a := byName["ALICE"]
	if a == nil {
		t.Fatalf("ALICE missing from SHOW USERS: %v", rs)
	}
	for col, want := range map[string]string{
		"login_name": "ALICE@EXAMPLE.COM", "display_name": "Alice A", "first_name": "Alice", "email": "alice@example.com",
		"has_password": "true", "type": "PERSON", "owner": "ACCOUNTADMIN", "default_secondary_roles": `["ALL"]`,
		"default_namespace": "NODB.PUBLIC", "has_rsa_public_key": "false", "disabled": "false",
	} {
		if got := a[column(t, cols, col)]; got != want {
			t.Errorf("SHOW USERS ALICE %s = %q; want %q", col, got, want)
		}
	}
	if got := byName["SVC"][column(t, cols, "type")]; got != "SERVICE" {
		t.Errorf("SVC type %q", got)
	}
	if got := byName["SVC"][column(t, cols, "has_password")]; got != "false" {
		t.Errorf("SVC has_password %q", got)
	}
	_, terse := rows(t, admin, "SHOW TERSE USERS LIKE 'ALI%'")
	if len(terse) != 1 || terse[0][0] != "ALICE" {
		t.Errorf("SHOW TERSE USERS LIKE: %v", terse)
	}

	d := describeUser(t, admin, "alice")
	for prop, want := range map[string]string{
		"NAME": "ALICE", "PASSWORD": "********", "LOGIN_NAME": "ALICE@EXAMPLE.COM", "MIDDLE_NAME": "B",
		"RSA_PUBLIC_KEY": "null", "DEFAULT_SECONDARY_ROLES": `["ALL"]`, "TYPE": "PERSON", "DAYS_TO_EXPIRY": "null",
	} {
		if d[prop] != want {
			t.Errorf("DESC USER ALICE %s = %q; want %q", prop, d[prop], want)
		}
	}
	if d["PASSWORD_LAST_SET_TIME"] == "null" {
		t.Error("PASSWORD_LAST_SET_TIME not set")
	}
	if d := describeUser(t, admin, "svc"); d["PASSWORD"] != "null" || d["TYPE"] != "SERVICE" {
		t.Errorf("DESC USER SVC: PASSWORD %q TYPE %q", d["PASSWORD"], d["TYPE"])
	}

	// The login name logs in, case-insensitively; DEFAULT_SECONDARY_ROLES = ('ALL') applies.
	db := e.open("FIRN", "Alice@Example.com", userPassword)
	if got := one(t, db, "SELECT CURRENT_USER()"); got != "ALICE" {
		t.Errorf("CURRENT_USER() = %q", got)
	}
	if got := one(t, db, "SELECT CURRENT_SECONDARY_ROLES()"); !strings.Contains(got, `"value":"ALL"`) {
		t.Errorf("CURRENT_SECONDARY_ROLES() = %s; want ALL", got)
	}
	// A user may describe itself but not others.
	describeUser(t, db, "alice")
	_, err := db.Exec("DESC USER svc")
	sfErr(t, err, 3001)
	e.open("FIRN", "legacy", userPassword)

	// SERVICE users can have no password: refused at CREATE and ALTER, and at login.
	_, err = admin.Exec("CREATE USER svc2 TYPE = SERVICE PASSWORD = '" + userPassword + "'")
	sfErr(t, err, 1423)
	_, err = admin.Exec("ALTER USER svc SET PASSWORD = '" + userPassword + "'")
	sfErr(t, err, 1423)
	sfErr(t, login(e, "FIRN", "svc", userPassword), 390100)
	// Turning a PERSON into a SERVICE user removes its password at once.
	mustExec(t, admin, "CREATE USER p2s PASSWORD = '"+userPassword+"'", "ALTER USER p2s SET TYPE = SERVICE")
	sfErr(t, login(e, "FIRN", "p2s", userPassword), 390100)
	if d := describeUser(t, admin, "p2s"); d["PASSWORD"] != "null" {
		t.Errorf("PASSWORD after TYPE = SERVICE: %q", d["PASSWORD"])
	}
}

func TestUsersPrivileges(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "USE ROLE SYSADMIN")
	_, err := c.ExecContext(context.Background(), "CREATE USER bob")
	sfErr(t, err, 3001)
	mustExec(t, c, "USE ROLE USERADMIN", "CREATE USER bob PASSWORD = '"+userPassword+"'")
	cols, rs := rows(t, c, "SHOW USERS LIKE 'BOB'")
	if len(rs) != 1 || rs[0][column(t, cols, "owner")] != "USERADMIN" {
		t.Fatalf("SHOW USERS LIKE 'BOB': %v", rs)
	}
	mustExec(t, c, "USE ROLE ACCOUNTADMIN", "CREATE USER carol", "USE ROLE USERADMIN")
	// USERADMIN does not own CAROL: it sees the name only and cannot change it.
	_, rs = rows(t, c, "SHOW USERS LIKE 'CAROL'")
	if len(rs) != 1 || rs[0][1] != "NULL" || rs[0][column(t, cols, "owner")] != "NULL" {
		t.Errorf("non-owner SHOW USERS row %v", rs)
	}
	for _, stmt := range []string{"ALTER USER carol SET COMMENT = 'x'", "DROP USER carol", "DESC USER carol",
		"CREATE OR REPLACE USER carol"} {
		_, err := c.ExecContext(context.Background(), stmt)
		if se := sfErr(t, err, 3001); !strings.Contains(se.Message, "Insufficient privileges to operate on user 'CAROL'.") {
			t.Errorf("%s: %s", stmt, se.Message)
		}
	}
	for _, stmt := range []string{"ALTER USER nobody SET COMMENT = 'x'", "DROP USER nobody", "DESC USER nobody"} {
		_, err := c.ExecContext(context.Background(), stmt)
		if se := sfErr(t, err, 2003); !strings.Contains(se.Message, "User 'NOBODY' does not exist or not authorized.") {
			t.Errorf("%s: %s", stmt, se.Message)
		}
	}
	mustExec(t, c, "ALTER USER IF EXISTS nobody SET COMMENT = 'x'", "DROP USER IF EXISTS nobody")

	// A user may change its own defaults but not its own security properties.
	bob := conn(t, e.open("FIRN", "bob", userPassword))
	mustExec(t, bob, "ALTER USER SET DEFAULT_WAREHOUSE = wh TIMEZONE = 'UTC'", "ALTER USER bob UNSET DEFAULT_WAREHOUSE")
	for _, stmt := range []string{"ALTER USER bob SET DISABLED = FALSE", "ALTER USER SET PASSWORD = 'An0ther-password'",
		"ALTER USER bob SET MINS_TO_UNLOCK = 0"} {
		_, err := bob.ExecContext(context.Background(), stmt)
		sfErr(t, err, 3001)
	}
	_, err = bob.ExecContext(context.Background(), "CREATE USER mallory")
	sfErr(t, err, 3001)
}

func TestUsersDisabledAndDropped(t *testing.T) {
	e := start(t)
	admin := e.admin()
	mustExec(t, admin, "CREATE USER dave PASSWORD = '"+userPassword+"'", "CREATE USER erin PASSWORD = '"+userPassword+"'")
	dave := conn(t, e.open("FIRN", "dave", userPassword))
	if one(t, dave, "SELECT 1") != "1" {
		t.Fatal("SELECT 1")
	}
	mustExec(t, admin, "ALTER USER dave SET DISABLED = TRUE")
	if _, err := dave.ExecContext(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("a disabled user's open session still runs queries")
	}
	sfErr(t, login(e, "FIRN", "dave", userPassword), 390101)
	mustExec(t, admin, "ALTER USER dave SET DISABLED = FALSE")
	e.open("FIRN", "dave", userPassword)

	erin := conn(t, e.open("FIRN", "erin", userPassword))
	mustExec(t, admin, "DROP USER erin")
	if _, err := erin.ExecContext(context.Background(), "SELECT 1"); err == nil {
		t.Fatal("a dropped user's open session still runs queries")
	}
	sfErr(t, login(e, "FIRN", "erin", userPassword), 390100)
	// A new user of the same name is a new identity: the old password is gone.
	mustExec(t, admin, "CREATE USER erin PASSWORD = 'N3w-erin-password'")
	sfErr(t, login(e, "FIRN", "erin", userPassword), 390100)
}

func TestUsersLockoutUnlockAndExpiry(t *testing.T) {
	e := start(t)
	admin := e.admin()
	mustExec(t, admin, "CREATE USER frank PASSWORD = '"+userPassword+"'")
	for range 5 {
		sfErr(t, login(e, "FIRN", "frank", "wrong-password"), 390100)
	}
	sfErr(t, login(e, "FIRN", "frank", userPassword), 390102)
	cols, rs := rows(t, admin, "SHOW USERS LIKE 'FRANK'")
	if got := rs[0][column(t, cols, "mins_to_unlock")]; got != "15" {
		t.Errorf("mins_to_unlock = %q; want 15", got)
	}
	mustExec(t, admin, "ALTER USER frank SET MINS_TO_UNLOCK = 0")
	e.open("FIRN", "frank", userPassword)

	mustExec(t, admin, "ALTER USER frank SET MINS_TO_UNLOCK = 10")
	sfErr(t, login(e, "FIRN", "frank", userPassword), 390102)
	e.clock.Advance(11 * time.Minute)
	e.open("FIRN", "frank", userPassword)

	mustExec(t, admin, "ALTER USER frank SET DAYS_TO_EXPIRY = 1")
	e.open("FIRN", "frank", userPassword)
	e.clock.Advance(25 * time.Hour)
	sfErr(t, login(e, "FIRN", "frank", userPassword), 390106)
	admin = e.admin() // the earlier session expired with the clock
	mustExec(t, admin, "ALTER USER frank UNSET DAYS_TO_EXPIRY")
	e.open("FIRN", "frank", userPassword)
}

func TestUsersRenameAndAtomicity(t *testing.T) {
	e := start(t)
	admin := e.admin()
	mustExec(t, admin, "CREATE USER gina PASSWORD = '"+userPassword+"'", "ALTER USER gina RENAME TO gail")
	describeUser(t, admin, "gail")
	_, err := admin.Exec("DESC USER gina")
	sfErr(t, err, 2003)
	// The login name stays what it was.
	if got := one(t, e.open("FIRN", "gina", userPassword), "SELECT CURRENT_USER()"); got != "GAIL" {
		t.Errorf("CURRENT_USER() = %q", got)
	}
	mustExec(t, admin, "CREATE USER hal")
	_, err = admin.Exec("ALTER USER hal RENAME TO gail")
	sfErr(t, err, 2002)

	// A statement with one bad property leaves nothing behind.
	for _, stmt := range []string{
		"CREATE USER ivy PASSWORD = '" + userPassword + "' LOGIN_NAME = 'gina'", // login name taken
		"CREATE USER ivy TYPE = SERVICE FIRST_NAME = 'Ivy'",                     // forbidden for SERVICE
		"CREATE USER ivy COMMENT = 'x' RSA_PUBLIC_KEY = 'bm90IGEga2V5'",         // bad key
		"CREATE USER ivy COMMENT = 'x' DEFAULT_SECONDARY_ROLES = ('R1')",        // bad value
		"CREATE USER ivy COMMENT = 'x' PASSWORD = 'weak'",                       // password policy
	} {
		if _, err := admin.Exec(stmt); err == nil {
			t.Fatalf("%s succeeded", stmt)
		}
		if _, rs := rows(t, admin, "SHOW USERS LIKE 'IVY'"); len(rs) != 0 {
			t.Fatalf("%s left a user: %v", stmt, rs)
		}
	}
	mustExec(t, admin, "ALTER USER hal SET COMMENT = 'kept'")
	if _, err := admin.Exec("ALTER USER hal SET COMMENT = 'lost' TYPE = SERVICE PASSWORD = '" + userPassword + "'"); err == nil {
		t.Fatal("ALTER with a forbidden property succeeded")
	}
	if d := describeUser(t, admin, "hal"); d["COMMENT"] != "kept" || d["TYPE"] != "PERSON" {
		t.Errorf("after a failed ALTER: COMMENT %q TYPE %q", d["COMMENT"], d["TYPE"])
	}
}

// opensslPublicKey makes a key pair with the seed's openssl commands and returns the
// public key body (PEM without BEGIN/END lines) and openssl's fingerprint.
func opensslPublicKey(t *testing.T) (body, fp string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	run := func(stdin []byte, args ...string) []byte {
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return out
	}
	priv := filepath.Join(dir, "rsa_key.p8")
	if err := os.WriteFile(priv, run(run(nil, "genrsa", "2048"), "pkcs8", "-topk8", "-nocrypt"), 0o600); err != nil {
		t.Fatal(err)
	}
	pubPEM := run(nil, "rsa", "-in", priv, "-pubout")
	pub := filepath.Join(dir, "rsa_key.pub")
	if err := os.WriteFile(pub, pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	der := run(nil, "rsa", "-pubin", "-in", pub, "-outform", "DER")
	fp = strings.TrimSpace(string(run(run(der, "dgst", "-sha256", "-binary"), "enc", "-base64")))
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(pubPEM)), "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n"), fp
}

func TestUsersRSAPublicKeys(t *testing.T) {
	e := start(t)
	admin := e.admin()
	body, fp := opensslPublicKey(t)
	body2, fp2 := opensslPublicKey(t)
	mustExec(t, admin, "CREATE USER NEW_USER TYPE = SERVICE RSA_PUBLIC_KEY = '"+body+"'")
	d := describeUser(t, admin, "new_user")
	if d["RSA_PUBLIC_KEY_FP"] != "SHA256:"+fp {
		t.Errorf("RSA_PUBLIC_KEY_FP = %q; openssl says SHA256:%s", d["RSA_PUBLIC_KEY_FP"], fp)
	}
	if d["RSA_PUBLIC_KEY"] != strings.ReplaceAll(body, "\n", "") || d["RSA_PUBLIC_KEY_LAST_SET_TIME"] == "null" {
		t.Errorf("RSA_PUBLIC_KEY %q set %q", d["RSA_PUBLIC_KEY"], d["RSA_PUBLIC_KEY_LAST_SET_TIME"])
	}
	// Rotation: fill slot 2, then UNSET slot 1.
	mustExec(t, admin, "ALTER USER new_user SET RSA_PUBLIC_KEY_2 = '"+body2+"'", "ALTER USER new_user UNSET RSA_PUBLIC_KEY")
	d = describeUser(t, admin, "new_user")
	if d["RSA_PUBLIC_KEY"] != "null" || d["RSA_PUBLIC_KEY_FP"] != "null" || d["RSA_PUBLIC_KEY_2_FP"] != "SHA256:"+fp2 {
		t.Errorf("after rotation: %q %q %q", d["RSA_PUBLIC_KEY"], d["RSA_PUBLIC_KEY_FP"], d["RSA_PUBLIC_KEY_2_FP"])
	}
	cols, rs := rows(t, admin, "SHOW USERS LIKE 'NEW_USER'")
	if got := rs[0][column(t, cols, "has_rsa_public_key")]; got != "true" {
		t.Errorf("has_rsa_public_key = %q", got)
	}
	_, err := admin.Exec("ALTER USER new_user SET RSA_PUBLIC_KEY = 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'")
	sfErr(t, err, 1423)
}
