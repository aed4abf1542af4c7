package result

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// checkJSONString fails unless AppendJSONString(s) is valid JSON that decodes to what
// encoding/json's own encoding of s decodes to.
func checkJSONString(t *testing.T, s string) {
	t.Helper()
	got := AppendJSONString(nil, s)
	if !json.Valid(got) {
		t.Fatalf("AppendJSONString(%q) = %s: not valid JSON", s, got)
	}
	var a, b string
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	ref, _ := json.Marshal(s)
	if err := json.Unmarshal(ref, &b); err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("AppendJSONString(%q) decodes to %q, encoding/json to %q", s, a, b)
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"<&>", `"<&>"`},
		{"é日本🙂", `"é日本🙂"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"\xe2\x82", `"\ufffd\ufffd"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(AppendJSONString([]byte("x"), tt.in)); got != "x"+tt.want {
				t.Errorf("AppendJSONString(%q) = %s, want x%s", tt.in, got, tt.want)
			}
			checkJSONString(t, tt.in)
		})
	}
}

// TestAppendRowJSON checks that a row appended as JSON decodes to the same strings as
// EncodeRowsStyle gives, for every column type, NULLs and pre-1970 timestamps.
func TestAppendRowJSON(t *testing.T) {
	cols := []Column{
		col("fixed", 38, 0), col("fixed", 12, 2), col("real", 0, 0), col("text", 0, 0),
		col("boolean", 0, 0), col("date", 0, 0), col("time", 0, 9), col("timestamp_ntz", 0, 9),
		col("timestamp_ltz", 0, 3), col("timestamp_tz", 0, 9), col("variant", 0, 0), col("binary", 0, 0),
	}
	pre := time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.FixedZone("", -3*3600))
	rows := [][]any{
		{int64(1), "2.50", 1.25, "a\"b\n<c>", true, pre, pre, pre, pre, pre, json.RawMessage(`{"k":[1,2]}`), []byte{0, 255}},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{int64(-9), "-0.01", 0.0, "\xff", false, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 0, 0, 1, time.UTC),
			time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC), time.Unix(-1, 999000000), time.Unix(1e9, 0).In(time.FixedZone("", 5*3600+30*60)), map[string]any{"x": "<y>"}, []byte{}},
	}
	for _, style := range []EpochStyle{EpochGo, EpochDecimal} {
		want, err := EncodeRowsStyle(&Set{Columns: cols, Rows: rows}, time.UTC, style)
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range rows {
			b, err := AppendRowJSON([]byte("prefix"), row, cols, time.UTC, style)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.TrimPrefix(b, []byte("prefix"))
			var got []*string
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("row %d: %s: %v", i, b, err)
			}
			ref, _ := json.Marshal(want[i])
			var wantDec []*string
			_ = json.Unmarshal(ref, &wantDec)
			if !reflect.DeepEqual(got, wantDec) {
				t.Errorf("style %d row %d: got %s, want %s", style, i, b, ref)
			}
		}
	}
	if _, err := AppendRowJSON(nil, []any{1}, cols, time.UTC, EpochGo); err == nil {
		t.Error("short row: no error")
	}
	if _, err := AppendRowJSON(nil, []any{struct{}{}}, cols[:1], time.UTC, EpochGo); err == nil {
		t.Error("unsupported value: no error")
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff\xfe", "\u2028", "日本", "\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkJSONString(t, s)
	})
}
