package data

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/firn/firn/internal/sferr"
)

// Bind is one positional bind value as the drivers send it (reference §3.1).
// Type is Snowflake's bind type: FIXED, REAL, TEXT, BOOLEAN, DATE, TIME,
// TIMESTAMP_NTZ, TIMESTAMP_LTZ, TIMESTAMP_TZ, BINARY, ARRAY, VARIANT, OBJECT.
// A nil Value is SQL NULL of that type.
type Bind struct {
	Type  string
	Value *string
	Fmt   string
}

// boundParam is a bind converted for DuckDB: a text parameter and the DuckDB type it
// is cast to in SQL.
type boundParam struct {
	arg      any    // string or nil
	duckType string // DuckDB type name, e.g. DECIMAL(38,0)
	expr     string // optional SQL template around the text parameter; %s is the parameter
}

// bindError is the error for a bind value its type cannot read.
func bindError(i int, b Bind, why string) error {
	return sferr.New("002014", "22000", fmt.Sprintf("Bind variable %d of type %s has an invalid value: %s.", i+1, strings.ToUpper(b.Type), why))
}

// convertBind turns bind i into a DuckDB text parameter and type.
func convertBind(i int, b Bind) (boundParam, error) {
	typ := strings.ToUpper(strings.TrimSpace(b.Type))
	if typ == "" {
		typ = "TEXT"
	}
	p := boundParam{}
	switch typ {
	case "TEXT", "VARCHAR", "STRING", "CHAR":
		p.duckType = "VARCHAR"
	case "FIXED", "NUMBER", "DECIMAL", "INTEGER", "INT", "BIGINT":
		p.duckType = "DECIMAL(38,0)"
	case "REAL", "FLOAT", "DOUBLE":
		p.duckType = "DOUBLE"
	case "BOOLEAN":
		p.duckType = "BOOLEAN"
	case "DATE":
		p.duckType = "DATE"
	case "TIME":
		p.duckType = "TIME"
	case "TIMESTAMP_NTZ", "TIMESTAMP", "DATETIME":
		p.duckType = "TIMESTAMP_NS"
	case "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		p.duckType = "TIMESTAMPTZ"
	case "BINARY":
		p.duckType = "BLOB"
		p.expr = "from_hex(CAST(%s AS VARCHAR))"
	case "ARRAY", "VARIANT", "OBJECT":
		p.duckType = "JSON"
	default:
		return p, sferr.Compilation("002014", "22000", fmt.Sprintf("Unsupported bind type '%s' for bind variable %d.", typ, i+1))
	}
	if b.Value == nil {
		return p, nil
	}
	v := *b.Value
	switch typ {
	case "FIXED", "NUMBER", "DECIMAL", "INTEGER", "INT", "BIGINT":
		s := strings.TrimSpace(v)
		r, ok := new(big.Rat).SetString(s)
		if !ok || strings.ContainsAny(s, "/") {
			return p, bindError(i, b, fmt.Sprintf("'%s' is not a number", v))
		}
		scale := 0
		if _, frac, found := strings.Cut(strings.ToLower(s), "."); found && !strings.ContainsAny(s, "eE") {
			scale = len(frac)
		}
		if scale > 37 {
			scale = 37
		}
		p.duckType = fmt.Sprintf("DECIMAL(38,%d)", scale)
		p.arg = r.FloatString(scale)
	case "REAL", "FLOAT", "DOUBLE":
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return p, bindError(i, b, fmt.Sprintf("'%s' is not a number", v))
		}
		p.arg = strconv.FormatFloat(f, 'g', -1, 64)
	case "BOOLEAN":
		bv, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return p, bindError(i, b, fmt.Sprintf("'%s' is not a boolean", v))
		}
		p.arg = strconv.FormatBool(bv)
	case "DATE":
		t, err := bindTime(v, 1e6)
		if err != nil {
			return p, bindError(i, b, err.Error())
		}
		p.arg = t.UTC().Format("2006-01-02")
	case "TIME":
		ns, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			// Text such as 12:34:56 is passed to DuckDB as is.
			p.arg = v
			break
		}
		if ns < 0 || ns >= int64(24*time.Hour) {
			return p, bindError(i, b, fmt.Sprintf("'%s' is not a time of day", v))
		}
		p.arg = time.Unix(0, ns).UTC().Format("15:04:05.999999")
	case "TIMESTAMP_NTZ", "TIMESTAMP", "DATETIME":
		t, err := bindTime(v, 1)
		if err != nil {
			return p, bindError(i, b, err.Error())
		}
		p.arg = t.UTC().Format("2006-01-02 15:04:05.999999999")
	case "TIMESTAMP_LTZ":
		t, err := bindTime(v, 1)
		if err != nil {
			return p, bindError(i, b, err.Error())
		}
		p.arg = t.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	case "TIMESTAMP_TZ":
		epoch, off, found := strings.Cut(strings.TrimSpace(v), " ")
		t, err := bindTime(epoch, 1)
		if err != nil {
			return p, bindError(i, b, err.Error())
		}
		if found {
			o, err := strconv.Atoi(off)
			if err != nil || o < 0 || o > 2880 {
				return p, bindError(i, b, fmt.Sprintf("'%s' has an invalid time zone offset", v))
			}
			t = t.In(time.FixedZone("", (o-1440)*60))
		}
		p.arg = t.Format("2006-01-02 15:04:05.999999Z07:00")
	case "BINARY":
		if _, err := hex.DecodeString(v); err != nil {
			return p, bindError(i, b, fmt.Sprintf("'%s' is not a hex-encoded value", v))
		}
		p.arg = v
	case "ARRAY", "VARIANT", "OBJECT":
		if !json.Valid([]byte(v)) {
			return p, bindError(i, b, "not valid JSON")
		}
		p.arg = v
	default:
		p.arg = v
	}
	return p, nil
}

// bindTime reads an epoch value given in units of unit nanoseconds (1 for nanoseconds,
// 1e6 for milliseconds); other text is parsed as an ISO-8601 timestamp.
func bindTime(v string, unit int64) (time.Time, error) {
	s := strings.TrimSpace(v)
	if n, ok := new(big.Int).SetString(s, 10); ok {
		n.Mul(n, big.NewInt(unit))
		sec, nsec := new(big.Int).DivMod(n, big.NewInt(1e9), new(big.Int))
		if !sec.IsInt64() {
			return time.Time{}, fmt.Errorf("'%s' is out of range", v)
		}
		return time.Unix(sec.Int64(), nsec.Int64()).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("'%s' is not a timestamp", v)
}

// sql returns the SQL expression that reads parameter $n.
func (p boundParam) sql(n int) string {
	param := "$" + strconv.Itoa(n)
	if p.expr != "" {
		return "CAST(" + fmt.Sprintf(p.expr, param) + " AS " + p.duckType + ")"
	}
	return "CAST(CAST(" + param + " AS VARCHAR) AS " + p.duckType + ")"
}
