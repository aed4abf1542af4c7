package creds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/netpolicy"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// CatalogSource is the Source backed by firn's catalog: secrets, security
// integrations and external access integrations are catalog records, and sealed
// values are opened with the server's keyring.
type CatalogSource struct {
	// Keyring returns the keyring that opens sealed values (a function, so a keyring
	// replaced at run time is picked up).
	Keyring func() *secrets.Keyring
}

var (
	_ Source            = CatalogSource{}
	_ RefreshTokenSaver = CatalogSource{}
)

func (c CatalogSource) keyring() (*secrets.Keyring, error) {
	if c.Keyring == nil {
		return nil, errors.New("creds: no keyring configured")
	}
	kr := c.Keyring()
	if kr == nil {
		return nil, errors.New("creds: no keyring configured")
	}
	return kr, nil
}

// ExternalAccessIntegration implements Source. An integration of another type is
// reported as not found.
func (c CatalogSource) ExternalAccessIntegration(ctx context.Context, tx store.Tx, account, name string) (*EAI, error) {
	i, err := catalog.GetIntegration(ctx, tx, account, name)
	if err != nil {
		return nil, err
	}
	if i.Type != catalog.IntegrationExternalAccess {
		return nil, fmt.Errorf("creds: integration %s is not an external access integration: %w", name, store.ErrNotFound)
	}
	e := &EAI{Name: i.Name, Owner: i.Meta.Owner, Enabled: i.Enabled, AuthIntegrations: i.AllowedAPIIntegrations}
	switch i.AllowedSecretsMode {
	case catalog.SecretsAll:
		e.Secrets = AllowAll
	case catalog.SecretsList:
		e.Secrets = AllowList
		for _, o := range i.AllowedSecrets {
			e.SecretList = append(e.SecretList, SecretRef{Database: o.Database, Schema: o.Schema, Name: o.Name})
		}
	default:
		e.Secrets = AllowNone
	}
	for _, o := range i.AllowedNetworkRules {
		r, err := catalog.GetNetworkRule(ctx, tx, account, o.Database, o.Schema, o.Name)
		if catalog.IsNotFound(err) {
			continue // dropped since: it allows nothing
		}
		if err != nil {
			return nil, fmt.Errorf("creds: network rule %s of %s: %w", o.Database+"."+o.Schema+"."+o.Name, name, err)
		}
		e.NetworkRules = append(e.NetworkRules, netpolicy.Rule{Name: r.FullName(), Type: r.Type, Mode: r.Mode, Values: r.Values})
	}
	return e, nil
}

// Secret implements Source, opening the sealed value.
func (c CatalogSource) Secret(ctx context.Context, tx store.Tx, account string, ref SecretRef) (*Secret, error) {
	s, err := catalog.GetSecret(ctx, tx, account, ref.Database, ref.Schema, ref.Name)
	if err != nil {
		return nil, err
	}
	out := &Secret{Ref: ref, Owner: s.Meta.Owner, Type: s.Type, Version: s.Version(), Revision: s.Revision(),
		Username: s.Username, Integration: s.APIAuthentication, Scopes: s.OAuthScopes,
		RefreshTokenExpiry: s.OAuthRefreshTokenExpiry, Disabled: s.Disabled}
	if len(s.Sealed) > 0 {
		kr, err := c.keyring()
		if err != nil {
			return nil, err
		}
		v, err := s.Open(kr, account)
		if err != nil {
			return nil, err
		}
		out.Password, out.String, out.RefreshToken = Sensitive(v.Password), Sensitive(v.SecretString), Sensitive(v.OAuthRefreshToken)
	}
	return out, nil
}

// SecurityIntegration implements Source, opening the OAuth client secret. An
// integration of another type is reported as not found.
func (c CatalogSource) SecurityIntegration(ctx context.Context, tx store.Tx, account, name string) (*SecurityIntegration, error) {
	i, err := catalog.GetIntegration(ctx, tx, account, name)
	if err != nil {
		return nil, err
	}
	if i.Type != catalog.IntegrationAPIAuthentication {
		return nil, fmt.Errorf("creds: integration %s is not an API_AUTHENTICATION integration: %w", name, store.ErrNotFound)
	}
	out := &SecurityIntegration{Name: i.Name, Enabled: i.Enabled, AuthType: i.AuthType, Version: i.Meta.Modified.UnixNano(),
		RoleARN: i.AWSRoleARN, ExternalID: i.AWSExternalID, TokenEndpoint: i.OAuthTokenEndpoint, ClientID: i.OAuthClientID,
		ClientAuthMethod: i.OAuthClientAuthMethod, AccessTokenValidity: time.Duration(i.OAuthAccessTokenValidity) * time.Second,
		AllowedScopes: i.OAuthAllowedScopes}
	if len(i.OAuthClientSecretSealed) > 0 {
		kr, err := c.keyring()
		if err != nil {
			return nil, err
		}
		cs, err := i.ClientSecret(kr, account)
		if err != nil {
			return nil, err
		}
		out.ClientSecret = Sensitive(cs)
	}
	return out, nil
}

// SaveRefreshToken implements RefreshTokenSaver: it re-seals the secret's value with
// token as its OAUTH_REFRESH_TOKEN — outside any transaction, since the keyring may
// persist a data key through a store transaction of its own and the store has a
// single writer — and then, in one transaction, replaces the sealed value only if
// the secret's Revision is still revision (catalog.ReplaceRotatedRefreshToken).
func (c CatalogSource) SaveRefreshToken(ctx context.Context, st store.Store, account string, ref SecretRef, revision string, token Sensitive) (bool, error) {
	kr, err := c.keyring()
	if err != nil {
		return false, err
	}
	var cur *catalog.Secret
	err = st.View(ctx, func(tx store.Tx) error {
		var err error
		cur, err = catalog.GetSecret(ctx, tx, account, ref.Database, ref.Schema, ref.Name)
		return err
	})
	if catalog.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creds: read secret %s: %w", ref, err)
	}
	if cur.Type != catalog.SecretOAuth2 || cur.Revision() != revision {
		return false, nil // altered or replaced since it was read
	}
	v, err := cur.Open(kr, account)
	if err != nil {
		return false, err
	}
	v.OAuthRefreshToken = token.Reveal()
	sealed := *cur
	err = sealed.Seal(kr, account, v)
	clear(v.SymmetricKey)
	if err != nil {
		return false, err
	}
	var saved bool
	err = st.Update(ctx, func(tx store.Tx) error {
		var err error
		saved, err = catalog.ReplaceRotatedRefreshToken(ctx, tx, account, ref.Database, ref.Schema, ref.Name, revision, sealed.Sealed)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("creds: store rotated refresh token of %s: %w", ref, err)
	}
	return saved, nil
}
