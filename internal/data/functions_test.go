package data

import (
	"context"
	"testing"
)

// TestSnowflakeFunctions runs each compatibility function through the engine and
// checks the value the driver would receive.
func TestSnowflakeFunctions(t *testing.T) {
	tests := []struct {
		expr, typ, want string
	}{
		{"IFF(1 = 1, 'y', 'n')", "text", "y"},
		{"NVL(NULL, 'b')", "text", "b"},
		{"NVL2(NULL, 'a', 'b')", "text", "b"},
		{"NVL2(1, 'a', 'b')", "text", "a"},
		{"ZEROIFNULL(NULL)", "fixed", "0"},
		{"NULLIFZERO(0)", "fixed", "NULL"},
		{"DIV0(1, 0)", "real", "0"},
		{"DIV0(3, 2)", "real", "1.5"},
		{"DIV0NULL(1, NULL)", "real", "0"},
		{"EQUAL_NULL(NULL, NULL)", "boolean", "1"},
		{"BOOLAND(1, 0)", "boolean", "0"},
		{"BOOLOR(1, 0)", "boolean", "1"},
		{"BOOLXOR(1, 1)", "boolean", "0"},
		{"BOOLNOT(0)", "boolean", "1"},
		{"TO_VARCHAR(12)", "text", "12"},
		{"TO_CHAR(DATE '2024-01-02', 'YYYY/MM/DD')", "text", "2024/01/02"},
		{"TO_VARCHAR('2024-01-02 03:04:05'::TIMESTAMP, 'YYYY-MM-DD HH24:MI:SS')", "text", "2024-01-02 03:04:05"},
		{"TO_NUMBER('12.7')", "fixed", "13"},
		{"TO_DECIMAL('5')", "fixed", "5"},
		{"TRY_TO_NUMBER('x')", "fixed", "NULL"},
		{"TO_NUMBER('12.345', 10, 2)", "fixed", "12.35"},
		{"TRY_TO_DECIMAL('abc', 5, 1)", "fixed", "NULL"},
		{"UNIFORM(5, 5, RANDOM())", "fixed", "5"},
		{"COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 7))", "fixed", "7"},
		{"SEQ4() AS s FROM TABLE(GENERATOR(ROWCOUNT => 5)) ORDER BY s DESC LIMIT 1", "fixed", "4"},
		{"TO_DOUBLE('1.5')", "real", "1.5"},
		{"TRY_TO_DOUBLE('q')", "real", "NULL"},
		{"TO_BOOLEAN('yes')", "boolean", "1"},
		{"TO_BOOLEAN(0)", "boolean", "0"},
		{"TRY_TO_BOOLEAN('maybe')", "boolean", "NULL"},
		{"TO_DATE('2024-01-02')", "date", "19724"},
		{"TO_DATE('02/01/2024', 'DD/MM/YYYY')", "date", "19724"},
		{"TRY_TO_DATE('nope')", "date", "NULL"},
		{"TO_TIMESTAMP(1700000000)", "timestamp_ntz", "1700000000.000000000"},
		{"TO_TIMESTAMP('2024-01-02 03:04:05')", "timestamp_ntz", "1704164645.000000000"},
		{"TO_TIMESTAMP_NTZ('02.01.2024 03:04', 'DD.MM.YYYY HH24:MI')", "timestamp_ntz", "1704164640.000000000"},
		{"TO_TIMESTAMP_LTZ(1700000000)", "timestamp_ltz", "1700000000.000000000"},
		{"TRY_CAST('x' AS NUMBER)", "fixed", "NULL"},
		{"PARSE_JSON('{\"a\":1}')", "variant", `{"a":1}`},
		{"TRY_PARSE_JSON('{')", "variant", "NULL"},
		{"OBJECT_CONSTRUCT('a', 1, 'b', 'x')", "object", `{"a":1,"b":"x"}`},
		{"ARRAY_CONSTRUCT(1, 'a')", "array", `[1,"a"]`},
		{"ARRAY_SIZE(ARRAY_CONSTRUCT(1, 2, 3))", "fixed", "3"},
		{"GET(PARSE_JSON('[7,8]'), 1)", "variant", "8"},
		{"GET(PARSE_JSON('{\"k\":\"v\"}'), 'k')", "variant", `"v"`},
		{"GET_PATH(PARSE_JSON('{\"a\":{\"b\":[5,6]}}'), 'a.b[1]')", "variant", "6"},
		{"PARSE_JSON('{\"a\":{\"b\":[5,6]}}'):a.b[1]", "variant", "6"},
		{"PARSE_JSON('{\"a\":{\"Name\":\"x\"}}'):a.Name::string", "text", "x"},
		{"PARSE_JSON('{\"n\":\"1.5\"}'):n::NUMBER(10,2)", "fixed", "1.50"},
		{"OBJECT_CONSTRUCT('a', 1) AS o", "object", `{"a":1}`},
		{"OBJECT_CONSTRUCT('a', 1, 'n', NULL, 'b', ARRAY_CONSTRUCT(1))", "object", `{"a":1,"b":[1]}`},
		{"OBJECT_CONSTRUCT_KEEP_NULL('a', 1, 'n', NULL)", "object", `{"a":1,"n":null}`},
		{"PARSE_JSON('[1]')::ARRAY", "array", `[1]`},
		{"PARSE_JSON('\"q\"')::STRING", "text", "q"},
		{"PARSE_JSON('{\"a\":\"x\"}')['a']::VARCHAR(10)", "text", "x"},
		{"TO_VARCHAR(PARSE_JSON('\"q\"'))", "text", "q"},
		{"12::TEXT || 'x'", "text", "12x"},
		{"CASE WHEN TRUE THEN 'a' END::STRING", "text", "a"},
		{"DATE '2024-01-02'::STRING", "text", "2024-01-02"},
		{"PARSE_JSON('\"v\"')::VARIANT::STRING", "text", "v"},
		{"(PARSE_JSON('\"w\"'))::STRING", "text", "w"},
		{"NULL::STRING", "text", "NULL"},
		{"'it''s'::STRING", "text", "it's"},
		{"SPLIT_PART('a,b,c', ',', 2)", "text", "b"},
		{"SPLIT_PART('a,b,c', ',', -1)", "text", "c"},
		{"STARTSWITH('abc', 'ab')", "boolean", "1"},
		{"ENDSWITH('abc', 'bc')", "boolean", "1"},
		{"CONTAINS('abc', 'b')", "boolean", "1"},
		{"CHARINDEX('b', 'abcb')", "fixed", "2"},
		{"CHARINDEX('b', 'abcb', 3)", "fixed", "4"},
		{"LEN('abc')", "fixed", "3"},
		{"LENGTH('abc')", "fixed", "3"},
		{"DECODE(2, 1, 'one', 2, 'two', 'other')", "text", "two"},
		{"DECODE(9, 1, 'one', 'other')", "text", "other"},
		{"DECODE(9, 1, 'one')", "text", "NULL"},
		{"DECODE(NULL, 1, 'one', NULL, 'null', 'other')", "text", "null"},
		{"DECODE(x, 'a', 1, 0) FROM (SELECT 'a' AS x)", "fixed", "1"},
		{"DECODE(1 + 1, 2, 'two')", "text", "two"},
		// DATEADD keeps a DATE a DATE for parts of a day or larger (days since the epoch:
		// 19753 is 2024-01-31), and gives TIMESTAMP_NTZ for smaller parts.
		{"DATEADD(day, 1, '2024-01-31'::DATE)", "date", "19754"},
		{"DATEADD(month, 1, '2024-01-31'::DATE)", "date", "19782"},
		{"DATEADD(mon, 1, DATE '2024-03-31')", "date", "19843"},
		{"DATEADD('MONTHS', -1, DATE '2024-03-31')", "date", "19782"},
		{"DATEADD(year, 1, DATE '2024-02-29')", "date", "20147"},
		{"DATEADD(yy, -1, DATE '2024-02-29')", "date", "19416"},
		{"DATEADD(quarter, 1, DATE '2024-11-30')", "date", "20147"},
		{"DATEADD(week, 2, DATE '2024-01-31')", "date", "19767"},
		{"DATEADD(d, 1, NULL::DATE)", "date", "NULL"},
		{"DATEADD(day, x, d) FROM (SELECT DATE '2024-01-31' AS d, 1 AS x)", "date", "19754"},
		{"TIMESTAMPADD(dd, 1, DATE '2024-01-31')", "date", "19754"},
		{"DATEADD(hour, 1, DATE '2024-01-31')", "timestamp_ntz", "1706662800.000000000"},
		{"DATEADD(ms, 1500, DATE '2024-01-31')", "timestamp_ntz", "1706659201.500000000"},
		{"DATEADD(minute, 1, DATE '2024-01-31')", "timestamp_ntz", "1706659260.000000000"},
		{"DATEADD(second, 1, DATE '2024-01-31')", "timestamp_ntz", "1706659201.000000000"},
		{"DATEADD(day, 1, '2024-01-31 10:00:00'::TIMESTAMP)", "timestamp_ntz", "1706781600.000000000"},
		{"DATE '2024-01-31' + 1", "date", "19754"},
		{"DATE '2024-03-01' - 1", "date", "19782"},
		{"DATEADD('months', 1, '2024-01-31 10:00:00'::TIMESTAMP_NTZ)", "timestamp_ntz", "1709200800.000000000"},
		{"TIMESTAMPADD(hour, -3, '2024-01-01 03:00:00'::TIMESTAMP_NTZ)", "timestamp_ntz", "1704067200.000000000"},
		{"DATEDIFF(day, '2024-01-01'::DATE, '2024-03-01'::DATE)", "fixed", "60"},
		{"DATEDIFF(mm, '2024-01-31'::DATE, '2024-02-01'::DATE)", "fixed", "1"},
		{"TIMESTAMPDIFF(hour, '2024-01-01'::TIMESTAMP, '2024-01-02'::TIMESTAMP)", "fixed", "24"},
		{"DATE_TRUNC(month, '2024-05-17'::DATE)", "timestamp_ntz", "1714521600.000000000"},
		{"DATE_PART(year, '2024-05-17'::DATE)", "fixed", "2024"},
		{"LENGTH(UUID_STRING())", "fixed", "36"},
		{"REGEXP_LIKE('abc', 'a.c')", "boolean", "1"},
		{"ARRAY_TO_STRING(ARRAY_CONSTRUCT(1, 2), '-')", "text", "1-2"},
		{"ARRAY_CONTAINS(2, ARRAY_CONSTRUCT(1, 2))", "boolean", "1"},
		{"SQUARE(3)", "fixed", "9"},
		{"DATE_FROM_PARTS(2024, 1, 2)", "date", "19724"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			set, rows := query(t, &Context{}, "SELECT "+tc.expr)
			if got := set.Columns[0].Type; got != tc.typ {
				t.Errorf("type %s; want %s", got, tc.typ)
			}
			if got := str(rows[0][0]); got != tc.want {
				t.Errorf("value %s; want %s", got, tc.want)
			}
		})
	}
}

// TestAggregateFunctions covers LISTAGG, ARRAY_AGG and OBJECT_AGG.
func TestAggregateFunctions(t *testing.T) {
	const from = " FROM (VALUES ('a', 1), ('b', 2)) AS t(k, v)"
	tests := []struct{ sel, typ, want string }{
		{"LISTAGG(k, ',') WITHIN GROUP (ORDER BY k DESC)", "text", "b,a"},
		{"LISTAGG(k, '|')", "text", "a|b"},
		{"ARRAY_AGG(k) WITHIN GROUP (ORDER BY k)", "array", `["a","b"]`},
		{"OBJECT_AGG(k, v)", "object", `{"a":1,"b":2}`},
	}
	for _, tc := range tests {
		t.Run(tc.sel, func(t *testing.T) {
			set, rows := query(t, &Context{}, "SELECT "+tc.sel+from)
			if got := set.Columns[0].Type; got != tc.typ {
				t.Errorf("type %s; want %s", got, tc.typ)
			}
			if got := str(rows[0][0]); got != tc.want {
				t.Errorf("value %s; want %s", got, tc.want)
			}
		})
	}
}

// TestToBooleanError checks that an unrecognised boolean fails.
func TestToBooleanError(t *testing.T) {
	if _, err := engine(t).Query(context.Background(), &Context{}, "SELECT TO_BOOLEAN('maybe')", nil); err == nil {
		t.Fatal("TO_BOOLEAN('maybe') succeeded")
	}
}
