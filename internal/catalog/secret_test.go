package catalog

import (
	"bytes"
	"errors"
	"testing"

	"github.com/firn/firn/internal/secrets"
)

func testKeyring(t *testing.T) *secrets.Keyring {
	t.Helper()
	mk, _, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return secrets.NewKeyring(mk, nil)
}

func TestSecretSealOpen(t *testing.T) {
	kr := testKeyring(t)
	const pw = "s3cr3t-Pa55word"
	newSecret := func() *Secret {
		uid, err := NewUID()
		if err != nil {
			t.Fatal(err)
		}
		s := &Secret{Database: "DB", Schema: "SC", Name: "S", UID: uid, Type: SecretPassword, Username: "u"}
		if err := s.Seal(kr, "ACME", &SecretValue{Password: pw}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := newSecret()
	if bytes.Contains(s.Sealed, []byte(pw)) {
		t.Fatal("sealed value contains the plaintext")
	}
	v, err := s.Open(kr, "ACME")
	if err != nil || v.Password != pw {
		t.Fatalf("Open = %v, %v", v, err)
	}
	other := newSecret()

	tests := []struct {
		name    string
		mutate  func(s *Secret) (account string)
		wantErr error
	}{
		{"flipped bit", func(s *Secret) string { s.Sealed[len(s.Sealed)-1] ^= 1; return "ACME" }, secrets.ErrTampered},
		{"flipped nonce", func(s *Secret) string { s.Sealed[6] ^= 0x80; return "ACME" }, secrets.ErrTampered},
		{"truncated", func(s *Secret) string { s.Sealed = s.Sealed[:10]; return "ACME" }, secrets.ErrTampered},
		{"other account", func(s *Secret) string { return "OTHER" }, secrets.ErrNoDataKey},
		{"copied from another secret", func(s *Secret) string { s.Sealed = other.Sealed; return "ACME" }, secrets.ErrTampered},
		{"uid changed", func(s *Secret) string { s.UID = other.UID + "x"; return "ACME" }, secrets.ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *newSecret()
			c.Sealed = bytes.Clone(c.Sealed)
			account := tt.mutate(&c)
			v, err := c.Open(kr, account)
			if v != nil || !errors.Is(err, ErrSealed) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open = %v, %v; want nil and %v", v, err, tt.wantErr)
			}
			if bytes.Contains([]byte(err.Error()), []byte(pw)) {
				t.Fatal("error contains the plaintext")
			}
		})
	}
}

func TestIntegrationClientSecret(t *testing.T) {
	kr := testKeyring(t)
	in := &Integration{Name: "I", UID: "u1", Type: IntegrationAPIAuthentication, AuthType: AuthTypeOAuth2}
	if got, err := in.ClientSecret(kr, "ACME"); got != "" || err != nil {
		t.Fatalf("unset ClientSecret = %q, %v", got, err)
	}
	if err := in.SealClientSecret(kr, "ACME", "client-secret-value"); err != nil {
		t.Fatal(err)
	}
	if got, err := in.ClientSecret(kr, "ACME"); got != "client-secret-value" || err != nil {
		t.Fatalf("ClientSecret = %q, %v", got, err)
	}
	in.OAuthClientSecretSealed[len(in.OAuthClientSecretSealed)-3] ^= 4
	if got, err := in.ClientSecret(kr, "ACME"); got != "" || !errors.Is(err, secrets.ErrTampered) {
		t.Fatalf("tampered ClientSecret = %q, %v", got, err)
	}
}

func TestAllowsSecret(t *testing.T) {
	sec := &Secret{Database: "D", Schema: "S", Name: "X", APIAuthentication: "AWS_INT"}
	plain := &Secret{Database: "D", Schema: "S", Name: "Y"}
	tests := []struct {
		name string
		in   Integration
		sec  *Secret
		want bool
	}{
		{"none", Integration{Type: IntegrationExternalAccess, AllowedSecretsMode: SecretsNone}, plain, false},
		{"all", Integration{Type: IntegrationExternalAccess, AllowedSecretsMode: SecretsAll}, plain, true},
		{"listed", Integration{Type: IntegrationExternalAccess, AllowedSecretsMode: SecretsList, AllowedSecrets: []Object{plain.Object()}}, plain, true},
		{"not listed", Integration{Type: IntegrationExternalAccess, AllowedSecretsMode: SecretsList, AllowedSecrets: []Object{sec.Object()}}, plain, false},
		{"via api integration", Integration{Type: IntegrationExternalAccess, AllowedSecretsMode: SecretsNone, AllowedAPIIntegrations: []string{"AWS_INT"}}, sec, true},
		{"security integration never", Integration{Type: IntegrationAPIAuthentication, AllowedSecretsMode: SecretsAll}, plain, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.AllowsSecret(tt.sec); got != tt.want {
				t.Fatalf("AllowsSecret = %v; want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkSecretOpen(b *testing.B) {
	mk, _, _ := secrets.GenerateMasterKey()
	kr := secrets.NewKeyring(mk, nil)
	s := &Secret{Database: "DB", Schema: "SC", Name: "S", UID: "uid", Type: SecretPassword}
	if err := s.Seal(kr, "ACME", &SecretValue{Password: "p4ssw0rd-of-some-length"}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Open(kr, "ACME"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSecretSeal(b *testing.B) {
	mk, _, _ := secrets.GenerateMasterKey()
	kr := secrets.NewKeyring(mk, nil)
	s := &Secret{Database: "DB", Schema: "SC", Name: "S", UID: "uid", Type: SecretPassword}
	v := &SecretValue{Password: "p4ssw0rd-of-some-length"}
	for b.Loop() {
		if err := s.Seal(kr, "ACME", v); err != nil {
			b.Fatal(err)
		}
	}
}
