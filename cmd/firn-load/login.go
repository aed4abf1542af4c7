package main

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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

// loginLoad drives full logins over HTTP/1.1 keep-alive connections, as a driver does
// at connect time. Each client owns one connection and writes requests serialised
// by net/http (Request.Write) and reads replies with http.ReadResponse, without
// http.Transport's two goroutines per connection: the generator shares the machine's
// cores with the server, so every microsecond it spends is one the server loses.
type loginLoad struct {
	url, account, user, password string
	addr                         string // host:port of url
	key                          *rsa.PrivateKey
	iss, sub                     string
	token                        string        // pat-login
	poolSize                     int           // pre-signed JWTs (0: sign per login)
	ttl                          time.Duration // lifetime of each JWT
	pool                         [][]byte      // serialised login requests, one per pre-signed JWT
	fixed                        []byte        // the serialised login request of login and pat-login
	noClose                      bool          // leave sessions open (they expire server-side)
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
	u, err := url.Parse(l.url)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url %q: want http://host:port", l.url)
	}
	l.addr = u.Host
	if mode != "jwt-login" {
		if l.fixed, err = l.loginRequest(mode, ""); err != nil {
			return err
		}
	}
	first := &rawConn{addr: l.addr}
	if _, err := l.once(first, mode); err != nil {
		return fmt.Errorf("first login: %w", err)
	}
	first.close()
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
			rc := &rawConn{addr: l.addr}
			defer rc.close()
			var local []time.Duration
			localErrs := 0
			var localFirst error
			for {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				_, err := l.once(rc, mode)
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
// measured window starts, and serialises a login request for each.
func (l *loginLoad) presign() error {
	if l.poolSize <= 0 {
		return nil
	}
	l.pool = make([][]byte, l.poolSize)
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
				if err == nil {
					l.pool[i], err = l.loginRequest("jwt-login", tok)
				}
				if err != nil {
					errs <- err
					return
				}
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

// loginRequest serialises a login request as a driver sends it (the fields firn-load
// needs of gosnowflake's body); jwt is the token of a jwt-login.
func (l *loginLoad) loginRequest(mode, jwt string) ([]byte, error) {
	data := map[string]any{"CLIENT_APP_ID": "firn-load", "CLIENT_APP_VERSION": "1", "ACCOUNT_NAME": l.account}
	switch mode {
	case "jwt-login":
		data["AUTHENTICATOR"], data["TOKEN"] = "SNOWFLAKE_JWT", jwt
	case "pat-login":
		data["AUTHENTICATOR"], data["TOKEN"], data["LOGIN_NAME"] = "PROGRAMMATIC_ACCESS_TOKEN", l.token, l.user
	default:
		data["LOGIN_NAME"], data["PASSWORD"] = l.user, l.password
	}
	return l.request("/session/v1/login-request", "", map[string]any{"data": data})
}

// request serialises a POST of body (nil: none) to path, with a session token if
// one is given, using net/http's own request writer.
func (l *loginLoad) request(path, token string, body any) ([]byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPost, l.url+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/snowflake")
	if token != "" {
		req.Header.Set("Authorization", `Snowflake Token="`+token+`"`)
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// loginReply is the part of a login (or close) reply firn-load checks.
type loginReply struct {
	Success bool   `json:"success"`
	Code    any    `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Token string `json:"token"`
	} `json:"data"`
}

// once performs one login (and close, unless noClose) on rc and returns the session
// token.
func (l *loginLoad) once(rc *rawConn, mode string) (string, error) {
	var raw []byte
	switch {
	case mode != "jwt-login":
		raw = l.fixed
	case len(l.pool) > 0:
		raw = l.pool[l.next.Add(1)%uint64(len(l.pool))]
	default:
		tok, err := l.sign(time.Minute)
		if err != nil {
			return "", err
		}
		if raw, err = l.loginRequest(mode, tok); err != nil {
			return "", err
		}
	}
	var out loginReply
	if err := rc.post(raw, &out); err != nil {
		return "", err
	}
	if !out.Success || out.Data.Token == "" {
		return "", fmt.Errorf("login refused: %v %s", out.Code, out.Message)
	}
	if l.noClose {
		return out.Data.Token, nil
	}
	closeReq, err := l.request("/session?delete=true", out.Data.Token, nil)
	if err != nil {
		return "", err
	}
	var closed loginReply
	if err := rc.post(closeReq, &closed); err != nil {
		return "", fmt.Errorf("close: %w", err)
	}
	if !closed.Success {
		return "", fmt.Errorf("close refused: %v %s", closed.Code, closed.Message)
	}
	return out.Data.Token, nil
}

// rawConn is one client's keep-alive HTTP/1.1 connection; it redials after an error
// or a reply that closes the connection.
type rawConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	body bytes.Buffer
}

const rawTimeout = 30 * time.Second

// post writes a serialised request and decodes the JSON reply into into.
func (rc *rawConn) post(raw []byte, into any) error {
	if rc.c == nil {
		c, err := net.DialTimeout("tcp", rc.addr, rawTimeout)
		if err != nil {
			return err
		}
		rc.c = c
		if rc.br == nil {
			rc.br = bufio.NewReaderSize(c, 16<<10)
		} else {
			rc.br.Reset(c)
		}
	}
	if err := rc.c.SetDeadline(time.Now().Add(rawTimeout)); err != nil {
		rc.close()
		return err
	}
	if _, err := rc.c.Write(raw); err != nil {
		rc.close()
		return err
	}
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.close()
		return err
	}
	rc.body.Reset()
	_, err = rc.body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		rc.close()
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.Unmarshal(rc.body.Bytes(), into)
}

func (rc *rawConn) close() {
	if rc.c != nil {
		rc.c.Close()
		rc.c = nil
	}
}

// selfCPU returns the user plus system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
