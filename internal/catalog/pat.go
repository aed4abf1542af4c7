package catalog

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/firn/firn/internal/store"
)

// Kinds of the programmatic-access-token records. A PAT lives under its user
// (Parent = user name, Name = token name); a PAT_ID record, keyed by the token's
// lookup id, points at it so a login finds the token in O(1) from the secret alone.
const (
	KindPAT   = "PAT"
	KindPATID = "PAT_ID"
)

// MaxPATsPerUser is Snowflake's limit of tokens per user (disabled ones count,
// expired ones do not).
const MaxPATsPerUser = 15

// PAT is a programmatic access token of a user. The secret itself is never stored:
// only its SHA-256 hash and the lookup id embedded in it.
type PAT struct {
	Name            string    `json:"name"`
	User            string    `json:"user"`
	ID              string    `json:"id"`   // lookup id carried in the secret
	Hash            []byte    `json:"hash"` // SHA-256 of the whole secret
	RoleRestriction string    `json:"role_restriction,omitempty"`
	ExpiresAt       time.Time `json:"expires_at"`
	Lifetime        int64     `json:"lifetime_days"` // DAYS_TO_EXPIRY at creation
	CreatedAt       time.Time `json:"created_at"`
	CreatedBy       string    `json:"created_by,omitempty"`
	Comment         string    `json:"comment,omitempty"`
	Disabled        bool      `json:"disabled,omitempty"`
	// MinsToBypassNetworkPolicy lets the token be used without a network policy for
	// that many minutes after CreatedAt (0 = no bypass).
	MinsToBypassNetworkPolicy int64 `json:"mins_to_bypass_network_policy,omitempty"`
	// RotatedTo names the token that replaced this one; set on the renamed copy of a
	// rotated-out token, which stays valid until ExpiresAt.
	RotatedTo string `json:"rotated_to,omitempty"`
	Meta      Meta   `json:"-"`
}

// patRef is the body of a PAT_ID record.
type patRef struct {
	User string `json:"user"`
	Name string `json:"name"`
}

// PATKey is the store key of a user's token.
func PATKey(account, user, name string) store.Key {
	return store.Key{Account: account, Kind: KindPAT, Parent: user, Name: name}
}

func patIDKey(account, id string) store.Key {
	return store.Key{Account: account, Kind: KindPATID, Name: id}
}

// GetPAT returns a user's token by exact name.
func GetPAT(ctx context.Context, tx store.Tx, account, user, name string) (*PAT, error) {
	r, err := tx.Get(ctx, PATKey(account, user, name))
	if err != nil {
		return nil, err
	}
	p, err := patMemo.decode(r)
	if err != nil {
		return nil, err
	}
	p.Meta = metaOf(r)
	return p, nil
}

// ListPATs returns a user's tokens ordered by name; user "*" lists every user's.
func ListPATs(ctx context.Context, tx store.Tx, account, user string) ([]*PAT, error) {
	ps, ms, err := list[PAT](ctx, tx, account, KindPAT, user)
	for i := range ps {
		ps[i].Meta = ms[i]
	}
	return ps, err
}

// UserHasPAT reports whether a user holds a token that is neither disabled nor
// expired at now (SHOW USERS has_pat, DESC USER HAS_PAT).
func UserHasPAT(ctx context.Context, tx store.Tx, account, user string, now time.Time) (bool, error) {
	ps, err := ListPATs(ctx, tx, account, user)
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if !p.Disabled && now.Before(p.ExpiresAt) {
			return true, nil
		}
	}
	return false, nil
}

// CreatePAT inserts a token and its lookup record. ErrExists if the name is taken.
func CreatePAT(ctx context.Context, tx store.Tx, account string, p *PAT) error {
	if _, err := insert(ctx, tx, PATKey(account, p.User, p.Name), "", p); err != nil {
		return err
	}
	if _, err := insert(ctx, tx, patIDKey(account, p.ID), "", &patRef{User: p.User, Name: p.Name}); err != nil {
		return fmt.Errorf("catalog: index token %s: %w", p.Name, err)
	}
	return nil
}

// PutPAT replaces a token's record (same user and name).
func PutPAT(ctx context.Context, tx store.Tx, account string, p *PAT) error {
	return put(ctx, tx, PATKey(account, p.User, p.Name), "", p)
}

// RenamePAT renames a token, keeping its secret valid. ErrExists if to is taken.
func RenamePAT(ctx context.Context, tx store.Tx, account string, p *PAT, to string) error {
	if err := tx.Rename(ctx, PATKey(account, p.User, p.Name), PATKey(account, p.User, to)); err != nil {
		return err
	}
	p.Name = to
	if err := PutPAT(ctx, tx, account, p); err != nil {
		return err
	}
	return put(ctx, tx, patIDKey(account, p.ID), "", &patRef{User: p.User, Name: to})
}

// DeletePAT removes a token and its lookup record: its secret stops working at once.
func DeletePAT(ctx context.Context, tx store.Tx, account string, p *PAT) error {
	if err := tx.Delete(ctx, PATKey(account, p.User, p.Name)); err != nil {
		return err
	}
	if err := tx.Delete(ctx, patIDKey(account, p.ID)); err != nil && !IsNotFound(err) {
		return err
	}
	return nil
}

// DeleteUserPATs removes every token of a user (DROP USER). It returns how many.
func DeleteUserPATs(ctx context.Context, tx store.Tx, account, user string) (int, error) {
	ps, err := ListPATs(ctx, tx, account, user)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		if err := DeletePAT(ctx, tx, account, p); err != nil {
			return 0, err
		}
	}
	return len(ps), nil
}

// PATByID finds a token of account by the lookup id carried in its secret, or
// returns ErrNotFound. Tokens of other accounts are never found.
func PATByID(ctx context.Context, tx store.Tx, account, id string) (*PAT, error) {
	var ref patRef
	if _, err := load(ctx, tx, patIDKey(account, id), &ref); err != nil {
		return nil, err
	}
	p, err := GetPAT(ctx, tx, account, ref.User, ref.Name)
	if err != nil {
		return nil, err
	}
	if p.ID != id {
		return nil, fmt.Errorf("token id %q: %w", id, ErrNotFound)
	}
	return p, nil
}

// NetworkPolicyChecker tells whether a user is subject to an account- or user-level
// network policy, the prerequisite Snowflake places on programmatic access tokens
// (NETWORK_POLICY_EVALUATION = ENFORCED_REQUIRED, the default).
type NetworkPolicyChecker interface {
	UserHasNetworkPolicy(ctx context.Context, tx store.Tx, account, user string) (bool, error)
}

// NoNetworkPolicy is the default NetworkPolicyChecker: nobody is subject to a
// network policy, so PATs of PERSON users work only inside their
// MINS_TO_BYPASS_NETWORK_POLICY_REQUIREMENT window and SERVICE users cannot have
// PATs at all.
//
// TODO(network policies issue): replace with a checker that resolves the user's
// NETWORK_POLICY parameter, else the account's, to an existing policy with at least
// one network rule, and install it with SetNetworkPolicyChecker.
type NoNetworkPolicy struct{}

// UserHasNetworkPolicy implements NetworkPolicyChecker.
func (NoNetworkPolicy) UserHasNetworkPolicy(context.Context, store.Tx, string, string) (bool, error) {
	return false, nil
}

// NetworkPolicyFunc adapts a function to NetworkPolicyChecker.
type NetworkPolicyFunc func(ctx context.Context, tx store.Tx, account, user string) (bool, error)

// UserHasNetworkPolicy implements NetworkPolicyChecker.
func (f NetworkPolicyFunc) UserHasNetworkPolicy(ctx context.Context, tx store.Tx, account, user string) (bool, error) {
	return f(ctx, tx, account, user)
}

type checkerBox struct{ c NetworkPolicyChecker }

var networkPolicies atomic.Pointer[checkerBox]

func init() { networkPolicies.Store(&checkerBox{NoNetworkPolicy{}}) }

// NetworkPolicies returns the installed NetworkPolicyChecker.
func NetworkPolicies() NetworkPolicyChecker { return networkPolicies.Load().c }

// SetNetworkPolicyChecker installs c (nil restores NoNetworkPolicy) and returns the
// previous checker, so tests can restore it.
func SetNetworkPolicyChecker(c NetworkPolicyChecker) NetworkPolicyChecker {
	if c == nil {
		c = NoNetworkPolicy{}
	}
	return networkPolicies.Swap(&checkerBox{c}).c
}
