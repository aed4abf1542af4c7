package wire

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Monitoring statuses (reference §4).
const (
	statusRunning = "RUNNING"
	statusSuccess = "SUCCESS"
	statusFailed  = "FAILED_WITH_ERROR"
	statusAborted = "ABORTED"
)

// query is one statement request (or one child of a multi-statement request) and,
// once done is closed, its outcome. Fields below done are written only before done is
// closed and read only after.
type query struct {
	id        string
	requestID string
	sessionID int64
	account   string
	user      string
	sqlText   string
	start     time.Time
	cancel    context.CancelFunc // nil for children
	aborted   atomic.Bool
	done      chan struct{}

	end      time.Time
	status   string
	errCode  string
	errMsg   string
	rows     int64
	body     []byte    // the complete reply
	chunks   *chunkSet // rows beyond body's inline rowset (chunks.go), or nil
	children []*query
}

// finished reports whether q has its outcome.
func (q *query) finished() bool {
	select {
	case <-q.done:
		return true
	default:
		return false
	}
}

// sessionQueries are one session's queries.
type sessionQueries struct {
	byRequest map[string]*query // requestId → query, running and kept
	running   map[*query]struct{}
	finished  []*query // kept outcomes, oldest first
}

// registry holds running queries and recently finished ones, by query id and by
// session and request id. It is safe for concurrent use.
type registry struct {
	now        func() time.Time
	retention  time.Duration
	maxResults int

	mu        sync.Mutex
	byID      map[string]*query
	sessions  map[int64]*sessionQueries
	lastSweep time.Time
}

func newRegistry(now func() time.Time, retention time.Duration, maxResults int) *registry {
	return &registry{
		now:        now,
		retention:  retention,
		maxResults: maxResults,
		byID:       map[string]*query{},
		sessions:   map[int64]*sessionQueries{},
	}
}

// start returns the query already registered for requestID in session sid, or
// registers q (running) and returns it. The boolean reports whether q was registered.
func (g *registry) start(q *query) (*query, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweepLocked()
	sq := g.sessions[q.sessionID]
	if sq == nil {
		sq = &sessionQueries{byRequest: map[string]*query{}, running: map[*query]struct{}{}}
		g.sessions[q.sessionID] = sq
	}
	if q.requestID != "" {
		if prev, ok := sq.byRequest[q.requestID]; ok {
			return prev, false
		}
		sq.byRequest[q.requestID] = q
	}
	sq.running[q] = struct{}{}
	g.byID[q.id] = q
	return q, true
}

// finish records that q has its outcome; it keeps q (and its children) for later
// fetches unless its session has been closed meanwhile. Call it before closing q.done.
func (g *registry) finish(q *query) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sq := g.sessions[q.sessionID]
	if sq == nil {
		g.forgetLocked(nil, q)
		return
	}
	delete(sq.running, q)
	for _, c := range q.children {
		g.byID[c.id] = c
	}
	sq.finished = append(sq.finished, q)
	for len(sq.finished) > g.maxResults {
		g.forgetLocked(sq, sq.finished[0])
		sq.finished = sq.finished[1:]
	}
}

// forgetLocked removes q and its children from the indexes.
func (g *registry) forgetLocked(sq *sessionQueries, q *query) {
	if g.byID[q.id] == q {
		delete(g.byID, q.id)
	}
	for _, c := range q.children {
		if g.byID[c.id] == c {
			delete(g.byID, c.id)
		}
	}
	if sq != nil && q.requestID != "" && sq.byRequest[q.requestID] == q {
		delete(sq.byRequest, q.requestID)
	}
}

// sweepLocked drops outcomes older than the retention period, at most once a minute.
func (g *registry) sweepLocked() {
	now := g.now()
	if now.Sub(g.lastSweep) < time.Minute {
		return
	}
	g.lastSweep = now
	cutoff := now.Add(-g.retention)
	for sid, sq := range g.sessions {
		i := 0
		for i < len(sq.finished) && sq.finished[i].end.Before(cutoff) {
			g.forgetLocked(sq, sq.finished[i])
			i++
		}
		sq.finished = sq.finished[i:]
		if len(sq.finished) == 0 && len(sq.running) == 0 {
			delete(g.sessions, sid)
		}
	}
}

// lookup returns the query with id if the caller (account and user) may see it.
func (g *registry) lookup(id, account, user string) *query {
	g.mu.Lock()
	defer g.mu.Unlock()
	q := g.byID[id]
	if q == nil || !strings.EqualFold(q.account, account) || !strings.EqualFold(q.user, user) {
		return nil
	}
	return q
}

// lookupAny returns the kept query with id, whoever owns it (chunk requests carry
// the result's chunk key instead of a session token).
func (g *registry) lookupAny(id string) *query {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byID[id]
}

// byRequest returns session sid's query for requestID.
func (g *registry) byRequest(sid int64, requestID string) *query {
	g.mu.Lock()
	defer g.mu.Unlock()
	if sq := g.sessions[sid]; sq != nil {
		return sq.byRequest[requestID]
	}
	return nil
}

// closeSession cancels a session's running queries and forgets all of them.
func (g *registry) closeSession(sid int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sq := g.sessions[sid]
	if sq == nil {
		return
	}
	delete(g.sessions, sid)
	for q := range sq.running {
		q.aborted.Store(true)
		q.cancel()
		// Its children are not indexed yet (finish does that), and its goroutine may
		// still be writing them, so only the query itself is dropped.
		if g.byID[q.id] == q {
			delete(g.byID, q.id)
		}
	}
	for _, q := range sq.finished {
		g.forgetLocked(sq, q)
	}
}

// cancelAll cancels every running query.
func (g *registry) cancelAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, sq := range g.sessions {
		for q := range sq.running {
			q.aborted.Store(true)
			q.cancel()
		}
	}
}
