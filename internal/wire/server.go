package wire

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/exec"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
)

// Authenticator authenticates logins.
type Authenticator interface {
	// Login authenticates and returns the identity and initial state for a new session
	// (User, UserType, Role, SecondaryRoles, Database, Schema, Warehouse, Params, ClientApp,
	// ClientVersion, ClientIP, AuthMethod set; ID/tokens unset). Failures are *sferr.Error.
	Login(ctx context.Context, req *auth.LoginRequest) (*session.Session, error)
}

// Executor runs statements.
type Executor interface {
	// Execute runs one query-request for session s; it may change s (USE, ALTER SESSION),
	// which the caller then persists with Sessions.Save. Errors are *sferr.Error (others
	// are converted with sferr.As).
	Execute(ctx context.Context, s *session.Session, req *exec.Request) (*result.Set, error)
	// Parameters returns the parameters to send in every login and query response.
	Parameters(ctx context.Context, s *session.Session) ([]params.Param, error)
}

// Defaults for Config fields left zero.
const (
	DefaultLongPoll     = 40 * time.Second
	DefaultMaxBodyBytes = 64 << 20
)

// Config configures a Server. Auth, Exec and Sessions are required.
type Config struct {
	Auth     Authenticator
	Exec     Executor
	Sessions *session.Manager
	// Logger receives request errors and recovered panics; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time (query start/end times); nil means time.Now.
	Now func() time.Time
	// LongPoll is how long a query-request or result fetch waits for the query to finish
	// before answering 333334 (in progress); zero means DefaultLongPoll.
	LongPoll time.Duration
	// MaxBodyBytes caps a request body, before and after gzip decompression; zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ResultRetention is how long a finished query's outcome is kept for result fetches
	// and requestId retries; zero means one hour. At most MaxResultsPerSession outcomes
	// (zero means 200) are kept per session.
	ResultRetention      time.Duration
	MaxResultsPerSession int
	// HostAccount returns the account a Host header names, or "" for none. It picks the
	// account of a login without ACCOUNT_NAME, and a session used through a host naming
	// another account is refused (390104). Nil means the first label of a DNS name
	// (not of an IP literal or "localhost"); a deployment whose host names are not
	// <account>.<domain> should supply its own rule.
	HostAccount func(host string) string
	// Ingress, when set, is consulted on every token-authenticated request.
	Ingress IngressEnforcer
}

// Server serves the Snowflake REST v1 protocol. Create it with New.
type Server struct {
	auth     Authenticator
	exec     Executor
	sessions *session.Manager
	log      *slog.Logger
	now      func() time.Time
	longPoll time.Duration
	maxBody  int64
	hostAcct func(host string) string
	ingress  IngressEnforcer
	queries  *registry
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		auth:     cfg.Auth,
		exec:     cfg.Exec,
		sessions: cfg.Sessions,
		log:      cfg.Logger,
		now:      cfg.Now,
		longPoll: cfg.LongPoll,
		maxBody:  cfg.MaxBodyBytes,
		hostAcct: cfg.HostAccount,
		ingress:  cfg.Ingress,
	}
	if s.hostAcct == nil {
		s.hostAcct = HostLabel
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.longPoll <= 0 {
		s.longPoll = DefaultLongPoll
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	retention := cfg.ResultRetention
	if retention <= 0 {
		retention = time.Hour
	}
	maxResults := cfg.MaxResultsPerSession
	if maxResults <= 0 {
		maxResults = 200
	}
	s.queries = newRegistry(s.now, retention, maxResults)
	return s
}

// Close cancels every running query. The Server remains usable.
func (s *Server) Close() {
	s.queries.cancelAll()
}

// Handler returns the HTTP handler serving the protocol's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session/v1/login-request", s.handleLogin)
	mux.HandleFunc("POST /session/token-request", s.handleRenew)
	mux.HandleFunc("POST /session/heartbeat", s.handleHeartbeat)
	mux.HandleFunc("POST /session", s.handleSession)
	mux.HandleFunc("POST /telemetry/send", s.handleTelemetry)
	mux.HandleFunc("POST /queries/v1/query-request", s.handleQuery)
	mux.HandleFunc("GET /queries/{id}/result", s.handleResult)
	mux.HandleFunc("GET "+chunkPathPrefix+"{id}/{n}", s.handleChunk)
	mux.HandleFunc("POST /queries/v1/abort-request", s.handleAbortByRequest)
	mux.HandleFunc("POST /queries/{id}/abort-request", s.handleAbortByID)
	mux.HandleFunc("GET /monitoring/queries/{id}", s.handleMonitoring)
	mux.HandleFunc(exec.PasswordResetPath, s.handlePasswordReset) // passwordreset.go
	mux.HandleFunc("/", s.handleNotFound)
	return s.recoverer(mux)
}

// recoverer turns a panic in a handler into an internal-error envelope (HTTP 200).
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &trackingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "wire: panic in handler",
				"method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rw.wrote {
				s.writeError(rw, r, sferr.Internal(), nil)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// trackingWriter records whether a response has been started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// envelope is the shape of every reply.
type envelope struct {
	Data    any     `json:"data"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Success bool    `json:"success"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// marshalEnvelope encodes a reply; code and message may be empty (null).
func marshalEnvelope(success bool, code, msg string, data any) ([]byte, error) {
	b, err := json.Marshal(envelope{Data: data, Code: strPtr(code), Message: strPtr(msg), Success: success})
	if err != nil {
		return nil, fmt.Errorf("wire: encode reply: %w", err)
	}
	return b, nil
}

// Reply header values, shared read-only (net/http never modifies them): assigning
// canonical keys directly skips Header.Set's allocations on every reply.
var (
	hdrJSON    = []string{"application/json"}
	hdrNoStore = []string{"no-store"}
)

// writeBody writes an encoded envelope with HTTP 200.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeOK writes a success envelope.
func (s *Server) writeOK(w http.ResponseWriter, r *http.Request, code, msg string, data any) {
	b, err := marshalEnvelope(true, code, msg, data)
	if err != nil {
		s.writeError(w, r, sferr.As(err), nil)
		return
	}
	writeBody(w, http.StatusOK, b)
}

// writeError writes a failure envelope for err. data, when not nil, becomes the
// envelope's data object, and err.Data is merged into it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *sferr.Error, data map[string]any) {
	s.logError(r.Context(), r, e)
	if len(e.Data) > 0 {
		if data == nil {
			data = map[string]any{}
		}
		for k, v := range e.Data {
			data[k] = v
		}
	}
	var d any
	if data != nil {
		d = data
	}
	b, err := marshalEnvelope(false, e.Code, e.Message, d)
	if err != nil {
		s.log.ErrorContext(r.Context(), "wire: encode error reply", "err", err)
		b, _ = marshalEnvelope(false, sferr.Internal().Code, sferr.Internal().Message, nil)
	}
	writeBody(w, http.StatusOK, b)
}

// logError logs errors whose cause is hidden from the client.
func (s *Server) logError(ctx context.Context, r *http.Request, e *sferr.Error) {
	if e.Cause == nil {
		return
	}
	attrs := []any{"code", e.Code, "err", e.Cause}
	if r != nil {
		attrs = append(attrs, "path", r.URL.Path)
	}
	s.log.ErrorContext(ctx, "wire: request failed", attrs...)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	b, _ := marshalEnvelope(false, "", "Not found: "+r.Method+" "+r.URL.Path, nil)
	writeBody(w, http.StatusNotFound, b)
}

// errBodyTooLarge is the client error for an oversized body.
func (s *Server) errBodyTooLarge() *sferr.Error {
	return sferr.Newf("000602", "54000", "Request body too large: the limit is %d bytes.", s.maxBody)
}

// errBadBody is the client error for a body that is not the expected JSON.
func errBadBody() *sferr.Error {
	return sferr.New("000601", "08P01", "Invalid request body: expected a JSON object.")
}

// readBody returns the request body, gunzipped when it is gzip-encoded (by header or
// by its magic bytes), capped at maxBody bytes before and after decompression.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *sferr.Error) {
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, s.errBodyTooLarge()
		}
		e := sferr.New("000601", "08P01", "Failed to read the request body.")
		e.Cause = err
		return nil, e
	}
	gz := strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") ||
		(len(raw) >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
	if !gz {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, sferr.New("000601", "08P01", "Invalid request body: bad gzip data.")
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, s.maxBody+1))
	if err != nil {
		return nil, sferr.New("000601", "08P01", "Invalid request body: bad gzip data.")
	}
	if int64(len(out)) > s.maxBody {
		return nil, s.errBodyTooLarge()
	}
	return out, nil
}

// bearer extracts the token from `Authorization: Snowflake Token="..."`.
func bearer(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	const scheme = "snowflake"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return ""
	}
	h = strings.TrimSpace(h[len(scheme):])
	const key = "token="
	if len(h) < len(key) || !strings.EqualFold(h[:len(key)], key) {
		return ""
	}
	return strings.Trim(strings.TrimSpace(h[len(key):]), `"`)
}

// HostLabel returns the account a Host header names: the text before the first dot
// of a DNS name, or "" for IP literals, "localhost" and single-label names.
func HostLabel(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" || strings.EqualFold(host, "localhost") {
		return ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return ""
	}
	i := strings.IndexByte(host, '.')
	if i <= 0 {
		return ""
	}
	return host[:i]
}

// checkHost refuses a session used through a host naming another account.
func (s *Server) checkHost(r *http.Request, sess *session.Session) *sferr.Error {
	if a := s.hostAcct(r.Host); a != "" && !strings.EqualFold(a, sess.Account) {
		return sferr.InvalidToken()
	}
	return nil
}

// authenticate resolves the request's session token. On failure it writes the error
// reply and returns nil.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) *session.Session {
	sess, err := s.sessions.Authenticate(r.Context(), bearer(r))
	if err != nil {
		s.writeError(w, r, sferr.As(err), nil)
		return nil
	}
	if e := s.checkHost(r, sess); e != nil {
		s.writeError(w, r, e, nil)
		return nil
	}
	if e := s.checkIngress(r, sess); e != nil {
		s.writeError(w, r, e, nil)
		return nil
	}
	return sess
}

// clientIP is the client's address as the edge established it, or the peer address.
func clientIP(r *http.Request) netip.Addr {
	if id, ok := edge.IdentityFrom(r.Context()); ok && id.Addr.IsValid() {
		return id.Addr.Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
