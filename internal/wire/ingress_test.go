package wire_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store/storetest"
	"github.com/firn/firn/internal/wire"
)

// switchGuard refuses every request while closed is set, and records what it saw.
type switchGuard struct {
	closed atomic.Bool
	calls  atomic.Int64
	user   atomic.Pointer[string]
}

func (g *switchGuard) Enforce(_ context.Context, account, user string, ip netip.Addr) *sferr.Error {
	g.calls.Add(1)
	g.user.Store(&user)
	if g.closed.Load() {
		return sferr.Newf("390422", "08001", "Incoming request with IP/Token %s is not allowed to access Snowflake.", ip)
	}
	return nil
}

func TestIngressOnSessionRequests(t *testing.T) {
	st := storetest.Open(t)
	g := &switchGuard{}
	e := &env{clk: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, auth: &fakeAuth{}, exec: newFakeExec(),
		rec: &recorder{ch: make(chan hit, 4096)}}
	e.ws = wire.New(wire.Config{Auth: e.auth, Exec: e.exec, Sessions: session.NewManager(st, session.Config{Now: e.clk.Now}),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.clk.Now, LongPoll: 5 * time.Millisecond, Ingress: g})
	e.srv = httptest.NewServer(e.rec.wrap(e.ws.Handler()))
	t.Cleanup(func() { e.ws.Close(); e.srv.Close() })
	u, _ := url.Parse(e.srv.URL)
	e.port = u.Port()

	tok, master, _ := e.login(t, "", nil)
	if r := e.query(t, tok, "", "SELECT 1"); !r.Success {
		t.Fatalf("query while open: %s", r.code())
	}
	if g.calls.Load() == 0 || *g.user.Load() != "ALICE" {
		t.Fatalf("guard not consulted with the session's user: calls=%d", g.calls.Load())
	}
	g.closed.Store(true)
	if r := e.query(t, tok, "", "SELECT 2"); r.Success || r.code() != "390422" {
		t.Fatalf("query while closed: %s", r.code())
	}
	if e.exec.count("SELECT 2") != 0 {
		t.Fatal("a refused request reached the executor")
	}
	r := e.do(t, rawReq{path: "/session/token-request", token: master, body: []byte(`{"requestType":"RENEW","oldSessionToken":"` + tok + `"}`)})
	if r.Success || r.code() != "390422" {
		t.Fatalf("renew while closed: %s", r.code())
	}
	// The refused renewal changed nothing: back at an allowed address, the session's
	// token still works.
	g.closed.Store(false)
	if r := e.query(t, tok, "", "SELECT 1"); !r.Success {
		t.Fatalf("old token after a refused renewal: %s", r.code())
	}
	tok, _, _ = e.login(t, "", nil)
	g.closed.Store(true)
	if r := e.do(t, rawReq{path: "/session/heartbeat", token: tok}); r.Success || r.code() != "390422" {
		t.Fatalf("heartbeat while closed: %s", r.code())
	}
	g.closed.Store(false)
	if r := e.query(t, tok, "", "SELECT 1"); !r.Success {
		t.Fatalf("query after reopening: %s", r.code())
	}
}
