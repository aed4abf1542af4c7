// Package server assembles a firn server from its parts: the store, the data engine,
// authentication, sessions, statement execution and the wire protocol, plus the
// operational endpoints (/healthz, /metrics). It also performs first-start bootstrap
// of the organisation account and its administrator.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/firn/firn/internal/audit"
	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/creds"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/edge"
	"github.com/firn/firn/internal/exec"
	"github.com/firn/firn/internal/ingress"
	"github.com/firn/firn/internal/metrics"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/privatelink"
	"github.com/firn/firn/internal/secrets"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/store"
	"github.com/firn/firn/internal/wire"
)

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	// DataDir holds the store, the admin password file and data files. Default ".firn".
	DataDir string
	// Account is the organisation account created on first start. Default "FIRN".
	Account string
	// AdminPassword, when set, is the first administrator's password on first start
	// (from FIRN_ADMIN_PASSWORD). Otherwise one is generated and written to
	// <DataDir>/admin-password with mode 0600.
	AdminPassword string
	Logger        *slog.Logger
	// Now is the clock (tests inject one). Default time.Now.
	Now func() time.Time
	// LongPoll bounds how long a query request is held before answering 333334.
	LongPoll time.Duration
	// AzureARMURL is the Azure Resource Manager endpoint that Azure private-endpoint
	// ownership tokens are checked against (default https://management.azure.com).
	AzureARMURL string
	// MasterKeyFile is the master key file (default <DataDir>/master.key), created
	// with mode 0600 on first start. Ignored when MasterKey is set.
	MasterKeyFile string
	// MasterKey is the base64 master key from FIRN_MASTER_KEY, if set.
	MasterKey string
	// AWSIAMUserARN is the IAM user firn calls STS as, shown by DESC INTEGRATION as
	// API_AWS_IAM_USER_ARN. Default DefaultAWSIAMUserARN.
	AWSIAMUserARN string
}

// Server is an assembled firn server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	store    store.Store
	data     *data.Engine
	history  *audit.Recorder
	metrics  *metrics.Metrics
	sessions *session.Manager
	exec     *exec.Engine
	auth     *auth.Service
	wire     *wire.Server
	ingress  *ingress.Guard
	// privatelink holds private-endpoint pins and PrivateLink records; its Pins are
	// installed on the ingress guard.
	privatelink *privatelink.Registry
	ready       atomic.Bool
	keyring     *secrets.Keyring
	rotateMu    sync.Mutex
	creds       *creds.Broker // the credential broker (admin.go)
	// AdminPasswordFile is the path of the generated admin password, if one was written.
	AdminPasswordFile string
}

// New opens the data directory, bootstraps it on first start and assembles the server.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = ".firn"
	}
	if cfg.Account == "" {
		cfg.Account = "FIRN"
	}
	cfg.Account = strings.ToUpper(cfg.Account)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "firn.db"))
	if err != nil {
		return nil, fmt.Errorf("server: open store: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: st, metrics: metrics.New()}
	if err := s.bootstrap(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := s.openKeyring(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.AWSIAMUserARN == "" {
		cfg.AWSIAMUserARN = DefaultAWSIAMUserARN
		s.cfg.AWSIAMUserARN = cfg.AWSIAMUserARN
	} else if !iamUserARN.MatchString(cfg.AWSIAMUserARN) {
		st.Close()
		return nil, fmt.Errorf("server: --aws-iam-user-arn %q is not an IAM user ARN (arn:aws:iam::<12 digits>:user/<name>)", cfg.AWSIAMUserARN)
	}
	s.data, err = data.Open(ctx, data.Config{Dir: cfg.DataDir, Logger: s.log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("server: open data engine: %w", err)
	}
	s.history = audit.NewRecorder(st, s.log)
	s.sessions = session.NewManager(st, session.Config{Now: cfg.Now, Validity: s.validity})
	s.ingress = ingress.New(ingress.Config{Store: st, Now: cfg.Now, Logger: s.log})
	catalog.SetNetworkPolicyChecker(catalog.NetworkPolicyFunc(ingress.UserHasNetworkPolicy))
	s.privatelink = privatelink.New(privatelink.Config{Store: st, Now: cfg.Now, Logger: s.log,
		Azure: &privatelink.AzureProver{BaseURL: cfg.AzureARMURL}})
	if err := s.privatelink.Refresh(ctx); err != nil {
		s.data.Close()
		st.Close()
		return nil, err
	}
	s.ingress.SetPins(s.privatelink.Pins())
	s.auth = auth.NewService(auth.Config{Store: st, Logger: s.log, Metrics: s.metrics, Now: cfg.Now, Ingress: s.ingress})
	s.auth.SetKeyring(s.keyring)
	s.exec = exec.New(exec.Config{Store: st, Data: s.data, History: s.history, Logger: s.log, Metrics: s.metrics,
		Now: cfg.Now, NewQueryID: func() string { return uuid.NewString() }, Sessions: s.sessions,
		Keyring: s.keyring, AWSIAMUserARN: cfg.AWSIAMUserARN, PrivateLink: s.privatelink,
		Changed: s.catalogChanged})
	s.wire = wire.New(wire.Config{Auth: s.auth, Exec: s.exec, Sessions: s.sessions, Logger: s.log, Now: cfg.Now,
		LongPoll: cfg.LongPoll, HostAccount: s.hostAccount, Ingress: s.ingress})
	s.creds = s.newBroker()
	s.ready.Store(true)
	return s, nil
}

// catalogChanged drops the credential broker's cached decisions for an account
// after a statement changed its objects or grants.
func (s *Server) catalogChanged(account string) {
	if s.creds != nil {
		s.creds.Invalidate(account)
	}
}

// Ingress returns the guard that enforces network policies and endpoint pinning on
// logins and session requests (install a pinning checker with SetPins).
func (s *Server) Ingress() *ingress.Guard { return s.ingress }

// validity reads an account's token lifetimes from its parameters.
func (s *Server) validity(ctx context.Context, account string) (sess, master, idle time.Duration) {
	var p map[string]string
	_ = s.store.View(ctx, func(tx store.Tx) error {
		if a, err := catalog.GetAccount(ctx, tx, account); err == nil {
			p = a.Params
		}
		return nil
	})
	get := func(name string) int64 {
		d, _ := params.Lookup(name)
		n, _ := strconv.ParseInt(params.Resolve(d, nil, nil, p).Value, 10, 64)
		return n
	}
	return time.Duration(get("SESSION_TOKEN_VALIDITY_IN_SECONDS")) * time.Second,
		time.Duration(get("MASTER_TOKEN_VALIDITY_IN_SECONDS")) * time.Second,
		time.Duration(get("SESSION_IDLE_TIMEOUT_MINS")) * time.Minute
}

// hostAccount returns the account a Host header names, but only when an account of
// that name exists: firn is often reached through DNS names whose first label is not an
// account (firn.internal.example), and those must not bind sessions to anything.
func (s *Server) hostAccount(host string) string {
	label := wire.HostLabel(host)
	if label == "" {
		return ""
	}
	var name string
	_ = s.store.View(context.Background(), func(tx store.Tx) error {
		if a, err := auth.FindAccount(context.Background(), tx, label); err == nil {
			name = a.Name
		}
		return nil
	})
	return name
}

// bootstrap creates the organisation account and its administrator on an empty store.
func (s *Server) bootstrap(ctx context.Context) error {
	var empty bool
	if err := s.store.View(ctx, func(tx store.Tx) error {
		as, err := catalog.ListAccounts(ctx, tx)
		empty = len(as) == 0
		return err
	}); err != nil {
		return fmt.Errorf("server: bootstrap: %w", err)
	}
	if !empty {
		return nil
	}
	pw := s.cfg.AdminPassword
	generated := pw == ""
	if generated {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("server: generate admin password: %w", err)
		}
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if generated {
		path := filepath.Join(s.cfg.DataDir, "admin-password")
		if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
			return fmt.Errorf("server: write admin password: %w", err)
		}
		s.AdminPasswordFile = path
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		return catalog.CreateAccount(ctx, tx, &catalog.Account{Name: s.cfg.Account, Edition: "BUSINESS_CRITICAL", Org: true, AdminName: "ADMIN"},
			&catalog.User{Name: "ADMIN", LoginName: "ADMIN", PasswordHash: hash})
	})
	if err != nil {
		return fmt.Errorf("server: bootstrap account: %w", err)
	}
	if generated {
		s.log.Info("bootstrapped organisation account", slog.String("account", s.cfg.Account), slog.String("user", "ADMIN"),
			slog.String("admin_password_file", s.AdminPasswordFile))
	} else {
		s.log.Info("bootstrapped organisation account", slog.String("account", s.cfg.Account), slog.String("user", "ADMIN"),
			slog.String("admin_password", "from FIRN_ADMIN_PASSWORD"))
	}
	return nil
}

// Handler returns the HTTP handler: the Snowflake REST API plus /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.Handle("/", s.wire.Handler())
	return mux
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ConnContext:       edge.ConnContext,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go s.sweep(sweepCtx)
	go s.privatelink.Run(sweepCtx, 0) // pins of dropped accounts, other replicas' changes
	if aln := s.listenAdmin(); aln != nil {
		go s.serveAdmin(sweepCtx, aln) // the admin socket (admin.go)
	}
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	}
}

// sweep ends expired and idle sessions once a minute and drops the temporary tables
// of ended sessions; at start it drops those of sessions that ended while the server
// was down.
func (s *Server) sweep(ctx context.Context) {
	if n, err := s.exec.SweepTempTables(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("temporary table sweep failed", slog.Any("err", err))
	} else if n > 0 {
		s.log.Debug("temporary tables swept", slog.Int("count", n))
	}
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sessions, temps, err := s.Sweep(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("session sweep failed", slog.Any("err", err))
			}
			if sessions+temps > 0 {
				s.log.Debug("sessions swept", slog.Int("count", sessions), slog.Int("temporary_tables", temps))
			}
		}
	}
}

// Sweep runs one sweep: it deletes the sessions that have ended (expired master token
// or idle timeout), then drops the temporary tables of every ended session (however
// it ended). It returns how many of each it removed. Serve runs it once a minute;
// tests call it directly.
func (s *Server) Sweep(ctx context.Context) (sessions, tempTables int, err error) {
	sessions, serr := s.sessions.Sweep(ctx)
	tempTables, terr := s.exec.SweepTempTables(ctx)
	return sessions, tempTables, errors.Join(serr, terr)
}

// Close releases the server's resources.
func (s *Server) Close() error {
	s.ready.Store(false)
	if s.wire != nil {
		s.wire.Close()
	}
	if s.history != nil {
		s.history.Close()
	}
	if s.creds != nil {
		s.creds.Close()
	}
	var errs []error
	if s.data != nil {
		errs = append(errs, s.data.Close())
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// Store returns the server's store (for admin commands and tests).
func (s *Server) Store() store.Store { return s.store }

// MintOAuthToken issues an OAuth access token for user of account (see
// auth.Service.MintOAuthToken); it is how services and tests obtain OAUTH login tokens.
func (s *Server) MintOAuthToken(ctx context.Context, account, user, role, audience string, ttl time.Duration) (string, error) {
	return s.auth.MintOAuthToken(ctx, account, user, role, audience, ttl)
}
