package store_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

func benchT0() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }

// benchEngines runs fn on SQLite, and on PostgreSQL when configured.
func benchEngines(b *testing.B, fn func(b *testing.B, s *store.Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, openSQLite(b)) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(storetest.PostgresEnv) == "" {
			b.Skipf("%s not set", storetest.PostgresEnv)
		}
		fn(b, openPostgres(b))
	})
}

func benchItems(prefix string, n int, hash string) []model.Item {
	items := make([]model.Item, n)
	for i := range items {
		key := fmt.Sprintf("%s-%02d", prefix, i)
		items[i] = model.Item{
			Key: key, GUID: key, Link: "http://www.zhaoqing.gov.cn/xwzx/zqyw/" + key + ".html",
			Title: "肇庆市召开全市经济工作会议 " + key, Summary: "会议强调，要坚持稳中求进工作总基调。",
			ContentHTML: "<p>会议强调，要坚持稳中求进工作总基调，完整准确全面贯彻新发展理念。</p><p>" + key + "</p>",
			Language:    "zh", Categories: []string{"要闻"}, Published: benchT0().Add(-time.Duration(i) * time.Minute),
			ContentHash: hash, BackfillRank: -1,
		}
	}
	return items
}

// BenchmarkUpsertItems stores a 50-item poll: all new, all unchanged, or all changed.
func BenchmarkUpsertItems(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *store.Store) {
		ctx := b.Context()
		b.Run("new", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, err := s.UpsertItems(ctx, "bench-new", benchItems(fmt.Sprintf("n%d", i), 50, "h"), benchT0()); err != nil {
					b.Fatal(err)
				}
			}
		})
		items := benchItems("u", 50, "h")
		if _, err := s.UpsertItems(ctx, "bench-unchanged", items, benchT0()); err != nil {
			b.Fatal(err)
		}
		b.Run("unchanged", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.UpsertItems(ctx, "bench-unchanged", items, benchT0()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("changed", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, err := s.UpsertItems(ctx, "bench-unchanged", benchItems("u", 50, fmt.Sprint(i)), benchT0()); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkImportReady is a cold import's write path: one poll of 10 (or
// 100) new posts that need no translation, stored ready at once with a
// delivery each (what `once` does per source with translation off), each
// poll on its own source; ns/post is the store's cost per imported post.
func BenchmarkImportReady(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *store.Store) {
		ctx := b.Context()
		opt := store.UpsertOptions{Ready: func(model.Item) (model.Translation, []string, bool) {
			return model.Translation{Untranslated: true}, []string{"@c"}, true
		}}
		for _, n := range []int{10, 100} {
			b.Run(fmt.Sprintf("%d-posts", n), func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++
					src := fmt.Sprintf("src-%d-%d", n, i)
					res, err := s.UpsertItemsWith(ctx, src, benchItems(src, n, "h"), benchT0(), opt)
					if err != nil || len(res.Ready) != n {
						b.Fatalf("import: %d ready, %v", len(res.Ready), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/post")
			})
		}
	})
}

// BenchmarkClaimDeliveries claims 10 deliveries from an outbox of 1,000
// pending among 4,500 sent; each round's leases have expired by the next.
func BenchmarkClaimDeliveries(b *testing.B) {
	benchEngines(b, func(b *testing.B, s *store.Store) {
		ctx := b.Context()
		for batch := range 22 {
			res, err := s.UpsertItems(ctx, "bench", benchItems(fmt.Sprintf("b%d", batch), 50, "h"), benchT0())
			if err != nil {
				b.Fatal(err)
			}
			for _, id := range res.New {
				if err := s.MarkReady(ctx, id, model.Translation{TitleEN: "T"}, []string{"@a", "@b", "@c", "@d", "@e"}, benchT0()); err != nil {
					b.Fatal(err)
				}
			}
		}
		// 5,500 deliveries: mark all but 1,000 sent.
		ds, err := s.ClaimDeliveries(ctx, "setup", benchT0(), 4500, time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range ds {
			if err := s.MarkDelivered(ctx, d.ID, d.ID, benchT0()); err != nil {
				b.Fatal(err)
			}
		}
		now := benchT0().Add(time.Hour)
		for b.Loop() {
			now = now.Add(time.Minute)
			got, err := s.ClaimDeliveries(ctx, "bench", now, 10, 30*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) != 10 {
				b.Fatalf("claimed %d, want 10", len(got))
			}
		}
	})
}
