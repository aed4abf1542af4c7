// Command firn is a self-hostable, Snowflake-compatible identity and
// connectivity plane: unmodified Snowflake drivers log in to it and run SQL.
//
// Usage:
//
//	firn serve [flags]   run the server
//	firn sql [flags]     run SQL through gosnowflake (one-shot or interactive)
//	firn admin <cmd>     admin commands against a running server (rotate-master-key, creds audit, creds cache)
//	firn version         print version information
//	firn help            print this help
//
// Exit status is 0 on success, 1 on a runtime error and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/firn/firn/internal/sqlcli"
)

const usage = `firn — a Snowflake-compatible identity and connectivity plane

Usage:
  firn serve [flags]   run the server (firn serve -h for flags)
  firn sql [flags]     run SQL through gosnowflake (firn sql -h for flags)
  firn admin <cmd>     rotate-master-key, creds audit, creds cache (firn admin help)
  firn explain ingress --account A --user U --ip X [--endpoint ID] [--data-dir D]
                       explain the network-policy decision for a request
  firn version         print version information
  firn help            print this help
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a subcommand and returns the process exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "admin":
		err = runAdmin(ctx, rest, stdout, stderr)
	case "sql":
		err = runSQL(ctx, rest, stdin, stdout, stderr)
	case "explain":
		err = runExplain(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		err = runVersion(rest, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Errorf("unknown command %q", cmd)}
	}
	return exitCode(err, stderr)
}

// exitCode prints err (unless already reported) and maps it to an exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, sqlcli.ErrReported):
		return 1
	case errors.As(err, &ue), errors.Is(err, sqlcli.ErrUsage):
		fmt.Fprintf(stderr, "firn: %v\nRun 'firn help' for usage.\n", err)
		return 2
	case errors.Is(err, context.Canceled):
		return 1
	default:
		fmt.Fprintf(stderr, "firn: %v\n", err)
		return 1
	}
}
