package result

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
)

func col(typ string, prec, scale int64) Column {
	return Column{Name: "C", Type: typ, Precision: prec, Scale: scale, Nullable: true}
}

func TestEncode(t *testing.T) {
	plus1 := time.FixedZone("", 60*60)
	minus530 := time.FixedZone("", -(5*60+30)*60)
	ts := time.Date(2023, 11, 14, 22, 13, 20, 123456789, time.UTC)
	big38, _ := new(big.Int).SetString("-12345678901234567890123456789012345678", 10)
	tests := []struct {
		name string
		v    any
		c    Column
		want string
	}{
		{"fixed int64", int64(42), col("fixed", 38, 0), "42"},
		{"fixed negative int", -7, col("fixed", 38, 0), "-7"},
		{"fixed int32", int32(5), col("fixed", 10, 0), "5"},
		{"fixed uint64 max", uint64(math.MaxUint64), col("fixed", 38, 0), "18446744073709551615"},
		{"fixed int with scale", int64(3), col("fixed", 10, 2), "3.00"},
		{"fixed big.Int", big38, col("fixed", 38, 0), "-12345678901234567890123456789012345678"},
		{"fixed string exact", "3.14", col("fixed", 10, 2), "3.14"},
		{"fixed string padded", "3.1", col("fixed", 10, 3), "3.100"},
		{"fixed string rounded", "2.345", col("fixed", 10, 2), "2.35"},
		{"fixed string negative rounded", "-2.345", col("fixed", 10, 2), "-2.35"},
		{"fixed string negative small", "-0.05", col("fixed", 10, 2), "-0.05"},
		{"fixed float64", 1.5, col("fixed", 10, 1), "1.5"},
		{"fixed float64 rounded", 2.0 / 3, col("fixed", 10, 3), "0.667"},
		{"fixed float64 negative zero", -0.0001, col("fixed", 10, 2), "0.00"},
		{"real", 1.5, col("real", 0, 0), "1.5"},
		{"real shortest", 0.1, col("real", 0, 0), "0.1"},
		{"real large", 1e300, col("real", 0, 0), "1e+300"},
		{"real float32", float32(0.1), col("real", 0, 0), "0.1"},
		{"real NaN", math.NaN(), col("real", 0, 0), "NaN"},
		{"real +inf", math.Inf(1), col("real", 0, 0), "Infinity"},
		{"real -inf", math.Inf(-1), col("real", 0, 0), "-Infinity"},
		{"real string", "2.50", col("real", 0, 0), "2.5"},
		{"text", "it's", col("text", 0, 0), "it's"},
		{"text empty", "", col("text", 0, 0), ""},
		{"boolean true", true, col("boolean", 0, 0), "1"},
		{"boolean false", false, col("boolean", 0, 0), "0"},
		{"date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), col("date", 0, 0), "19724"},
		{"date epoch", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), col("date", 0, 0), "0"},
		{"date before 1970", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), col("date", 0, 0), "-1"},
		{"date 1900", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), col("date", 0, 0), "-25567"},
		{"date keeps wall date", time.Date(2024, 1, 2, 23, 30, 0, 0, minus530), col("date", 0, 0), "19724"},
		{"time", time.Date(1, 1, 1, 1, 2, 3, 500000000, time.UTC), col("time", 0, 9), "3723.500000000"},
		{"time scale 3", time.Date(1, 1, 1, 12, 34, 56, 789000000, time.UTC), col("time", 0, 3), "45296.789"},
		{"time scale 0 default 9", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), col("time", 0, 0), "1.000000000"},
		{"time duration", 90 * time.Minute, col("time", 0, 9), "5400.000000000"},
		{"ntz", ts, col("timestamp_ntz", 0, 9), "1700000000.123456789"},
		{"ntz scale 3 truncates", ts, col("timestamp_ntz", 0, 3), "1700000000.123"},
		{"ntz wall clock read as UTC", time.Date(2023, 11, 14, 22, 13, 20, 0, plus1), col("timestamp_ntz", 0, 9), "1700000000.000000000"},
		{"ntz negative fraction", time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC), col("timestamp_ntz", 0, 9), "-1.500000000"},
		{"ntz negative whole", time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), col("timestamp_ntz", 0, 9), "-1.000000000"},
		{"ltz instant", time.Date(2023, 11, 14, 23, 13, 20, 0, plus1), col("timestamp_ltz", 0, 9), "1700000000.000000000"},
		{"ltz scale 3", ts, col("timestamp_ltz", 0, 3), "1700000000.123"},
		{"tz", time.Date(2023, 11, 14, 23, 13, 20, 0, plus1), col("timestamp_tz", 0, 9), "1700000000.000000000 1500"},
		{"tz negative offset", time.Date(2023, 11, 14, 16, 43, 20, 0, minus530), col("timestamp_tz", 0, 9), "1700000000.000000000 1110"},
		{"tz UTC", ts, col("timestamp_tz", 0, 9), "1700000000.123456789 1440"},
		{"variant raw", json.RawMessage(`{"a":1}`), col("variant", 0, 0), `{"a":1}`},
		{"variant string keeps quotes", "abc", col("variant", 0, 0), `"abc"`},
		{"variant html not escaped", "<a&b>", col("variant", 0, 0), `"<a&b>"`},
		{"object map", map[string]any{"b": 2, "a": "x"}, col("object", 0, 0), `{"a":"x","b":2}`},
		{"array", []any{1, "two", nil}, col("array", 0, 0), `[1,"two",null]`},
		{"variant number", 42, col("variant", 0, 0), `42`},
		{"binary", []byte("Hello"), col("binary", 0, 0), "48656C6C6F"},
		{"binary empty", []byte{}, col("binary", 0, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.v, tt.c, time.UTC)
			if err != nil {
				t.Fatalf("Encode(%v): %v", tt.v, err)
			}
			if got == nil {
				t.Fatalf("Encode(%v) = nil, want %q", tt.v, tt.want)
			}
			if *got != tt.want {
				t.Errorf("Encode(%v) = %q, want %q", tt.v, *got, tt.want)
			}
		})
	}
}

func TestEncodeNull(t *testing.T) {
	for _, typ := range []string{"fixed", "real", "text", "boolean", "date", "time", "timestamp_ntz", "timestamp_ltz", "timestamp_tz", "variant", "object", "array", "binary"} {
		got, err := Encode(nil, col(typ, 0, 0), nil)
		if err != nil || got != nil {
			t.Errorf("Encode(nil, %s) = %v, %v; want nil, nil", typ, got, err)
		}
	}
	if got, err := Encode((*big.Int)(nil), col("fixed", 38, 0), nil); err != nil || got != nil {
		t.Errorf("Encode((*big.Int)(nil)) = %v, %v; want nil, nil", got, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		v    any
		c    Column
	}{
		{"unknown type", 1, col("geography", 0, 0)},
		{"fixed bad string", "abc", col("fixed", 38, 0)},
		{"fixed fraction string", "1/3", col("fixed", 38, 0)},
		{"fixed NaN", math.NaN(), col("fixed", 38, 0)},
		{"fixed struct", struct{}{}, col("fixed", 38, 0)},
		{"real bad string", "x", col("real", 0, 0)},
		{"boolean bad", "maybe", col("boolean", 0, 0)},
		{"date string", "2024-01-01", col("date", 0, 0)},
		{"time out of range", 25 * time.Hour, col("time", 0, 9)},
		{"timestamp int", 5, col("timestamp_ntz", 0, 9)},
		{"variant invalid raw", json.RawMessage(`{`), col("variant", 0, 0)},
		{"variant unmarshalable", func() {}, col("variant", 0, 0)},
		{"binary int", 5, col("binary", 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := Encode(tt.v, tt.c, nil); err == nil {
				t.Errorf("Encode(%v, %s) = %q, want error", tt.v, tt.c.Type, *got)
			}
		})
	}
}

// goExtractTimestamp mirrors gosnowflake v1.19.1 converter.go extractTimestamp: signed
// whole seconds before the dot, the digits after it added as positive nanoseconds.
func goExtractTimestamp(s string) (sec, nsec int64, err error) {
	whole, frac, ok := strings.Cut(s, ".")
	sec, err = strconv.ParseInt(whole, 10, 64)
	if err != nil || !ok {
		return sec, 0, err
	}
	nsec, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	return sec, nsec, err
}

// goDecode mirrors gosnowflake v1.19.1 converter.go stringToValue for the time types.
func goDecode(t *testing.T, s string, c Column) time.Time {
	t.Helper()
	switch c.Type {
	case "date":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return time.Unix(v*86400, 0).UTC()
	case "time":
		sec, nsec, err := goExtractTimestamp(s)
		if err != nil {
			t.Fatal(err)
		}
		return time.Time{}.Add(time.Duration(sec*1e9 + nsec))
	case "timestamp_ntz", "timestamp_ltz":
		sec, nsec, err := goExtractTimestamp(s)
		if err != nil {
			t.Fatal(err)
		}
		return time.Unix(sec, nsec).UTC()
	case "timestamp_tz":
		epoch, off, ok := strings.Cut(s, " ")
		if !ok {
			t.Fatalf("timestamp_tz %q has no offset", s)
		}
		sec, nsec, err := goExtractTimestamp(epoch)
		if err != nil {
			t.Fatal(err)
		}
		o, err := strconv.Atoi(off)
		if err != nil {
			t.Fatal(err)
		}
		return time.Unix(sec, nsec).In(time.FixedZone("", (o-1440)*60))
	}
	t.Fatalf("no decoder for %s", c.Type)
	return time.Time{}
}

// nodeDecode mirrors snowflake-sdk column.js: the text is one signed decimal number of
// seconds (BigNumber), split with ROUND_FLOOR into seconds and nanoseconds.
func nodeDecode(t *testing.T, s string) time.Time {
	t.Helper()
	epoch, _, _ := strings.Cut(s, " ")
	r, ok := new(big.Rat).SetString(epoch)
	if !ok {
		t.Fatalf("node cannot parse %q", s)
	}
	ns := new(big.Rat).Mul(r, big.NewRat(1e9, 1))
	if !ns.IsInt() {
		t.Fatalf("%q has more than 9 fraction digits", s)
	}
	sec, nsec := new(big.Int).DivMod(ns.Num(), big.NewInt(1e9), new(big.Int)) // floor division
	return time.Unix(sec.Int64(), nsec.Int64()).UTC()
}

func TestEncodeRoundTrip(t *testing.T) {
	instants := []time.Time{
		time.Date(2023, 11, 14, 22, 13, 20, 123456789, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 123456700, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 58, 500000000, time.UTC),
		time.Date(1900, 1, 1, 12, 34, 56, 1, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 14*3600), time.FixedZone("", -(9*60+30)*60)}
	for _, in := range instants {
		for _, typ := range []string{"timestamp_ntz", "timestamp_ltz", "timestamp_tz"} {
			for _, z := range zones {
				v := in.In(z)
				c := col(typ, 0, 9)
				s, err := Encode(v, c, time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				got := goDecode(t, *s, c)
				want := v
				if typ == "timestamp_ntz" {
					want = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
				}
				if !got.Equal(want) {
					t.Errorf("%s %v: Encode = %q, gosnowflake reads %v, want %v", typ, v, *s, got, want)
				}
				if typ == "timestamp_tz" {
					_, o1 := got.Zone()
					_, o2 := v.Zone()
					if o1 != o2 {
						t.Errorf("%s %v: offset %d, want %d", typ, v, o1, o2)
					}
				}
				ds, err := EncodeStyle(v, c, time.UTC, EpochDecimal)
				if err != nil {
					t.Fatal(err)
				}
				if got := nodeDecode(t, *ds); !got.Equal(want) {
					t.Errorf("%s %v: EncodeStyle(EpochDecimal) = %q, node reads %v, want %v", typ, v, *ds, got, want)
				}
			}
		}
		d := time.Date(in.Year(), in.Month(), in.Day(), 0, 0, 0, 0, time.UTC)
		s, err := Encode(in, col("date", 0, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := goDecode(t, *s, col("date", 0, 0)); !got.Equal(d) {
			t.Errorf("date %v: Encode = %q, gosnowflake reads %v", in, *s, got)
		}
		s, err = Encode(in, col("time", 0, 9), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := goDecode(t, *s, col("time", 0, 9))
		if got.Hour() != in.Hour() || got.Minute() != in.Minute() || got.Second() != in.Second() || got.Nanosecond() != in.Nanosecond() {
			t.Errorf("time %v: Encode = %q, gosnowflake reads %v", in, *s, got)
		}
	}
}

func TestEncodeStyleDecimal(t *testing.T) {
	v := time.Date(1969, 12, 31, 23, 59, 59, 123456700, time.UTC)
	s, err := EncodeStyle(v, col("timestamp_ntz", 0, 9), nil, EpochDecimal)
	if err != nil {
		t.Fatal(err)
	}
	if want := "-0.876543300"; *s != want {
		t.Errorf("EncodeStyle(EpochDecimal) = %q, want %q", *s, want)
	}
}

func TestEncodeRows(t *testing.T) {
	s := &Set{
		Type:    Select,
		Columns: []Column{Fixed("N"), Text("S"), Bool("B")},
		Rows:    [][]any{{int64(1), "a", true}, {nil, nil, false}},
	}
	got, err := EncodeRows(s, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := `[["1","a","1"],[null,null,"0"]]`; string(b) != want {
		t.Errorf("EncodeRows = %s, want %s", b, want)
	}
	s.Rows = append(s.Rows, []any{1})
	if _, err := EncodeRows(s, time.UTC); err == nil {
		t.Error("EncodeRows with a short row: want error")
	}
	s.Rows = [][]any{{"x", "a", true}}
	if _, err := EncodeRows(s, time.UTC); err == nil {
		t.Error("EncodeRows with a bad fixed value: want error")
	}
}
