package exec

import (
	"context"
	"fmt"

	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/privatelink"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// The private-connectivity SYSTEM$ functions (reference §10). All are ACCOUNTADMIN
// only; the work is package privatelink's.

// privateLink checks that the session's roles include ACCOUNTADMIN and returns the
// registry.
func (e *Engine) privateLink(ctx context.Context, s *session.Session, fn string) (*privatelink.Registry, error) {
	if e.cfg.PrivateLink == nil {
		return nil, unsupported(fn)
	}
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		if !r.All.Has(catalog.RoleAccountAdmin) {
			return sferr.InsufficientPrivileges(fmt.Sprintf("account '%s'", s.Account))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e.cfg.PrivateLink, nil
}

// requireStrings checks that the arguments at idx are string literals.
func requireStrings(fn string, args []sysArg, idx ...int) error {
	for _, i := range idx {
		if i < len(args) && args[i].Kind != sql.TokString {
			return sferr.Compilation("001044", "42P13",
				fmt.Sprintf("Invalid argument types for function '%s': argument %d must be a string.", fn, i+1))
		}
	}
	return nil
}

func init() {
	registerSysFunc("SYSTEM$REGISTER_PRIVATELINK_ENDPOINT", sysFunc{MinArgs: 3, MaxArgs: 4, SecretArgs: []int{2},
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$REGISTER_PRIVATELINK_ENDPOINT"
			if err := requireStrings(fn, args, 0, 1, 2); err != nil {
				return "", err
			}
			delay := -1
			if len(args) == 4 && !args[3].IsNull() {
				n, ok := argInt(args, 3)
				if !ok || n < 0 || n > privatelink.MaxDelay {
					return "", sferr.New("100357", "22023", fmt.Sprintf("Invalid delay time '%s': it must be a whole number of minutes between 0 and %d.", args[3].Value, privatelink.MaxDelay))
				}
				delay = int(n)
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Register(ctx, s.Account, argString(args, 0), argString(args, 1), argString(args, 2), delay)
		}})
	registerSysFunc("SYSTEM$UNREGISTER_PRIVATELINK_ENDPOINT", sysFunc{MinArgs: 3, MaxArgs: 3, SecretArgs: []int{2},
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$UNREGISTER_PRIVATELINK_ENDPOINT"
			if err := requireStrings(fn, args, 0, 1, 2); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Unregister(ctx, s.Account, argString(args, 0), argString(args, 1), argString(args, 2))
		}})
	registerSysFunc("SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS", sysFunc{MinArgs: 0, MaxArgs: 0,
		Run: func(e *Engine, ctx context.Context, s *session.Session, _ []sysArg) (string, error) {
			pl, err := e.privateLink(ctx, s, "SYSTEM$GET_PRIVATELINK_ENDPOINT_REGISTRATIONS")
			if err != nil {
				return "", err
			}
			return pl.Registrations(ctx, s.Account)
		}})
	registerSysFunc("SYSTEM$AUTHORIZE_PRIVATELINK", sysFunc{MinArgs: 2, MaxArgs: 2, SecretArgs: []int{1},
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$AUTHORIZE_PRIVATELINK"
			if err := requireStrings(fn, args, 0, 1); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Authorize(ctx, s.Account, argString(args, 0), argString(args, 1))
		}})
	registerSysFunc("SYSTEM$REVOKE_PRIVATELINK", sysFunc{MinArgs: 2, MaxArgs: 2, SecretArgs: []int{1},
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$REVOKE_PRIVATELINK"
			if err := requireStrings(fn, args, 0, 1); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Revoke(ctx, s.Account, argString(args, 0), argString(args, 1))
		}})
	registerSysFunc("SYSTEM$GET_PRIVATELINK_CONFIG", sysFunc{MinArgs: 0, MaxArgs: 0,
		Run: func(e *Engine, ctx context.Context, s *session.Session, _ []sysArg) (string, error) {
			pl, err := e.privateLink(ctx, s, "SYSTEM$GET_PRIVATELINK_CONFIG")
			if err != nil {
				return "", err
			}
			return pl.Config(ctx, s.Account)
		}})
	registerSysFunc("SYSTEM$PROVISION_PRIVATELINK_ENDPOINT", sysFunc{MinArgs: 2, MaxArgs: 3,
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$PROVISION_PRIVATELINK_ENDPOINT"
			if err := requireStrings(fn, args, 0, 1, 2); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Provision(ctx, s.Account, argString(args, 0), argString(args, 1), argString(args, 2))
		}})
	registerSysFunc("SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT", sysFunc{MinArgs: 1, MaxArgs: 2,
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$DEPROVISION_PRIVATELINK_ENDPOINT"
			if err := requireStrings(fn, args, 0, 1); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Deprovision(ctx, s.Account, argString(args, 0), argString(args, 1))
		}})
	registerSysFunc("SYSTEM$RESTORE_PRIVATELINK_ENDPOINT", sysFunc{MinArgs: 1, MaxArgs: 2,
		Run: func(e *Engine, ctx context.Context, s *session.Session, args []sysArg) (string, error) {
			const fn = "SYSTEM$RESTORE_PRIVATELINK_ENDPOINT"
			if err := requireStrings(fn, args, 0, 1); err != nil {
				return "", err
			}
			pl, err := e.privateLink(ctx, s, fn)
			if err != nil {
				return "", err
			}
			return pl.Restore(ctx, s.Account, argString(args, 0), argString(args, 1))
		}})
	registerSysFunc("SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO", sysFunc{MinArgs: 0, MaxArgs: 0,
		Run: func(e *Engine, ctx context.Context, s *session.Session, _ []sysArg) (string, error) {
			pl, err := e.privateLink(ctx, s, "SYSTEM$GET_PRIVATELINK_ENDPOINTS_INFO")
			if err != nil {
				return "", err
			}
			return pl.EndpointsInfo(ctx, s.Account)
		}})
}
