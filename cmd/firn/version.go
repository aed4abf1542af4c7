package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/firn/firn/internal/version"
)

// runVersion implements `firn version`.
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("version: unexpected argument %q", args[0])}
	}
	_, err := fmt.Fprintf(stdout, "firn %s (Snowflake %s compatible) %s %s/%s\n",
		version.Version, version.Snowflake, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
