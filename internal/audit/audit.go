// Package audit records query history off the statement path. Statements hand their
// history rows to a Recorder, which writes them to the store in batches from one
// goroutine, so that a SELECT does not wait for an fsync. Flush makes everything
// recorded so far durable and visible (ACCOUNT_USAGE readers call it first).
package audit

import (
	"context"
	"log/slog"
	"sync"

	"github.com/firn/firn/internal/store"
)

// Recorder batches query-history rows into the store.
type Recorder struct {
	st  store.Store
	log *slog.Logger

	mu      sync.Mutex
	pending []*store.QueryRecord
	kick    chan struct{}
	flushes []chan struct{} // waiters released after the next write
	done    chan struct{}
	stopped chan struct{}
}

// maxBatch bounds one write transaction.
const maxBatch = 512

// NewRecorder starts a recorder writing to st. Call Close to stop it.
func NewRecorder(st store.Store, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{st: st, log: log, kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go r.loop()
	return r
}

// Query records (or replaces, by query id) a query-history row. It never blocks on I/O.
func (r *Recorder) Query(q *store.QueryRecord) {
	r.mu.Lock()
	r.pending = append(r.pending, q)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Flush waits until every row recorded before the call is written.
func (r *Recorder) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	r.mu.Lock()
	r.flushes = append(r.flushes, ch)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
	select {
	case <-ch:
		return nil
	case <-r.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is pending and stops the recorder.
func (r *Recorder) Close() {
	select {
	case <-r.done:
	default:
		close(r.done)
	}
	<-r.stopped
}

func (r *Recorder) loop() {
	defer close(r.stopped)
	for {
		select {
		case <-r.kick:
			r.drain()
		case <-r.done:
			r.drain()
			return
		}
	}
}

// drain writes every pending row and releases the flush waiters registered before.
func (r *Recorder) drain() {
	for {
		r.mu.Lock()
		batch := r.pending
		if len(batch) > maxBatch {
			batch = batch[:maxBatch]
		}
		r.pending = r.pending[len(batch):]
		var waiters []chan struct{}
		if len(r.pending) == 0 {
			waiters, r.flushes = r.flushes, nil
		}
		r.mu.Unlock()
		if len(batch) > 0 {
			err := r.st.Update(context.Background(), func(tx store.Tx) error {
				for _, q := range batch {
					if err := tx.AppendQuery(context.Background(), q); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				r.log.Error("query history write failed", slog.Int("rows", len(batch)), slog.Any("err", err))
			}
		}
		for _, w := range waiters {
			close(w)
		}
		if waiters != nil || len(batch) == 0 {
			return
		}
	}
}
