package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// loginLoad drives full logins over raw HTTP, as a driver does at connect time.
type loginLoad struct {
	url, account, user, password string
	client                       *http.Client
	key                          *rsa.PrivateKey
	iss, sub                     string
}

// run measures mode ("login" or "jwt-login") with clients concurrent loops.
func (l *loginLoad) run(mode, keyFile string, clients int, dur, warm time.Duration) error {
	switch mode {
	case "login":
		if l.password == "" {
			return errors.New("-mode login needs -password")
		}
	case "jwt-login":
		if err := l.loadKey(keyFile); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -mode %q (query, login, jwt-login)", mode)
	}
	l.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute,
	}}
	if _, err := l.once(context.Background(), mode); err != nil {
		return fmt.Errorf("first login: %w", err)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  error
		wg        sync.WaitGroup
	)
	measureFrom := time.Now().Add(warm)
	end := measureFrom.Add(dur)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			localErrs := 0
			var localFirst error
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				_, err := l.once(context.Background(), mode)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					if localFirst == nil {
						localFirst = err
					}
					localErrs++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			if firstErr == nil {
				firstErr = localFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(latencies) == 0 {
		return fmt.Errorf("no successful logins (%d errors; first: %v)", errs, firstErr)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("mode=%s clients=%d duration=%s logins=%d errors=%d logins_per_s=%.0f p50=%s p90=%s p99=%s max=%s\n",
		mode, clients, dur, len(latencies), errs, float64(len(latencies))/dur.Seconds(),
		pct(0.50), pct(0.90), pct(0.99), latencies[len(latencies)-1])
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "firn-load: first error:", firstErr)
	}
	return nil
}

// loadKey reads an unencrypted PKCS#8 (or PKCS#1) PEM RSA key and derives iss and sub.
func (l *loginLoad) loadKey(path string) error {
	if path == "" {
		return errors.New("-mode jwt-login needs -key")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return fmt.Errorf("%s: no PEM block", path)
	}
	var k any
	if k, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		if k, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return fmt.Errorf("%s: not an RSA key", path)
	}
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(der)
	acct, _, _ := strings.Cut(l.account, ".")
	l.key = rk
	l.sub = strings.ToUpper(acct) + "." + strings.ToUpper(l.user)
	l.iss = l.sub + ".SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
	return nil
}

// once performs one login and close and returns the session token.
func (l *loginLoad) once(ctx context.Context, mode string) (string, error) {
	data := map[string]any{"CLIENT_APP_ID": "firn-load", "CLIENT_APP_VERSION": "1", "ACCOUNT_NAME": l.account}
	if mode == "jwt-login" {
		now := time.Now()
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": l.iss, "sub": l.sub, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		}).SignedString(l.key)
		if err != nil {
			return "", err
		}
		data["AUTHENTICATOR"], data["TOKEN"] = "SNOWFLAKE_JWT", tok
	} else {
		data["LOGIN_NAME"], data["PASSWORD"] = l.user, l.password
	}
	var out struct {
		Success bool   `json:"success"`
		Code    any    `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := l.post(ctx, "/session/v1/login-request", "", map[string]any{"data": data}, &out); err != nil {
		return "", err
	}
	if !out.Success || out.Data.Token == "" {
		return "", fmt.Errorf("login refused: %v %s", out.Code, out.Message)
	}
	if err := l.post(ctx, "/session?delete=true", out.Data.Token, nil, &out); err != nil {
		return "", fmt.Errorf("close: %w", err)
	}
	return out.Data.Token, nil
}

func (l *loginLoad) post(ctx context.Context, path, token string, body, into any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/snowflake")
	if token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
