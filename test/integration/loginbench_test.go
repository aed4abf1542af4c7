package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/firn/firn/internal/auth"
)

// BenchmarkJWTLogin measures key-pair JWT logins per second through the real HTTP
// login endpoint at 32 concurrent clients (the body gosnowflake sends). The tokens are
// real RS256 JWTs, signed before the timer starts (each valid for 59 minutes, as a
// driver's token may be) and reused round-robin, so the client's RSA signing does not
// compete with the server for the cores. Each login is a full login: signature check,
// LOGIN_HISTORY row and session in one commit.
func BenchmarkJWTLogin(b *testing.B) {
	e := start(b)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	mustExec(b, e.admin(), "ALTER USER admin SET RSA_PUBLIC_KEY = '"+jwtPubBody(b, k)+"'")
	now := time.Now()
	iss := "FIRN.ADMIN." + auth.Fingerprint(&k.PublicKey)
	bodies := make([]string, 256)
	for i := range bodies {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": iss, "sub": "FIRN.ADMIN", "iat": now.Unix(), "exp": now.Add(59 * time.Minute).Unix(), "jti": i,
		}).SignedString(k)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = `{"data":{"CLIENT_APP_ID":"Go","CLIENT_APP_VERSION":"1.19.1","ACCOUNT_NAME":"FIRN",` +
			`"AUTHENTICATOR":"SNOWFLAKE_JWT","TOKEN":"` + tok + `","SESSION_PARAMETERS":{}}}`
	}
	url := "http://" + e.addr + "/session/v1/login-request"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ResetTimer()
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(bodies[i%len(bodies)]))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var out struct {
				Success bool   `json:"success"`
				Message string `json:"message"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || !out.Success {
				b.Errorf("login failed: %v %s", err, out.Message)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "logins/s")
}
