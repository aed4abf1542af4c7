package exec

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// editOf parses an ALTER USER statement and prepares its edit.
func editOf(t *testing.T, stmt string) (*userEdit, error) {
	t.Helper()
	st, err := sql.Parse(stmt)
	if err != nil {
		t.Fatalf("parse %q: %v", stmt, err)
	}
	a, ok := st.(*sql.Alter)
	if !ok {
		t.Fatalf("%q parsed as %T", stmt, st)
	}
	return prepareUserEdit(a.Set, a.Unset)
}

func testKey(t *testing.T, bits int) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func TestUserEditValidation(t *testing.T) {
	key := testKey(t, 2048)
	small := testKey(t, 1024)
	for _, tc := range []struct {
		stmt string
		code string // "" = accepted
	}{
		{"ALTER USER u SET COMMENT = 'x' DISPLAY_NAME = 'X Y' EMAIL = 'x@example.com'", ""},
		{"ALTER USER u SET PASSWORD = 'Str0ngPassword'", ""},
		{"ALTER USER u SET PASSWORD = 'short1A'", "003002"},
		{"ALTER USER u SET PASSWORD = 'alllowercase1'", "003002"},
		{"ALTER USER u SET PASSWORD = 'NoDigitsHere'", "003002"},
		{"ALTER USER u SET PASSWORD = Str0ngPassword", "001423"},
		{"ALTER USER u SET DISABLED = TRUE", ""},
		{"ALTER USER u SET DISABLED = 'maybe'", "001423"},
		{"ALTER USER u SET DAYS_TO_EXPIRY = 30", ""},
		{"ALTER USER u SET DAYS_TO_EXPIRY = -1", "001423"},
		{"ALTER USER u SET MINS_TO_UNLOCK = 0", ""},
		{"ALTER USER u SET MINS_TO_UNLOCK = 'soon'", "001423"},
		{"ALTER USER u SET DEFAULT_SECONDARY_ROLES = ('ALL')", ""},
		{"ALTER USER u SET DEFAULT_SECONDARY_ROLES = ()", ""},
		{"ALTER USER u SET DEFAULT_SECONDARY_ROLES = ('R1', 'R2')", "001423"},
		{"ALTER USER u SET DEFAULT_NAMESPACE = db.sch", ""},
		{"ALTER USER u SET DEFAULT_NAMESPACE = a.b.c", "001423"},
		{"ALTER USER u SET DEFAULT_ROLE = r1 DEFAULT_WAREHOUSE = 'wh'", ""},
		{"ALTER USER u SET TYPE = SERVICE", ""},
		{"ALTER USER u SET TYPE = ROBOT", "001423"},
		{"ALTER USER u SET RSA_PUBLIC_KEY = '" + key + "'", ""},
		{"ALTER USER u SET RSA_PUBLIC_KEY_2 = '" + small + "'", "001423"},
		{"ALTER USER u SET RSA_PUBLIC_KEY = 'bm90IGEga2V5'", "001423"},
		{"ALTER USER u SET TIMEZONE = 'UTC' QUERY_TAG = 'q'", ""},
		{"ALTER USER u SET SESSION_IDLE_TIMEOUT_MINS = 10", "001423"}, // account-level only
		{"ALTER USER u SET NO_SUCH_PROPERTY = 1", "001423"},
		{"ALTER USER u SET COMMENT = 'a' COMMENT = 'b'", "001423"},
		{"ALTER USER u UNSET RSA_PUBLIC_KEY, COMMENT, TIMEZONE", ""},
		{"ALTER USER u UNSET NAME", "001423"},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			_, err := editOf(t, tc.stmt)
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code != "" && err == nil:
				t.Fatalf("accepted; want %s", tc.code)
			case tc.code != "" && sferr.As(err).Code != tc.code:
				t.Fatalf("error %v; want code %s", err, tc.code)
			}
		})
	}
}

func TestUserEditApply(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := testKey(t, 2048)
	pub, err := auth.ParseRSAPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	fp := auth.Fingerprint(pub)

	apply := func(t *testing.T, u *catalog.User, stmt string) error {
		t.Helper()
		ed, err := editOf(t, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		return ed.apply(u, now)
	}

	t.Run("properties", func(t *testing.T) {
		u := &catalog.User{Name: "U", LoginName: "U", LockedUntil: now.Unix() + 600, FailedLogins: 3}
		err := apply(t, u, "ALTER USER u SET LOGIN_NAME = 'jdoe' DEFAULT_NAMESPACE = 'analytics.\"Raw\"' "+
			"DEFAULT_SECONDARY_ROLES = () DAYS_TO_EXPIRY = 2 MINS_TO_UNLOCK = 0 RSA_PUBLIC_KEY_2 = '"+key+"' "+
			"RSA_PUBLIC_KEY_2_FP = '"+fp+"' TIMEZONE = 'UTC'")
		if err != nil {
			t.Fatal(err)
		}
		if u.LoginName != "JDOE" || u.DefaultNamespace != "ANALYTICS.Raw" || len(u.DefaultSecondaryRoles) != 0 {
			t.Errorf("login %q namespace %q secondary %v", u.LoginName, u.DefaultNamespace, u.DefaultSecondaryRoles)
		}
		if u.ExpiresAt != now.Unix()+2*86400 || u.LockedUntil != 0 || u.FailedLogins != 0 {
			t.Errorf("expires %d locked %d failures %d", u.ExpiresAt, u.LockedUntil, u.FailedLogins)
		}
		if u.RSAPublicKey2 != key || u.RSAPublicKey2FP != fp || u.RSAPublicKey2Set != now.Unix() || u.RSAPublicKey != "" {
			t.Errorf("key slot 2 = %q %q %d", u.RSAPublicKey2, u.RSAPublicKey2FP, u.RSAPublicKey2Set)
		}
		if u.Params["TIMEZONE"] != "UTC" {
			t.Errorf("params %v", u.Params)
		}
		if err := apply(t, u, "ALTER USER u UNSET RSA_PUBLIC_KEY_2, DEFAULT_SECONDARY_ROLES, TIMEZONE"); err != nil {
			t.Fatal(err)
		}
		if u.RSAPublicKey2 != "" || u.RSAPublicKey2FP != "" || u.RSAPublicKey2Set != 0 {
			t.Error("UNSET RSA_PUBLIC_KEY_2 left the key")
		}
		if len(u.DefaultSecondaryRoles) != 1 || u.DefaultSecondaryRoles[0] != "ALL" || len(u.Params) != 0 {
			t.Errorf("secondary %v params %v", u.DefaultSecondaryRoles, u.Params)
		}
	})

	t.Run("fingerprint mismatch", func(t *testing.T) {
		u := &catalog.User{Name: "U"}
		err := apply(t, u, "ALTER USER u SET RSA_PUBLIC_KEY = '"+key+"' RSA_PUBLIC_KEY_FP = 'SHA256:nope'")
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("service refuses forbidden properties", func(t *testing.T) {
		for _, stmt := range []string{
			"ALTER USER u SET PASSWORD = 'Str0ngPassword'",
			"ALTER USER u SET FIRST_NAME = 'A'",
			"ALTER USER u SET MUST_CHANGE_PASSWORD = TRUE",
			"ALTER USER u SET MINS_TO_BYPASS_MFA = 5",
			"ALTER USER u SET DISABLE_MFA = TRUE",
			"ALTER USER u SET TYPE = PERSON PASSWORD = 'Str0ngPassword'", // allowed: becomes PERSON
		} {
			u := &catalog.User{Name: "U", Type: userService}
			err := apply(t, u, stmt)
			if strings.Contains(stmt, "TYPE = PERSON") {
				if err != nil {
					t.Errorf("%s: %v", stmt, err)
				}
				continue
			}
			if err == nil || sferr.As(err).Code != "001423" {
				t.Errorf("%s: got %v; want 001423", stmt, err)
			}
		}
	})

	t.Run("becoming service drops the password", func(t *testing.T) {
		u := &catalog.User{Name: "U", PasswordHash: "$argon2id$x", PasswordSet: 1, MustChangePassword: true, FirstName: "A"}
		if err := apply(t, u, "ALTER USER u SET TYPE = SERVICE"); err != nil {
			t.Fatal(err)
		}
		if u.PasswordHash != "" || u.MustChangePassword || u.FirstName != "" || u.Type != userService {
			t.Fatalf("after TYPE = SERVICE: %+v", u)
		}
	})

	t.Run("legacy service keeps a password", func(t *testing.T) {
		u := &catalog.User{Name: "U"}
		if err := apply(t, u, "ALTER USER u SET TYPE = LEGACY_SERVICE PASSWORD = 'Str0ngPassword'"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := auth.VerifyPassword(u.PasswordHash, "Str0ngPassword"); !ok {
			t.Fatal("password not stored as a verifiable hash")
		}
	})
}

func TestSelfAlterable(t *testing.T) {
	for stmt, want := range map[string]bool{
		"ALTER USER SET DEFAULT_ROLE = r":                         true,
		"ALTER USER SET TIMEZONE = 'UTC' DEFAULT_WAREHOUSE = w":   true,
		"ALTER USER SET PASSWORD = 'Str0ngPassword'":              false,
		"ALTER USER SET DISABLED = FALSE":                         false,
		"ALTER USER SET NETWORK_POLICY = p":                       false,
		"ALTER USER UNSET DEFAULT_NAMESPACE":                      true,
		"ALTER USER UNSET RSA_PUBLIC_KEY":                         false,
		"ALTER USER SET MINS_TO_UNLOCK = 0":                       false,
		"ALTER USER SET DEFAULT_SECONDARY_ROLES = ('ALL')":        true,
		"ALTER USER SET DAYS_TO_EXPIRY = 400 DEFAULT_ROLE = 'r2'": false,
	} {
		ed, err := editOf(t, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if ed.selfOnly != want {
			t.Errorf("%s: selfOnly = %v; want %v", stmt, ed.selfOnly, want)
		}
	}
}
