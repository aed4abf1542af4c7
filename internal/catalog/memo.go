package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/firn/firn/internal/store"
)

// maxMemoEntries bounds each decode memo; it is cleared when full.
const maxMemoEntries = 20000

// decodeMemo remembers the last decoded value of each record so that reading an
// unchanged record again costs a byte comparison and a copy instead of a JSON decode.
// It is keyed by the record's key and validated by its exact bytes, so it can never
// return a value that differs from decoding the record just read: it needs no
// invalidation.
type decodeMemo[T any] struct {
	mu    sync.RWMutex
	m     map[store.Key]memoEntry[T]
	clone func(*T) *T
}

type memoEntry[T any] struct {
	data []byte
	v    *T // never handed out: callers get clones
}

// decode returns a fresh copy of r's body decoded as T.
func (c *decodeMemo[T]) decode(r *store.Record) (*T, error) {
	c.mu.RLock()
	e, ok := c.m[r.Key]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.data, r.Data) {
		return c.clone(e.v), nil
	}
	v := new(T)
	if err := json.Unmarshal(r.Data, v); err != nil {
		return nil, fmt.Errorf("catalog: decode %s %q: %w", r.Kind, r.Name, err)
	}
	e = memoEntry[T]{data: append([]byte(nil), r.Data...), v: c.clone(v)}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxMemoEntries {
		c.m = make(map[store.Key]memoEntry[T])
	}
	c.m[r.Key] = e
	c.mu.Unlock()
	return v, nil
}

var (
	userMemo = &decodeMemo[User]{clone: func(u *User) *User {
		c := *u
		c.DefaultSecondaryRoles = slices.Clone(u.DefaultSecondaryRoles)
		c.Params = maps.Clone(u.Params)
		return &c
	}}
	patMemo = &decodeMemo[PAT]{clone: func(p *PAT) *PAT {
		c := *p
		c.Hash = slices.Clone(p.Hash)
		return &c
	}}
	// The grant generation is read on every login and privilege check.
	generationMemo = &decodeMemo[grantGeneration]{clone: func(g *grantGeneration) *grantGeneration {
		c := *g
		return &c
	}}
	accountMemo = &decodeMemo[Account]{clone: func(a *Account) *Account {
		c := *a
		c.Params = maps.Clone(a.Params)
		return &c
	}}
)
