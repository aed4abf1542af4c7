package sql

import (
	"errors"
	"strings"
	"testing"

	"github.com/firn/firn/internal/sferr"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ABC", "ABC"},
		{"_X1$", "_X1$"},
		{"abc", `"abc"`},
		{"My Role", `"My Role"`},
		{`a"b`, `"a""b"`},
		{"1ABC", `"1ABC"`},
		{"$ABC", `"$ABC"`},
		{"", `""`},
		{"TABLE", `"TABLE"`},
		{"SELECT", `"SELECT"`},
		{"SYSADMIN", "SYSADMIN"},
		{"É", `"É"`},
	}
	for _, tt := range tests {
		if got := QuoteIdent(tt.in); got != tt.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestQuoteIdentRoundTrip checks that a quoted name parses back to the same text.
func TestQuoteIdentRoundTrip(t *testing.T) {
	for _, name := range []string{"ABC", "abc", "My Role", `a"b`, "TABLE", "X.Y", "é"} {
		st, err := Parse("USE ROLE " + QuoteIdent(name))
		if err != nil {
			t.Fatalf("Parse(USE ROLE %s): %v", QuoteIdent(name), err)
		}
		if got := st.(*Use).Name.Last().Name; got != name {
			t.Errorf("round trip of %q gave %q", name, got)
		}
	}
}

func TestObjectName(t *testing.T) {
	n := ObjectName{Parts: []Ident{{Name: "DB"}, {Name: "my schema", Quoted: true}, {Name: "T"}}}
	if got, want := n.SQL(), `DB."my schema".T`; got != want {
		t.Errorf("SQL() = %s, want %s", got, want)
	}
	if got, want := n.String(), "DB.my schema.T"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got := n.Last(); got.Name != "T" {
		t.Errorf("Last() = %v", got)
	}
	if got := (ObjectName{}).Last(); got != (Ident{}) {
		t.Errorf("empty Last() = %v, want zero", got)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  USE ROLE R ;  ", "USE ROLE R"},
		{"select 1;", "select 1"},
		{"\n SHOW DATABASES\n", "SHOW DATABASES"},
		{"CREATE TABLE t (a int);", "CREATE TABLE t (a int)"},
	}
	for _, tt := range tests {
		st, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := st.Text(); got != tt.want {
			t.Errorf("Parse(%q).Text() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestErrorsAreSnowflakeErrors checks that every parse error carries a code.
func TestErrorsAreSnowflakeErrors(t *testing.T) {
	for _, in := range []string{"SELEC", "SHOW", "USE ROLE 'x", "CREATE OR REPLACE ROLE IF NOT EXISTS r", ""} {
		_, err := Parse(in)
		var e *sferr.Error
		if !errors.As(err, &e) || e.Code == "" {
			t.Errorf("Parse(%q) error %v is not a coded *sferr.Error", in, err)
		}
	}
}

// TestKindTablesDisjoint guards the kind tables against entries in both lists.
func TestKindTablesDisjoint(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range controlKinds {
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
	}
	for _, k := range dataKinds {
		if seen[k] {
			t.Errorf("kind %q is both a control and a data kind", k)
		}
		seen[k] = true
	}
}

func TestTokenizeOffsets(t *testing.T) {
	for _, in := range goldenInputs(t) {
		toks, err := Tokenize(in)
		if err != nil {
			continue
		}
		checkTokens(t, in, toks)
	}
}

// checkTokens asserts that every token's text is its slice of src, that tokens do
// not overlap, and that line and column agree with the offset.
func checkTokens(t *testing.T, src string, toks []Token) {
	t.Helper()
	prev := 0
	for _, tok := range toks {
		if tok.Offset < prev || tok.End() > len(src) {
			t.Fatalf("token %+v out of range (prev end %d, len %d) in %q", tok, prev, len(src), src)
		}
		if src[tok.Offset:tok.End()] != tok.Text {
			t.Fatalf("token %+v text differs from source %q", tok, src[tok.Offset:tok.End()])
		}
		before := src[:tok.Offset]
		line := strings.Count(before, "\n") + 1
		col := len([]rune(before[strings.LastIndexByte(before, '\n')+1:]))
		if tok.Line != line || tok.Column != col {
			t.Fatalf("token %+v at line %d column %d, want %d:%d in %q", tok, tok.Line, tok.Column, line, col, src)
		}
		prev = tok.End()
	}
	if last := toks[len(toks)-1]; last.Kind != TokEOF || last.Offset != len(src) {
		t.Fatalf("last token %+v is not EOF at %d", last, len(src))
	}
}

// TestSplitThenParse checks that each statement Split returns parses alone to the
// same result as in a script.
func TestSplitThenParse(t *testing.T) {
	script := `USE ROLE SYSADMIN; -- pick role
ALTER SESSION SET TIMEZONE = 'UTC;', QUERY_TAG = $$a;b$$;
CREATE DATABASE IF NOT EXISTS "db;1";;
SELECT ';' AS "x;y" /* ; */;
BEGIN
  SELECT 1;
END;
SHOW DATABASES LIKE 'X%'`
	stmts, err := Split(script)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"*sql.Use", "*sql.AlterSession", "*sql.Create", "*sql.Query", "*sql.Query", "*sql.Show"}
	if len(stmts) != len(wantTypes) {
		t.Fatalf("Split gave %d statements %q, want %d", len(stmts), stmts, len(wantTypes))
	}
	for i, s := range stmts {
		st, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if got := typeName(st); got != wantTypes[i] {
			t.Errorf("statement %d %q parsed as %s, want %s", i, s, got, wantTypes[i])
		}
		if st.Text() != s {
			t.Errorf("Text() = %q, want %q", st.Text(), s)
		}
	}
	if c := mustParse(t, stmts[2]).(*Create); c.Name.Last().Name != "db;1" {
		t.Errorf("quoted name = %q", c.Name.Last().Name)
	}
	if q := mustParse(t, stmts[4]).(*Query); !q.Block {
		t.Errorf("BEGIN ... END not a block")
	}
}

func mustParse(t *testing.T, s string) Statement {
	t.Helper()
	st, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func typeName(st Statement) string {
	switch st.(type) {
	case *Use:
		return "*sql.Use"
	case *AlterSession:
		return "*sql.AlterSession"
	case *Create:
		return "*sql.Create"
	case *Query:
		return "*sql.Query"
	case *Show:
		return "*sql.Show"
	}
	return "other"
}

func TestLexerStickyError(t *testing.T) {
	l := NewLexer("a 'b")
	if tok, err := l.Next(); err != nil || !tok.Is("A") {
		t.Fatalf("first token = %+v, %v", tok, err)
	}
	_, err1 := l.Next()
	_, err2 := l.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v, %v: want the same error twice", err1, err2)
	}
}

func TestLexerEOFRepeats(t *testing.T) {
	l := NewLexer("x")
	l.Next()
	for range 3 {
		if tok, err := l.Next(); err != nil || tok.Kind != TokEOF || tok.Offset != 1 {
			t.Fatalf("after the end: %+v, %v", tok, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, in := range goldenInputs(f) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if toks, err := Tokenize(src); err == nil {
			checkTokens(t, src, toks)
		}
		_, _ = Parse(src)
		stmts, err := Split(src)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if s == "" {
				t.Fatalf("Split(%q) returned an empty statement", src)
			}
			if !strings.Contains(src, s) {
				t.Fatalf("Split(%q) returned %q, not part of the input", src, s)
			}
			_, _ = Parse(s)
		}
	})
}

func BenchmarkParseControl(b *testing.B) {
	stmts := []string{
		"USE ROLE SYSADMIN",
		"ALTER SESSION SET TIMEZONE = 'UTC'",
		"SHOW DATABASES LIKE 'X%'",
		"CREATE WAREHOUSE IF NOT EXISTS wh WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60",
		"GRANT USAGE ON DATABASE db TO ROLE analyst",
		"SELECT * FROM t WHERE a = 1",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range stmts {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	script := strings.Repeat("USE ROLE SYSADMIN; SELECT 'a;b' FROM t -- x\n; ", 50)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Split(script); err != nil {
			b.Fatal(err)
		}
	}
}
