package exec

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// SECRET: CREATE [OR REPLACE] SECRET [IF NOT EXISTS], ALTER SECRET (SET / UNSET
// COMMENT / RENAME TO), DROP SECRET, SHOW SECRETS, DESC SECRET. Secret material is
// sealed with the account's data key before the statement's transaction and never
// appears in results, errors, logs or history.

func init() {
	creators["SECRET"] = (*Engine).createSecret
	alterers["SECRET"] = (*Engine).alterSecret
	droppers["SECRET"] = (*Engine).dropSecret
	describers["SECRET"] = (*Engine).describeSecret
	showers["SECRETS"] = (*Engine).showSecrets
}

// secretProps are the properties each secret type accepts (besides TYPE, COMMENT).
var secretProps = map[string][]string{
	catalog.SecretPassword:           {"USERNAME", "PASSWORD"},
	catalog.SecretGenericString:      {"SECRET_STRING"},
	catalog.SecretOAuth2:             {"API_AUTHENTICATION", "OAUTH_SCOPES", "OAUTH_REFRESH_TOKEN", "OAUTH_REFRESH_TOKEN_EXPIRY_TIME"},
	catalog.SecretCloudProviderToken: {"API_AUTHENTICATION", "ENABLED"},
	catalog.SecretSymmetricKey:       {"ALGORITHM"},
}

// secretPath resolves a secret name against the session's database and schema.
func secretPath(s *session.Session, n sql.ObjectName, verb string) (db, schema, name string, err error) {
	p := n.Parts
	switch len(p) {
	case 1:
		if s.Database == "" || s.Schema == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		return s.Database, s.Schema, p[0].Name, nil
	case 2:
		if s.Database == "" {
			return "", "", "", noCurrentDatabase(verb)
		}
		return s.Database, p[0].Name, p[1].Name, nil
	case 3:
		return p[0].Name, p[1].Name, p[2].Name, nil
	}
	return "", "", "", sferr.DoesNotExist("Secret", n.String())
}

func secretMissing(db, schema, name string) *sferr.Error {
	return sferr.DoesNotExist("Secret", db+"."+schema+"."+name)
}

// missingOption is the error for a required property left out.
func missingOption(names ...string) *sferr.Error {
	return sferr.Compilation("002029", "42601", fmt.Sprintf("Missing option(s): [%s].", strings.Join(names, ", ")))
}

// secretValueInvalid reports a bad value of a secret-bearing property without
// quoting it.
func secretValueInvalid(prop string) *sferr.Error {
	return sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value for property '%s': a string literal is required", prop))
}

// secretSchema checks that db.schema exists and returns the schema's owner.
func secretSchema(ctx context.Context, tx store.Tx, account, db, schema string) (string, error) {
	if _, err := catalog.GetDatabase(ctx, tx, account, db); err != nil {
		if catalog.IsNotFound(err) {
			return "", sferr.DoesNotExist("Database", db)
		}
		return "", err
	}
	sc, err := catalog.GetSchema(ctx, tx, account, db, schema)
	if err != nil {
		if catalog.IsNotFound(err) {
			return "", sferr.DoesNotExist("Schema", db+"."+schema)
		}
		return "", err
	}
	return sc.Meta.Owner, nil
}

// containerUsable reports whether the roles may use a secret's database and schema
// (USAGE or ownership on both), which DESC and references from an EAI require.
func containerUsable(ctx context.Context, tx store.Tx, account string, r *authz.Active, db, schema string) (bool, error) {
	d, err := catalog.GetDatabase(ctx, tx, account, db)
	if err != nil {
		return false, err
	}
	sc, err := catalog.GetSchema(ctx, tx, account, db, schema)
	if err != nil {
		return false, err
	}
	return r.Allowed(catalog.Object{Kind: "DATABASE", Name: db}, d.Meta.Owner, catalog.PrivUsage) &&
		r.Allowed(catalog.Object{Kind: "SCHEMA", Database: db, Name: schema}, sc.Meta.Owner, catalog.PrivUsage), nil
}

// stringList reads ( 'a', 'b' ) (or a single string) as a list of strings.
func stringList(name string, v sql.Value) ([]string, error) {
	switch v.Kind {
	case sql.ValString:
		return []string{v.Str}, nil
	case sql.ValList:
		out := make([]string, 0, len(v.List))
		for _, x := range v.List {
			if x.Kind != sql.ValString {
				return nil, invalidValue(name, v)
			}
			out = append(out, x.Str)
		}
		return out, nil
	}
	return nil, invalidValue(name, v)
}

// parseSecretTime reads a timestamp string such as '2026-01-02 15:04:05'.
func parseSecretTime(name string, v sql.Value) (time.Time, error) {
	if v.Kind != sql.ValString {
		return time.Time{}, invalidValue(name, v)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -07:00", "2006-01-02 15:04:05.999999999 -0700",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(v.Str)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalidValue(name, v)
}

// secretEdit is the validated outcome of CREATE / ALTER SET properties.
type secretEdit struct {
	typ         string
	comment     *string
	username    *string
	apiAuth     *string
	scopes      []string
	scopesSet   bool
	expiry      *time.Time
	algorithm   *string
	enabled     *bool
	password    *string
	secretStr   *string
	refreshTok  *string
	hasMaterial bool
}

// parseSecretProps validates props for a secret of type typ ("" on CREATE means
// TYPE must be among the props).
func parseSecretProps(typ string, props []sql.Property, creating bool) (*secretEdit, error) {
	ed := &secretEdit{typ: typ}
	seen := map[string]bool{}
	for _, p := range props {
		if seen[p.Name] {
			return nil, sferr.Compilation("001003", "42000", fmt.Sprintf("duplicate option '%s'", p.Name))
		}
		seen[p.Name] = true
		if p.Name == "TYPE" {
			if !creating {
				return nil, invalidProperty(p.Name, "SECRET")
			}
			t, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			t = strings.ToUpper(t)
			if _, ok := secretProps[t]; !ok {
				return nil, invalidValue(p.Name, p.Value)
			}
			ed.typ = t
		}
	}
	if ed.typ == "" {
		return nil, missingOption("TYPE")
	}
	allowed := secretProps[ed.typ]
	for _, p := range props {
		switch p.Name {
		case "TYPE":
			continue
		case "COMMENT":
			c, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			ed.comment = &c
			continue
		}
		if !slices.Contains(allowed, p.Name) {
			return nil, invalidProperty(p.Name, "SECRET")
		}
		switch p.Name {
		case "PASSWORD", "SECRET_STRING", "OAUTH_REFRESH_TOKEN":
			if p.Value.Kind != sql.ValString {
				return nil, secretValueInvalid(p.Name)
			}
			v := p.Value.Str
			switch p.Name {
			case "PASSWORD":
				ed.password = &v
			case "SECRET_STRING":
				ed.secretStr = &v
			default:
				ed.refreshTok = &v
			}
			ed.hasMaterial = true
		case "USERNAME":
			if p.Value.Kind != sql.ValString {
				return nil, invalidValue(p.Name, p.Value)
			}
			v := p.Value.Str
			ed.username = &v
		case "API_AUTHENTICATION":
			if p.Value.Kind != sql.ValIdent || len(p.Value.Ident.Parts) != 1 {
				return nil, invalidValue(p.Name, p.Value)
			}
			v := p.Value.Ident.Parts[0].Name
			ed.apiAuth = &v
		case "OAUTH_SCOPES":
			l, err := stringList(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			ed.scopes, ed.scopesSet = l, true
		case "OAUTH_REFRESH_TOKEN_EXPIRY_TIME":
			t, err := parseSecretTime(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			ed.expiry = &t
		case "ALGORITHM":
			a, err := propString(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			if !strings.EqualFold(a, "GENERIC") {
				return nil, invalidValue(p.Name, p.Value)
			}
			a = "GENERIC"
			ed.algorithm = &a
		case "ENABLED":
			b, err := propBool(p.Name, p.Value)
			if err != nil {
				return nil, err
			}
			ed.enabled = &b
		}
	}
	if creating {
		var missing []string
		switch ed.typ {
		case catalog.SecretPassword:
			if ed.username == nil {
				missing = append(missing, "USERNAME")
			}
			if ed.password == nil {
				missing = append(missing, "PASSWORD")
			}
		case catalog.SecretGenericString:
			if ed.secretStr == nil {
				missing = append(missing, "SECRET_STRING")
			}
		case catalog.SecretOAuth2, catalog.SecretCloudProviderToken:
			if ed.apiAuth == nil {
				missing = append(missing, "API_AUTHENTICATION")
			}
		}
		if len(missing) > 0 {
			return nil, missingOption(missing...)
		}
		if ed.typ == catalog.SecretOAuth2 && ed.scopesSet && ed.refreshTok != nil {
			return nil, sferr.Compilation("001423", "22023", "OAUTH_SCOPES cannot be combined with OAUTH_REFRESH_TOKEN: a secret uses either the client credentials or the authorization code flow")
		}
	}
	return ed, nil
}

// apply sets the non-secret fields of sec and merges new material into v.
func (ed *secretEdit) apply(sec *catalog.Secret, v *catalog.SecretValue) {
	sec.Type = ed.typ
	if ed.comment != nil {
		sec.Comment = *ed.comment
	}
	if ed.username != nil {
		sec.Username = *ed.username
	}
	if ed.apiAuth != nil {
		sec.APIAuthentication = *ed.apiAuth
	}
	if ed.scopesSet {
		sec.OAuthScopes = ed.scopes
	}
	if ed.expiry != nil {
		sec.OAuthRefreshTokenExpiry = *ed.expiry
	}
	if ed.algorithm != nil {
		sec.Algorithm = *ed.algorithm
	}
	if ed.enabled != nil {
		sec.Disabled = !*ed.enabled
	}
	if ed.password != nil {
		v.Password = *ed.password
	}
	if ed.secretStr != nil {
		v.SecretString = *ed.secretStr
	}
	if ed.refreshTok != nil {
		v.OAuthRefreshToken = *ed.refreshTok
	}
}

// checkSecretIntegration checks the API_AUTHENTICATION integration of an OAUTH2 or
// CLOUD_PROVIDER_TOKEN secret: it exists, has the right auth type, the roles may
// use it, and OAUTH_SCOPES are among its allowed scopes.
func checkSecretIntegration(ctx context.Context, tx store.Tx, account string, r *authz.Active, sec *catalog.Secret) error {
	if sec.APIAuthentication == "" {
		return nil
	}
	in, err := catalog.GetIntegration(ctx, tx, account, sec.APIAuthentication)
	if catalog.IsNotFound(err) {
		return sferr.DoesNotExist("Integration", sec.APIAuthentication)
	}
	if err != nil {
		return err
	}
	if !r.Allowed(in.Object(), in.Meta.Owner, catalog.PrivUsage) {
		return sferr.DoesNotExist("Integration", sec.APIAuthentication)
	}
	want := catalog.AuthTypeOAuth2
	if sec.Type == catalog.SecretCloudProviderToken {
		want = catalog.AuthTypeAWSIAM
	}
	if in.Type != catalog.IntegrationAPIAuthentication || in.AuthType != want {
		return sferr.Compilation("001423", "22023", fmt.Sprintf("Integration '%s' is not an API_AUTHENTICATION integration with AUTH_TYPE = %s, required by a secret of TYPE = %s.",
			in.Name, want, sec.Type))
	}
	if sec.Type == catalog.SecretOAuth2 && len(in.OAuthAllowedScopes) > 0 {
		for _, sc := range sec.OAuthScopes {
			if !slices.Contains(in.OAuthAllowedScopes, sc) {
				return sferr.Compilation("001423", "22023", fmt.Sprintf("OAUTH_SCOPES '%s' is not in the OAUTH_ALLOWED_SCOPES of integration '%s'.", sc, in.Name))
			}
		}
	}
	return nil
}

func (e *Engine) needKeyring() error {
	if e.cfg.Keyring == nil {
		e.log.Error("no keyring configured: secret values cannot be stored")
		return sferr.Internal()
	}
	return nil
}

// sealSecret encrypts v into sec (no-op when v holds nothing). It runs before the
// statement's transaction, since the keyring may persist a new data key.
func (e *Engine) sealSecret(s *session.Session, sec *catalog.Secret, v *catalog.SecretValue) error {
	if v.Password == "" && v.SecretString == "" && v.OAuthRefreshToken == "" && len(v.SymmetricKey) == 0 {
		sec.Sealed = nil
		return nil
	}
	if err := e.needKeyring(); err != nil {
		return err
	}
	if err := sec.Seal(e.cfg.Keyring, s.Account, v); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

func (e *Engine) createSecret(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	db, schema, name, err := secretPath(s, st.Name, "CREATE SECRET")
	if err != nil {
		return nil, err
	}
	ed, err := parseSecretProps("", st.Props, true)
	if err != nil {
		return nil, err
	}
	uid, err := catalog.NewUID()
	if err != nil {
		return nil, err
	}
	sec := &catalog.Secret{Database: db, Schema: schema, Name: name, UID: uid}
	val := &catalog.SecretValue{}
	ed.apply(sec, val)
	if sec.Type == catalog.SecretSymmetricKey {
		sec.Algorithm, sec.KeyLength = "GENERIC", 256
		val.SymmetricKey = make([]byte, 32)
		if _, err := rand.Read(val.SymmetricKey); err != nil {
			return nil, fmt.Errorf("exec: symmetric key: %w", err)
		}
	}
	err = e.sealSecret(s, sec, val)
	clear(val.SymmetricKey)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		schOwner, err := secretSchema(ctx, tx, s.Account, db, schema)
		if err != nil {
			return err
		}
		if !r.CanCreate(catalog.Object{Kind: "SCHEMA", Database: db, Name: schema}, schOwner, "CREATE SECRET") {
			return sferr.InsufficientPrivileges(fmt.Sprintf("schema '%s'", schema))
		}
		old, err := catalog.GetSecret(ctx, tx, s.Account, db, schema, name)
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if !authz.Owns(r.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("secret '%s'", name))
			}
			if err := catalog.DeleteSecret(ctx, tx, s.Account, old); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if err := checkSecretIntegration(ctx, tx, s.Account, r, sec); err != nil {
			return err
		}
		if err := catalog.CreateSecret(ctx, tx, s.Account, s.Role, sec); err != nil {
			return err
		}
		if err := catalog.ApplyFutureGrants(ctx, tx, s.Account, sec.Object(), s.Role); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Secret %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Engine) alterSecret(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	db, schema, name, err := secretPath(s, st.Name, "ALTER SECRET")
	if err != nil {
		return nil, err
	}
	if st.Other != "" {
		return nil, unsupported("ALTER SECRET " + st.Other)
	}
	for _, u := range st.Unset {
		if u != "COMMENT" {
			return nil, invalidProperty(u, "SECRET")
		}
	}
	// Read the secret first: SET validates against its type, and new material is
	// sealed (outside the transaction) under its identity.
	var cur *catalog.Secret
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		cur, err = catalog.GetSecret(ctx, tx, s.Account, db, schema, name)
		return err
	})
	if catalog.IsNotFound(err) {
		if st.IfExists {
			return result.Status(result.DDL, executed), nil
		}
		return nil, secretMissing(db, schema, name)
	}
	if err != nil {
		return nil, err
	}
	var ed *secretEdit
	var sealed []byte
	if len(st.Set) > 0 {
		if ed, err = parseSecretProps(cur.Type, st.Set, false); err != nil {
			return nil, err
		}
		if ed.hasMaterial {
			if err := e.needKeyring(); err != nil {
				return nil, err
			}
			val, err := cur.Open(e.cfg.Keyring, s.Account)
			if err != nil {
				e.log.Error("secret cannot be decrypted", slog.String("secret", cur.FullName()), slog.Any("err", err))
				return nil, sealedError(cur.FullName())
			}
			probe := *cur
			ed.apply(&probe, val)
			err = e.sealSecret(s, &probe, val)
			clear(val.SymmetricKey)
			if err != nil {
				return nil, err
			}
			sealed = probe.Sealed
		}
	}
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		sec, err := catalog.GetSecret(ctx, tx, s.Account, db, schema, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				return nil
			}
			return secretMissing(db, schema, name)
		}
		if err != nil {
			return err
		}
		if sec.UID != cur.UID {
			return sferr.Compilation("000603", "XX000", "Secret was replaced concurrently; retry the statement.")
		}
		o := sec.Object()
		owns := authz.Owns(r.All, sec.Meta.Owner)
		if st.RenameTo != nil {
			if !owns {
				return sferr.InsufficientPrivileges(fmt.Sprintf("secret '%s'", name))
			}
			// A one-part new name stays in the secret's schema.
			tdb, tsch, tname := db, schema, st.RenameTo.Last().Name
			if len(st.RenameTo.Parts) > 1 {
				if tdb, tsch, tname, err = secretPath(s, *st.RenameTo, "ALTER SECRET"); err != nil {
					return err
				}
			}
			if tdb != db || tsch != schema {
				if _, err := secretSchema(ctx, tx, s.Account, tdb, tsch); err != nil {
					return err
				}
				return unsupported("ALTER SECRET ... RENAME TO another schema")
			}
			if err := catalog.RenameSecret(ctx, tx, s.Account, sec, tname); err != nil {
				if catalog.IsExists(err) {
					return sferr.AlreadyExists("Object", tname)
				}
				return err
			}
			return nil
		}
		if !owns && !r.Allowed(o, sec.Meta.Owner, catalog.PrivModify) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("secret '%s'", name))
		}
		if ed != nil {
			ed.apply(sec, &catalog.SecretValue{})
			if sealed != nil {
				sec.Sealed = sealed
			}
			if err := checkSecretIntegration(ctx, tx, s.Account, r, sec); err != nil {
				return err
			}
		}
		for range st.Unset {
			sec.Comment = ""
		}
		return catalog.PutSecret(ctx, tx, s.Account, sec)
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

func (e *Engine) dropSecret(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	db, schema, name, err := secretPath(s, st.Name, "DROP SECRET")
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		sec, err := catalog.GetSecret(ctx, tx, s.Account, db, schema, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return secretMissing(db, schema, name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, sec.Meta.Owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("secret '%s'", name))
		}
		if err := catalog.DeleteSecret(ctx, tx, s.Account, sec); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("%s successfully dropped.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scopesText renders a scope list as Snowflake does: [a, b].
func scopesText(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func secretScopes(sec *catalog.Secret) any {
	if sec.Type != catalog.SecretOAuth2 {
		return nil
	}
	return scopesText(sec.OAuthScopes)
}

func (e *Engine) showSecrets(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	parent := "*"
	db := ""
	switch st.InKind {
	case "ACCOUNT":
	case "DATABASE":
		db = s.Database
		if st.InName != nil {
			db = st.InName.Last().Name
		}
		if db == "" {
			return nil, noCurrentDatabase("SHOW SECRETS")
		}
		if _, err := catalog.GetDatabase(ctx, tx, s.Account, db); err != nil {
			if catalog.IsNotFound(err) {
				return nil, sferr.DoesNotExist("Database", db)
			}
			return nil, err
		}
	case "SCHEMA":
		d, sch := s.Database, s.Schema
		if st.InName != nil {
			var err error
			if d, sch, err = schemaName(s, *st.InName, "SHOW SECRETS"); err != nil {
				return nil, err
			}
		}
		if d == "" || sch == "" {
			return nil, noCurrentDatabase("SHOW SECRETS")
		}
		if _, err := secretSchema(ctx, tx, s.Account, d, sch); err != nil {
			return nil, err
		}
		parent = d + "." + sch
	case "":
		db = s.Database
	default:
		return nil, unsupported("SHOW SECRETS IN " + st.InKind)
	}
	secs, err := catalog.ListSecrets(ctx, tx, s.Account, parent)
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("schema_name"), result.Text("database_name"),
		result.Text("owner"), result.Text("comment"), result.Text("secret_type"), result.Text("oauth_scopes"),
		result.Text("owner_role_type"),
	}}
	f := &filter{st: st}
	for _, sec := range secs {
		if db != "" && sec.Database != db {
			continue
		}
		if !r.Sees(sec.Object(), sec.Meta.Owner) || !f.keep(sec.Name) {
			continue
		}
		set.Rows = append(set.Rows, []any{sec.Meta.Created, sec.Name, sec.Schema, sec.Database, sec.Meta.Owner,
			sec.Comment, sec.Type, secretScopes(sec), ownerRoleType(sec.Meta.Owner)})
	}
	return set, nil
}

func (e *Engine) describeSecret(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	db, schema, name, err := secretPath(s, st.Name, "DESCRIBE SECRET")
	if err != nil {
		return nil, err
	}
	var sec *catalog.Secret
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		sec, err = catalog.GetSecret(ctx, tx, s.Account, db, schema, name)
		if catalog.IsNotFound(err) {
			return secretMissing(db, schema, name)
		}
		if err != nil {
			return err
		}
		// DESC needs USAGE (or ownership); READ alone lets executables use the value
		// but not describe it.
		if !r.Allowed(sec.Object(), sec.Meta.Owner, catalog.PrivUsage) {
			return secretMissing(db, schema, name)
		}
		if ok, err := containerUsable(ctx, tx, s.Account, r, db, schema); err != nil || !ok {
			if err != nil && !catalog.IsNotFound(err) {
				return err
			}
			return secretMissing(db, schema, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var expiry, keyLen, username, algorithm, integration any
	if !sec.OAuthRefreshTokenExpiry.IsZero() {
		expiry = sec.OAuthRefreshTokenExpiry
	}
	if sec.KeyLength > 0 {
		keyLen = int64(sec.KeyLength)
	}
	if sec.Type == catalog.SecretPassword {
		username = sec.Username
	}
	if sec.Algorithm != "" {
		algorithm = sec.Algorithm
	}
	if sec.APIAuthentication != "" {
		integration = sec.APIAuthentication
	}
	return &result.Set{Columns: []result.Column{
		result.TimestampLTZ("created_on"), result.Text("name"), result.Text("schema_name"), result.Text("database_name"),
		result.Text("owner"), result.Text("comment"), result.Text("secret_type"), result.Text("username"),
		result.TimestampLTZ("oauth_access_token_expiry_time"), result.TimestampLTZ("oauth_refresh_token_expiry_time"),
		result.Text("oauth_scopes"), result.Text("integration_name"), result.Text("algorithm"), result.Fixed("key_length"),
		result.Text("workload_identity_federation_issuer"), result.Text("workload_identity_federation_subject"),
	}, Rows: [][]any{{
		sec.Meta.Created, sec.Name, sec.Schema, sec.Database, sec.Meta.Owner, sec.Comment, sec.Type, username,
		nil, expiry, secretScopes(sec), integration, algorithm, keyLen, nil, nil,
	}}}, nil
}

// sealedError is the answer when a stored ciphertext does not authenticate: the
// object is named, nothing of the ciphertext or any value is.
func sealedError(name string) *sferr.Error {
	return sferr.New("000603", "XX000", fmt.Sprintf("SQL execution internal error: the stored value of '%s' failed authentication (corrupt or tampered ciphertext, or the wrong master key).", name))
}

// IsSealedError reports whether err comes from a value that failed to decrypt.
func IsSealedError(err error) bool { return errors.Is(err, catalog.ErrSealed) }
