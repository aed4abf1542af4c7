package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openssl runs the openssl command with stdin and returns its stdout.
func openssl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %v: %v: %s", args, err, stderr.String())
	}
	return out
}

// opensslKey makes a key pair the way Snowflake's documentation (and seed 001) does and
// returns the public key PEM and openssl's own fingerprint of it.
func opensslKey(t *testing.T, bits string) (pubPEM, fp string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	priv := openssl(t, openssl(t, nil, "genrsa", bits), "pkcs8", "-topk8", "-nocrypt")
	privPath := filepath.Join(dir, "rsa_key.p8")
	if err := os.WriteFile(privPath, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	pub := openssl(t, nil, "rsa", "-in", privPath, "-pubout")
	pubPath := filepath.Join(dir, "rsa_key.pub")
	if err := os.WriteFile(pubPath, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	der := openssl(t, nil, "rsa", "-pubin", "-in", pubPath, "-outform", "DER")
	digest := openssl(t, der, "dgst", "-sha256", "-binary")
	b64 := openssl(t, digest, "enc", "-base64")
	return string(pub), strings.TrimSpace(string(b64))
}

// pemBody strips the BEGIN/END lines, as users do before ALTER USER ... SET RSA_PUBLIC_KEY.
func pemBody(p string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(p), "\n") {
		if !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func TestFingerprintMatchesOpenSSL(t *testing.T) {
	pubPEM, want := opensslKey(t, "2048")
	for name, in := range map[string]string{
		"body multi-line": pemBody(pubPEM),
		"body one line":   strings.ReplaceAll(pemBody(pubPEM), "\n", ""),
		"pem armour":      pubPEM,
	} {
		t.Run(name, func(t *testing.T) {
			pub, err := ParseRSAPublicKey(in)
			if err != nil {
				t.Fatalf("ParseRSAPublicKey: %v", err)
			}
			if got := Fingerprint(pub); got != "SHA256:"+want {
				t.Fatalf("Fingerprint = %s; openssl says SHA256:%s", got, want)
			}
			body, err := PublicKeyBody(pub)
			if err != nil {
				t.Fatal(err)
			}
			if body != strings.ReplaceAll(pemBody(pubPEM), "\n", "") {
				t.Fatalf("PublicKeyBody = %s; want openssl's body", body)
			}
		})
	}
}

func TestParseRSAPublicKeyRejects(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	big, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&big.PublicKey)
	privDER, _ := x509.MarshalPKCS8PrivateKey(big)
	goodDER, _ := x509.MarshalPKIXPublicKey(&big.PublicKey)
	b64 := base64.StdEncoding.EncodeToString
	pemOf := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "  ", "empty"},
		{"not base64", "@@@@", "base64"},
		{"garbage DER", b64([]byte("hello world")), "SubjectPublicKeyInfo"},
		{"1024-bit", b64(smallDER), "1024 bits"},
		{"EC key", b64(ecDER), "not RSA"},
		{"PKCS#1 body", b64(pkcs1), "PKCS#1"},
		{"PKCS#1 PEM", pemOf("RSA PUBLIC KEY", pkcs1), "PKCS#1"},
		{"private key PEM", pemOf("PRIVATE KEY", privDER), "private key"},
		{"trailing text", pemOf("PUBLIC KEY", goodDER) + "junk", "after the PEM"},
		{"too long", strings.Repeat("A", maxRSAKeyText+1), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRSAPublicKey(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseRSAPublicKey error = %v; want one mentioning %q", err, tc.want)
			}
		})
	}
}

func FuzzParseRSAPublicKey(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	f.Add(base64.StdEncoding.EncodeToString(der))
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	f.Add("-----BEGIN PUBLIC KEY-----\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParseRSAPublicKey(s)
		if err != nil {
			return
		}
		if pub.N.BitLen() < MinRSAKeyBits {
			t.Fatalf("accepted a %d-bit key", pub.N.BitLen())
		}
		body, err := PublicKeyBody(pub)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseRSAPublicKey(body)
		if err != nil {
			t.Fatalf("canonical body does not parse: %v", err)
		}
		if Fingerprint(again) != Fingerprint(pub) {
			t.Fatal("fingerprint changed through the canonical body")
		}
	})
}
