package exec

import (
	"context"
	"fmt"

	"github.com/firn/firn/internal/authz"
	"github.com/firn/firn/internal/catalog"
	"github.com/firn/firn/internal/sferr"
	"github.com/firn/firn/internal/store"
)

// maxViewDepth bounds the expansion of views over views.
const maxViewDepth = 32

// checkViewOwner enforces that a view runs with its owner's rights at query time, as
// Snowflake does: the view's owner role must still hold USAGE on the database and
// schema of every object the view reads and SELECT on the object itself, and views
// over views are checked the same way down the chain. A view whose owner lost a
// privilege, or whose source was dropped, fails with 002003 naming the source.
func checkViewOwner(ctx context.Context, tx store.Tx, snap *authz.Snapshot, account string, v *catalog.Table, depth int) error {
	if depth > maxViewDepth {
		return sferr.Compilation("002003", "42S02", fmt.Sprintf("Failure during expansion of view '%s': view nesting is deeper than %d levels.", v.Name, maxViewDepth))
	}
	owner := snap.Closure(v.Meta.Owner)
	for _, src := range v.Sources {
		t, ok, err := ownerMaySelect(ctx, tx, snap, owner, account, src)
		if err != nil {
			return err
		}
		if !ok {
			return sferr.Compilation("002003", "42S02", fmt.Sprintf("Failure during expansion of view '%s': SQL compilation error:\nObject '%s.%s.%s' does not exist or not authorized.",
				v.Name, src.Database, src.Schema, src.Name))
		}
		if t.Kind == catalog.KindView {
			if err := checkViewOwner(ctx, tx, snap, account, t, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownerMaySelect loads a view's source and reports whether the owner roles hold
// USAGE on its database and schema and SELECT on it.
func ownerMaySelect(ctx context.Context, tx store.Tx, snap *authz.Snapshot, owner authz.RoleSet, account string, src catalog.Object) (*catalog.Table, bool, error) {
	db, err := catalog.GetDatabase(ctx, tx, account, src.Database)
	if catalog.IsNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	sc, err := catalog.GetSchema(ctx, tx, account, src.Database, src.Schema)
	if catalog.IsNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	t, err := catalog.FindTable(ctx, tx, account, src.Database, src.Schema, src.Name)
	if catalog.IsNotFound(err) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	ok := snap.Allowed(owner, catalog.Object{Kind: "DATABASE", Name: src.Database}, db.Meta.Owner, catalog.PrivUsage) &&
		snap.Allowed(owner, catalog.Object{Kind: "SCHEMA", Database: src.Database, Name: src.Schema}, sc.Meta.Owner, catalog.PrivUsage) &&
		snap.Allowed(owner, t.Object(), t.Meta.Owner, "SELECT")
	return t, ok, nil
}
