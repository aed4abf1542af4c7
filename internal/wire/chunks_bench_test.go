package wire

import (
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/firn/firn/internal/result"
)

// benchSet is 100,000 rows shaped like TestBigTable's SELECT (ID NUMBER(38,0), NAME
// VARCHAR(32), AMOUNT NUMBER(12,2), TS TIMESTAMP_NTZ).
func benchSet() *result.Set {
	const n = 100000
	rows := make([][]any, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = []any{big.NewInt(int64(i)), fmt.Sprintf("name-%d", i), fmt.Sprintf("%d.%02d", i/100, i%100), t0.Add(time.Duration(i) * time.Second)}
	}
	return &result.Set{Type: result.Select, Columns: []result.Column{
		{Name: "ID", Type: "fixed", Precision: 38},
		{Name: "NAME", Type: "text", Length: 32},
		{Name: "AMOUNT", Type: "fixed", Precision: 12, Scale: 2},
		{Name: "TS", Type: "timestamp_ntz", Scale: 9},
	}, Rows: rows}
}

// BenchmarkResultEncoding compares the reply of a 100,000-row result as one JSON
// rowset (every cell as a Go string, then the body: the encoding before chunks) with
// the inline rowset plus gzip chunks. "kept-B" is what stays in memory per result
// for result fetches and chunk downloads.
func BenchmarkResultEncoding(b *testing.B) {
	set := benchSet()
	b.Run("rowset", func(b *testing.B) {
		b.ReportAllocs()
		var kept int
		for b.Loop() {
			rows, err := result.EncodeRowsStyle(set, time.UTC, result.EpochGo)
			if err != nil {
				b.Fatal(err)
			}
			body, err := json.Marshal(rows)
			if err != nil {
				b.Fatal(err)
			}
			kept = len(body)
		}
		b.ReportMetric(float64(kept), "kept-B")
	})
	b.Run("chunks", func(b *testing.B) {
		b.ReportAllocs()
		var kept int
		for b.Loop() {
			inline, _, cs, err := encodeResultRows(set, time.UTC, result.EpochGo)
			if err != nil {
				b.Fatal(err)
			}
			kept = len(inline)
			for _, c := range cs.gz {
				kept += len(c)
			}
		}
		b.ReportMetric(float64(kept), "kept-B")
	})
}
