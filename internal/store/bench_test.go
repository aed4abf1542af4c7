package store

import (
	"context"
	"fmt"
	"testing"
)

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	const n = 1000
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = key("A", "TABLE", "DB.S", fmt.Sprintf("T%04d", i))
	}
	seed(b, s, keys...)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		err := s.View(ctx, func(tx Tx) error {
			_, err := tx.Get(ctx, keys[i%n])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUpdate measures a small durable commit: one fsynced Put.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	k := key("A", "USER", "", "U")
	seed(b, s, k)
	data := []byte(`{"comment":"benchmark"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		err := s.Update(ctx, func(tx Tx) error {
			return tx.Put(ctx, &Record{Key: k, Owner: "SYSADMIN", Data: data})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
