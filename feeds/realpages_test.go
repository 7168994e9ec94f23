package feeds

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// realPage is one saved real page of testdata/realpages and what the page
// itself says (see testdata/realpages/README.md).
type realPage struct {
	File        string            `json:"file"`
	URL         string            `json:"url"`
	ContentType string            `json:"content_type"`
	Kind        string            `json:"kind"`
	Selector    string            `json:"selector"` // full_text.selector (readability is always on)
	Title       string            `json:"title"`
	Date        string            `json:"date"` // China time to the minute; "" the page gives none
	Author      string            `json:"author"`
	Meta        map[string]string `json:"meta"`
	BodyStarts  string            `json:"body_starts"`
	BodyEnds    string            `json:"body_ends"`
	// KnownMisses lists fields the extractor is known to get wrong on this
	// page, with the reason; such a field passing is reported too, so the
	// list stays true.
	KnownMisses map[string]string `json:"known_misses"`
}

func loadRealPages(t testing.TB) []realPage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "realpages", "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pages []realPage
	if err := json.Unmarshal(b, &pages); err != nil {
		t.Fatalf("expectations.json: %v", err)
	}
	return pages
}

// extractRealPage runs the article stage as Poll does for a post whose list
// gave only the link.
func extractRealPage(t testing.TB, n *Normalizer, p realPage) (model.Item, Article) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "realpages", p.File))
	if err != nil {
		t.Fatal(err)
	}
	body := DecodeToUTF8(raw, p.ContentType)
	a, err := ExtractArticle(body, p.URL, &config.FullText{Selector: p.Selector, Readability: true}, model.China())
	r := RawItem{Link: p.URL, BaseURL: p.URL}
	r.mergeArticle(a, err == nil)
	if err != nil {
		t.Errorf("%s: %v", p.File, err)
	}
	src := config.Source{ID: "real"}
	return n.Normalize(src, model.China(), r, realFetchTime), a
}

// realFetchTime is when the real pages are "fetched": no post may carry it
// as its date.
var realFetchTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestRealPages runs the extraction stage over every saved real page and
// checks each field against what the page says; it logs per-field accuracy.
func TestRealPages(t *testing.T) {
	pages := loadRealPages(t)
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
	n := NewNormalizer()
	type score struct{ ok, total int }
	acc := map[string]*score{}
	fields := []string{"date", "title", "author", "meta", "body start", "body end"}
	for _, f := range append(fields, "wechat account", "meta present", "not fetch time") {
		acc[f] = &score{}
	}
	for _, p := range pages {
		it, a := extractRealPage(t, n, p)
		text := strings.TrimSpace(plainText(it.ContentHTML))
		gotDate := ""
		if !it.Published.IsZero() {
			gotDate = it.Published.In(model.China()).Format("2006-01-02 15:04")
		}
		head := string([]rune(text)[:min(len([]rune(text)), 300)])
		tail := string([]rune(text)[max(0, len([]rune(text))-300):])
		checks := map[string]struct {
			ok        bool
			got, want string
		}{
			"date":       {gotDate == p.Date, gotDate + " (" + a.DateRule + ")", p.Date},
			"title":      {it.Title == p.Title, it.Title + " (" + a.TitleRule + ")", p.Title},
			"author":     {it.Author == p.Author, it.Author + " (" + a.AuthorRule + ")", p.Author},
			"meta":       {maps.Equal(it.Meta, p.Meta), fmt.Sprint(it.Meta), fmt.Sprint(p.Meta)},
			"body start": {strings.HasPrefix(text, p.BodyStarts), head, p.BodyStarts},
			"body end":   {strings.HasSuffix(text, p.BodyEnds), tail, p.BodyEnds},
		}
		// Every WeChat page names its account; every page with a metadata
		// table has it read; no post is dated with the fetch time (a page
		// without a date is stored as date unknown).
		if p.Kind == "wechat" {
			acc["wechat account"].total++
			if it.Author != "" && it.Author == p.Author {
				acc["wechat account"].ok++
			}
		}
		if len(p.Meta) > 0 {
			acc["meta present"].total++
			if maps.Equal(it.Meta, p.Meta) {
				acc["meta present"].ok++
			}
		}
		acc["not fetch time"].total++
		switch {
		case it.Published.Equal(realFetchTime):
			t.Errorf("%s: dated with the fetch time", p.File)
		case it.Published.IsZero() && !it.DateUnknown:
			t.Errorf("%s: no date, yet not marked date unknown", p.File)
		default:
			acc["not fetch time"].ok++
		}
		for _, f := range fields {
			c := checks[f]
			acc[f].total++
			if c.ok {
				acc[f].ok++
			}
			why, known := p.KnownMisses[f]
			switch {
			case !c.ok && !known:
				t.Errorf("%s: %s = %q, want %q", p.File, f, c.got, c.want)
			case c.ok && known:
				t.Errorf("%s: %s now right (known miss %q): update expectations.json", p.File, f, why)
			}
		}
	}
	pct := func(s *score) float64 { return 100 * float64(s.ok) / float64(max(s.total, 1)) }
	for _, f := range fields {
		s := acc[f]
		t.Logf("accuracy %-10s %d/%d = %.0f%%", f, s.ok, s.total, pct(s))
	}
	for _, f := range []string{"wechat account", "meta present", "not fetch time"} {
		s := acc[f]
		t.Logf("accuracy %-14s %d/%d = %.0f%%", f, s.ok, s.total, pct(s))
	}
	// The thresholds ("done when"), whatever the known misses say.
	for _, th := range []struct {
		field string
		min   float64
	}{
		{"date", 95}, {"title", 95}, {"body start", 100}, {"body end", 100},
		{"wechat account", 100}, {"meta present", 100}, {"not fetch time", 100},
	} {
		if got := pct(acc[th.field]); acc[th.field].total == 0 || got < th.min {
			t.Errorf("%s: %.1f%% of %d pages right, the issue asks at least %.0f%%", th.field, got, acc[th.field].total, th.min)
		}
	}
	// Every file in the folder is in the expectations and vice versa.
	files, _ := filepath.Glob(filepath.Join("testdata", "realpages", "*.html"))
	var want []string
	for _, p := range pages {
		want = append(want, filepath.Join("testdata", "realpages", p.File))
	}
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("pages on disk %v, in expectations.json %v", files, want)
	}
}

// realList is one saved real list page (a file of the list-detection
// corpus, discover/testdata/corpus, described in testdata/realpages/lists): the
// html: selectors a source would configure for it and what the page shows
// (see testdata/realpages/lists/README.md).
type realList struct {
	File        string          `json:"file"`
	URL         string          `json:"url"`
	ContentType string          `json:"content_type"`
	HTML        config.HTMLList `json:"html"`
	// Posts is how many posts the page shows; LinkPattern matches each
	// post's link (and nothing else on the page).
	Posts       int    `json:"posts"`
	LinkPattern string `json:"link_pattern"`
	// First and Last are the first and last posts as the page shows them
	// (date: the day in China time).
	First listPost `json:"first"`
	Last  listPost `json:"last"`
	// CutTitles is how many posts the list itself shows with a cut title
	// ("…超低排放改造（深度治..."; the article page's title replaces it).
	CutTitles int `json:"cut_titles"`
	// Detect: reading the page without selectors (by its shape) gives
	// the same posts.
	Detect bool `json:"detect"`
}

type listPost struct {
	Title string `json:"title"`
	Link  string `json:"link"`
	Date  string `json:"date"`
}

func loadRealLists(t testing.TB) []realList {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "realpages", "lists", "lists.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lists []realList
	if err := json.Unmarshal(b, &lists); err != nil {
		t.Fatalf("lists.json: %v", err)
	}
	return lists
}

// TestRealListPages reads every saved government list page as a type: html
// source does (with its configured selectors, and by its shape when the
// page is detectable) and checks each post's link, title and date.
func TestRealListPages(t *testing.T) {
	lists := loadRealLists(t)
	if len(lists) == 0 {
		t.Fatal("no list pages")
	}
	n := NewNormalizer()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var posts, dated int
	for _, l := range lists {
		t.Run(l.File, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("discover", "testdata", "corpus", l.File))
			if err != nil {
				t.Fatal(err)
			}
			body := DecodeToUTF8(raw, l.ContentType)
			pattern := regexp.MustCompile(l.LinkPattern)
			raws, err := parseHTMLList(body, l.URL, &l.HTML)
			if err != nil {
				t.Fatal(err)
			}
			src := config.Source{ID: "list", Type: "html", URL: l.URL, HTML: &l.HTML}
			var items []model.Item
			for _, r := range raws {
				items = append(items, n.Normalize(src, model.China(), r, now))
			}
			if len(items) != l.Posts {
				for i, it := range items {
					t.Logf("  [%d] %q %s %v", i, it.Title, it.Link, it.Published)
				}
				t.Fatalf("%d posts, want %d", len(items), l.Posts)
			}
			day := func(it model.Item) string {
				if it.Published.IsZero() {
					return ""
				}
				return it.Published.In(model.China()).Format("2006-01-02")
			}
			cut := 0
			for i, it := range items {
				posts++
				if !pattern.MatchString(it.Link) {
					t.Errorf("post %d: link %s does not match %s", i, it.Link, l.LinkPattern)
				}
				if it.Title == "" {
					t.Errorf("post %d (%s): no title", i, it.Link)
				}
				if strings.HasSuffix(it.Title, "...") || strings.HasSuffix(it.Title, "…") {
					cut++
				}
				switch {
				case it.DateUnknown || it.Published.IsZero():
					t.Errorf("post %d (%s): no date; the page shows one beside every post", i, it.Link)
				case it.Published.Equal(now):
					t.Errorf("post %d (%s): dated with the fetch time", i, it.Link)
				default:
					dated++
				}
			}
			if cut != l.CutTitles {
				t.Errorf("%d titles cut, the page shows %d cut", cut, l.CutTitles)
			}
			for _, c := range []struct {
				name string
				it   model.Item
				want listPost
			}{{"first", items[0], l.First}, {"last", items[len(items)-1], l.Last}} {
				got := listPost{Title: c.it.Title, Link: c.it.Link, Date: day(c.it)}
				if got != c.want {
					t.Errorf("%s post = %+v, want %+v", c.name, got, c.want)
				}
			}
			if !l.Detect {
				return
			}
			det, err := detectList(body, l.URL)
			if err != nil {
				t.Fatalf("by its shape: %v", err)
			}
			draws, err := parseHTMLList(body, l.URL, &det.Selectors)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, it := range items {
				want = append(want, it.Link+" "+it.Title+" "+day(it))
			}
			for _, r := range draws {
				it := n.Normalize(src, model.China(), r, now)
				got = append(got, it.Link+" "+it.Title+" "+day(it))
			}
			if !slices.Equal(got, want) {
				t.Errorf("by its shape (%+v):\n got %q\nwant %q", det.Selectors, got, want)
			}
		})
	}
	t.Logf("list pages: %d pages, %d posts, %d dated (%.0f%%)", len(lists), posts, dated, 100*float64(dated)/float64(max(posts, 1)))
	// Each corpus file once (a missing one fails its subtest above).
	seen := map[string]bool{}
	for _, l := range lists {
		if seen[l.File] {
			t.Errorf("lists.json names %s twice", l.File)
		}
		seen[l.File] = true
	}
}

// BenchmarkRealPages is the article stage (charset, extraction, clean-up,
// normalisation) over the whole real-page corpus; it reports the CPU time
// per page, which a busy machine does not inflate.
//
//	go test -run '^$' -bench RealPages -benchtime 20x -cpu 1 ./feeds/
func BenchmarkRealPages(b *testing.B) {
	pages := loadRealPages(b)
	n := NewNormalizer()
	var bytes int64
	for _, p := range pages {
		fi, err := os.Stat(filepath.Join("testdata", "realpages", p.File))
		if err != nil {
			b.Fatal(err)
		}
		bytes += fi.Size()
	}
	b.SetBytes(bytes)
	done := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		for _, p := range pages {
			if it, _ := extractRealPage(b, n, p); it.ContentHTML == "" {
				b.Fatalf("%s: no body", p.File)
			}
			done++
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(done), "cpu-ms/page")
}
