package result

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// AppendRowJSON appends row as one JSON rowset row — an array of the cells' encoded
// strings (EncodeStyle), null for NULL — to dst. Rows joined by commas, without the
// enclosing brackets, are the body of a result chunk (reference §3.4); inside brackets
// they are an inline rowset. Strings are escaped as encoding/json escapes them, except
// that <, > and & are written as themselves; invalid UTF-8 becomes U+FFFD as it does
// there, so a driver decodes the same values either way.
func AppendRowJSON(dst []byte, row []any, cols []Column, loc *time.Location, style EpochStyle) ([]byte, error) {
	if len(row) != len(cols) {
		return dst, fmt.Errorf("result: row has %d cells for %d columns", len(row), len(cols))
	}
	dst = append(dst, '[')
	for j, v := range row {
		if j > 0 {
			dst = append(dst, ',')
		}
		p, err := EncodeStyle(v, cols[j], loc, style)
		if err != nil {
			return dst, err
		}
		if p == nil {
			dst = append(dst, "null"...)
			continue
		}
		dst = AppendJSONString(dst, *p)
	}
	return append(dst, ']'), nil
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a quoted JSON string. Control characters, quote and
// backslash are escaped, U+2028 and U+2029 are written \u2028 and \u2029 (for
// JavaScript consumers), and each invalid UTF-8 byte becomes \ufffd.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
