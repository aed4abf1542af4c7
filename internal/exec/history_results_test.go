package exec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/session"
)

func TestResultCacheLastQueryID(t *testing.T) {
	c := newResultCache()
	s := &session.Session{ID: 7, Account: "A", User: "U"}
	for i := 1; i <= 5; i++ {
		var set *result.Set
		if i != 3 {
			set = result.Status(result.Select, fmt.Sprint(i))
		}
		c.note(s, fmt.Sprintf("q%d", i), set)
	}
	tests := []struct {
		n    int
		want string
	}{
		{-1, "q5"}, {-2, "q4"}, {-5, "q1"}, {-6, ""}, {1, "q1"}, {5, "q5"}, {6, ""}, {0, ""},
	}
	for _, tc := range tests {
		got, ok := c.lastQueryID(s, tc.n)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("LAST_QUERY_ID(%d) = %q, %v; want %q", tc.n, got, ok, tc.want)
		}
	}
	if _, err := c.scan(s, "q3"); err == nil {
		t.Error("scan of a failed statement succeeded")
	}
	if set, err := c.scan(s, "q2"); err != nil || set.Rows[0][0] != "2" {
		t.Errorf("scan q2 = %v, %v", set, err)
	}
	// Another session, or another user with the same session id, sees nothing.
	for _, o := range []*session.Session{{ID: 8, Account: "A", User: "U"}, {ID: 7, Account: "A", User: "V"}, {ID: 7, Account: "B", User: "U"}} {
		if _, err := c.scan(o, "q2"); err == nil {
			t.Errorf("session %+v scanned q2", o)
		}
	}
}

func TestResultCacheBounds(t *testing.T) {
	c := newResultCache()
	s := &session.Session{ID: 1, Account: "A", User: "U"}
	for i := 0; i < maxSessionSets+5; i++ {
		c.note(s, fmt.Sprintf("q%d", i), result.Status(result.Select, "x"))
	}
	if _, err := c.scan(s, "q0"); err == nil {
		t.Error("oldest result kept beyond the per-session bound")
	}
	if _, err := c.scan(s, fmt.Sprintf("q%d", maxSessionSets+4)); err != nil {
		t.Errorf("newest result lost: %v", err)
	}
	if n := len(c.sessions[1].sets); n != maxSessionSets {
		t.Errorf("%d results kept; want %d", n, maxSessionSets)
	}
	big := &result.Set{Columns: []result.Column{result.Text("a")}, Rows: make([][]any, maxCachedCells/4+1)}
	c.note(s, "big", big)
	if _, err := c.scan(s, "big"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("scan of a result over the bound: %v", err)
	}
	for i := 0; i < maxSessionIDs+10; i++ {
		c.note(s, fmt.Sprintf("z%d", i), nil)
	}
	if id, ok := c.lastQueryID(s, -1); !ok || id != fmt.Sprintf("z%d", maxSessionIDs+9) {
		t.Errorf("LAST_QUERY_ID(-1) = %s", id)
	}
	if _, ok := c.lastQueryID(s, 1); ok {
		t.Error("LAST_QUERY_ID(1) survived the id bound")
	}
}

func TestSplitPipe(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"SELECT 1", nil},
		{"SHOW USERS ->> SELECT * FROM $1", []string{"SHOW USERS ", " SELECT * FROM $1"}},
		{"SELECT '->>' ->> SELECT 2", []string{"SELECT '->>' ", " SELECT 2"}},
		{"SELECT (a ->> 'x') FROM t", nil},
		{"a ->> b ->> c", []string{"a ", " b ", " c"}},
	}
	for _, tc := range tests {
		got, ok := splitPipe(tc.in)
		if ok != (tc.want != nil) || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("splitPipe(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
