package exec

import (
	"context"
	"fmt"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/sql"
	"github.com/firn/firn/internal/store"
)

// Handlers for control statements, keyed by object kind ("DATABASE", "USER",
// "NETWORK RULE", ...) or, for SHOW, by the plural as written ("DATABASES"). Each object
// kind registers its handlers from an init function in its own file, so adding a kind
// never touches the dispatcher.
type (
	createFunc   func(e *Engine, ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error)
	dropFunc     func(e *Engine, ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error)
	alterFunc    func(e *Engine, ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error)
	describeFunc func(e *Engine, ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error)
	// showFunc runs inside one read transaction with the session's active roles.
	showFunc func(e *Engine, ctx context.Context, tx store.Tx, s *session.Session, r *authz.Active, st *sql.Show) (*result.Set, error)
)

var (
	creators   = map[string]createFunc{}
	droppers   = map[string]dropFunc{}
	alterers   = map[string]alterFunc{}
	describers = map[string]describeFunc{}
	showers    = map[string]showFunc{}
)

// unsupported is Snowflake's answer to a statement firn does not implement.
func unsupported(what string) *sferr.Error {
	return sferr.Compilation("000002", "0A000", fmt.Sprintf("Unsupported feature '%s'.", what))
}

func (e *Engine) create(ctx context.Context, s *session.Session, st *sql.Create) (*result.Set, error) {
	if st.OrReplace && st.IfNotExists {
		return nil, sferr.Compilation("002035", "42601", "OR REPLACE and IF NOT EXISTS are incompatible.")
	}
	if f, ok := creators[st.Kind]; ok {
		return f(e, ctx, s, st)
	}
	return nil, unsupported("CREATE " + st.Kind)
}

func (e *Engine) drop(ctx context.Context, s *session.Session, st *sql.Drop) (*result.Set, error) {
	if f, ok := droppers[st.Kind]; ok {
		return f(e, ctx, s, st)
	}
	return nil, unsupported("DROP " + st.Kind)
}

func (e *Engine) alter(ctx context.Context, s *session.Session, st *sql.Alter) (*result.Set, error) {
	if f, ok := alterers[st.Kind]; ok {
		return f(e, ctx, s, st)
	}
	return nil, unsupported("ALTER " + st.Kind)
}

func (e *Engine) describe(ctx context.Context, s *session.Session, st *sql.Describe) (*result.Set, error) {
	if f, ok := describers[st.Kind]; ok {
		set, err := f(e, ctx, s, st)
		if set != nil {
			set.Type = result.Describe
		}
		return set, err
	}
	return nil, unsupported("DESCRIBE " + st.Kind)
}

// show dispatches SHOW by kind inside one read transaction.
func (e *Engine) show(ctx context.Context, s *session.Session, st *sql.Show) (*result.Set, error) {
	f, ok := showers[st.Kind]
	if !ok {
		return nil, unsupported("SHOW " + st.Kind)
	}
	var set *result.Set
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := roles(ctx, tx, s)
		if err != nil {
			return err
		}
		set, err = f(e, ctx, tx, s, r, st)
		return err
	})
	if err != nil {
		return nil, err
	}
	set.Type = result.Show
	return set, nil
}

func init() {
	creators["DATABASE"] = (*Engine).createDatabase
	creators["SCHEMA"] = (*Engine).createSchema
	creators["WAREHOUSE"] = (*Engine).createWarehouse
	creators["ACCOUNT"] = (*Engine).createAccount
	droppers["DATABASE"] = (*Engine).dropContainer
	droppers["SCHEMA"] = (*Engine).dropContainer
	droppers["WAREHOUSE"] = (*Engine).dropContainer
	droppers["ACCOUNT"] = (*Engine).dropAccount
	alterers["ACCOUNT"] = (*Engine).alterAccount
	alterers["WAREHOUSE"] = (*Engine).alterWarehouse
	alterers["DATABASE"] = (*Engine).alterDatabase
	alterers["SCHEMA"] = (*Engine).alterSchema
	showers["DATABASES"] = (*Engine).showDatabases
	showers["SCHEMAS"] = (*Engine).showSchemas
	showers["WAREHOUSES"] = (*Engine).showWarehouses
	showers["PARAMETERS"] = (*Engine).showParameters
	showers["ACCOUNTS"] = (*Engine).showAccounts
}
