package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// engines opens one empty store per available engine.
func engines(t *testing.T) map[string]*store.Store {
	out := map[string]*store.Store{store.DriverSQLite: openSQLite(t)}
	if os.Getenv(storetest.PostgresEnv) != "" {
		out[store.DriverPostgres] = openPostgres(t)
	}
	return out
}

func searchIDs(t *testing.T, s *store.Store, query string) []int64 {
	t.Helper()
	q, err := fulltext.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(t.Context(), store.SearchQuery{Query: q, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, h := range res.Hits {
		out = append(out, h.Item.ID)
	}
	slices.Sort(out)
	return out
}

// TestSearchSameOnBothEngines loads the same corpus into SQLite and
// PostgreSQL and checks every query finds the same posts on both.
func TestSearchSameOnBothEngines(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	lite, pg := openSQLite(t), openPostgres(t)
	liteIDs, pgIDs := storetest.LoadCorpus(t, lite), storetest.LoadCorpus(t, pg)
	for _, c := range storetest.SearchCases() {
		for _, order := range []string{store.SearchByRank, store.SearchByDate} {
			a := c.Run(t, lite, liteIDs, order)
			b := c.Run(t, pg, pgIDs, order)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("%s %q by %s (-sqlite +postgres):\n%s", c.Name, c.Query, order, diff)
			}
			// PostgreSQL's read in id order covers a few ids only: the
			// rest comes from the GIN index, in the same order.
			for _, w := range []int64{1, 3} {
				b := c.RunWith(t, pg, pgIDs, order, func(q store.SearchQuery) store.SearchQuery {
					return store.WithSearchWindow(q, w)
				})
				if diff := cmp.Diff(a, b); diff != "" {
					t.Errorf("%s %q by %s, window %d (-sqlite +postgres):\n%s", c.Name, c.Query, order, w, diff)
				}
			}
		}
	}
}

// TestSearchDeleted: a post deleted from items (as retention does) is no
// longer found, on every engine.
func TestSearchDeleted(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ids := storetest.LoadCorpus(t, s)
			if _, err := s.Exec(t.Context(), `DELETE FROM items WHERE id = ?`, ids["gba-rail"]); err != nil {
				t.Fatal(err)
			}
			if got, want := searchIDs(t, s, "大湾区"), []int64{ids["gba-forum"]}; !slices.Equal(got, want) {
				t.Errorf("after delete: %v, want %v", got, want)
			}
		})
	}
}

// TestSearchIndexBuiltAtOpen: posts stored before the index existed (the
// queue migrations 0007 and, on PostgreSQL, 0010 fill) are indexed in
// batches when the store opens.
func TestSearchIndexBuiltAtOpen(t *testing.T) {
	cfgs := map[string]store.Config{
		store.DriverSQLite: {Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "transfeed.db")},
	}
	// Back to the state right after the migration: index empty, every ready post queued.
	reset := map[string][]string{
		store.DriverSQLite: {`DELETE FROM items_fts`, `INSERT INTO search_queue (item_id) SELECT id FROM items`},
		store.DriverPostgres: {`DELETE FROM item_search`, `DELETE FROM item_search_title`, `DELETE FROM search_terms`,
			`INSERT INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready'`},
	}
	if os.Getenv(storetest.PostgresEnv) != "" {
		cfgs[store.DriverPostgres] = postgresConfig(t)
	}
	for name, cfg := range cfgs {
		t.Run(name, func(t *testing.T) {
			s, err := store.Open(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids := storetest.LoadCorpus(t, s)
			for _, q := range reset[name] {
				if _, err := s.Exec(t.Context(), q); err != nil {
					t.Fatal(err)
				}
			}
			if got := searchIDs(t, s, "湾区"); got != nil {
				t.Fatalf("emptied index still finds %v", got)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = store.Open(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for query, keys := range map[string][]string{
				"湾区":                     {"gba-forum", "gba-rail", "untranslated"},
				"大湾区":                    {"gba-forum", "gba-rail"},
				`"bay area" cooperation`: {"english-source"},
			} {
				var want []int64
				for _, k := range keys {
					want = append(want, ids[k])
				}
				slices.Sort(want)
				if got := searchIDs(t, s, query); !slices.Equal(got, want) {
					t.Errorf("after reopen: %s finds %v, want %v", query, got, want)
				}
			}
		})
	}
}

// TestSearchPlan checks the candidate queries read the full-text index
// and join posts by primary key, with no sort of the matches.
func TestSearchPlan(t *testing.T) {
	q, err := fulltext.Parse("bay 湾区")
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]store.SearchQuery{
		"rank":             {Query: q},
		"date":             {Query: q, Order: store.SearchByDate},
		"source and dates": {Query: q, SourceIDs: []string{"a", "b"}, From: storetest.Day(1), To: storetest.Day(20)},
	}
	for name, s := range engines(t) {
		storetest.LoadCorpus(t, s)
		for qn, sq := range queries {
			t.Run(name+"/"+qn, func(t *testing.T) {
				plan, err := s.SearchPlan(t.Context(), sq)
				plan += "\n"
				if err != nil {
					t.Fatal(err)
				}
				if name == store.DriverPostgres {
					// The read of the older matches must not walk item_search
					// in id order (on a toy table the planner may start from
					// items; at scale it takes the GIN index).
					ip, err := s.SearchIndexPlan(t.Context(), sq)
					if err != nil {
						t.Fatal(err)
					}
					if strings.Contains(ip, "Backward using item_search_pkey") || strings.Contains(ip, "Seq Scan") {
						t.Errorf("the read by index walks the table:\n%s", ip)
					}
					// The title tier reads the narrow title table alone
					// (0012), in id order or by its GIN index.
					for _, byIndex := range []bool{false, true} {
						tp, err := s.SearchTitlePlan(t.Context(), sq, byIndex)
						if err != nil {
							t.Fatal(err)
						}
						if !strings.Contains(tp, "item_search_title") || strings.Contains(tp, "on item_search x") ||
							strings.Contains(tp, "Seq Scan") || (byIndex && strings.Contains(tp, "Backward using item_search_title_pkey")) {
							t.Errorf("title tier (by index %v) does not read item_search_title alone by an index:\n%s", byIndex, tp)
						}
					}
				}
				var want, bad []string
				if name == store.DriverSQLite {
					want = []string{"VIRTUAL TABLE INDEX", "USING INTEGER PRIMARY KEY"}
					bad = []string{"TEMP B-TREE", "SCAN i\n", "SCAN i USING"}
				} else {
					// A toy table gives the planner no reason to prefer one
					// index over another; scripts/search-bench.sh checks the
					// plans at 100k posts.
					want = []string{"item_search"}
					bad = []string{"Seq Scan"}
				}
				for _, w := range want {
					if !strings.Contains(plan, w) {
						t.Errorf("plan lacks %q:\n%s", w, plan)
					}
				}
				for _, b := range bad {
					if strings.Contains(plan, b) {
						t.Errorf("plan has %q:\n%s", b, plan)
					}
				}
			})
		}
	}
}

// TestGrowForBench: the benchmark's copies are found as the originals are.
func TestGrowForBench(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ids := storetest.LoadCorpus(t, s)
			before := len(searchIDs(t, s, "大湾区"))
			if err := s.GrowForBench(t.Context(), 3*len(ids), t.Logf); err != nil {
				t.Fatal(err)
			}
			for query, n := range map[string]int{"大湾区": 3 * before, `"area bay"`: 0} {
				if got := searchIDs(t, s, query); len(got) != n {
					t.Errorf("%s finds %d posts, want %d", query, len(got), n)
				}
			}
			// The copies are new posts: a write still indexes them.
			if err := s.SetItemState(t.Context(), ids["gba-rail"], "new"); err != nil {
				t.Fatal(err)
			}
			if got := len(searchIDs(t, s, "大湾区")); got != 3*before-1 {
				t.Errorf("after a post left: %d found, want %d", got, 3*before-1)
			}
		})
	}
}

// TestSearchTitleMigration: a PostgreSQL index of 0010's shape (title terms
// as negated ids in item_search.terms, no item_search_title) is converted
// by 0012 when the store opens, and every search finds what it found.
func TestSearchTitleMigration(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	const negatedRows = `SELECT COUNT(*) FROM item_search WHERE terms && ARRAY(SELECT -id FROM search_terms)`
	migrationKeepsSearch(t, postgresConfig(t), "0012", []string{
		`UPDATE item_search x SET terms = ARRAY(SELECT u FROM (SELECT unnest(x.terms) u UNION
			SELECT -unnest(t.terms)) v ORDER BY 1) FROM item_search_title t WHERE t.item_id = x.item_id`,
		`DROP TABLE item_search_title`,
		`ALTER TABLE search_terms DROP COLUMN in_title`,
		`DELETE FROM schema_migrations WHERE version = 12`,
	}, func(t *testing.T, s *store.Store, before bool) {
		negated, err := s.QueryInt(t.Context(), negatedRows)
		if err != nil {
			t.Fatal(err)
		}
		if before {
			if negated == 0 {
				t.Fatal("0010's shape: no rows with negated ids")
			}
			return
		}
		titles, err := s.QueryInt(t.Context(), `SELECT COUNT(*) FROM item_search_title`)
		if err != nil || titles == 0 {
			t.Fatalf("item_search_title: %d rows, %v", titles, err)
		}
		if negated != 0 {
			t.Errorf("%d item_search rows keep negated ids after 0012", negated)
		}
	})
}

// migrationKeepsSearch loads the search corpus into a new store, takes the
// answer of every search case, turns the store back into its shape before
// migration name with the statements older (which end by deleting the
// migration's schema_migrations row), reopens it (the migration runs again)
// and checks every case answers as before. check looks at the store before
// the reopen (before) and after.
func migrationKeepsSearch(t *testing.T, cfg store.Config, name string, older []string, check func(t *testing.T, s *store.Store, before bool)) {
	t.Helper()
	s, err := store.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := storetest.LoadCorpus(t, s)
	want := map[string][]string{}
	for _, c := range storetest.SearchCases() {
		want[c.Name] = c.Run(t, s, ids, store.SearchByRank)
	}
	for _, q := range older {
		if _, err := s.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A write indexes whatever the statements queued, in the old shape.
	if err := s.SetMeta(t.Context(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	if q, err := s.QueryInt(t.Context(), `SELECT COUNT(*) FROM search_queue`); err != nil || q != 0 {
		t.Fatalf("%d posts still queued before the reopen, %v", q, err)
	}
	check(t, s, true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = store.Open(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if q, err := s.QueryInt(t.Context(), `SELECT COUNT(*) FROM search_queue`); err != nil || q != 0 {
		t.Errorf("%d posts still queued after the open, %v", q, err)
	}
	check(t, s, false)
	for _, c := range storetest.SearchCases() {
		if diff := cmp.Diff(want[c.Name], c.Run(t, s, ids, store.SearchByRank)); diff != "" {
			t.Errorf("%s %q after %s (-before +after):\n%s", c.Name, c.Query, name, diff)
		}
	}
}

// TestSearchBodyTierPastTitles: PostgreSQL's body tier read by the GIN
// index drops the posts that have the words in their title and reads on
// past a batch made only of them; pages are the same as SQLite's.
func TestSearchBodyTierPastTitles(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	// Oldest first: two posts with "harbour" in the body only, then eight
	// with it in the title and body (every read of the body tier older
	// than a window of one id meets a full batch of those first).
	var posts [][2]string
	for i := range 2 {
		posts = append(posts, [2]string{fmt.Sprintf("Notice %d", i), "The harbour reopened."})
	}
	for i := range 8 {
		posts = append(posts, [2]string{fmt.Sprintf("Harbour report %d", i), "The harbour grew."})
	}
	var pages [][]int64
	for _, s := range []*store.Store{openSQLite(t), openPostgres(t)} {
		for i, p := range posts {
			key := fmt.Sprintf("h%d", i)
			pub := storetest.Day(i + 1)
			it := model.Item{Key: key, GUID: key, Link: "http://example.gov.cn/" + key, Title: p[0],
				ContentHTML: "<p>" + p[1] + "</p>", Language: "en", Published: pub, ContentHash: "h", BackfillRank: -1}
			res, err := s.UpsertItems(t.Context(), "a", []model.Item{it}, pub)
			if err != nil || len(res.New) != 1 {
				t.Fatalf("upsert: %v", err)
			}
			if err := s.MarkReady(t.Context(), res.New[0], model.Translation{}, nil, pub); err != nil {
				t.Fatal(err)
			}
		}
		q, err := fulltext.Parse("harbour")
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		sq := store.WithSearchWindow(store.SearchQuery{Query: q, Limit: 1}, 1)
		for {
			res, err := s.Search(t.Context(), sq)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				got = append(got, h.Item.ID*10+int64(h.Score))
			}
			if res.Next == "" {
				break
			}
			sq.After = res.Next
		}
		pages = append(pages, got)
	}
	if len(pages[0]) != len(posts) {
		t.Fatalf("sqlite found %v, want %d posts", pages[0], len(posts))
	}
	if diff := cmp.Diff(pages[0], pages[1]); diff != "" {
		t.Errorf("id*10+score (-sqlite +postgres):\n%s", diff)
	}
}

// TestSearchTermEntersTitle: a word first stored in a body only, then put
// in a title by a retranslation, ranks as a title match at once (on
// PostgreSQL the word's in_title mark is set by the same write).
func TestSearchTermEntersTitle(t *testing.T) {
	for name, s := range engines(t) {
		t.Run(name, func(t *testing.T) {
			pub := storetest.Day(1)
			it := model.Item{Key: "z", GUID: "z", Link: "http://example.gov.cn/z", Title: "通知",
				ContentHTML: "<p>斑马线</p>", Language: "zh", Published: pub, ContentHash: "h", BackfillRank: -1}
			res, err := s.UpsertItems(t.Context(), "a", []model.Item{it}, pub)
			if err != nil || len(res.New) != 1 {
				t.Fatalf("upsert: %v", err)
			}
			id := res.New[0]
			score := func() float64 {
				q, err := fulltext.Parse("zebra")
				if err != nil {
					t.Fatal(err)
				}
				r, err := s.Search(t.Context(), store.SearchQuery{Query: q})
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Hits) != 1 || r.Hits[0].Item.ID != id {
					t.Fatalf("zebra finds %+v, want post %d", r.Hits, id)
				}
				return r.Hits[0].Score
			}
			for i, title := range []string{"Notice", "Zebra crossing notice"} {
				tr := model.Translation{TitleEN: title, ContentHTMLEN: "<p>A new zebra crossing.</p>", TranslatedBy: "test/model"}
				if err := s.MarkReady(t.Context(), id, tr, nil, pub); err != nil {
					t.Fatal(err)
				}
				if got, want := score(), float64(1+i); got != want {
					t.Errorf("title %q: score %v, want %v", title, got, want)
				}
			}
		})
	}
}

// TestSearchASCIIMigration: a SQLite store whose index was made with the
// unicode61 tokenizer (0007) is rebuilt with ascii by 0013 at the next
// open, and every search case answers as before.
func TestSearchASCIIMigration(t *testing.T) {
	cfg := store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db")}
	const asciiTables = `SELECT COUNT(*) FROM sqlite_master WHERE name = 'items_fts' AND sql LIKE '%ascii%'`
	migrationKeepsSearch(t, cfg, "0013", []string{
		`DROP TABLE items_fts`,
		`CREATE VIRTUAL TABLE items_fts USING fts5(title, body, content = '', contentless_delete = 1,
			tokenize = 'unicode61 remove_diacritics 0')`,
		`INSERT INTO search_queue (item_id) SELECT id FROM items WHERE state = 'ready'`,
		`DELETE FROM schema_migrations WHERE version = 13`,
	}, func(t *testing.T, s *store.Store, before bool) {
		want := int64(1)
		if before {
			want = 0
		}
		if n, err := s.QueryInt(t.Context(), asciiTables); err != nil || n != want {
			t.Fatalf("items_fts (before the reopen: %v): %d tables with the ascii tokenizer, want %d (%v)", before, n, want, err)
		}
	})
}
