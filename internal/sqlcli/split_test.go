package sqlcli

import (
	"reflect"
	"testing"
)

func TestSplitScript(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"one without semicolon", "SELECT 1", []string{"SELECT 1"}, false},
		{"two", "SELECT 1; SELECT 2;", []string{"SELECT 1", "SELECT 2"}, false},
		{"semicolon in string", "SELECT 'a;b'; SELECT 2", []string{"SELECT 'a;b'", "SELECT 2"}, false},
		{"comment-only statements dropped", "-- hello\n; /* x */ ; SELECT 1; -- bye", []string{"SELECT 1"}, false},
		{"unterminated string", "SELECT 'abc; SELECT 2", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitScript(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("splitScript(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCompleteStatements(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []string
		wantRest string
	}{
		{"blank", "\n", nil, ""},
		{"no semicolon yet", "SELECT 1\n", nil, "SELECT 1\n"},
		{"complete", "SELECT 1;\n", []string{"SELECT 1"}, ""},
		{"complete and a started one", "SELECT 1; SELECT\n", []string{"SELECT 1"}, "SELECT\n"},
		{"two complete", "SELECT 1; SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}, ""},
		{"open string", "SELECT 'a;\n", nil, "SELECT 'a;\n"},
		{"closed string", "SELECT 'a;\nb';\n", []string{"SELECT 'a;\nb'"}, ""},
		{"open block comment", "SELECT 1 /* ;\n", nil, "SELECT 1 /* ;\n"},
		{"trailing line comment", "SELECT 1; -- done\n", []string{"SELECT 1"}, ""},
		{"open $$ block", "CREATE FUNCTION f() RETURNS INT AS $$ 1;\n", nil, "CREATE FUNCTION f() RETURNS INT AS $$ 1;\n"},
		{"scripting block waits for END;", "BEGIN\n  SELECT 1;\n", nil, "BEGIN\n  SELECT 1;\n"},
		{"scripting block complete", "BEGIN\n  SELECT 1;\nEND;\n", []string{"BEGIN\n  SELECT 1;\nEND"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest := completeStatements(tt.in)
			if !reflect.DeepEqual(got, tt.want) || rest != tt.wantRest {
				t.Errorf("completeStatements(%q) = %q, %q; want %q, %q", tt.in, got, rest, tt.want, tt.wantRest)
			}
		})
	}
}
