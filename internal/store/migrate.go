package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schema changes live in migrations/NNNN_name.sql, one file per version. To change
// the schema, add the next file (never edit one that has shipped): OpenSQLite applies
// every version not yet recorded in schema_migrations, in order, each in its own
// transaction.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one versioned schema change.
type migration struct {
	version int64
	name    string // file name, for errors and logs
	sql     string
}

// loadMigrations returns the embedded migrations ordered by version. Versions must be
// unique and start at 1 with no gaps, so a misnamed file fails loudly.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: list migrations: %w", err)
	}
	ms := make([]migration, 0, len(names))
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		if !ok || len(num) != 4 {
			return nil, fmt.Errorf("store: migration %s: name must be NNNN_name.sql", base)
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("store: migration %s: bad version: %w", base, err)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != int64(i+1) {
			return nil, fmt.Errorf("store: migration %s: version %d, want %d", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations db has not yet recorded. db must begin transactions
// with BEGIN IMMEDIATE, so two processes opening the same file apply each version once.
func migrate(ctx context.Context, db *sql.DB, ms []migration) (applied int, err error) {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return 0, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		done, err := applyMigration(ctx, db, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration applies m in its own transaction unless it is already recorded, and
// reports whether it applied it.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback() // no-op after Commit

	var n int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: migration %s: check: %w", m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, time.Now().UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: migration %s: commit: %w", m.name, err)
	}
	return true, nil
}
