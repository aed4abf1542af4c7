package creds

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/store"
)

// Secret types as Snowflake names them (CREATE SECRET ... TYPE = <type>).
const (
	TypePassword           = "PASSWORD"
	TypeGenericString      = "GENERIC_STRING"
	TypeOAuth2             = "OAUTH2"
	TypeCloudProviderToken = "CLOUD_PROVIDER_TOKEN"
	TypeSymmetricKey       = "SYMMETRIC_KEY"
)

// Security integration auth types (TYPE = API_AUTHENTICATION AUTH_TYPE = <type>).
const (
	AuthAWSIAM = "AWS_IAM"
	AuthOAuth2 = "OAUTH2"
)

// Sensitive is a credential value. It prints, logs and marshals as "[redacted]";
// Reveal returns the value.
type Sensitive string

const redacted = "[redacted]"

// Reveal returns the value.
func (s Sensitive) Reveal() string { return string(s) }

// String redacts the value.
func (s Sensitive) String() string { return redacted }

// GoString redacts the value.
func (s Sensitive) GoString() string { return redacted }

// LogValue redacts the value in log/slog output.
func (s Sensitive) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText redacts the value in JSON and other text encodings.
func (s Sensitive) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format redacts the value for every fmt verb (%s, %v, %q, %x, ...).
func (s Sensitive) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// AWSCredentials are temporary AWS credentials from STS AssumeRole.
type AWSCredentials struct {
	AccessKeyID     string
	SecretAccessKey Sensitive
	SessionToken    Sensitive
}

// Credential is what Resolve issues. Which fields are set depends on Type.
type Credential struct {
	// Type is the secret's TYPE.
	Type string
	// Username and Password: PASSWORD secrets.
	Username string
	Password Sensitive
	// String: GENERIC_STRING secrets.
	String Sensitive
	// AccessToken and TokenType: OAUTH2 secrets.
	AccessToken Sensitive
	TokenType   string
	// AWS: CLOUD_PROVIDER_TOKEN secrets.
	AWS AWSCredentials
	// Expires is when the credential stops working (zero: it does not expire).
	Expires time.Time
	// Integration is the external access integration that allowed the secret.
	Integration string
}

// Principal is who asks: a workload of an account and the role it runs as.
type Principal struct {
	Account string
	// Role is the workload's owner role, whose privileges decide.
	Role string
	// Workload names the UDF, procedure or service, for the audit trail
	// (e.g. "FUNCTION DB.SCH.F" or "SERVICE DB.SCH.SVC").
	Workload string
}

// SecretRef names a secret by its resolved (case-exact) database, schema and name.
type SecretRef struct {
	Database, Schema, Name string
}

// String is the secret's dotted path, DB.SCHEMA.NAME.
func (r SecretRef) String() string { return r.Database + "." + r.Schema + "." + r.Name }

// ParseSecretRef parses "db.schema.name" as Snowflake resolves identifiers: unquoted
// parts are folded to upper case, double-quoted parts are kept exactly (with ""
// standing for one quote).
func ParseSecretRef(s string) (SecretRef, error) {
	var parts []string
	for i := 0; i <= len(s); {
		if i == len(s) {
			return SecretRef{}, fmt.Errorf("creds: secret %q: empty name part", s)
		}
		var part string
		if s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return SecretRef{}, fmt.Errorf("creds: secret %q: unterminated quoted identifier", s)
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			part = b.String()
			i = j + 1
		} else {
			j := i
			for j < len(s) && s[j] != '.' {
				c := s[j]
				if !(c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') ||
					j == i && (c == '$' || c >= '0' && c <= '9') {
					return SecretRef{}, fmt.Errorf("creds: secret %q: invalid identifier character %q", s, c)
				}
				j++
			}
			part = strings.ToUpper(s[i:j])
			i = j
		}
		if part == "" {
			return SecretRef{}, fmt.Errorf("creds: secret %q: empty name part", s)
		}
		parts = append(parts, part)
		if i == len(s) {
			break
		}
		if s[i] != '.' {
			return SecretRef{}, fmt.Errorf("creds: secret %q: expected '.' after a quoted identifier", s)
		}
		i++
	}
	if len(parts) != 3 {
		return SecretRef{}, fmt.Errorf("creds: secret %q: want database.schema.name", s)
	}
	return SecretRef{Database: parts[0], Schema: parts[1], Name: parts[2]}, nil
}

// SecretAllow is an EAI's ALLOWED_AUTHENTICATION_SECRETS mode.
type SecretAllow int

// ALLOWED_AUTHENTICATION_SECRETS modes.
const (
	AllowNone SecretAllow = iota // none (the default)
	AllowList                    // ( db.sch.s, ... )
	AllowAll                     // all
)

// EAI is what the broker needs of an external access integration.
type EAI struct {
	Name    string
	Owner   string
	Enabled bool
	// Secrets is ALLOWED_AUTHENTICATION_SECRETS: none, all, or the list in SecretList.
	Secrets    SecretAllow
	SecretList []SecretRef
	// AuthIntegrations is ALLOWED_API_AUTHENTICATION_INTEGRATIONS: a secret whose
	// API_AUTHENTICATION integration is listed is allowed too.
	AuthIntegrations []string
	// NetworkRules are the EGRESS rules of ALLOWED_NETWORK_RULES that exist. An OAuth
	// token endpoint is called only if they allow its host:port.
	NetworkRules []netpolicy.Rule
}

// Secret is what the broker needs of a secret, values decrypted.
type Secret struct {
	Ref   SecretRef
	Owner string
	Type  string
	// Version changes whenever the secret is altered (e.g. its modification time in
	// nanoseconds), but not when the broker stores a rotated refresh token; cached
	// tokens of an older version are discarded.
	Version int64
	// Revision identifies the stored record (settings and sealed value) for the
	// compare-and-swap of RefreshTokenSaver; opaque, never a value. Empty when the
	// Source cannot save rotated refresh tokens.
	Revision string
	// PASSWORD
	Username string
	Password Sensitive
	// GENERIC_STRING
	String Sensitive
	// OAUTH2 and CLOUD_PROVIDER_TOKEN: the API_AUTHENTICATION security integration.
	Integration string
	// OAUTH2 client credentials: OAUTH_SCOPES (empty: the integration's allowed scopes).
	Scopes []string
	// OAUTH2 authorization code: OAUTH_REFRESH_TOKEN and its expiry (zero: unknown).
	RefreshToken       Sensitive
	RefreshTokenExpiry time.Time
	// Disabled is a CLOUD_PROVIDER_TOKEN secret's ENABLED = FALSE.
	Disabled bool
}

// SecurityIntegration is what the broker needs of an API_AUTHENTICATION integration.
type SecurityIntegration struct {
	Name     string
	Enabled  bool
	AuthType string // AWS_IAM or OAUTH2
	Version  int64  // changes whenever the integration is altered
	// AWS_IAM
	RoleARN    string
	ExternalID string
	// OAUTH2
	TokenEndpoint string
	ClientID      string
	ClientSecret  Sensitive
	// ClientAuthMethod is CLIENT_SECRET_BASIC (default) or CLIENT_SECRET_POST.
	ClientAuthMethod string
	// AccessTokenValidity bounds a token's lifetime (used when the token response has
	// no expires_in; the shorter of both otherwise). Zero: none.
	AccessTokenValidity time.Duration
	AllowedScopes       []string
}

// RefreshTokenSaver is implemented by a Source that can persist a refresh token the
// OAuth server rotated (CatalogSource does). SaveRefreshToken stores token as the
// OAUTH_REFRESH_TOKEN of secret ref, sealed like every secret value, only if the
// stored secret's Revision still is revision (a compare-and-swap): it reports false,
// and changes nothing, when the secret was altered, replaced or dropped meanwhile. It
// runs outside any store transaction (sealing may write a data key).
type RefreshTokenSaver interface {
	SaveRefreshToken(ctx context.Context, st store.Store, account string, ref SecretRef, revision string, token Sensitive) (bool, error)
}

// Source reads the catalog objects a decision needs, inside the caller's read
// transaction. Missing objects are reported with errors wrapping store.ErrNotFound.
type Source interface {
	ExternalAccessIntegration(ctx context.Context, tx store.Tx, account, name string) (*EAI, error)
	Secret(ctx context.Context, tx store.Tx, account string, ref SecretRef) (*Secret, error)
	SecurityIntegration(ctx context.Context, tx store.Tx, account, name string) (*SecurityIntegration, error)
}
