package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxCachedRecords bounds the record cache; it is cleared when full.
const maxCachedRecords = 50000

// recordCache keeps recently read catalog records so that hot point reads (the
// account, user, PAT and grant-generation records every login and statement reads)
// skip SQLite. It is guarded by a write generation used like a sequence lock:
//
//   - every record write (Insert, Put, Rename, Delete, DeleteUnder, DeleteAccount)
//     adds 2 at the moment it runs, inside its transaction;
//   - a batch that wrote records makes the generation odd for the duration of its
//     COMMIT (+1 before, +1 after), and adds 2 when it rolls back instead;
//   - an entry is filled only from a read-only View (committed data), stamped with
//     the generation read before that View began, and only when that is even and
//     still current after the read;
//   - an entry is served only when its stamp equals both the current generation and the
//     one the reading transaction started at, and (in an Update) only while no update
//     of the current batch has written a record; a View pins its SQLite snapshot before
//     serving its first hit.
//
// So a hit is served only when no record write and no commit has happened anywhere in
// the process since the reading transaction began: a change (ALTER USER … DISABLED,
// UNSET RSA_PUBLIC_KEY, REMOVE PAT, REVOKE ROLE) is visible to every read that starts
// after the change's Update began, and a View never mixes cached and snapshot data of
// different commits. Session, query-history and login-history writes do not touch
// records and leave the generation alone. The generation is process-local: the SQLite
// store is opened by one process.
type recordCache struct {
	gen atomic.Uint64
	mu  sync.RWMutex
	m   map[Key]cachedRecord
}

type cachedRecord struct {
	stamp uint64
	rec   Record
}

// wrote invalidates every entry (a record write is about to run).
func (c *recordCache) wrote() { c.gen.Add(2) }

// get returns a copy of k's record when an entry stamped start is still current.
func (c *recordCache) get(k Key, start uint64) (*Record, bool) {
	if start%2 != 0 || c.gen.Load() != start {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.stamp != start {
		return nil, false
	}
	r := e.rec // Data is never written after it is cached: callers must not modify it.
	return &r, true
}

// put caches r as read by a View that started at generation start.
func (c *recordCache) put(r *Record, start uint64) {
	if start%2 != 0 || c.gen.Load() != start {
		return // a write or commit began since the snapshot: the entry could never be served
	}
	e := cachedRecord{stamp: start, rec: *r}
	e.rec.Data = append([]byte(nil), r.Data...)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedRecords {
		c.m = make(map[Key]cachedRecord)
	}
	c.m[r.Key] = e
	c.mu.Unlock()
}

// batchState is shared by the updates of one group-commit batch.
type batchState struct {
	wrote bool // some update of the batch has written a record
}

// errCacheMiss ends a cache-only transaction at its first read the cache cannot answer.
var errCacheMiss = errors.New("store: not in the record cache")

// CachedViewer is implemented by stores that can run a read-only transaction from
// their record cache alone (see ViewCached).
type CachedViewer interface {
	// ViewCached is View answered from the record cache when every read is a hit.
	ViewCached(ctx context.Context, fn func(Tx) error) error
}

// ViewCached runs fn like st.View, but first, when st keeps a record cache, against
// that cache alone: if every read fn makes is a hit, fn's outcome stands (all hits
// come from one committed state, the latest); at the first miss fn runs again in an
// ordinary View. fn must therefore tolerate running twice (assign to outer variables,
// do not append) and have no effects besides its reads.
func ViewCached(ctx context.Context, st Store, fn func(Tx) error) error {
	if cv, ok := st.(CachedViewer); ok {
		return cv.ViewCached(ctx, fn)
	}
	return st.View(ctx, fn)
}

// ViewCached implements CachedViewer.
func (s *SQLite) ViewCached(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: view: %w", err)
	}
	ct := &cacheTx{rc: &s.rc, start: s.rc.gen.Load()}
	if ct.start%2 == 0 {
		err := fn(ct)
		if !ct.missed {
			return err
		}
	}
	return s.View(ctx, fn)
}

// cacheTx is a read-only Tx answered from the record cache alone. Every read it
// cannot answer fails with errCacheMiss and marks the transaction as missed, so its
// caller reruns fn in a View even when fn swallowed the error.
type cacheTx struct {
	rc     *recordCache
	start  uint64
	missed bool
}

func (t *cacheTx) miss() error {
	t.missed = true
	return errCacheMiss
}

func (t *cacheTx) Get(_ context.Context, k Key) (*Record, error) {
	if r, ok := t.rc.get(k, t.start); ok {
		return r, nil
	}
	return nil, t.miss()
}

func (t *cacheTx) Insert(context.Context, *Record) error           { return t.miss() }
func (t *cacheTx) Put(context.Context, *Record) error              { return t.miss() }
func (t *cacheTx) Rename(context.Context, Key, Key) error          { return t.miss() }
func (t *cacheTx) Delete(context.Context, Key) error               { return t.miss() }
func (t *cacheTx) DeleteAccount(context.Context, string) error     { return t.miss() }
func (t *cacheTx) CreateSession(context.Context, *Session) error   { return t.miss() }
func (t *cacheTx) UpdateSession(context.Context, *Session) error   { return t.miss() }
func (t *cacheTx) DeleteSession(context.Context, int64) error      { return t.miss() }
func (t *cacheTx) AppendQuery(context.Context, *QueryRecord) error { return t.miss() }
func (t *cacheTx) AppendLogin(context.Context, *LoginRecord) error { return t.miss() }

func (t *cacheTx) List(context.Context, string, string, string) ([]*Record, error) {
	return nil, t.miss()
}

func (t *cacheTx) DeleteUnder(context.Context, string, string) (int, error) { return 0, t.miss() }

func (t *cacheTx) SessionByID(context.Context, int64) (*Session, error) {
	return nil, t.miss()
}

func (t *cacheTx) Sessions(context.Context, string) ([]*Session, error) { return nil, t.miss() }

func (t *cacheTx) DeleteExpiredSessions(context.Context, time.Time) (int, error) {
	return 0, t.miss()
}

func (t *cacheTx) Queries(context.Context, string, int) ([]*QueryRecord, error) {
	return nil, t.miss()
}

func (t *cacheTx) Logins(context.Context, string, int) ([]*LoginRecord, error) {
	return nil, t.miss()
}

func (t *cacheTx) NextSequence(context.Context, string) (int64, error) { return 0, t.miss() }

var _ Tx = (*cacheTx)(nil)
