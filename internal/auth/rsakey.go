package auth

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// MinRSAKeyBits is the smallest RSA modulus Snowflake accepts for key-pair
// authentication.
const MinRSAKeyBits = 2048

// maxRSAKeyText bounds the text ParseRSAPublicKey will look at; an RSA-16384 SPKI
// body in PEM armour is well under this.
const maxRSAKeyText = 16 << 10

// ParseRSAPublicKey parses an RSA public key as users give it to RSA_PUBLIC_KEY: the
// base64 body of a PEM "PUBLIC KEY" block (a DER SubjectPublicKeyInfo) without its
// BEGIN/END lines, possibly spread over several lines. Full PEM armour is tolerated.
// Only RSA keys of at least MinRSAKeyBits bits are accepted.
func ParseRSAPublicKey(s string) (*rsa.PublicKey, error) {
	der, err := rsaKeyDER(s)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		if _, perr := x509.ParsePKCS1PublicKey(der); perr == nil {
			return nil, errors.New("key is a PKCS#1 RSA PUBLIC KEY; give the SubjectPublicKeyInfo (BEGIN PUBLIC KEY) form, e.g. from 'openssl rsa -pubout'")
		}
		return nil, fmt.Errorf("not a DER SubjectPublicKeyInfo public key: %w", err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, not RSA", k)
	}
	if bits := pub.N.BitLen(); bits < MinRSAKeyBits {
		return nil, fmt.Errorf("RSA key is %d bits; at least %d are required", bits, MinRSAKeyBits)
	}
	return pub, nil
}

// rsaKeyDER extracts the DER bytes from a base64 body or a PEM block.
func rsaKeyDER(s string) ([]byte, error) {
	if len(s) > maxRSAKeyText {
		return nil, fmt.Errorf("public key is too long (%d bytes)", len(s))
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("public key is empty")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		b, rest := pem.Decode([]byte(s))
		if b == nil {
			return nil, errors.New("malformed PEM block")
		}
		if strings.TrimSpace(string(rest)) != "" {
			return nil, errors.New("unexpected text after the PEM block")
		}
		switch b.Type {
		case "PUBLIC KEY":
		case "RSA PUBLIC KEY":
			return nil, errors.New("key is a PKCS#1 RSA PUBLIC KEY; give the SubjectPublicKeyInfo (BEGIN PUBLIC KEY) form, e.g. from 'openssl rsa -pubout'")
		default:
			if strings.Contains(b.Type, "PRIVATE") {
				return nil, errors.New("this is a private key; give the public key")
			}
			return nil, fmt.Errorf("PEM block is %q, not PUBLIC KEY", b.Type)
		}
		if len(b.Headers) != 0 {
			return nil, errors.New("PEM block has headers")
		}
		return b.Bytes, nil
	}
	body := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	der, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("public key is not valid base64: %w", err)
	}
	return der, nil
}

// PublicKeyBody returns the canonical form firn stores for a key: the standard base64
// encoding of its DER SubjectPublicKeyInfo, on one line.
func PublicKeyBody(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("auth: marshal public key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// Fingerprint returns Snowflake's fingerprint of a public key: "SHA256:" followed by
// the standard base64 encoding of the SHA-256 digest of its DER SubjectPublicKeyInfo,
// which is what `openssl rsa -pubin -outform DER | openssl dgst -sha256 -binary |
// openssl enc -base64` prints.
func Fingerprint(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		// MarshalPKIXPublicKey cannot fail for an *rsa.PublicKey.
		panic(fmt.Sprintf("auth: marshal RSA public key: %v", err))
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
}
