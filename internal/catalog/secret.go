package catalog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
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
	// Rotation is set when firn's credential broker last wrote the record, storing a
	// refresh token the OAuth server rotated (see ReplaceRotatedRefreshToken). It
	// keeps the secret's Version across that write.
	Rotation *SecretRotation `json:"rotation,omitempty"`
	Meta     Meta            `json:"-"`
}

// SecretRotation records a write of a rotated OAuth refresh token by the credential
// broker. Such a write is not an ALTER: the secret's Version stays what it was, so
// that tokens cached for the secret are not discarded. Any later change to the record
// (an ALTER of any property, a rename) makes Digest stale, and Version is then the
// record's modification time again.
type SecretRotation struct {
	// Version is the secret's Version before the rotation.
	Version int64 `json:"version"`
	// Digest is the SHA-256 of the record's body, without Rotation, as written.
	Digest []byte `json:"digest"`
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

// bodyDigest is the SHA-256 of the secret's JSON body without Rotation.
func (s *Secret) bodyDigest() ([]byte, error) {
	c := *s
	c.Rotation = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode secret %s: %w", s.FullName(), err)
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// Version identifies the secret's settings: it changes whenever the secret is
// created, altered or renamed, but not when the credential broker stores a rotated
// refresh token (see SecretRotation). It is the record's modification time in
// nanoseconds, or the version a still-current Rotation kept.
func (s *Secret) Version() int64 {
	if r := s.Rotation; r != nil {
		if d, err := s.bodyDigest(); err == nil && subtle.ConstantTimeCompare(d, r.Digest) == 1 {
			return r.Version
		}
	}
	return s.Meta.Modified.UnixNano()
}

// Revision identifies the stored record exactly: the secret's UID, its Version and
// the SHA-256 of its sealed value. It holds nothing secret. A record read again
// has the same Revision only if neither its settings nor its value changed.
func (s *Secret) Revision() string {
	sum := sha256.Sum256(s.Sealed)
	return s.UID + "/" + fmt.Sprint(s.Version()) + "/" + hex.EncodeToString(sum[:])
}

// ReplaceRotatedRefreshToken stores sealed — the secret's value with a refresh token
// the OAuth server rotated, sealed under the secret's UID outside the transaction —
// into secret db.schema.name if the stored secret's Revision still is rev: a
// compare-and-swap, so a refresher that read an older record never overwrites a
// newer token or an ALTER, and a dropped (or replaced) secret is not re-created. It
// reports whether it replaced the value. The secret's Version is kept.
func ReplaceRotatedRefreshToken(ctx context.Context, tx store.Tx, account, db, schema, name, rev string, sealed []byte) (bool, error) {
	s, err := GetSecret(ctx, tx, account, db, schema, name)
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare([]byte(s.Revision()), []byte(rev)) != 1 {
		return false, nil
	}
	version := s.Version()
	s.Sealed = sealed
	s.Rotation = nil
	d, err := s.bodyDigest()
	if err != nil {
		return false, err
	}
	s.Rotation = &SecretRotation{Version: version, Digest: d}
	if err := PutSecret(ctx, tx, account, s); err != nil {
		return false, err
	}
	return true, nil
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
