package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Lookup secrets are bearer secrets that the store finds by an id they carry:
// "<prefix><id>_<key>", with a 96-bit random lookup id (16 base64url characters) and a
// 256-bit random key (43 base64url characters). Only the SHA-256 of the whole secret
// is stored, and the id alone grants nothing. Programmatic access tokens and password
// reset links use them.
const (
	lookupIDBytes  = 12
	lookupKeyBytes = 32
	lookupIDChars  = 16 // base64url(12 bytes), unpadded
	lookupKeyChars = 43 // base64url(32 bytes), unpadded
)

// NewLookupSecret returns a fresh lookup secret with the given prefix, its lookup id
// and the SHA-256 hash to store.
func NewLookupSecret(prefix string) (secret, id string, hash []byte, err error) {
	b := make([]byte, lookupIDBytes+lookupKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("auth: random secret: %w", err)
	}
	enc := base64.RawURLEncoding
	id = enc.EncodeToString(b[:lookupIDBytes])
	secret = prefix + id + "_" + enc.EncodeToString(b[lookupIDBytes:])
	h := sha256.Sum256([]byte(secret))
	return secret, id, h[:], nil
}

// ParseLookupSecret returns the lookup id of a well-formed lookup secret with the
// given prefix; ok is false for anything else.
func ParseLookupSecret(prefix, secret string) (id string, ok bool) {
	if len(secret) != len(prefix)+lookupIDChars+1+lookupKeyChars || !strings.HasPrefix(secret, prefix) {
		return "", false
	}
	rest := secret[len(prefix):]
	if rest[lookupIDChars] != '_' {
		return "", false
	}
	id, key := rest[:lookupIDChars], rest[lookupIDChars+1:]
	enc := base64.RawURLEncoding.Strict()
	if _, err := enc.DecodeString(id); err != nil {
		return "", false
	}
	if _, err := enc.DecodeString(key); err != nil {
		return "", false
	}
	return id, true
}
