package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/firn/firn/internal/creds"
	"github.com/firn/firn/internal/server"
	"github.com/firn/firn/internal/store"
)

const adminUsage = `Usage:
  firn admin rotate-master-key [--data-dir DIR]
      re-wrap every account's data key under a new master key, while the server runs
  firn admin creds audit [--data-dir DIR] [--account A] [--limit N] [--format text|json]
      the credential broker's audit trail, newest first (never a value)
  firn admin creds cache [--data-dir DIR] [--format text|json]
      the broker's cached tokens: secret, type, expiry, refresh-at, hits (never a value)

The commands talk to the running server through its admin socket,
<data-dir>/admin/firn.sock (--socket overrides), which only the server's user can open.
`

// runAdmin implements `firn admin`.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, adminUsage)
		return usageError{errors.New("admin: missing subcommand")}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	switch args[0] {
	case "rotate-master-key":
		return adminRotate(ctx, args[1:], stdout, stderr)
	case "creds":
		if len(args) < 2 {
			return usageError{errors.New("admin creds: want audit or cache")}
		}
		switch args[1] {
		case "audit":
			return adminAudit(ctx, args[2:], stdout, stderr)
		case "cache":
			return adminCache(ctx, args[2:], stdout, stderr)
		}
		return usageError{fmt.Errorf("admin creds: unknown subcommand %q", args[1])}
	}
	return usageError{fmt.Errorf("admin: unknown subcommand %q", args[0])}
}

// adminFlags are the flags every admin subcommand takes.
type adminFlags struct {
	fs      *flag.FlagSet
	dataDir *string
	socket  *string
	format  *string
}

func newAdminFlags(name string, stderr io.Writer, withFormat bool) *adminFlags {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := &adminFlags{fs: fs,
		dataDir: fs.String("data-dir", ".firn", "the server's data directory"),
		socket:  fs.String("socket", "", "admin socket (default <data-dir>/admin/firn.sock)")}
	if withFormat {
		a.format = fs.String("format", "text", "output format: text or json")
	}
	return a
}

func (a *adminFlags) parse(args []string) error {
	if err := a.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if a.fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", a.fs.Name(), a.fs.Arg(0))}
	}
	if a.format != nil && *a.format != "text" && *a.format != "json" {
		return usageError{fmt.Errorf("%s: --format must be text or json", a.fs.Name())}
	}
	return nil
}

// client is an HTTP client over the admin socket.
func (a *adminFlags) client() (*http.Client, string) {
	path := *a.socket
	if path == "" {
		path = server.AdminSocketPath(*a.dataDir)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}, path
}

// call sends one admin request and decodes the JSON answer into out.
func (a *adminFlags) call(ctx context.Context, method, path string, q url.Values, out any) error {
	c, sock := a.client()
	u := "http://firn-admin" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w (is the server running with this --data-dir, as this user?)", sock, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var ae server.AdminError
		if json.Unmarshal(body, &ae) == nil && ae.Error != "" {
			return errors.New(ae.Error)
		}
		return fmt.Errorf("admin: %s", resp.Status)
	}
	return json.Unmarshal(body, out)
}

func adminRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("rotate-master-key", stderr, false)
	if err := a.parse(args); err != nil {
		return err
	}
	var res server.RotateResult
	if err := a.call(ctx, http.MethodPost, server.AdminPathRotateMasterKey, nil, &res); err != nil {
		return fmt.Errorf("rotate-master-key: %w", err)
	}
	fmt.Fprintf(stdout, "master key rotated: %s -> %s\n", res.OldMasterKeyID, res.NewMasterKeyID)
	return nil
}

func adminAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("creds audit", stderr, true)
	account := a.fs.String("account", "", "only this account (default: every account)")
	limit := a.fs.Int("limit", 100, "at most this many rows (0: all)")
	if err := a.parse(args); err != nil {
		return err
	}
	if *limit < 0 {
		return usageError{errors.New("creds audit: --limit must not be negative")}
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *account != "" {
		q.Set("account", *account)
	}
	var recs []store.CredsAuditRecord
	if err := a.call(ctx, http.MethodGet, server.AdminPathCredsAudit, q, &recs); err != nil {
		return fmt.Errorf("creds audit: %w", err)
	}
	if *a.format == "json" {
		return writeJSON(stdout, recs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST_TIME\tCOUNT\tACCOUNT\tROLE\tWORKLOAD\tSECRET\tTYPE\tINTEGRATION\tOUTCOME\tSOURCE\tEXPIRES\tREASON")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(r.LastTime), r.Count, r.Account, r.Role,
			r.Workload, r.Secret, dash(r.SecretType), dash(r.Integration), r.Outcome, dash(r.Source), stamp(r.ExpiresAt), dash(r.Reason))
	}
	return tw.Flush()
}

func adminCache(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAdminFlags("creds cache", stderr, true)
	if err := a.parse(args); err != nil {
		return err
	}
	var es []creds.CacheEntry
	if err := a.call(ctx, http.MethodGet, server.AdminPathCredsCache, nil, &es); err != nil {
		return fmt.Errorf("creds cache: %w", err)
	}
	if *a.format == "json" {
		return writeJSON(stdout, es)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tSECRET\tTYPE\tISSUED\tEXPIRES\tREFRESH_AT\tHITS\tFETCHES\tLAST_ERROR")
	for _, e := range es {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", e.Account, e.Secret, e.Type, stamp(e.Issued), stamp(e.Expires),
			stamp(e.RefreshAt), e.Hits, e.Fetches, dash(e.LastError))
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func dash(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "-"
	}
	return s
}
