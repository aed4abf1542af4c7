package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// TestMigration3SessionIDs upgrades a version-2 database holding sessions and history:
// the old sessions are gone (their tokens carry no id), and new session ids continue
// after every id the old sessions and the history used.
func TestMigration3SessionIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "firn.db")
	db, err := sql.Open("sqlite", path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 3 || ms[2].version != 3 {
		t.Fatalf("migrations %v: want version 3 third", ms)
	}
	if _, err := migrate(ctx, db, ms[:2]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO sessions (id, account, token_hash, master_hash, token_expiry, master_expiry, last_used, created)
		 VALUES (7, 'A', x'01', x'02', 1, 1, 1, 1)`,
		`INSERT INTO query_history (query_id, account, session_id, query_text, query_type, user_name, user_type,
		 role_name, warehouse_name, database_name, schema_name, status, error_code, error_message, start_time,
		 end_time, rows_produced) VALUES ('q', 'A', 41, '', '', '', '', '', '', '', '', '', '', '', 1, 1, 0)`,
		`INSERT INTO login_history (account, event_timestamp, user_name, client_ip, reported_client,
		 first_factor, is_success, error_code, error_message, connection_id)
		 VALUES ('A', 1, 'U', '', '', '', 1, '', '', 12)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("sessions after upgrade: %d, %v; want 0", n, err)
	}
	var idx int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
		WHERE type = 'index' AND tbl_name = 'sessions' AND sql IS NULL`).Scan(&idx); err != nil || idx != 0 {
		t.Fatalf("automatic (UNIQUE) indexes on sessions: %d, %v; want none", idx, err)
	}
	sess := &Session{Account: "A", TokenHash: []byte("t"), MasterHash: []byte("m")}
	if err := s.Update(ctx, func(tx Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
		t.Fatal(err)
	}
	if sess.ID != 42 {
		t.Errorf("first session after upgrade has id %d, want 42 (after query_history's 41)", sess.ID)
	}
}
