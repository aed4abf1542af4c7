package params

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"CLIENT_SESSION_KEEP_ALIVE", "TRUE", "true", false},
		{"CLIENT_SESSION_KEEP_ALIVE", "0", "false", false},
		{"CLIENT_SESSION_KEEP_ALIVE", "maybe", "", true},
		{"STATEMENT_TIMEOUT_IN_SECONDS", " 30 ", "30", false},
		{"STATEMENT_TIMEOUT_IN_SECONDS", "-1", "", true},
		{"STATEMENT_TIMEOUT_IN_SECONDS", "abc", "", true},
		{"CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY", "100", "", true},
		{"TIMEZONE", "UTC", "UTC", false},
	}
	for _, tt := range tests {
		d, ok := Lookup(tt.name)
		if !ok {
			t.Fatalf("Lookup(%q) failed", tt.name)
		}
		got, err := d.Normalize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s.Normalize(%q) = %q, %v; want %q, err=%v", tt.name, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	d, _ := Lookup("timezone")
	tests := []struct {
		sess, user, acct map[string]string
		want, level      string
	}{
		{nil, nil, nil, "America/Los_Angeles", ""},
		{nil, nil, map[string]string{"TIMEZONE": "UTC"}, "UTC", "ACCOUNT"},
		{nil, map[string]string{"TIMEZONE": "Asia/Tokyo"}, map[string]string{"TIMEZONE": "UTC"}, "Asia/Tokyo", "USER"},
		{map[string]string{"TIMEZONE": "Europe/Paris"}, map[string]string{"TIMEZONE": "Asia/Tokyo"}, nil, "Europe/Paris", "SESSION"},
	}
	for i, tt := range tests {
		r := Resolve(d, tt.sess, tt.user, tt.acct)
		if r.Value != tt.want || r.Level != tt.level {
			t.Errorf("%d: Resolve = %q at %q; want %q at %q", i, r.Value, r.Level, tt.want, tt.level)
		}
	}
	// Account-only parameters ignore session values.
	v, _ := Lookup("SESSION_TOKEN_VALIDITY_IN_SECONDS")
	if r := Resolve(v, map[string]string{v.Name: "1"}, nil, nil); r.Value != v.Default {
		t.Errorf("session override of account-only parameter applied: %q", r.Value)
	}
}

func TestTyped(t *testing.T) {
	b, _ := Lookup("CLIENT_SESSION_KEEP_ALIVE")
	if b.Typed("true") != true {
		t.Error("boolean not typed")
	}
	n, _ := Lookup("MULTI_STATEMENT_COUNT")
	if n.Typed("3") != int64(3) {
		t.Error("number not typed")
	}
}
