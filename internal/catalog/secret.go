package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// KindSecret is the store kind of SECRET records (schema objects: Parent "DB.SCHEMA").
const KindSecret = "SECRET"

// Secret types (CREATE SECRET ... TYPE = <type>).
const (
	SecretPassword           = "PASSWORD"
	SecretGenericString      = "GENERIC_STRING"
	SecretOAuth2             = "OAUTH2"
	SecretCloudProviderToken = "CLOUD_PROVIDER_TOKEN"
	SecretSymmetricKey       = "SYMMETRIC_KEY"
)

// Secret privileges besides OWNERSHIP (PrivUsage is USAGE).
const (
	// PrivRead lets a role's executables (UDFs, procedures, services) read the value.
	PrivRead = "READ"
	// PrivModify lets a role ALTER the secret (and run the OAuth flow functions).
	PrivModify = "MODIFY"
)

func init() {
	RegisterKind(KindSpec{Kind: "SECRET", Plural: "SECRETS", StoreKind: KindSecret, Level: LevelSchemaObject,
		Label: "Secret", Privileges: []string{PrivUsage, PrivRead, PrivModify}})
}

// Secret is a schema-level SECRET. Its sensitive material (password, secret string,
// OAuth refresh token, symmetric key) is never held in clear in the record: Sealed is
// a SecretValue encrypted with the account's data key (package secrets), with
// additional data binding it to the account and to this secret's UID. Everything
// else is metadata that SHOW / DESC may display.
type Secret struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	Name     string `json:"name"`
	// UID is a random identity fixed at creation; the ciphertext is bound to it, so
	// the secret keeps its value across RENAME and database/schema renames while a
	// ciphertext copied to any other secret fails to decrypt.
	UID  string `json:"uid"`
	Type string `json:"type"` // one of the Secret* type constants
	// Username is the PASSWORD secret's user name (not secret; DESC shows it).
	Username string `json:"username,omitempty"`
	// APIAuthentication names the security integration of an OAUTH2 or
	// CLOUD_PROVIDER_TOKEN secret (account-level, exact stored name).
	APIAuthentication string `json:"api_authentication,omitempty"`
	// OAuthScopes are the OAUTH2 client-credentials scopes; nil means all of the
	// integration's OAUTH_ALLOWED_SCOPES.
	OAuthScopes []string `json:"oauth_scopes,omitempty"`
	// OAuthRefreshTokenExpiry is the OAUTH2 authorization-code refresh token's expiry
	// (zero when none was given).
	OAuthRefreshTokenExpiry time.Time `json:"oauth_refresh_token_expiry,omitzero"`
	// Algorithm and KeyLength describe a SYMMETRIC_KEY (GENERIC, 256 bits).
	Algorithm string `json:"algorithm,omitempty"`
	KeyLength int    `json:"key_length,omitempty"`
	// Disabled is CLOUD_PROVIDER_TOKEN's ENABLED = FALSE.
	Disabled bool   `json:"disabled,omitempty"`
	Comment  string `json:"comment,omitempty"`
	// Sealed is the encrypted SecretValue (nil when the type carries no material, e.g.
	// CLOUD_PROVIDER_TOKEN or an OAUTH2 client-credentials secret).
	Sealed []byte `json:"sealed,omitempty"`
	Meta   Meta   `json:"-"`
}

// SecretValue is the sensitive material of a secret, as it is sealed. Only the
// fields of the secret's type are set.
type SecretValue struct {
	Password          string `json:"password,omitempty"`            // PASSWORD
	SecretString      string `json:"secret_string,omitempty"`       // GENERIC_STRING
	OAuthRefreshToken string `json:"oauth_refresh_token,omitempty"` // OAUTH2 authorization code
	SymmetricKey      []byte `json:"symmetric_key,omitempty"`       // SYMMETRIC_KEY (32 bytes)
}

// String redacts the value, so that a SecretValue printed by mistake shows nothing.
func (SecretValue) String() string { return "SecretValue(redacted)" }

// GoString redacts the value.
func (v SecretValue) GoString() string { return v.String() }

// Object is the secret as a securable object.
func (s *Secret) Object() Object {
	return Object{Kind: "SECRET", Database: s.Database, Schema: s.Schema, Name: s.Name}
}

// FullName is DB.SCHEMA.NAME as stored.
func (s *Secret) FullName() string { return s.Database + "." + s.Schema + "." + s.Name }

// NewUID returns a random object identity for the AAD of sealed values.
func NewUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("catalog: object uid: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// SealedAAD is the additional authenticated data of a sealed value of an object:
// its kind and UID (the account is bound by the keyring itself).
func SealedAAD(kind, uid string) []byte { return []byte("firn sealed v1\x00" + kind + "\x00" + uid) }

// ErrSealed is wrapped by Open errors: the stored ciphertext could not be
// decrypted (tampered, copied from another object, or the data key is missing).
var ErrSealed = errors.New("catalog: sealed value cannot be decrypted")

// Seal encrypts v into s.Sealed with account's data key. s.UID must be set. Seal
// may create the account's first data key, which is persisted through the
// keyring's save function in a transaction of its own, so call it before (outside)
// the statement's transaction.
func (s *Secret) Seal(kr *secrets.Keyring, account string, v *SecretValue) error {
	if s.UID == "" {
		return errors.New("catalog: secret has no uid")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("catalog: encode secret value: %w", err)
	}
	defer clear(b)
	ct, err := kr.Encrypt(account, b, SealedAAD(KindSecret, s.UID))
	if err != nil {
		return fmt.Errorf("catalog: seal secret: %w", err)
	}
	s.Sealed = ct
	return nil
}

// Open decrypts the secret's material. A secret without material yields an empty
// value. A ciphertext that does not authenticate yields an error wrapping ErrSealed
// and secrets.ErrTampered (or secrets.ErrNoDataKey) and never a value.
func (s *Secret) Open(kr *secrets.Keyring, account string) (*SecretValue, error) {
	if len(s.Sealed) == 0 {
		return &SecretValue{}, nil
	}
	pt, err := kr.Decrypt(account, s.Sealed, SealedAAD(KindSecret, s.UID))
	if err != nil {
		return nil, fmt.Errorf("%w: secret %s: %w", ErrSealed, s.FullName(), err)
	}
	defer clear(pt)
	var v SecretValue
	if err := json.Unmarshal(pt, &v); err != nil {
		return nil, fmt.Errorf("%w: secret %s: malformed value", ErrSealed, s.FullName())
	}
	return &v, nil
}

// SecretKey is the store key of a secret.
func SecretKey(account, db, schema, name string) store.Key {
	return store.Key{Account: account, Kind: KindSecret, Parent: db + "." + schema, Name: name}
}

// GetSecret returns a secret by exact account, database, schema and name, or
// ErrNotFound. The value stays sealed; see Secret.Open.
func GetSecret(ctx context.Context, tx store.Tx, account, db, schema, name string) (*Secret, error) {
	var s Secret
	r, err := load(ctx, tx, SecretKey(account, db, schema, name), &s)
	if err != nil {
		return nil, err
	}
	s.Database, s.Schema, s.Name = db, schema, name
	s.Meta = metaOf(r)
	return &s, nil
}

// ListSecrets returns the secrets under parent ("DB.SCHEMA", or "*" for every
// schema of the account), ordered by name.
func ListSecrets(ctx context.Context, tx store.Tx, account, parent string) ([]*Secret, error) {
	recs, err := tx.List(ctx, account, KindSecret, parent)
	if err != nil {
		return nil, err
	}
	out := make([]*Secret, 0, len(recs))
	for _, r := range recs {
		var s Secret
		if err := json.Unmarshal(r.Data, &s); err != nil {
			return nil, fmt.Errorf("catalog: decode secret %q: %w", r.Name, err)
		}
		s.Name = r.Name
		if db, sch, ok := strings.Cut(r.Parent, "."); ok {
			s.Database, s.Schema = db, sch
		}
		s.Meta = metaOf(r)
		out = append(out, &s)
	}
	return out, nil
}

// CreateSecret inserts a new secret owned by owner (ErrExists if the name is taken).
func CreateSecret(ctx context.Context, tx store.Tx, account, owner string, s *Secret) error {
	_, err := insert(ctx, tx, SecretKey(account, s.Database, s.Schema, s.Name), owner, s)
	return err
}

// PutSecret replaces an existing secret, keeping its owner.
func PutSecret(ctx context.Context, tx store.Tx, account string, s *Secret) error {
	return put(ctx, tx, SecretKey(account, s.Database, s.Schema, s.Name), "", s)
}

// RenameSecret moves a secret to a new name in the same schema, with its grants.
func RenameSecret(ctx context.Context, tx store.Tx, account string, s *Secret, to string) error {
	from := s.Object()
	if err := tx.Rename(ctx, SecretKey(account, s.Database, s.Schema, s.Name), SecretKey(account, s.Database, s.Schema, to)); err != nil {
		return err
	}
	s.Name = to
	if err := PutSecret(ctx, tx, account, s); err != nil {
		return err
	}
	dest := s.Object()
	return MoveGrants(ctx, tx, account, func(o Object) (Object, bool) {
		if o == from {
			return dest, true
		}
		return Object{}, false
	})
}

// DeleteSecret removes a secret and the grants on it.
func DeleteSecret(ctx context.Context, tx store.Tx, account string, s *Secret) error {
	if err := tx.Delete(ctx, SecretKey(account, s.Database, s.Schema, s.Name)); err != nil {
		return err
	}
	return DropGrantsOn(ctx, tx, account, s.Object())
}

// MoveSecrets re-keys the secrets of schema fromDB.fromSchema (every schema of fromDB
// when fromSchema is "") to toDB (and toSchema, or the same schema name), for RENAME
// of a database or schema. Grants are the caller's (MoveGrants); sealed values are
// bound to the secrets' UIDs, so they stay decryptable.
func MoveSecrets(ctx context.Context, tx store.Tx, account, fromDB, fromSchema, toDB, toSchema string) error {
	parent := fromDB + "." + fromSchema
	if fromSchema == "" {
		parent = "*"
	}
	secs, err := ListSecrets(ctx, tx, account, parent)
	if err != nil {
		return err
	}
	for _, sec := range secs {
		if sec.Database != fromDB {
			continue
		}
		sch := sec.Schema
		if fromSchema != "" && toSchema != "" {
			sch = toSchema
		}
		if err := tx.Rename(ctx, SecretKey(account, sec.Database, sec.Schema, sec.Name), SecretKey(account, toDB, sch, sec.Name)); err != nil {
			return err
		}
		sec.Database, sec.Schema = toDB, sch
		if err := PutSecret(ctx, tx, account, sec); err != nil {
			return err
		}
	}
	return nil
}
