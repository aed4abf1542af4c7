package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/firn/firn/internal/store"
)

// TestFlushMakesEverythingVisible records rows from many goroutines and checks that
// after Flush every one of them is in the store, and that Close drains the rest.
func TestFlushMakesEverythingVisible(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := NewRecorder(st, nil)
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r.Query(&store.QueryRecord{QueryID: fmt.Sprintf("q-%d-%d", w, i), Account: "A", Status: "SUCCESS",
					StartTime: time.Unix(int64(i), 0)})
			}
		}(w)
	}
	wg.Wait()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		_ = st.View(ctx, func(tx store.Tx) error {
			qs, err := tx.Queries(ctx, "A", 0)
			n = len(qs)
			return err
		})
		return n
	}
	if n := count(); n != writers*each {
		t.Fatalf("after Flush: %d rows; want %d", n, writers*each)
	}
	r.Query(&store.QueryRecord{QueryID: "last", Account: "A", Status: "SUCCESS"})
	r.Close()
	if n := count(); n != writers*each+1 {
		t.Fatalf("after Close: %d rows; want %d", n, writers*each+1)
	}
	// Flush after Close returns at once.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
