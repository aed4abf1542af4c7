package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// OAuth signing keys at rest.
//
// An account's HS256 signing key is stored (kind KindOAuthKey) only as an AES-256-GCM
// ciphertext under the account's data key (package secrets), with additional data
// binding it to the account, the kind and the record name, so a ciphertext copied to
// another account or record does not open. Sealing may create the account's first data
// key, which the keyring persists through a store transaction of its own: it therefore
// always happens outside any transaction (the store has a single writer, and nesting
// would deadlock), and the sealed record is then inserted only if none exists yet.
//
// Records written by firn versions that kept the key in plaintext ({"key": …}) still
// verify; SealLegacyOAuthKeys re-seals them when the server starts, and
// MintOAuthToken re-seals any it meets. Master-key rotation re-wraps data keys only,
// so sealed signing keys, and the tokens they signed, are unaffected by it.

// oauthKeySize is the length of an HMAC-SHA256 signing key.
const oauthKeySize = 32

// ErrOAuthKeySealed is wrapped by the error for a signing-key record that cannot be
// opened: its ciphertext is corrupt, tampered with or copied from elsewhere, the
// account has no data key, the master key is wrong, or no keyring is configured.
var ErrOAuthKeySealed = errors.New("oauth: signing key cannot be unsealed")

// oauthKeyRecord is the stored body of a KindOAuthKey record.
type oauthKeyRecord struct {
	// Sealed is the key encrypted with the account's data key (Keyring.Encrypt).
	Sealed []byte `json:"sealed,omitempty"`
	// Key is the key in plaintext, as older firn versions stored it (legacy).
	Key []byte `json:"key,omitempty"`
}

func oauthKeyKey(account string) store.Key {
	return store.Key{Account: account, Kind: KindOAuthKey, Name: oauthKeyName}
}

// oauthKeyAAD is the additional data of account's sealed signing key: the kind and
// the record name (the keyring itself binds the account, length-prefixed; the
// account is repeated here so the AAD names the whole record key).
func oauthKeyAAD(account string) []byte {
	return catalog.SealedAAD(KindOAuthKey, account+"\x00"+oauthKeyName)
}

// OpenOAuthKeyRecord returns the signing key held by the body of account's
// KindOAuthKey record. legacy reports a record that holds the key in plaintext. A
// record that does not open yields an error wrapping ErrOAuthKeySealed (and the
// keyring's secrets.ErrTampered or secrets.ErrNoDataKey), never a key; kr may be nil
// only for legacy records. The caller must not modify the returned key.
func OpenOAuthKeyRecord(kr *secrets.Keyring, account string, data []byte) (key []byte, legacy bool, err error) {
	var rec oauthKeyRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("%w: account %s: malformed record", ErrOAuthKeySealed, account)
	}
	switch {
	case len(rec.Sealed) > 0:
		if kr == nil {
			return nil, false, fmt.Errorf("%w: account %s: no keyring configured", ErrOAuthKeySealed, account)
		}
		key, err := kr.Decrypt(account, rec.Sealed, oauthKeyAAD(account))
		if err != nil {
			return nil, false, fmt.Errorf("%w: account %s: %w", ErrOAuthKeySealed, account, err)
		}
		if len(key) != oauthKeySize {
			clear(key)
			return nil, false, fmt.Errorf("%w: account %s: key has the wrong length", ErrOAuthKeySealed, account)
		}
		return key, false, nil
	case len(rec.Key) >= oauthKeySize:
		return rec.Key, true, nil
	}
	return nil, false, fmt.Errorf("%w: account %s: record holds no key", ErrOAuthKeySealed, account)
}

// oauthKeys seals, stores and opens the signing keys of the OAUTH authenticator and
// caches unsealed keys per account. The cache entry is keyed by the record body it
// was opened from, so any change to the record (re-sealing, tampering, an account
// dropped and re-created) is noticed on the next use.
type oauthKeys struct {
	kr    atomic.Pointer[secrets.Keyring]
	mu    sync.RWMutex
	cache map[string]cachedOAuthKey // by account name
}

type cachedOAuthKey struct {
	data []byte // the record body the key was opened from
	key  []byte
}

func newOAuthKeys() *oauthKeys { return &oauthKeys{cache: map[string]cachedOAuthKey{}} }

// open returns the key of account held by record body data, from the cache when
// data is what the cached key was opened from.
func (k *oauthKeys) open(account string, data []byte) (key []byte, legacy bool, err error) {
	k.mu.RLock()
	c, ok := k.cache[account]
	k.mu.RUnlock()
	if ok && bytes.Equal(c.data, data) {
		return c.key, false, nil
	}
	key, legacy, err = OpenOAuthKeyRecord(k.kr.Load(), account, data)
	if err != nil {
		k.forget(account)
		return nil, false, err
	}
	if !legacy {
		k.remember(account, data, key)
	}
	return key, legacy, nil
}

func (k *oauthKeys) remember(account string, data, key []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cache[account] = cachedOAuthKey{data: bytes.Clone(data), key: key}
}

func (k *oauthKeys) forget(account string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.cache, account)
}

// forLogin returns the key that verifies account's tokens, reading its record in tx.
// It never writes, so it is safe inside a login transaction.
func (k *oauthKeys) forLogin(ctx context.Context, tx store.Tx, account string) ([]byte, error) {
	r, err := tx.Get(ctx, oauthKeyKey(account))
	if err != nil {
		return nil, fmt.Errorf("oauth: signing key of %s: %w", account, err)
	}
	key, _, err := k.open(account, r.Data)
	return key, err
}

// forMint returns account's signing key, creating and storing a sealed one when the
// account has none, and re-sealing a legacy plaintext one. It must not be called
// inside a store transaction.
func (k *oauthKeys) forMint(ctx context.Context, st store.Store, account string) ([]byte, error) {
	var data []byte
	err := st.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, oauthKeyKey(account))
		if err == nil {
			data = r.Data
		}
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return k.create(ctx, st, account)
	case err != nil:
		return nil, err
	}
	key, legacy, err := k.open(account, data)
	if err != nil {
		return nil, err
	}
	if legacy {
		if err := resealOAuthKey(ctx, st, k.kr.Load(), account, data, key); err != nil {
			return nil, err
		}
	}
	return key, nil
}

// errNoKeyring refuses to store a signing key that could not be sealed.
var errNoKeyring = errors.New("oauth: no keyring configured: signing keys are stored only sealed (Service.SetKeyring)")

// create generates a signing key for account, seals it outside any transaction and
// inserts it unless a key already exists, in which case (a concurrent minter won)
// the stored key is used.
func (k *oauthKeys) create(ctx context.Context, st store.Store, account string) ([]byte, error) {
	kr := k.kr.Load()
	if kr == nil {
		return nil, errNoKeyring
	}
	key := make([]byte, oauthKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("oauth: generating signing key: %w", err)
	}
	// Encrypt may create and persist the account's first data key in a store
	// transaction of its own: never call it inside one.
	ct, err := kr.Encrypt(account, key, oauthKeyAAD(account))
	if err != nil {
		return nil, fmt.Errorf("oauth: sealing signing key of %s: %w", account, err)
	}
	data, err := json.Marshal(oauthKeyRecord{Sealed: ct})
	if err != nil {
		return nil, fmt.Errorf("oauth: encoding signing key record: %w", err)
	}
	var stored []byte
	err = st.Update(ctx, func(tx store.Tx) error {
		stored = nil
		if _, err := catalog.GetAccount(ctx, tx, account); err != nil {
			return fmt.Errorf("account %s: %w", account, err)
		}
		r, err := tx.Get(ctx, oauthKeyKey(account))
		switch {
		case err == nil:
			stored = r.Data
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return tx.Insert(ctx, &store.Record{Key: oauthKeyKey(account), Data: data})
	})
	if err != nil {
		return nil, fmt.Errorf("oauth: storing signing key of %s: %w", account, err)
	}
	if stored != nil {
		clear(key)
		key, _, err := k.open(account, stored)
		return key, err
	}
	k.remember(account, data, key)
	return key, nil
}

// resealOAuthKey replaces account's legacy plaintext record, whose body was old, by
// one holding key sealed, unless the record changed meanwhile. Sealing happens
// before (outside) the transaction.
func resealOAuthKey(ctx context.Context, st store.Store, kr *secrets.Keyring, account string, old, key []byte) error {
	if kr == nil {
		return errNoKeyring
	}
	ct, err := kr.Encrypt(account, key, oauthKeyAAD(account))
	if err != nil {
		return fmt.Errorf("oauth: sealing signing key of %s: %w", account, err)
	}
	data, err := json.Marshal(oauthKeyRecord{Sealed: ct})
	if err != nil {
		return fmt.Errorf("oauth: encoding signing key record: %w", err)
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, oauthKeyKey(account))
		if errors.Is(err, store.ErrNotFound) {
			return nil // the account was dropped meanwhile
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(r.Data, old) != 1 {
			return nil // already re-sealed, or replaced
		}
		r.Data = data
		return tx.Put(ctx, r)
	})
	if err != nil {
		return fmt.Errorf("oauth: re-sealing signing key of %s: %w", account, err)
	}
	return nil
}

// SealLegacyOAuthKeys re-seals, with kr, every OAuth signing key that an older firn
// stored in plaintext, keeping the key itself (tokens it signed stay valid). It
// returns the accounts whose key it re-sealed. Records that do not decode are left
// alone (logins with them fail as invalid tokens). The server calls it at start,
// before serving; it must not be called inside a store transaction.
func SealLegacyOAuthKeys(ctx context.Context, st store.Store, kr *secrets.Keyring) ([]string, error) {
	if kr == nil {
		return nil, errNoKeyring
	}
	type legacyKey struct {
		account string
		data    []byte
	}
	var found []legacyKey
	err := st.View(ctx, func(tx store.Tx) error {
		accts, err := catalog.ListAccounts(ctx, tx)
		if err != nil {
			return err
		}
		for _, a := range accts {
			r, err := tx.Get(ctx, oauthKeyKey(a.Name))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("account %s: %w", a.Name, err)
			}
			var rec oauthKeyRecord
			if json.Unmarshal(r.Data, &rec) == nil && len(rec.Sealed) == 0 && len(rec.Key) >= oauthKeySize {
				found = append(found, legacyKey{a.Name, r.Data})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("oauth: finding plaintext signing keys: %w", err)
	}
	var sealed []string
	for _, l := range found {
		key, _, err := OpenOAuthKeyRecord(nil, l.account, l.data)
		if err != nil {
			return sealed, err
		}
		if err := resealOAuthKey(ctx, st, kr, l.account, l.data, key); err != nil {
			return sealed, err
		}
		sealed = append(sealed, l.account)
	}
	return sealed, nil
}

// SetKeyring gives the service the keyring that seals the OAuth signing keys it
// stores and opens them at login. Call it before the service is used: without a
// keyring MintOAuthToken refuses to create keys, and only legacy plaintext keys
// verify.
func (s *Service) SetKeyring(kr *secrets.Keyring) {
	if k := s.oauthKeys(); k != nil {
		k.kr.Store(kr)
	}
}

// oauthKeys returns the key store of the registered OAUTH authenticator, or nil.
func (s *Service) oauthKeys() *oauthKeys {
	if o, ok := s.authns["OAUTH"].(*OAuth); ok {
		return o.keys
	}
	return nil
}
