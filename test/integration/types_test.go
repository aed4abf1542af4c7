package integration

import (
	"bytes"
	"context"
	"math/big"
	"testing"
	"time"
)

// TestTypeRoundTrip selects one value of every Snowflake type and scans it into the Go
// type gosnowflake documents for it.
func TestTypeRoundTrip(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "ALTER SESSION SET TIMEZONE = 'UTC'")
	row := c.QueryRowContext(context.Background(), `SELECT
		42::NUMBER(10,0), 12345678901234567890123::NUMBER(38,0), 3.14::NUMBER(10,2), 1.5::FLOAT,
		'héllo'::VARCHAR, TRUE, FALSE, '2024-01-02'::DATE, '1969-07-20'::DATE,
		'12:34:56.789'::TIME, '2024-01-02 03:04:05.123456789'::TIMESTAMP_NTZ,
		PARSE_JSON('{"a":[1,2]}'), TO_BINARY('48656C6C6F', 'HEX'), NULL::VARCHAR`)
	var (
		small   int64
		big38   string
		dec     string
		f       float64
		s       string
		bt, bf  bool
		d, d0   time.Time
		tm, ts  time.Time
		variant string
		bin     []byte
		null    *string
	)
	if err := row.Scan(&small, &big38, &dec, &f, &s, &bt, &bf, &d, &d0, &tm, &ts, &variant, &bin, &null); err != nil {
		t.Fatal(err)
	}
	want := new(big.Int)
	want.SetString("12345678901234567890123", 10)
	checks := []struct {
		name string
		ok   bool
		got  any
	}{
		{"NUMBER(10,0)", small == 42, small},
		{"NUMBER(38,0)", big38 == want.String(), big38},
		{"NUMBER(10,2)", dec == "3.14", dec},
		{"FLOAT", f == 1.5, f},
		{"VARCHAR", s == "héllo", s},
		{"TRUE", bt, bt},
		{"FALSE", !bf, bf},
		{"DATE", d.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)), d},
		{"DATE before 1970", d0.Equal(time.Date(1969, 7, 20, 0, 0, 0, 0, time.UTC)), d0},
		{"TIME", tm.Hour() == 12 && tm.Minute() == 34 && tm.Second() == 56 && tm.Nanosecond() == 789000000, tm},
		{"TIMESTAMP_NTZ", ts.Equal(time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)), ts},
		{"VARIANT", variant == `{"a":[1,2]}` || variant == "{\n  \"a\": [\n    1,\n    2\n  ]\n}", variant},
		{"BINARY", bytes.Equal(bin, []byte("Hello")), bin},
		{"NULL", null == nil, null},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}

func TestTimestampLTZAndTZ(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	mustExec(t, c, "ALTER SESSION SET TIMEZONE = 'UTC'")
	var ltz, tz time.Time
	row := c.QueryRowContext(context.Background(),
		`SELECT '2024-01-02 03:04:05+00:00'::TIMESTAMP_LTZ, '2024-01-02 04:04:05+01:00'::TIMESTAMP_TZ`)
	if err := row.Scan(&ltz, &tz); err != nil {
		t.Fatal(err)
	}
	instant := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if !ltz.Equal(instant) {
		t.Errorf("TIMESTAMP_LTZ = %v; want %v", ltz, instant)
	}
	if !tz.Equal(instant) {
		t.Errorf("TIMESTAMP_TZ = %v; want %v", tz, instant)
	}
}

// TestBindRoundTrip sends every bind type gosnowflake produces and reads it back.
func TestBindRoundTrip(t *testing.T) {
	e := start(t)
	db := e.admin()
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	var (
		n  int64
		f  float64
		s  string
		b  bool
		bn []byte
		tt time.Time
		nl *string
	)
	row := db.QueryRow("SELECT ?, ?, ?, ?, TO_BINARY(?, 'HEX'), ?, ?",
		int64(-7), 2.5, "it's", true, "0001FE", ts, nil)
	if err := row.Scan(&n, &f, &s, &b, &bn, &tt, &nl); err != nil {
		t.Fatal(err)
	}
	if n != -7 || f != 2.5 || s != "it's" || !b || !bytes.Equal(bn, []byte{0, 1, 0xfe}) || nl != nil {
		t.Errorf("binds came back as %d %v %q %v %x %v", n, f, s, b, bn, nl)
	}
	if !tt.Equal(ts) {
		t.Errorf("timestamp bind = %v; want %v", tt, ts)
	}
}
