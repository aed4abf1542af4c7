// Package secrets provides envelope encryption at rest for firn.
//
// A single 256-bit master key (from FIRN_MASTER_KEY or a 0600 key file) wraps one
// 256-bit data key per account with AES-256-GCM; the data keys encrypt individual
// values, again with AES-256-GCM, a fresh random 96-bit nonce per message and
// additional authenticated data that binds each ciphertext to its account and to
// the object it belongs to. Only wrapped data keys ever leave this package, so the
// store never holds a usable key. Rotating the master key re-wraps the data keys
// without touching any ciphertext.
//
// All cryptography is from the Go standard library (crypto/aes, crypto/cipher,
// crypto/rand). No function in this package logs, and no error message contains
// key material or plaintext.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size in bytes of master and data keys (AES-256).
const KeySize = 32

// MasterKeyEnv is the environment variable that may hold the base64 master key.
const MasterKeyEnv = "FIRN_MASTER_KEY"

// MasterKey is the key that wraps the per-account data keys. Its bytes are never
// exposed: String, GoString and the text/JSON marshalers all redact it.
type MasterKey struct {
	aead cipher.AEAD
	id   string
	// raw is kept only so that WriteFile can persist a rotated-in key; it is never
	// returned or formatted.
	raw []byte
}

// NewMasterKey returns a master key from 32 raw bytes. The slice is copied.
func NewMasterKey(raw []byte) (*MasterKey, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("secrets: master key must be %d bytes, got %d", KeySize, len(raw))
	}
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	// The ID is a one-way fingerprint under a domain separator, safe to log: it
	// lets an operator tell which key is in use without revealing it.
	sum := sha256.Sum256(append([]byte("firn master key id\x00"), raw...))
	return &MasterKey{aead: aead, id: hex.EncodeToString(sum[:8]), raw: bytes.Clone(raw)}, nil
}

// WriteFile writes the key as base64 text to a new file at path with mode 0600,
// failing if the file exists, and syncs it. It is how a rotated-in master key is
// persisted (see LoadOrCreateMasterKey for the format).
func (k *MasterKey) WriteFile(path string) error {
	enc := base64.StdEncoding.EncodeToString(k.raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("secrets: creating master key file: %w", err)
	}
	_, werr := f.WriteString(enc + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return fmt.Errorf("secrets: writing master key file: %w", err)
	}
	return nil
}

// GenerateMasterKey returns a fresh random master key and its base64 encoding,
// suitable for a key file or FIRN_MASTER_KEY.
func GenerateMasterKey() (*MasterKey, string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("secrets: generating master key: %w", err)
	}
	mk, err := NewMasterKey(raw)
	if err != nil {
		return nil, "", err
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	clear(raw)
	return mk, enc, nil
}

// ParseMasterKey decodes a base64 (standard or URL alphabet, padded or not)
// master key, ignoring surrounding white space.
func ParseMasterKey(text string) (*MasterKey, error) {
	text = strings.TrimSpace(text)
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = enc.DecodeString(text); err == nil {
			break
		}
	}
	if err != nil {
		// Deliberately not wrapping err: base64 errors quote input offsets only, but
		// keep the message free of anything derived from the key text.
		return nil, errors.New("secrets: master key is not valid base64")
	}
	defer clear(raw)
	return NewMasterKey(raw)
}

// ID returns a short, non-secret fingerprint of the key, safe to log.
func (k *MasterKey) ID() string { return k.id }

// String redacts the key (value receiver, so a copied MasterKey is redacted too).
func (k MasterKey) String() string { return "MasterKey(" + k.id + ")" }

// GoString redacts the key.
func (k MasterKey) GoString() string { return k.String() }

// MarshalText refuses to serialise the key.
func (k *MasterKey) MarshalText() ([]byte, error) {
	return nil, errors.New("secrets: a master key cannot be marshalled")
}

// LoadOrCreateMasterKey returns the master key. When env (the value of
// FIRN_MASTER_KEY) is non-empty it is decoded as base64 and path is ignored.
// Otherwise the key is read from the base64 text file at path; if that file does
// not exist a new random key is written there with mode 0600 (its directory is
// created 0700 if needed) and created is true. A key file readable or writable by
// group or others is refused. The key is never logged or printed; callers may log
// path and MasterKey.ID.
func LoadOrCreateMasterKey(path string, env string) (mk *MasterKey, created bool, err error) {
	if env != "" {
		mk, err := ParseMasterKey(env)
		if err != nil {
			return nil, false, fmt.Errorf("secrets: %s: %w", MasterKeyEnv, err)
		}
		return mk, false, nil
	}
	if path == "" {
		return nil, false, fmt.Errorf("secrets: no master key: set %s or a master key file", MasterKeyEnv)
	}
	f, err := os.Open(path)
	switch {
	case err == nil:
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, false, fmt.Errorf("secrets: master key file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, false, fmt.Errorf("secrets: master key file %s is not a regular file", path)
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			return nil, false, fmt.Errorf("secrets: master key file %s has mode %#o; it must not be accessible by group or others (chmod 600 %s)", path, perm, path)
		}
		buf, err := io.ReadAll(io.LimitReader(f, 4096))
		defer clear(buf)
		if err != nil {
			return nil, false, fmt.Errorf("secrets: reading master key file %s: %w", path, err)
		}
		mk, err := ParseMasterKey(string(buf))
		if err != nil {
			return nil, false, fmt.Errorf("secrets: master key file %s: %w", path, err)
		}
		return mk, false, nil
	case errors.Is(err, fs.ErrNotExist):
		return createMasterKeyFile(path)
	default:
		return nil, false, fmt.Errorf("secrets: opening master key file: %w", err)
	}
}

func createMasterKeyFile(path string) (*MasterKey, bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets: creating master key directory: %w", err)
	}
	mk, enc, err := GenerateMasterKey()
	if err != nil {
		return nil, false, err
	}
	// O_EXCL: if another process created the file meanwhile, fail rather than
	// overwrite a key that may already protect data.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: creating master key file: %w", err)
	}
	_, werr := f.WriteString(enc + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("secrets: writing master key file: %w", err)
	}
	return mk, true, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return aead, nil
}
