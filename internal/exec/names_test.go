package exec

import "testing"

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"%", "ANY", true},
		{"", "", true},
		{"", "X", false},
		{"db%", "DB1", true},
		{"DB_", "DB1", true},
		{"DB_", "DB12", false},
		{"%1", "DB1", true},
		{"%b%", "ABC", true},
		{"a%c%e", "ABCDE", true},
		{"a%c%e", "ABCD", false},
		{`DB\_1`, "DB_1", true},
		{`DB\_1`, "DBX1", false},
		{"%%x", "aax", true},
	}
	for _, tt := range tests {
		if got := likeMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("likeMatch(%q, %q) = %v; want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}
