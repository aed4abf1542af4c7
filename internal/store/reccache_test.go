package store

import (
	"context"
	"errors"
	"testing"
)

// viewGet reads k in a View.
func viewGet(t *testing.T, s *SQLite, k Key) (string, error) {
	t.Helper()
	var data string
	err := s.View(context.Background(), func(tx Tx) error {
		r, err := tx.Get(context.Background(), k)
		if err != nil {
			return err
		}
		data = string(r.Data)
		return nil
	})
	return data, err
}

// TestRecordCacheInvalidation proves that every kind of record write is visible to
// the next read although the record was cached, and that unchanged records are
// served from the cache.
func TestRecordCacheInvalidation(t *testing.T) {
	ctx := context.Background()
	k := key("A", "USER", "", "U")
	tests := []struct {
		name  string
		write func(tx Tx) error
		want  string // "" means not found
		key   Key
	}{
		{"put", func(tx Tx) error {
			return tx.Put(ctx, &Record{Key: k, Data: []byte(`{"disabled":true}`)})
		}, `{"disabled":true}`, k},
		{"delete", func(tx Tx) error { return tx.Delete(ctx, k) }, "", k},
		{"rename", func(tx Tx) error { return tx.Rename(ctx, k, key("A", "USER", "", "V")) }, "", k},
		{"delete under", func(tx Tx) error {
			_, err := tx.DeleteUnder(ctx, "A", "")
			return err
		}, "", k},
		{"delete account", func(tx Tx) error { return tx.DeleteAccount(ctx, "A") }, "", k},
		{"insert after delete", func(tx Tx) error {
			if err := tx.Delete(ctx, k); err != nil {
				return err
			}
			return tx.Insert(ctx, &Record{Key: k, Data: []byte(`{"n":"new"}`)})
		}, `{"n":"new"}`, k},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			seed(t, s, k)
			for range 2 { // the second read is a cache hit
				if _, err := viewGet(t, s, k); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := s.rc.get(k, s.rc.gen.Load()); !ok {
				t.Fatal("record not cached after a View read")
			}
			update(t, s, tc.write)
			got, err := viewGet(t, s, tc.key)
			if tc.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("after %s: got %q, %v; want not found", tc.name, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("after %s: got %q, %v; want %q", tc.name, got, err, tc.want)
			}
		})
	}
}

// TestRecordCacheBatch covers the group-commit cases: an update sees an earlier
// update's uncommitted write in the same batch even when a concurrent View cached the
// committed value meanwhile; a rolled-back write leaves the committed value; a View
// started after the write's Update began never sees the old value from the cache.
func TestRecordCacheBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	k := key("A", "USER", "", "U")
	seed(t, s, k)
	if _, err := viewGet(t, s, k); err != nil {
		t.Fatal(err)
	}
	var seenByB, seenByView string
	a := &writeReq{ctx: ctx, done: make(chan struct{}), fn: func(tx Tx) error {
		if err := tx.Put(ctx, &Record{Key: k, Data: []byte(`{"v":2}`)}); err != nil {
			return err
		}
		// A concurrent reader (before the commit) sees and caches the committed value.
		var err error
		seenByView, err = viewGet(t, s, k)
		return err
	}}
	b := &writeReq{ctx: ctx, done: make(chan struct{}), fn: func(tx Tx) error {
		r, err := tx.Get(ctx, k)
		if err != nil {
			return err
		}
		seenByB = string(r.Data)
		return nil
	}}
	s.commitBatch([]*writeReq{a, b})
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	if seenByView != `{"n":"U"}` {
		t.Errorf("concurrent View saw %q, want the committed value", seenByView)
	}
	if seenByB != `{"v":2}` {
		t.Errorf("second update of the batch saw %q, want the first's write", seenByB)
	}
	if got, _ := viewGet(t, s, k); got != `{"v":2}` {
		t.Errorf("after commit: %q", got)
	}
	// A failed update rolls back; readers keep seeing the committed value.
	err := s.Update(ctx, func(tx Tx) error {
		if err := tx.Put(ctx, &Record{Key: k, Data: []byte(`{"v":3}`)}); err != nil {
			return err
		}
		return errors.New("refused")
	})
	if err == nil {
		t.Fatal("update did not fail")
	}
	if got, _ := viewGet(t, s, k); got != `{"v":2}` {
		t.Errorf("after rollback: %q", got)
	}
}
