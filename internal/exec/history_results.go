package exec

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
)

// Limits of the in-memory result cache behind RESULT_SCAN and LAST_QUERY_ID. Results
// live in the process that ran the statement: a session served by several replicas
// sees only the results of its own replica.
const (
	maxSessionIDs    = 10000   // query ids remembered per session for LAST_QUERY_ID
	maxSessionSets   = 32      // results kept per session
	maxCachedCells   = 1 << 20 // cells kept over all sessions (a result over a quarter of it is not kept)
	maxCachedSession = 20000   // sessions with a cache entry
)

// resultCache keeps each session's query ids, in order, and its most recent results.
type resultCache struct {
	mu       sync.Mutex
	sessions map[int64]*sessionResults
	// fifo lists kept results oldest first, for eviction over all sessions.
	fifo  []cachedRef
	cells int
	tick  uint64
}

type cachedRef struct {
	session int64
	id      string
	cells   int
}

// sessionResults is one session's part of the cache.
type sessionResults struct {
	account, user string
	count         int      // statements recorded so far
	ids           []string // the last len(ids) query ids; ids[k] is statement count-len(ids)+k+1
	sets          map[string]*result.Set
	order         []string // kept result ids, oldest first
	tooLarge      map[string]bool
	used          uint64
}

func newResultCache() *resultCache {
	return &resultCache{sessions: map[int64]*sessionResults{}}
}

// note records that session s ran query id with outcome set (nil when it failed).
func (c *resultCache) note(s *session.Session, id string, set *result.Set) {
	if s == nil || s.ID == 0 || id == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	sr := c.sessions[s.ID]
	if sr == nil {
		if len(c.sessions) >= maxCachedSession {
			c.evictSession()
		}
		sr = &sessionResults{account: s.Account, user: s.User, sets: map[string]*result.Set{}}
		c.sessions[s.ID] = sr
	}
	sr.used = c.tick
	sr.count++
	sr.ids = append(sr.ids, id)
	if len(sr.ids) > maxSessionIDs {
		sr.ids = append([]string(nil), sr.ids[len(sr.ids)-maxSessionIDs:]...)
	}
	if set == nil {
		return
	}
	cells := len(set.Rows) * max(len(set.Columns), 1)
	if cells > maxCachedCells/4 {
		if sr.tooLarge == nil {
			sr.tooLarge = map[string]bool{}
		}
		if len(sr.tooLarge) >= maxSessionSets {
			clear(sr.tooLarge)
		}
		sr.tooLarge[id] = true
		return
	}
	if len(sr.order) >= maxSessionSets {
		old := sr.order[0]
		sr.order = sr.order[1:]
		delete(sr.sets, old)
	}
	sr.sets[id] = set
	sr.order = append(sr.order, id)
	c.fifo = append(c.fifo, cachedRef{session: s.ID, id: id, cells: cells})
	c.cells += cells
	for c.cells > maxCachedCells && len(c.fifo) > 0 {
		r := c.fifo[0]
		c.fifo = c.fifo[1:]
		c.cells -= r.cells
		if o := c.sessions[r.session]; o != nil {
			delete(o.sets, r.id)
		}
	}
}

// evictSession drops the least recently used session's entry. Called with mu held.
func (c *resultCache) evictSession() {
	var (
		victim int64
		oldest uint64 = ^uint64(0)
	)
	for id, sr := range c.sessions {
		if sr.used < oldest {
			victim, oldest = id, sr.used
		}
	}
	delete(c.sessions, victim)
}

// lastQueryID implements LAST_QUERY_ID(n) for session s.
func (c *resultCache) lastQueryID(s *session.Session, n int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sr := c.sessions[s.ID]
	if sr == nil || n == 0 {
		return "", false
	}
	first := sr.count - len(sr.ids) + 1 // statement number of ids[0]
	var num int
	if n > 0 {
		num = n
	} else {
		num = sr.count + 1 + n
	}
	k := num - first
	if k < 0 || k >= len(sr.ids) {
		return "", false
	}
	return sr.ids[k], true
}

// scan returns the kept result of query id for session s.
func (c *resultCache) scan(s *session.Session, id string) (*result.Set, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sr := c.sessions[s.ID]; sr != nil && sr.account == s.Account && sr.user == s.User {
		if set, ok := sr.sets[id]; ok {
			return set, nil
		}
		if sr.tooLarge[id] {
			return nil, sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature 'RESULT_SCAN of a result of more than %d values'.", maxCachedCells/4))
		}
	}
	return nil, sferr.DoesNotExist("Statement", id)
}

// sources is the data.Sources of one statement.
type sources struct {
	e    *Engine
	s    *session.Session
	pipe []*result.Set // results of the earlier statements of a ->> chain, in order
}

// pipeKey carries the results of the earlier statements of a ->> chain.
type pipeKey struct{}

// sources returns the data sources for a statement of session s.
func (e *Engine) sources(ctx context.Context, s *session.Session) data.Sources {
	src := &sources{e: e, s: s}
	if p, ok := ctx.Value(pipeKey{}).([]*result.Set); ok {
		src.pipe = p
	}
	return src
}

func (src *sources) LastQueryID(n int) (string, bool) {
	return src.e.results.lastQueryID(src.s, n)
}

func (src *sources) ResultScan(id string) (*result.Set, error) {
	return src.e.results.scan(src.s, id)
}

func (src *sources) PipeResult(n int) (*result.Set, error) {
	if n < 1 || n > len(src.pipe) {
		return nil, sferr.Compilation("002003", "02000", fmt.Sprintf("Pipe reference '$%d' does not refer to an earlier statement of the chain.", n))
	}
	return src.pipe[len(src.pipe)-n], nil
}

func (src *sources) SystemView(ctx context.Context, db, name string) (*result.Set, error) {
	return src.e.systemView(ctx, src.s, db, name)
}

// splitPipe cuts text at the top-level ->> operators; ok is false when there is none.
func splitPipe(text string) ([]string, bool) {
	if !strings.Contains(text, "->>") {
		return nil, false
	}
	toks, err := sql.Tokenize(text)
	if err != nil {
		return nil, false
	}
	var parts []string
	depth, from := 0, 0
	for _, t := range toks {
		switch {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case depth == 0 && t.IsOp("->>"):
			parts = append(parts, text[from:t.Offset])
			from = t.End()
		}
	}
	if parts == nil {
		return nil, false
	}
	return append(parts, text[from:]), true
}

// runPipe runs the statements of a ->> chain in order, each with its own query id
// and history row; $n in a statement reads the result of the statement n places
// before it. The chain's result is the last statement's.
func (e *Engine) runPipe(ctx context.Context, s *session.Session, req *Request, queryID string, parts []string) (*result.Set, string, error) {
	var sets []*result.Set
	var set *result.Set
	kind := "UNKNOWN"
	for i, p := range parts {
		if len(p) == 0 || isBlank(p) {
			return nil, kind, sferr.Syntax(1, 0, "->>")
		}
		id := queryID + "-p" + strconv.Itoa(i+1)
		if e.cfg.NewQueryID != nil {
			id = e.cfg.NewQueryID()
		}
		if st, err := sql.Parse(p); err == nil {
			kind = queryType(st)
		}
		var err error
		set, err = e.runOne(context.WithValue(ctx, pipeKey{}, sets), s, req, id, p)
		if err != nil {
			return nil, kind, err
		}
		sets = append(sets, set)
	}
	return set, kind, nil
}

func isBlank(s string) bool {
	toks, err := sql.Tokenize(s)
	return err == nil && len(toks) == 1
}
