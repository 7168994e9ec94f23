package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server/internal/seed"
	"github.com/transfeed/transfeed/store"
)

// bayAreaPost is one post of testdata/bay_area_posts.json: a Zhaoqing
// government post and its English translation, each saying 大湾区 /
// Greater Bay Area, published between January and June 2023.
type bayAreaPost struct {
	Source       string    `json:"source"`
	Key          string    `json:"key"`
	Link         string    `json:"link"`
	Published    time.Time `json:"published"`
	TranslatedBy string    `json:"translated_by"`
	TitleZH      string    `json:"title_zh"`
	BodyZH       string    `json:"body_zh"`
	TitleEN      string    `json:"title_en"`
	BodyEN       string    `json:"body_en"`
}

// readerFixture is the reading site over the seeded store plus the posts of
// testdata/bay_area_posts.json (more than a page of results for "Greater
// Bay Area", six months of archive), with the glossary term 大湾区 =
// Greater Bay Area, served over HTTP at testNow.
type readerFixture struct {
	ts *httptest.Server
	// posts is the text of every ready post, by its path (/posts/N).
	posts map[string]readerPost
}

type readerPost struct {
	store.SearchText
	month string // yyyy-mm of its date, China time
}

func newReaderFixture(t *testing.T) *readerFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "bay_area_posts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var posts []bayAreaPost
	if err := json.Unmarshal(raw, &posts); err != nil {
		t.Fatalf("bay_area_posts.json: %v", err)
	}
	st := newSeededStore(t)
	for _, p := range posts {
		st.add(model.Item{
			SourceID: p.Source, Key: p.Key, GUID: p.Link, Link: p.Link, Language: "zh", Published: p.Published,
			Title: p.TitleZH, ContentHTML: p.BodyZH, TitleEN: p.TitleEN, ContentHTMLEN: p.BodyEN,
			TranslatedBy: p.TranslatedBy, State: model.StateReady, ReadyAt: p.Published.Add(15 * time.Minute),
		})
	}
	cfg := seed.ZhaoqingConfig(testBase)
	cfg.Translation.Glossary = map[string]string{"大湾区": "Greater Bay Area"}
	s, err := New(cfg, st, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	f := &readerFixture{ts: httptest.NewServer(s.Handler()), posts: map[string]readerPost{}}
	t.Cleanup(f.ts.Close)
	items, err := st.ListItems(t.Context(), store.ItemQuery{States: []model.State{model.StateReady}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		f.posts[fmt.Sprintf("/posts/%d", it.ID)] = readerPost{SearchText: store.SearchTextOf(it),
			month: it.SortTime().In(s.loc).Format("2006-01")}
	}
	return f
}

// saying lists the paths of the posts whose English says en or whose
// Chinese says zh, sorted.
func (f *readerFixture) saying(en, zh string) []string {
	var out []string
	for href, p := range f.posts {
		if strings.Contains(strings.ToLower(p.Title+" "+p.Body), strings.ToLower(en)) ||
			strings.Contains(p.OriginalTitle+p.OriginalBody, zh) {
			out = append(out, href)
		}
	}
	slices.Sort(out)
	return out
}

// of lists the paths of the posts dated in month (yyyy-mm), sorted.
func (f *readerFixture) of(month string) []string {
	var out []string
	for href, p := range f.posts {
		if p.month == month {
			out = append(out, href)
		}
	}
	slices.Sort(out)
	return out
}

// hitDOM is one search result as the browser shows it.
type hitDOM struct {
	Href               string       `json:"href"`
	Title              string       `json:"title"`
	TitleMarks         []string     `json:"titleMarks"`
	OriginalTitle      string       `json:"originalTitle"`
	OriginalTitleMarks []string     `json:"originalTitleMarks"`
	Snippets           []snippetDOM `json:"snippets"`
}

type snippetDOM struct {
	Lang  string   `json:"lang"`
	Text  string   `json:"text"`
	Marks []string `json:"marks"`
}

// readHits reads the results of the page in the browser: each one's link,
// title, original title and snippets, their text and what <mark> holds.
const readHits = `[...document.querySelectorAll('article.hit')].map(a => {
  const marks = el => el ? [...el.querySelectorAll('mark')].map(m => m.textContent) : [];
  const link = a.querySelector('h3 > a[href]'), ot = a.querySelector('p.original-title');
  return {
    href: link ? link.getAttribute('href') : '', title: link ? link.textContent : '', titleMarks: marks(link),
    originalTitle: ot ? ot.textContent : '', originalTitleMarks: marks(ot),
    snippets: [...a.querySelectorAll('p.snippet')].map(p => ({lang: p.lang, text: p.textContent, marks: marks(p)})),
  };
})`

// listedDOM is one post of a list page as the browser shows it.
type listedDOM struct {
	Href     string `json:"href"`
	Datetime string `json:"datetime"`
	Day      string `json:"day"`
}

const readListed = `[...document.querySelectorAll('section.day')].flatMap(s =>
  [...s.querySelectorAll('article.card')].map(a => ({
    href: a.querySelector('h3 > a').getAttribute('href'),
    datetime: a.querySelector('p.meta time').getAttribute('datetime'),
    day: s.querySelector('h2 time').getAttribute('datetime'),
  })))`

// TestReaderBrowserSearchAndArchive drives a real headless Chromium through
// the reading site: it types queries in English and Chinese into the search
// boxes and submits them with the keyboard, reads the results (count, title
// links, snippets in both languages and what they mark), follows "More
// results", then goes through the archive by its links: index → this
// month → the month before, and a result → its post → the post's month. No
// console message, exception or CSP violation may be logged. It is skipped
// where no Chromium is installed.
func TestReaderBrowserSearchAndArchive(t *testing.T) {
	b := newHeadless(t, 60*time.Second)
	f := newReaderFixture(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	const en, zh = "Greater Bay Area", "大湾区"
	want := f.saying(en, zh)
	if len(want) <= searchPageSize || !slices.Contains(want, "/posts/2") {
		t.Fatalf("the fixture has %d posts saying %s or %s (want more than a page, with /posts/2): %v", len(want), en, zh, want)
	}

	// Everything the pages log, up to a last message of the test's own.
	const endMark = "reader-browser-test: end"
	messages := chromedp.Console(b.ctx)
	var (
		mu     sync.Mutex
		logged []chromedp.ConsoleMessage
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil || strings.Contains(m.Text, endMark) {
				return
			}
			mu.Lock()
			logged = append(logged, m)
			mu.Unlock()
		}
	})

	hits := func(what string) []hitDOM {
		t.Helper()
		return browserRead(b, what, chromedp.Evaluate[[]hitDOM](readHits))
	}
	location := func() string {
		t.Helper()
		return browserRead(b, "location", chromedp.Location())
	}
	// checkHits checks a page of results: each a post that says the query,
	// once, titled as stored, with its snippets cut from its own text and
	// the query's words (in both languages, through the glossary) marked.
	checkHits := func(page string, got []hitDOM, seen map[string]string) {
		t.Helper()
		for _, h := range got {
			p, ok := f.posts[h.Href]
			switch {
			case !ok || !slices.Contains(want, h.Href):
				t.Errorf("%s: result %q (%q) is not a post saying %s", page, h.Href, h.Title, en)
				continue
			case seen[h.Href] != "":
				t.Errorf("%s: %s shown again (first on %s)", page, h.Href, seen[h.Href])
			}
			seen[h.Href] = page
			if h.Title != p.Title {
				t.Errorf("%s: %s titled %q, stored %q", page, h.Href, h.Title, p.Title)
			}
			if h.OriginalTitle != p.OriginalTitle {
				t.Errorf("%s: %s original title %q, stored %q", page, h.Href, h.OriginalTitle, p.OriginalTitle)
			}
			checkMarks(t, page+" "+h.Href+" title", h.Title, h.TitleMarks, en, false)
			checkMarks(t, page+" "+h.Href+" original title", h.OriginalTitle, h.OriginalTitleMarks, zh, false)
			var langs []string
			for _, sn := range h.Snippets {
				langs = append(langs, sn.Lang)
				body, word := p.Body, en
				if sn.Lang == "zh" {
					body, word = p.OriginalBody, zh
				}
				if cut := strings.Trim(sn.Text, "…"); !strings.Contains(oneSpace(body), oneSpace(cut)) {
					t.Errorf("%s: %s snippet (lang %q) %q is not from its text %q", page, h.Href, sn.Lang, sn.Text, body)
				}
				checkMarks(t, page+" "+h.Href+" snippet lang="+sn.Lang, sn.Text, sn.Marks, word, true)
			}
			if !slices.Equal(langs, []string{"", "zh"}) {
				t.Errorf("%s: %s has snippets in %q, want the English then the Chinese (lang=zh)", page, h.Href, langs)
			}
		}
	}
	// loaded waits until the page loaded is the one cond (JavaScript) tells;
	// while the browser moves from one page to the next, asking fails.
	loaded := func(cond string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			ask := chromedp.Evaluate[bool](`document.readyState === "complete" && (` + cond + `)`)
			for deadline := time.Now().Add(10 * time.Second); ; {
				actx, cancel := context.WithTimeout(ctx, time.Second)
				ok, err := ask(actx, tg)
				cancel()
				if ok {
					return chromedp.Void{}, nil
				}
				if time.Now().After(deadline) {
					return chromedp.Void{}, fmt.Errorf("no page where %s (last: %v)", cond, err)
				}
				select {
				case <-ctx.Done():
					return chromedp.Void{}, ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
	}
	// follow clicks the link sel and waits for the page it links to.
	follow := func(what, sel string) {
		t.Helper()
		href := browserRead(b, what+": its href", chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).getAttribute("href")`))
		b.do(what, chromedp.Click(css(sel)), loaded(`location.pathname + location.search === `+jsString(href)))
	}
	// search types query into the box sel and presses Enter.
	search := func(sel, query string) {
		t.Helper()
		if !browserRead(b, "find "+sel, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`)) {
			t.Fatalf("no search box %s on %s", sel, location())
		}
		b.do("search "+query, chromedp.WaitVisible(css(sel)), chromedp.Clear(css(sel)),
			chromedp.SendKeys(css(sel), query+kb.Enter),
			loaded(`location.pathname === "/search" && new URLSearchParams(location.search).get("q") === `+jsString(query)+
				` && !new URLSearchParams(location.search).has("after")`),
			chromedp.WaitVisible(css("form.search-form")))
		if got := browserRead(b, "query box", chromedp.Value(css("#q"))); got != query {
			t.Errorf("the results page's box says %q, want %q", got, query)
		}
	}
	// bothPages checks the results of the search just made and of its
	// "More results" page: together, every post saying the query, once.
	bothPages := func(query string) {
		t.Helper()
		seen := map[string]string{}
		first := hits(query + " page 1")
		if len(first) != searchPageSize {
			t.Errorf("%s: %d results on the first page, want %d (of %d)", query, len(first), searchPageSize, len(want))
		}
		checkHits(query+" page 1", first, seen)
		follow("more results for "+query, `nav.pager a[rel="next"]`)
		second := hits(query + " page 2")
		if len(second) != len(want)-searchPageSize {
			t.Errorf("%s: %d results on the second page, want %d", query, len(second), len(want)-searchPageSize)
		}
		checkHits(query+" page 2", second, seen)
		if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(got, want) {
			t.Errorf("%s: the two pages show %v\nwant %v", query, got, want)
		}
		if n := browserRead(b, "next link", chromedp.Evaluate[int](`document.querySelectorAll('nav.pager a[rel="next"]').length`)); n != 0 {
			t.Errorf("%s: the last page links to more results", query)
		}
	}

	// The header's search box on the index, submitted with Enter.
	b.do("open the index", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(css("section.day")))
	search(`header form.site-search input[name="q"]`, en)
	bothPages(en)
	// The results page's own box, with its filters left as they are.
	search(`form.search-form input#q`, zh)
	bothPages(zh)

	// Archive: the index links to this month, which links to the one before.
	thisMonth, lastMonth := testNow.In(model.China()), testNow.In(model.China()).AddDate(0, -1, 0)
	b.do("open the index", chromedp.Navigate(f.ts.URL+"/"), chromedp.WaitVisible(css("section.day")))
	follow("the index's archive link", `nav.archive-nav a`)
	checkMonth(t, b, f, thisMonth)
	follow("previous month", `nav.archive-nav a`)
	checkMonth(t, b, f, lastMonth)
	follow("previous month", `nav.archive-nav a`)
	checkMonth(t, b, f, lastMonth.AddDate(0, -1, 0))

	// A result's post page links to its month.
	search(`header form.site-search input[name="q"]`, zh)
	first := hits("results")
	if len(first) == 0 {
		t.Fatal("no results to open")
	}
	follow("open a result", `article.hit h3 > a`)
	if loc := location(); !strings.HasSuffix(loc, first[0].Href) {
		t.Errorf("the first result's link led to %s, want %s", loc, first[0].Href)
	}
	if h1 := browserRead(b, "post title", chromedp.Text(css("article.post h1"))); h1 != first[0].Title {
		t.Errorf("the post page %s is titled %q, its result %q", first[0].Href, h1, first[0].Title)
	}
	follow("the post's month", `p.archive-links a`)
	month, err := time.ParseInLocation("2006-01", f.posts[first[0].Href].month, model.China())
	if err != nil {
		t.Fatal(err)
	}
	checkMonth(t, b, f, month)

	browserRead(b, "end", chromedp.Evaluate[int](`console.debug(`+jsString(endMark)+`), 1`))
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, m := range logged {
		t.Errorf("the browser logged %s (source %q, %s:%d)", m, m.Source, m.URL, m.Line)
	}
}

// checkMonth checks the archive page the browser shows is month's: its
// heading and title say the month, and it lists the posts dated in it, each
// under a day of it.
func checkMonth(t *testing.T, b *headless, f *readerFixture, month time.Time) {
	t.Helper()
	label, ym := month.Format("January 2006"), month.Format("2006-01")
	loc := browserRead(b, "location", chromedp.Location())
	heading := browserRead(b, "heading", chromedp.Text(chromedp.CSS("main h1")))
	if !strings.HasSuffix(loc, "/archive/"+strings.ReplaceAll(ym, "-", "/")) {
		t.Errorf("on %s, want the archive of %s", loc, label)
	}
	if heading != "Posts of "+label {
		t.Errorf("%s: heading %q, want %q", loc, heading, "Posts of "+label)
	}
	listed := browserRead(b, "posts of "+label, chromedp.Evaluate[[]listedDOM](readListed))
	var got []string
	for _, l := range listed {
		got = append(got, l.Href)
		if !strings.HasPrefix(l.Datetime, ym+"-") || !strings.HasPrefix(l.Day, ym+"-") {
			t.Errorf("%s: %s dated %s under the day %s, not in %s", label, l.Href, l.Datetime, l.Day, label)
		}
	}
	slices.Sort(got)
	if want := f.of(ym); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("%s lists %v, want the posts of the month %v", label, got, want)
	}
}

// checkMarks checks the words marked in text: each mark is word (or its
// possessive, the word the index matched), every word in text is marked,
// and with need at least one is.
func checkMarks(t *testing.T, what, text string, marks []string, word string, need bool) {
	t.Helper()
	for _, m := range marks {
		m = strings.TrimSuffix(strings.TrimSuffix(m, "'s"), "’s")
		if !strings.EqualFold(m, word) {
			t.Errorf("%s: marks %q, want only %q (in %q)", what, m, word, text)
		}
	}
	if n := strings.Count(strings.ToLower(text), strings.ToLower(word)); n != len(marks) || (need && n == 0) {
		t.Errorf("%s: %d marks %q for %d times %q in %q", what, len(marks), marks, n, word, text)
	}
}

// oneSpace is s with its runs of white space made one space.
func oneSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
