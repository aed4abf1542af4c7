package exec

// ALTER USER … RESET PASSWORD: a one-time link the administrator hands to the user,
// who opens it and chooses a new password (completed by package wire's
// /firn/password-reset endpoint through RedeemPasswordReset).

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/firn/firn/internal/auth"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/store"
)

// PasswordResetValidity is how long a RESET PASSWORD link stays usable.
const PasswordResetValidity = 4 * time.Hour

// PasswordResetPath is the path of the page a RESET PASSWORD link opens.
const PasswordResetPath = "/firn/password-reset"

// Reset tokens are lookup secrets (auth.NewLookupSecret) with the prefix "firnpwr_":
// a 96-bit random lookup id naming the stored record and a 256-bit random key. Only
// SHA-256 of the whole token is stored.
const resetPrefix = "firnpwr_"

// ErrPasswordResetInvalid is the one answer for a reset token that is malformed,
// unknown, already used, superseded or expired, or whose user is gone or cannot have
// a password: nothing tells these cases apart.
var ErrPasswordResetInvalid = errors.New("exec: password reset link is invalid or has expired")

// newResetToken returns a fresh reset token, its lookup id and the hash to store.
func newResetToken() (token, id string, hash []byte, err error) {
	return auth.NewLookupSecret(resetPrefix)
}

// parseResetToken returns the lookup id of a well-formed reset token.
func parseResetToken(token string) (id string, ok bool) {
	return auth.ParseLookupSecret(resetPrefix, token)
}

type baseURLKey struct{}

// WithBaseURL returns ctx carrying the scheme and host ("http://127.0.0.1:8765") the
// statement's request came to; RESET PASSWORD links start with it.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, base)
}

// resetLink is the URL of the reset page for token of account; without a base URL in
// ctx it is a path only.
func resetLink(ctx context.Context, account, token string) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	q := url.Values{"account": {account}, "token": {token}}
	return strings.TrimSuffix(base, "/") + PasswordResetPath + "?" + q.Encode()
}

// oneShot holds result sets that are shown once: they reach the client that ran the
// statement but are not kept for RESULT_SCAN (record takes them out again).
var oneShot sync.Map // *result.Set → struct{}

func markOneShot(set *result.Set) { oneShot.Store(set, struct{}{}) }

// takeOneShot reports whether set was marked one-shot, forgetting the mark.
func takeOneShot(set *result.Set) bool {
	if set == nil {
		return false
	}
	_, ok := oneShot.LoadAndDelete(set)
	return ok
}

// issuePasswordReset stores a reset link for u (replacing any older one) inside the
// ALTER USER transaction and returns the statement's result: one row, column status,
// "<USER>'s password reset link: <url>". The token was minted before the transaction;
// the caller marks the result one-shot once the transaction committed.
func (e *Engine) issuePasswordReset(ctx context.Context, tx store.Tx, s *session.Session, u *catalog.User, token, id string, hash []byte) (*result.Set, error) {
	now := e.now()
	p := &catalog.PasswordReset{ID: id, User: u.Name, UserID: u.Meta.ID, Hash: hash,
		ExpiresAt: now.Add(PasswordResetValidity), CreatedAt: now, CreatedBy: s.User}
	if err := catalog.CreatePasswordReset(ctx, tx, s.Account, p, now); err != nil {
		return nil, err
	}
	return result.Status(result.DDL, fmt.Sprintf("%s's password reset link: %s", u.Name, resetLink(ctx, s.Account, token))), nil
}

// checkPasswordReset resolves a reset token of account inside tx: the account (by its
// canonical name), the link record and its user. Every way of being invalid answers
// ErrPasswordResetInvalid.
func (e *Engine) checkPasswordReset(ctx context.Context, tx store.Tx, account, token string) (string, *catalog.PasswordReset, *catalog.User, error) {
	id, ok := parseResetToken(token)
	if !ok {
		return "", nil, nil, ErrPasswordResetInvalid
	}
	a, err := auth.FindAccount(ctx, tx, account)
	if catalog.IsNotFound(err) {
		return "", nil, nil, ErrPasswordResetInvalid
	} else if err != nil {
		return "", nil, nil, err
	}
	p, err := catalog.GetPasswordReset(ctx, tx, a.Name, id)
	if catalog.IsNotFound(err) {
		return "", nil, nil, ErrPasswordResetInvalid
	} else if err != nil {
		return "", nil, nil, err
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(h[:], p.Hash) != 1 || !e.now().Before(p.ExpiresAt) {
		return "", nil, nil, ErrPasswordResetInvalid
	}
	u, err := catalog.GetUser(ctx, tx, a.Name, p.User)
	if catalog.IsNotFound(err) {
		return "", nil, nil, ErrPasswordResetInvalid
	} else if err != nil {
		return "", nil, nil, err
	}
	if u.Meta.ID != p.UserID || u.Type == userService {
		return "", nil, nil, ErrPasswordResetInvalid
	}
	return a.Name, p, u, nil
}

// PasswordResetUser returns the account (canonical name) and user a valid reset token
// of account is for, so that the caller can apply the user's network policy before
// showing the reset form or accepting a new password. An unusable token answers
// ErrPasswordResetInvalid.
func (e *Engine) PasswordResetUser(ctx context.Context, account, token string) (acct, user string, err error) {
	err = e.cfg.Store.View(ctx, func(tx store.Tx) error {
		a, _, u, err := e.checkPasswordReset(ctx, tx, account, token)
		if err != nil {
			return err
		}
		acct, user = a, u.Name
		return nil
	})
	if err != nil && !errors.Is(err, ErrPasswordResetInvalid) {
		err = fmt.Errorf("exec: check password reset: %w", err)
	}
	return acct, user, err
}

// RedeemPasswordReset completes a reset: it sets the user's password to password
// (checked against the password policy that SET PASSWORD applies; a refusal is
// 003002 and leaves the link usable), clears MUST_CHANGE_PASSWORD and any lockout,
// and burns the link, all in one transaction. An unusable token answers
// ErrPasswordResetInvalid. It returns the account and user whose password changed.
func (e *Engine) RedeemPasswordReset(ctx context.Context, account, token, password string) (acct, user string, err error) {
	// The cheap checks first, so that no argon2id work is done for a bad link.
	if _, _, err := e.PasswordResetUser(ctx, account, token); err != nil {
		return "", "", err
	}
	if err := passwordPolicy(password); err != nil {
		return "", "", err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return "", "", err
	}
	err = e.cfg.Store.Update(ctx, func(tx store.Tx) error {
		a, _, u, err := e.checkPasswordReset(ctx, tx, account, token)
		if err != nil {
			return err
		}
		u.PasswordHash, u.PasswordSet = hash, e.now().Unix()
		u.MustChangePassword, u.FailedLogins, u.LockedUntil = false, 0, 0
		if err := catalog.PutUser(ctx, tx, a, u); err != nil {
			return err
		}
		if err := catalog.DeleteUserPasswordResets(ctx, tx, a, u.Name); err != nil {
			return err
		}
		acct, user = a, u.Name
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrPasswordResetInvalid) {
			err = fmt.Errorf("exec: redeem password reset: %w", err)
		}
		return "", "", err
	}
	e.log.InfoContext(ctx, "password reset completed", slog.String("account", acct), slog.String("user", user))
	return acct, user, nil
}
