package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// openTest opens a fresh store in a new temporary directory.
func openTest(t testing.TB) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "data", "firn.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// update runs fn in an Update and fails the test on error.
func update(t testing.TB, s Store, fn func(Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test on error.
func view(t testing.TB, s Store, fn func(Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func key(account, kind, parent, name string) Key {
	return Key{Account: account, Kind: kind, Parent: parent, Name: name}
}

// seed inserts a record for every key.
func seed(t testing.TB, s Store, keys ...Key) {
	t.Helper()
	update(t, s, func(tx Tx) error {
		for _, k := range keys {
			if err := tx.Insert(context.Background(), &Record{Key: k, Owner: "SYSADMIN", Data: []byte(`{"n":"` + k.Name + `"}`)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// names lists the keys of every record of account/kind under parent.
func names(t testing.TB, s Store, account, kind, parent string) []string {
	t.Helper()
	var out []string
	view(t, s, func(tx Tx) error {
		rs, err := tx.List(context.Background(), account, kind, parent)
		for _, r := range rs {
			out = append(out, r.Parent+"/"+r.Name)
		}
		return err
	})
	return out
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	path := filepath.Join(dir, "firn.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s, key("A", "USER", "", "U"))

	for _, c := range []struct {
		path string
		mode os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{path, 0o600},
		{path + "-wal", 0o600},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (os.ModePerm | os.ModeDir); got != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.mode)
		}
	}

	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("writer PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", "file:x.db", "a?b.db"} {
		if s, err := OpenSQLite(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded, want error", p)
		}
	}
}

func TestRecordMethods(t *testing.T) {
	ctx := context.Background()
	u := key("A", "USER", "", "ALICE")
	tests := []struct {
		name    string
		seed    []Key
		op      func(Tx) error
		wantErr error
		// check runs in a View afterwards.
		check func(t *testing.T, tx Tx)
	}{
		{
			name: "insert then get",
			op: func(tx Tx) error {
				return tx.Insert(ctx, &Record{Key: u, Owner: "O", Data: []byte("{}")})
			},
			check: func(t *testing.T, tx Tx) {
				r, err := tx.Get(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if r.Key != u || r.Owner != "O" || string(r.Data) != "{}" || r.ID == 0 {
					t.Errorf("got %+v", r)
				}
				if r.Created.IsZero() || r.Created.Location() != time.UTC || !r.Modified.Equal(r.Created) {
					t.Errorf("times: created %v modified %v", r.Created, r.Modified)
				}
			},
		},
		{
			name:    "insert duplicate",
			seed:    []Key{u},
			op:      func(tx Tx) error { return tx.Insert(ctx, &Record{Key: u}) },
			wantErr: ErrExists,
		},
		{
			name: "insert same name other kind, parent or account",
			seed: []Key{u},
			op: func(tx Tx) error {
				for _, k := range []Key{key("A", "ROLE", "", "ALICE"), key("A", "USER", "X", "ALICE"), key("B", "USER", "", "ALICE")} {
					if err := tx.Insert(ctx, &Record{Key: k}); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			name: "insert keeps given id and times",
			op: func(tx Tx) error {
				r := &Record{Key: u, ID: 42, Created: time.Unix(100, 5), Modified: time.Unix(200, 0)}
				return tx.Insert(ctx, r)
			},
			check: func(t *testing.T, tx Tx) {
				r, err := tx.Get(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != 42 || !r.Created.Equal(time.Unix(100, 5)) || !r.Modified.Equal(time.Unix(200, 0)) {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name:    "get missing",
			op:      func(tx Tx) error { _, err := tx.Get(ctx, u); return err },
			wantErr: ErrNotFound,
		},
		{
			name: "put replaces owner and data, keeps id and created",
			seed: []Key{u},
			op: func(tx Tx) error {
				old, err := tx.Get(ctx, u)
				if err != nil {
					return err
				}
				r := &Record{Key: u, Owner: "NEW", Data: []byte(`{"x":1}`)}
				if err := tx.Put(ctx, r); err != nil {
					return err
				}
				if r.ID != old.ID || !r.Created.Equal(old.Created) || r.Modified.Before(old.Modified) {
					return fmt.Errorf("put filled %+v, old %+v", r, old)
				}
				return nil
			},
			check: func(t *testing.T, tx Tx) {
				r, err := tx.Get(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				if r.Owner != "NEW" || string(r.Data) != `{"x":1}` {
					t.Errorf("got %+v", r)
				}
			},
		},
		{
			name:    "put missing",
			op:      func(tx Tx) error { return tx.Put(ctx, &Record{Key: u}) },
			wantErr: ErrNotFound,
		},
		{
			name: "rename keeps id",
			seed: []Key{key("A", "SCHEMA", "DB", "S")},
			op: func(tx Tx) error {
				return tx.Rename(ctx, key("A", "SCHEMA", "DB", "S"), key("A", "SCHEMA", "DB2", "T"))
			},
			check: func(t *testing.T, tx Tx) {
				if _, err := tx.Get(ctx, key("A", "SCHEMA", "DB", "S")); !errors.Is(err, ErrNotFound) {
					t.Errorf("old key: %v, want ErrNotFound", err)
				}
				r, err := tx.Get(ctx, key("A", "SCHEMA", "DB2", "T"))
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != 1 {
					t.Errorf("id %d, want 1", r.ID)
				}
			},
		},
		{
			name:    "rename missing",
			op:      func(tx Tx) error { return tx.Rename(ctx, u, key("A", "USER", "", "BOB")) },
			wantErr: ErrNotFound,
		},
		{
			name:    "rename to taken key",
			seed:    []Key{u, key("A", "USER", "", "BOB")},
			op:      func(tx Tx) error { return tx.Rename(ctx, u, key("A", "USER", "", "BOB")) },
			wantErr: ErrExists,
		},
		{
			name: "rename across kinds refused",
			seed: []Key{u},
			op: func(tx Tx) error {
				if err := tx.Rename(ctx, u, key("A", "ROLE", "", "ALICE")); err == nil {
					return errors.New("rename across kinds succeeded")
				}
				return nil
			},
		},
		{
			name: "delete",
			seed: []Key{u},
			op:   func(tx Tx) error { return tx.Delete(ctx, u) },
			check: func(t *testing.T, tx Tx) {
				if _, err := tx.Get(ctx, u); !errors.Is(err, ErrNotFound) {
					t.Errorf("Get after Delete: %v, want ErrNotFound", err)
				}
			},
		},
		{
			name:    "delete missing",
			op:      func(tx Tx) error { return tx.Delete(ctx, u) },
			wantErr: ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			seed(t, s, tt.seed...)
			err := s.Update(ctx, tt.op)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil {
				view(t, s, func(tx Tx) error { tt.check(t, tx); return nil })
			}
		})
	}
}

func TestList(t *testing.T) {
	s := openTest(t)
	seed(t, s,
		key("A", "SCHEMA", "DB", "b"),
		key("A", "SCHEMA", "DB", "B"),
		key("A", "SCHEMA", "DB", "A"),
		key("A", "SCHEMA", "OTHER", "A"),
		key("A", "SCHEMA", "AAA", "Z"),
		key("A", "TABLE", "DB.A", "T"),
		key("B", "SCHEMA", "DB", "C"),
	)
	tests := []struct {
		account, kind, parent string
		want                  []string
	}{
		{"A", "SCHEMA", "DB", []string{"DB/A", "DB/B", "DB/b"}},
		{"A", "SCHEMA", "*", []string{"DB/A", "OTHER/A", "DB/B", "AAA/Z", "DB/b"}},
		{"A", "TABLE", "DB.A", []string{"DB.A/T"}},
		{"A", "TABLE", "DB", nil},
		{"B", "SCHEMA", "*", []string{"DB/C"}},
		{"C", "SCHEMA", "*", nil},
	}
	for _, tt := range tests {
		got := names(t, s, tt.account, tt.kind, tt.parent)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("List(%q, %q, %q) = %q, want %q", tt.account, tt.kind, tt.parent, got, tt.want)
		}
	}
}

func TestDeleteUnder(t *testing.T) {
	s := openTest(t)
	seed(t, s,
		key("A", "DATABASE", "", "DB"),
		key("A", "SCHEMA", "DB", "S"),
		key("A", "TABLE", "DB.S", "T"),
		key("A", "VIEW", "DB.S", "V"),
		key("A", "SCHEMA", "DB2", "S"),
		key("A", "TABLE", "DB2.S", "T"),
		key("A", "SCHEMA", "DB_", "S"),
		key("A", "SCHEMA", "DB-", "S"),
		key("B", "SCHEMA", "DB", "S"),
	)
	var n int
	update(t, s, func(tx Tx) error {
		var err error
		n, err = tx.DeleteUnder(context.Background(), "A", "DB")
		return err
	})
	if n != 3 {
		t.Errorf("DeleteUnder removed %d, want 3", n)
	}
	tests := []struct {
		kind string
		want []string
	}{
		{"DATABASE", []string{"/DB"}},
		{"SCHEMA", []string{"DB-/S", "DB2/S", "DB_/S"}},
		{"TABLE", []string{"DB2.S/T"}},
		{"VIEW", nil},
	}
	for _, tt := range tests {
		got := names(t, s, "A", tt.kind, "*")
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s after DeleteUnder: %q, want %q", tt.kind, got, tt.want)
		}
	}
	if got := names(t, s, "B", "SCHEMA", "*"); len(got) != 1 {
		t.Errorf("account B schemas: %q, want 1", got)
	}
}

func TestDeleteAccount(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	sessionIDs := map[string]*Session{}
	for _, acct := range []string{"A", "B"} {
		seed(t, s, key(acct, "USER", "", "U"), key(acct, "SCHEMA", "DB", "S"))
		sess := &Session{Account: acct, TokenHash: []byte("t" + acct), MasterHash: []byte("m" + acct)}
		sessionIDs[acct] = sess
		update(t, s, func(tx Tx) error {
			return errors.Join(
				tx.CreateSession(ctx, sess),
				tx.AppendQuery(ctx, &QueryRecord{QueryID: "q" + acct, Account: acct, StartTime: time.Now()}),
				tx.AppendLogin(ctx, &LoginRecord{Account: acct, EventTimestamp: time.Now()}),
			)
		})
	}
	seed(t, s, key("", "ACCOUNT", "", "A"))
	update(t, s, func(tx Tx) error { return tx.DeleteAccount(ctx, "A") })

	count := func(acct string) (n int) {
		view(t, s, func(tx Tx) error {
			for _, kind := range []string{"USER", "SCHEMA"} {
				rs, err := tx.List(ctx, acct, kind, "*")
				if err != nil {
					return err
				}
				n += len(rs)
			}
			if _, err := tx.SessionByID(ctx, sessionIDs[acct].ID); err == nil {
				n++
			}
			qs, err := tx.Queries(ctx, acct, 0)
			if err != nil {
				return err
			}
			ls, err := tx.Logins(ctx, acct, 0)
			if err != nil {
				return err
			}
			n += len(qs) + len(ls)
			return nil
		})
		return n
	}
	if n := count("A"); n != 0 {
		t.Errorf("account A still has %d rows", n)
	}
	if n := count("B"); n != 5 {
		t.Errorf("account B has %d rows, want 5", n)
	}
	// The ACCOUNT record itself belongs to account "" and is the caller's to delete.
	view(t, s, func(tx Tx) error {
		_, err := tx.Get(ctx, key("", "ACCOUNT", "", "A"))
		return err
	})
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	a := &Session{
		Account: "A", TokenHash: []byte("tok-a"), MasterHash: []byte("mas-a"),
		TokenExpiry: t0.Add(time.Hour), MasterExpiry: t0.Add(4 * time.Hour),
		LastUsed: t0, Created: t0, Data: []byte(`{"user":"U"}`),
	}
	b := &Session{Account: "A", TokenHash: []byte("tok-b"), MasterHash: []byte("mas-b"), MasterExpiry: t0.Add(time.Minute)}
	update(t, s, func(tx Tx) error { return errors.Join(tx.CreateSession(ctx, a), tx.CreateSession(ctx, b)) })
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID {
		t.Fatalf("ids %d, %d", a.ID, b.ID)
	}
	if b.Created.IsZero() {
		t.Error("CreateSession did not fill Created")
	}

	tests := []struct {
		name    string
		op      func(Tx) error
		wantErr error
	}{
		{"by id", func(tx Tx) error {
			got, err := tx.SessionByID(ctx, a.ID)
			if err != nil {
				return err
			}
			if got.ID != a.ID || got.Account != "A" || !bytes.Equal(got.MasterHash, a.MasterHash) || !bytes.Equal(got.TokenHash, a.TokenHash) ||
				!got.TokenExpiry.Equal(a.TokenExpiry) || !got.MasterExpiry.Equal(a.MasterExpiry) ||
				!got.LastUsed.Equal(t0) || !got.Created.Equal(t0) || string(got.Data) != string(a.Data) {
				return fmt.Errorf("got %+v, want %+v", got, a)
			}
			return nil
		}, nil},
		{"by other id", func(tx Tx) error {
			got, err := tx.SessionByID(ctx, b.ID)
			if err == nil && (got.ID != b.ID || string(got.MasterHash) != "mas-b") {
				return fmt.Errorf("got %+v, want session b", got)
			}
			return err
		}, nil},
		{"by unknown id", func(tx Tx) error { _, err := tx.SessionByID(ctx, 999); return err }, ErrNotFound},
		{"duplicate id", func(tx Tx) error {
			return tx.CreateSession(ctx, &Session{ID: a.ID, Account: "A", TokenHash: []byte("x"), MasterHash: []byte("new")})
		}, ErrExists},
		{"ids are not reused", func(tx Tx) error {
			if err := tx.DeleteSession(ctx, b.ID); err != nil {
				return err
			}
			c := &Session{Account: "A", TokenHash: []byte("tok-c"), MasterHash: []byte("mas-c")}
			if err := tx.CreateSession(ctx, c); err != nil {
				return err
			}
			if c.ID <= b.ID {
				return fmt.Errorf("new session got id %d after deleting the newest, %d", c.ID, b.ID)
			}
			return nil
		}, nil},
		{"update renews token", func(tx Tx) error {
			c := *a
			c.TokenHash = []byte("tok-a2")
			c.LastUsed = t0.Add(time.Second)
			if err := tx.UpdateSession(ctx, &c); err != nil {
				return err
			}
			got, err := tx.SessionByID(ctx, a.ID)
			if err != nil {
				return err
			}
			if string(got.TokenHash) != "tok-a2" {
				return fmt.Errorf("token hash %q, want the renewed one", got.TokenHash)
			}
			if !got.LastUsed.Equal(c.LastUsed) {
				return fmt.Errorf("LastUsed %v, want %v", got.LastUsed, c.LastUsed)
			}
			return nil
		}, nil},
		{"update missing", func(tx Tx) error {
			return tx.UpdateSession(ctx, &Session{ID: 999, TokenHash: []byte("x"), MasterHash: []byte("y")})
		}, ErrNotFound},
		{"delete", func(tx Tx) error {
			if err := tx.DeleteSession(ctx, a.ID); err != nil {
				return err
			}
			_, err := tx.SessionByID(ctx, a.ID)
			return err
		}, ErrNotFound},
		{"delete missing", func(tx Tx) error { return tx.DeleteSession(ctx, 999) }, ErrNotFound},
		{"delete expired", func(tx Tx) error {
			n, err := tx.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour))
			if err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("removed %d, want 1", n)
			}
			if _, err := tx.SessionByID(ctx, b.ID); !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("expired session still found: %v", err)
			}
			_, err = tx.SessionByID(ctx, a.ID)
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case runs in an Update that is rolled back, so cases don't interact.
			errRollback := errors.New("rollback")
			err := s.Update(ctx, func(tx Tx) error {
				if err := tt.op(tx); err != nil {
					return err
				}
				return errRollback
			})
			if tt.wantErr == nil && !errors.Is(err, errRollback) {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestQueryHistory(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	full := &QueryRecord{
		QueryID: "q1", Account: "A", SessionID: 7, QueryText: "select 1", QueryType: "SELECT",
		UserName: "U", UserType: "PERSON", RoleName: "R", WarehouseName: "W", DatabaseName: "D",
		SchemaName: "S", Status: "RUNNING", StartTime: t0, RowsProduced: 0,
	}
	update(t, s, func(tx Tx) error {
		return errors.Join(
			tx.AppendQuery(ctx, full),
			tx.AppendQuery(ctx, &QueryRecord{QueryID: "q2", Account: "A", StartTime: t0.Add(2 * time.Second)}),
			tx.AppendQuery(ctx, &QueryRecord{QueryID: "q3", Account: "A", StartTime: t0.Add(time.Second)}),
			tx.AppendQuery(ctx, &QueryRecord{QueryID: "q4", Account: "A", StartTime: t0.Add(time.Second)}),
			tx.AppendQuery(ctx, &QueryRecord{QueryID: "qb", Account: "B", StartTime: t0.Add(time.Hour)}),
		)
	})
	// Replacing q1 by ID finishes it.
	done := *full
	done.Status, done.ErrorCode, done.ErrorMessage = "FAILED_WITH_ERROR", "002003", "does not exist"
	done.EndTime, done.RowsProduced = t0.Add(500*time.Millisecond), 3
	update(t, s, func(tx Tx) error { return tx.AppendQuery(ctx, &done) })

	tests := []struct {
		account string
		limit   int
		want    []string
	}{
		{"A", 0, []string{"q2", "q4", "q3", "q1"}},
		{"A", 2, []string{"q2", "q4"}},
		{"A", -1, []string{"q2", "q4", "q3", "q1"}},
		{"B", 10, []string{"qb"}},
		{"C", 10, nil},
	}
	for _, tt := range tests {
		var got []string
		view(t, s, func(tx Tx) error {
			qs, err := tx.Queries(ctx, tt.account, tt.limit)
			for _, q := range qs {
				got = append(got, q.QueryID)
				if q.QueryID == "q1" && *q != done {
					t.Errorf("q1 = %+v, want %+v", *q, done)
				}
			}
			return err
		})
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Queries(%q, %d) = %v, want %v", tt.account, tt.limit, got, tt.want)
		}
	}
}

func TestLoginHistory(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	first := &LoginRecord{
		Account: "A", EventTimestamp: t0, UserName: "U", ClientIP: "127.0.0.1", ReportedClient: "Go 1.19.1",
		FirstFactor: "PASSWORD", IsSuccess: true, ConnectionID: 9,
	}
	recs := []*LoginRecord{
		first,
		{Account: "A", EventTimestamp: t0.Add(time.Minute), UserName: "V", ErrorCode: "390100", ErrorMessage: "Incorrect username or password was specified."},
		{Account: "A", EventTimestamp: t0.Add(time.Minute), UserName: "W"},
		{Account: "B", EventTimestamp: t0.Add(time.Hour), UserName: "X"},
	}
	update(t, s, func(tx Tx) error {
		for _, l := range recs {
			if err := tx.AppendLogin(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	for i, l := range recs {
		if l.EventID != int64(i+1) {
			t.Errorf("record %d: EventID %d, want %d", i, l.EventID, i+1)
		}
	}
	dup := errors.Join(s.Update(ctx, func(tx Tx) error { return tx.AppendLogin(ctx, &LoginRecord{EventID: 1, Account: "A"}) }))
	if !errors.Is(dup, ErrExists) {
		t.Errorf("duplicate EventID: %v, want ErrExists", dup)
	}

	tests := []struct {
		account string
		limit   int
		want    []string
	}{
		{"A", 0, []string{"W", "V", "U"}},
		{"A", 1, []string{"W"}},
		{"B", 5, []string{"X"}},
	}
	for _, tt := range tests {
		var got []string
		view(t, s, func(tx Tx) error {
			ls, err := tx.Logins(ctx, tt.account, tt.limit)
			for _, l := range ls {
				got = append(got, l.UserName)
				if l.UserName == "U" && *l != *first {
					t.Errorf("login U = %+v, want %+v", *l, *first)
				}
			}
			return err
		})
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Logins(%q, %d) = %v, want %v", tt.account, tt.limit, got, tt.want)
		}
	}
}

func TestNextSequence(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var got []int64
	update(t, s, func(tx Tx) error {
		for _, name := range []string{"a", "a", "b", "a", "b"} {
			v, err := tx.NextSequence(ctx, name)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		return nil
	})
	if want := []int64{1, 2, 1, 3, 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestFailedUpdateWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	boom := errors.New("boom")
	write := func(tx Tx) {
		for _, err := range []error{
			tx.Insert(ctx, &Record{Key: key("A", "USER", "", "U")}),
			tx.CreateSession(ctx, &Session{Account: "A", TokenHash: []byte("t"), MasterHash: []byte("m")}),
			tx.AppendQuery(ctx, &QueryRecord{QueryID: "q", Account: "A"}),
			tx.AppendLogin(ctx, &LoginRecord{Account: "A"}),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.NextSequence(ctx, "seq"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		run  func() error
	}{
		{"error", func() error {
			return s.Update(ctx, func(tx Tx) error { write(tx); return boom })
		}},
		{"panic", func() (err error) {
			defer func() {
				if r := recover(); r != boom {
					err = fmt.Errorf("recovered %v, want boom", r)
				} else {
					err = boom
				}
			}()
			return s.Update(ctx, func(tx Tx) error { write(tx); panic(boom) })
		}},
		{"canceled", func() error {
			ctx, cancel := context.WithCancel(ctx)
			err := s.Update(ctx, func(tx Tx) error { write(tx); cancel(); return nil })
			if !errors.Is(err, context.Canceled) {
				return fmt.Errorf("err = %v, want context.Canceled", err)
			}
			return boom
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, boom) {
				t.Fatalf("got %v, want boom", err)
			}
			view(t, s, func(tx Tx) error {
				if _, err := tx.Get(ctx, key("A", "USER", "", "U")); !errors.Is(err, ErrNotFound) {
					t.Errorf("record: %v, want ErrNotFound", err)
				}
				if ss, err := tx.Sessions(ctx, "A"); err != nil || len(ss) != 0 {
					t.Errorf("sessions: %d, %v; want none", len(ss), err)
				}
				qs, _ := tx.Queries(ctx, "A", 0)
				ls, _ := tx.Logins(ctx, "A", 0)
				if len(qs)+len(ls) != 0 {
					t.Errorf("history rows: %d queries, %d logins", len(qs), len(ls))
				}
				return nil
			})
			// The store is still usable, and the sequence was not advanced. This
			// check rolls itself back so the next case starts from the same state.
			undo := errors.New("undo")
			var v int64
			err := s.Update(ctx, func(tx Tx) error {
				var err error
				v, err = tx.NextSequence(ctx, "seq")
				return errors.Join(err, undo)
			})
			if !errors.Is(err, undo) || v != 1 {
				t.Errorf("NextSequence after failed update = %d (%v), want 1", v, err)
			}
		})
	}
}

func TestUpdateCanceledBeforeStart(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, func(Tx) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("err = %v, called = %v; want context.Canceled, false", err, called)
	}
}

func TestViewIsReadOnly(t *testing.T) {
	s := openTest(t)
	err := s.View(context.Background(), func(tx Tx) error {
		return tx.Insert(context.Background(), &Record{Key: key("A", "USER", "", "U")})
	})
	if err == nil {
		t.Fatal("Insert in View succeeded")
	}
	if got := names(t, s, "A", "USER", "*"); got != nil {
		t.Errorf("View wrote %q", got)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "firn.db")
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		if i == 0 {
			seed(t, s, key("A", "USER", "", "U"))
		}
		var n, maxV int64
		if err := s.r.QueryRow(`SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
			t.Fatal(err)
		}
		if n != int64(len(ms)) || maxV != ms[len(ms)-1].version {
			t.Errorf("open #%d: %d migrations up to %d, want %d up to %d", i, n, maxV, len(ms), ms[len(ms)-1].version)
		}
		if got := names(t, s, "A", "USER", ""); len(got) != 1 {
			t.Errorf("open #%d: users %q", i, got)
		}
		s.Close()
	}

	// A new migration is applied on the next open, and only it.
	next := append(ms[:len(ms):len(ms)], migration{
		version: int64(len(ms) + 1), name: "test_extra.sql", sql: "CREATE TABLE extra (x INTEGER)",
	})
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	applied, err := migrate(ctx, s.w, next)
	if err != nil || applied != 1 {
		t.Fatalf("migrate = %d, %v; want 1, nil", applied, err)
	}
	if applied, err := migrate(ctx, s.w, next); err != nil || applied != 0 {
		t.Fatalf("second migrate = %d, %v; want 0, nil", applied, err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ms, _ := loadMigrations(migrationFS)
	bad := append(ms[:len(ms):len(ms)], migration{
		version: int64(len(ms) + 1), name: "bad.sql", sql: "CREATE TABLE half (x INTEGER); SELECT * FROM nowhere",
	})
	if _, err := migrate(ctx, s.w, bad); err == nil {
		t.Fatal("bad migration succeeded")
	}
	var n int
	if err := s.w.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half-applied migration left table: n=%d err=%v", n, err)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fs      fstest.MapFS
		want    []int64
		wantErr bool
	}{
		{"ordered", fstest.MapFS{"migrations/0002_b.sql": file("b"), "migrations/0001_a.sql": file("a")}, []int64{1, 2}, false},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0003_c.sql": file("c")}, nil, true},
		{"duplicate", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0001_b.sql": file("b")}, nil, true},
		{"bad name", fstest.MapFS{"migrations/1_a.sql": file("a")}, nil, true},
		{"not a number", fstest.MapFS{"migrations/00x1_a.sql": file("a")}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.fs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var got []int64
			for _, m := range ms {
				got = append(got, m.version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("versions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	seqs := make(chan int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(ctx, func(tx Tx) error {
				v, err := tx.NextSequence(ctx, "c")
				if err != nil {
					return err
				}
				seqs <- v
				return tx.Insert(ctx, &Record{Key: key("A", "USER", "", fmt.Sprintf("U%02d", i))})
			})
		}()
		// Readers run alongside the writers.
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.View(ctx, func(tx Tx) error { _, err := tx.List(ctx, "A", "USER", ""); return err })
		}()
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[int64]bool{}
	for v := range seqs {
		if seen[v] || v < 1 || v > n {
			t.Errorf("sequence value %d repeated or out of range", v)
		}
		seen[v] = true
	}
	if got := names(t, s, "A", "USER", ""); len(got) != n {
		t.Errorf("%d users, want %d", len(got), n)
	}
}

func TestSessionsList(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(tx Tx) error {
		for i, acct := range []string{"A", "B", "A"} {
			s := &Session{Account: acct, TokenHash: []byte{byte(i), 1}, MasterHash: []byte{byte(i), 2}}
			if err := tx.CreateSession(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = st.View(ctx, func(tx Tx) error {
		for _, tt := range []struct {
			account string
			want    int
		}{{"A", 2}, {"a", 2}, {"B", 1}, {"", 3}, {"C", 0}} {
			got, err := tx.Sessions(ctx, tt.account)
			if err != nil || len(got) != tt.want {
				t.Errorf("Sessions(%q) = %d, %v; want %d", tt.account, len(got), err, tt.want)
			}
		}
		return nil
	})
}

// TestGroupCommitIsolatesFailures runs many concurrent Updates, so that they share
// group-commit batches, and checks that each failed or panicking one leaves nothing
// while every successful one is committed.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	st, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "firn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil && i%3 != 2 {
					errs[i] = fmt.Errorf("unexpected panic: %v", p)
				}
			}()
			errs[i] = st.Update(ctx, func(tx Tx) error {
				if err := tx.Insert(ctx, &Record{Key: Key{Account: "A", Kind: "K", Name: fmt.Sprint(i)}, Data: []byte("{}")}); err != nil {
					return err
				}
				switch i % 3 {
				case 1:
					return errors.New("refused")
				case 2:
					panic("boom")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if i%3 == 0 && err != nil {
			t.Errorf("update %d: %v", i, err)
		}
		if i%3 == 1 && err == nil {
			t.Errorf("update %d: failure not reported", i)
		}
	}
	_ = st.View(ctx, func(tx Tx) error {
		recs, err := tx.List(ctx, "A", "K", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != n/3 {
			t.Errorf("%d records committed; want %d", len(recs), n/3)
		}
		for _, r := range recs {
			var i int
			fmt.Sscan(r.Name, &i)
			if i%3 != 0 {
				t.Errorf("record %d of a failed update was committed", i)
			}
		}
		return nil
	})
}
