package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func mustMaster(t testing.TB, b byte) *MasterKey {
	t.Helper()
	mk, err := NewMasterKey(rawKey(b))
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	kr := NewKeyring(mustMaster(t, 1), nil)
	tests := []struct {
		name      string
		account   string
		plaintext []byte
		aad       []byte
	}{
		{"empty", "ACME", nil, []byte("SECRET DB.S.EMPTY")},
		{"short", "ACME", []byte("hunter2"), []byte("SECRET DB.S.PW")},
		{"no aad", "ACME", []byte("value"), nil},
		{"other account", "OTHER", []byte("value"), []byte("x")},
		{"binary", "ACME", []byte{0, 1, 2, 255, 254}, []byte{0}},
		{"1 MiB", "ACME", bytes.Repeat([]byte("abcdefgh"), 1<<17), []byte("big")},
		{"unicode account", "ÄCME", []byte("v"), []byte("a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := kr.Encrypt(tt.account, tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if len(ct) != len(tt.plaintext)+Overhead {
				t.Fatalf("len = %d, want %d", len(ct), len(tt.plaintext)+Overhead)
			}
			if len(tt.plaintext) >= 4 && bytes.Contains(ct, tt.plaintext) {
				t.Fatal("ciphertext contains the plaintext")
			}
			ct2, err := kr.Encrypt(tt.account, tt.plaintext, tt.aad)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(ct, ct2) {
				t.Fatal("two encryptions are identical: nonce reused")
			}
			for _, c := range [][]byte{ct, ct2} {
				pt, err := kr.Decrypt(tt.account, c, tt.aad)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(pt, tt.plaintext) {
					t.Fatal("round trip changed the plaintext")
				}
			}
		})
	}
}

func TestDecryptWrongContext(t *testing.T) {
	kr := NewKeyring(mustMaster(t, 1), nil)
	if _, err := kr.Encrypt("B", []byte("x"), nil); err != nil { // give B a key
		t.Fatal(err)
	}
	ct, err := kr.Encrypt("A", []byte("secret"), []byte("obj1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		account string
		aad     []byte
		want    error
	}{
		{"other aad", "A", []byte("obj2"), ErrTampered},
		{"no aad", "A", nil, ErrTampered},
		{"other account with key", "B", []byte("obj1"), ErrTampered},
		{"account without key", "C", []byte("obj1"), ErrNoDataKey},
		{"case differs", "a", []byte("obj1"), ErrNoDataKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := kr.Decrypt(tt.account, ct, tt.aad)
			if !errors.Is(err, tt.want) || pt != nil {
				t.Fatalf("Decrypt = %q, %v; want nil, %v", pt, err, tt.want)
			}
		})
	}

	// Length prefixes keep (account, aad) pairs from colliding: account "AB"
	// with aad "C" must differ from account "A" with aad "BC".
	ab := NewKeyring(mustMaster(t, 1), nil)
	ct, err = ab.Encrypt("AB", []byte("v"), []byte("C"))
	if err != nil {
		t.Fatal(err)
	}
	wk := ab.WrappedKeys("AB")
	// Install the same data key for account "A" by re-wrapping with its AAD.
	raw, err := Unwrap(mustMaster(t, 1), "AB", wk[0])
	if err != nil {
		t.Fatal(err)
	}
	wa, err := Wrap(mustMaster(t, 1), "A", 1, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := ab.Load("A", wa); err != nil {
		t.Fatal(err)
	}
	if _, err := ab.Decrypt("A", ct, []byte("BC")); !errors.Is(err, ErrTampered) {
		t.Fatalf("boundary-shifted context decrypted: %v", err)
	}
}

func TestDecryptEveryBitFlip(t *testing.T) {
	kr := NewKeyring(mustMaster(t, 1), nil)
	ct, err := kr.Encrypt("ACME", []byte("the secret value"), []byte("DB.S.SEC"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(ct) * 8 {
		mod := bytes.Clone(ct)
		mod[i/8] ^= 1 << (i % 8)
		pt, err := kr.Decrypt("ACME", mod, []byte("DB.S.SEC"))
		if !errors.Is(err, ErrTampered) || pt != nil {
			t.Fatalf("bit %d flipped: Decrypt = %q, %v; want ErrTampered", i, pt, err)
		}
	}
}

func TestDecryptTruncatedAndExtended(t *testing.T) {
	kr := NewKeyring(mustMaster(t, 1), nil)
	ct, err := kr.Encrypt("ACME", []byte("the secret value"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(ct) {
		if pt, err := kr.Decrypt("ACME", ct[:n], nil); !errors.Is(err, ErrTampered) || pt != nil {
			t.Fatalf("truncated to %d: Decrypt = %q, %v", n, pt, err)
		}
	}
	if pt, err := kr.Decrypt("ACME", append(bytes.Clone(ct), 0), nil); !errors.Is(err, ErrTampered) || pt != nil {
		t.Fatalf("extended: Decrypt = %q, %v", pt, err)
	}
}

func TestWrapUnwrap(t *testing.T) {
	m1, m2 := mustMaster(t, 1), mustMaster(t, 2)
	dk := rawKey(40)
	wk, err := Wrap(m1, "ACME", 3, dk)
	if err != nil {
		t.Fatal(err)
	}
	// JSON round trip, as the store will keep it.
	b, err := json.Marshal(wk)
	if err != nil {
		t.Fatal(err)
	}
	var wk2 WrappedKey
	if err := json.Unmarshal(b, &wk2); err != nil {
		t.Fatal(err)
	}
	if got, err := Unwrap(m1, "ACME", wk2); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("Unwrap after JSON = %v", err)
	}
	bad := func(f func(*WrappedKey)) WrappedKey {
		w := WrappedKey{Version: wk.Version, Nonce: bytes.Clone(wk.Nonce), Ciphertext: bytes.Clone(wk.Ciphertext)}
		f(&w)
		return w
	}
	tests := []struct {
		name    string
		mk      *MasterKey
		account string
		wk      WrappedKey
	}{
		{"wrong master", m2, "ACME", wk},
		{"wrong account", m1, "OTHER", wk},
		{"wrong version", m1, "ACME", bad(func(w *WrappedKey) { w.Version = 4 })},
		{"zero version", m1, "ACME", bad(func(w *WrappedKey) { w.Version = 0 })},
		{"flipped ciphertext", m1, "ACME", bad(func(w *WrappedKey) { w.Ciphertext[0] ^= 1 })},
		{"flipped nonce", m1, "ACME", bad(func(w *WrappedKey) { w.Nonce[0] ^= 1 })},
		{"short nonce", m1, "ACME", bad(func(w *WrappedKey) { w.Nonce = w.Nonce[:11] })},
		{"truncated", m1, "ACME", bad(func(w *WrappedKey) { w.Ciphertext = w.Ciphertext[:40] })},
		{"empty", m1, "ACME", WrappedKey{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := Unwrap(tt.mk, tt.account, tt.wk); !errors.Is(err, ErrWrongMasterKey) || got != nil {
				t.Fatalf("Unwrap = %v, %v; want ErrWrongMasterKey", got, err)
			}
		})
	}
	// Rewrap moves the key to m2, keeps the version, and m1 no longer opens it.
	rw, err := Rewrap("ACME", m1, m2, wk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Unwrap(m2, "ACME", rw); err != nil || !bytes.Equal(got, dk) || rw.Version != 3 {
		t.Fatalf("Unwrap rewrapped = %v (version %d)", err, rw.Version)
	}
	if _, err := Unwrap(m1, "ACME", rw); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("old master opens rewrapped key: %v", err)
	}
	if _, err := Rewrap("ACME", m2, m1, wk); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("Rewrap with wrong old key: %v", err)
	}
}

func TestKeyringPersistAndReload(t *testing.T) {
	m := mustMaster(t, 1)
	saved := map[string][]WrappedKey{}
	save := func(account string, wk WrappedKey) error {
		saved[account] = append(saved[account], wk)
		return nil
	}
	kr := NewKeyring(m, save)
	ct1, err := kr.Encrypt("ACME", []byte("v1"), []byte("o"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := kr.RotateDataKey("ACME"); err != nil || v != 2 {
		t.Fatalf("RotateDataKey = %d, %v", v, err)
	}
	ct2, err := kr.Encrypt("ACME", []byte("v2"), []byte("o"))
	if err != nil {
		t.Fatal(err)
	}
	if ct1[4] != 1 || ct2[4] != 2 {
		t.Fatalf("key versions in headers = %d, %d; want 1, 2", ct1[4], ct2[4])
	}
	if len(saved["ACME"]) != 2 {
		t.Fatalf("saved %d keys, want 2", len(saved["ACME"]))
	}

	// A fresh keyring with the stored keys decrypts both versions.
	kr2 := NewKeyring(m, save)
	if err := kr2.Load("ACME", saved["ACME"]...); err != nil {
		t.Fatal(err)
	}
	for ct, want := range map[*[]byte]string{&ct1: "v1", &ct2: "v2"} {
		if pt, err := kr2.Decrypt("ACME", *ct, []byte("o")); err != nil || string(pt) != want {
			t.Fatalf("Decrypt after reload = %q, %v", pt, err)
		}
	}
	// The wrong master key cannot load them.
	if err := NewKeyring(mustMaster(t, 2), nil).Load("ACME", saved["ACME"]...); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("Load under wrong master: %v", err)
	}
	// Nor can keys be loaded for another account.
	if err := NewKeyring(m, nil).Load("EVIL", saved["ACME"]...); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("Load for other account: %v", err)
	}

	// A failing save leaves no usable key behind.
	failing := NewKeyring(m, func(string, WrappedKey) error { return errors.New("disk full") })
	if _, err := failing.Encrypt("ACME", []byte("x"), nil); err == nil {
		t.Fatal("Encrypt succeeded although the key could not be saved")
	}
	if got := failing.WrappedKeys("ACME"); len(got) != 0 {
		t.Fatalf("unsaved key installed: %v", got)
	}
}

func TestRotateMasterCommitFailure(t *testing.T) {
	m1, m2 := mustMaster(t, 1), mustMaster(t, 2)
	kr := NewKeyring(m1, nil)
	if _, err := kr.Encrypt("ACME", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := kr.RotateMaster(m2, func(map[string][]WrappedKey) error { return errors.New("store down") }); err == nil {
		t.Fatal("RotateMaster succeeded although commit failed")
	}
	if kr.MasterID() != m1.ID() {
		t.Fatal("master changed after failed commit")
	}
	if _, err := Unwrap(m1, "ACME", kr.WrappedKeys("ACME")[0]); err != nil {
		t.Fatalf("key no longer wrapped under old master: %v", err)
	}
}

// TestRotateMasterConcurrent rotates the master key several times while many
// goroutines encrypt, decrypt and create accounts; run it with -race.
func TestRotateMasterConcurrent(t *testing.T) {
	var masters []*MasterKey
	for i := range 16 {
		masters = append(masters, mustMaster(t, byte(10*i+1)))
	}
	var mu sync.Mutex
	store := map[string][]WrappedKey{}
	kr := NewKeyring(masters[0], func(account string, wk WrappedKey) error {
		mu.Lock()
		defer mu.Unlock()
		store[account] = append(store[account], wk)
		return nil
	})
	commit := func(rw map[string][]WrappedKey) error {
		mu.Lock()
		defer mu.Unlock()
		for a, wks := range rw {
			store[a] = wks
		}
		return nil
	}

	// Workers run until every rotation is done (and at least minIters times),
	// opening a new account every 25 iterations so keys are also created while
	// rotations are in progress.
	const workers, minIters = 8, 100
	var (
		wg, started sync.WaitGroup
		accounts    sync.Map
	)
	done := make(chan struct{})
	errc := make(chan error, workers)
	started.Add(workers)
	for w := range workers {
		wg.Go(func() {
			started.Done()
			for i := 0; ; i++ {
				if i >= minIters {
					select {
					case <-done:
						return
					default:
					}
				}
				account := fmt.Sprintf("ACCT%d_%d", w, i/25)
				accounts.Store(account, true)
				aad := fmt.Appendf(nil, "obj%d", i)
				pt := fmt.Appendf(nil, "value %d %d", w, i)
				ct, err := kr.Encrypt(account, pt, aad)
				if err != nil {
					errc <- err
					return
				}
				got, err := kr.Decrypt(account, ct, aad)
				if err != nil || !bytes.Equal(got, pt) {
					errc <- fmt.Errorf("worker %d iter %d: %q, %v", w, i, got, err)
					return
				}
			}
		})
	}
	started.Wait()
	for _, m := range masters[1:] {
		if err := kr.RotateMaster(m, commit); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	final := masters[len(masters)-1]
	if kr.MasterID() != final.ID() {
		t.Fatalf("MasterID = %s, want %s", kr.MasterID(), final.ID())
	}
	// Every stored key, including those created during rotation, opens under the
	// final master and under none of the earlier ones.
	mu.Lock()
	defer mu.Unlock()
	n := 0
	accounts.Range(func(any, any) bool { n++; return true })
	if len(store) != n {
		t.Fatalf("store has %d accounts, want %d", len(store), n)
	}
	for account, wks := range store {
		for _, wk := range wks {
			if _, err := Unwrap(final, account, wk); err != nil {
				t.Fatalf("%s: stored key does not open under the final master: %v", account, err)
			}
			for _, old := range masters[:len(masters)-1] {
				if _, err := Unwrap(old, account, wk); err == nil {
					t.Fatalf("%s: stored key still opens under an old master", account)
				}
			}
		}
		if got := kr.WrappedKeys(account); len(got) != len(wks) {
			t.Fatalf("%s: keyring has %d keys, store %d", account, len(got), len(wks))
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	kr := NewKeyring(mustMaster(f, 1), nil)
	aad := []byte("DB.S.SECRET")
	plaintext := []byte("fuzz secret value")
	ct, err := kr.Encrypt("ACME", plaintext, aad)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ct)
	f.Add(ct[:len(ct)-1])
	f.Add([]byte{})
	f.Add([]byte{formatV1, 0, 0, 0, 1})
	f.Add(append(bytes.Clone(ct), 0))
	f.Fuzz(func(t *testing.T, in []byte) {
		pt, err := kr.Decrypt("ACME", in, aad)
		if bytes.Equal(in, ct) {
			if err != nil || !bytes.Equal(pt, plaintext) {
				t.Fatalf("original ciphertext: %q, %v", pt, err)
			}
			return
		}
		if err == nil || pt != nil {
			t.Fatalf("modified ciphertext decrypted to %q (err %v)", pt, err)
		}
		if !errors.Is(err, ErrTampered) {
			t.Fatalf("error %v does not wrap ErrTampered", err)
		}
	})
}

func BenchmarkEncrypt1KiB(b *testing.B) {
	kr := NewKeyring(mustMaster(b, 1), nil)
	pt, aad := bytes.Repeat([]byte{'x'}, 1024), []byte("DB.S.SECRET")
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Encrypt("ACME", pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt1KiB(b *testing.B) {
	kr := NewKeyring(mustMaster(b, 1), nil)
	pt, aad := bytes.Repeat([]byte{'x'}, 1024), []byte("DB.S.SECRET")
	ct, err := kr.Encrypt("ACME", pt, aad)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		if _, err := kr.Decrypt("ACME", ct, aad); err != nil {
			b.Fatal(err)
		}
	}
}
