// Package storetest opens throwaway stores for the tests of other packages.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/firn/firn/internal/store"
)

// Open returns a fresh SQLite store (migrations applied) in tb's temporary directory,
// closed when the test ends.
func Open(tb testing.TB) *store.SQLite {
	tb.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "firn.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
