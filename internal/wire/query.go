package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/firn/firn/internal/exec"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
)

// Codes of in-progress and abort replies (reference §4).
const (
	codeInProgress  = "333334"
	codeNotExecuted = "000605"
)

// newQueryID returns a UUID-shaped lowercase hex query id.
func newQueryID() string { return uuid.NewString() }

// errCanceled is the outcome of an aborted statement.
func errCanceled() *sferr.Error {
	e := sferr.New("000604", "57014", "SQL execution canceled")
	e.Type = "EXECUTION"
	return e
}

// errNotExecuting answers an abort for a statement that is not running.
func errNotExecuting() *sferr.Error {
	return sferr.New(codeNotExecuted, "01000", "Identified SQL statement is not currently executing.")
}

// errNoSuchQuery answers a fetch for an unknown (or no longer kept) query id.
func errNoSuchQuery(id string) *sferr.Error {
	return sferr.Newf("000709", "02000", "Statement %s not found", id)
}

// queryBody is a query-request body (reference §3.1).
type queryBody struct {
	SQLText      string                     `json:"sqlText"`
	AsyncExec    bool                       `json:"asyncExec"`
	DescribeOnly bool                       `json:"describeOnly"`
	Parameters   map[string]json.RawMessage `json:"parameters"`
	Bindings     map[string]bindingBody     `json:"bindings"`
}

type bindingBody struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
	Fmt   string          `json:"fmt"`
}

// bindValue converts one JSON bind value (string, null, number, bool) to text.
func bindValue(raw json.RawMessage) (*string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return &s, true
	}
	switch v := jsonValue(raw).(type) {
	case int64:
		t := strconv.FormatInt(v, 10)
		return &t, true
	case float64:
		t := strconv.FormatFloat(v, 'g', -1, 64)
		return &t, true
	case bool:
		t := strconv.FormatBool(v)
		return &t, true
	}
	return nil, false
}

// toRequest converts a query body to an exec.Request.
func toRequest(qb *queryBody, sess *session.Session) (*exec.Request, *sferr.Error) {
	req := &exec.Request{SQL: qb.SQLText, DescribeOnly: qb.DescribeOnly, MultiStatementCount: 1}
	if v, ok := sess.Params["MULTI_STATEMENT_COUNT"]; ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			req.MultiStatementCount = n
		}
	}
	if len(qb.Parameters) > 0 {
		req.Params = make(map[string]any, len(qb.Parameters))
		for k, raw := range qb.Parameters {
			k = strings.ToUpper(k)
			v := jsonValue(raw)
			if k == "MULTI_STATEMENT_COUNT" {
				n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(v)))
				if err != nil || n < 0 {
					return nil, sferr.Newf("001008", "22023", "Invalid value [%s] for parameter 'MULTI_STATEMENT_COUNT'", strings.TrimSpace(jsonString(raw)))
				}
				req.MultiStatementCount = n
			}
			req.Params[k] = v
		}
	}
	if len(qb.Bindings) > 0 {
		req.Bindings = make(map[string]exec.Binding, len(qb.Bindings))
		for k, b := range qb.Bindings {
			eb := exec.Binding{Type: strings.ToUpper(b.Type), Fmt: b.Fmt}
			raw := bytes.TrimSpace(b.Value)
			if len(raw) > 0 && raw[0] == '[' {
				var elems []json.RawMessage
				if err := json.Unmarshal(raw, &elems); err != nil {
					return nil, errBadBody()
				}
				eb.Values = make([]*string, len(elems))
				for i, el := range elems {
					v, ok := bindValue(el)
					if !ok {
						return nil, errBadBody()
					}
					eb.Values[i] = v
				}
			} else {
				v, ok := bindValue(raw)
				if !ok {
					return nil, errBadBody()
				}
				eb.Value = v
			}
			req.Bindings[k] = eb
		}
	}
	return req, nil
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	body, e := s.readBody(w, r)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	var qb queryBody
	if err := json.Unmarshal(body, &qb); err != nil {
		s.writeError(w, r, errBadBody(), nil)
		return
	}
	req, e := toRequest(&qb, sess)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}

	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	q := &query{
		id:        newQueryID(),
		requestID: r.URL.Query().Get("requestId"),
		sessionID: sess.ID,
		account:   sess.Account,
		user:      sess.User,
		sqlText:   qb.SQLText,
		start:     s.now(),
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	req.QueryID = q.id
	var (
		childMu  sync.Mutex
		childIDs = map[int]string{}
	)
	req.ChildQueryID = func(i int) string {
		childMu.Lock()
		defer childMu.Unlock()
		id, ok := childIDs[i]
		if !ok {
			id = newQueryID()
			childIDs[i] = id
		}
		return id
	}
	got, started := s.queries.start(q)
	if started {
		go s.run(ctx, q, sess, req, baseURL(r))
	} else {
		cancel()
	}
	s.respond(w, r, got, !qb.AsyncExec)
}

// respond writes q's outcome, waiting up to the long-poll time when wait is set, or
// the in-progress reply.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, q *query, wait bool) {
	done := q.finished()
	if !done && wait {
		t := time.NewTimer(s.longPoll)
		defer t.Stop()
		select {
		case <-q.done:
			done = true
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	if !done {
		s.writeOK(w, r, codeInProgress, "Asynchronous execution in progress.", map[string]any{
			"queryId":              q.id,
			"getResultUrl":         "/queries/" + q.id + "/result",
			"queryAbortsAfterSecs": 300,
			"progressDesc":         nil,
		})
		return
	}
	writeBody(w, http.StatusOK, q.body)
}

// execute calls the executor, turning a panic into an internal error.
func (s *Server) execute(ctx context.Context, sess *session.Session, req *exec.Request) (set *result.Set, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(ctx, "wire: panic in executor", "query_id", req.QueryID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			set, err = nil, sferr.Internal()
		}
	}()
	set, err = s.exec.Execute(ctx, sess, req)
	if err == nil && set == nil {
		err = fmt.Errorf("executor returned no result for query %s", req.QueryID)
	}
	return set, err
}

// run executes q and records its outcome; base is the scheme and host for chunk URLs.
func (s *Server) run(ctx context.Context, q *query, sess *session.Session, req *exec.Request, base string) {
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(ctx, "wire: panic building reply", "query_id", q.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.fail(q, sferr.Internal())
		}
		s.queries.finish(q)
		close(q.done)
	}()
	defer q.cancel()

	before, _ := json.Marshal(sess)
	set, err := s.execute(exec.WithBaseURL(ctx, base), sess, req) // base: RESET PASSWORD links
	if err != nil && q.aborted.Load() {
		err = errCanceled()
	}
	bg := context.WithoutCancel(ctx)
	if after, _ := json.Marshal(sess); !bytes.Equal(before, after) {
		if serr := s.sessions.Save(bg, sess); serr != nil {
			s.log.ErrorContext(ctx, "wire: save session", "session", sess.ID, "query_id", q.id, "err", serr)
			if err == nil {
				err = serr
			}
		}
	}
	if err != nil {
		s.fail(q, sferr.As(err))
		return
	}
	ps, err := s.exec.Parameters(bg, sess)
	if err != nil {
		s.fail(q, sferr.As(err))
		return
	}
	rp := responseParameters(ps)
	loc := location(ps)

	if set.Type == result.MultiStmt && len(set.Children) > 0 {
		s.runMulti(q, sess, set, rp, loc, base)
		return
	}
	body, rows, chunks, err := s.successBody(q.id, sess, set, rp, loc, nil, base)
	if err != nil {
		s.fail(q, sferr.As(err))
		return
	}
	q.end, q.status, q.rows, q.body, q.chunks = s.now(), statusSuccess, rows, body, chunks
}

// runMulti records a multi-statement parent and its children.
func (s *Server) runMulti(q *query, sess *session.Session, set *result.Set, rp []param, loc *time.Location, base string) {
	end := s.now()
	ids := make([]string, 0, len(set.Children))
	types := make([]string, 0, len(set.Children))
	var firstErr *sferr.Error
	for i, ch := range set.Children {
		c := &query{
			id:        ch.QueryID,
			sessionID: q.sessionID,
			account:   q.account,
			user:      q.user,
			sqlText:   ch.SQL,
			start:     q.start,
			end:       end,
			done:      make(chan struct{}),
		}
		if c.id == "" {
			c.id = newQueryID()
		}
		close(c.done)
		var cerr error = ch.Err
		if cerr == nil && ch.Set == nil {
			cerr = fmt.Errorf("statement %d of query %s has no result", i+1, q.id)
		}
		if cerr == nil {
			body, rows, chunks, err := s.successBody(c.id, sess, ch.Set, rp, loc, nil, base)
			if err == nil {
				c.status, c.rows, c.body, c.chunks = statusSuccess, rows, body, chunks
				ids = append(ids, c.id)
				types = append(types, strconv.FormatInt(int64(ch.Set.Type), 10))
			}
			cerr = err
		}
		if cerr != nil {
			e := sferr.As(cerr)
			s.failInto(c, e)
			if firstErr == nil {
				firstErr = e
			}
		}
		q.children = append(q.children, c)
	}
	if firstErr != nil {
		s.fail(q, firstErr)
		return
	}
	parent := set
	if len(set.Columns) == 0 {
		parent = &result.Set{
			Columns: []result.Column{result.Text("multiple statement execution")},
			Rows:    [][]any{{"Multiple statements executed successfully."}},
		}
	}
	parent = &result.Set{Type: result.MultiStmt, Columns: parent.Columns, Rows: parent.Rows}
	extra := map[string]any{"resultIds": strings.Join(ids, ","), "resultTypes": strings.Join(types, ",")}
	body, rows, chunks, err := s.successBody(q.id, sess, parent, rp, loc, extra, base)
	if err != nil {
		s.fail(q, sferr.As(err))
		return
	}
	q.end, q.status, q.rows, q.body, q.chunks = end, statusSuccess, rows, body, chunks
}

// fail records an error outcome for q.
func (s *Server) fail(q *query, e *sferr.Error) {
	q.end = s.now()
	s.failInto(q, e)
}

func (s *Server) failInto(q *query, e *sferr.Error) {
	s.logError(context.Background(), nil, e)
	q.status = statusFailed
	if q.aborted.Load() || e.Code == "000604" {
		q.status = statusAborted
	}
	q.errCode, q.errMsg = e.Code, e.Message
	q.body = errorBody(q.id, e)
}

// errorBody encodes a statement's error reply (reference §3.6).
func errorBody(queryID string, e *sferr.Error) []byte {
	typ := e.Type
	if typ == "" {
		typ = "EXECUTION"
	}
	data := map[string]any{
		"queryId":       queryID,
		"sqlState":      e.SQLState,
		"errorCode":     e.Code,
		"type":          typ,
		"line":          e.Line,
		"pos":           e.Pos,
		"internalError": e.Code == sferr.Internal().Code,
	}
	for k, v := range e.Data {
		if _, ok := data[k]; !ok {
			data[k] = v
		}
	}
	b, err := marshalEnvelope(false, e.Code, e.Message, data)
	if err != nil {
		ie := sferr.Internal()
		b, _ = marshalEnvelope(false, ie.Code, ie.Message, map[string]any{"queryId": queryID, "errorCode": ie.Code, "sqlState": ie.SQLState})
	}
	return b
}

// rowType is one rowtype entry.
type rowType struct {
	Name       string  `json:"name"`
	Database   string  `json:"database"`
	Schema     string  `json:"schema"`
	Table      string  `json:"table"`
	Type       string  `json:"type"`
	Precision  *int64  `json:"precision"`
	Scale      *int64  `json:"scale"`
	Length     *int64  `json:"length"`
	ByteLength *int64  `json:"byteLength"`
	Nullable   bool    `json:"nullable"`
	Collation  *string `json:"collation"`
}

const maxTextBytes = 16 << 20

func i64(v int64) *int64 { return &v }

func toRowType(c result.Column) rowType {
	rt := rowType{
		Name:     c.Name,
		Database: c.Database,
		Schema:   c.Schema,
		Table:    c.Table,
		Type:     strings.ToLower(c.Type),
		Nullable: c.Nullable,
	}
	switch rt.Type {
	case "fixed":
		p := c.Precision
		if p == 0 {
			p = 38
		}
		rt.Precision, rt.Scale = i64(p), i64(c.Scale)
	case "time", "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
		// result.Encode writes 9 fraction digits for a scale outside 1..9.
		sc := c.Scale
		if sc <= 0 || sc > 9 {
			sc = 9
		}
		rt.Precision, rt.Scale = i64(0), i64(sc)
	case "text":
		if c.Length > 0 {
			rt.Length, rt.ByteLength = i64(c.Length), i64(min(c.Length*4, maxTextBytes))
		}
	case "binary":
		if c.Length > 0 {
			rt.Length, rt.ByteLength = i64(c.Length), i64(c.Length)
		}
	}
	return rt
}

// queryData is a successful query reply's data (reference §3.2).
type queryData struct {
	QueryID            string            `json:"queryId"`
	StatementTypeID    int64             `json:"statementTypeId"`
	Version            int               `json:"version"`
	QueryResultFormat  string            `json:"queryResultFormat"`
	RowType            []rowType         `json:"rowtype"`
	RowSet             json.RawMessage   `json:"rowset"` // the inline rows, a JSON array
	Chunks             []chunkMeta       `json:"chunks,omitempty"`
	ChunkHeaders       map[string]string `json:"chunkHeaders,omitempty"`
	Total              int64             `json:"total"`
	Returned           int64             `json:"returned"`
	Parameters         []param           `json:"parameters"`
	FinalDatabaseName  *string           `json:"finalDatabaseName"`
	FinalSchemaName    *string           `json:"finalSchemaName"`
	FinalWarehouseName *string           `json:"finalWarehouseName"`
	FinalRoleName      *string           `json:"finalRoleName"`
	ResultIDs          string            `json:"resultIds,omitempty"`
	ResultTypes        string            `json:"resultTypes,omitempty"`
}

func isDML(t result.StatementType) bool { return t >= 0x3000 && t <= result.MultiInsert }

// normalize makes a result safe for both drivers: a SELECT has at least one column
// (Go panics on an empty rowtype) and a DML result exactly one row of non-null counts.
func normalize(set *result.Set) *result.Set {
	out := *set
	out.Columns = make([]result.Column, len(set.Columns))
	for i, c := range set.Columns {
		c.Type = strings.ToLower(c.Type)
		out.Columns[i] = c
	}
	switch {
	case isDML(set.Type):
		if len(out.Columns) == 0 {
			out.Columns = []result.Column{result.Fixed("number of rows affected")}
		}
		row := make([]any, len(out.Columns))
		if len(set.Rows) > 0 {
			copy(row, set.Rows[0])
		}
		for i, v := range row {
			if v == nil {
				row[i] = int64(0)
			}
		}
		out.Rows = [][]any{row}
	case len(out.Columns) == 0 && set.Type == result.Select:
		out.Columns = []result.Column{result.Text("status")}
		out.Rows = [][]any{{"Statement executed successfully."}}
	}
	return &out
}

// epochStyle picks how negative fractional epochs are written: the Go driver splits
// on the dot and adds a non-negative fraction, every other driver reads one signed
// decimal (see result.EpochStyle).
func epochStyle(sess *session.Session) result.EpochStyle {
	if sess == nil || sess.ClientApp == "Go" {
		return result.EpochGo
	}
	return result.EpochDecimal
}

// successBody encodes a successful reply for set; extra fields are merged into data.
// A large result's reply carries its first rows inline and chunk URLs under base for
// the rest, which the returned chunkSet serves (chunks.go); otherwise it is nil.
func (s *Server) successBody(queryID string, sess *session.Session, set *result.Set, rp []param, loc *time.Location, extra map[string]any, base string) ([]byte, int64, *chunkSet, error) {
	set = normalize(set)
	rowset, _, chunks, err := encodeResultRows(set, loc, epochStyle(sess))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("encode rows of query %s: %w", queryID, err)
	}
	total := int64(len(set.Rows))
	rts := make([]rowType, len(set.Columns))
	for i, c := range set.Columns {
		rts[i] = toRowType(c)
	}
	d := queryData{
		QueryID:            queryID,
		StatementTypeID:    int64(set.Type),
		Version:            1,
		QueryResultFormat:  "json",
		RowType:            rts,
		RowSet:             rowset,
		Total:              total,
		Returned:           total,
		Parameters:         rp,
		FinalDatabaseName:  strPtr(sess.Database),
		FinalSchemaName:    strPtr(sess.Schema),
		FinalWarehouseName: strPtr(sess.Warehouse),
		FinalRoleName:      strPtr(sess.Role),
	}
	if extra != nil {
		d.ResultIDs, _ = extra["resultIds"].(string)
		d.ResultTypes, _ = extra["resultTypes"].(string)
	}
	if chunks != nil {
		d.Chunks = chunks.metas(base, queryID)
		d.ChunkHeaders = map[string]string{chunkKeyHeader: chunks.key}
	}
	b, err := marshalEnvelope(true, "", "", d)
	if err != nil {
		return nil, 0, nil, err
	}
	return b, total, chunks, nil
}

var locations sync.Map // zone name → *time.Location

// location returns the session time zone named by the TIMEZONE parameter (UTC when
// missing or unknown).
func location(ps []params.Param) *time.Location {
	name := ""
	for _, p := range ps {
		if strings.EqualFold(p.Name, "TIMEZONE") {
			name, _ = p.Value.(string)
			break
		}
	}
	if name == "" {
		return time.UTC
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	locations.Store(name, l)
	return l
}

func (s *Server) handleResult(w http.ResponseWriter, r *http.Request) {
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	id := r.PathValue("id")
	q := s.queries.lookup(id, sess.Account, sess.User)
	if q == nil {
		e := errNoSuchQuery(id)
		writeBody(w, http.StatusOK, errorBody(id, e))
		return
	}
	s.respond(w, r, q, true)
}

func (s *Server) handleAbortByRequest(w http.ResponseWriter, r *http.Request) {
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	body, e := s.readBody(w, r)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	var ab struct {
		RequestID string `json:"requestId"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &ab); err != nil {
			s.writeError(w, r, errBadBody(), nil)
			return
		}
	}
	var q *query
	if ab.RequestID != "" {
		q = s.queries.byRequest(sess.ID, ab.RequestID)
	}
	s.abort(w, r, q)
}

func (s *Server) handleAbortByID(w http.ResponseWriter, r *http.Request) {
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	s.abort(w, r, s.queries.lookup(r.PathValue("id"), sess.Account, sess.User))
}

// abort cancels q if it is running.
func (s *Server) abort(w http.ResponseWriter, r *http.Request, q *query) {
	if q == nil || q.cancel == nil || q.finished() {
		s.writeError(w, r, errNotExecuting(), nil)
		return
	}
	q.aborted.Store(true)
	q.cancel()
	s.writeOK(w, r, "", "", nil)
}

type queryStatus struct {
	ID           string         `json:"id"`
	Status       string         `json:"status"`
	ErrorCode    string         `json:"errorCode"`
	ErrorMessage string         `json:"errorMessage"`
	SQLText      string         `json:"sqlText"`
	StartTime    int64          `json:"startTime"`
	EndTime      int64          `json:"endTime"`
	Stats        map[string]any `json:"stats"`
}

func (s *Server) handleMonitoring(w http.ResponseWriter, r *http.Request) {
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	list := []queryStatus{}
	if q := s.queries.lookup(r.PathValue("id"), sess.Account, sess.User); q != nil {
		// The text is redacted as history is: secret literals never leave the server.
		text, _ := exec.Redact(q.sqlText)
		st := queryStatus{
			ID:        q.id,
			Status:    statusRunning,
			SQLText:   text,
			StartTime: q.start.UnixMilli(),
			Stats:     map[string]any{"scanBytes": 0, "producedRows": 0},
		}
		if q.finished() {
			st.Status, st.ErrorCode, st.ErrorMessage = q.status, q.errCode, q.errMsg
			st.EndTime = q.end.UnixMilli()
			st.Stats["producedRows"] = q.rows
		}
		list = append(list, st)
	}
	s.writeOK(w, r, "", "", map[string]any{"queries": list})
}
