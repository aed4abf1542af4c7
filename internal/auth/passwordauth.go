package auth

import (
	"context"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// Password is the SNOWFLAKE (user name and password) authenticator.
type Password struct {
	Now func() time.Time
}

// Factor implements Authenticator.
func (*Password) Factor() string { return "PASSWORD" }

// Authenticate implements Authenticator. Unknown users and wrong passwords get the same
// 390100 answer after the same amount of work.
func (p *Password) Authenticate(ctx context.Context, tx store.Tx, acct *catalog.Account, req *LoginRequest) (*Outcome, error) {
	u, err := catalog.UserByLogin(ctx, tx, acct.Name, req.LoginName)
	if err != nil {
		if catalog.IsNotFound(err) {
			_, _ = VerifyPassword(dummyHash, req.Password)
			e := sferr.IncorrectCredentials()
			e.Cause = err
			return nil, e
		}
		return nil, err
	}
	hash := u.PasswordHash
	usable := hash != "" && u.Type != "SERVICE"
	if !usable {
		hash = dummyHash
	}
	match, err := VerifyPassword(hash, req.Password)
	if err != nil {
		return nil, err
	}
	if p.Now != nil && u.LockedUntil > p.Now().Unix() {
		// A locked user learns only that it is locked, whatever the password.
		return &Outcome{User: u, Err: userLocked()}, nil
	}
	if !match || !usable || req.Password == "" {
		return &Outcome{User: u, Err: sferr.IncorrectCredentials(), CountsFailure: usable}, nil
	}
	return &Outcome{User: u}, nil
}
