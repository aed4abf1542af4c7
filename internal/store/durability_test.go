package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// crashHelperEnv, when set to a database path, makes the test binary act as the
// durability test's child process instead of running tests.
const crashHelperEnv = "FIRN_STORE_CRASH_HELPER_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashHelperEnv); path != "" {
		if err := crashHelper(path); err != nil {
			fmt.Fprintln(os.Stderr, "crash helper:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashHelper commits records one per Update and acknowledges each commit on stdout
// ("committed N") only after Update has returned. It runs until it is killed.
func crashHelper(path string) error {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		err := s.Update(ctx, func(tx Tx) error {
			return tx.Insert(ctx, &Record{Key: key("A", "USER", "", strconv.Itoa(i)), Data: []byte("{}")})
		})
		if err != nil {
			return err
		}
		// os.Stdout is unbuffered: the line is in the pipe when Println returns.
		if _, err := fmt.Println("committed", i); err != nil {
			return err
		}
	}
}

// TestDurableAfterKill SIGKILLs a process that is committing records and checks that
// every commit it acknowledged survives. (A process kill leaves the OS page cache
// intact; synchronous=FULL is what extends the guarantee to power loss.)
func TestDurableAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "firn.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	const killAfter = 40
	acked := map[int]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "committed %d", &n); err != nil {
			t.Errorf("unexpected helper output %q", sc.Text())
			continue
		}
		acked[n] = true
		if len(acked) == killAfter {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
		// Keep reading: acknowledgements already in the pipe count too.
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("helper exit: %v, want killed by signal; stderr:\n%s", err, stderr.String())
	}
	if len(acked) < killAfter {
		t.Fatalf("helper acknowledged only %d commits; stderr:\n%s", len(acked), stderr.String())
	}

	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	present := map[string]bool{}
	view(t, s, func(tx Tx) error {
		rs, err := tx.List(context.Background(), "A", "USER", "")
		for _, r := range rs {
			present[r.Name] = true
		}
		return err
	})
	for n := range acked {
		if !present[strconv.Itoa(n)] {
			t.Errorf("acknowledged record %d lost", n)
		}
	}
	t.Logf("%d acknowledged, %d present after kill", len(acked), len(present))
}
