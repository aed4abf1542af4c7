package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/firn/firn/internal/ingress"
	"github.com/firn/firn/internal/privatelink"
	"github.com/firn/firn/internal/store"
)

// runExplain implements `firn explain ingress`: it opens the data directory's store
// (SQLite in WAL mode, so this is safe while the server runs; nothing is written),
// loads the private-endpoint registrations as the server does, and prints the decision
// of ingress.Guard.Check — the function the server enforces with — for a
// hypothetical request.
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "ingress" {
		return usageError{errors.New("explain: usage: firn explain ingress --account A --user U --ip X [--endpoint ID] [--data-dir D]")}
	}
	fs := flag.NewFlagSet("explain ingress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account name (case-insensitive)")
	user := fs.String("user", "", "user name (unquoted names are upper-cased)")
	ipText := fs.String("ip", "", "client IP address")
	endpoint := fs.String("endpoint", "", "private endpoint ID (VPC endpoint ID or Azure LinkID); empty for the public network")
	dataDir := fs.String("data-dir", ".firn", "the server's data directory")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("explain: unexpected argument %q", fs.Arg(0))}
	}
	if *account == "" || *user == "" || *ipText == "" {
		return usageError{errors.New("explain ingress: --account, --user and --ip are required")}
	}
	ip, err := netip.ParseAddr(*ipText)
	if err != nil {
		return usageError{fmt.Errorf("explain ingress: --ip: %w", err)}
	}
	path := filepath.Join(*dataDir, "firn.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("explain ingress: no store in %s: %w", *dataDir, err)
	}
	st, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	reg := privatelink.New(privatelink.Config{Store: st})
	if err := reg.Refresh(ctx); err != nil {
		return fmt.Errorf("explain ingress: load endpoint registrations: %w", err)
	}
	ex, err := ingress.Explain(ctx, st, reg.Pins(), *account, *user, ip.Unmap(), *endpoint)
	if err != nil {
		return err
	}
	decision := "ALLOWED"
	if !ex.Result.Allowed {
		decision = "REFUSED"
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	pin := "not consulted (public request)"
	if ex.Pinning {
		pin = "consulted"
	}
	_, err = fmt.Fprintf(stdout, "decision: %s\naccount:  %s\nuser:     %s\nip:       %s\nendpoint: %s\nlevel:    %s\npolicy:   %s\nrule:     %s\nreason:   %s\npinning:  %s\n",
		decision, ex.Account, ex.User, ex.IP, dash(ex.Endpoint), dash(ex.Result.Level), dash(ex.Result.Policy),
		dash(ex.Result.Rule), ex.Result.Reason, pin)
	return err
}
