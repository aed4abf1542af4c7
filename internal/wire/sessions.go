package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
)

type renewData struct {
	SessionToken        string `json:"sessionToken"`
	ValidityInSecondsST int64  `json:"validityInSecondsST"`
	MasterToken         string `json:"masterToken"`
	ValidityInSecondsMT int64  `json:"validityInSecondsMT"`
	SessionID           int64  `json:"sessionId"`
}

// handleRenew serves POST /session/token-request (reference §5).
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r)
	if e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	var tb struct {
		OldSessionToken string `json:"oldSessionToken"`
		RequestType     string `json:"requestType"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &tb); err != nil {
			s.writeError(w, r, errBadBody(), nil)
			return
		}
	}
	if tb.RequestType != "" && !strings.EqualFold(tb.RequestType, "RENEW") {
		s.writeError(w, r, sferr.New("000601", "08P01", "Unsupported token request type."), nil)
		return
	}
	// Host binding and network policy are checked before the token is replaced, so a
	// refused renewal leaves the session as it was.
	sess, tok, err := s.sessions.RenewIf(r.Context(), bearer(r), tb.OldSessionToken, func(sess *session.Session) error {
		if e := s.checkHost(r, sess); e != nil {
			return e
		}
		if e := s.checkIngress(r, sess); e != nil {
			return e
		}
		return nil
	})
	if err != nil {
		s.writeError(w, r, sferr.As(err), nil)
		return
	}
	s.writeOK(w, r, "", "", renewData{
		SessionToken:        tok.SessionToken,
		ValidityInSecondsST: int64(tok.SessionValidity.Seconds()),
		MasterToken:         tok.MasterToken,
		ValidityInSecondsMT: int64(tok.MasterValidity.Seconds()),
		SessionID:           sess.ID,
	})
}

// handleHeartbeat serves POST /session/heartbeat.
func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	if s.authenticate(w, r) == nil {
		return
	}
	s.writeOK(w, r, "", "", nil)
}

// handleSession serves POST /session?delete=true, which ends the session and its
// queries.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.URL.Query().Get("delete"), "true") {
		s.handleNotFound(w, r)
		return
	}
	sess := s.authenticate(w, r)
	if sess == nil {
		return
	}
	s.queries.closeSession(sess.ID)
	if err := s.sessions.Close(r.Context(), sess); err != nil {
		s.writeError(w, r, sferr.As(err), nil)
		return
	}
	if ender, ok := s.exec.(SessionEnder); ok {
		// The session is gone either way: a failure leaves its temporary tables to the
		// server's sweep.
		if err := ender.EndSession(context.WithoutCancel(r.Context()), sess.Account, sess.ID); err != nil {
			s.log.WarnContext(r.Context(), "wire: release closed session's objects", "session", sess.ID, "err", err)
		}
	}
	s.writeOK(w, r, "", "", nil)
}

// SessionEnder releases what a closed session held (its temporary tables). The
// Executor provides it when it implements this interface (exec.Engine does).
type SessionEnder interface {
	EndSession(ctx context.Context, account string, session int64) error
}

// handleTelemetry serves POST /telemetry/send. Client telemetry is read (bounded) and
// discarded.
func (s *Server) handleTelemetry(w http.ResponseWriter, r *http.Request) {
	if s.authenticate(w, r) == nil {
		return
	}
	if _, e := s.readBody(w, r); e != nil {
		s.writeError(w, r, e, nil)
		return
	}
	s.writeOK(w, r, "", "", "Log Received")
}
