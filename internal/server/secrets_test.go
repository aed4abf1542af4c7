package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

func newTestServer(t *testing.T, dir string, mod ...func(*Config)) (*Server, error) {
	t.Helper()
	cfg := Config{DataDir: dir, AdminPassword: "Adm1n-test-password", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mod {
		m(&cfg)
	}
	return New(context.Background(), cfg)
}

// seal starts a server on dir, encrypts a value for FIRN and closes the server.
func seal(t *testing.T, dir string) []byte {
	t.Helper()
	s, err := newTestServer(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ct, err := s.Keyring().Encrypt("FIRN", []byte("value"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func openAndDecrypt(t *testing.T, dir string, ct []byte) *Server {
	t.Helper()
	s, err := newTestServer(t, dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if pt, err := s.Keyring().Decrypt("FIRN", ct, []byte("aad")); err != nil || string(pt) != "value" {
		t.Fatalf("decrypt after restart: %q, %v", pt, err)
	}
	return s
}

func TestRotateMasterKeyCrashRecovery(t *testing.T) {
	ctx := context.Background()
	t.Run("crash after commit completes the rename", func(t *testing.T) {
		dir := t.TempDir()
		ct := seal(t, dir)
		path := filepath.Join(dir, "master.key")
		old, _, err := secrets.LoadOrCreateMasterKey(path, "")
		if err != nil {
			t.Fatal(err)
		}
		next, _, err := secrets.GenerateMasterKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := next.WriteFile(path + ".new"); err != nil {
			t.Fatal(err)
		}
		// Commit the re-wrapped keys as RotateMasterKey does, then "crash".
		st, err := store.OpenSQLite(ctx, filepath.Join(dir, "firn.db"))
		if err != nil {
			t.Fatal(err)
		}
		err = st.Update(ctx, func(tx store.Tx) error {
			recs, err := tx.List(ctx, "", kindDataKey, "*")
			if err != nil || len(recs) == 0 {
				t.Fatalf("data keys: %v %v", recs, err)
			}
			for _, r := range recs {
				var wk secrets.WrappedKey
				if err := json.Unmarshal(r.Data, &wk); err != nil {
					return err
				}
				nwk, err := secrets.Rewrap(r.Parent, old, next, wk)
				if err != nil {
					return err
				}
				r.Data, _ = json.Marshal(nwk)
				if err := tx.Put(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		s := openAndDecrypt(t, dir, ct)
		if s.MasterKeyID() != next.ID() {
			t.Fatal("the new key is not in use")
		}
		if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
			t.Fatalf(".new left behind: %v", err)
		}
	})

	t.Run("crash before commit drops the stale key", func(t *testing.T) {
		dir := t.TempDir()
		ct := seal(t, dir)
		path := filepath.Join(dir, "master.key")
		before, _ := os.ReadFile(path)
		stale, _, _ := secrets.GenerateMasterKey()
		if err := stale.WriteFile(path + ".new"); err != nil {
			t.Fatal(err)
		}
		openAndDecrypt(t, dir, ct)
		if _, err := os.Stat(path + ".new"); !os.IsNotExist(err) {
			t.Fatalf("stale .new kept: %v", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Fatal("key file changed")
		}
	})

	t.Run("live rotation and restart", func(t *testing.T) {
		dir := t.TempDir()
		ct := seal(t, dir)
		s, err := newTestServer(t, dir)
		if err != nil {
			t.Fatal(err)
		}
		next, _, _ := secrets.GenerateMasterKey()
		if err := s.RotateMasterKey(ctx, next); err != nil {
			t.Fatal(err)
		}
		// A second rotation while a .new exists is refused.
		if err := os.WriteFile(filepath.Join(dir, "master.key.new"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.RotateMasterKey(ctx, next); err == nil || !strings.Contains(err.Error(), "did not finish") {
			t.Fatalf("rotation over a leftover .new: %v", err)
		}
		os.Remove(filepath.Join(dir, "master.key.new"))
		s.Close()
		if got := openAndDecrypt(t, dir, ct).MasterKeyID(); got != next.ID() {
			t.Fatalf("master key after restart %s; want %s", got, next.ID())
		}
	})

	t.Run("env key cannot be rotated", func(t *testing.T) {
		_, enc, _ := secrets.GenerateMasterKey()
		s, err := newTestServer(t, t.TempDir(), func(c *Config) { c.MasterKey = enc })
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		next, _, _ := secrets.GenerateMasterKey()
		if err := s.RotateMasterKey(ctx, next); err == nil || !strings.Contains(err.Error(), secrets.MasterKeyEnv) {
			t.Fatalf("rotate env key: %v", err)
		}
	})

	t.Run("bad IAM user ARN", func(t *testing.T) {
		_, err := newTestServer(t, t.TempDir(), func(c *Config) { c.AWSIAMUserARN = "arn:aws:iam::1:role/x" })
		if err == nil || !strings.Contains(err.Error(), "not an IAM user ARN") {
			t.Fatalf("bad ARN: %v", err)
		}
	})
}
