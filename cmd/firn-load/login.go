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
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// loginLoad drives full logins over raw HTTP, as a driver does at connect time.
type loginLoad struct {
	url, account, user, password string
	client                       *http.Client
	key                          *rsa.PrivateKey
	iss, sub                     string
	token                        string        // pat-login
	poolSize                     int           // pre-signed JWTs (0: sign per login)
	ttl                          time.Duration // lifetime of each JWT
	pool                         []string
	noClose                      bool // leave sessions open (they expire server-side)
	next                         atomic.Uint64
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
		if l.ttl <= 0 || l.ttl > time.Hour {
			return errors.New("-jwt-ttl must be in (0, 1h]")
		}
		if err := l.presign(); err != nil {
			return err
		}
	case "pat-login":
		if l.token == "" {
			return errors.New("-mode pat-login needs -token")
		}
	default:
		return fmt.Errorf("unknown -mode %q (query, login, jwt-login, pat-login)", mode)
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
	var cpu0 time.Duration
	cpuTimer := time.AfterFunc(warm, func() { cpu0 = selfCPU() })
	defer cpuTimer.Stop()
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
	loadCPU := selfCPU() - cpu0
	if len(latencies) == 0 {
		return fmt.Errorf("no successful logins (%d errors; first: %v)", errs, firstErr)
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	fmt.Printf("mode=%s clients=%d duration=%s logins=%d errors=%d logins_per_s=%.0f p50=%s p90=%s p99=%s max=%s load_cpu_per_login=%s\n",
		mode, clients, dur, len(latencies), errs, float64(len(latencies))/dur.Seconds(),
		pct(0.50), pct(0.90), pct(0.99), latencies[len(latencies)-1],
		(loadCPU / time.Duration(len(latencies))).Round(time.Microsecond))
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

// sign returns a fresh RS256 JWT valid for ttl.
func (l *loginLoad) sign(ttl time.Duration) (string, error) {
	now := time.Now()
	return jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": l.iss, "sub": l.sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
	}).SignedString(l.key)
}

// presign signs the pool of JWTs reused during the run, on all cores, before the
// measured window starts.
func (l *loginLoad) presign() error {
	if l.poolSize <= 0 {
		return nil
	}
	l.pool = make([]string, l.poolSize)
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(l.pool); i += workers {
				tok, err := l.sign(l.ttl)
				if err != nil {
					errs <- err
					return
				}
				l.pool[i] = tok
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("sign JWT: %w", err)
	}
	fmt.Fprintf(os.Stderr, "firn-load: pre-signed %d JWTs (valid %s) in %s\n", len(l.pool), l.ttl, time.Since(t0).Round(time.Millisecond))
	return nil
}

// once performs one login and close and returns the session token.
func (l *loginLoad) once(ctx context.Context, mode string) (string, error) {
	data := map[string]any{"CLIENT_APP_ID": "firn-load", "CLIENT_APP_VERSION": "1", "ACCOUNT_NAME": l.account}
	switch mode {
	case "jwt-login":
		var tok string
		if len(l.pool) > 0 {
			tok = l.pool[l.next.Add(1)%uint64(len(l.pool))]
		} else {
			var err error
			if tok, err = l.sign(time.Minute); err != nil {
				return "", err
			}
		}
		data["AUTHENTICATOR"], data["TOKEN"] = "SNOWFLAKE_JWT", tok
	case "pat-login":
		data["AUTHENTICATOR"], data["TOKEN"], data["LOGIN_NAME"] = "PROGRAMMATIC_ACCESS_TOKEN", l.token, l.user
	default:
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
	if l.noClose {
		return out.Data.Token, nil
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

// selfCPU returns the user plus system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
