// Package exec runs statements: it splits a request into statements, parses each with
// package sql, checks privileges through package authz, applies control statements to
// the catalog in one store transaction each, sends data statements to the DuckDB
// engine, and records every statement in query history, the log and the metrics.
// It knows nothing of HTTP.
package exec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/audit"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/metrics"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/privatelink"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// Config configures an Engine.
type Config struct {
	Store   store.Store
	Data    *data.Engine
	History *audit.Recorder
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
	// NewQueryID makes ids for statements of multi-statement requests.
	NewQueryID func() string
	// Sessions ends sessions when a user is disabled or dropped. May be nil in tests.
	Sessions SessionCloser
	// PrivateLink answers the SYSTEM$…PRIVATELINK… functions (privatelink.go). Nil:
	// they fail as unsupported.
	PrivateLink *privatelink.Registry
	// Keyring seals secret values (SECRET, OAuth client secrets). Without one,
	// statements that store a secret value fail.
	Keyring *secrets.Keyring
	// AWSIAMUserARN is the IAM user firn calls STS as (DESC INTEGRATION's
	// API_AWS_IAM_USER_ARN for AWS_IAM integrations).
	AWSIAMUserARN string
	// Changed, when set, is called after a CREATE, ALTER, DROP, GRANT or REVOKE of
	// an account commits, so caches outside the store that decide on its objects
	// and grants (the credential broker's decisions) drop their entries at once.
	Changed func(account string)
}

// SessionCloser ends a user's sessions.
type SessionCloser interface {
	CloseUser(ctx context.Context, account, user string) (int, error)
}

// Engine executes statements. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	// results keeps the session's query ids and recent results (RESULT_SCAN).
	results *resultCache
}

// New returns an Engine.
func New(cfg Config) *Engine {
	e := &Engine{cfg: cfg, log: cfg.Logger, now: cfg.Now, results: newResultCache()}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Execute runs one query-request for session s. Statements that change the session
// (USE, ALTER SESSION, CREATE DATABASE, ...) update s; the caller persists it.
func (e *Engine) Execute(ctx context.Context, s *session.Session, req *Request) (*result.Set, error) {
	stmts, err := sql.Split(req.SQL)
	if err != nil {
		e.record(ctx, s, req.QueryID, req.SQL, "UNKNOWN", e.now(), nil, err)
		return nil, err
	}
	if len(stmts) == 0 {
		err := sferr.Compilation("000900", "42601", "Empty SQL statement.")
		e.record(ctx, s, req.QueryID, req.SQL, "UNKNOWN", e.now(), nil, err)
		return nil, err
	}
	want := req.MultiStatementCount
	if _, ok := req.Params["MULTI_STATEMENT_COUNT"]; !ok {
		if v, ok := s.Params["MULTI_STATEMENT_COUNT"]; ok {
			want, _ = strconv.Atoi(v)
		}
	}
	if len(stmts) == 1 && (want == 1 || want == 0) {
		return e.runOne(ctx, s, req, req.QueryID, stmts[0])
	}
	if want != 0 && len(stmts) != want {
		err := sferr.Newf("000008", "0A000", "Actual statement count %d did not match the desired statement count %d.", len(stmts), want)
		err.Type = "COMPILATION"
		e.record(ctx, s, req.QueryID, req.SQL, "MULTI_STATEMENT", e.now(), nil, err)
		return nil, err
	}
	parent := &result.Set{
		Type:    result.MultiStmt,
		Columns: []result.Column{result.Text("multiple statement execution")},
		Rows:    [][]any{{"Multiple statements executed successfully."}},
	}
	start := e.now()
	for i, text := range stmts {
		id := e.childID(req, i)
		set, err := e.runOne(ctx, s, req, id, text)
		parent.Children = append(parent.Children, result.Child{QueryID: id, SQL: text, Set: set, Err: err})
		if err != nil {
			e.record(ctx, s, req.QueryID, req.SQL, "MULTI_STATEMENT", start, nil, err)
			return nil, err
		}
	}
	e.record(ctx, s, req.QueryID, req.SQL, "MULTI_STATEMENT", start, parent, nil)
	return parent, nil
}

func (e *Engine) childID(req *Request, i int) string {
	if req.ChildQueryID != nil {
		return req.ChildQueryID(i)
	}
	if e.cfg.NewQueryID != nil {
		return e.cfg.NewQueryID()
	}
	return fmt.Sprintf("%s-%d", req.QueryID, i)
}

// runOne parses and runs one statement with the statement timeout applied, and records it.
func (e *Engine) runOne(ctx context.Context, s *session.Session, req *Request, queryID, text string) (set *result.Set, err error) {
	start := e.now()
	kind := "UNKNOWN"
	defer func() {
		if p := recover(); p != nil {
			e.log.Error("statement panicked", slog.String("query_id", queryID), slog.Any("panic", p))
			set, err = nil, sferr.Internal()
		}
		err = redactError(text, err)
		e.record(ctx, s, queryID, text, kind, start, set, err)
	}()
	if parts, ok := splitPipe(text); ok {
		set, kind, err = e.runPipe(ctx, s, req, queryID, parts)
		return set, err
	}
	stmt, err := sql.Parse(text)
	if err != nil {
		return nil, err
	}
	kind = queryType(stmt)
	timeout := e.statementTimeout(s)
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	set, err = e.dispatch(tctx, s, req, stmt)
	if err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, sferr.Newf("000630", "57014", "Statement reached its statement or warehouse timeout of %d second(s) and was canceled.", int(timeout/time.Second))
	}
	if err != nil && ctx.Err() != nil {
		return nil, sferr.New("000604", "57014", "SQL execution canceled")
	}
	return set, err
}

func (e *Engine) statementTimeout(s *session.Session) time.Duration {
	d, _ := params.Lookup("STATEMENT_TIMEOUT_IN_SECONDS")
	v := params.Resolve(d, s.Params, nil, nil).Value
	n, _ := strconv.ParseInt(v, 10, 64)
	if n <= 0 || n > 604800 {
		n = 604800
	}
	return time.Duration(n) * time.Second
}

// dispatch runs a parsed statement and reports committed catalog changes to
// Config.Changed.
func (e *Engine) dispatch(ctx context.Context, s *session.Session, req *Request, stmt sql.Statement) (*result.Set, error) {
	set, err := e.dispatchStatement(ctx, s, req, stmt)
	if err == nil && e.cfg.Changed != nil {
		switch stmt.(type) {
		case *sql.Create, *sql.Drop, *sql.Alter, *sql.Grant, *sql.Revoke:
			e.cfg.Changed(s.Account)
		}
	}
	return set, err
}

func (e *Engine) dispatchStatement(ctx context.Context, s *session.Session, req *Request, stmt sql.Statement) (*result.Set, error) {
	switch st := stmt.(type) {
	case *sql.Use:
		return e.use(ctx, s, st)
	case *sql.AlterSession:
		return e.alterSession(s, st)
	case *sql.Show:
		return e.show(ctx, s, st)
	case *sql.Create:
		return e.create(ctx, s, st)
	case *sql.Drop:
		return e.drop(ctx, s, st)
	case *sql.Alter:
		return e.alter(ctx, s, st)
	case *sql.Describe:
		return e.describe(ctx, s, st)
	case *sql.Grant:
		if set, ok, err := e.importedPrivileges(ctx, s, &st.GrantSpec, false); ok {
			return set, err
		}
		return e.grant(ctx, s, st)
	case *sql.Revoke:
		if set, ok, err := e.importedPrivileges(ctx, s, &st.GrantSpec, true); ok {
			return set, err
		}
		return e.revoke(ctx, s, st)
	case *sql.Query:
		return e.query(ctx, s, req, st)
	}
	return nil, sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature '%s'.", firstWord(stmt.Text())))
}

// query runs a data statement on DuckDB, after the transaction-control verbs that
// firn accepts as no-ops (every statement autocommits).
func (e *Engine) query(ctx context.Context, s *session.Session, req *Request, q *sql.Query) (*result.Set, error) {
	if q.Block {
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'Snowflake Scripting blocks'.")
	}
	switch q.Verb {
	case "BEGIN", "START":
		return result.Status(result.Begin, "Statement executed successfully."), nil
	case "COMMIT":
		return result.Status(result.Commit, "Statement executed successfully."), nil
	case "ROLLBACK":
		return result.Status(result.Rollback, "Statement executed successfully."), nil
	}
	if set, ok, err := e.sysFuncQuery(ctx, s, q); ok { // SYSTEM$ functions answered in Go (sysfunc.go)
		return set, err
	}
	if e.cfg.Data == nil {
		return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'data statements'.")
	}
	binds, err := convertBinds(req.Bindings)
	if err != nil {
		return nil, err
	}
	dc := &data.Context{
		Account: s.Account, User: s.User, Role: s.Role, Database: s.Database, Schema: s.Schema,
		Warehouse: s.Warehouse, ClientApp: s.ClientApp, ClientVersion: s.ClientVersion,
		SessionID: s.ID, SecondaryRoles: s.SecondaryRoles, Now: e.now(),
		TimeZone: e.effective(ctx, s, "TIMEZONE"),
		Sources:  e.sources(ctx, s),
	}
	return e.dataStatement(ctx, s, dc, q.Text(), binds)
}

// convertBinds orders positional bindings "1".."n" for the data engine.
func convertBinds(b map[string]Binding) ([]data.Bind, error) {
	if len(b) == 0 {
		return nil, nil
	}
	out := make([]data.Bind, len(b))
	for k, v := range b {
		i, err := strconv.Atoi(k)
		if err != nil || i < 1 || i > len(b) {
			return nil, sferr.Compilation("002049", "22000", fmt.Sprintf("Bind variable :%s not set.", k))
		}
		if v.Values != nil {
			return nil, sferr.Compilation("000002", "0A000", "Unsupported feature 'array binding'.")
		}
		out[i-1] = data.Bind{Type: v.Type, Value: v.Value, Fmt: v.Fmt}
	}
	return out, nil
}

// record writes the statement's history row, log line and metrics.
func (e *Engine) record(ctx context.Context, s *session.Session, queryID, text, kind string, start time.Time, set *result.Set, err error) {
	end := e.now()
	// Secret values in the text (PASSWORD = '...', SECRET_STRING = '...') never reach
	// history or logs; see redact.go.
	text, redacted := Redact(text)
	q := &store.QueryRecord{
		QueryID: queryID, Account: s.Account, SessionID: s.ID, QueryText: text, QueryType: kind,
		UserName: s.User, UserType: s.UserType, RoleName: s.Role, WarehouseName: s.Warehouse,
		DatabaseName: s.Database, SchemaName: s.Schema, Status: "SUCCESS", StartTime: start, EndTime: end,
	}
	attrs := []any{
		slog.String("query_id", queryID), slog.String("account", s.Account), slog.String("user", s.User),
		slog.String("role", s.Role), slog.String("client_app", s.ClientApp), slog.String("client_version", s.ClientVersion),
		slog.String("type", kind), slog.Duration("duration", end.Sub(start)),
	}
	if err != nil {
		se := sferr.As(err)
		q.Status, q.ErrorCode, q.ErrorMessage = "FAILED_WITH_ERROR", se.Code, scrub(se.Message, redacted)
		if se.Code == "000604" {
			q.Status = "FAILED_WITH_ERROR"
		}
		attrs = append(attrs, slog.String("error_code", se.Code))
		if se.Cause != nil {
			attrs = append(attrs, slog.String("cause", scrub(se.Cause.Error(), redacted)))
		}
	} else if set != nil {
		q.RowsProduced = int64(len(set.Rows))
	}
	if e.cfg.History != nil && s.Account != "" {
		e.cfg.History.Query(q)
	}
	if err == nil && !takeOneShot(set) {
		e.results.note(s, queryID, set)
	} else {
		e.results.note(s, queryID, nil)
	}
	e.cfg.Metrics.Statement(kind, err == nil, end.Sub(start))
	e.log.Info("statement", attrs...)
}

// queryType is QUERY_HISTORY's query_type for a statement, also the metrics label.
func queryType(stmt sql.Statement) string {
	switch st := stmt.(type) {
	case *sql.Use:
		return "USE"
	case *sql.AlterSession:
		return "ALTER_SESSION"
	case *sql.Show:
		return "SHOW"
	case *sql.Describe:
		return "DESCRIBE"
	case *sql.Create:
		return "CREATE_" + strings.ReplaceAll(st.Kind, " ", "_")
	case *sql.Drop:
		return "DROP_" + strings.ReplaceAll(st.Kind, " ", "_")
	case *sql.Alter:
		return "ALTER_" + strings.ReplaceAll(st.Kind, " ", "_")
	case *sql.Grant:
		return "GRANT"
	case *sql.Revoke:
		return "REVOKE"
	case *sql.Query:
		switch st.Verb {
		case "SELECT", "WITH", "VALUES", "(":
			return "SELECT"
		case "INSERT", "UPDATE", "DELETE", "MERGE", "BEGIN", "COMMIT", "ROLLBACK", "CREATE", "DROP", "ALTER", "TRUNCATE":
			return st.Verb
		}
		return "UNKNOWN"
	}
	return "UNKNOWN"
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

// Parameters returns the parameters sent in every login and query response: the
// response parameters resolved for the session, user and account.
func (e *Engine) Parameters(ctx context.Context, s *session.Session) ([]params.Param, error) {
	acct, user := e.levelParams(ctx, s)
	all := params.All()
	out := make([]params.Param, 0, len(all))
	for _, d := range all {
		if !d.Response {
			continue
		}
		r := params.Resolve(d, s.Params, user, acct)
		out = append(out, params.Param{Name: d.Name, Value: d.Typed(r.Value)})
	}
	return out, nil
}

// effective returns one parameter's effective value for a session.
func (e *Engine) effective(ctx context.Context, s *session.Session, name string) string {
	d, ok := params.Lookup(name)
	if !ok {
		return ""
	}
	if v, ok := s.Params[d.Name]; ok {
		return v
	}
	acct, user := e.levelParams(ctx, s)
	return params.Resolve(d, s.Params, user, acct).Value
}

// levelParams reads the account- and user-level parameter values.
func (e *Engine) levelParams(ctx context.Context, s *session.Session) (acct, user map[string]string) {
	_ = store.ViewCached(ctx, e.cfg.Store, func(tx store.Tx) error {
		acct, user = nil, nil // fn may run twice
		if a, err := catalog.GetAccount(ctx, tx, s.Account); err == nil {
			acct = a.Params
		}
		if u, err := catalog.GetUser(ctx, tx, s.Account, s.User); err == nil {
			user = u.Params
		}
		return nil
	})
	return acct, user
}
