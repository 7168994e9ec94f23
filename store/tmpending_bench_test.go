package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// BenchmarkTMReserve is the memory traffic of one translated post of 30
// new segments: with reservations (TMReserve, then TMPut, which ends them)
// against TMPut alone, the cost before reservations.
func BenchmarkTMReserve(b *testing.B) {
	const segments = 30
	for _, reserve := range []bool{false, true} {
		name := "put-only"
		if reserve {
			name = "reserve+put"
		}
		b.Run(name, func(b *testing.B) {
			benchEngines(b, func(b *testing.B, s *store.Store) {
				ctx := b.Context()
				n := 0
				for b.Loop() {
					keys := make([]string, segments)
					entries := make([]model.TMEntry, segments)
					for i := range keys {
						keys[i] = fmt.Sprintf("post%06d-seg%02d", n, i)
						entries[i] = model.TMEntry{Key: keys[i], Provider: "p", Source: "会议强调，要坚持稳中求进。", Target: "The meeting stressed progress."}
					}
					n++
					if reserve {
						owned, err := s.TMReserve(ctx, keys, "bench", benchT0(), 2*time.Minute)
						if err != nil || len(owned) != segments {
							b.Fatalf("reserve: %d owned, %v", len(owned), err)
						}
					}
					if err := s.TMPut(ctx, entries); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
