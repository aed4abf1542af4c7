package session

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseToken(t *testing.T) {
	secret, hash, err := newSecret()
	if err != nil {
		t.Fatal(err)
	}
	good := formatToken(sessionPrefix, 42, secret)
	tests := []struct {
		name   string
		prefix string
		tok    string
		wantID int64
		ok     bool
	}{
		{"session token", sessionPrefix, good, 42, true},
		{"master prefix expected", masterPrefix, good, 0, false},
		{"max id", sessionPrefix, formatToken(sessionPrefix, 1<<63-1, secret), 1<<63 - 1, true},
		{"id overflow", sessionPrefix, "ST-9223372036854775808." + secret, 0, false},
		{"id zero", sessionPrefix, "ST-0." + secret, 0, false},
		{"leading zero", sessionPrefix, "ST-042." + secret, 0, false},
		{"signed id", sessionPrefix, "ST-+42." + secret, 0, false},
		{"negative id", sessionPrefix, "ST--42." + secret, 0, false},
		{"no dot", sessionPrefix, "ST-42" + secret, 0, false},
		{"no secret", sessionPrefix, "ST-42.", 0, false},
		{"no id", sessionPrefix, "ST-." + secret, 0, false},
		{"old format", sessionPrefix, "ST-" + secret, 0, false},
		{"too long", sessionPrefix, good + strings.Repeat("A", 100), 0, false},
		{"empty", sessionPrefix, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, h, ok := parseToken(tt.prefix, tt.tok)
			if ok != tt.ok || id != tt.wantID {
				t.Fatalf("parseToken(%q) = %d, %v; want %d, %v", tt.tok, id, ok, tt.wantID, tt.ok)
			}
			if ok && tt.tok == good && !bytes.Equal(h, hash) {
				t.Fatal("hash of the parsed secret differs from the minted one")
			}
		})
	}
}

// FuzzParseToken: tokens come from clients (Authorization headers, renewal bodies).
// parseToken must never panic, and whatever it accepts must be a token it could
// have formatted: the prefix, a canonical positive decimal id, a dot and the rest.
func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"ST-1.abc", "MT-42.x", "ST-0.a", "ST-.a", "ST-1", "ST-99999999999999999999.a", "ST-1.a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, prefix := range []string{sessionPrefix, masterPrefix} {
			id, h, ok := parseToken(prefix, tok)
			if !ok {
				continue
			}
			if id <= 0 || len(h) != 32 {
				t.Fatalf("parseToken(%q) = %d, %x", tok, id, h)
			}
			_, secret, _ := strings.Cut(tok[len(prefix):], ".")
			if got := formatToken(prefix, id, secret); got != tok {
				t.Fatalf("parseToken(%q) accepted a non-canonical token (canonical %q)", tok, got)
			}
			if !bytes.Equal(h, hashSecret(secret)) {
				t.Fatal("hash is not the secret's")
			}
		}
	})
}
