package exec

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/data"
	"github.com/firn/firn/internal/store"
)

// Temporary tables (CREATE TEMPORARY | TEMP TABLE) belong to the session that created
// them: name resolution (resolveRef, ownedTable, DESC, SHOW) tries the session's
// temporary table before the permanent table or view of the same name, other sessions
// never see it, and SweepTempTables drops it once its session has ended. The catalog
// keeps them under their own store kind (catalog.KindTempTable).

// allowedOn reports whether the active roles may use priv on t. A temporary table
// carries no grants (grants on its name are the permanent table's), so only its owner
// role's hierarchy may use it.
func allowedOn(r *authz.Active, t *catalog.Table, priv string) bool {
	if t.Temporary() {
		return authz.Owns(r.All, t.Meta.Owner)
	}
	return r.Allowed(t.Object(), t.Meta.Owner, priv)
}

// seesTable reports whether SHOW, DESC and INFORMATION_SCHEMA show t to the active
// roles.
func seesTable(r *authz.Active, t *catalog.Table) bool {
	if t.Temporary() {
		return authz.Owns(r.All, t.Meta.Owner)
	}
	return r.Sees(t.Object(), t.Meta.Owner)
}

// SweepTempTables drops the temporary tables whose session has ended — closed,
// expired or idle (and swept), ended by DROP USER or a disabled user, or gone while
// the server was down — and returns how many it dropped. Each table's DuckDB object
// is dropped before its catalog record, so a failure leaves the record for the next
// sweep instead of an orphaned object. Session ids are never reused, so a table can
// never pass to a later session. The server runs it after every session sweep.
func (e *Engine) SweepTempTables(ctx context.Context) (int, error) {
	if e.cfg.Data == nil {
		return 0, nil
	}
	var orphans []tempTable
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		orphans = orphans[:0]
		accounts, err := catalog.ListAccounts(ctx, tx)
		if err != nil {
			return err
		}
		ended := map[int64]bool{}
		for _, a := range accounts {
			ts, err := catalog.ListTempTables(ctx, tx, a.Name, 0, "", "")
			if err != nil {
				return err
			}
			for _, t := range ts {
				gone, seen := ended[t.Session]
				if !seen {
					rec, err := tx.SessionByID(ctx, t.Session)
					switch {
					case catalog.IsNotFound(err):
						gone = true
					case err != nil:
						return err
					default:
						gone = !strings.EqualFold(rec.Account, a.Name)
					}
					ended[t.Session] = gone
				}
				if gone {
					orphans = append(orphans, tempTable{a.Name, t})
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("exec: sweep temporary tables: %w", err)
	}
	return e.dropTempTables(ctx, orphans)
}

// EndSession drops the temporary tables of a session that has just been closed, so
// that a driver's close frees them at once; SweepTempTables catches the sessions that
// end any other way (expiry, idle timeout, DROP USER, a restart).
func (e *Engine) EndSession(ctx context.Context, account string, session int64) error {
	if e.cfg.Data == nil || session <= 0 {
		return nil
	}
	var ts []tempTable
	err := e.cfg.Store.View(ctx, func(tx store.Tx) error {
		found, err := catalog.ListTempTables(ctx, tx, account, session, "", "")
		ts = ts[:0]
		for _, t := range found {
			ts = append(ts, tempTable{account, t})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("exec: temporary tables of session %d: %w", session, err)
	}
	_, err = e.dropTempTables(ctx, ts)
	return err
}

// tempTable is a temporary table and its account.
type tempTable struct {
	account string
	t       *catalog.Table
}

// dropTempTables drops each table's DuckDB object and then, for those dropped, the
// catalog records, returning how many records it removed. A table whose data cannot be
// dropped keeps its record, so the next sweep tries again.
func (e *Engine) dropTempTables(ctx context.Context, ts []tempTable) (int, error) {
	var dropped []tempTable
	var firstErr error
	for _, o := range ts {
		if err := e.cfg.Data.DropTable(context.WithoutCancel(ctx), data.Internal(o.t.DuckSchema, o.t.DuckName)); err != nil {
			e.log.Warn("temporary table sweep: drop data", slog.String("account", o.account),
				slog.Int64("session", o.t.Session), slog.String("err", err.Error()))
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		dropped = append(dropped, o)
	}
	if len(dropped) == 0 {
		return 0, firstErr
	}
	n := 0
	err := e.cfg.Store.Update(ctx, func(tx store.Tx) error {
		n = 0
		for _, o := range dropped {
			if err := catalog.DropTable(ctx, tx, o.account, o.t); err != nil {
				if catalog.IsNotFound(err) {
					continue
				}
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("exec: drop temporary tables: %w", err)
	}
	return n, firstErr
}
