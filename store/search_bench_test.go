package store_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// Search at scale (issue 16). Not part of `go test ./...`: it runs only with
// -bench and TRANSFEED_SEARCH_BENCH_POSTS set, on a store it builds once and
// keeps (SQLite: TRANSFEED_SEARCH_BENCH_DIR, default the system temp dir;
// PostgreSQL: the schema named by TRANSFEED_SEARCH_BENCH_SCHEMA, when
// TRANSFEED_TEST_POSTGRES_DSN is set). See scripts/search-bench.sh.

// benchPhrases are sentences of the kind government posts repeat, in
// English and Chinese; posts are drawn from them with a skewed frequency,
// so common words match a large part of the archive and rare ones little.
var benchPhrases = [][2]string{
	{"The meeting stressed deeper integration into the Greater Bay Area.", "会议强调，要深度融入粤港澳大湾区建设。"},
	{"The city will speed up investment promotion and major projects.", "全市要加快招商引资和重大项目建设。"},
	{"Officials inspected flood control along the Xi River.", "有关负责人检查西江防汛工作。"},
	{"The provincial government issued measures to boost consumption.", "省政府印发促进消费若干措施。"},
	{"High-quality development remains the primary task.", "高质量发展是首要任务。"},
	{"The intercity railway cut commuting time to forty minutes.", "城际铁路将通勤时间缩短至四十分钟。"},
	{"Enterprises discussed the business environment with city leaders.", "企业负责人与市领导座谈营商环境。"},
	{"Scenic spots received visitors during the holiday.", "假期各景区接待游客。"},
	{"The port handled more cargo than last year.", "港口货物吞吐量同比增长。"},
	{"Rural revitalisation projects were reviewed in each county.", "各县区乡村振兴项目接受检查。"},
	{"Schools prepared for the new semester and campus safety.", "各学校做好开学和校园安全工作。"},
	{"The hospital opened a new emergency centre.", "医院新建急救中心投入使用。"},
	{"Police warned residents about telecom fraud.", "公安机关提醒市民防范电信诈骗。"},
	{"Ecological protection of Dinghu Mountain was strengthened.", "鼎湖山生态保护进一步加强。"},
	{"Exports of new energy vehicles grew quickly.", "新能源汽车出口快速增长。"},
	{"Volunteers cleaned the riverside park.", "志愿者清理江边公园。"},
	{"The forum on digital economy attracted experts.", "数字经济论坛吸引众多专家。"},
	{"Farmers harvested early rice ahead of the typhoon.", "农民赶在台风前抢收早稻。"},
	{"A drought relief plan was adopted.", "会议通过抗旱工作方案。"},
	{"The museum displayed inkstones from Duanzhou.", "博物馆展出端州名砚。"},
}

func benchPost(r *rand.Rand, i int, published time.Time) (model.Item, model.Translation) {
	pick := func() int {
		// Skewed: phrase k is drawn with weight 1/(k+1).
		x := r.Float64() * 3.6
		k := 0
		for w := 1.0; x > w && k < len(benchPhrases)-1; k++ {
			x -= w
			w = 1 / float64(k+2)
		}
		return k
	}
	t := benchPhrases[pick()]
	var en, zh strings.Builder
	for range 8 + r.IntN(10) {
		p := benchPhrases[pick()]
		fmt.Fprintf(&en, "<p>%s It concerns item %d.</p>", p[0], r.IntN(100000))
		fmt.Fprintf(&zh, "<p>%s 第%d项。</p>", p[1], r.IntN(100000))
	}
	key := "p" + strconv.Itoa(i)
	it := model.Item{Key: key, GUID: key, Link: "http://www.zhaoqing.gov.cn/xwzx/" + key + ".html",
		Title: strings.TrimSuffix(t[1], "。"), ContentHTML: zh.String(), Language: "zh", Published: published,
		ContentHash: "h", BackfillRank: -1}
	tr := model.Translation{TitleEN: strings.TrimSuffix(t[0], "."), ContentHTMLEN: en.String(), TranslatedBy: "bench/model"}
	return it, tr
}

var benchSources = []string{"zhaoqing-news", "zhaoqing-wechat", "gd-gov", "gd-english", "duanzhou", "dinghu", "gaoyao", "sihui"}

// benchBase is the most posts a benchmark store gets through the write
// path; larger ones are grown from a store of benchBase (growSearchBench).
const benchBase = 100000

// benchSpan is the time the posts made by the write path cover (a year),
// and so the shift of each grown copy.
const benchSpan = 365 * 24 * time.Hour

// openSearchBench opens the kept store of n posts of engine.
func openSearchBench(b *testing.B, engine string, n int) *store.Store {
	cfg := store.Config{Driver: engine}
	switch engine {
	case store.DriverSQLite:
		dir := os.Getenv("TRANSFEED_SEARCH_BENCH_DIR")
		if dir == "" {
			dir = os.TempDir()
		}
		cfg.DSN = filepath.Join(dir, fmt.Sprintf("search-bench-%d.db", n))
	default:
		dsn, schema := os.Getenv(storetest.PostgresEnv), os.Getenv("TRANSFEED_SEARCH_BENCH_SCHEMA")
		if dsn == "" || schema == "" {
			b.Skipf("%s or TRANSFEED_SEARCH_BENCH_SCHEMA not set", storetest.PostgresEnv)
		}
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		// Commits need not wait for the disk while the store is built
		// (the searches measured only read).
		cfg.DSN = dsn + sep + "search_path=" + schema + "&synchronous_commit=off"
	}
	s, err := store.Open(b.Context(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// growSearchBench makes s (empty, or already grown) a store of n posts: a
// copy of the SQLite store of benchBase posts (built through the write
// path if missing), multiplied by SQL copies (store.GrowForBench).
func growSearchBench(b *testing.B, s *store.Store, n int) {
	have, err := s.ListItems(b.Context(), store.ItemQuery{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if len(have) == 0 {
		base := openSearchBench(b, store.DriverSQLite, benchBase)
		fillSearchBench(b, base, benchBase)
		began := time.Now()
		if _, err := store.Copy(b.Context(), s, base); err != nil {
			b.Fatal(err)
		}
		b.Logf("copied the %d posts of the base store in %v", benchBase, time.Since(began).Round(time.Second))
	}
	if err := s.GrowForBench(b.Context(), n, b.Logf); err != nil {
		b.Fatal(err)
	}
}

// fillSearchBench stores n ready posts over a year, through the store's
// own write path (UpsertItems, MarkReady), so the index is built on write.
// A store of more than benchBase posts is left to growSearchBench.
func fillSearchBench(b *testing.B, s *store.Store, n int) {
	if n > benchBase {
		return
	}
	ctx := b.Context()
	have, err := s.ListItems(ctx, store.ItemQuery{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if len(have) > 0 {
		return
	}
	r := rand.New(rand.NewPCG(16, 16))
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	step := benchSpan / time.Duration(n)
	began := time.Now()
	const batch = 200
	for i := 0; i < n; i += batch {
		src := benchSources[(i/batch)%len(benchSources)]
		var items []model.Item
		var trs []model.Translation
		for j := i; j < min(i+batch, n); j++ {
			it, tr := benchPost(r, j, start.Add(time.Duration(j)*step))
			items, trs = append(items, it), append(trs, tr)
		}
		res, err := s.UpsertItems(ctx, src, items, items[len(items)-1].Published)
		if err != nil {
			b.Fatal(err)
		}
		for k, id := range res.New {
			if err := s.MarkReady(ctx, id, trs[k], nil, items[k].Published); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("stored %d posts in %v", n, time.Since(began).Round(time.Second))
}

// BenchmarkSearchScale measures search latency (p50, p99) with 8 concurrent
// searchers (TRANSFEED_SEARCH_BENCH_CONC; at least GOMAXPROCS) on a store
// of TRANSFEED_SEARCH_BENCH_POSTS posts.
func BenchmarkSearchScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("TRANSFEED_SEARCH_BENCH_POSTS"))
	if n <= 0 {
		b.Skip("TRANSFEED_SEARCH_BENCH_POSTS not set")
	}
	queries := []struct{ name, q, order string }{
		{"en-one-word", "investment", store.SearchByRank},
		{"en-one-common", "meeting", store.SearchByRank},
		{"en-two-words", "bay area", store.SearchByRank},
		{"en-rare", "inkstones", store.SearchByRank},
		{"en-number", "12345", store.SearchByRank}, // in a few bodies, no title
		{"zh-two-chars", "湾区", store.SearchByRank},
		{"zh-two-chars-rare", "端州", store.SearchByRank},
		{"en-two-words-date", "bay area", store.SearchByDate},
		{"en-one-word-source", "investment", store.SearchByRank},
	}
	for _, engine := range []string{store.DriverSQLite, store.DriverPostgres} {
		b.Run(engine, func(b *testing.B) {
			s := openSearchBench(b, engine, n)
			fillSearchBench(b, s, n)
			if n > benchBase {
				growSearchBench(b, s, n)
			}
			all, index, err := s.SearchSizes(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: database %d MB, search index %d MB (%.0f%% of the rest)", engine, all>>20, index>>20,
				100*float64(index)/float64(all-index))
			// Keyset list pages (index, source page, archive month) at the
			// newest posts and deep in the year.
			deep, err := s.ListItems(b.Context(), store.ItemQuery{States: []model.State{model.StateReady}, Limit: 1,
				Before: time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)})
			if err != nil || len(deep) == 0 {
				b.Fatalf("deep cursor: %v", err)
			}
			ready := []model.State{model.StateReady}
			// The oldest posts: at 1,000,000, copies years back.
			oldest := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration((n-1)/benchBase) * benchSpan)
			deepest, err := s.ListItems(b.Context(), store.ItemQuery{States: []model.State{model.StateReady}, Limit: 1,
				Before: oldest.Add(15 * 24 * time.Hour)})
			if err != nil || len(deepest) == 0 {
				b.Fatalf("deepest cursor: %v", err)
			}
			lists := map[string]store.ItemQuery{
				"list-first":   {States: ready, Limit: 31},
				"list-deepest": {States: ready, Limit: 31, Before: deepest[0].Published, BeforeID: deepest[0].ID},
				"source-list-deepest": {SourceIDs: []string{"gaoyao"}, States: ready, Limit: 31, Before: deepest[0].Published,
					BeforeID: deepest[0].ID},
				"archive-oldest-month": {States: ready, Limit: 31, Since: oldest.AddDate(0, 1, 0), Before: oldest.AddDate(0, 2, 0)},
				"list-deep":            {States: ready, Limit: 31, Before: deep[0].Published, BeforeID: deep[0].ID},
				"source-list-deep":     {SourceIDs: []string{"gaoyao"}, States: ready, Limit: 31, Before: deep[0].Published, BeforeID: deep[0].ID},
				"archive-month": {States: ready, Limit: 31, Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
					Before: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
			}
			for _, name := range slices.Sorted(maps.Keys(lists)) {
				q := lists[name]
				b.Run(name, func(b *testing.B) {
					benchLatency(b, func(ctx context.Context) error {
						_, err := s.ListItems(ctx, q)
						return err
					})
				})
			}
			for _, qc := range queries {
				b.Run(qc.name, func(b *testing.B) {
					q, err := fulltext.Parse(qc.q)
					if err != nil {
						b.Fatal(err)
					}
					sq := store.SearchQuery{Query: q, Order: qc.order, Limit: 20}
					if strings.HasSuffix(qc.name, "-source") {
						sq.SourceIDs = []string{"gaoyao"}
					}
					benchLatency(b, func(ctx context.Context) error {
						_, err := s.Search(ctx, sq)
						return err
					})
				})
			}
		})
	}
}

// benchLatency runs fn from 8 goroutines (TRANSFEED_SEARCH_BENCH_CONC) and
// reports p50 and p99 in ms.
func benchLatency(b *testing.B, fn func(ctx context.Context) error) {
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	conc, _ := strconv.Atoi(os.Getenv("TRANSFEED_SEARCH_BENCH_CONC"))
	if conc <= 0 {
		conc = 8
	}
	b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
	// Warm up: conc calls at once before the clock starts, so that the
	// first benchmark does not count the opening of the pool's
	// connections (on PostgreSQL a new backend, several ms each, which a
	// running daemon has long paid).
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			if err := fn(b.Context()); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t := time.Now()
			if err := fn(b.Context()); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
