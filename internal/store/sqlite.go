package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long a connection waits for a lock held by another process
// before failing with SQLITE_BUSY. Within one process writers never contend: they
// share a single connection.
const busyTimeout = 10 * time.Second

// SQLite is the embedded Store: one SQLite file in WAL mode with synchronous=FULL, so
// every committed Update is on disk before it returns.
//
// Writers are serialized through a single connection that begins every transaction
// with BEGIN IMMEDIATE; Views run on a separate pool of read-only connections and see
// a consistent snapshot without blocking or being blocked by the writer.
//
// Update and View must not be nested inside an Update of the same store: the inner
// Update would wait forever for the write connection.
type SQLite struct {
	path string
	w    *sql.DB // exactly one connection
	r    *sql.DB // read-only pool

	// Group commit: concurrent Updates queue here and one leader runs a batch of them
	// in a single transaction, each inside its own savepoint, then commits once.
	wmu     sync.Mutex
	queue   []*writeReq
	leading bool

	// Prepared statements per pool: compiling SQL is most of a point query's cost.
	ws, rs stmtCache

	// rc caches hot records, guarded by a write generation (reccache.go).
	rc recordCache
}

// stmtCache holds statements prepared on one *sql.DB, keyed by query text. A miss is
// prepared in the background, never by the caller: DB.Prepare needs a free connection,
// and a caller inside a transaction may hold the only one (the writer) or one of a
// busy pool, so preparing inline could deadlock.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
	wg      sync.WaitGroup // background prepares, waited for by close
}

// maxCachedStmts bounds the cache; the store issues a small fixed set of queries.
const maxCachedStmts = 128

func (c *stmtCache) init(db *sql.DB) {
	c.db, c.m, c.pending = db, map[string]*sql.Stmt{}, map[string]bool{}
}

// lookup returns the prepared statement for q, or nil after scheduling its preparation.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[q]; st != nil {
		return st
	}
	if c.db != nil && !c.closed && !c.pending[q] && len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[q] = true
		c.wg.Add(1)
		go c.prepare(q)
	}
	return nil
}

func (c *stmtCache) prepare(q string) {
	defer c.wg.Done()
	st, err := c.db.Prepare(q)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, q)
	if err != nil {
		return
	}
	if c.closed {
		st.Close()
		return
	}
	c.m[q] = st
}

// close closes the cached statements once no background prepare is running, so that
// none opens a connection after the store's pools are closed.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// writeReq is one queued Update.
type writeReq struct {
	ctx      context.Context
	fn       func(Tx) error
	err      error
	panicked any
	done     chan struct{}
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database file at path and applies any
// pending migrations. The parent directory is created with mode 0700 and the file
// (with its WAL and shared-memory files) has mode 0600.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open %q: need a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	// SQLite creates the -wal and -shm files with the main file's permissions, so
	// fixing the main file's mode first covers all three.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("store: chmod %s: %w", path, err)
	}

	common := url.Values{}
	common.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	common.Set("_foreign_keys", "1")
	common.Set("_synchronous", "FULL")

	wq := url.Values{}
	for k, v := range common {
		wq[k] = v
	}
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &SQLite{path: path, w: w}
	if err := s.checkPragmas(ctx); err != nil {
		w.Close()
		return nil, err
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		w.Close()
		return nil, err
	}
	n, err := migrate(ctx, w, ms)
	if err != nil {
		w.Close()
		return nil, err
	}
	if n > 0 {
		slog.InfoContext(ctx, "store: applied migrations", "path", path, "count", n, "version", ms[len(ms)-1].version)
	}

	rq := common // no longer needed unchanged
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s.r = r
	s.ws.init(w)
	s.rs.init(r)
	return s, nil
}

// checkPragmas verifies the write connection really runs in WAL mode with
// synchronous=FULL, on which durability depends.
func (s *SQLite) checkPragmas(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("store: open %s: journal_mode is %q, want wal", s.path, mode)
	}
	var sync int
	if err := s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if sync != 2 {
		return fmt.Errorf("store: open %s: synchronous is %d, want 2 (FULL)", s.path, sync)
	}
	return nil
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	s.ws.close()
	s.rs.close()
	return errors.Join(s.r.Close(), s.w.Close())
}

// Update runs fn in a read-write transaction (BEGIN IMMEDIATE) and commits it if fn
// returns nil. If fn returns an error or panics, or ctx ends, nothing is written; a
// panic is re-raised after the rollback.
//
// Concurrent Updates are group-committed: they run one after another, each in its own
// savepoint of one shared transaction, and a single fsync makes the whole batch
// durable. Each fn sees the effects of the ones before it, exactly as if they had
// committed in sequence; a failed fn's savepoint is rolled back without touching the
// others. Update returns only after the commit is on disk.
func (s *SQLite) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: update: %w", err)
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.wmu.Lock()
	s.queue = append(s.queue, req)
	lead := !s.leading
	s.leading = true
	s.wmu.Unlock()
	if lead {
		s.lead()
	}
	<-req.done
	if req.panicked != nil {
		panic(req.panicked)
	}
	return req.err
}

// lead commits the queued batch, then hands leadership to a new goroutine if more
// requests arrived meanwhile, so no caller serves others' batches indefinitely.
func (s *SQLite) lead() {
	s.wmu.Lock()
	batch := s.queue
	s.queue = nil
	s.wmu.Unlock()
	s.commitBatch(batch)
	s.wmu.Lock()
	if len(s.queue) == 0 {
		s.leading = false
		s.wmu.Unlock()
		return
	}
	s.wmu.Unlock()
	go s.lead()
}

// commitBatch runs a batch of Updates in one transaction and releases their callers.
func (s *SQLite) commitBatch(batch []*writeReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	bg := context.Background()
	bs := &batchState{}
	committing := false
	defer func() {
		switch {
		case committing:
			s.rc.gen.Add(1) // even again: the commit is over
		case bs.wrote:
			s.rc.wrote() // rolled back: entries read meanwhile are stale
		}
	}()
	stx, err := s.w.BeginTx(bg, nil)
	if err != nil {
		for _, r := range batch {
			r.err = fmt.Errorf("store: update: begin: %w", err)
		}
		return
	}
	var ok []*writeReq
	// abort ends the transaction after a failure that leaves it unusable (a savepoint
	// that cannot be made, rolled back or released): nothing in the batch commits.
	abort := func(cause error) {
		_ = stx.Rollback()
		for _, r := range batch {
			if r.err == nil && r.panicked == nil {
				r.err = fmt.Errorf("store: update: rolled back with its batch: %w", cause)
			}
		}
		for _, r := range ok {
			r.err = fmt.Errorf("store: update: rolled back with its batch: %w", cause)
		}
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("store: update: %w", err)
			continue
		}
		if _, err := stx.ExecContext(bg, "SAVEPOINT w"); err != nil {
			abort(err)
			return
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.panicked = p
				}
			}()
			r.err = r.fn(&sqliteTx{tx: stx, cache: &s.ws, rc: &s.rc, batch: bs, start: s.rc.gen.Load()})
		}()
		if r.panicked == nil && r.err == nil && r.ctx.Err() != nil {
			r.err = fmt.Errorf("store: update: not committed: %w", r.ctx.Err())
		}
		if r.panicked != nil || r.err != nil {
			_, err := stx.ExecContext(bg, "ROLLBACK TO w")
			if err == nil {
				_, err = stx.ExecContext(bg, "RELEASE w")
			}
			if err != nil {
				abort(err)
				return
			}
			continue
		}
		if _, err := stx.ExecContext(bg, "RELEASE w"); err != nil {
			abort(err)
			return
		}
		ok = append(ok, r)
	}
	if bs.wrote {
		committing = true
		s.rc.gen.Add(1) // odd while committing: no cache fills or hits
	}
	if err := stx.Commit(); err != nil {
		for _, r := range ok {
			r.err = fmt.Errorf("store: update: commit: %w", err)
		}
	}
}

// View runs fn in a read-only transaction on a consistent snapshot.
func (s *SQLite) View(ctx context.Context, fn func(Tx) error) error {
	return run(ctx, s.r, &s.rs, &s.rc, true, fn)
}

func run(ctx context.Context, db *sql.DB, cache *stmtCache, rc *recordCache, readOnly bool, fn func(Tx) error) (err error) {
	what := "update"
	if readOnly {
		what = "view"
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	// The generation is read before the snapshot begins (at the first read).
	start := rc.gen.Load()
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	done := false
	defer func() {
		if !done {
			// fn panicked: roll back, then let the panic continue.
			stx.Rollback()
		}
	}()
	ferr := fn(&sqliteTx{tx: stx, cache: cache, rc: rc, start: start, view: readOnly})
	done = true
	if ferr != nil {
		if rerr := stx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(ferr, fmt.Errorf("store: %s: rollback: %w", what, rerr))
		}
		return ferr
	}
	if readOnly {
		// Nothing to make durable; Rollback just releases the snapshot.
		if err := stx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			return fmt.Errorf("store: %s: end: %w", what, err)
		}
		return nil
	}
	if err := stx.Commit(); err != nil {
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, sql.ErrTxDone) {
			// database/sql rolled the transaction back when ctx ended.
			return fmt.Errorf("store: %s: not committed: %w", what, cerr)
		}
		return fmt.Errorf("store: %s: commit: %w", what, err)
	}
	return nil
}

// sqliteTx implements Tx on one database/sql transaction.
type sqliteTx struct {
	tx     *sql.Tx
	cache  *stmtCache
	rc     *recordCache
	start  uint64      // rc's generation when the transaction (or savepoint) began
	view   bool        // read-only View: may fill rc
	pinned bool        // View: its snapshot has been established by a read
	batch  *batchState // Update: the group-commit batch
}

// wrote records that a record write is about to run: it invalidates the cache at
// once, and again when the transaction ends.
func (t *sqliteTx) wrote() {
	if t.batch != nil {
		t.batch.wrote = true
	}
	if t.rc != nil {
		t.rc.wrote()
	}
}

// cached returns k's record from the cache when this transaction may use it.
func (t *sqliteTx) cached(ctx context.Context, k Key) (*Record, bool) {
	if t.rc == nil || (t.batch != nil && t.batch.wrote) || t.rc.gen.Load() != t.start {
		return nil, false
	}
	if t.view && !t.pinned {
		// Pin the snapshot before the first hit, so that it is the state the cache
		// holds (no commit since t.start, checked by get after this).
		var one int
		if err := t.queryRow(ctx, `SELECT 1 FROM records LIMIT 1`).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, false
		}
		t.pinned = true
	}
	return t.rc.get(k, t.start)
}

// stmtCtx is the context a statement of this transaction runs on. Statements of a
// group-commit batch run without cancellation: for a cancellable context the SQLite
// driver starts a goroutine per statement to watch it, and commitBatch checks each
// caller's context before and after its function instead (a caller gone meanwhile
// gets its savepoint rolled back).
func (t *sqliteTx) stmtCtx(ctx context.Context) context.Context {
	if t.batch != nil {
		return context.Background()
	}
	return ctx
}

// stmt returns q as a statement of this transaction when it is prepared already.
func (t *sqliteTx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	if st := t.cache.lookup(q); st != nil {
		return t.tx.StmtContext(ctx, st)
	}
	return nil
}

func (t *sqliteTx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = t.stmtCtx(ctx)
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// nanos converts t to Unix nanoseconds; the zero Time is stored as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, returning UTC times.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// now returns the current time in UTC, truncated to what the store keeps.
func now() time.Time { return time.Now().UTC().Round(0) }

// keyString formats k for error messages.
func keyString(k Key) string {
	return fmt.Sprintf("%s %q/%q/%q", k.Kind, k.Account, k.Parent, k.Name)
}

const recordCols = `id, account, kind, parent, name, owner, created, modified, data`

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner) (*Record, error) {
	var r Record
	var created, modified int64
	err := sc.Scan(&r.ID, &r.Account, &r.Kind, &r.Parent, &r.Name, &r.Owner, &created, &modified, &r.Data)
	if err != nil {
		return nil, err
	}
	r.Created, r.Modified = fromNanos(created), fromNanos(modified)
	return &r, nil
}

func (t *sqliteTx) Get(ctx context.Context, k Key) (*Record, error) {
	if r, ok := t.cached(ctx, k); ok {
		return r, nil
	}
	row := t.queryRow(ctx, `SELECT `+recordCols+` FROM records
		WHERE account = ? AND kind = ? AND parent = ? AND name = ?`, k.Account, k.Kind, k.Parent, k.Name)
	r, err := scanRecord(row)
	t.pinned = true
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get %s: %w", keyString(k), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", keyString(k), err)
	}
	if t.view && t.rc != nil {
		t.rc.put(r, t.start)
	}
	return r, nil
}

func (t *sqliteTx) Insert(ctx context.Context, r *Record) error {
	t.wrote()
	n := now()
	created, modified := r.Created, r.Modified
	if created.IsZero() {
		created = n
	}
	if modified.IsZero() {
		modified = n
	}
	var id any // NULL lets SQLite assign the rowid
	if r.ID != 0 {
		id = r.ID
	}
	var newID int64
	err := t.queryRow(ctx, `INSERT INTO records (`+recordCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, r.Account, r.Kind, r.Parent, r.Name, r.Owner, nanos(created), nanos(modified), r.Data).Scan(&newID)
	if isConstraint(err) {
		return fmt.Errorf("insert %s: %w", keyString(r.Key), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: insert %s: %w", keyString(r.Key), err)
	}
	r.ID, r.Created, r.Modified = newID, fromNanos(nanos(created)), fromNanos(nanos(modified))
	return nil
}

// Put replaces the record with r's key. It sets r.Modified to the current time and
// fills r.ID and r.Created from the stored record.
func (t *sqliteTx) Put(ctx context.Context, r *Record) error {
	t.wrote()
	mod := now()
	var id, created int64
	err := t.queryRow(ctx, `UPDATE records SET owner = ?, modified = ?, data = ?
		WHERE account = ? AND kind = ? AND parent = ? AND name = ? RETURNING id, created`,
		r.Owner, nanos(mod), r.Data, r.Account, r.Kind, r.Parent, r.Name).Scan(&id, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("put %s: %w", keyString(r.Key), ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: put %s: %w", keyString(r.Key), err)
	}
	r.ID, r.Created, r.Modified = id, fromNanos(created), mod
	return nil
}

func (t *sqliteTx) Rename(ctx context.Context, from, to Key) error {
	if from.Account != to.Account || from.Kind != to.Kind {
		return fmt.Errorf("store: rename %s to %s: account and kind must not change", keyString(from), keyString(to))
	}
	t.wrote()
	res, err := t.exec(ctx, `UPDATE records SET parent = ?, name = ?, modified = ?
		WHERE account = ? AND kind = ? AND parent = ? AND name = ?`,
		to.Parent, to.Name, nanos(now()), from.Account, from.Kind, from.Parent, from.Name)
	if isConstraint(err) {
		return fmt.Errorf("rename %s to %s: %w", keyString(from), keyString(to), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: rename %s to %s: %w", keyString(from), keyString(to), err)
	}
	return mustAffect(res, fmt.Sprintf("rename %s", keyString(from)))
}

// mustAffect returns ErrNotFound if res changed no row.
func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

func (t *sqliteTx) Delete(ctx context.Context, k Key) error {
	t.wrote()
	res, err := t.exec(ctx, `DELETE FROM records
		WHERE account = ? AND kind = ? AND parent = ? AND name = ?`, k.Account, k.Kind, k.Parent, k.Name)
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", keyString(k), err)
	}
	return mustAffect(res, fmt.Sprintf("delete %s", keyString(k)))
}

// List returns the records ordered by name (byte order); with parent "*", records of
// equal name are ordered by parent.
func (t *sqliteTx) List(ctx context.Context, account, kind, parent string) ([]*Record, error) {
	var rows *sql.Rows
	var err error
	if parent == "*" {
		rows, err = t.query(ctx, `SELECT `+recordCols+` FROM records
			WHERE account = ? AND kind = ? ORDER BY name, parent`, account, kind)
	} else {
		rows, err = t.query(ctx, `SELECT `+recordCols+` FROM records
			WHERE account = ? AND kind = ? AND parent = ? ORDER BY name`, account, kind, parent)
	}
	if err != nil {
		return nil, fmt.Errorf("store: list %s in %q/%q: %w", kind, account, parent, err)
	}
	defer rows.Close()
	var out []*Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list %s in %q/%q: %w", kind, account, parent, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list %s in %q/%q: %w", kind, account, parent, err)
	}
	return out, nil
}

func (t *sqliteTx) DeleteUnder(ctx context.Context, account, parent string) (int, error) {
	// parent+"." <= p < parent+"/" selects exactly the strings starting with parent+"."
	// ('/' follows '.'), without LIKE's wildcards and with the index.
	t.wrote()
	res, err := t.exec(ctx, `DELETE FROM records WHERE account = ?
		AND (parent = ? OR (parent >= ? AND parent < ?))`,
		account, parent, parent+".", parent+"/")
	if err != nil {
		return 0, fmt.Errorf("store: delete under %q/%q: %w", account, parent, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete under %q/%q: %w", account, parent, err)
	}
	return int(n), nil
}

func (t *sqliteTx) DeleteAccount(ctx context.Context, account string) error {
	t.wrote()
	for _, table := range []string{"records", "sessions", "query_history", "login_history"} {
		if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE account = ?`, account); err != nil {
			return fmt.Errorf("store: delete account %q: %s: %w", account, table, err)
		}
	}
	return nil
}

const sessionCols = `id, account, token_hash, master_hash, token_expiry, master_expiry, last_used, created, idle_timeout, ends, data`

func scanSession(sc scanner) (*Session, error) {
	var s Session
	var tokExp, masExp, used, created, idle, ends int64
	err := sc.Scan(&s.ID, &s.Account, &s.TokenHash, &s.MasterHash, &tokExp, &masExp, &used, &created, &idle, &ends, &s.Data)
	if err != nil {
		return nil, err
	}
	s.IdleTimeout = time.Duration(idle)
	s.TokenExpiry, s.MasterExpiry = fromNanos(tokExp), fromNanos(masExp)
	s.LastUsed, s.Created = fromNanos(used), fromNanos(created)
	return &s, nil
}

// CreateSession inserts s, assigning s.ID when zero and s.Created when zero. A taken
// ID is ErrExists.
func (t *sqliteTx) CreateSession(ctx context.Context, s *Session) error {
	if s.Created.IsZero() {
		s.Created = now()
	}
	var id any
	if s.ID != 0 {
		id = s.ID
	}
	// Exec and LastInsertId, not RETURNING: a query costs database/sql a Rows.
	res, err := t.exec(ctx, `INSERT INTO sessions (`+sessionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, s.Account, s.TokenHash, s.MasterHash, nanos(s.TokenExpiry), nanos(s.MasterExpiry),
		nanos(s.LastUsed), nanos(s.Created), int64(s.IdleTimeout), nanos(s.Ends()), s.Data)
	if isConstraint(err) {
		return fmt.Errorf("create session in %q: %w", s.Account, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: create session in %q: %w", s.Account, err)
	}
	newID, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("store: create session in %q: %w", s.Account, err)
	}
	s.ID = newID
	return nil
}

func (t *sqliteTx) SessionByID(ctx context.Context, id int64) (*Session, error) {
	row := t.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id)
	s, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: session %d: %w", id, err)
	}
	return s, nil
}

func (t *sqliteTx) Sessions(ctx context.Context, account string) ([]*Session, error) {
	q := `SELECT ` + sessionCols + ` FROM sessions`
	var args []any
	if account != "" {
		q += ` WHERE account = ? COLLATE NOCASE`
		args = append(args, account)
	}
	rows, err := t.query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	defer rows.Close()
	var out []*Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	return out, nil
}

func (t *sqliteTx) UpdateSession(ctx context.Context, s *Session) error {
	res, err := t.exec(ctx, `UPDATE sessions SET account = ?, token_hash = ?, master_hash = ?,
		token_expiry = ?, master_expiry = ?, last_used = ?, created = ?, idle_timeout = ?, ends = ?, data = ?
		WHERE id = ?`,
		s.Account, s.TokenHash, s.MasterHash, nanos(s.TokenExpiry), nanos(s.MasterExpiry),
		nanos(s.LastUsed), nanos(s.Created), int64(s.IdleTimeout), nanos(s.Ends()), s.Data, s.ID)
	if isConstraint(err) {
		return fmt.Errorf("update session %d: %w", s.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: update session %d: %w", s.ID, err)
	}
	return mustAffect(res, fmt.Sprintf("update session %d", s.ID))
}

func (t *sqliteTx) DeleteSession(ctx context.Context, id int64) error {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete session %d: %w", id, err)
	}
	return mustAffect(res, fmt.Sprintf("delete session %d", id))
}

func (t *sqliteTx) DeleteExpiredSessions(ctx context.Context, at time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE ends < ?`, nanos(at))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return int(n), nil
}

const queryCols = `query_id, account, session_id, query_text, query_type, user_name, user_type,
	role_name, warehouse_name, database_name, schema_name, status, error_code, error_message,
	start_time, end_time, rows_produced`

func (t *sqliteTx) AppendQuery(ctx context.Context, q *QueryRecord) error {
	// ON CONFLICT DO UPDATE (not INSERT OR REPLACE) keeps the row's rowid, which
	// breaks ties between equal start times in insertion order.
	_, err := t.exec(ctx, `INSERT INTO query_history (`+queryCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (query_id) DO UPDATE SET account = excluded.account,
			session_id = excluded.session_id, query_text = excluded.query_text,
			query_type = excluded.query_type, user_name = excluded.user_name,
			user_type = excluded.user_type, role_name = excluded.role_name,
			warehouse_name = excluded.warehouse_name, database_name = excluded.database_name,
			schema_name = excluded.schema_name, status = excluded.status,
			error_code = excluded.error_code, error_message = excluded.error_message,
			start_time = excluded.start_time, end_time = excluded.end_time,
			rows_produced = excluded.rows_produced`,
		q.QueryID, q.Account, q.SessionID, q.QueryText, q.QueryType, q.UserName, q.UserType,
		q.RoleName, q.WarehouseName, q.DatabaseName, q.SchemaName, q.Status, q.ErrorCode,
		q.ErrorMessage, nanos(q.StartTime), nanos(q.EndTime), q.RowsProduced)
	if err != nil {
		return fmt.Errorf("store: append query %s: %w", q.QueryID, err)
	}
	return nil
}

// sqlLimit maps limit <= 0 ("no limit") to SQLite's -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// Queries returns the history newest first (by StartTime, then insertion order). A
// limit <= 0 means no limit.
func (t *sqliteTx) Queries(ctx context.Context, account string, limit int) ([]*QueryRecord, error) {
	rows, err := t.query(ctx, `SELECT `+queryCols+` FROM query_history
		WHERE account = ? ORDER BY start_time DESC, rowid DESC LIMIT ?`, account, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: queries of %q: %w", account, err)
	}
	defer rows.Close()
	var out []*QueryRecord
	for rows.Next() {
		var q QueryRecord
		var start, end int64
		err := rows.Scan(&q.QueryID, &q.Account, &q.SessionID, &q.QueryText, &q.QueryType, &q.UserName,
			&q.UserType, &q.RoleName, &q.WarehouseName, &q.DatabaseName, &q.SchemaName, &q.Status,
			&q.ErrorCode, &q.ErrorMessage, &start, &end, &q.RowsProduced)
		if err != nil {
			return nil, fmt.Errorf("store: queries of %q: %w", account, err)
		}
		q.StartTime, q.EndTime = fromNanos(start), fromNanos(end)
		out = append(out, &q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queries of %q: %w", account, err)
	}
	return out, nil
}

const loginCols = `event_id, account, event_timestamp, user_name, client_ip, reported_client,
	first_factor, is_success, error_code, error_message, connection_id`

func (t *sqliteTx) AppendLogin(ctx context.Context, l *LoginRecord) error {
	var id any
	if l.EventID != 0 {
		id = l.EventID
	}
	res, err := t.exec(ctx, `INSERT INTO login_history (`+loginCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, l.Account, nanos(l.EventTimestamp), l.UserName, l.ClientIP, l.ReportedClient,
		l.FirstFactor, l.IsSuccess, l.ErrorCode, l.ErrorMessage, l.ConnectionID)
	if isConstraint(err) {
		return fmt.Errorf("append login %d: %w", l.EventID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: append login: %w", err)
	}
	newID, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("store: append login: %w", err)
	}
	l.EventID = newID
	return nil
}

// Logins returns the history newest first (by EventTimestamp, then EventID). A
// limit <= 0 means no limit.
func (t *sqliteTx) Logins(ctx context.Context, account string, limit int) ([]*LoginRecord, error) {
	rows, err := t.query(ctx, `SELECT `+loginCols+` FROM login_history
		WHERE account = ? ORDER BY event_timestamp DESC, event_id DESC LIMIT ?`, account, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: logins of %q: %w", account, err)
	}
	defer rows.Close()
	var out []*LoginRecord
	for rows.Next() {
		var l LoginRecord
		var ts int64
		err := rows.Scan(&l.EventID, &l.Account, &ts, &l.UserName, &l.ClientIP, &l.ReportedClient,
			&l.FirstFactor, &l.IsSuccess, &l.ErrorCode, &l.ErrorMessage, &l.ConnectionID)
		if err != nil {
			return nil, fmt.Errorf("store: logins of %q: %w", account, err)
		}
		l.EventTimestamp = fromNanos(ts)
		out = append(out, &l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: logins of %q: %w", account, err)
	}
	return out, nil
}

func (t *sqliteTx) NextSequence(ctx context.Context, name string) (int64, error) {
	var v int64
	err := t.queryRow(ctx, `INSERT INTO sequences (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`, name).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: next %q: %w", name, err)
	}
	return v, nil
}
