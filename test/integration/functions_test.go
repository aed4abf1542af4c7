package integration

import (
	"strings"
	"testing"
)

// TestSnowflakeFunctionsThroughDriver checks a selection of the Snowflake functions
// firn provides on DuckDB, and the Snowflake types gosnowflake sees for them.
func TestSnowflakeFunctionsThroughDriver(t *testing.T) {
	e := start(t)
	c := conn(t, e.admin())
	tests := []struct{ expr, dbType, want string }{
		{"IFF(2 > 1, 'yes', 'no')", "TEXT", "yes"},
		{"NVL2(NULL, 1, 2)", "FIXED", "2"},
		{"DIV0(1, 0)", "REAL", "0"},
		{"TO_NUMBER('41.6')", "FIXED", "42"},
		{"TRY_TO_NUMBER('abc')", "FIXED", "NULL"},
		{"TO_BOOLEAN('on')", "BOOLEAN", "1"},
		{"TO_DATE('2024-02-29')", "DATE", "2024-02-29T00:00:00Z"},
		{"TO_CHAR(TO_DATE('2024-02-29'), 'DD.MM.YYYY')", "TEXT", "29.02.2024"},
		{"PARSE_JSON('{\"a\": {\"b\": [10, 20]}}'):a.b[1]", "VARIANT", "20"},
		{"PARSE_JSON('{\"name\": \"snow\"}'):name::string", "TEXT", "snow"},
		{"OBJECT_CONSTRUCT('k', 1)", "OBJECT", `{"k":1}`},
		{"ARRAY_CONSTRUCT(1, 2, 3)", "ARRAY", `[1,2,3]`},
		{"ARRAY_SIZE(ARRAY_CONSTRUCT(1, 2, 3))", "FIXED", "3"},
		{"SPLIT_PART('a-b-c', '-', 3)", "TEXT", "c"},
		{"DECODE(3, 1, 'one', 3, 'three', 'many')", "TEXT", "three"},
		{"DATEDIFF(day, '2024-01-01'::DATE, '2024-01-31'::DATE)", "FIXED", "30"},
		{"DATEADD(month, 1, '2024-01-31'::TIMESTAMP_NTZ)", "TIMESTAMP_NTZ", "2024-02-29T00:00:00Z"},
		// A DATE stays a DATE for parts of a day or larger; smaller parts give TIMESTAMP_NTZ.
		{"DATEADD(day, 1, '2024-01-31'::DATE)", "DATE", "2024-02-01T00:00:00Z"},
		{"DATEADD(month, 1, '2024-01-31'::DATE)", "DATE", "2024-02-29T00:00:00Z"},
		{"DATEADD(yr, 1, '2024-02-29'::DATE)", "DATE", "2025-02-28T00:00:00Z"},
		{"DATEADD('quarter', -1, '2024-05-31'::DATE)", "DATE", "2024-02-29T00:00:00Z"},
		{"TIMESTAMPADD(week, 1, '2024-01-31'::DATE)", "DATE", "2024-02-07T00:00:00Z"},
		{"DATEADD(hour, 1, '2024-01-31'::DATE)", "TIMESTAMP_NTZ", "2024-01-31T01:00:00Z"},
		{"DATEADD(ns, 1000, '2024-01-31'::DATE)", "TIMESTAMP_NTZ", "2024-01-31T00:00:00.000001Z"},
		{"'2024-01-31'::DATE + 1", "DATE", "2024-02-01T00:00:00Z"},
		{"EQUAL_NULL(NULL, NULL)", "BOOLEAN", "1"},
		{"CHARINDEX('c', 'abc')", "FIXED", "3"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			rs, err := c.QueryContext(t.Context(), "SELECT "+tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			ct, err := rs.ColumnTypes()
			if err != nil {
				t.Fatal(err)
			}
			if got := ct[0].DatabaseTypeName(); got != tc.dbType {
				t.Errorf("type %s; want %s", got, tc.dbType)
			}
			rs.Close()
			if got := strings.ReplaceAll(one(t, c, "SELECT "+tc.expr), "\n", ""); strings.ReplaceAll(got, " ", "") != tc.want {
				t.Errorf("value %q; want %q", got, tc.want)
			}
		})
	}
}
