package exec

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// SECURITY INTEGRATION (TYPE = API_AUTHENTICATION, AUTH_TYPE = AWS_IAM | OAUTH2)
// and EXTERNAL ACCESS INTEGRATION. Both are INTEGRATION records in one
// account-level namespace; the generic INTEGRATION forms (DROP INTEGRATION, DESC
// INTEGRATION, SHOW INTEGRATIONS, ALTER INTEGRATION) work on either.

func init() {
	for _, k := range []string{"SECURITY INTEGRATION", "EXTERNAL ACCESS INTEGRATION"} {
		creators[k] = (*Engine).createIntegration
	}
	for _, k := range []string{"INTEGRATION", "SECURITY INTEGRATION", "EXTERNAL ACCESS INTEGRATION"} {
		alterers[k] = (*Engine).alterIntegration
		droppers[k] = (*Engine).dropIntegration
		describers[k] = (*Engine).describeIntegration
	}
	for _, k := range []string{"INTEGRATIONS", "SECURITY INTEGRATIONS", "EXTERNAL ACCESS INTEGRATIONS"} {
		showers[k] = (*Engine).showIntegrations
	}
}

// awsRoleARN is the shape of an IAM role ARN (any AWS partition).
var awsRoleARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$`)

// kindMatches reports whether a statement's kind addresses an integration.
func kindMatches(kind string, in *catalog.Integration) bool {
	switch kind {
	case "SECURITY INTEGRATION":
		return in.Type == catalog.IntegrationAPIAuthentication
	case "EXTERNAL ACCESS INTEGRATION":
		return in.Type == catalog.IntegrationExternalAccess
	}
	return true
}

func integrationMissing(name string) *sferr.Error { return sferr.DoesNotExist("Integration", name) }

// externalID makes an integration's AWS external ID in Snowflake's shape
// <ACCOUNT>_SFCRole=<n>_<base64>.
func externalID(account string) (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("exec: external id: %w", err)
	}
	return fmt.Sprintf("%s_SFCRole=1_%s", account, base64.StdEncoding.EncodeToString(b[:])), nil
}

// oauthEndpoint validates a token or authorization endpoint: an absolute https URL,
// or http to a loopback host (local identity providers and tests).
func oauthEndpoint(name string, v sql.Value) (string, error) {
	if v.Kind != sql.ValString {
		return "", invalidValue(name, v)
	}
	u, err := url.Parse(v.Str)
	if err != nil || u.Host == "" || u.User != nil {
		return "", invalidValue(name, v)
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		ip := net.ParseIP(h)
		if h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value [%s] for parameter '%s': the endpoint must use https", v.Str, name))
		}
	default:
		return "", invalidValue(name, v)
	}
	return v.Str, nil
}

// wordOrString reads an unquoted word or a string, upper-cased.
func wordOrString(name string, v sql.Value) (string, error) {
	switch v.Kind {
	case sql.ValString:
		return strings.ToUpper(v.Str), nil
	case sql.ValIdent:
		if len(v.Ident.Parts) == 1 {
			return strings.ToUpper(v.Ident.Parts[0].Name), nil
		}
	}
	return "", invalidValue(name, v)
}

// integrationEdit is a validated set of integration property changes.
type integrationEdit struct {
	set          map[string]sql.Value
	clientSecret *string
}

var (
	commonIntegrationProps = []string{"ENABLED", "COMMENT"}
	awsIAMProps            = []string{"AWS_ROLE_ARN"}
	oauth2Props            = []string{"OAUTH_TOKEN_ENDPOINT", "OAUTH_AUTHORIZATION_ENDPOINT", "OAUTH_CLIENT_AUTH_METHOD",
		"OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "OAUTH_GRANT", "OAUTH_ACCESS_TOKEN_VALIDITY", "OAUTH_REFRESH_TOKEN_VALIDITY",
		"OAUTH_ALLOWED_SCOPES"}
	eaiProps = []string{"ALLOWED_NETWORK_RULES", "ALLOWED_API_AUTHENTICATION_INTEGRATIONS", "ALLOWED_AUTHENTICATION_SECRETS"}
)

// propsFor lists the properties an integration of this type accepts.
func propsFor(in *catalog.Integration) []string {
	out := slices.Clone(commonIntegrationProps)
	switch {
	case in.Type == catalog.IntegrationExternalAccess:
		out = append(out, eaiProps...)
	case in.AuthType == catalog.AuthTypeAWSIAM:
		out = append(out, awsIAMProps...)
	case in.AuthType == catalog.AuthTypeOAuth2:
		out = append(out, oauth2Props...)
	}
	return out
}

// applyIntegrationProps validates props against in's type and applies those that
// need no catalog lookups; lookups (rules, secrets, integrations) happen in the
// transaction with resolveEAIRefs. The OAuth client secret is returned for sealing.
func applyIntegrationProps(in *catalog.Integration, props []sql.Property) (*integrationEdit, error) {
	ed := &integrationEdit{set: map[string]sql.Value{}}
	allowed := propsFor(in)
	for _, p := range props {
		if _, dup := ed.set[p.Name]; dup {
			return nil, sferr.Compilation("001003", "42000", fmt.Sprintf("duplicate option '%s'", p.Name))
		}
		if !slices.Contains(allowed, p.Name) {
			return nil, invalidProperty(p.Name, "INTEGRATION")
		}
		ed.set[p.Name] = p.Value
		var err error
		switch p.Name {
		case "ENABLED":
			in.Enabled, err = propBool(p.Name, p.Value)
		case "COMMENT":
			in.Comment, err = propString(p.Name, p.Value)
		case "AWS_ROLE_ARN":
			if p.Value.Kind != sql.ValString || !awsRoleARN.MatchString(p.Value.Str) {
				return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("invalid value [%s] for parameter 'AWS_ROLE_ARN': expected arn:aws:iam::<12-digit account>:role/<name>", valueText(p.Value)))
			}
			in.AWSRoleARN = p.Value.Str
		case "OAUTH_TOKEN_ENDPOINT":
			in.OAuthTokenEndpoint, err = oauthEndpoint(p.Name, p.Value)
		case "OAUTH_AUTHORIZATION_ENDPOINT":
			in.OAuthAuthorizationEndpoint, err = oauthEndpoint(p.Name, p.Value)
		case "OAUTH_CLIENT_AUTH_METHOD":
			var m string
			if m, err = wordOrString(p.Name, p.Value); err == nil {
				if m != "CLIENT_SECRET_BASIC" && m != "CLIENT_SECRET_POST" {
					return nil, invalidValue(p.Name, p.Value)
				}
				in.OAuthClientAuthMethod = m
			}
		case "OAUTH_CLIENT_ID":
			if p.Value.Kind != sql.ValString {
				return nil, invalidValue(p.Name, p.Value)
			}
			in.OAuthClientID = p.Value.Str
		case "OAUTH_CLIENT_SECRET":
			if p.Value.Kind != sql.ValString {
				return nil, secretValueInvalid(p.Name)
			}
			v := p.Value.Str
			ed.clientSecret = &v
		case "OAUTH_GRANT":
			var g string
			if g, err = wordOrString(p.Name, p.Value); err == nil {
				if g != "CLIENT_CREDENTIALS" && g != "AUTHORIZATION_CODE" && g != "JWT_BEARER" {
					return nil, invalidValue(p.Name, p.Value)
				}
				in.OAuthGrant = g
			}
		case "OAUTH_ACCESS_TOKEN_VALIDITY", "OAUTH_REFRESH_TOKEN_VALIDITY":
			var n int64
			if n, err = propInt(p.Name, p.Value); err == nil {
				if n < 0 {
					return nil, invalidValue(p.Name, p.Value)
				}
				if p.Name == "OAUTH_ACCESS_TOKEN_VALIDITY" {
					in.OAuthAccessTokenValidity = n
				} else {
					in.OAuthRefreshTokenValidity = n
				}
			}
		case "OAUTH_ALLOWED_SCOPES":
			in.OAuthAllowedScopes, err = stringList(p.Name, p.Value)
			if p.Value.Kind == sql.ValList && len(p.Value.List) == 0 {
				in.OAuthAllowedScopes, err = nil, nil
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return ed, nil
}

// refList reads ( a, db.s.b ) or, when allowWords, the words ALL / NONE.
func refList(name string, v sql.Value, allowWords ...string) (names []sql.ObjectName, word string, err error) {
	switch v.Kind {
	case sql.ValIdent:
		if len(v.Ident.Parts) == 1 && !v.Ident.Parts[0].Quoted {
			w := strings.ToUpper(v.Ident.Parts[0].Name)
			if slices.Contains(allowWords, w) {
				return nil, w, nil
			}
		}
		return []sql.ObjectName{v.Ident}, "", nil
	case sql.ValList:
		for _, x := range v.List {
			if x.Kind != sql.ValIdent {
				return nil, "", invalidValue(name, v)
			}
			names = append(names, x.Ident)
		}
		return names, "", nil
	case sql.ValString:
		if w := strings.ToUpper(v.Str); slices.Contains(allowWords, w) {
			return nil, w, nil
		}
	}
	return nil, "", invalidValue(name, v)
}

// schemaObject resolves a one- to three-part name of a schema object.
func schemaObject(s *session.Session, kind string, n sql.ObjectName) (catalog.Object, error) {
	k, _ := catalog.LookupKind(kind)
	o, err := resolveObject(s, k, &n)
	if err != nil {
		return catalog.Object{}, err
	}
	return o, nil
}

// resolveEAIRefs checks and stores an external access integration's references:
// network rules must exist and be EGRESS, secrets must exist and be usable by the
// roles (USAGE), and API integrations must be API_AUTHENTICATION integrations.
func resolveEAIRefs(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, in *catalog.Integration, ed *integrationEdit) error {
	if v, ok := ed.set["ALLOWED_NETWORK_RULES"]; ok {
		names, _, err := refList("ALLOWED_NETWORK_RULES", v)
		if err != nil {
			return err
		}
		in.AllowedNetworkRules = nil
		for _, n := range names {
			o, err := schemaObject(s, "NETWORK RULE", n)
			if err != nil {
				return err
			}
			rule, err := catalog.GetNetworkRule(ctx, tx, s.Account, o.Database, o.Schema, o.Name)
			if catalog.IsNotFound(err) {
				return sferr.DoesNotExist("Network rule", o.Path())
			}
			if err != nil {
				return err
			}
			if !r.Sees(o, rule.Meta.Owner) {
				return sferr.DoesNotExist("Network rule", o.Path())
			}
			if !strings.EqualFold(rule.Mode, "EGRESS") {
				return sferr.Compilation("001423", "22023", fmt.Sprintf("Network rule '%s' has MODE = %s; an external access integration accepts only network rules with MODE = EGRESS.", o.Path(), rule.Mode))
			}
			if !slices.Contains(in.AllowedNetworkRules, o) {
				in.AllowedNetworkRules = append(in.AllowedNetworkRules, o)
			}
		}
	}
	if v, ok := ed.set["ALLOWED_AUTHENTICATION_SECRETS"]; ok {
		names, word, err := refList("ALLOWED_AUTHENTICATION_SECRETS", v, catalog.SecretsAll, catalog.SecretsNone)
		if err != nil {
			return err
		}
		in.AllowedSecrets = nil
		switch {
		case word != "":
			in.AllowedSecretsMode = word
		case len(names) == 0:
			in.AllowedSecretsMode = catalog.SecretsNone
		default:
			in.AllowedSecretsMode = catalog.SecretsList
		}
		for _, n := range names {
			o, err := schemaObject(s, "SECRET", n)
			if err != nil {
				return err
			}
			sec, err := catalog.GetSecret(ctx, tx, s.Account, o.Database, o.Schema, o.Name)
			if catalog.IsNotFound(err) {
				return secretMissing(o.Database, o.Schema, o.Name)
			}
			if err != nil {
				return err
			}
			if !r.Allowed(o, sec.Meta.Owner, catalog.PrivUsage) {
				return secretMissing(o.Database, o.Schema, o.Name)
			}
			if ok, err := containerUsable(ctx, tx, s.Account, r, o.Database, o.Schema); err != nil || !ok {
				if err != nil && !catalog.IsNotFound(err) {
					return err
				}
				return secretMissing(o.Database, o.Schema, o.Name)
			}
			if !slices.Contains(in.AllowedSecrets, o) {
				in.AllowedSecrets = append(in.AllowedSecrets, o)
			}
		}
	}
	if v, ok := ed.set["ALLOWED_API_AUTHENTICATION_INTEGRATIONS"]; ok {
		names, _, err := refList("ALLOWED_API_AUTHENTICATION_INTEGRATIONS", v, catalog.SecretsNone)
		if err != nil {
			return err
		}
		in.AllowedAPIIntegrations = nil
		for _, n := range names {
			name, err := accountObjectName(n)
			if err != nil {
				return err
			}
			ref, err := catalog.GetIntegration(ctx, tx, s.Account, name)
			if catalog.IsNotFound(err) {
				return integrationMissing(name)
			}
			if err != nil {
				return err
			}
			if ref.Type != catalog.IntegrationAPIAuthentication {
				return sferr.Compilation("001423", "22023", fmt.Sprintf("Integration '%s' is not an API_AUTHENTICATION security integration.", name))
			}
			if !slices.Contains(in.AllowedAPIIntegrations, name) {
				in.AllowedAPIIntegrations = append(in.AllowedAPIIntegrations, name)
			}
		}
	}
	return nil
}

// sealClientSecret seals a new OAuth client secret before the transaction.
func (e *Engine) sealClientSecret(s *session.Session, in *catalog.Integration, ed *integrationEdit) error {
	if ed.clientSecret == nil {
		return nil
	}
	if *ed.clientSecret == "" {
		in.OAuthClientSecretSealed = nil
		return nil
	}
	if err := e.needKeyring(); err != nil {
		return err
	}
	if err := in.SealClientSecret(e.cfg.Keyring, s.Account, *ed.clientSecret); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// canCreateIntegration: CREATE INTEGRATION, or the type's own account privilege.
func canCreateIntegration(r *authz.Active, typ string) bool {
	if authz.HasAccountPrivilege(r.Primary, "CREATE INTEGRATION") {
		return true
	}
	switch typ {
	case catalog.IntegrationAPIAuthentication:
		return authz.HasAccountPrivilege(r.Primary, "CREATE SECURITY INTEGRATION")
	case catalog.IntegrationExternalAccess:
		return authz.HasAccountPrivilege(r.Primary, "CREATE EXTERNAL ACCESS INTEGRATION")
	}
	return false
}

func (e *Engine) createIntegration(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	uid, err := catalog.NewUID()
	if err != nil {
		return nil, err
	}
	in := &catalog.Integration{Name: name, Category: catalog.CategorySecurity, UID: uid, Enabled: true}
	props := st.Props
	if st.Kind == "EXTERNAL ACCESS INTEGRATION" {
		in.Type = catalog.IntegrationExternalAccess
		in.AllowedSecretsMode = catalog.SecretsNone
	} else {
		// TYPE and AUTH_TYPE decide which properties are valid.
		var rest []sql.Property
		for _, p := range props {
			switch p.Name {
			case "TYPE":
				t, err := wordOrString(p.Name, p.Value)
				if err != nil {
					return nil, err
				}
				if t != catalog.IntegrationAPIAuthentication {
					return nil, unsupported("CREATE SECURITY INTEGRATION TYPE = " + t)
				}
				in.Type = t
			case "AUTH_TYPE":
				a, err := wordOrString(p.Name, p.Value)
				if err != nil {
					return nil, err
				}
				if a != catalog.AuthTypeAWSIAM && a != catalog.AuthTypeOAuth2 {
					return nil, invalidValue(p.Name, p.Value)
				}
				in.AuthType = a
			default:
				rest = append(rest, p)
			}
		}
		var missing []string
		if in.Type == "" {
			missing = append(missing, "TYPE")
		}
		if in.AuthType == "" {
			missing = append(missing, "AUTH_TYPE")
		}
		if len(missing) > 0 {
			return nil, missingOption(missing...)
		}
		props = rest
	}
	ed, err := applyIntegrationProps(in, props)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Type == catalog.IntegrationExternalAccess:
		if _, ok := ed.set["ALLOWED_NETWORK_RULES"]; !ok {
			return nil, missingOption("ALLOWED_NETWORK_RULES")
		}
	case in.AuthType == catalog.AuthTypeAWSIAM:
		if in.AWSRoleARN == "" {
			return nil, missingOption("AWS_ROLE_ARN")
		}
		in.AWSIAMUserARN = e.cfg.AWSIAMUserARN
		if in.AWSExternalID, err = externalID(s.Account); err != nil {
			return nil, err
		}
	case in.AuthType == catalog.AuthTypeOAuth2:
		if in.OAuthClientAuthMethod == "" {
			in.OAuthClientAuthMethod = "CLIENT_SECRET_BASIC"
		}
		if in.OAuthGrant == "" {
			in.OAuthGrant = "CLIENT_CREDENTIALS"
		}
	}
	if err := e.sealClientSecret(s, in, ed); err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		if !canCreateIntegration(r, in.Type) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		old, err := catalog.GetIntegration(ctx, tx, s.Account, name)
		switch {
		case err == nil && !st.OrReplace:
			out, err = exists(st, name)
			return err
		case err == nil:
			if !authz.Owns(r.All, old.Meta.Owner) {
				return sferr.InsufficientPrivileges(fmt.Sprintf("integration '%s'", name))
			}
			if err := catalog.DeleteIntegration(ctx, tx, s.Account, name); err != nil {
				return err
			}
		case !catalog.IsNotFound(err):
			return err
		}
		if in.Type == catalog.IntegrationExternalAccess {
			if err := resolveEAIRefs(ctx, tx, s, r, in, ed); err != nil {
				return err
			}
		}
		if err := catalog.CreateIntegration(ctx, tx, s.Account, s.Role, in); err != nil {
			return err
		}
		out = result.Status(result.DDL, fmt.Sprintf("Integration %s successfully created.", name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Engine) loadIntegration(ctx context.Context, tx store.Tx, s *session.Session, kind, name string) (*catalog.Integration, error) {
	in, err := catalog.GetIntegration(ctx, tx, s.Account, name)
	if err != nil {
		return nil, err
	}
	if !kindMatches(kind, in) {
		return nil, catalog.ErrNotFound
	}
	return in, nil
}

func (e *Engine) alterIntegration(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	if st.Other != "" {
		return nil, unsupported("ALTER INTEGRATION " + st.Other)
	}
	var cur *catalog.Integration
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		cur, err = e.loadIntegration(ctx, tx, s, st.Kind, name)
		return err
	})
	if catalog.IsNotFound(err) {
		if st.IfExists {
			return result.Status(result.DDL, executed), nil
		}
		return nil, integrationMissing(name)
	}
	if err != nil {
		return nil, err
	}
	next := *cur
	var ed *integrationEdit
	if len(st.Set) > 0 {
		if ed, err = applyIntegrationProps(&next, st.Set); err != nil {
			return nil, err
		}
		if err := e.sealClientSecret(s, &next, ed); err != nil {
			return nil, err
		}
	}
	for _, u := range st.Unset {
		if !slices.Contains(propsFor(&next), u) {
			return nil, invalidProperty(u, "INTEGRATION")
		}
		switch u {
		case "ENABLED":
			next.Enabled = false
		case "COMMENT":
			next.Comment = ""
		case "ALLOWED_NETWORK_RULES":
			next.AllowedNetworkRules = nil
		case "ALLOWED_API_AUTHENTICATION_INTEGRATIONS":
			next.AllowedAPIIntegrations = nil
		case "ALLOWED_AUTHENTICATION_SECRETS":
			next.AllowedSecrets, next.AllowedSecretsMode = nil, catalog.SecretsNone
		case "OAUTH_ALLOWED_SCOPES":
			next.OAuthAllowedScopes = nil
		case "OAUTH_CLIENT_SECRET":
			next.OAuthClientSecretSealed = nil
		case "OAUTH_ACCESS_TOKEN_VALIDITY":
			next.OAuthAccessTokenValidity = 0
		case "OAUTH_REFRESH_TOKEN_VALIDITY":
			next.OAuthRefreshTokenValidity = 0
		default:
			return nil, sferr.Compilation("001423", "22023", fmt.Sprintf("Property '%s' cannot be unset.", u))
		}
	}
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		in, err := e.loadIntegration(ctx, tx, s, st.Kind, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				return nil
			}
			return integrationMissing(name)
		}
		if err != nil {
			return err
		}
		if in.UID != cur.UID {
			return sferr.Compilation("000603", "XX000", "Integration was replaced concurrently; retry the statement.")
		}
		if !authz.Owns(r.All, in.Meta.Owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("integration '%s'", name))
		}
		if st.RenameTo != nil {
			to, err := accountObjectName(*st.RenameTo)
			if err != nil {
				return err
			}
			return renameIntegration(ctx, tx, s.Account, in, to)
		}
		if ed != nil && next.Type == catalog.IntegrationExternalAccess {
			if err := resolveEAIRefs(ctx, tx, s, r, &next, ed); err != nil {
				return err
			}
		}
		return catalog.PutIntegration(ctx, tx, s.Account, &next)
	})
	if err != nil {
		return nil, err
	}
	return result.Status(result.DDL, executed), nil
}

// renameIntegration renames an integration with its grants, and follows the rename
// in secrets' API_AUTHENTICATION and in other integrations' references.
func renameIntegration(ctx context.Context, tx store.Tx, account string, in *catalog.Integration, to string) error {
	from := in.Name
	if err := tx.Rename(ctx, catalog.IntegrationKey(account, from), catalog.IntegrationKey(account, to)); err != nil {
		if catalog.IsExists(err) {
			return sferr.AlreadyExists("Object", to)
		}
		return err
	}
	in.Name = to
	if err := catalog.PutIntegration(ctx, tx, account, in); err != nil {
		return err
	}
	secs, err := catalog.ListSecrets(ctx, tx, account, "*")
	if err != nil {
		return err
	}
	for _, sec := range secs {
		if sec.APIAuthentication == from {
			sec.APIAuthentication = to
			if err := catalog.PutSecret(ctx, tx, account, sec); err != nil {
				return err
			}
		}
	}
	all, err := catalog.ListIntegrations(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, o := range all {
		if i := slices.Index(o.AllowedAPIIntegrations, from); i >= 0 {
			o.AllowedAPIIntegrations[i] = to
			if err := catalog.PutIntegration(ctx, tx, account, o); err != nil {
				return err
			}
		}
	}
	fromObj, toObj := catalog.Object{Kind: "INTEGRATION", Name: from}, catalog.Object{Kind: "INTEGRATION", Name: to}
	return catalog.MoveGrants(ctx, tx, account, func(o catalog.Object) (catalog.Object, bool) {
		if o == fromObj {
			return toObj, true
		}
		return catalog.Object{}, false
	})
}

func (e *Engine) dropIntegration(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var out *result.Set
	err = e.update(ctx, s, func(tx store.Tx, r *authz.Active) error {
		in, err := e.loadIntegration(ctx, tx, s, st.Kind, name)
		if catalog.IsNotFound(err) {
			if st.IfExists {
				out = result.Status(result.DDL, fmt.Sprintf("Drop statement executed successfully (%s already dropped).", name))
				return nil
			}
			return integrationMissing(name)
		}
		if err != nil {
			return err
		}
		if !authz.Owns(r.All, in.Meta.Owner) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("integration '%s'", name))
		}
		if err := catalog.DeleteIntegration(ctx, tx, s.Account, name); err != nil {
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

func (e *Engine) showIntegrations(ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error) {
	all, err := catalog.ListIntegrations(ctx, tx, s.Account)
	if err != nil {
		return nil, err
	}
	kind := strings.TrimSuffix(st.Kind, "S")
	set := &result.Set{Columns: []result.Column{
		result.Text("name"), result.Text("type"), result.Text("category"), result.Text("enabled"),
		result.Text("comment"), result.TimestampLTZ("created_on"),
	}}
	f := &filter{st: st}
	for _, in := range all {
		if !kindMatches(kind, in) || !r.Sees(in.Object(), in.Meta.Owner) || !f.keep(in.Name) {
			continue
		}
		var comment any
		if in.Comment != "" {
			comment = in.Comment
		}
		set.Rows = append(set.Rows, []any{in.Name, in.ShowType(), in.Category, strconv.FormatBool(in.Enabled), comment, in.Meta.Created})
	}
	return set, nil
}

// listText renders a list property as DESC does: [a, b].
func listText(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func objectPaths(os []catalog.Object) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Path()
	}
	return out
}

func (e *Engine) describeIntegration(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	name, err := accountObjectName(st.Name)
	if err != nil {
		return nil, err
	}
	var in *catalog.Integration
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		in, err = e.loadIntegration(ctx, tx, s, st.Kind, name)
		if catalog.IsNotFound(err) {
			return integrationMissing(name)
		}
		if err != nil {
			return err
		}
		if !r.Allowed(in.Object(), in.Meta.Owner, catalog.PrivUsage) {
			return integrationMissing(name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := &result.Set{Columns: []result.Column{
		result.Text("property"), result.Text("property_type"), result.Text("property_value"), result.Text("property_default"),
	}}
	add := func(prop, typ, val, def string) { set.Rows = append(set.Rows, []any{prop, typ, val, def}) }
	enabled := strconv.FormatBool(in.Enabled)
	switch {
	case in.Type == catalog.IntegrationExternalAccess:
		secretsVal := "[]"
		switch in.AllowedSecretsMode {
		case catalog.SecretsAll:
			secretsVal = "[all]"
		case catalog.SecretsList:
			secretsVal = listText(objectPaths(in.AllowedSecrets))
		}
		add("ALLOWED_NETWORK_RULES", "List", listText(objectPaths(in.AllowedNetworkRules)), "[]")
		add("ALLOWED_API_AUTHENTICATION_INTEGRATIONS", "List", listText(in.AllowedAPIIntegrations), "[]")
		add("ALLOWED_AUTHENTICATION_SECRETS", "List", secretsVal, "[]")
		add("ENABLED", "Boolean", enabled, "false")
		add("COMMENT", "String", in.Comment, "")
	case in.AuthType == catalog.AuthTypeAWSIAM:
		add("ENABLED", "Boolean", enabled, "false")
		add("AUTH_TYPE", "String", in.AuthType, "")
		add("AWS_ROLE_ARN", "String", in.AWSRoleARN, "")
		add("API_AWS_IAM_USER_ARN", "String", in.AWSIAMUserARN, "")
		add("API_AWS_EXTERNAL_ID", "String", in.AWSExternalID, "")
		add("COMMENT", "String", in.Comment, "")
	default:
		add("ENABLED", "Boolean", enabled, "false")
		add("OAUTH_ACCESS_TOKEN_VALIDITY", "Integer", strconv.FormatInt(in.OAuthAccessTokenValidity, 10), "0")
		add("OAUTH_REFRESH_TOKEN_VALIDITY", "Integer", strconv.FormatInt(in.OAuthRefreshTokenValidity, 10), "0")
		add("OAUTH_CLIENT_ID", "String", in.OAuthClientID, "")
		add("OAUTH_CLIENT_AUTH_METHOD", "String", in.OAuthClientAuthMethod, "CLIENT_SECRET_BASIC")
		add("OAUTH_AUTHORIZATION_ENDPOINT", "String", in.OAuthAuthorizationEndpoint, "")
		add("OAUTH_TOKEN_ENDPOINT", "String", in.OAuthTokenEndpoint, "")
		add("OAUTH_ALLOWED_SCOPES", "List", listText(in.OAuthAllowedScopes), "[]")
		add("OAUTH_GRANT", "String", in.OAuthGrant, "")
		add("PARENT_INTEGRATION", "String", "", "")
		add("AUTH_TYPE", "String", in.AuthType, "")
		add("COMMENT", "String", in.Comment, "")
	}
	return set, nil
}
