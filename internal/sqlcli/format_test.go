package sqlcli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestRenderValue(t *testing.T) {
	plus1 := time.FixedZone("", 3600)
	tests := []struct {
		name string
		v    any
		typ  string
		want cell
	}{
		{"null", nil, "TEXT", cell{Null: true}},
		{"fixed string", "42", "FIXED", cell{Text: "42"}},
		{"fixed scale", "1.50", "FIXED", cell{Text: "1.50"}},
		{"int64", int64(-7), "FIXED", cell{Text: "-7"}},
		{"real", "1.5", "REAL", cell{Text: "1.5"}},
		{"float64", 0.25, "REAL", cell{Text: "0.25"}},
		{"text", "héllo", "TEXT", cell{Text: "héllo"}},
		{"boolean 1", "1", "BOOLEAN", cell{Text: "True"}},
		{"boolean 0", "0", "BOOLEAN", cell{Text: "False"}},
		{"boolean bool", true, "BOOLEAN", cell{Text: "True"}},
		{"date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), "DATE", cell{Text: "2024-01-02"}},
		{"time", time.Date(1, 1, 1, 3, 4, 5, 500000000, time.UTC), "TIME", cell{Text: "03:04:05"}},
		{"timestamp_ntz", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC), "TIMESTAMP_NTZ", cell{Text: "2024-01-02 03:04:05.123"}},
		{"timestamp_ltz", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "TIMESTAMP_LTZ", cell{Text: "2024-01-02 03:04:05.000 +0000"}},
		{"timestamp_tz", time.Date(2024, 1, 2, 3, 4, 5, 7000000, plus1), "TIMESTAMP_TZ", cell{Text: "2024-01-02 03:04:05.007 +0100"}},
		{"binary", []byte("Hello"), "BINARY", cell{Text: "48656C6C6F"}},
		{"variant", `{"a":1}`, "VARIANT", cell{Text: `{"a":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderValue(tt.v, tt.typ); got != tt.want {
				t.Errorf("renderValue(%#v, %s) = %+v, want %+v", tt.v, tt.typ, got, tt.want)
			}
		})
	}
}

func text(s string) cell { return cell{Text: s} }

var null = cell{Null: true}

// fixtures are the result sets behind the golden files.
var fixtures = map[string]*resultSet{
	"types": {
		Columns: []column{{"N", "FIXED"}, {"F", "REAL"}, {"S", "TEXT"}, {"B", "BOOLEAN"}, {"D", "DATE"},
			{"TS", "TIMESTAMP_NTZ"}, {"V", "VARIANT"}, {"BIN", "BINARY"}},
		Rows: [][]cell{
			{text("1"), text("1.5"), text("x"), text("True"), text("2024-01-02"), text("2024-01-02 03:04:05.123"),
				text("{\n  \"a\": 1\n}"), text("48656C6C6F")},
			{text("-12345"), text("NaN"), text(`say "hi", ok`), text("False"), null, null, null, null},
		},
	},
	"unicode": {
		Columns: []column{{"name", "TEXT"}, {"città", "TEXT"}, {"n", "FIXED"}},
		Rows: [][]cell{
			{text("日本語"), text("Zürich"), text("1")},
			{text("e\u0301"), text("🦆 duck"), text("22")},
		},
	},
	"empty": {
		Columns: []column{{"name", "TEXT"}, {"created_on", "TIMESTAMP_LTZ"}},
	},
	"status": {
		Columns: []column{{"status", "TEXT"}},
		Rows:    [][]cell{{text("Database DB1 successfully created.")}},
	},
	"nocolumns": {},
}

func TestWriteGolden(t *testing.T) {
	for name, rs := range fixtures {
		for _, format := range []string{FormatTable, FormatJSON, FormatCSV} {
			t.Run(name+"."+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := write(&b, format, rs); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+"."+format+".golden")
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if got := b.String(); got != string(want) {
					t.Errorf("output differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
				}
			})
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	if err := write(&bytes.Buffer{}, "xml", fixtures["status"]); err == nil {
		t.Fatal("write with format xml succeeded, want an error")
	}
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0}, {"abc", 3}, {"Zürich", 6}, {"e\u0301", 1}, {"日本語", 6}, {"🦆", 2}, {"ｆｕｌｌ", 8}, {"한국", 4},
	}
	for _, tt := range tests {
		if got := displayWidth(tt.s); got != tt.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}
