package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/firn/firn/internal/store"
)

// KindPasswordReset is the kind of the records behind ALTER USER … RESET PASSWORD
// links: one per outstanding link, keyed by the lookup id carried in the link's
// token (Parent is empty), so a reset request finds its record in O(1).
const KindPasswordReset = "PASSWORD_RESET"

// PasswordReset is an outstanding one-time password reset link of a user. The token
// itself is never stored: only its SHA-256 hash and the lookup id embedded in it.
// A user has at most one: issuing a new link deletes the older ones.
type PasswordReset struct {
	ID   string `json:"id"`   // lookup id carried in the token
	User string `json:"user"` // user name at issue
	// UserID is the store id of the user's record at issue: a link never outlives the
	// user it was issued for, even if a new user of the same name appears.
	UserID    int64     `json:"user_id"`
	Hash      []byte    `json:"hash"` // SHA-256 of the whole token
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"` // the user who ran RESET PASSWORD
}

func passwordResetKey(account, id string) store.Key {
	return store.Key{Account: account, Kind: KindPasswordReset, Name: id}
}

// GetPasswordReset returns the reset link record with lookup id, or ErrNotFound.
func GetPasswordReset(ctx context.Context, tx store.Tx, account, id string) (*PasswordReset, error) {
	var p PasswordReset
	if _, err := load(ctx, tx, passwordResetKey(account, id), &p); err != nil {
		return nil, err
	}
	if p.ID != id {
		return nil, fmt.Errorf("password reset %q: %w", id, ErrNotFound)
	}
	return &p, nil
}

// CreatePasswordReset stores p after deleting the user's older links and every
// expired link of the account (at now), so a new link invalidates the previous one.
func CreatePasswordReset(ctx context.Context, tx store.Tx, account string, p *PasswordReset, now time.Time) error {
	if err := deletePasswordResets(ctx, tx, account, func(o *PasswordReset) bool {
		return o.User == p.User || !now.Before(o.ExpiresAt)
	}); err != nil {
		return err
	}
	if _, err := insert(ctx, tx, passwordResetKey(account, p.ID), "", p); err != nil {
		return fmt.Errorf("catalog: store password reset of user %s: %w", p.User, err)
	}
	return nil
}

// DeletePasswordReset removes one link record (its link stops working at once).
func DeletePasswordReset(ctx context.Context, tx store.Tx, account, id string) error {
	if err := tx.Delete(ctx, passwordResetKey(account, id)); err != nil && !IsNotFound(err) {
		return fmt.Errorf("catalog: delete password reset: %w", err)
	}
	return nil
}

// DeleteUserPasswordResets removes every outstanding reset link of a user: its
// password was set, or the user was renamed or dropped.
func DeleteUserPasswordResets(ctx context.Context, tx store.Tx, account, user string) error {
	return deletePasswordResets(ctx, tx, account, func(o *PasswordReset) bool { return o.User == user })
}

// deletePasswordResets removes the account's reset link records that match.
func deletePasswordResets(ctx context.Context, tx store.Tx, account string, match func(*PasswordReset) bool) error {
	ps, _, err := list[PasswordReset](ctx, tx, account, KindPasswordReset, "")
	if err != nil {
		return fmt.Errorf("catalog: list password resets: %w", err)
	}
	for _, p := range ps {
		if match(p) {
			if err := DeletePasswordReset(ctx, tx, account, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
