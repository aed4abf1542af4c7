package sql

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/firn/firn/internal/sferr"
)

var update = flag.Bool("update", false, "rewrite the golden outputs in testdata")

// goldenCase is one input of a golden archive.
type goldenCase struct {
	name  string // file name without extension
	input string
}

// runGolden runs every testdata/<dir>/*.txt archive. Each archive holds inputs named
// NAME.sql, each followed by its expected output NAME.<ext>; fn computes the output.
// With -update the outputs are rewritten.
func runGolden(t *testing.T, dir, ext string, fn func(t *testing.T, input string) string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no golden files in testdata/%s", dir)
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		var cases []goldenCase
		for _, f := range ar.Files {
			switch {
			case strings.HasSuffix(f.Name, ".sql"):
				cases = append(cases, goldenCase{strings.TrimSuffix(f.Name, ".sql"), strings.TrimSuffix(string(f.Data), "\n")})
			case strings.HasSuffix(f.Name, "."+ext):
				want[strings.TrimSuffix(f.Name, "."+ext)] = string(f.Data)
			default:
				t.Fatalf("%s: unexpected file %q", file, f.Name)
			}
		}
		out := &txtar.Archive{Comment: ar.Comment}
		for _, c := range cases {
			var got string
			t.Run(filepath.Base(file)+"/"+c.name, func(t *testing.T) {
				got = fn(t, c.input) + "\n"
				if !*update && got != want[c.name] {
					t.Errorf("input:\n%s\ngot:\n%s\nwant:\n%s", c.input, got, want[c.name])
				}
			})
			out.Files = append(out.Files,
				txtar.File{Name: c.name + ".sql", Data: []byte(c.input + "\n")},
				txtar.File{Name: c.name + "." + ext, Data: []byte(got)})
		}
		if *update {
			if err := os.WriteFile(file, txtar.Format(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// goldenInputs returns every .sql input of the golden archives, for fuzz seeds.
func goldenInputs(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".sql") {
				in = append(in, strings.TrimSuffix(string(f.Data), "\n"))
			}
		}
	}
	return in
}

// formatErr renders an error for golden files.
func formatErr(err error) string {
	var e *sferr.Error
	if !errors.As(err, &e) {
		return "NON-SNOWFLAKE ERROR " + err.Error()
	}
	return fmt.Sprintf("ERROR %s %s line=%d pos=%d\n%s", e.Code, e.SQLState, e.Line, e.Pos, e.Message)
}

// dumpStatement renders a statement as indented JSON with its type first and zero
// fields left out.
func dumpStatement(st Statement) string {
	m := omap{{"Type", reflect.TypeOf(st).Elem().Name()}}
	m = append(m, dump(reflect.ValueOf(st)).(omap)...)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "MARSHAL ERROR " + err.Error()
	}
	return string(b)
}

type kv struct {
	k string
	v any
}

// omap is a JSON object that keeps its keys in order.
type omap []kv

func (m omap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var valueKindNames = map[ValueKind]string{
	ValString: "String", ValNumber: "Number", ValBool: "Bool", ValIdent: "Ident",
	ValList: "List", ValNull: "Null", ValPair: "Pair",
}

func dump(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return dump(v.Elem())
	case reflect.Struct:
		var m omap
		for i := 0; i < v.NumField(); i++ {
			f, fv := v.Type().Field(i), v.Field(i)
			if f.Anonymous {
				if sub, ok := dump(fv).(omap); ok {
					m = append(m, sub...)
				}
				continue
			}
			if fv.IsZero() && !(f.Name == "Kind" && fv.Type() == reflect.TypeOf(ValString)) {
				continue
			}
			m = append(m, kv{f.Name, dump(fv)})
		}
		return m
	case reflect.Slice:
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, dump(v.Index(i)))
		}
		return out
	}
	if k, ok := v.Interface().(ValueKind); ok {
		return valueKindNames[k]
	}
	return v.Interface()
}

func TestParseGolden(t *testing.T) {
	runGolden(t, "parse", "json", func(t *testing.T, in string) string {
		st, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			return formatErr(err)
		}
		return dumpStatement(st)
	})
}

func TestParseErrorsGolden(t *testing.T) {
	runGolden(t, "errors", "err", func(t *testing.T, in string) string {
		st, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) = %T, want an error", in, st)
			return dumpStatement(st)
		}
		return formatErr(err)
	})
}

func TestSplitGolden(t *testing.T) {
	runGolden(t, "split", "json", func(t *testing.T, in string) string {
		stmts, err := Split(in)
		if err != nil {
			return formatErr(err)
		}
		b, _ := json.MarshalIndent(stmts, "", "  ")
		return string(b)
	})
}

func TestTokenizeGolden(t *testing.T) {
	runGolden(t, "lex", "tokens", func(t *testing.T, in string) string {
		toks, err := Tokenize(in)
		if err != nil {
			return formatErr(err)
		}
		var b strings.Builder
		for _, tok := range toks {
			fmt.Fprintf(&b, "%d:%d @%d %s %q", tok.Line, tok.Column, tok.Offset, tok.Kind, tok.Text)
			if tok.Value != tok.Text {
				fmt.Fprintf(&b, " => %q", tok.Value)
			}
			b.WriteByte('\n')
		}
		return strings.TrimSuffix(b.String(), "\n")
	})
}
