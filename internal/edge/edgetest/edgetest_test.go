package edgetest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"
)

func TestIssue(t *testing.T) {
	ca := NewCA(t)
	tests := []struct {
		name  string
		hosts []string
		ok    []string // names the certificate must be valid for
		bad   []string // names it must not be valid for
	}{
		{"default", nil, []string{"localhost", "127.0.0.1", "::1"}, []string{"example.com"}},
		{"names and ips", []string{"firn.test", "10.0.0.1"}, []string{"firn.test", "10.0.0.1"}, []string{"localhost", "127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certFile, keyFile := ca.Issue(t, tt.hosts...)
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(pair.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			verify := func(host string) error {
				_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: ca.Pool()})
				if err == nil && net.ParseIP(host) == nil {
					err = leaf.VerifyHostname(host)
				}
				return err
			}
			for _, h := range tt.ok {
				if err := verify(h); err != nil {
					t.Errorf("%s: %v", h, err)
				}
			}
			for _, h := range tt.bad {
				if verify(h) == nil {
					t.Errorf("%s: verified, want failure", h)
				}
			}
		})
	}
}

func TestCAPEM(t *testing.T) {
	ca := NewCA(t)
	block, rest := pem.Decode(ca.PEM())
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("PEM() = %q", ca.PEM())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA {
		t.Error("CA certificate is not a CA")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM()) {
		t.Error("PEM not accepted by CertPool")
	}
	// A certificate from another CA does not verify against this one.
	other := NewCA(t)
	certFile, keyFile := other.Issue(t, "localhost")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: ca.Pool()}); err == nil {
		t.Error("foreign certificate verified")
	}
}
