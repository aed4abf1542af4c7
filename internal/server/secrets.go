package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// kindDataKey is the store kind of wrapped data keys. They are global records
// (Account "") with Parent = the account name and Name = the zero-padded version,
// so that dropping an account's records never loses a key the keyring still uses.
const kindDataKey = "DATA_KEY"

// DefaultAWSIAMUserARN is the IAM user firn reports in DESC INTEGRATION
// (API_AWS_IAM_USER_ARN) when none is configured: clearly local, never a real account.
const DefaultAWSIAMUserARN = "arn:aws:iam::000000000000:user/firn"

// iamUserARN is the shape of an IAM user ARN (any partition, optional path).
var iamUserARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:user/[A-Za-z0-9+=,.@_/-]{1,512}$`)

func dataKeyKey(account string, version int) store.Key {
	return store.Key{Kind: kindDataKey, Parent: account, Name: fmt.Sprintf("%010d", version)}
}

// masterKeyPath is where the master key file lives.
func (s *Server) masterKeyPath() string {
	if s.cfg.MasterKeyFile != "" {
		return s.cfg.MasterKeyFile
	}
	return filepath.Join(s.cfg.DataDir, "master.key")
}

// openKeyring loads (or creates) the master key and every stored wrapped data key.
// A master key rotation interrupted between its store commit and the key file
// rename is completed here: when the stored keys do not unwrap under the key file
// but do under <file>.new, the new file replaces the old one.
func (s *Server) openKeyring(ctx context.Context) error {
	path := s.masterKeyPath()
	stored, err := s.storedDataKeys(ctx)
	if err != nil {
		return err
	}
	if s.cfg.MasterKey == "" && len(stored) > 0 {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			// Never generate a fresh key over encrypted data: it could not read it.
			return fmt.Errorf("server: master key file %s is missing but the data dir holds encrypted data; restore the key file or set %s",
				path, secrets.MasterKeyEnv)
		}
	}
	mk, created, err := secrets.LoadOrCreateMasterKey(path, s.cfg.MasterKey)
	if err != nil {
		return fmt.Errorf("server: master key: %w", err)
	}
	switch {
	case s.cfg.MasterKey != "":
		s.log.Info("master key loaded", slog.String("source", secrets.MasterKeyEnv), slog.String("master_key_id", mk.ID()))
	case created:
		s.log.Info("master key generated", slog.String("master_key_file", path), slog.String("master_key_id", mk.ID()))
	default:
		s.log.Info("master key loaded", slog.String("master_key_file", path), slog.String("master_key_id", mk.ID()))
	}
	kr, err := loadKeyring(mk, stored, s.saveDataKey)
	if err != nil && errors.Is(err, secrets.ErrWrongMasterKey) && s.cfg.MasterKey == "" {
		if next, _, nerr := loadMasterKeyFile(path + ".new"); nerr == nil {
			if kr2, err2 := loadKeyring(next, stored, s.saveDataKey); err2 == nil {
				if rerr := os.Rename(path+".new", path); rerr != nil {
					return fmt.Errorf("server: completing master key rotation: %w", rerr)
				}
				s.log.Warn("completed an interrupted master key rotation", slog.String("master_key_file", path),
					slog.String("master_key_id", next.ID()))
				kr, err = kr2, nil
			}
		}
	}
	if err == nil && s.cfg.MasterKey == "" {
		if _, serr := os.Stat(path + ".new"); serr == nil {
			// A rotation crashed before its store commit: the stored keys are still
			// wrapped under the current key, so the new key was never used.
			s.log.Warn("removing the key file of an unfinished master key rotation", slog.String("file", path+".new"))
			_ = os.Remove(path + ".new")
		}
	}
	if err != nil {
		return fmt.Errorf("server: data keys do not match the master key (is --master-key-file or %s the key this data dir was created with?): %w",
			secrets.MasterKeyEnv, err)
	}
	s.keyring = kr
	return s.sealLegacyOAuthKeys(ctx)
}

// sealLegacyOAuthKeys re-seals the OAuth signing keys that firn versions before
// sealing stored in plaintext (auth.SealLegacyOAuthKeys), so that the store holds
// none once the server has started.
func (s *Server) sealLegacyOAuthKeys(ctx context.Context) error {
	accounts, err := auth.SealLegacyOAuthKeys(ctx, s.store, s.keyring)
	for _, a := range accounts {
		s.log.Info("sealed a plaintext OAuth signing key", slog.String("account", a))
	}
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// loadMasterKeyFile reads an existing key file only (never creates one).
func loadMasterKeyFile(path string) (*secrets.MasterKey, bool, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, false, err
	}
	return secrets.LoadOrCreateMasterKey(path, "")
}

func loadKeyring(mk *secrets.MasterKey, stored map[string][]secrets.WrappedKey, save secrets.SaveFunc) (*secrets.Keyring, error) {
	kr := secrets.NewKeyring(mk, save)
	accounts := make([]string, 0, len(stored))
	for a := range stored {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		if err := kr.Load(a, stored[a]...); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// storedDataKeys reads every wrapped data key, by account.
func (s *Server) storedDataKeys(ctx context.Context) (map[string][]secrets.WrappedKey, error) {
	out := map[string][]secrets.WrappedKey{}
	err := s.store.View(ctx, func(tx store.Tx) error {
		recs, err := tx.List(ctx, "", kindDataKey, "*")
		if err != nil {
			return err
		}
		for _, r := range recs {
			var wk secrets.WrappedKey
			if err := json.Unmarshal(r.Data, &wk); err != nil {
				return fmt.Errorf("server: data key record %s/%s: %w", r.Parent, r.Name, err)
			}
			if n, err := strconv.Atoi(r.Name); err != nil || n != wk.Version {
				return fmt.Errorf("server: data key record %s/%s does not match its version %d", r.Parent, r.Name, wk.Version)
			}
			out[r.Parent] = append(out[r.Parent], wk)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("server: reading data keys: %w", err)
	}
	return out, nil
}

// saveDataKey persists a newly created wrapped data key (the keyring's SaveFunc).
func (s *Server) saveDataKey(account string, wk secrets.WrappedKey) error {
	b, err := json.Marshal(wk)
	if err != nil {
		return err
	}
	return s.store.Update(context.Background(), func(tx store.Tx) error {
		return tx.Insert(context.Background(), &store.Record{Key: dataKeyKey(account, wk.Version), Data: b})
	})
}

// Keyring returns the server's keyring, which seals and opens secret values (for
// the credential broker and admin commands).
func (s *Server) Keyring() *secrets.Keyring { return s.keyring }

// MasterKeyID returns the non-secret fingerprint of the master key in use.
func (s *Server) MasterKeyID() string { return s.keyring.MasterID() }

// RotateMasterKey re-wraps every account's data key under newKey while the server
// runs. Secret ciphertexts are untouched. The order makes a crash at any point
// recoverable: newKey is first written to <master-key-file>.new (0600, fsynced),
// then every re-wrapped key is committed in one store transaction, then the .new
// file atomically replaces the key file (and on the next start, a leftover .new
// file that the stored keys need is put in place). If the store commit fails,
// nothing changes and the .new file is removed. A master key given through
// FIRN_MASTER_KEY cannot be rotated here: there is no file to update.
func (s *Server) RotateMasterKey(ctx context.Context, newKey *secrets.MasterKey) error {
	if newKey == nil {
		return errors.New("server: rotate master key: nil key")
	}
	if s.cfg.MasterKey != "" {
		return fmt.Errorf("server: rotate master key: the master key comes from %s; rotate it by re-wrapping offline and updating the variable", secrets.MasterKeyEnv)
	}
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	path := s.masterKeyPath()
	tmp := path + ".new"
	if _, err := os.Stat(tmp); err == nil {
		return fmt.Errorf("server: rotate master key: %s exists: an earlier rotation did not finish; restart the server to complete it", tmp)
	}
	if err := newKey.WriteFile(tmp); err != nil {
		return fmt.Errorf("server: rotate master key: %w", err)
	}
	err := s.keyring.RotateMaster(newKey, func(rewrapped map[string][]secrets.WrappedKey) error {
		return s.store.Update(ctx, func(tx store.Tx) error {
			for account, wks := range rewrapped {
				for _, wk := range wks {
					b, err := json.Marshal(wk)
					if err != nil {
						return err
					}
					if err := tx.Put(ctx, &store.Record{Key: dataKeyKey(account, wk.Version), Data: b}); err != nil {
						return fmt.Errorf("data key %s/%d: %w", account, wk.Version, err)
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		// The store already holds keys wrapped under newKey; the next start finds
		// the .new file and completes the rename.
		return fmt.Errorf("server: rotate master key: replacing key file (the next start completes it): %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	s.log.Info("master key rotated", slog.String("master_key_file", path), slog.String("master_key_id", newKey.ID()))
	return nil
}
