// Package catalog is firn's object model, the single source of truth for accounts,
// users, roles, role grants, warehouses, databases and schemas (and, as they arrive,
// every other object kind). Objects are typed Go structs stored as JSON records through
// a store.Tx, so every catalog change is part of the caller's one transaction.
//
// The catalog enforces the shape of objects (names, kinds, containment); who may do
// what is package authz's concern, and statement semantics are package exec's.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/firn/firn/internal/store"
)

// Object kinds as stored in store.Key.Kind.
const (
	KindAccount   = "ACCOUNT"
	KindUser      = "USER"
	KindRole      = "ROLE"
	KindRoleGrant = "ROLE_GRANT"
	KindWarehouse = "WAREHOUSE"
	KindDatabase  = "DATABASE"
	KindSchema    = "SCHEMA"
)

// ErrNotFound and ErrExists are the store's sentinel errors, re-exported so callers of
// the catalog need not import store.
var (
	ErrNotFound = store.ErrNotFound
	ErrExists   = store.ErrExists
)

// Meta is the stored metadata common to every object.
type Meta struct {
	ID       int64
	Owner    string
	Created  time.Time
	Modified time.Time
}

func metaOf(r *store.Record) Meta {
	return Meta{ID: r.ID, Owner: r.Owner, Created: r.Created, Modified: r.Modified}
}

// load reads the record at k into v.
func load(ctx context.Context, tx store.Tx, k store.Key, v any) (*store.Record, error) {
	r, err := tx.Get(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return nil, fmt.Errorf("catalog: decode %s %q: %w", k.Kind, k.Name, err)
	}
	return r, nil
}

// insert stores v as a new record at k owned by owner.
func insert(ctx context.Context, tx store.Tx, k store.Key, owner string, v any) (*store.Record, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode %s: %w", k.Kind, err)
	}
	r := &store.Record{Key: k, Owner: owner, Data: b}
	if err := tx.Insert(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// put replaces the record at k with v, keeping its owner unless owner is non-empty.
func put(ctx context.Context, tx store.Tx, k store.Key, owner string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("catalog: encode %s: %w", k.Kind, err)
	}
	if owner == "" {
		old, err := tx.Get(ctx, k)
		if err != nil {
			return err
		}
		owner = old.Owner
	}
	return tx.Put(ctx, &store.Record{Key: k, Owner: owner, Data: b})
}

// list decodes every record of a kind under parent with newT making each value.
func list[T any](ctx context.Context, tx store.Tx, account, kind, parent string) ([]*T, []Meta, error) {
	recs, err := tx.List(ctx, account, kind, parent)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*T, 0, len(recs))
	metas := make([]Meta, 0, len(recs))
	for _, r := range recs {
		v := new(T)
		if err := json.Unmarshal(r.Data, v); err != nil {
			return nil, nil, fmt.Errorf("catalog: decode %s %q: %w", kind, r.Name, err)
		}
		out = append(out, v)
		metas = append(metas, metaOf(r))
	}
	return out, metas, nil
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// IsExists reports whether err is an already-exists error.
func IsExists(err error) bool { return errors.Is(err, store.ErrExists) }
