package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// KindIntegration is the store kind of every integration record. Security
// integrations and external access integrations (and any future integration type)
// share one account-level namespace, as in Snowflake.
const KindIntegration = "INTEGRATION"

// Integration categories (Integration.Category; SHOW INTEGRATIONS category column).
const (
	CategorySecurity = "SECURITY"
)

// Integration types (Integration.Type).
const (
	IntegrationAPIAuthentication = "API_AUTHENTICATION"
	IntegrationExternalAccess    = "EXTERNAL_ACCESS"
)

// API_AUTHENTICATION auth types (Integration.AuthType).
const (
	AuthTypeAWSIAM = "AWS_IAM"
	AuthTypeOAuth2 = "OAUTH2"
)

// Modes of an external access integration's ALLOWED_AUTHENTICATION_SECRETS.
const (
	SecretsNone = "NONE" // no secret is allowed through the list (the default)
	SecretsAll  = "ALL"  // every secret is allowed
	SecretsList = "LIST" // the secrets in AllowedSecrets are allowed
)

// Integration is an account-level integration: a SECURITY INTEGRATION of TYPE =
// API_AUTHENTICATION (AuthType AWS_IAM or OAUTH2) or an EXTERNAL ACCESS
// INTEGRATION. Fields not of its type are empty. The OAuth client secret is only
// ever stored sealed (OAuthClientSecretSealed); see ClientSecret.
type Integration struct {
	Name     string `json:"name"`
	Category string `json:"category"` // CategorySecurity
	Type     string `json:"type"`     // IntegrationAPIAuthentication or IntegrationExternalAccess
	AuthType string `json:"auth_type,omitempty"`
	// UID is a random identity fixed at creation, bound into sealed values' AAD.
	UID     string `json:"uid"`
	Enabled bool   `json:"enabled"`
	Comment string `json:"comment,omitempty"`

	// AWS_IAM: the role firn assumes, the IAM user firn calls STS as (from
	// configuration), and the external ID firn generated for this integration.
	AWSRoleARN    string `json:"aws_role_arn,omitempty"`
	AWSIAMUserARN string `json:"aws_iam_user_arn,omitempty"`
	AWSExternalID string `json:"aws_external_id,omitempty"`

	// OAUTH2.
	OAuthTokenEndpoint         string   `json:"oauth_token_endpoint,omitempty"`
	OAuthAuthorizationEndpoint string   `json:"oauth_authorization_endpoint,omitempty"`
	OAuthClientAuthMethod      string   `json:"oauth_client_auth_method,omitempty"` // CLIENT_SECRET_BASIC | CLIENT_SECRET_POST
	OAuthClientID              string   `json:"oauth_client_id,omitempty"`
	OAuthClientSecretSealed    []byte   `json:"oauth_client_secret_sealed,omitempty"`
	OAuthGrant                 string   `json:"oauth_grant,omitempty"` // CLIENT_CREDENTIALS | AUTHORIZATION_CODE | JWT_BEARER
	OAuthAllowedScopes         []string `json:"oauth_allowed_scopes,omitempty"`
	OAuthAccessTokenValidity   int64    `json:"oauth_access_token_validity,omitempty"`  // seconds, 0 = none
	OAuthRefreshTokenValidity  int64    `json:"oauth_refresh_token_validity,omitempty"` // seconds, 0 = none

	// EXTERNAL_ACCESS.
	AllowedNetworkRules []Object `json:"allowed_network_rules,omitempty"` // NETWORK RULE objects (EGRESS)
	// AllowedSecretsMode is SecretsNone, SecretsAll or SecretsList.
	AllowedSecretsMode string   `json:"allowed_secrets_mode,omitempty"`
	AllowedSecrets     []Object `json:"allowed_secrets,omitempty"` // SECRET objects, when SecretsList
	// AllowedAPIIntegrations names security integrations whose secrets are allowed.
	AllowedAPIIntegrations []string `json:"allowed_api_integrations,omitempty"`

	Meta Meta `json:"-"`
}

// Object is the integration as a securable object (GRANT ... ON INTEGRATION).
func (i *Integration) Object() Object { return Object{Kind: "INTEGRATION", Name: i.Name} }

// ShowType is SHOW INTEGRATIONS' type column: "API_AUTHENTICATION" or "EXTERNAL_ACCESS".
func (i *Integration) ShowType() string { return i.Type }

// AllowsSecret reports whether an external access integration lets workloads bound
// to it use secret s: ALLOWED_AUTHENTICATION_SECRETS lists it (or is ALL), or the
// secret's API_AUTHENTICATION integration is in ALLOWED_API_AUTHENTICATION_INTEGRATIONS.
// The two are independent. Enabled is not considered; callers check it.
func (i *Integration) AllowsSecret(s *Secret) bool {
	if i.Type != IntegrationExternalAccess {
		return false
	}
	switch i.AllowedSecretsMode {
	case SecretsAll:
		return true
	case SecretsList:
		if slices.Contains(i.AllowedSecrets, s.Object()) {
			return true
		}
	}
	return s.APIAuthentication != "" && slices.Contains(i.AllowedAPIIntegrations, s.APIAuthentication)
}

// SealClientSecret encrypts an OAuth client secret into OAuthClientSecretSealed. i.UID
// must be set. Like Secret.Seal, call it outside the statement's transaction.
func (i *Integration) SealClientSecret(kr *secrets.Keyring, account, clientSecret string) error {
	if i.UID == "" {
		return errors.New("catalog: integration has no uid")
	}
	ct, err := kr.Encrypt(account, []byte(clientSecret), SealedAAD(KindIntegration, i.UID))
	if err != nil {
		return fmt.Errorf("catalog: seal client secret: %w", err)
	}
	i.OAuthClientSecretSealed = ct
	return nil
}

// ClientSecret decrypts the OAuth client secret ("" when none was set). Tampered
// ciphertext yields an error wrapping ErrSealed, never a value.
func (i *Integration) ClientSecret(kr *secrets.Keyring, account string) (string, error) {
	if len(i.OAuthClientSecretSealed) == 0 {
		return "", nil
	}
	pt, err := kr.Decrypt(account, i.OAuthClientSecretSealed, SealedAAD(KindIntegration, i.UID))
	if err != nil {
		return "", fmt.Errorf("%w: integration %s: %w", ErrSealed, i.Name, err)
	}
	defer clear(pt)
	return string(pt), nil
}

// IntegrationKey is the store key of an integration.
func IntegrationKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindIntegration, Name: name}
}

// GetIntegration returns an integration of any type by exact account and name, or
// ErrNotFound.
func GetIntegration(ctx context.Context, tx store.Tx, account, name string) (*Integration, error) {
	var i Integration
	r, err := load(ctx, tx, IntegrationKey(account, name), &i)
	if err != nil {
		return nil, err
	}
	i.Name = name
	i.Meta = metaOf(r)
	return &i, nil
}

// ListIntegrations returns an account's integrations of every type, ordered by name.
func ListIntegrations(ctx context.Context, tx store.Tx, account string) ([]*Integration, error) {
	is, ms, err := list[Integration](ctx, tx, account, KindIntegration, "")
	for n := range is {
		is[n].Meta = ms[n]
	}
	return is, err
}

// CreateIntegration inserts a new integration owned by owner (ErrExists if any
// integration has the name).
func CreateIntegration(ctx context.Context, tx store.Tx, account, owner string, i *Integration) error {
	_, err := insert(ctx, tx, IntegrationKey(account, i.Name), owner, i)
	return err
}

// PutIntegration replaces an existing integration, keeping its owner.
func PutIntegration(ctx context.Context, tx store.Tx, account string, i *Integration) error {
	return put(ctx, tx, IntegrationKey(account, i.Name), "", i)
}

// DeleteIntegration removes an integration and the grants on it.
func DeleteIntegration(ctx context.Context, tx store.Tx, account, name string) error {
	if err := tx.Delete(ctx, IntegrationKey(account, name)); err != nil {
		return err
	}
	return DropGrantsOn(ctx, tx, account, Object{Kind: "INTEGRATION", Name: name})
}
