package wire

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
)

// IngressEnforcer decides whether a request from ip may reach user of account
// (network policies and private-endpoint pinning, package ingress). It returns the
// refusal to send, or nil.
type IngressEnforcer interface {
	Enforce(ctx context.Context, account, user string, ip netip.Addr) *sferr.Error
}

// checkIngress applies the ingress guard to a token-authenticated request, so that a
// valid token used from a disallowed address is refused like a login would be.
func (s *Server) checkIngress(r *http.Request, sess *session.Session) *sferr.Error {
	if s.ingress == nil {
		return nil
	}
	return s.ingress.Enforce(r.Context(), sess.Account, sess.User, clientIP(r))
}
