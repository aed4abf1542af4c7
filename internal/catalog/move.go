package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/firn/firn/internal/store"
)

// ContainerMove is a RENAME of a database (FromSchema "": every schema keeps its
// name) or of a schema, possibly into another database (ALTER SCHEMA s RENAME TO
// otherdb.s2). Names are the stored, case-exact forms.
type ContainerMove struct {
	FromDB, FromSchema string
	ToDB, ToSchema     string
}

// Database reports whether the move renames a whole database.
func (m ContainerMove) Database() bool { return m.FromSchema == "" }

func (m ContainerMove) String() string {
	if m.Database() {
		return fmt.Sprintf("database %s to %s", m.FromDB, m.ToDB)
	}
	return fmt.Sprintf("schema %s.%s to %s.%s", m.FromDB, m.FromSchema, m.ToDB, m.ToSchema)
}

// Place maps the database and schema of a schema-level object to where the move
// puts them (false: the object is not inside the moved container).
func (m ContainerMove) Place(db, schema string) (string, string, bool) {
	switch {
	case db != m.FromDB:
		return "", "", false
	case m.Database():
		return m.ToDB, schema, true
	case schema != m.FromSchema:
		return "", "", false
	}
	return m.ToDB, m.ToSchema, true
}

// Object maps a securable object to its identity after the move: the renamed
// database or schema itself, or an object inside it (false: not affected).
func (m ContainerMove) Object(o Object) (Object, bool) {
	switch {
	case o.Kind == KindDatabase:
		if !m.Database() || o.Name != m.FromDB {
			return o, false
		}
		o.Name = m.ToDB
	case o.Kind == KindSchema:
		db, sch, ok := m.Place(o.Database, o.Name)
		if !ok {
			return o, false
		}
		o.Database, o.Name = db, sch
	case o.Database != "":
		db, sch, ok := m.Place(o.Database, o.Schema)
		if !ok {
			return o, false
		}
		o.Database, o.Schema = db, sch
	default:
		return o, false
	}
	return o, true
}

// Path maps a "DB.SCHEMA.NAME" path (as network policies store rule references,
// split as GetNetworkRuleByPath splits it) to its form after the move.
func (m ContainerMove) Path(path string) (string, bool) {
	db, rest, ok := strings.Cut(path, ".")
	if !ok {
		return path, false
	}
	sch, name, ok := strings.Cut(rest, ".")
	if !ok {
		return path, false
	}
	if db, sch, ok = m.Place(db, sch); !ok {
		return path, false
	}
	return db + "." + sch + "." + name, true
}

// ReferenceMover rewrites the references a kind of record holds to objects inside a
// moved database or schema, so they keep naming the same objects (Snowflake holds
// such references by object identity, so they follow a rename). It runs inside the
// rename's transaction, after the objects themselves moved.
type ReferenceMover func(ctx context.Context, tx store.Tx, account string, m ContainerMove) error

var referenceMovers struct {
	sync.Mutex
	names []string
	fns   []ReferenceMover
}

// RegisterReferenceMover adds (or, for a name already registered, replaces) a
// ReferenceMover that MoveContainer runs. Call it from init.
func RegisterReferenceMover(name string, f ReferenceMover) {
	referenceMovers.Lock()
	defer referenceMovers.Unlock()
	if i := slices.Index(referenceMovers.names, name); i >= 0 {
		referenceMovers.fns[i] = f
		return
	}
	referenceMovers.names = append(referenceMovers.names, name)
	referenceMovers.fns = append(referenceMovers.fns, f)
}

func init() {
	RegisterReferenceMover("external access integrations", moveIntegrationRefs)
	RegisterReferenceMover("view sources", moveViewSources)
}

var containedKinds struct {
	sync.Mutex
	byLevel map[Level][]string
}

// RegisterContainedKind declares a store kind whose records live in a database
// (LevelDatabaseObject: parent "DB") or a schema (LevelSchemaObject: parent
// "DB.SCHEMA") without being a row of the privilege table, so that MoveContainer
// moves them with their container. Kinds in the privilege table need no
// registration. Records whose parent is something else (a PAT's is its user, a
// grant's its object's path) must not be registered. Call it from init.
func RegisterContainedKind(level Level, storeKind string) {
	containedKinds.Lock()
	defer containedKinds.Unlock()
	if containedKinds.byLevel == nil {
		containedKinds.byLevel = map[Level][]string{}
	}
	if !slices.Contains(containedKinds.byLevel[level], storeKind) {
		containedKinds.byLevel[level] = append(containedKinds.byLevel[level], storeKind)
	}
}

// storeKindsAt returns the store kinds of records at a level: the privilege table's
// kinds and the registered contained kinds.
func storeKindsAt(level Level) []string {
	var out []string
	kindsMu.RLock()
	for _, k := range Kinds {
		if k.Level == level && k.StoreKind != "" && !slices.Contains(out, k.StoreKind) {
			out = append(out, k.StoreKind)
		}
	}
	kindsMu.RUnlock()
	containedKinds.Lock()
	for _, k := range containedKinds.byLevel[level] {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	containedKinds.Unlock()
	return out
}

// MoveContainer carries out m in tx: it re-keys the database or schema record and
// every record under it — schemas of a database and the records of each
// schema-level kind (tables, views, temporary tables, secrets, network rules, …;
// see storeKindsAt) — keeping their ids (so sealed
// values bound to them and data-engine names stay valid), moves the grants on all
// of them (MoveGrants), and runs every ReferenceMover so that network policies,
// integrations and views keep naming the moved objects. The caller checks
// privileges and that the destination database exists; if the new container name
// is taken, the error wraps ErrExists and the caller's transaction must roll back.
func MoveContainer(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	if m.FromDB == "" || m.ToDB == "" || (m.FromSchema == "") != (m.ToSchema == "") {
		return fmt.Errorf("catalog: invalid move %+v", m)
	}
	if m.Database() {
		if err := moveDatabase(ctx, tx, account, m); err != nil {
			return err
		}
	} else {
		if err := tx.Rename(ctx, SchemaKey(account, m.FromDB, m.FromSchema), SchemaKey(account, m.ToDB, m.ToSchema)); err != nil {
			return fmt.Errorf("catalog: move %s: %w", m, err)
		}
		if err := rewriteBody(ctx, tx, SchemaKey(account, m.ToDB, m.ToSchema), map[string]string{"database": m.ToDB, "name": m.ToSchema}); err != nil {
			return err
		}
		if err := moveRecords(ctx, tx, account, m, storeKindsAt(LevelSchemaObject), m.FromDB+"."+m.FromSchema, m.ToDB+"."+m.ToSchema,
			map[string]string{"database": m.ToDB, "schema": m.ToSchema}); err != nil {
			return err
		}
	}
	if err := MoveGrants(ctx, tx, account, m.Object); err != nil {
		return fmt.Errorf("catalog: move %s: grants: %w", m, err)
	}
	referenceMovers.Lock()
	names, fns := slices.Clone(referenceMovers.names), slices.Clone(referenceMovers.fns)
	referenceMovers.Unlock()
	for i, f := range fns {
		if err := f(ctx, tx, account, m); err != nil {
			return fmt.Errorf("catalog: move %s: references of %s: %w", m, names[i], err)
		}
	}
	return nil
}

// moveDatabase re-keys a database, its database-level records (schemas) and the
// schema-level records in each of its schemas.
func moveDatabase(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	if err := tx.Rename(ctx, DatabaseKey(account, m.FromDB), DatabaseKey(account, m.ToDB)); err != nil {
		return fmt.Errorf("catalog: move %s: %w", m, err)
	}
	if err := rewriteBody(ctx, tx, DatabaseKey(account, m.ToDB), map[string]string{"name": m.ToDB}); err != nil {
		return err
	}
	schemas, err := tx.List(ctx, account, KindSchema, m.FromDB)
	if err != nil {
		return fmt.Errorf("catalog: move %s: %w", m, err)
	}
	if err := moveRecords(ctx, tx, account, m, storeKindsAt(LevelDatabaseObject), m.FromDB, m.ToDB,
		map[string]string{"database": m.ToDB}); err != nil {
		return err
	}
	kinds := storeKindsAt(LevelSchemaObject)
	for _, sc := range schemas {
		if err := moveRecords(ctx, tx, account, m, kinds, m.FromDB+"."+sc.Name, m.ToDB+"."+sc.Name,
			map[string]string{"database": m.ToDB}); err != nil {
			return err
		}
	}
	return nil
}

// moveRecords re-keys every record of the kinds whose parent is from to parent to,
// setting the body fields named in fields (where the body has them).
func moveRecords(ctx context.Context, tx store.Tx, account string, m ContainerMove, kinds []string, from, to string, fields map[string]string) error {
	for _, kind := range kinds {
		recs, err := tx.List(ctx, account, kind, from)
		if err != nil {
			return fmt.Errorf("catalog: move %s: %w", m, err)
		}
		for _, r := range recs {
			dest := store.Key{Account: account, Kind: kind, Parent: to, Name: r.Name}
			if err := tx.Rename(ctx, r.Key, dest); err != nil {
				if errors.Is(err, store.ErrExists) {
					// Only a record left behind without its container can sit there.
					return fmt.Errorf("catalog: move %s: %s %s.%s: the destination holds a stale record", m, kind, to, r.Name)
				}
				return fmt.Errorf("catalog: move %s: %w", m, err)
			}
			r.Key = dest
			if err := putBody(ctx, tx, r, fields); err != nil {
				return err
			}
		}
	}
	return nil
}

// rewriteBody sets fields of the JSON body of the record at k.
func rewriteBody(ctx context.Context, tx store.Tx, k store.Key, fields map[string]string) error {
	r, err := tx.Get(ctx, k)
	if err != nil {
		return fmt.Errorf("catalog: read moved %s %q: %w", k.Kind, k.Name, err)
	}
	return putBody(ctx, tx, r, fields)
}

// putBody sets the top-level string fields of r's JSON body that are present in
// it (records of every kind carry their database/schema/name that way) and stores r.
func putBody(ctx context.Context, tx store.Tx, r *store.Record, fields map[string]string) error {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &body); err != nil {
		return fmt.Errorf("catalog: decode moved %s %q: %w", r.Kind, r.Name, err)
	}
	changed := false
	for f, v := range fields {
		if _, ok := body[f]; !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("catalog: encode moved %s %q: %w", r.Kind, r.Name, err)
		}
		body[f], changed = b, true
	}
	if !changed {
		return nil
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("catalog: encode moved %s %q: %w", r.Kind, r.Name, err)
	}
	r.Data = data
	if err := tx.Put(ctx, r); err != nil {
		return fmt.Errorf("catalog: store moved %s %q: %w", r.Kind, r.Name, err)
	}
	return nil
}

// moveObjects maps each object through m, reporting whether any changed.
func moveObjects(m ContainerMove, objs []Object) bool {
	changed := false
	for i, o := range objs {
		if to, ok := m.Object(o); ok {
			objs[i], changed = to, true
		}
	}
	return changed
}

// moveIntegrationRefs rewrites external access integrations' ALLOWED_NETWORK_RULES
// and ALLOWED_AUTHENTICATION_SECRETS.
func moveIntegrationRefs(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	ints, err := ListIntegrations(ctx, tx, account)
	if err != nil {
		return err
	}
	for _, in := range ints {
		rules := moveObjects(m, in.AllowedNetworkRules)
		secs := moveObjects(m, in.AllowedSecrets)
		if !rules && !secs {
			continue
		}
		if err := PutIntegration(ctx, tx, account, in); err != nil {
			return err
		}
	}
	return nil
}

// moveViewSources rewrites the sources of views (anywhere in the account) that read
// tables or views inside the moved container. A view's data-engine definition names
// its sources by their internal names, so it keeps reading the same objects; its
// owner's rights are checked on them under their new names.
func moveViewSources(ctx context.Context, tx store.Tx, account string, m ContainerMove) error {
	views, err := ListTables(ctx, tx, account, KindView, "", "")
	if err != nil {
		return err
	}
	for _, v := range views {
		if !moveObjects(m, v.Sources) {
			continue
		}
		if err := PutTable(ctx, tx, account, v); err != nil {
			return err
		}
	}
	return nil
}
