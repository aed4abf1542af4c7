package session

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Default token lifetimes, used when Config.Validity is nil or returns zero.
const (
	DefaultSessionValidity = time.Hour
	DefaultMasterValidity  = 4 * time.Hour
	DefaultIdleTimeout     = 4 * time.Hour
)

// touchInterval is how stale LastUsed may get before Authenticate writes it back, so
// that busy sessions do not cost a store write per request.
const touchInterval = time.Minute

// Token prefixes make the two kinds recognisable in logs and bug reports. A token is
// its prefix, its session's id in decimal, a dot and 256 random bits in unpadded
// base64url: "ST-42.3q2-…". The store keeps only the SHA-256 of the random part and
// finds the session by its id, so no index over token hashes is needed.
const (
	sessionPrefix = "ST-"
	masterPrefix  = "MT-"
)

// maxTokenLen bounds what parseToken looks at: a prefix, an int64 and 43 characters.
const maxTokenLen = 3 + 19 + 1 + 43

// Config configures a Manager.
type Config struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Validity returns the lifetimes for new tokens of an account: the session token's,
	// the master token's and the idle timeout. Nil, or a zero duration, means the
	// defaults (1h, 4h, 4h).
	Validity func(ctx context.Context, account string) (session, master, idle time.Duration)
}

// Manager creates, authenticates, renews and ends sessions. All state lives in the
// store, so several Managers (replicas) can serve the same sessions. It is safe for
// concurrent use.
type Manager struct {
	st       store.Store
	now      func() time.Time
	validity func(ctx context.Context, account string) (session, master, idle time.Duration)
}

// NewManager returns a Manager keeping sessions in st.
func NewManager(st store.Store, cfg Config) *Manager {
	m := &Manager{st: st, now: cfg.Now, validity: cfg.Validity}
	if m.now == nil {
		m.now = time.Now
	}
	return m
}

// record is the JSON body stored in store.Session.Data.
type record struct {
	*Session
	// IdleTimeout is fixed when the session is created or renewed.
	IdleTimeout time.Duration `json:"idle_timeout_ns"`
}

func (m *Manager) lifetimes(ctx context.Context, account string) (sv, mv, idle time.Duration) {
	if m.validity != nil {
		sv, mv, idle = m.validity(ctx, account)
	}
	if sv <= 0 {
		sv = DefaultSessionValidity
	}
	if mv <= 0 {
		mv = DefaultMasterValidity
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return sv, mv, idle
}

// newSecret returns a token's random part and its SHA-256 hash.
func newSecret() (string, []byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("session: random token: %w", err)
	}
	s := base64.RawURLEncoding.EncodeToString(b[:])
	return s, hashSecret(s), nil
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// formatToken is the token of session id with the given prefix and random part.
func formatToken(prefix string, id int64, secret string) string {
	return prefix + strconv.FormatInt(id, 10) + "." + secret
}

// parseToken splits a token with the given prefix into its session id and the hash
// of its random part; ok is false for anything not shaped like a token.
func parseToken(prefix, t string) (id int64, hash []byte, ok bool) {
	if len(t) > maxTokenLen || !strings.HasPrefix(t, prefix) {
		return 0, nil, false
	}
	digits, secret, found := strings.Cut(t[len(prefix):], ".")
	if !found || digits == "" || digits[0] < '1' || digits[0] > '9' || secret == "" {
		return 0, nil, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, nil, false
	}
	return id, hashSecret(secret), true
}

// sameHash compares two token hashes in constant time.
func sameHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Create stores a new session for s (whose identity and initial state the caller has
// filled in) and returns its tokens. It sets s.ID, s.Created, s.LastUsed, s.TokenExpiry
// and s.MasterExpiry.
func (m *Manager) Create(ctx context.Context, s *Session) (Tokens, error) {
	p, err := m.Prepare(ctx, s.Account)
	if err != nil {
		return Tokens{}, err
	}
	if err := m.st.Update(ctx, func(tx store.Tx) error {
		return p.Insert(ctx, tx, s)
	}); err != nil {
		return Tokens{}, err
	}
	tok, _ := s.IssuedTokens()
	return tok, nil
}

// Pending is a session's random token parts and lifetimes, minted outside any
// transaction so that the session can be stored inside another one (the login's).
// The tokens themselves also carry the session's id, known once it is stored.
type Pending struct {
	st, mt       string // random parts
	sh, mh       []byte // their hashes
	sv, mv, idle time.Duration
	now          time.Time
}

// Prepare mints the tokens and reads the lifetimes of a new session of account. Nothing
// is stored until Insert.
func (m *Manager) Prepare(ctx context.Context, account string) (*Pending, error) {
	return m.PrepareWith(ctx, account, 0, 0, 0)
}

// PrepareWith is Prepare with lifetimes the caller has already read (the login has
// the account record at hand); a zero duration is taken from Config.Validity, or the
// default.
func (m *Manager) PrepareWith(ctx context.Context, account string, sv, mv, idle time.Duration) (*Pending, error) {
	now := m.now()
	if sv <= 0 || mv <= 0 || idle <= 0 {
		csv, cmv, cidle := m.lifetimes(ctx, account)
		sv, mv, idle = cmp.Or(sv, csv), cmp.Or(mv, cmv), cmp.Or(idle, cidle)
	}
	if sv > mv {
		sv = mv
	}
	st, sh, err := newSecret()
	if err != nil {
		return nil, err
	}
	mt, mh, err := newSecret()
	if err != nil {
		return nil, err
	}
	return &Pending{st: st, mt: mt, sh: sh, mh: mh, sv: sv, mv: mv, idle: idle, now: now}, nil
}

// Insert stores s as a new session with p's tokens in tx, the caller's transaction. It
// sets s.ID, s.Created, s.LastUsed, s.TokenExpiry and s.MasterExpiry, and makes the
// tokens available through s.IssuedTokens once tx commits. A Pending is used once.
func (p *Pending) Insert(ctx context.Context, tx store.Tx, s *Session) error {
	if p.sh == nil {
		return errors.New("session: create: pending session used twice")
	}
	now := p.now
	s.Created, s.LastUsed = now, now
	s.TokenExpiry, s.MasterExpiry = now.Add(p.sv), now.Add(p.mv)
	data, err := json.Marshal(record{Session: s, IdleTimeout: p.idle})
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	rec := &store.Session{
		Account:      s.Account,
		TokenHash:    p.sh,
		MasterHash:   p.mh,
		TokenExpiry:  s.TokenExpiry,
		MasterExpiry: s.MasterExpiry,
		LastUsed:     now,
		Created:      now,
		IdleTimeout:  p.idle,
		Data:         data,
	}
	if err := tx.CreateSession(ctx, rec); err != nil {
		return fmt.Errorf("session: create: %w", err)
	}
	if rec.ID <= 0 {
		return fmt.Errorf("session: create: store assigned invalid id %d", rec.ID)
	}
	s.ID = rec.ID
	s.masterHash = p.mh
	s.issued = &Tokens{
		SessionToken:    formatToken(sessionPrefix, rec.ID, p.st),
		MasterToken:     formatToken(masterPrefix, rec.ID, p.mt),
		SessionValidity: p.sv,
		MasterValidity:  p.mv,
	}
	p.sh = nil
	return nil
}

// IssuedTokens returns the tokens of a session stored with Pending.Insert, and false
// for a session that has not been stored that way (the caller then uses Create).
func (s *Session) IssuedTokens() (Tokens, bool) {
	if s.issued == nil {
		return Tokens{}, false
	}
	return *s.issued, true
}

// decode rebuilds a Session from its stored form.
func decode(rec *store.Session) (*Session, time.Duration, error) {
	s := &Session{}
	r := record{Session: s}
	if err := json.Unmarshal(rec.Data, &r); err != nil {
		return nil, 0, fmt.Errorf("session %d: decode: %w", rec.ID, err)
	}
	s.ID = rec.ID
	s.Account = rec.Account
	s.Created = rec.Created
	s.LastUsed = rec.LastUsed
	s.TokenExpiry = rec.TokenExpiry
	s.MasterExpiry = rec.MasterExpiry
	s.masterHash = rec.MasterHash
	idle := rec.IdleTimeout
	if idle <= 0 {
		idle = r.IdleTimeout
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return s, idle, nil
}

// Authenticate returns the session a session token belongs to. An unknown token gives
// sferr.InvalidToken (390104); an expired one, or a session idle for longer than its
// idle timeout (which ends it), gives sferr.SessionExpired (390112).
func (m *Manager) Authenticate(ctx context.Context, sessionToken string) (*Session, error) {
	id, hash, ok := parseToken(sessionPrefix, sessionToken)
	if !ok {
		return nil, sferr.InvalidToken()
	}
	var rec *store.Session
	err := m.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.SessionByID(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, sferr.InvalidToken()
	}
	if err != nil {
		return nil, fmt.Errorf("session: authenticate: %w", err)
	}
	if !sameHash(rec.TokenHash, hash) {
		return nil, sferr.InvalidToken()
	}
	s, idle, err := decode(rec)
	if err != nil {
		return nil, err
	}
	now := m.now()
	if now.Sub(s.LastUsed) > idle {
		if err := m.delete(ctx, s.ID); err != nil {
			return nil, err
		}
		return nil, sferr.SessionExpired()
	}
	if !now.Before(s.TokenExpiry) {
		return nil, sferr.SessionExpired()
	}
	if now.Sub(s.LastUsed) >= touchInterval {
		err := m.st.Update(ctx, func(tx store.Tx) error {
			cur, err := tx.SessionByID(ctx, id)
			if err != nil {
				return err
			}
			if !sameHash(cur.TokenHash, hash) {
				return store.ErrNotFound
			}
			cur.LastUsed = now
			return tx.UpdateSession(ctx, cur)
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Renewed or closed meanwhile.
			return nil, sferr.InvalidToken()
		case err != nil:
			return nil, fmt.Errorf("session: touch: %w", err)
		}
		s.LastUsed = now
	}
	return s, nil
}

// Renew issues a new session token for the session that masterToken belongs to. If
// oldSessionToken is not empty it must be that session's current token. The old token
// stops working at once. The returned Tokens carry the same master token and its
// remaining validity. Errors: unknown master token or mismatched old token 390104,
// expired master token (or a session idle too long) 390114.
func (m *Manager) Renew(ctx context.Context, masterToken, oldSessionToken string) (*Session, Tokens, error) {
	return m.RenewIf(ctx, masterToken, oldSessionToken, nil)
}

// RenewIf is Renew with a last check on the session before its token is replaced
// (e.g. that the request comes from an address its network policy allows): when
// check returns an error, that error is the answer and the current tokens keep
// working, so a refused renewal does not end the session.
func (m *Manager) RenewIf(ctx context.Context, masterToken, oldSessionToken string, check func(*Session) error) (*Session, Tokens, error) {
	id, mh, ok := parseToken(masterPrefix, masterToken)
	if !ok {
		return nil, Tokens{}, sferr.InvalidToken()
	}
	now := m.now()
	st, sh, err := newSecret()
	if err != nil {
		return nil, Tokens{}, err
	}
	var (
		s       *Session
		sv      time.Duration
		outcome error // a client-facing error decided inside the transaction
		expired bool  // the session must be deleted
	)
	err = m.st.Update(ctx, func(tx store.Tx) error {
		rec, err := tx.SessionByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			outcome = sferr.InvalidToken()
			return nil
		}
		if err != nil {
			return err
		}
		if !sameHash(rec.MasterHash, mh) {
			outcome = sferr.InvalidToken()
			return nil
		}
		var idle time.Duration
		s, idle, err = decode(rec)
		if err != nil {
			return err
		}
		if !now.Before(rec.MasterExpiry) || now.Sub(rec.LastUsed) > idle {
			outcome, expired = sferr.MasterExpired(), true
			return nil
		}
		if oldSessionToken != "" {
			oid, oh, ok := parseToken(sessionPrefix, oldSessionToken)
			if !ok || oid != rec.ID || !sameHash(oh, rec.TokenHash) {
				outcome = sferr.InvalidToken()
				return nil
			}
		}
		if check != nil {
			if err := check(s); err != nil {
				outcome = err
				return nil
			}
		}
		var nidle time.Duration
		sv, _, nidle = m.lifetimes(ctx, rec.Account)
		exp := now.Add(sv)
		if exp.After(rec.MasterExpiry) {
			exp = rec.MasterExpiry
		}
		sv = exp.Sub(now)
		if nidle != idle {
			data, err := json.Marshal(record{Session: s, IdleTimeout: nidle})
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			rec.Data = data
		}
		rec.TokenHash = sh
		rec.TokenExpiry = exp
		rec.LastUsed = now
		rec.IdleTimeout = nidle
		s.TokenExpiry, s.LastUsed = exp, now
		return tx.UpdateSession(ctx, rec)
	})
	if err != nil {
		return nil, Tokens{}, fmt.Errorf("session: renew: %w", err)
	}
	if expired {
		if err := m.delete(ctx, s.ID); err != nil {
			return nil, Tokens{}, err
		}
	}
	if outcome != nil {
		return nil, Tokens{}, outcome
	}
	return s, Tokens{
		SessionToken:    formatToken(sessionPrefix, s.ID, st),
		MasterToken:     masterToken,
		SessionValidity: sv,
		MasterValidity:  s.MasterExpiry.Sub(now),
	}, nil
}

// Save persists s's state (role, database, parameters, ...) as changed by a statement.
// Tokens, expiries and LastUsed are left as stored, so a concurrent renewal is kept.
// Saving a session that has ended gives sferr.SessionGone.
func (m *Manager) Save(ctx context.Context, s *Session) error {
	if s.masterHash == nil {
		return fmt.Errorf("session: save %d: session was not issued by a Manager", s.ID)
	}
	err := m.st.Update(ctx, func(tx store.Tx) error {
		rec, err := tx.SessionByID(ctx, s.ID)
		if err != nil {
			return err
		}
		if !sameHash(rec.MasterHash, s.masterHash) {
			return store.ErrNotFound
		}
		_, idle, err := decode(rec)
		if err != nil {
			return err
		}
		data, err := json.Marshal(record{Session: s, IdleTimeout: idle})
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		rec.Data = data
		return tx.UpdateSession(ctx, rec)
	})
	if errors.Is(err, store.ErrNotFound) {
		return sferr.SessionGone()
	}
	if err != nil {
		return fmt.Errorf("session: save %d: %w", s.ID, err)
	}
	return nil
}

// Close ends s. Closing a session that has already ended is not an error.
func (m *Manager) Close(ctx context.Context, s *Session) error {
	return m.delete(ctx, s.ID)
}

func (m *Manager) delete(ctx context.Context, id int64) error {
	err := m.st.Update(ctx, func(tx store.Tx) error {
		return tx.DeleteSession(ctx, id)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("session: delete %d: %w", id, err)
	}
	return nil
}

// CloseUser ends every session of a user (matched case-insensitively) and returns how
// many it ended.
func (m *Manager) CloseUser(ctx context.Context, account, user string) (int, error) {
	n := 0
	err := m.st.Update(ctx, func(tx store.Tx) error {
		n = 0
		recs, err := tx.Sessions(ctx, account)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			s, _, err := decode(rec)
			if err != nil {
				return err
			}
			if !strings.EqualFold(s.User, user) || !strings.EqualFold(rec.Account, account) {
				continue
			}
			if err := tx.DeleteSession(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("session: close sessions of %s.%s: %w", account, user, err)
	}
	return n, nil
}

// Sweep deletes the sessions that have ended: their master token expired, or they
// were idle for longer than their idle timeout. It returns how many it deleted. The
// store keeps each session's end in an indexed column, so a sweep costs the ended
// sessions, not all of them.
func (m *Manager) Sweep(ctx context.Context) (int, error) {
	now := m.now()
	n := 0
	err := m.st.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessions(ctx, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("session: sweep: %w", err)
	}
	return n, nil
}
