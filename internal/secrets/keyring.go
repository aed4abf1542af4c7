package secrets

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// Errors returned by this package. Callers test them with errors.Is; the
// returned errors add detail but never key material or plaintext.
var (
	// ErrTampered means a ciphertext is truncated, malformed, was encrypted for
	// another account or object (different additional data), or was modified.
	ErrTampered = errors.New("secrets: ciphertext is corrupt or has been tampered with")
	// ErrWrongMasterKey means a wrapped data key does not authenticate under the
	// master key given: the key is not the one it was wrapped with, or the
	// wrapped key (or the account it was presented for) was altered.
	ErrWrongMasterKey = errors.New("secrets: data key does not authenticate under this master key (wrong master key, or the wrapped key was altered)")
	// ErrNoDataKey means an account has no data key to decrypt with.
	ErrNoDataKey = errors.New("secrets: account has no data key")
)

// WrappedKey is an account's data key encrypted with AES-256-GCM under a master
// key, with the account name and Version as additional authenticated data. It
// is safe to store and to serialise as JSON.
type WrappedKey struct {
	Version    int    `json:"version"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

const (
	formatV1    = 0x01
	headerLen   = 1 + 4 // format byte, big-endian uint32 data key version
	nonceLen    = 12
	tagLen      = 16
	wrapContext = "firn data key v1\x00"
	dataContext = "firn data v1\x00"
)

// Overhead is the number of bytes Encrypt adds to a plaintext.
const Overhead = headerLen + nonceLen + tagLen

func wrapAAD(account string, version int) []byte {
	b := make([]byte, 0, len(wrapContext)+binary.MaxVarintLen64+len(account)+4)
	b = append(b, wrapContext...)
	b = binary.AppendUvarint(b, uint64(len(account)))
	b = append(b, account...)
	return binary.BigEndian.AppendUint32(b, uint32(version))
}

func validVersion(v int) bool { return v >= 1 && int64(v) <= math.MaxUint32 }

// Wrap encrypts dataKey (KeySize bytes) for account under mk.
func Wrap(mk *MasterKey, account string, version int, dataKey []byte) (WrappedKey, error) {
	if len(dataKey) != KeySize {
		return WrappedKey{}, fmt.Errorf("secrets: data key must be %d bytes", KeySize)
	}
	if !validVersion(version) {
		return WrappedKey{}, fmt.Errorf("secrets: invalid data key version %d", version)
	}
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return WrappedKey{}, fmt.Errorf("secrets: nonce: %w", err)
	}
	ct := mk.aead.Seal(nil, nonce, dataKey, wrapAAD(account, version))
	return WrappedKey{Version: version, Nonce: nonce, Ciphertext: ct}, nil
}

// Unwrap decrypts the data key of account wrapped under mk. The caller should
// clear the returned slice when done with it.
func Unwrap(mk *MasterKey, account string, wk WrappedKey) ([]byte, error) {
	if !validVersion(wk.Version) || len(wk.Nonce) != nonceLen || len(wk.Ciphertext) != KeySize+tagLen {
		return nil, fmt.Errorf("%w: malformed wrapped key for account %q", ErrWrongMasterKey, account)
	}
	key, err := mk.aead.Open(nil, wk.Nonce, wk.Ciphertext, wrapAAD(account, wk.Version))
	if err != nil {
		return nil, fmt.Errorf("%w (account %q, version %d)", ErrWrongMasterKey, account, wk.Version)
	}
	return key, nil
}

// Rewrap re-encrypts account's wrapped data key from old to new master key. The
// data key itself, and so every ciphertext made with it, is unchanged. The
// account is required because it is authenticated with the wrapped key.
func Rewrap(account string, old, new *MasterKey, wk WrappedKey) (WrappedKey, error) {
	key, err := Unwrap(old, account, wk)
	if err != nil {
		return WrappedKey{}, err
	}
	defer clear(key)
	return Wrap(new, account, wk.Version, key)
}

// SaveFunc persists a newly created wrapped data key of an account. It is
// called before the key is used; if it fails, the key is discarded.
type SaveFunc func(account string, wk WrappedKey) error

// CommitFunc persists, atomically, every account's re-wrapped data keys during
// a master key rotation. If it fails the rotation is abandoned and the keyring
// keeps using the old master key.
type CommitFunc func(rewrapped map[string][]WrappedKey) error

// Keyring holds the unwrapped data keys of all accounts in memory and encrypts
// and decrypts with them. It is safe for concurrent use; Encrypt and Decrypt of
// accounts that already have a key never wait for a master key rotation.
type Keyring struct {
	// rotMu serialises the operations that add keys or change the master key,
	// so that a rotation's snapshot of the keys stays complete.
	rotMu sync.Mutex

	mu       sync.RWMutex // guards the fields below and the dataKeys they hold
	master   *MasterKey
	accounts map[string]*accountKeys
	save     SaveFunc
}

type accountKeys struct {
	current int
	keys    map[int]*dataKey
}

type dataKey struct {
	aead    cipher.AEAD
	wrapped WrappedKey
}

// NewKeyring returns an empty keyring using master. save, if non-nil, is
// called for every data key the keyring creates. Existing keys are added with
// Load, which must be called for every stored key before the keyring is used
// and before RotateMaster, since a rotation re-wraps only loaded keys.
func NewKeyring(master *MasterKey, save SaveFunc) *Keyring {
	return &Keyring{master: master, accounts: map[string]*accountKeys{}, save: save}
}

// MasterID returns the ID of the master key in use.
func (k *Keyring) MasterID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.master.ID()
}

// Load adds account's stored wrapped data keys, unwrapping them under the
// current master key. The highest version becomes the one Encrypt uses. It
// fails, adding nothing, if any key does not unwrap.
func (k *Keyring) Load(account string, wks ...WrappedKey) error {
	k.rotMu.Lock()
	defer k.rotMu.Unlock()
	k.mu.RLock()
	master := k.master
	k.mu.RUnlock()
	loaded := make(map[int]*dataKey, len(wks))
	for _, wk := range wks {
		dk, err := unwrapDataKey(master, account, wk)
		if err != nil {
			return err
		}
		if _, dup := loaded[wk.Version]; dup {
			return fmt.Errorf("secrets: duplicate data key version %d for account %q", wk.Version, account)
		}
		loaded[wk.Version] = dk
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ak := k.accounts[account]
	if ak == nil {
		ak = &accountKeys{keys: map[int]*dataKey{}}
		k.accounts[account] = ak
	}
	for v, dk := range loaded {
		ak.keys[v] = dk
		ak.current = max(ak.current, v)
	}
	return nil
}

func unwrapDataKey(master *MasterKey, account string, wk WrappedKey) (*dataKey, error) {
	raw, err := Unwrap(master, account, wk)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	aead, err := newGCM(raw)
	if err != nil {
		return nil, err
	}
	wk.Nonce = slices.Clone(wk.Nonce)
	wk.Ciphertext = slices.Clone(wk.Ciphertext)
	return &dataKey{aead: aead, wrapped: wk}, nil
}

// WrappedKeys returns account's wrapped data keys in version order.
func (k *Keyring) WrappedKeys(account string) []WrappedKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ak := k.accounts[account]
	if ak == nil {
		return nil
	}
	return sortedWrapped(ak)
}

func sortedWrapped(ak *accountKeys) []WrappedKey {
	out := make([]WrappedKey, 0, len(ak.keys))
	for _, dk := range ak.keys {
		out = append(out, dk.wrapped)
	}
	slices.SortFunc(out, func(a, b WrappedKey) int { return a.Version - b.Version })
	return out
}

func (k *Keyring) currentKey(account string) (int, *dataKey) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if ak := k.accounts[account]; ak != nil && ak.current > 0 {
		return ak.current, ak.keys[ak.current]
	}
	return 0, nil
}

// RotateDataKey gives account a new data key version (creating its first key
// if it has none) and returns the version. Later Encrypt calls use it; older
// versions remain available to Decrypt.
func (k *Keyring) RotateDataKey(account string) (int, error) {
	k.rotMu.Lock()
	defer k.rotMu.Unlock()
	v, _ := k.currentKey(account)
	return k.addKeyLocked(account, v+1)
}

// addKeyLocked creates, saves and installs data key version for account. The
// caller holds rotMu.
func (k *Keyring) addKeyLocked(account string, version int) (int, error) {
	if !validVersion(version) {
		return 0, fmt.Errorf("secrets: data key versions exhausted for account %q", account)
	}
	raw := make([]byte, KeySize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return 0, fmt.Errorf("secrets: generating data key: %w", err)
	}
	k.mu.RLock()
	master := k.master
	k.mu.RUnlock()
	wk, err := Wrap(master, account, version, raw)
	if err != nil {
		return 0, err
	}
	aead, err := newGCM(raw)
	if err != nil {
		return 0, err
	}
	if k.save != nil {
		if err := k.save(account, wk); err != nil {
			return 0, fmt.Errorf("secrets: saving data key for account %q: %w", account, err)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ak := k.accounts[account]
	if ak == nil {
		ak = &accountKeys{keys: map[int]*dataKey{}}
		k.accounts[account] = ak
	}
	ak.keys[version] = &dataKey{aead: aead, wrapped: wk}
	ak.current = version
	return version, nil
}

// dataAAD is the GCM additional data of a message: the header, the account and
// the caller's aad, length-prefixed so that no two (account, aad) pairs collide.
func dataAAD(header []byte, account string, aad []byte) []byte {
	b := make([]byte, 0, len(dataContext)+len(header)+2*binary.MaxVarintLen64+len(account)+len(aad))
	b = append(b, dataContext...)
	b = append(b, header...)
	b = binary.AppendUvarint(b, uint64(len(account)))
	b = append(b, account...)
	b = binary.AppendUvarint(b, uint64(len(aad)))
	return append(b, aad...)
}

// Encrypt encrypts plaintext with account's current data key, creating the
// account's first key if needed. aad is authenticated but not encrypted: pass
// something that identifies the object the value belongs to (for example its
// fully qualified name and kind), so that a ciphertext copied to another object
// fails to decrypt. The result is a format byte, the key version, a random
// 96-bit nonce and the GCM ciphertext and tag.
func (k *Keyring) Encrypt(account string, plaintext, aad []byte) ([]byte, error) {
	version, dk := k.currentKey(account)
	if dk == nil {
		k.rotMu.Lock()
		version, dk = k.currentKey(account)
		if dk == nil {
			var err error
			if version, err = k.addKeyLocked(account, 1); err != nil {
				k.rotMu.Unlock()
				return nil, err
			}
			_, dk = k.currentKey(account)
		}
		k.rotMu.Unlock()
	}
	out := make([]byte, headerLen+nonceLen, Overhead+len(plaintext))
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:headerLen], uint32(version))
	nonce := out[headerLen : headerLen+nonceLen]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return dk.aead.Seal(out, nonce, plaintext, dataAAD(out[:headerLen], account, aad)), nil
}

// Decrypt authenticates and decrypts a ciphertext made by Encrypt for the same
// account and aad. Any truncation, modification or mismatch of account or aad
// yields an error wrapping ErrTampered and no plaintext.
func (k *Keyring) Decrypt(account string, ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: too short", ErrTampered)
	}
	if ciphertext[0] != formatV1 {
		return nil, fmt.Errorf("%w: unknown format %#02x", ErrTampered, ciphertext[0])
	}
	version := int(binary.BigEndian.Uint32(ciphertext[1:headerLen]))
	k.mu.RLock()
	var dk *dataKey
	hasKeys := false
	if ak := k.accounts[account]; ak != nil {
		dk, hasKeys = ak.keys[version], len(ak.keys) > 0
	}
	k.mu.RUnlock()
	if !hasKeys {
		return nil, fmt.Errorf("%w: %q", ErrNoDataKey, account)
	}
	if dk == nil {
		return nil, fmt.Errorf("%w: account %q has no data key version %d", ErrTampered, account, version)
	}
	nonce := ciphertext[headerLen : headerLen+nonceLen]
	pt, err := dk.aead.Open(nil, nonce, ciphertext[headerLen+nonceLen:], dataAAD(ciphertext[:headerLen], account, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrTampered)
	}
	return pt, nil
}

// RotateMaster re-wraps every loaded data key under newMaster and switches the
// keyring to it. commit, if non-nil, receives all re-wrapped keys first and
// must persist them atomically; if it fails nothing changes. Encrypt and
// Decrypt continue concurrently throughout, since data keys do not change;
// creating or loading keys waits until the rotation ends.
func (k *Keyring) RotateMaster(newMaster *MasterKey, commit CommitFunc) error {
	if newMaster == nil {
		return errors.New("secrets: nil master key")
	}
	k.rotMu.Lock()
	defer k.rotMu.Unlock()

	// rotMu excludes every writer, so this snapshot stays complete.
	k.mu.RLock()
	old := k.master
	snapshot := make(map[string][]WrappedKey, len(k.accounts))
	for account, ak := range k.accounts {
		snapshot[account] = sortedWrapped(ak)
	}
	k.mu.RUnlock()

	rewrapped := make(map[string][]WrappedKey, len(snapshot))
	for account, wks := range snapshot {
		out := make([]WrappedKey, len(wks))
		for i, wk := range wks {
			nwk, err := Rewrap(account, old, newMaster, wk)
			if err != nil {
				return fmt.Errorf("secrets: rotating master key: %w", err)
			}
			out[i] = nwk
		}
		rewrapped[account] = out
	}
	if commit != nil {
		if err := commit(rewrapped); err != nil {
			return fmt.Errorf("secrets: rotating master key: commit: %w", err)
		}
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	k.master = newMaster
	for account, wks := range rewrapped {
		ak := k.accounts[account]
		for _, wk := range wks {
			// Replace rather than mutate: Decrypt may hold the old *dataKey.
			ak.keys[wk.Version] = &dataKey{aead: ak.keys[wk.Version].aead, wrapped: wk}
		}
	}
	return nil
}
