package sqlcli

import (
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/snowflakedb/gosnowflake"
)

var errNoUser = errors.New("no user configured: set SNOWFLAKE_USER, --user or user in connections.toml")

// DriverConfig builds the gosnowflake configuration for c. It reads the
// private key file (unencrypted PKCS#8 or PKCS#1 PEM) for snowflake_jwt and
// the token file when token_file_path is set.
func (c *Connection) DriverConfig() (*gosnowflake.Config, error) {
	cfg := &gosnowflake.Config{
		Account:     c.Account,
		User:        c.User,
		Password:    c.Password,
		Host:        c.Host,
		Port:        c.Port,
		Protocol:    c.Protocol,
		Database:    c.Database,
		Schema:      c.Schema,
		Warehouse:   c.Warehouse,
		Role:        c.Role,
		Application: "firn-sql",
	}
	token := c.Token
	if token == "" && c.TokenFilePath != "" {
		b, err := os.ReadFile(c.TokenFilePath)
		if err != nil {
			return nil, fmt.Errorf("reading token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	switch c.Authenticator {
	case "", "snowflake":
		cfg.Authenticator = gosnowflake.AuthTypeSnowflake
		if c.User == "" {
			return nil, errNoUser
		}
		if c.Password == "" {
			return nil, fmt.Errorf("no password configured: set SNOWFLAKE_PASSWORD, --password or password in connections.toml")
		}
	case "snowflake_jwt":
		cfg.Authenticator = gosnowflake.AuthTypeJwt
		if c.User == "" {
			return nil, errNoUser
		}
		if c.PrivateKeyFile == "" {
			return nil, fmt.Errorf("authenticator snowflake_jwt needs private_key_file")
		}
		key, err := readPrivateKey(c.PrivateKeyFile, c.PrivateKeyFilePwd)
		if err != nil {
			return nil, err
		}
		cfg.PrivateKey = key
	case "oauth":
		cfg.Authenticator = gosnowflake.AuthTypeOAuth
		if token == "" {
			return nil, fmt.Errorf("authenticator oauth needs a token")
		}
		cfg.Token = token
	case "programmatic_access_token":
		cfg.Authenticator = gosnowflake.AuthTypePat
		if token == "" {
			return nil, fmt.Errorf("authenticator programmatic_access_token needs a token")
		}
		cfg.Token = token
	default:
		return nil, fmt.Errorf("unsupported authenticator %q (use snowflake, snowflake_jwt, oauth or programmatic_access_token)", c.Authenticator)
	}
	return cfg, nil
}

// Open opens a database handle for c through gosnowflake. It sets
// SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true unless the variable is set, so the
// driver does not probe cloud metadata addresses on every first connect.
func (c *Connection) Open() (*sql.DB, error) {
	cfg, err := c.DriverConfig()
	if err != nil {
		return nil, err
	}
	if _, ok := os.LookupEnv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION"); !ok {
		if err := os.Setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true"); err != nil {
			return nil, fmt.Errorf("disabling platform detection: %w", err)
		}
	}
	return sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, *cfg)), nil
}

// readPrivateKey reads an RSA private key from a PEM file. Encrypted PKCS#8
// keys ("ENCRYPTED PRIVATE KEY") are not supported: neither gosnowflake nor
// the standard library decrypts them.
func readPrivateKey(path, passphrase string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading private key: %w", err)
	}
	return parsePrivateKey(b, passphrase)
}

func parsePrivateKey(b []byte, passphrase string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("private key file is not PEM")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is %T, not RSA", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		if _, encrypted := block.Headers["DEK-Info"]; encrypted {
			return nil, fmt.Errorf("encrypted PEM private keys are not supported; decrypt it with: openssl pkcs8 -topk8 -nocrypt")
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing PKCS#1 private key: %w", err)
		}
		return k, nil
	case "ENCRYPTED PRIVATE KEY":
		_ = passphrase
		return nil, fmt.Errorf("encrypted PKCS#8 private keys are not supported; decrypt it with: openssl pkcs8 -topk8 -nocrypt -in KEY.p8 -out KEY-plain.p8")
	default:
		return nil, fmt.Errorf("unsupported PEM block %q in private key file", block.Type)
	}
}
