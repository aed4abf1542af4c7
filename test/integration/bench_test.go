package integration

import (
	"context"
	"testing"
)

// BenchmarkSelect1RoundTrip measures a full SELECT 1 through gosnowflake: HTTP, session
// check, parse, DuckDB, encoding and history.
func BenchmarkSelect1RoundTrip(b *testing.B) {
	e := start(b)
	c := conn(b, e.admin())
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rs, err := c.QueryContext(ctx, "SELECT 1")
		if err != nil {
			b.Fatal(err)
		}
		for rs.Next() {
		}
		rs.Close()
	}
}

// BenchmarkControlRoundTrip measures a control statement that touches no data engine.
func BenchmarkControlRoundTrip(b *testing.B) {
	e := start(b)
	c := conn(b, e.admin())
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.ExecContext(ctx, "USE ROLE SYSADMIN"); err != nil {
			b.Fatal(err)
		}
	}
}
