package sqlcli

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Output formats accepted by --format.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// column describes one result column.
type column struct {
	Name string
	Type string // Snowflake type as the driver reports it, upper case: FIXED, TEXT, BOOLEAN, ...
}

// cell is one rendered value.
type cell struct {
	Text string
	Null bool
}

// resultSet is one statement's rendered result.
type resultSet struct {
	Columns []column
	Rows    [][]cell
}

// numeric reports whether a column holds numbers (right-aligned in tables,
// JSON numbers in JSON).
func (c column) numeric() bool {
	switch c.Type {
	case "FIXED", "REAL", "DECFLOAT", "NUMBER", "FLOAT":
		return true
	}
	return false
}

// renderValue turns a value scanned from gosnowflake into text, using the
// column's Snowflake type. See the package documentation for the formats.
func renderValue(v any, typ string) cell {
	switch x := v.(type) {
	case nil:
		return cell{Null: true}
	case string:
		if typ == "BOOLEAN" {
			return cell{Text: renderBool(x)}
		}
		return cell{Text: x}
	case []byte:
		if typ == "BINARY" {
			return cell{Text: strings.ToUpper(hex.EncodeToString(x))}
		}
		return cell{Text: string(x)}
	case bool:
		return cell{Text: renderBool(strconv.FormatBool(x))}
	case int64:
		return cell{Text: strconv.FormatInt(x, 10)}
	case float64:
		return cell{Text: strconv.FormatFloat(x, 'g', -1, 64)}
	case time.Time:
		switch typ {
		case "DATE":
			return cell{Text: x.Format("2006-01-02")}
		case "TIME":
			return cell{Text: x.Format("15:04:05")}
		case "TIMESTAMP_NTZ":
			return cell{Text: x.Format("2006-01-02 15:04:05.000")}
		default: // TIMESTAMP_LTZ, TIMESTAMP_TZ
			return cell{Text: x.Format("2006-01-02 15:04:05.000 -0700")}
		}
	default:
		return cell{Text: fmt.Sprint(x)}
	}
}

func renderBool(s string) string {
	switch strings.ToLower(s) {
	case "1", "true":
		return "True"
	case "0", "false":
		return "False"
	}
	return s
}

// write prints rs in the given format.
func write(w io.Writer, format string, rs *resultSet) error {
	switch format {
	case "", FormatTable:
		return writeTable(w, rs)
	case FormatJSON:
		return writeJSON(w, rs)
	case FormatCSV:
		return writeCSV(w, rs)
	default:
		return fmt.Errorf("unknown format %q", format)
	}
}

// writeTable prints rs as an aligned table in snowsql's style, followed by a
// "N Row(s) produced." footer. Cells holding newlines span several lines.
func writeTable(w io.Writer, rs *resultSet) error {
	if len(rs.Columns) == 0 {
		_, err := io.WriteString(w, "Statement executed successfully.\n")
		return err
	}
	widths := make([]int, len(rs.Columns))
	for i, c := range rs.Columns {
		widths[i] = displayWidth(c.Name)
	}
	lines := make([][][]string, len(rs.Rows)) // row → column → lines
	for r, row := range rs.Rows {
		lines[r] = make([][]string, len(rs.Columns))
		for i := range rs.Columns {
			text := "NULL"
			if i < len(row) && !row[i].Null {
				text = row[i].Text
			}
			ls := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
			for j, l := range ls {
				ls[j] = strings.ReplaceAll(l, "\t", "    ")
				widths[i] = max(widths[i], displayWidth(ls[j]))
			}
			lines[r][i] = ls
		}
	}

	var b bytes.Buffer
	rule := func(edge, mid byte) {
		b.WriteByte(edge)
		for i, wd := range widths {
			if i > 0 {
				b.WriteByte(mid)
			}
			b.WriteString(strings.Repeat("-", wd+2))
		}
		b.WriteByte(edge)
		b.WriteByte('\n')
	}
	line := func(texts []string, right []bool) {
		b.WriteByte('|')
		for i, t := range texts {
			pad := strings.Repeat(" ", widths[i]-displayWidth(t))
			b.WriteByte(' ')
			if right[i] {
				b.WriteString(pad + t)
			} else {
				b.WriteString(t + pad)
			}
			b.WriteString(" |")
		}
		b.WriteByte('\n')
	}

	names := make([]string, len(rs.Columns))
	left := make([]bool, len(rs.Columns))
	right := make([]bool, len(rs.Columns))
	for i, c := range rs.Columns {
		names[i] = c.Name
		right[i] = c.numeric()
	}
	rule('+', '+')
	line(names, left)
	rule('|', '+')
	for _, row := range lines {
		height := 1
		for _, ls := range row {
			height = max(height, len(ls))
		}
		for h := range height {
			texts := make([]string, len(row))
			for i, ls := range row {
				if h < len(ls) {
					texts[i] = ls[h]
				}
			}
			line(texts, right)
		}
	}
	rule('+', '+')
	fmt.Fprintf(&b, "%d Row(s) produced.\n", len(rs.Rows))
	_, err := w.Write(b.Bytes())
	return err
}

// writeJSON prints rs as an indented JSON array of objects whose keys are in
// column order. NULL is null, BOOLEAN a JSON boolean, numbers JSON numbers
// (when the text is one) and everything else a string.
func writeJSON(w io.Writer, rs *resultSet) error {
	var b bytes.Buffer
	b.WriteByte('[')
	for r, row := range rs.Rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for i, c := range rs.Columns {
			if i > 0 {
				b.WriteByte(',')
			}
			k, err := json.Marshal(c.Name)
			if err != nil {
				return fmt.Errorf("encoding column name: %w", err)
			}
			b.Write(k)
			b.WriteByte(':')
			var v cell
			if i < len(row) {
				v = row[i]
			} else {
				v.Null = true
			}
			b.Write(jsonValue(c, v))
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("formatting JSON: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

func jsonValue(c column, v cell) []byte {
	switch {
	case v.Null:
		return []byte("null")
	case c.Type == "BOOLEAN" && (v.Text == "True" || v.Text == "False"):
		return []byte(strings.ToLower(v.Text))
	case c.numeric() && isJSONNumber(v.Text):
		return []byte(v.Text)
	}
	s, err := json.Marshal(v.Text)
	if err != nil { // strings always marshal; keep the compiler and vet happy
		return []byte("null")
	}
	return s
}

func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// writeCSV prints rs as CSV with a header row; NULL is an empty field. A
// result without columns prints nothing.
func writeCSV(w io.Writer, rs *resultSet) error {
	if len(rs.Columns) == 0 {
		return nil
	}
	cw := csv.NewWriter(w)
	header := make([]string, len(rs.Columns))
	for i, c := range rs.Columns {
		header[i] = c.Name
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	rec := make([]string, len(rs.Columns))
	for _, row := range rs.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) && !row[i].Null {
				rec[i] = row[i].Text
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}
