package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/firn/firn/internal/creds"
)

// TestNetRename checks that renaming a schema or database (or moving a schema to
// another database) carries its network rules and secrets along, and that network
// policies and external access integrations follow them: the policy keeps
// enforcing, SHOW/DESC show the new names, the broker still resolves the secret,
// and a new object taking an old name is not picked up.
func TestNetRename(t *testing.T) {
	e := start(t)
	admin := conn(t, e.admin()) // from 127.0.0.1
	ctx := context.Background()
	const pw = "U-password-123"
	const secretValue = "rename-kept-value"
	mustExec(t, admin,
		"CREATE DATABASE RNDB", "CREATE SCHEMA RNDB.S", "CREATE DATABASE OTHERDB",
		"CREATE NETWORK RULE RNDB.S.LOOP TYPE = IPV4 VALUE_LIST = ('127.0.0.0/8')",
		"CREATE NETWORK RULE RNDB.S.BLOCK3 TYPE = IPV4 VALUE_LIST = ('127.0.0.3')",
		"CREATE NETWORK RULE RNDB.S.EG TYPE = HOST_PORT MODE = EGRESS VALUE_LIST = ('api.example.com')",
		"CREATE SECRET RNDB.S.PW TYPE = PASSWORD USERNAME = 'svc' PASSWORD = '"+secretValue+"'",
		"CREATE EXTERNAL ACCESS INTEGRATION NR_EAI ALLOWED_NETWORK_RULES = (RNDB.S.EG) "+
			"ALLOWED_AUTHENTICATION_SECRETS = (RNDB.S.PW) ENABLED = TRUE",
		"CREATE USER U PASSWORD = '"+pw+"'",
		"CREATE NETWORK POLICY P_REN ALLOWED_NETWORK_RULE_LIST = ('RNDB.S.LOOP') BLOCKED_NETWORK_RULE_LIST = ('RNDB.S.BLOCK3')",
		"ALTER USER U SET NETWORK_POLICY = P_REN",
	)

	// enforced checks U's policy from an allowed and from a blocked address, with
	// fresh logins (the guard's compiled policy must not be stale).
	enforced := func(t *testing.T) {
		t.Helper()
		if err := e.from(t, "127.0.0.2", "U", pw).query("SELECT 1"); err != nil {
			t.Errorf("login from allowed 127.0.0.2: %v", err)
		}
		sfErr(t, e.from(t, "127.0.0.3", "U", pw).query("SELECT 1"), 390422)
	}
	// at checks that the objects are found at db.sch and referenced there.
	at := func(t *testing.T, db, sch string) {
		t.Helper()
		_, rs := rows(t, admin, "SHOW NETWORK RULES IN SCHEMA "+db+"."+sch)
		var names []string
		for _, r := range rs {
			names = append(names, r[1]+"@"+r[2]+"."+r[3])
		}
		want := "BLOCK3@" + db + "." + sch + ",EG@" + db + "." + sch + ",LOOP@" + db + "." + sch
		if strings.Join(names, ",") != want {
			t.Errorf("SHOW NETWORK RULES IN SCHEMA %s.%s = %v; want %s", db, sch, names, want)
		}
		_, rs = rows(t, admin, "DESC NETWORK POLICY P_REN")
		got := map[string]string{}
		for _, r := range rs {
			got[r[0]] = r[1]
		}
		if got["ALLOWED_NETWORK_RULE_LIST"] != `[{"fullyQualifiedRuleName":"`+db+"."+sch+`.LOOP"}]` ||
			got["BLOCKED_NETWORK_RULE_LIST"] != `[{"fullyQualifiedRuleName":"`+db+"."+sch+`.BLOCK3"}]` {
			t.Errorf("DESC NETWORK POLICY P_REN = %v", got)
		}
		d := descProps(t, admin, "DESC EXTERNAL ACCESS INTEGRATION NR_EAI")
		if d["ALLOWED_NETWORK_RULES"][1] != "["+db+"."+sch+".EG]" || d["ALLOWED_AUTHENTICATION_SECRETS"][1] != "["+db+"."+sch+".PW]" {
			t.Errorf("DESC EXTERNAL ACCESS INTEGRATION NR_EAI = %v", d)
		}
		// The broker resolves the secret through the integration at its new name,
		// and the sealed value still opens.
		p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION " + db + "." + sch + ".F"}
		c, err := e.srv.Creds().Resolve(ctx, p, []string{"NR_EAI"}, creds.SecretRef{Database: db, Schema: sch, Name: "PW"})
		if err != nil || c.Username != "svc" || c.Password.Reveal() != secretValue {
			t.Errorf("resolve %s.%s.PW: %v", db, sch, err)
		}
		// A rule in use is still refused a drop at its new name.
		_, err = admin.ExecContext(ctx, "DROP NETWORK RULE "+db+"."+sch+".BLOCK3")
		sfErr(t, err, 1492)
	}

	enforced(t)
	at(t, "RNDB", "S")

	steps := []struct {
		name    string
		stmt    string
		db, sch string
	}{
		{"rename schema", "ALTER SCHEMA RNDB.S RENAME TO S2", "RNDB", "S2"},
		{"rename database", "ALTER DATABASE RNDB RENAME TO RNDB2", "RNDB2", "S2"},
		{"move schema to another database", "ALTER SCHEMA RNDB2.S2 RENAME TO OTHERDB.S3", "OTHERDB", "S3"},
	}
	oldDB, oldSch := "RNDB", "S"
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mustExec(t, admin, st.stmt)
			enforced(t)
			at(t, st.db, st.sch)
			// Nothing is left at the old name, and the broker refuses it.
			if _, err := admin.ExecContext(ctx, "SHOW NETWORK RULES IN SCHEMA "+oldDB+"."+oldSch); err == nil {
				t.Errorf("schema %s.%s still exists", oldDB, oldSch)
			}
			p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION X.Y.F"}
			if _, err := e.srv.Creds().Resolve(ctx, p, []string{"NR_EAI"}, creds.SecretRef{Database: oldDB, Schema: oldSch, Name: "PW"}); err == nil {
				t.Errorf("resolved the secret at its old name %s.%s.PW", oldDB, oldSch)
			}
		})
		oldDB, oldSch = st.db, st.sch
	}

	t.Run("a new rule under an old name is not picked up", func(t *testing.T) {
		// BLOCK3 at the first name now blocks the allowed address; the policy still
		// names the moved rule, so 127.0.0.2 keeps logging in.
		mustExec(t, admin, "CREATE DATABASE RNDB", "CREATE SCHEMA RNDB.S",
			"CREATE NETWORK RULE RNDB.S.BLOCK3 TYPE = IPV4 VALUE_LIST = ('127.0.0.2')",
			"CREATE SECRET RNDB.S.PW TYPE = GENERIC_STRING SECRET_STRING = 'impostor'")
		enforced(t)
		at(t, "OTHERDB", "S3")
		p := creds.Principal{Account: "FIRN", Role: "ACCOUNTADMIN", Workload: "FUNCTION X.Y.F"}
		if _, err := e.srv.Creds().Resolve(ctx, p, []string{"NR_EAI"}, creds.SecretRef{Database: "RNDB", Schema: "S", Name: "PW"}); err == nil {
			t.Error("the integration allows a new secret that took the old name")
		}
	})

	t.Run("refused moves change nothing", func(t *testing.T) {
		mustExec(t, admin, "CREATE SCHEMA OTHERDB.TAKEN", "CREATE ROLE MOVER",
			"GRANT ROLE MOVER TO ROLE ACCOUNTADMIN", "GRANT ROLE MOVER TO USER ADMIN",
			"GRANT OWNERSHIP ON SCHEMA OTHERDB.S3 TO ROLE MOVER COPY CURRENT GRANTS")
		for _, c := range []struct {
			stmt string
			code int
		}{
			{"ALTER SCHEMA OTHERDB.S3 RENAME TO TAKEN", 2002},
			{"ALTER SCHEMA OTHERDB.S3 RENAME TO NODB.S3", 2003},
			{"ALTER DATABASE OTHERDB RENAME TO RNDB", 2002},
		} {
			_, err := admin.ExecContext(ctx, c.stmt)
			sfErr(t, err, c.code)
		}
		// MOVER owns the schema but may not create schemas in RNDB.
		mustExec(t, admin, "USE ROLE MOVER")
		_, err := admin.ExecContext(ctx, "ALTER SCHEMA OTHERDB.S3 RENAME TO RNDB.S3")
		sfErr(t, err, 3001)
		mustExec(t, admin, "USE ROLE ACCOUNTADMIN")
		enforced(t)
		at(t, "OTHERDB", "S3")
	})
}
