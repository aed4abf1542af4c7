package data

import (
	"testing"

	"github.com/firn/firn/internal/sferr"
)

func TestParseType(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		str      string // "" = error
		duck     string
		rowtype  string
		code     string
		length   int64
		prec, sc int64
	}{
		{"NUMBER", nil, "NUMBER(38,0)", "DECIMAL(38,0)", "fixed", "", 0, 38, 0},
		{"NUMBER", []string{"10", "2"}, "NUMBER(10,2)", "DECIMAL(10,2)", "fixed", "", 0, 10, 2},
		{"DECIMAL", []string{"5"}, "NUMBER(5,0)", "DECIMAL(5,0)", "fixed", "", 0, 5, 0},
		{"INT", nil, "NUMBER(38,0)", "DECIMAL(38,0)", "fixed", "", 0, 38, 0},
		{"BYTEINT", nil, "NUMBER(38,0)", "DECIMAL(38,0)", "fixed", "", 0, 38, 0},
		{"NUMBER", []string{"39"}, "", "", "", "001003", 0, 0, 0},
		{"NUMBER", []string{"5", "6"}, "", "", "", "001003", 0, 0, 0},
		{"DOUBLE PRECISION", nil, "FLOAT", "DOUBLE", "real", "", 0, 0, 0},
		{"STRING", nil, "VARCHAR(16777216)", "VARCHAR", "text", "", 16777216, 0, 0},
		{"VARCHAR", []string{"20"}, "VARCHAR(20)", "VARCHAR", "text", "", 20, 0, 0},
		{"CHAR", nil, "VARCHAR(1)", "VARCHAR", "text", "", 1, 0, 0},
		{"VARCHAR", []string{"0"}, "", "", "", "002040", 0, 0, 0},
		{"BINARY", nil, "BINARY(8388608)", "BLOB", "binary", "", 8388608, 0, 0},
		{"BOOLEAN", nil, "BOOLEAN", "BOOLEAN", "boolean", "", 0, 0, 0},
		{"TIME", nil, "TIME(9)", "TIME", "time", "", 0, 0, 9},
		{"TIMESTAMP_NTZ", []string{"3"}, "TIMESTAMP_NTZ(3)", "TIMESTAMP_NS", "timestamp_ntz", "", 0, 0, 3},
		{"DATETIME", nil, "TIMESTAMP_NTZ(9)", "TIMESTAMP_NS", "timestamp_ntz", "", 0, 0, 9},
		{"TIMESTAMP_LTZ", nil, "TIMESTAMP_LTZ(9)", "TIMESTAMPTZ", "timestamp_ltz", "", 0, 0, 9},
		{"TIMESTAMP_TZ", []string{"10"}, "", "", "", "002040", 0, 0, 0},
		{"VARIANT", nil, "VARIANT", "JSON", "variant", "", 0, 0, 0},
		{"OBJECT", nil, "OBJECT", "JSON", "object", "", 0, 0, 0},
		{"ARRAY", nil, "ARRAY", "JSON", "array", "", 0, 0, 0},
		{"GEOGRAPHY", nil, "", "", "", "002040", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseType(tt.name, tt.args)
			if tt.code != "" {
				if err == nil || sferr.As(err).Code != tt.code {
					t.Fatalf("ParseType = %v, %v; want %s", st, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := st.Column("X", true)
			if st.String() != tt.str || st.Duck() != tt.duck || c.Type != tt.rowtype || c.Length != tt.length ||
				c.Precision != tt.prec || c.Scale != tt.sc {
				t.Errorf("got %s %s %+v", st, st.Duck(), c)
			}
			if back := typeOfColumn(c); back.String() != st.String() && st.Name != "BINARY" {
				t.Errorf("round trip %s → %s", st, back)
			}
		})
	}
}
