// Package store persists firn's state: catalog objects, sessions, and history.
//
// The Store interface is all callers see. The embedded implementation (sqlite.go) uses
// modernc.org/sqlite in WAL mode with synchronous=FULL; a PostgreSQL implementation can
// fill the same interface. Every statement runs in exactly one Update transaction, so a
// failure leaves nothing half-written. The store knows nothing of objects' rules: it
// keeps records keyed by account, kind, parent and name, with a JSON body the catalog owns.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by Tx methods.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
)

// Store is a transactional persistence backend.
type Store interface {
	// Update runs fn in a read-write transaction, committed only if fn returns nil.
	// Commits are durable (fsynced) before Update returns.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Key names one catalog record. Account is the owning account's name ("" only for
// ACCOUNT records themselves); Kind is the upper-case object kind ("ACCOUNT", "USER",
// "ROLE", "WAREHOUSE", "DATABASE", "SCHEMA", ...); Parent is "" for account-level
// objects, "DB" for schemas and "DB.SCHEMA" for schema-level objects (each part in
// its stored, case-exact form); Name is the object's case-exact name.
type Key struct {
	Account string
	Kind    string
	Parent  string
	Name    string
}

// Record is one stored catalog object.
type Record struct {
	Key
	ID       int64     // unique per store, assigned on Insert when zero
	Owner    string    // owning role name ("" if none)
	Created  time.Time // set on Insert when zero
	Modified time.Time // set on every Insert/Put
	Data     []byte    // JSON body owned by the catalog
}

// Session is a persisted login session. Tokens are stored only as SHA-256 hashes.
type Session struct {
	ID           int64
	Account      string
	TokenHash    []byte
	MasterHash   []byte
	TokenExpiry  time.Time
	MasterExpiry time.Time
	LastUsed     time.Time
	Created      time.Time
	// IdleTimeout ends the session once it has not been used for that long; zero
	// means only MasterExpiry ends it.
	IdleTimeout time.Duration
	Data        []byte // JSON body owned by package session (user, role, params, ...)
}

// Ends is when the session ends unless it is used again: its master token's expiry,
// or LastUsed plus IdleTimeout if that is earlier.
func (s *Session) Ends() time.Time {
	if s.IdleTimeout > 0 {
		if idle := s.LastUsed.Add(s.IdleTimeout); idle.Before(s.MasterExpiry) {
			return idle
		}
	}
	return s.MasterExpiry
}

// QueryRecord is one row of query history.
type QueryRecord struct {
	QueryID       string
	Account       string
	SessionID     int64
	QueryText     string
	QueryType     string
	UserName      string
	UserType      string
	RoleName      string
	WarehouseName string
	DatabaseName  string
	SchemaName    string
	Status        string // SUCCESS, FAILED_WITH_ERROR, RUNNING, ABORTED
	ErrorCode     string
	ErrorMessage  string
	StartTime     time.Time
	EndTime       time.Time
	RowsProduced  int64
}

// LoginRecord is one row of login history.
type LoginRecord struct {
	EventID        int64 // assigned on append when zero
	Account        string
	EventTimestamp time.Time
	UserName       string
	ClientIP       string
	ReportedClient string // e.g. "Go 1.19.1"
	FirstFactor    string // PASSWORD, RSA_KEYPAIR, OAUTH_ACCESS_TOKEN, PROGRAMMATIC_ACCESS_TOKEN
	IsSuccess      bool
	ErrorCode      string
	ErrorMessage   string
	ConnectionID   int64
}

// Tx is one transaction. Methods return ErrNotFound/ErrExists (possibly wrapped) as
// documented; other errors are I/O failures.
type Tx interface {
	// Get returns the record with key k, or ErrNotFound.
	Get(ctx context.Context, k Key) (*Record, error)
	// Insert adds r, or returns ErrExists if its key is taken. It fills r.ID,
	// r.Created and r.Modified when zero.
	Insert(ctx context.Context, r *Record) error
	// Put replaces the record with r's key (by key; ID and Created are kept), or
	// returns ErrNotFound.
	Put(ctx context.Context, r *Record) error
	// Rename moves a record to a new key within the same account and kind, keeping its
	// ID. ErrNotFound if from is missing, ErrExists if to is taken.
	Rename(ctx context.Context, from, to Key) error
	// Delete removes the record with key k, or returns ErrNotFound.
	Delete(ctx context.Context, k Key) error
	// List returns the records of one account and kind under parent, ordered by name.
	// parent "*" lists every parent.
	List(ctx context.Context, account, kind, parent string) ([]*Record, error)
	// DeleteUnder removes every record of account whose Parent equals parent or starts
	// with parent+"." (all kinds): used to drop a database's schemas and their objects.
	// It returns the number removed.
	DeleteUnder(ctx context.Context, account, parent string) (int, error)
	// DeleteAccount removes every record, session and history row of an account.
	DeleteAccount(ctx context.Context, account string) error

	// CreateSession inserts s, assigning s.ID when zero.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID finds a session by its id, or ErrNotFound. Tokens carry their
	// session's id; the caller compares the token's hash with the stored one.
	SessionByID(ctx context.Context, id int64) (*Session, error)
	// UpdateSession replaces the session with s.ID, or returns ErrNotFound.
	UpdateSession(ctx context.Context, s *Session) error
	// DeleteSession removes a session, or returns ErrNotFound.
	DeleteSession(ctx context.Context, id int64) error
	// Sessions returns the sessions of an account (matched case-insensitively), or of
	// every account when account is "", ordered by id.
	Sessions(ctx context.Context, account string) ([]*Session, error)
	// DeleteExpiredSessions removes sessions that ended (Session.Ends) before t: their
	// master token expired, or they were idle for longer than their IdleTimeout.
	DeleteExpiredSessions(ctx context.Context, t time.Time) (int, error)

	// AppendQuery inserts or replaces (by QueryID) a query-history row.
	AppendQuery(ctx context.Context, q *QueryRecord) error
	// Queries returns an account's query history, newest first, at most limit rows.
	Queries(ctx context.Context, account string, limit int) ([]*QueryRecord, error)
	// AppendLogin inserts a login-history row, assigning EventID when zero.
	AppendLogin(ctx context.Context, l *LoginRecord) error
	// Logins returns an account's login history, newest first, at most limit rows.
	Logins(ctx context.Context, account string, limit int) ([]*LoginRecord, error)

	// NextSequence returns the next value of a named counter (starting at 1).
	NextSequence(ctx context.Context, name string) (int64, error)
}
