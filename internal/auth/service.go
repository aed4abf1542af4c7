package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/metrics"
	"github.com/firn/firn/internal/params"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Lockout policy: after MaxFailures consecutive password failures a user is locked for
// LockDuration, as Snowflake does.
const (
	MaxFailures  = 5
	LockDuration = 15 * time.Minute
)

// lastSuccessResolution (seconds) is how stale a user's recorded last successful login
// may get before a login rewrites it.
const lastSuccessResolution = 60

// Authenticator verifies one kind of credential. Implementations read what they need
// through tx (a read-only view) and return the authenticated user, or a *sferr.Error.
// A nil user with a nil error is not allowed.
type Authenticator interface {
	// Factor is the LOGIN_HISTORY first_authentication_factor this authenticator
	// reports (PASSWORD, RSA_KEYPAIR, OAUTH_ACCESS_TOKEN, PROGRAMMATIC_ACCESS_TOKEN).
	Factor() string
	// Authenticate checks req's credentials for account.
	Authenticate(ctx context.Context, tx store.Tx, account *catalog.Account, req *LoginRequest) (*Outcome, error)
}

// UnknownRefuser is implemented by authenticators that answer an unknown account or
// user with their own refusal (for example 390144 for a key-pair JWT) rather than
// 390100. The refusal must not reveal which of the two was unknown.
type UnknownRefuser interface {
	RefuseUnknown() *sferr.Error
}

// Outcome is an authenticator's verdict on a request whose user could be identified.
type Outcome struct {
	User *catalog.User
	// Err, when set, is the refusal; the user is known, so a password failure counts
	// toward lockout when CountsFailure is set.
	Err           *sferr.Error
	CountsFailure bool
	// RoleRestriction limits the session to one role (PATs).
	RoleRestriction string
}

// Config configures a Service.
type Config struct {
	Store   store.Store
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
	// JWTClockSkew is the clock skew tolerated on key-pair JWT time claims; 0 means
	// DefaultJWTClockSkew.
	JWTClockSkew time.Duration
	// Organization is the organisation name accepted in the ORG-ACCOUNT form of a
	// key-pair JWT's account part; "" means "FIRN".
	Organization string
	// Ingress, when set, enforces network policies and endpoint pinning on every
	// login once the user is known (package ingress); a refusal is recorded in
	// LOGIN_HISTORY and does not count toward lockout.
	Ingress IngressEnforcer
}

// IngressEnforcer decides whether a login from ip may reach user of account; it
// returns the refusal to send, or nil.
type IngressEnforcer interface {
	Enforce(ctx context.Context, account, user string, ip netip.Addr) *sferr.Error
}

// Service authenticates logins. It is safe for concurrent use.
type Service struct {
	st      store.Store
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time
	authns  map[string]Authenticator
	cfg     Config
}

// NewService returns a Service with the password authenticator registered for the
// authenticator names "", SNOWFLAKE and USERNAME_PASSWORD_MFA.
func NewService(cfg Config) *Service {
	s := &Service{st: cfg.Store, log: cfg.Logger, metrics: cfg.Metrics, now: cfg.Now, authns: map[string]Authenticator{}, cfg: cfg}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	pw := &Password{Now: s.now}
	for _, name := range []string{"", "SNOWFLAKE", "USERNAME_PASSWORD_MFA"} {
		s.authns[name] = pw
	}
	s.registerTokenAuthenticators()
	return s
}

// Register adds an authenticator under an upper-case AUTHENTICATOR name.
func (s *Service) Register(name string, a Authenticator) { s.authns[strings.ToUpper(name)] = a }

// Login errors with Snowflake's codes and texts.
func userDisabled() *sferr.Error {
	return sferr.New("390101", "08004", "User access disabled. Contact your local system administrator.")
}

// userExpired answers a login of a user whose DAYS_TO_EXPIRY has run out.
func userExpired() *sferr.Error {
	return sferr.New("390106", "08004", "User access expired. Contact your local system administrator.")
}

func userLocked() *sferr.Error {
	return sferr.New("390102", "08004", "User temporarily locked. Contact your local system administrator or please try again later.")
}

func roleNotAuthorized(role string) *sferr.Error {
	return sferr.Newf("390189", "08004", "Role '%s' specified in the connect string does not exist or not authorized. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.", role)
}

func databaseNotAuthorized() *sferr.Error {
	return sferr.New("390201", "08004", "The requested database does not exist or not authorized.")
}

func schemaNotAuthorized() *sferr.Error {
	return sferr.New("390201", "08004", "The requested schema does not exist or not authorized.")
}

// Login authenticates req and returns the new session's identity and initial state.
// Every attempt, successful or not, is logged, counted and (when the account is known)
// recorded in LOGIN_HISTORY.
func (s *Service) Login(ctx context.Context, req *LoginRequest) (*session.Session, error) {
	start := s.now()
	authName := strings.ToUpper(req.Authenticator)
	sess, user, factor, err := s.login(ctx, req, authName)
	ok := err == nil
	s.metrics.Login(metricName(authName), ok, s.now().Sub(start))
	attrs := []any{
		slog.String("account", req.Account), slog.String("user", user),
		slog.String("authenticator", metricName(authName)), slog.String("client_ip", addrString(req)),
		slog.String("client_app", req.ClientApp), slog.String("client_version", req.ClientVersion),
		slog.Duration("duration", s.now().Sub(start)),
	}
	if err != nil {
		se := sferr.As(err)
		attrs = append(attrs, slog.String("error_code", se.Code))
		if se.Cause != nil {
			attrs = append(attrs, slog.String("cause", se.Cause.Error()))
		}
		s.log.Info("login failed", attrs...)
		return nil, se
	}
	attrs = append(attrs, slog.String("role", sess.Role), slog.String("factor", factor))
	s.log.Info("login", attrs...)
	return sess, nil
}

func metricName(a string) string {
	if a == "" {
		return "SNOWFLAKE"
	}
	return a
}

func addrString(req *LoginRequest) string {
	if req.ClientIP.IsValid() {
		return req.ClientIP.String()
	}
	return ""
}

// login does the work of Login; user is the best-known user name for logging.
func (s *Service) login(ctx context.Context, req *LoginRequest, authName string) (sess *session.Session, user, factor string, err error) {
	authn, ok := s.authns[authName]
	if !ok {
		return nil, req.LoginName, "", sferr.Newf("390100", "08004", "Incorrect username or password was specified.")
	}
	factor = authn.Factor()
	var acct *catalog.Account
	var out *Outcome
	// Answered from the store's record cache when it holds everything (fn may run twice).
	err = store.ViewCached(ctx, s.st, func(tx store.Tx) error {
		var err error
		acct, err = FindAccount(ctx, tx, req.Account)
		if err != nil {
			return err
		}
		out, err = authn.Authenticate(ctx, tx, acct, req)
		if err == nil && out != nil && out.Err == nil && req.Sessions != nil {
			// Warm the record cache with the grant generation that newSession reads in
			// the write transaction (authz.CanUseRole): a hit there keeps a SQLite point
			// read off the single writer. Only a View fills the cache.
			if _, gerr := catalog.GrantGeneration(ctx, tx, acct.Name); gerr != nil && !catalog.IsNotFound(gerr) {
				return gerr
			}
		}
		return err
	})
	if err != nil {
		if catalog.IsNotFound(err) && acct != nil && s.cfg.Ingress != nil {
			// An unknown user from an address the account's policy blocks gets the same
			// refusal a known user would, so blocked clients cannot probe for names.
			if e := s.cfg.Ingress.Enforce(ctx, acct.Name, "", req.ClientIP); e != nil {
				return nil, req.LoginName, factor, e
			}
		}
		if catalog.IsNotFound(err) {
			e := sferr.IncorrectCredentials()
			if r, ok := authn.(UnknownRefuser); ok {
				e = r.RefuseUnknown()
			}
			e.Cause = err
			return nil, req.LoginName, factor, e
		}
		return nil, req.LoginName, factor, err
	}
	user = out.User.Name
	if s.cfg.Ingress != nil {
		if e := s.cfg.Ingress.Enforce(ctx, acct.Name, user, req.ClientIP); e != nil {
			out = &Outcome{User: out.User, Err: e}
		}
	}
	now := s.now()
	// Mint the session's tokens before the write transaction, so that the session is
	// stored in the same commit as the outcome and its LOGIN_HISTORY row.
	var pending *session.Pending
	if req.Sessions != nil && out.Err == nil {
		sv, mv, idle := tokenLifetimes(acct)
		if pending, err = req.Sessions.PrepareWith(ctx, acct.Name, sv, mv, idle); err != nil {
			return nil, user, factor, err
		}
	}
	var refused *sferr.Error
	// Record the outcome, lockout state and login history in one transaction; build the
	// session from the freshly read user so a concurrent ALTER USER is seen.
	err = s.st.Update(ctx, func(tx store.Tx) error {
		u, err := catalog.GetUser(ctx, tx, acct.Name, out.User.Name)
		if err != nil {
			return sferr.IncorrectCredentials()
		}
		sess = nil // an Update fn may run again only after a failure; start clean
		refusal := out.Err
		switch {
		case refusal != nil:
		case u.Disabled:
			refusal = userDisabled()
		case u.ExpiresAt != 0 && u.ExpiresAt <= now.Unix():
			refusal = userExpired()
		case u.LockedUntil > now.Unix():
			refusal = userLocked()
		}
		if refusal == nil {
			sess, refusal = s.newSession(ctx, tx, acct, u, req, out)
		}
		changed := false // whether the user's lockout state must be written
		rec := &store.LoginRecord{
			Account: acct.Name, EventTimestamp: now, UserName: u.Name, ClientIP: addrString(req),
			ReportedClient: strings.TrimSpace(req.ClientApp + " " + req.ClientVersion), FirstFactor: factor,
			IsSuccess: refusal == nil,
		}
		if refusal != nil {
			rec.ErrorCode, rec.ErrorMessage = refusal.Code, refusal.Message
			if out.CountsFailure && out.Err != nil {
				changed = true
				u.FailedLogins++
				if u.FailedLogins >= MaxFailures {
					u.LockedUntil = now.Add(LockDuration).Unix()
					u.FailedLogins = 0
				}
			}
		} else if u.FailedLogins != 0 || u.LockedUntil != 0 || now.Unix()-u.LastSuccess >= lastSuccessResolution {
			// LAST_SUCCESS_LOGIN is kept to the minute: an unchanged user record is not
			// rewritten by every login (every record write also invalidates the store's
			// record cache). LOGIN_HISTORY has every event exactly.
			u.FailedLogins, u.LockedUntil, u.LastSuccess = 0, 0, now.Unix()
			changed = true
		}
		if changed {
			if err := catalog.PutUser(ctx, tx, acct.Name, u); err != nil {
				return err
			}
		}
		if err := tx.AppendLogin(ctx, rec); err != nil {
			return err
		}
		if sess != nil {
			sess.LoginEventID = rec.EventID
			if pending != nil {
				if err := pending.Insert(ctx, tx, sess); err != nil {
					return err
				}
			}
		}
		// A refusal still commits the counters and history; it is reported after.
		refused = refusal
		return nil
	})
	if err != nil {
		return nil, user, factor, err
	}
	if refused != nil {
		return nil, user, factor, refused
	}
	return sess, user, factor, nil
}

// newSession builds the session state for an authenticated user: role, secondary
// roles, warehouse, database and schema from the request or the user's defaults, and
// session parameters from the client.
func (s *Service) newSession(ctx context.Context, tx store.Tx, acct *catalog.Account, u *catalog.User, req *LoginRequest, out *Outcome) (*session.Session, *sferr.Error) {
	sess := &session.Session{
		Account: acct.Name, User: u.Name, UserType: userType(u), ClientApp: req.ClientApp,
		ClientVersion: req.ClientVersion, ClientIP: addrString(req), RoleRestriction: out.RoleRestriction,
		Params: map[string]string{},
	}
	if out.Err == nil {
		sess.AuthMethod = s.factorOf(req)
	}
	role := resolveIdent(req.Role)
	explicit := role != ""
	if !explicit {
		role = u.DefaultRole
	}
	if out.RoleRestriction != "" && !explicit {
		role = out.RoleRestriction
	}
	if role == "" {
		role = catalog.RolePublic
	}
	ok, err := authz.CanUseRole(ctx, tx, acct.Name, u.Name, role)
	if err != nil {
		return nil, sferr.As(err)
	}
	if out.RoleRestriction != "" && role != out.RoleRestriction {
		ok = false
	}
	if !ok {
		if explicit {
			return nil, roleNotAuthorized(role)
		}
		role = catalog.RolePublic
	}
	sess.Role = role
	if len(u.DefaultSecondaryRoles) > 0 && out.RoleRestriction == "" {
		sess.SecondaryRoles = append([]string(nil), u.DefaultSecondaryRoles...)
	}
	if wh := resolveIdent(req.Warehouse); wh != "" {
		if _, err := catalog.GetWarehouse(ctx, tx, acct.Name, wh); err == nil {
			sess.Warehouse = wh
		}
	} else if u.DefaultWarehouse != "" {
		if _, err := catalog.GetWarehouse(ctx, tx, acct.Name, u.DefaultWarehouse); err == nil {
			sess.Warehouse = u.DefaultWarehouse
		}
	}
	db, schema := resolveIdent(req.Database), resolveIdent(req.Schema)
	explicitNS := db != ""
	if !explicitNS && u.DefaultNamespace != "" {
		db, schema, _ = strings.Cut(u.DefaultNamespace, ".")
	}
	if db != "" {
		if _, err := catalog.GetDatabase(ctx, tx, acct.Name, db); err != nil {
			if explicitNS {
				return nil, databaseNotAuthorized()
			}
			db, schema = "", ""
		}
	}
	if db != "" {
		sess.Database = db
		if schema == "" {
			schema = "PUBLIC"
		}
		if _, err := catalog.GetSchema(ctx, tx, acct.Name, db, schema); err == nil {
			sess.Schema = schema
		} else if explicitNS && req.Schema != "" {
			return nil, schemaNotAuthorized()
		}
	}
	for k, v := range req.SessionParams {
		d, ok := params.Lookup(k)
		if !ok || d.Levels&params.Session == 0 {
			continue
		}
		if nv, err := d.Normalize(fmt.Sprint(v)); err == nil {
			sess.Params[d.Name] = nv
		}
	}
	return sess, nil
}

func (s *Service) factorOf(req *LoginRequest) string {
	if a, ok := s.authns[strings.ToUpper(req.Authenticator)]; ok {
		return a.Factor()
	}
	return ""
}

func userType(u *catalog.User) string {
	if u.Type == "" {
		return "PERSON"
	}
	return u.Type
}

// resolveIdent folds a name from a connect string the way Snowflake does: unquoted
// names are upper-cased, double-quoted ones kept exactly.
func resolveIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToUpper(s)
}

// FindAccount resolves an account name from a login (text before the first dot,
// case-insensitive). It returns an error wrapping catalog.ErrNotFound when no account
// matches.
func FindAccount(ctx context.Context, tx store.Tx, name string) (*catalog.Account, error) {
	name, _, _ = strings.Cut(strings.TrimSpace(name), ".")
	if name == "" {
		return nil, fmt.Errorf("empty account: %w", catalog.ErrNotFound)
	}
	if a, err := catalog.GetAccount(ctx, tx, strings.ToUpper(name)); err == nil {
		return a, nil
	} else if !catalog.IsNotFound(err) {
		return nil, err
	}
	all, err := catalog.ListAccounts(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if strings.EqualFold(a.Name, name) {
			return a, nil
		}
	}
	return nil, fmt.Errorf("account %q: %w", name, catalog.ErrNotFound)
}
