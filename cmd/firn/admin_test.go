package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAdminUsage covers `firn admin` argument handling; the commands against a
// running server are exercised by test/integration/creds_test.go.
func TestAdminUsage(t *testing.T) {
	noServer := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		wantOut    string
		wantErrOut string
	}{
		{"no subcommand", []string{"admin"}, 2, "", "missing subcommand"},
		{"help", []string{"admin", "help"}, 0, "rotate-master-key", ""},
		{"unknown", []string{"admin", "frob"}, 2, "", `unknown subcommand "frob"`},
		{"creds without verb", []string{"admin", "creds"}, 2, "", "want audit or cache"},
		{"creds unknown", []string{"admin", "creds", "drop"}, 2, "", `unknown subcommand "drop"`},
		{"bad format", []string{"admin", "creds", "cache", "--format", "xml"}, 2, "", "--format must be"},
		{"negative limit", []string{"admin", "creds", "audit", "--limit", "-1"}, 2, "", "must not be negative"},
		{"extra argument", []string{"admin", "rotate-master-key", "now"}, 2, "", "unexpected argument"},
		{"no server", []string{"admin", "creds", "cache", "--data-dir", noServer}, 1, "", "is the server running"},
		{"no server rotate", []string{"admin", "rotate-master-key", "--data-dir", noServer}, 1, "", "admin socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErrOut) {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.wantErrOut)
			}
		})
	}
}
