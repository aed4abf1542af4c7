package secrets

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rawKey(b byte) []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	keyText := base64.StdEncoding.EncodeToString(rawKey(7))
	want, err := NewMasterKey(rawKey(7))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		file        string      // file content; "" means no file
		mode        os.FileMode // file mode when file != ""
		env         string
		noPath      bool
		wantErr     string
		wantCreated bool
		wantID      string
	}{
		{name: "env", env: keyText, wantID: want.ID()},
		{name: "env raw url", env: base64.RawURLEncoding.EncodeToString(rawKey(7)), wantID: want.ID()},
		{name: "env overrides file", env: keyText, file: "garbage", mode: 0o644, wantID: want.ID()},
		{name: "env not base64", env: "not*base64!", wantErr: "FIRN_MASTER_KEY: secrets: master key is not valid base64"},
		{name: "env wrong size", env: base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "must be 32 bytes"},
		{name: "file", file: keyText + "\n", mode: 0o600, wantID: want.ID()},
		{name: "file owner read only", file: keyText, mode: 0o400, wantID: want.ID()},
		{name: "file group readable", file: keyText, mode: 0o640, wantErr: "must not be accessible by group or others"},
		{name: "file world readable", file: keyText, mode: 0o604, wantErr: "must not be accessible by group or others"},
		{name: "file garbage", file: "zz*z", mode: 0o600, wantErr: "not valid base64"},
		{name: "created", wantCreated: true},
		{name: "no source", noPath: true, wantErr: "no master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "master.key")
			if tt.file != "" {
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tt.file), tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.mode); err != nil { // umask-independent
					t.Fatal(err)
				}
			}
			if tt.noPath {
				path = ""
			}
			mk, created, err := LoadOrCreateMasterKey(path, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), keyText) {
					t.Fatalf("error reveals the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated {
				t.Fatalf("created = %v, want %v", created, tt.wantCreated)
			}
			if tt.wantID != "" && mk.ID() != tt.wantID {
				t.Fatalf("ID = %s, want %s", mk.ID(), tt.wantID)
			}
			if !created {
				return
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Fatalf("created key file mode %#o, want 0600", st.Mode().Perm())
			}
			again, created2, err := LoadOrCreateMasterKey(path, "")
			if err != nil || created2 || again.ID() != mk.ID() {
				t.Fatalf("reload: id %v created %v err %v; want id %s", again, created2, err, mk.ID())
			}
		})
	}
}

func TestMasterKeyRedacted(t *testing.T) {
	raw := rawKey(9)
	mk, err := NewMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{
		fmt.Sprint(mk), fmt.Sprintf("%v %+v %#v %s", mk, mk, mk, mk),
		fmt.Sprintf("%v", *mk), fmt.Sprintf("%#v", *mk),
	}
	if b, err := json.Marshal(mk); err == nil {
		forms = append(forms, string(b))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		for _, f := range forms {
			if strings.Contains(f, enc.EncodeToString(raw)) || strings.Contains(f, fmt.Sprintf("%x", raw)) || strings.Contains(f, string(raw)) {
				t.Fatalf("formatted master key reveals it: %q", f)
			}
		}
	}
}
