package integration

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	firnBin   string
	buildErr  error
)

// firnBinary builds cmd/firn once per test run (or uses $FIRN_BIN).
func firnBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("FIRN_BIN"); p != "" {
			firnBin = p
			return
		}
		dir, err := os.MkdirTemp("", "firn-bin-")
		if err != nil {
			buildErr = err
			return
		}
		firnBin = filepath.Join(dir, "firn")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", firnBin, "./cmd/firn")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return firnBin
}

// proc is a firn server running as a separate process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProc runs `firn serve` on dataDir and waits until it logs that it serves and
// /healthz answers 200.
func startProc(t testing.TB, dataDir string, extra ...string) *proc {
	t.Helper()
	addr := freePort(t)
	args := append([]string{"serve", "--listen", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command(firnBinary(t), args...)
	cmd.Env = append(os.Environ(), "FIRN_ADMIN_PASSWORD="+adminPassword)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, done: make(chan error, 1)}
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "firn serving") {
				once.Do(func() { close(serving) })
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	select {
	case <-serving:
	case err := <-p.done:
		t.Fatalf("firn exited during start-up: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("firn did not start within 60s")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	return p
}

// kill sends SIGKILL and waits for the process to die.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil // let later kills return
}

func (p *proc) dsn(account, user, pw string) string {
	return fmt.Sprintf("%s:%s@%s?account=%s&protocol=http", user, pw, p.addr, account)
}

// TestDurabilityAfterKill9 acknowledges objects and users, kills the server with
// SIGKILL and checks that every acknowledged one is there after a restart.
func TestDurabilityAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	p := startProc(t, dir)
	db, err := sql.Open("snowflake", p.dsn("FIRN", "ADMIN", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	c := conn(t, db)
	mustExec(t, c, "USE ROLE ORGADMIN",
		"CREATE ACCOUNT durable ADMIN_NAME = dora ADMIN_PASSWORD = 'D0ra-password-1' EMAIL = 'd@example.com'",
		"USE ROLE SYSADMIN")
	const n = 20
	for i := 0; i < n; i++ {
		mustExec(t, c, fmt.Sprintf("CREATE DATABASE acked_%d", i))
	}
	// A statement still in flight when the process dies may or may not survive; the
	// acknowledged ones must.
	go func() { _, _ = c.ExecContext(context.Background(), "CREATE DATABASE in_flight") }()
	p.kill()
	db.Close()

	p2 := startProc(t, dir)
	db2, err := sql.Open("snowflake", p2.dsn("FIRN", "ADMIN", adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	c2 := conn(t, db2)
	mustExec(t, c2, "USE ROLE SYSADMIN")
	cols, rs := rows(t, c2, "SHOW DATABASES LIKE 'ACKED_%'")
	if len(rs) != n {
		t.Fatalf("after kill -9: %d of %d acknowledged databases survived", len(rs), n)
	}
	_ = cols
	// The account and its administrator survived too.
	tenant, err := sql.Open("snowflake", p2.dsn("DURABLE", "DORA", "D0ra-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	if err := tenant.Ping(); err != nil {
		t.Fatalf("login of the acknowledged account's admin after kill -9: %v", err)
	}
}

// TestFirnSQLClient runs `firn sql` against a running server, configured the way the
// Snowflake CLI is: a connections.toml in $SNOWFLAKE_HOME plus environment variables.
func TestFirnSQLClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	p := startProc(t, t.TempDir())
	home := t.TempDir()
	host, port, _ := net.SplitHostPort(p.addr)
	toml := fmt.Sprintf("[local]\naccount = \"FIRN\"\nuser = \"ADMIN\"\nhost = %q\nport = %q\nprotocol = \"http\"\n", host, port)
	if err := os.WriteFile(filepath.Join(home, "connections.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(firnBinary(t), append([]string{"sql", "-c", "local"}, args...)...)
		cmd.Env = append(os.Environ(), "SNOWFLAKE_HOME="+home, "SNOWFLAKE_CONNECTIONS_LOCAL_PASSWORD="+adminPassword)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	out, stderr, err := run("-q", "SELECT CURRENT_USER() AS who, 42 AS answer")
	if err != nil {
		t.Fatalf("firn sql: %v\n%s", err, stderr)
	}
	for _, want := range []string{"WHO", "ANSWER", "ADMIN", "42", "1 Row(s) produced."} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run("--format", "json", "-q", "SHOW PARAMETERS LIKE 'TIMEZONE'")
	if err != nil || !strings.Contains(out, `"key": "TIMEZONE"`) && !strings.Contains(out, `"key":"TIMEZONE"`) {
		t.Errorf("json output: %v\n%s", err, out)
	}
	_, stderr, err = run("-q", "SELEC 1")
	if err == nil || !strings.Contains(stderr, "001003") {
		t.Errorf("syntax error: err=%v stderr=%s", err, stderr)
	}
}
