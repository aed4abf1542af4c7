package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/creds"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/store"
)

// The admin endpoint is HTTP over a Unix socket in the data directory:
// <data-dir>/admin/firn.sock, in a directory of mode 0700, the socket itself 0600,
// and on Linux every connection's peer is checked (SO_PEERCRED) to be the server's
// own user or root. Nothing listens on a network port, so there is no token to
// leak, rotate or brute-force: whoever can open the socket can already read the
// data directory (and so the store and the master key file), which is exactly the
// set of people an admin command should be for. `firn admin` finds the socket from
// --data-dir.

// AdminSocketPath returns the admin socket of a data directory.
func AdminSocketPath(dataDir string) string { return filepath.Join(dataDir, "admin", "firn.sock") }

// Admin API paths (HTTP over the admin socket).
const (
	AdminPathRotateMasterKey = "/admin/v1/rotate-master-key"
	AdminPathCredsAudit      = "/admin/v1/creds/audit"
	AdminPathCredsCache      = "/admin/v1/creds/cache"
)

// RotateResult is the answer of AdminPathRotateMasterKey.
type RotateResult struct {
	OldMasterKeyID string `json:"old_master_key_id"`
	NewMasterKeyID string `json:"new_master_key_id"`
}

// AdminError is the body of a failed admin request.
type AdminError struct {
	Error string `json:"error"`
}

// newBroker assembles the credential broker over the catalog and the keyring.
func (s *Server) newBroker() *creds.Broker {
	return creds.New(creds.Config{Store: s.store, Logger: s.log, Now: s.cfg.Now,
		Source: creds.CatalogSource{Keyring: func() *secrets.Keyring { return s.keyring }}})
}

// Creds returns the credential broker, through which UDFs and services resolve
// secrets.
func (s *Server) Creds() *creds.Broker { return s.creds }

// listenAdmin opens the admin socket. A failure is logged and leaves the admin
// endpoint off: the server itself still runs.
func (s *Server) listenAdmin() net.Listener {
	ln, err := listenAdminSocket(AdminSocketPath(s.cfg.DataDir))
	if err != nil {
		s.log.Warn("admin endpoint disabled", slog.Any("err", err))
		return nil
	}
	s.log.Info("admin endpoint listening", slog.String("socket", ln.Addr().String()))
	return ln
}

func listenAdminSocket(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("admin socket directory: %w", err)
	}
	// The directory, not just the socket, keeps others out: chmod after bind leaves
	// a window, and a directory of mode 0700 closes it.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("admin socket directory: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("admin socket %s is in use: another firn serves this data directory", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("removing stale admin socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return &peerCheckListener{Listener: ln}, nil
}

// peerCheckListener drops connections from other users (where the platform tells).
type peerCheckListener struct{ net.Listener }

func (l *peerCheckListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if err := checkPeer(c); err != nil {
			slog.Warn("admin connection refused", slog.Any("err", err))
			c.Close()
			continue
		}
		return c, nil
	}
}

// adminHandler serves the admin API.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+AdminPathRotateMasterKey, s.adminRotate)
	mux.HandleFunc("GET "+AdminPathCredsAudit, s.adminCredsAudit)
	mux.HandleFunc("GET "+AdminPathCredsCache, s.adminCredsCache)
	return mux
}

func writeAdmin(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// adminRotate re-wraps every data key under a new master key that the server
// generates itself, so that the new key never travels: it is written next to the
// old one (see RotateMasterKey).
func (s *Server) adminRotate(w http.ResponseWriter, r *http.Request) {
	old := s.MasterKeyID()
	mk, _, err := secrets.GenerateMasterKey()
	if err == nil {
		err = s.RotateMasterKey(r.Context(), mk)
	}
	if err != nil {
		s.log.Error("admin: master key rotation failed", slog.Any("err", err))
		writeAdmin(w, http.StatusInternalServerError, AdminError{Error: err.Error()})
		return
	}
	s.log.Info("admin: master key rotated", slog.String("old_master_key_id", old), slog.String("new_master_key_id", mk.ID()))
	writeAdmin(w, http.StatusOK, RotateResult{OldMasterKeyID: old, NewMasterKeyID: mk.ID()})
}

func (s *Server) adminCredsAudit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	account := r.URL.Query().Get("account")
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeAdmin(w, http.StatusBadRequest, AdminError{Error: "limit must be a non-negative integer"})
			return
		}
		limit = n
	}
	if account != "" {
		_ = s.store.View(ctx, func(tx store.Tx) error {
			if a, err := auth.FindAccount(ctx, tx, account); err == nil {
				account = a.Name
			}
			return nil
		})
	}
	recs, err := s.creds.Audit(ctx, account, limit)
	if err != nil {
		writeAdmin(w, http.StatusInternalServerError, AdminError{Error: err.Error()})
		return
	}
	if recs == nil {
		recs = []*store.CredsAuditRecord{}
	}
	writeAdmin(w, http.StatusOK, recs)
}

func (s *Server) adminCredsCache(w http.ResponseWriter, _ *http.Request) {
	writeAdmin(w, http.StatusOK, s.creds.CacheState())
}

// serveAdmin serves the admin API on ln until ctx ends.
func (s *Server) serveAdmin(ctx context.Context, ln net.Listener) {
	hs := &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("admin endpoint stopped", slog.Any("err", err))
	}
}
