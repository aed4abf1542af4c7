package data

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/firn/firn/internal/result"
	"github.com/firn/firn/internal/sferr"
)

// SnowType is a Snowflake column type: its canonical name and parameters. It is
// recorded in the catalog, so DESC TABLE and INFORMATION_SCHEMA show Snowflake's
// names, and mapped to a DuckDB type for storage.
type SnowType struct {
	// Name is the canonical Snowflake type: NUMBER, FLOAT, VARCHAR, BOOLEAN, DATE, TIME,
	// TIMESTAMP_NTZ, TIMESTAMP_LTZ, TIMESTAMP_TZ, VARIANT, OBJECT, ARRAY, BINARY.
	Name      string `json:"name"`
	Precision int    `json:"precision,omitempty"`
	Scale     int    `json:"scale,omitempty"`
	Length    int    `json:"length,omitempty"`
}

// Snowflake's maximum lengths and defaults.
const (
	maxText   = 16777216
	maxBinary = 8388608
)

// ParseType maps a Snowflake type name (upper case) and its arguments to a SnowType.
// Unknown types answer 002040 "Unsupported data type".
func ParseType(name string, args []string) (SnowType, error) {
	nums := make([]int, len(args))
	for i, a := range args {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return SnowType{}, sferr.Compilation("001003", "42000", fmt.Sprintf("SQL compilation error: invalid type argument '%s'", a))
		}
		nums[i] = n
	}
	bad := func() (SnowType, error) {
		return SnowType{}, sferr.Compilation("002040", "42601", fmt.Sprintf("Unsupported data type '%s'.", name))
	}
	fracOnly := func(t SnowType) (SnowType, error) {
		if len(nums) > 1 || len(nums) == 1 && nums[0] > 9 {
			return bad()
		}
		t.Scale = 9
		if len(nums) == 1 {
			t.Scale = nums[0]
		}
		return t, nil
	}
	switch name {
	case "NUMBER", "NUMERIC", "DECIMAL", "DEC":
		t := SnowType{Name: "NUMBER", Precision: 38}
		switch len(nums) {
		case 0:
		case 1:
			t.Precision = nums[0]
		case 2:
			t.Precision, t.Scale = nums[0], nums[1]
		default:
			return bad()
		}
		if t.Precision < 1 || t.Precision > 38 || t.Scale > t.Precision {
			return SnowType{}, sferr.Compilation("001003", "42000", fmt.Sprintf("Unsupported precision %d and scale %d for NUMBER.", t.Precision, t.Scale))
		}
		return t, nil
	case "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "BYTEINT":
		if len(nums) > 0 {
			return bad()
		}
		return SnowType{Name: "NUMBER", Precision: 38}, nil
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL":
		return SnowType{Name: "FLOAT"}, nil
	case "VARCHAR", "STRING", "TEXT", "NVARCHAR", "NVARCHAR2", "CHAR", "CHARACTER", "NCHAR":
		t := SnowType{Name: "VARCHAR", Length: maxText}
		if name == "CHAR" || name == "CHARACTER" || name == "NCHAR" {
			t.Length = 1
		}
		if len(nums) > 1 {
			return bad()
		}
		if len(nums) == 1 {
			if nums[0] < 1 || nums[0] > maxText {
				return bad()
			}
			t.Length = nums[0]
		}
		return t, nil
	case "BINARY", "VARBINARY":
		t := SnowType{Name: "BINARY", Length: maxBinary}
		if len(nums) == 1 && nums[0] >= 1 && nums[0] <= maxBinary {
			t.Length = nums[0]
		} else if len(nums) > 0 {
			return bad()
		}
		return t, nil
	case "BOOLEAN":
		return SnowType{Name: "BOOLEAN"}, nil
	case "DATE":
		return SnowType{Name: "DATE"}, nil
	case "TIME":
		return fracOnly(SnowType{Name: "TIME"})
	case "DATETIME", "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMPNTZ", "TIMESTAMP WITHOUT TIME ZONE":
		return fracOnly(SnowType{Name: "TIMESTAMP_NTZ"})
	case "TIMESTAMP_LTZ", "TIMESTAMPLTZ":
		return fracOnly(SnowType{Name: "TIMESTAMP_LTZ"})
	case "TIMESTAMP_TZ", "TIMESTAMPTZ":
		return fracOnly(SnowType{Name: "TIMESTAMP_TZ"})
	case "VARIANT", "OBJECT", "ARRAY":
		if len(nums) > 0 {
			return bad()
		}
		return SnowType{Name: name}, nil
	}
	return bad()
}

// String is the type as DESC TABLE shows it: NUMBER(38,0), VARCHAR(16777216), ...
func (t SnowType) String() string {
	switch t.Name {
	case "NUMBER":
		return fmt.Sprintf("NUMBER(%d,%d)", t.Precision, t.Scale)
	case "VARCHAR", "BINARY":
		return fmt.Sprintf("%s(%d)", t.Name, t.Length)
	case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return fmt.Sprintf("%s(%d)", t.Name, t.Scale)
	}
	return t.Name
}

// Duck is the DuckDB type that stores the Snowflake type.
func (t SnowType) Duck() string {
	switch t.Name {
	case "NUMBER":
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case "FLOAT":
		return "DOUBLE"
	case "VARCHAR":
		return "VARCHAR"
	case "BINARY":
		return "BLOB"
	case "BOOLEAN":
		return "BOOLEAN"
	case "DATE":
		return "DATE"
	case "TIME":
		return "TIME"
	case "TIMESTAMP_NTZ":
		return "TIMESTAMP_NS"
	case "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		return "TIMESTAMPTZ"
	case "VARIANT", "OBJECT", "ARRAY":
		return "JSON"
	}
	return "VARCHAR"
}

// Column is the result-set column a driver sees for a table column of this type.
func (t SnowType) Column(name string, nullable bool) result.Column {
	c := result.Column{Name: name, Nullable: nullable}
	switch t.Name {
	case "NUMBER":
		c.Type, c.Precision, c.Scale = "fixed", int64(t.Precision), int64(t.Scale)
	case "FLOAT":
		c.Type = "real"
	case "VARCHAR":
		c.Type, c.Length = "text", int64(t.Length)
	case "BINARY":
		c.Type, c.Length = "binary", int64(t.Length)
	case "BOOLEAN":
		c.Type = "boolean"
	case "DATE":
		c.Type = "date"
	case "TIME":
		c.Type, c.Scale = "time", int64(t.Scale)
	case "TIMESTAMP_NTZ":
		c.Type, c.Scale = "timestamp_ntz", int64(t.Scale)
	case "TIMESTAMP_LTZ":
		c.Type, c.Scale = "timestamp_ltz", int64(t.Scale)
	case "TIMESTAMP_TZ":
		c.Type, c.Scale = "timestamp_tz", int64(t.Scale)
	case "VARIANT":
		c.Type = "variant"
	case "OBJECT":
		c.Type = "object"
	case "ARRAY":
		c.Type = "array"
	}
	return c
}

// DataTypeJSON is SHOW COLUMNS' data_type: {"type":"FIXED","precision":38,...}.
func (t SnowType) DataTypeJSON(nullable bool) string {
	m := map[string]any{"nullable": nullable}
	switch t.Name {
	case "NUMBER":
		m["type"], m["precision"], m["scale"] = "FIXED", t.Precision, t.Scale
	case "FLOAT":
		m["type"] = "REAL"
	case "VARCHAR":
		m["type"], m["length"], m["byteLength"], m["fixed"] = "TEXT", t.Length, min(4*t.Length, maxText), false
	case "BINARY":
		m["type"], m["length"], m["byteLength"], m["fixed"] = "BINARY", t.Length, t.Length, false
	case "TIME", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		m["type"], m["precision"], m["scale"] = t.Name, 0, t.Scale
	default:
		m["type"] = t.Name
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// typeOfColumn is the Snowflake type of a result column, for CREATE TABLE AS and
// views.
func typeOfColumn(c result.Column) SnowType {
	switch c.Type {
	case "fixed":
		p := int(c.Precision)
		if p == 0 {
			p = 38
		}
		return SnowType{Name: "NUMBER", Precision: p, Scale: int(c.Scale)}
	case "real":
		return SnowType{Name: "FLOAT"}
	case "text":
		l := int(c.Length)
		if l <= 0 {
			l = maxText
		}
		return SnowType{Name: "VARCHAR", Length: l}
	case "binary":
		return SnowType{Name: "BINARY", Length: maxBinary}
	case "boolean":
		return SnowType{Name: "BOOLEAN"}
	case "date":
		return SnowType{Name: "DATE"}
	case "time":
		return SnowType{Name: "TIME", Scale: fracScale(c)}
	case "timestamp_ntz":
		return SnowType{Name: "TIMESTAMP_NTZ", Scale: fracScale(c)}
	case "timestamp_ltz":
		return SnowType{Name: "TIMESTAMP_LTZ", Scale: fracScale(c)}
	case "timestamp_tz":
		return SnowType{Name: "TIMESTAMP_TZ", Scale: fracScale(c)}
	case "variant":
		return SnowType{Name: "VARIANT"}
	case "object":
		return SnowType{Name: "OBJECT"}
	case "array":
		return SnowType{Name: "ARRAY"}
	}
	return SnowType{Name: "VARCHAR", Length: maxText}
}

// fracScale is a time column's fractional digits, 9 when unset.
func fracScale(c result.Column) int {
	if c.Scale > 0 && c.Scale <= 9 {
		return int(c.Scale)
	}
	return 9
}
