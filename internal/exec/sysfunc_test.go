package exec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/firn/firn/internal/sql"
)

func TestParseSysFuncCall(t *testing.T) {
	s := func(v string) sysArg { return sysArg{Kind: sql.TokString, Value: v} }
	n := func(v string) sysArg { return sysArg{Kind: sql.TokNumber, Value: v} }
	tests := []struct {
		text   string
		ok     bool
		name   string
		column string
		args   []sysArg
	}{
		{"SELECT SYSTEM$GET_PRIVATELINK_CONFIG()", true, "SYSTEM$GET_PRIVATELINK_CONFIG", "SYSTEM$GET_PRIVATELINK_CONFIG()", nil},
		{"select system$get_privatelink_config();", true, "SYSTEM$GET_PRIVATELINK_CONFIG", "SYSTEM$GET_PRIVATELINK_CONFIG()", nil},
		{"SELECT SYSTEM$F('a', 'it''s', 60)", true, "SYSTEM$F", "SYSTEM$F('A', 'IT''S', 60)", []sysArg{s("a"), s("it's"), n("60")}},
		{"SELECT SYSTEM$F( 'x' ,-5, NULL, true ) AS res", true, "SYSTEM$F", "RES", []sysArg{s("x"), n("-5"), {sql.TokWord, "NULL"}, {sql.TokWord, "TRUE"}}},
		{`SELECT SYSTEM$F() "My Col"`, true, "SYSTEM$F", "My Col", nil},
		{"SELECT SYSTEM$F($$a,b$$)", true, "SYSTEM$F", "SYSTEM$F($$A,B$$)", []sysArg{s("a,b")}},
		{"SELECT SYSTEM$F() FROM t", false, "", "", nil},
		{"SELECT SYSTEM$F(col)", false, "", "", nil},
		{"SELECT SYSTEM$F(1+1)", false, "", "", nil},
		{"SELECT SYSTEM$F('a'", false, "", "", nil},
		{"SELECT SYSTEM$F(), 1", false, "", "", nil},
		{"SELECT UPPER('a')", false, "", "", nil},
		{"SELECT SYSTEM$F('a',)", false, "", "", nil},
		{"WITH x AS (SELECT 1) SELECT SYSTEM$F()", false, "", "", nil},
	}
	for _, tt := range tests {
		c, ok := parseSysFuncCall(tt.text)
		if ok != tt.ok {
			t.Errorf("%q: ok %v, want %v", tt.text, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if c.Name != tt.name || c.Column != tt.column || !reflect.DeepEqual(c.Args, tt.args) {
			t.Errorf("%q: got %+v, want name %s column %s args %v", tt.text, c, tt.name, tt.column, tt.args)
		}
	}
}

// TestRedactSysFuncSecrets: ownership tokens never reach query history or logs.
func TestRedactSysFuncSecrets(t *testing.T) {
	tok := `{"Credentials":{"AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","SessionToken":"IQo"}}`
	text := "SELECT SYSTEM$REGISTER_PRIVATELINK_ENDPOINT('vpce-1', '123456789012', '" + tok + "', 60)"
	got, values := redactSysFuncSecrets(text, nil)
	want := "SELECT SYSTEM$REGISTER_PRIVATELINK_ENDPOINT('vpce-1', '123456789012', '***', 60)"
	if got != want {
		t.Errorf("redacted %q\nwant     %q", got, want)
	}
	if len(values) != 1 || values[0] != tok {
		t.Errorf("values %q", values)
	}
	got, _ = redactSysFuncSecrets("select system$authorize_privatelink('123456789012', $$secret$$)", nil)
	if strings.Contains(got, "secret") {
		t.Errorf("authorize not redacted: %q", got)
	}
	for _, plain := range []string{"SELECT SYSTEM$GET_PRIVATELINK_CONFIG()", "SELECT 'SYSTEM$REGISTER_PRIVATELINK_ENDPOINT'", "SELECT 1"} {
		if got, v := redactSysFuncSecrets(plain, nil); got != plain || v != nil {
			t.Errorf("%q changed to %q", plain, got)
		}
	}
}
