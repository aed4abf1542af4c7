package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CredsAuditRecord is one row of the credential broker's audit trail (table
// creds_audit): who asked for which secret through which workload, the outcome and
// the expiry of what was issued; Count identical events between EventTime and
// LastTime. It never holds a credential value.
type CredsAuditRecord struct {
	ID          int64     `json:"id"` // assigned by the store when zero
	Account     string    `json:"account"`
	EventTime   time.Time `json:"event_time"`  // the first occurrence
	LastTime    time.Time `json:"last_time"`   // the last occurrence
	Count       int64     `json:"count"`       // occurrences; 0 is stored as 1
	Role        string    `json:"role"`        // the workload's owner role
	Workload    string    `json:"workload"`    // e.g. "FUNCTION DB.SCH.F"
	Secret      string    `json:"secret"`      // DB.SCH.NAME
	SecretType  string    `json:"secret_type"` // PASSWORD, GENERIC_STRING, OAUTH2, CLOUD_PROVIDER_TOKEN, ...
	Integration string    `json:"integration"` // the external access integration that allowed it ("" if none did)
	Outcome     string    `json:"outcome"`     // ISSUED, DENIED, FAILED or ROTATED
	Source      string    `json:"source"`      // STORE, CACHE or UPSTREAM ("" when not issued)
	Reason      string    `json:"reason"`      // why it was denied or failed
	ExpiresAt   time.Time `json:"expires_at"`  // zero: does not expire
}

// CredsAuditTx is implemented by the transactions of stores that keep the credential
// audit trail (the SQLite store does). It is separate from Tx so that stores and test
// doubles without the table need not implement it; callers type-assert.
type CredsAuditTx interface {
	// AppendCredsAudit inserts rows (IDs of zero are assigned by the store and not
	// reported back).
	AppendCredsAudit(ctx context.Context, recs ...*CredsAuditRecord) error
	// CredsAudit returns an account's rows (every account's when account is ""),
	// newest (by LastTime) first, at most limit rows (limit <= 0: no limit).
	CredsAudit(ctx context.Context, account string, limit int) ([]*CredsAuditRecord, error)
}

var _ CredsAuditTx = (*sqliteTx)(nil)

const credsAuditCols = `id, account, event_time, last_time, count, role_name, workload, secret_name, secret_type,
	integration, outcome, source, reason, expires_at`

// credsAuditChunk is how many rows one multi-row INSERT carries (14 columns each,
// well under SQLite's 32766 bound variables); the rest go one statement per row.
// Both statement texts are fixed, so both stay prepared in the statement cache.
const credsAuditChunk = 64

var (
	credsAuditInsert1     = `INSERT INTO creds_audit (` + credsAuditCols + `) VALUES ` + credsAuditTuple
	credsAuditInsertChunk = `INSERT INTO creds_audit (` + credsAuditCols + `) VALUES ` +
		strings.Repeat(credsAuditTuple+",", credsAuditChunk-1) + credsAuditTuple
)

const credsAuditTuple = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AppendCredsAudit implements CredsAuditTx.
func (t *sqliteTx) AppendCredsAudit(ctx context.Context, recs ...*CredsAuditRecord) error {
	args := make([]any, 0, 14*min(len(recs), credsAuditChunk))
	for len(recs) > 0 {
		q, n := credsAuditInsert1, 1
		if len(recs) >= credsAuditChunk {
			q, n = credsAuditInsertChunk, credsAuditChunk
		}
		args = args[:0]
		for _, r := range recs[:n] {
			var id any
			if r.ID != 0 {
				id = r.ID
			}
			last, count := r.LastTime, max(r.Count, 1)
			if last.IsZero() {
				last = r.EventTime
			}
			args = append(args, id, r.Account, nanos(r.EventTime), nanos(last), count, r.Role, r.Workload, r.Secret, r.SecretType,
				r.Integration, r.Outcome, r.Source, r.Reason, nanos(r.ExpiresAt))
		}
		recs = recs[n:]
		_, err := t.exec(ctx, q, args...)
		if isConstraint(err) {
			return fmt.Errorf("append creds audit: %w", ErrExists)
		}
		if err != nil {
			return fmt.Errorf("store: append creds audit: %w", err)
		}
	}
	return nil
}

// CredsAudit implements CredsAuditTx.
func (t *sqliteTx) CredsAudit(ctx context.Context, account string, limit int) ([]*CredsAuditRecord, error) {
	q := `SELECT ` + credsAuditCols + ` FROM creds_audit WHERE account = ?
		ORDER BY last_time DESC, id DESC LIMIT ?`
	args := []any{account, sqlLimit(limit)}
	if account == "" {
		q = `SELECT ` + credsAuditCols + ` FROM creds_audit ORDER BY last_time DESC, id DESC LIMIT ?`
		args = args[1:]
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: creds audit of %q: %w", account, err)
	}
	defer rows.Close()
	var out []*CredsAuditRecord
	for rows.Next() {
		var r CredsAuditRecord
		var ts, last, exp int64
		err := rows.Scan(&r.ID, &r.Account, &ts, &last, &r.Count, &r.Role, &r.Workload, &r.Secret, &r.SecretType,
			&r.Integration, &r.Outcome, &r.Source, &r.Reason, &exp)
		if err != nil {
			return nil, fmt.Errorf("store: creds audit of %q: %w", account, err)
		}
		r.EventTime, r.LastTime, r.ExpiresAt = fromNanos(ts), fromNanos(last), fromNanos(exp)
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: creds audit of %q: %w", account, err)
	}
	return out, nil
}
