package auth

import (
	"strconv"
	"time"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/params"
)

// tokenLifetimes resolves a new session's token lifetimes from the account record the
// login has already read: SESSION_TOKEN_VALIDITY_IN_SECONDS,
// MASTER_TOKEN_VALIDITY_IN_SECONDS and SESSION_IDLE_TIMEOUT_MINS (account level, else
// the defaults). A value that does not resolve is returned as 0, which the session
// manager replaces.
func tokenLifetimes(acct *catalog.Account) (sv, mv, idle time.Duration) {
	get := func(name string) int64 {
		d, ok := params.Lookup(name)
		if !ok {
			return 0
		}
		n, _ := strconv.ParseInt(params.Resolve(d, nil, nil, acct.Params).Value, 10, 64)
		return n
	}
	return time.Duration(get("SESSION_TOKEN_VALIDITY_IN_SECONDS")) * time.Second,
		time.Duration(get("MASTER_TOKEN_VALIDITY_IN_SECONDS")) * time.Second,
		time.Duration(get("SESSION_IDLE_TIMEOUT_MINS")) * time.Minute
}
