package main

import (
	"context"
	"io"

	"github.com/firn/firn/internal/sqlcli"
)

// runSQL implements `firn sql`; the logic lives in internal/sqlcli.
func runSQL(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	opts, err := sqlcli.ParseFlags(args, stderr)
	if err != nil {
		return err
	}
	return sqlcli.Run(ctx, opts, stdin, stdout, stderr)
}
