package result

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// EpochStyle selects how Encode writes negative epoch values that have a fraction
// (instants before 1970-01-01 that are not whole seconds).
//
// The drivers disagree here. gosnowflake 1.19.1 (converter.go extractTimestamp) parses
// the text before the dot as signed whole seconds and adds the digits after it as
// positive nanoseconds, so it reads "-1.500000000" as -0.5 s. Snowflake itself, and the
// Node, JDBC, Python and .NET drivers, treat the text as one signed decimal and write
// -0.5 s as "-0.500000000". Values at or after the epoch, and whole seconds, are the
// same in both styles.
type EpochStyle int

const (
	// EpochGo writes floor(seconds) and a non-negative fraction ("-1.500000000" for
	// -0.5 s), which gosnowflake decodes exactly. It is Encode's style.
	EpochGo EpochStyle = iota
	// EpochDecimal writes the signed decimal value ("-0.500000000" for -0.5 s), as
	// Snowflake does; Node and the other drivers decode it exactly.
	EpochDecimal
)

// Encode turns one cell value into the string a JSON rowset carries for column c
// (reference §3.3); a nil result is JSON null. loc is the session time zone (nil
// means UTC). time.Time values carry their own location, so the encoding does not
// depend on loc today: dates, times and TIMESTAMP_NTZ use the value's wall clock,
// TIMESTAMP_LTZ its instant, and TIMESTAMP_TZ its instant and zone offset.
//
// Time and timestamp columns get Scale fraction digits, extra digits being truncated;
// a Scale of 0 or out of range means the default 9 (both drivers read any number of
// digits, so this only lengthens the text).
//
// Negative fractional epochs are written in the EpochGo style; see EncodeStyle.
func Encode(v any, c Column, loc *time.Location) (*string, error) {
	return EncodeStyle(v, c, loc, EpochGo)
}

// EncodeStyle is Encode with an explicit style for negative fractional epochs.
func EncodeStyle(v any, c Column, _ *time.Location, style EpochStyle) (*string, error) {
	if v == nil {
		return nil, nil
	}
	if p, ok := v.(*big.Int); ok && p == nil {
		return nil, nil
	}
	var (
		s   string
		err error
	)
	switch c.Type {
	case "fixed":
		s, err = encodeFixed(v, c.Scale)
	case "real":
		s, err = encodeReal(v)
	case "text":
		s, err = encodeText(v)
	case "boolean":
		s, err = encodeBool(v)
	case "date":
		s, err = encodeDate(v)
	case "time":
		s, err = encodeTime(v, scaleOf(c))
	case "timestamp_ntz":
		s, err = encodeTimestamp(v, c, style, func(t time.Time) time.Time {
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		})
	case "timestamp_ltz":
		s, err = encodeTimestamp(v, c, style, func(t time.Time) time.Time { return t })
	case "timestamp_tz":
		s, err = encodeTimestamp(v, c, style, func(t time.Time) time.Time { return t })
		if err == nil {
			_, off := v.(time.Time).Zone()
			s += " " + strconv.Itoa(off/60+1440)
		}
	case "variant", "object", "array":
		s, err = encodeJSON(v)
	case "binary":
		s, err = encodeBinary(v)
	default:
		return nil, fmt.Errorf("result: encode: unknown column type %q", c.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("result: encode %s column %q: %w", c.Type, c.Name, err)
	}
	return &s, nil
}

// EncodeRows encodes every cell of s with Encode.
func EncodeRows(s *Set, loc *time.Location) ([][]*string, error) {
	return EncodeRowsStyle(s, loc, EpochGo)
}

// EncodeRowsStyle encodes every cell of s with EncodeStyle.
func EncodeRowsStyle(s *Set, loc *time.Location, style EpochStyle) ([][]*string, error) {
	out := make([][]*string, len(s.Rows))
	for i, row := range s.Rows {
		if len(row) != len(s.Columns) {
			return nil, fmt.Errorf("result: row %d has %d cells for %d columns", i, len(row), len(s.Columns))
		}
		cells := make([]*string, len(row))
		for j, v := range row {
			p, err := EncodeStyle(v, s.Columns[j], loc, style)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", i, err)
			}
			cells[j] = p
		}
		out[i] = cells
	}
	return out, nil
}

// scaleOf returns the fractional digits of a time or timestamp column.
func scaleOf(c Column) int {
	if c.Scale <= 0 || c.Scale > 9 {
		return 9
	}
	return int(c.Scale)
}

func encodeFixed(v any, scale int64) (string, error) {
	if scale < 0 {
		scale = 0
	}
	var r big.Rat
	switch x := v.(type) {
	case int:
		r.SetInt64(int64(x))
	case int8:
		r.SetInt64(int64(x))
	case int16:
		r.SetInt64(int64(x))
	case int32:
		r.SetInt64(int64(x))
	case int64:
		if scale == 0 {
			return strconv.FormatInt(x, 10), nil
		}
		r.SetInt64(x)
	case uint:
		r.SetUint64(uint64(x))
	case uint8:
		r.SetUint64(uint64(x))
	case uint16:
		r.SetUint64(uint64(x))
	case uint32:
		r.SetUint64(uint64(x))
	case uint64:
		r.SetUint64(x)
	case *big.Int:
		r.SetInt(x)
	case big.Int:
		r.SetInt(&x)
	case *big.Rat:
		r.Set(x)
	case float32:
		return encodeFixedFloat(float64(x), scale)
	case float64:
		return encodeFixedFloat(x, scale)
	case bool:
		if x {
			r.SetInt64(1)
		}
	case string:
		t := strings.TrimSpace(x)
		if _, ok := r.SetString(t); !ok || strings.ContainsAny(t, "/") {
			return "", fmt.Errorf("value %q is not a decimal number", x)
		}
	default:
		return "", fmt.Errorf("unsupported value type %T", v)
	}
	return r.FloatString(int(scale)), nil
}

func encodeFixedFloat(f float64, scale int64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("value %v is not a finite number", f)
	}
	s := strconv.FormatFloat(f, 'f', int(scale), 64)
	if s == "-0" || strings.TrimLeft(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s, nil
}

// encodeReal writes a float in the shortest form that reads back exactly. NaN and
// the infinities are written "NaN", "Infinity" and "-Infinity": gosnowflake
// (strconv.ParseFloat) and Node (Number) both read these, while Node reads
// Snowflake's console spelling "inf" as NaN.
func encodeReal(v any) (string, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return "", fmt.Errorf("value %q is not a number", x)
		}
		f = p
	default:
		return "", fmt.Errorf("unsupported value type %T", v)
	}
	switch {
	case math.IsNaN(f):
		return "NaN", nil
	case math.IsInf(f, 1):
		return "Infinity", nil
	case math.IsInf(f, -1):
		return "-Infinity", nil
	}
	if _, ok := v.(float32); ok {
		return strconv.FormatFloat(f, 'g', -1, 32), nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}

func encodeText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case json.RawMessage:
		return string(x), nil
	case fmt.Stringer:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

func encodeBool(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return "", fmt.Errorf("value %q is not a boolean", x)
		}
		return encodeBool(b)
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// encodeDate writes the days between 1970-01-01 and the value's calendar date (its
// wall clock date in its own location).
func encodeDate(v any) (string, error) {
	t, ok := v.(time.Time)
	if !ok {
		return "", fmt.Errorf("unsupported value type %T", v)
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return strconv.FormatInt(floorDiv(d.Unix(), 86400), 10), nil
}

// encodeTime writes the seconds since midnight of the value's wall clock.
func encodeTime(v any, scale int) (string, error) {
	var ns int64
	switch x := v.(type) {
	case time.Time:
		ns = int64(x.Hour())*int64(time.Hour) + int64(x.Minute())*int64(time.Minute) +
			int64(x.Second())*int64(time.Second) + int64(x.Nanosecond())
	case time.Duration:
		if x < 0 || x >= 24*time.Hour {
			return "", fmt.Errorf("time of day %v out of range", x)
		}
		ns = int64(x)
	default:
		return "", fmt.Errorf("unsupported value type %T", v)
	}
	return formatEpoch(ns/1e9, ns%1e9, scale, EpochGo), nil
}

func encodeTimestamp(v any, c Column, style EpochStyle, view func(time.Time) time.Time) (string, error) {
	t, ok := v.(time.Time)
	if !ok {
		return "", fmt.Errorf("unsupported value type %T", v)
	}
	u := view(t)
	return formatEpoch(u.Unix(), int64(u.Nanosecond()), scaleOf(c), style), nil
}

// formatEpoch writes sec (floor seconds) and nsec (0 ≤ nsec < 1e9) with scale
// fraction digits, truncating the fraction to the scale.
func formatEpoch(sec, nsec int64, scale int, style EpochStyle) string {
	unit := int64(math.Pow10(9 - scale))
	nsec -= nsec % unit
	if style == EpochDecimal && sec < 0 && nsec > 0 {
		sec++
		nsec = 1e9 - nsec
		var b strings.Builder
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(-sec, 10))
		writeFrac(&b, nsec, scale)
		return b.String()
	}
	var b strings.Builder
	b.WriteString(strconv.FormatInt(sec, 10))
	writeFrac(&b, nsec, scale)
	return b.String()
}

func writeFrac(b *strings.Builder, nsec int64, scale int) {
	if scale == 0 {
		return
	}
	f := strconv.FormatInt(nsec, 10)
	f = strings.Repeat("0", 9-len(f)) + f // nine digits, so a zero fraction works too
	b.WriteByte('.')
	b.WriteString(f[:scale])
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// encodeJSON writes variant values as JSON text. json.RawMessage and []byte are taken
// as JSON already; a Go string becomes a JSON string, keeping its quotes.
func encodeJSON(v any) (string, error) {
	switch x := v.(type) {
	case json.RawMessage:
		if !json.Valid(x) {
			return "", fmt.Errorf("invalid JSON text")
		}
		return string(x), nil
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func encodeBinary(v any) (string, error) {
	switch x := v.(type) {
	case []byte:
		return strings.ToUpper(hex.EncodeToString(x)), nil
	case string:
		return strings.ToUpper(hex.EncodeToString([]byte(x))), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}
