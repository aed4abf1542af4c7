package data

import (
	"context"
	"testing"
	"time"
)

func TestNormalizeTZLiteral(t *testing.T) {
	tests := map[string]string{
		"2024-01-02 03:04:05 +0100":        "2024-01-02 03:04:05+01:00",
		"2024-01-02 03:04:05.123 -08:00":   "2024-01-02 03:04:05.123-08:00",
		"2024-01-02 03:04:05+01:00":        "2024-01-02 03:04:05+01:00",
		"2024-01-02 03:04:05":              "2024-01-02 03:04:05",
		"2024-01-02 03:04:05 Europe/Paris": "2024-01-02 03:04:05 Europe/Paris",
		"not a timestamp +0100":            "not a timestamp +0100",
	}
	for in, want := range tests {
		if got := normalizeTZLiteral(in); got != want {
			t.Errorf("normalizeTZLiteral(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestTZLiteralWithSpacedOffset(t *testing.T) {
	e, err := Open(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	set, err := e.Query(context.Background(), &Context{Account: "A"}, "SELECT '2024-01-02 03:04:05 +0100'::TIMESTAMP_TZ", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := set.Rows[0][0].(time.Time)
	if !ok || !got.Equal(time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC)) {
		t.Errorf("got %v (%T); want 02:04:05 UTC", set.Rows[0][0], set.Rows[0][0])
	}
}
