package wire_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/exec"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
)

// fakeAuth accepts users ALICE and BOB with password "pw" in any account.
type fakeAuth struct {
	mu   sync.Mutex
	reqs []auth.LoginRequest
}

func (a *fakeAuth) Login(ctx context.Context, req *auth.LoginRequest) (*session.Session, error) {
	a.mu.Lock()
	a.reqs = append(a.reqs, *req)
	a.mu.Unlock()
	if strings.EqualFold(req.LoginName, "panic") {
		panic("authenticator exploded")
	}
	user := strings.ToUpper(req.LoginName)
	if (user != "ALICE" && user != "BOB") || req.Password != "pw" || req.Account == "" {
		return nil, sferr.IncorrectCredentials()
	}
	role := req.Role
	if role == "" {
		role = "SYSADMIN"
	}
	s := &session.Session{
		Account:       strings.ToUpper(req.Account),
		User:          user,
		UserType:      "PERSON",
		Role:          role,
		Database:      req.Database,
		Schema:        req.Schema,
		Warehouse:     req.Warehouse,
		Params:        map[string]string{},
		ClientApp:     req.ClientApp,
		ClientVersion: req.ClientVersion,
		ClientIP:      req.ClientIP.String(),
		AuthMethod:    "PASSWORD",
	}
	for k, v := range req.SessionParams {
		s.Params[k] = fmt.Sprint(v)
	}
	return s, nil
}

func (a *fakeAuth) last() auth.LoginRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reqs[len(a.reqs)-1]
}

// fakeExec answers a handful of fixed statements.
type fakeExec struct {
	release  chan struct{} // SLOW and COUNT wait for it
	started  chan string   // BLOCK sends its query id when it starts
	canceled chan error    // BLOCK sends its context's error when cancelled

	mu     sync.Mutex
	counts map[string]int
}

func newFakeExec() *fakeExec {
	return &fakeExec{
		release:  make(chan struct{}),
		started:  make(chan string, 10),
		canceled: make(chan error, 10),
		counts:   map[string]int{},
	}
}

func (e *fakeExec) count(sql string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[sql]
}

// Values of the every-type result.
var (
	wantNTZ  = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	wantLTZ  = time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	wantTZ   = time.Date(2023, 11, 14, 23, 13, 20, 5000, time.FixedZone("", 3600))
	wantDate = time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	wantBig  = "12345678901234567890123"
)

func allTypes() *result.Set {
	big, _ := new(big.Int).SetString(wantBig, 10)
	return &result.Set{
		Type: result.Select,
		Columns: []result.Column{
			{Name: "I", Type: "fixed", Precision: 18},
			{Name: "D", Type: "fixed", Precision: 10, Scale: 2},
			{Name: "BIG", Type: "fixed", Precision: 38},
			{Name: "R", Type: "real"},
			{Name: "S", Type: "text", Length: 100},
			{Name: "B", Type: "boolean"},
			{Name: "DT", Type: "date"},
			{Name: "TM", Type: "time", Scale: 9},
			{Name: "NTZ", Type: "timestamp_ntz", Scale: 9},
			{Name: "LTZ", Type: "timestamp_ltz", Scale: 9},
			{Name: "TZ", Type: "timestamp_tz", Scale: 9},
			{Name: "V", Type: "variant"},
			{Name: "O", Type: "object"},
			{Name: "A", Type: "array"},
			{Name: "BIN", Type: "binary", Length: 8},
			{Name: "N", Type: "text", Nullable: true},
		},
		Rows: [][]any{{
			int64(42), "3.14", big, 1.5, "héllo", true, wantDate,
			time.Date(0, 1, 1, 1, 2, 3, 500000000, time.UTC),
			wantNTZ, wantLTZ, wantTZ,
			map[string]any{"a": 1}, json.RawMessage(`{"k":"v"}`), []int{1, 2},
			[]byte("Hello"), nil,
		}},
	}
}

func (e *fakeExec) Execute(ctx context.Context, s *session.Session, req *exec.Request) (*result.Set, error) {
	e.mu.Lock()
	e.counts[req.SQL]++
	e.mu.Unlock()
	switch sql := strings.TrimSpace(req.SQL); {
	case sql == "SELECT 1":
		return &result.Set{Type: result.Select, Columns: []result.Column{{Name: "1", Type: "fixed", Precision: 1}}, Rows: [][]any{{int64(1)}}}, nil
	case sql == "SELECT ALLTYPES":
		return allTypes(), nil
	case strings.HasPrefix(sql, "BIG "): // BIG <rows>: bigSet (chunks_test.go)
		var n int
		if _, err := fmt.Sscanf(sql, "BIG %d", &n); err != nil {
			return nil, sferr.Syntax(1, 0, sql)
		}
		return bigSet(n), nil
	case sql == "INSERT":
		return &result.Set{Type: result.Insert, Columns: []result.Column{result.Fixed("number of rows inserted")}, Rows: [][]any{{int64(3)}}}, nil
	case sql == "EMPTY INSERT":
		return &result.Set{Type: result.Insert}, nil
	case sql == "CREATE TABLE T":
		return result.Status(result.DDL, "Table T successfully created."), nil
	case strings.HasPrefix(sql, "USE ROLE "):
		s.Role = strings.TrimPrefix(sql, "USE ROLE ")
		return result.Status(result.Use, "Statement executed successfully."), nil
	case sql == "BAD":
		return nil, sferr.DoesNotExist("Object", "T")
	case sql == "OPAQUE":
		return nil, fmt.Errorf("disk on fire at /secret/path")
	case sql == "PANIC":
		panic("executor exploded")
	case sql == "SLOW", sql == "COUNT":
		select {
		case <-e.release:
			return &result.Set{Type: result.Select, Columns: []result.Column{result.Fixed("N")}, Rows: [][]any{{int64(42)}}}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case sql == "BLOCK":
		e.started <- req.QueryID
		<-ctx.Done()
		e.canceled <- ctx.Err()
		return nil, ctx.Err()
	case sql == "MULTI":
		if req.MultiStatementCount != 2 {
			return nil, sferr.New("000008", "0A000", fmt.Sprintf("Actual statement count 2 did not match the desired statement count %d.", req.MultiStatementCount))
		}
		return &result.Set{Type: result.MultiStmt, Children: []result.Child{
			{QueryID: req.ChildQueryID(0), SQL: "SELECT 7", Set: &result.Set{Type: result.Select, Columns: []result.Column{result.Fixed("X")}, Rows: [][]any{{int64(7)}, {int64(8)}}}},
			{QueryID: req.ChildQueryID(1), SQL: "INSERT", Set: &result.Set{Type: result.Insert, Columns: []result.Column{result.Fixed("number of rows inserted")}, Rows: [][]any{{int64(5)}}}},
		}}, nil
	}
	return nil, sferr.Syntax(1, 0, req.SQL)
}

func (e *fakeExec) Parameters(ctx context.Context, s *session.Session) ([]params.Param, error) {
	return []params.Param{
		{Name: "TIMEZONE", Value: "America/New_York"},
		{Name: "BINARY_OUTPUT_FORMAT", Value: "HEX"},
		{Name: "CLIENT_SESSION_KEEP_ALIVE", Value: false},
		{Name: "CLIENT_STAGE_ARRAY_BINDING_THRESHOLD", Value: int64(65280)},
	}, nil
}
