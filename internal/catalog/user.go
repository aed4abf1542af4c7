package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/firn/firn/internal/store"
)

// User is a login identity of one account.
type User struct {
	Name               string `json:"name"`
	LoginName          string `json:"login_name"`
	DisplayName        string `json:"display_name,omitempty"`
	FirstName          string `json:"first_name,omitempty"`
	MiddleName         string `json:"middle_name,omitempty"`
	LastName           string `json:"last_name,omitempty"`
	Email              string `json:"email,omitempty"`
	Comment            string `json:"comment,omitempty"`
	Type               string `json:"type,omitempty"` // PERSON (or ""), SERVICE, LEGACY_SERVICE
	Disabled           bool   `json:"disabled,omitempty"`
	PasswordHash       string `json:"password_hash,omitempty"` // argon2id PHC string
	MustChangePassword bool   `json:"must_change_password,omitempty"`
	DefaultRole        string `json:"default_role,omitempty"`
	DefaultWarehouse   string `json:"default_warehouse,omitempty"`
	DefaultNamespace   string `json:"default_namespace,omitempty"`
	// DefaultSecondaryRoles is ["ALL"] or empty (none). CREATE USER stores ["ALL"]
	// unless told otherwise, as Snowflake's default is ALL.
	DefaultSecondaryRoles []string          `json:"default_secondary_roles,omitempty"`
	Params                map[string]string `json:"params,omitempty"`
	// Key-pair authentication: two slots, each the base64 DER SubjectPublicKeyInfo body
	// and its "SHA256:<base64>" fingerprint, with the time it was set (unix seconds).
	RSAPublicKey     string `json:"rsa_public_key,omitempty"`
	RSAPublicKeyFP   string `json:"rsa_public_key_fp,omitempty"`
	RSAPublicKeySet  int64  `json:"rsa_public_key_set,omitempty"`
	RSAPublicKey2    string `json:"rsa_public_key_2,omitempty"`
	RSAPublicKey2FP  string `json:"rsa_public_key_2_fp,omitempty"`
	RSAPublicKey2Set int64  `json:"rsa_public_key_2_set,omitempty"`
	PasswordSet      int64  `json:"password_set,omitempty"`
	// BypassMFAUntil is when a MINS_TO_BYPASS_MFA window ends (unix seconds; 0 = none).
	BypassMFAUntil int64 `json:"bypass_mfa_until,omitempty"`
	DaysToExpiry   int64 `json:"days_to_expiry,omitempty"` // 0 = never
	ExpiresAt      int64 `json:"expires_at,omitempty"`     // unix seconds; 0 = never
	// Lockout state.
	FailedLogins int   `json:"failed_logins,omitempty"`
	LockedUntil  int64 `json:"locked_until,omitempty"` // unix seconds; 0 = not locked
	LastSuccess  int64 `json:"last_success,omitempty"` // unix seconds
	Meta         Meta  `json:"-"`
}

// UserKey is the store key of a user.
func UserKey(account, name string) store.Key {
	return store.Key{Account: account, Kind: KindUser, Name: name}
}

// GetUser returns a user by exact name.
func GetUser(ctx context.Context, tx store.Tx, account, name string) (*User, error) {
	r, err := tx.Get(ctx, UserKey(account, name))
	if err != nil {
		return nil, err
	}
	u, err := userMemo.decode(r)
	if err != nil {
		return nil, err
	}
	u.Meta = metaOf(r)
	return u, nil
}

// UserByLogin finds a user by login name (case-insensitive), falling back to the
// user name, as Snowflake resolves LOGIN_NAME.
func UserByLogin(ctx context.Context, tx store.Tx, account, login string) (*User, error) {
	// Fast path: most users log in with their own (upper-cased) name as login name.
	// Login names are unique, so a user whose LOGIN_NAME matches is the answer.
	if u, err := GetUser(ctx, tx, account, strings.ToUpper(login)); err == nil && strings.EqualFold(u.LoginName, login) {
		return u, nil
	} else if err != nil && !IsNotFound(err) {
		return nil, err
	}
	users, err := ListUsers(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if strings.EqualFold(u.LoginName, login) {
			return u, nil
		}
	}
	for _, u := range users {
		if strings.EqualFold(u.Name, login) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("user %q: %w", login, store.ErrNotFound)
}

// ListUsers returns an account's users, ordered by name.
func ListUsers(ctx context.Context, tx store.Tx, account string) ([]*User, error) {
	us, ms, err := list[User](ctx, tx, account, KindUser, "")
	for i := range us {
		us[i].Meta = ms[i]
	}
	return us, err
}

// CreateUser inserts a new user owned by owner.
func CreateUser(ctx context.Context, tx store.Tx, account, owner string, u *User) error {
	if u.LoginName == "" {
		u.LoginName = u.Name
	}
	_, err := insert(ctx, tx, UserKey(account, u.Name), owner, u)
	return err
}

// PutUser replaces an existing user, keeping its owner.
func PutUser(ctx context.Context, tx store.Tx, account string, u *User) error {
	return put(ctx, tx, UserKey(account, u.Name), "", u)
}

// DropUser removes a user, its programmatic access tokens, its password reset links
// and the role grants made to it.
func DropUser(ctx context.Context, tx store.Tx, account, name string) error {
	if err := tx.Delete(ctx, UserKey(account, name)); err != nil {
		return err
	}
	if _, err := DeleteUserPATs(ctx, tx, account, name); err != nil {
		return err
	}
	if err := DeleteUserPasswordResets(ctx, tx, account, name); err != nil {
		return err
	}
	gs, err := RolesGrantedTo(ctx, tx, account, GranteeUser, name)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if err := RevokeRole(ctx, tx, account, GranteeUser, name, g.Role); err != nil && !IsNotFound(err) {
			return err
		}
	}
	return nil
}

// RenameUser renames a user, keeping its owner and moving the role grants made to it.
// Its programmatic access tokens and password reset links are removed: they name the
// user they belong to, and none may outlive the name it was issued for (a later user
// of that name must not inherit it). It returns ErrExists when the new name is taken.
func RenameUser(ctx context.Context, tx store.Tx, account, from, to string) error {
	u, err := GetUser(ctx, tx, account, from)
	if err != nil {
		return err
	}
	if _, err := DeleteUserPATs(ctx, tx, account, from); err != nil {
		return err
	}
	if err := DeleteUserPasswordResets(ctx, tx, account, from); err != nil {
		return err
	}
	if err := tx.Rename(ctx, UserKey(account, from), UserKey(account, to)); err != nil {
		return err
	}
	u.Name = to
	if err := PutUser(ctx, tx, account, u); err != nil {
		return err
	}
	gs, err := RolesGrantedTo(ctx, tx, account, GranteeUser, from)
	if err != nil {
		return err
	}
	for _, g := range gs {
		if err := RevokeRole(ctx, tx, account, GranteeUser, from, g.Role); err != nil {
			return err
		}
		g.Grantee = to
		if err := GrantRole(ctx, tx, account, g); err != nil && !IsExists(err) {
			return err
		}
	}
	return nil
}
