package creds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/firn/firn/internal/store"
)

// auditWriter writes audit rows to the store in batches from one goroutine, so that a
// cached Resolve never waits for an fsync. Rows wait at most the flush interval (or
// not at all when it is not positive and the writer is idle). Identical events
// within one batch — same account, role, workload, secret, type, integration,
// outcome, source, reason and expiry — become one row with a count and the times of
// the first and the last: a hot cached secret costs a map update per call, not an
// insert.
type auditWriter struct {
	st       store.Store
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	pending []store.CredsAuditRecord
	index   map[auditKey]int         // pending row of each distinct event
	spare   []store.CredsAuditRecord // the last written batch's buffer, reused
	flushes []chan struct{}
	kick    chan struct{}
	urgent  chan struct{} // a flush is waiting: stop gathering
	done    chan struct{}
	stopped chan struct{}
	closed  bool
}

// auditBatch bounds one write transaction.
const auditBatch = 4096

func newAuditWriter(st store.Store, log *slog.Logger, interval time.Duration) *auditWriter {
	if log == nil {
		log = slog.Default()
	}
	w := &auditWriter{st: st, log: log, index: map[auditKey]int{}, interval: interval, kick: make(chan struct{}, 1), urgent: make(chan struct{}, 1),
		done: make(chan struct{}), stopped: make(chan struct{})}
	go w.loop()
	return w
}

// auditKey is what makes two events the same row.
type auditKey struct {
	account, role, workload, secret, typ, integration, outcome, source, reason string
	expires                                                                    int64
}

func (w *auditWriter) add(r *store.CredsAuditRecord) {
	k := auditKey{r.Account, r.Role, r.Workload, r.Secret, r.SecretType, r.Integration, r.Outcome, r.Source, r.Reason,
		r.ExpiresAt.UnixNano()}
	w.mu.Lock()
	if i, ok := w.index[k]; ok {
		p := &w.pending[i]
		p.Count++
		if r.EventTime.After(p.LastTime) {
			p.LastTime = r.EventTime
		}
		w.mu.Unlock()
		return // the writer was kicked when the row was queued
	}
	w.index[k] = len(w.pending)
	w.pending = append(w.pending, *r) // by value: the caller's record may live on its stack
	p := &w.pending[len(w.pending)-1]
	p.Count, p.LastTime = 1, r.EventTime
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// flush waits until every row added before the call is written.
func (w *auditWriter) flush(ctx context.Context) error {
	ch := make(chan struct{})
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.flushes = append(w.flushes, ch)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	select {
	case w.urgent <- struct{}{}:
	default:
	}
	select {
	case <-ch:
		return nil
	case <-w.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *auditWriter) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.stopped
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	<-w.stopped
}

func (w *auditWriter) loop() {
	defer close(w.stopped)
	for {
		select {
		case <-w.kick:
			if w.interval > 0 {
				t := time.NewTimer(w.interval)
				select {
				case <-t.C:
				case <-w.urgent:
				case <-w.done:
				}
				t.Stop()
			}
			w.drain()
		case <-w.done:
			w.drain()
			return
		}
	}
}

func (w *auditWriter) drain() {
	for {
		w.mu.Lock()
		batch := w.pending
		w.pending = w.spare[:0]
		w.spare = nil
		clear(w.index)
		var waiters []chan struct{}
		waiters, w.flushes = w.flushes, nil
		w.mu.Unlock()
		for i := 0; i < len(batch); i += auditBatch {
			part := batch[i:min(i+auditBatch, len(batch))]
			ptrs := make([]*store.CredsAuditRecord, len(part))
			for j := range part {
				ptrs[j] = &part[j]
			}
			if err := writeAudit(context.Background(), w.st, ptrs); err != nil {
				w.log.Error("credential audit write failed", slog.Int("rows", len(part)), slog.Any("err", err))
			}
		}
		for _, c := range waiters {
			close(c)
		}
		clear(batch) // drop the rows' strings
		w.mu.Lock()
		if cap(batch) <= 4*auditBatch {
			w.spare = batch[:0]
		}
		more := len(w.pending) > 0
		w.mu.Unlock()
		if !more {
			return
		}
	}
}

var errNoAuditTable = errors.New("creds: the store does not keep a credential audit trail")

func writeAudit(ctx context.Context, st store.Store, recs []*store.CredsAuditRecord) error {
	return st.Update(ctx, func(tx store.Tx) error {
		at, ok := tx.(store.CredsAuditTx)
		if !ok {
			return errNoAuditTable
		}
		return at.AppendCredsAudit(ctx, recs...)
	})
}

// Flush waits until every audit row of the calls made before it is in the store.
func (b *Broker) Flush(ctx context.Context) error { return b.audit.flush(ctx) }

// Audit returns the credential audit trail of an account (every account's when
// account is ""), newest first, at most limit rows (limit <= 0: all). It flushes
// pending rows first.
func (b *Broker) Audit(ctx context.Context, account string, limit int) ([]*store.CredsAuditRecord, error) {
	if err := b.Flush(ctx); err != nil {
		return nil, err
	}
	return ReadAudit(ctx, b.cfg.Store, account, limit)
}

// ReadAudit reads the credential audit trail from a store (see Broker.Audit).
func ReadAudit(ctx context.Context, st store.Store, account string, limit int) ([]*store.CredsAuditRecord, error) {
	var out []*store.CredsAuditRecord
	err := st.View(ctx, func(tx store.Tx) error {
		at, ok := tx.(store.CredsAuditTx)
		if !ok {
			return errNoAuditTable
		}
		var err error
		out, err = at.CredsAudit(ctx, account, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creds: read audit: %w", err)
	}
	return out, nil
}
