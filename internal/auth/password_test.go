package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashVerify(t *testing.T) {
	h, err := HashPassword("s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if strings.Contains(h, "s3cret") {
		t.Fatal("hash contains the password")
	}
	h2, _ := HashPassword("s3cret!")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"s3cret!", true}, {"s3cret", false}, {"", false}, {"S3CRET!", false}} {
		ok, err := VerifyPassword(h, tt.pw)
		if err != nil || ok != tt.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA",
		"$argon2id$v=19$m=0,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=8,t=1,p=1$!!$AA",
		"$argon2id$v=19$m=8,t=1,p=1$AA$"} {
		if ok, err := VerifyPassword(h, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want error", h, ok, err)
		}
	}
}

func TestResolveIdent(t *testing.T) {
	for in, want := range map[string]string{"sysadmin": "SYSADMIN", `"MixedCase"`: "MixedCase", ` db `: "DB", `"a""b"`: `a"b`, "": ""} {
		if got := resolveIdent(in); got != want {
			t.Errorf("resolveIdent(%q) = %q; want %q", in, got, want)
		}
	}
}
