package server

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server/internal/seed"
)

func TestSearchPage(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	tests := []struct {
		name    string
		path    string
		code    int
		want    []string // in the body
		notWant []string
	}{
		{"form only", "/search", 200, []string{`<form class="search-form"`, `name="q"`}, []string{"No posts match"}},
		{"English words", "/search?q=Greater+Bay+Area", 200, []string{
			`<a href="/posts/2">Zhaoqing holds a meeting to advance <mark>Greater Bay Area</mark> construction</a>`,
			`<p class="original-title" lang="zh">我市召开粤港澳大湾区建设工作推进会</p>`,
			`<p class="snippet">…of the Guangdong-Hong Kong-Macao <mark>Greater Bay Area</mark>, reviewing`,
			`/search.rss?q=Greater&#43;Bay&#43;Area`,
		}, []string{"/posts/1\""}},
		{"Chinese word finds the English", "/search?q=%E5%A4%A7%E6%B9%BE%E5%8C%BA", 200, []string{`href="/posts/2"`, `<mark>大湾区</mark>`}, nil},
		{"two characters", "/search?q=%E6%B7%B1%E5%9C%B3", 200, []string{`href="/posts/1"`, `<mark>深圳</mark>`}, nil},
		{"stemming", "/search?q=measure", 200, []string{`href="/posts/4"`, `<mark>measures</mark>`}, nil},
		{"source filter", "/search?q=zhaoqing&source=gd-english", 200, []string{"No posts match"}, nil},
		{"feed filter", "/search?q=Greater+Bay+Area&feed=zhaoqing", 200, []string{`href="/posts/2"`}, nil},
		{"date filter excludes", "/search?q=Greater+Bay+Area&from=2023-05-27", 200, []string{"No posts match"}, nil},
		{"date filter includes the to day", "/search?q=Greater+Bay+Area&from=2023-05-26&to=2023-05-26", 200, []string{`href="/posts/2"`}, nil},
		{"not ready is not found", "/search?q=%E5%B0%9A%E6%9C%AA", 200, []string{"No posts match"}, nil},
		{"hostile text escaped", "/search?q=hostile", 200, []string{`href="/posts/6"`, `&lt;script&gt;`}, []string{"<script"}},
		{"query escaped", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", 200, []string{`value="&lt;script&gt;alert(1)&lt;/script&gt;"`}, []string{"<script"}},
		{"unknown source", "/search?q=bay&source=nope", 400, []string{"no source with that id"}, nil},
		{"bad date", "/search?q=bay&from=26.05.2023", 400, []string{"YYYY-MM-DD"}, nil},
		{"no words", "/search?q=%2C%2C", 400, []string{"no words"}, nil},
		{"bad cursor", "/search?q=bay&after=zzz", 400, []string{"no longer exists"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, tc.path, nil)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
				t.Errorf("CSP %q does not allow the search form", csp)
			}
		})
	}
}

func TestSearchPaging(t *testing.T) {
	s, st := newTestServer(t)
	for i := range 45 {
		st.add(model.Item{ID: int64(100 + i), SourceID: "gd-english", Key: "k" + string(rune('a'+i)),
			Title: "Harbour report", Language: "en", Published: testNow, State: model.StateReady})
	}
	h := s.Handler()
	nextRE := regexp.MustCompile(`rel="next" href="([^"]+)"`)
	total, pages := 0, 0
	for path := "/search?q=harbour"; path != ""; pages++ {
		rec := get(t, h, path, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		body := rec.Body.String()
		total += strings.Count(body, `<article class="card hit">`)
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
			if !strings.Contains(path, "after=") {
				t.Errorf("next link %q has no cursor", path)
			}
		}
		if pages > 5 {
			t.Fatal("pages do not end")
		}
	}
	if total != 45 || pages != 3 {
		t.Errorf("%d results on %d pages, want 45 on 3", total, pages)
	}
}

func TestSearchConditional(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	for _, path := range []string{"/search?q=bay", "/search.rss?q=bay"} {
		rec := get(t, h, path, nil)
		etag := rec.Header().Get("ETag")
		if rec.Code != 200 || etag == "" {
			t.Fatalf("%s: %d, ETag %q", path, rec.Code, etag)
		}
		if rec := get(t, h, path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("%s: conditional request answered %d", path, rec.Code)
		}
		if rec := get(t, h, path+"+zhaoqing", map[string]string{"If-None-Match": etag}); rec.Code != 200 {
			t.Errorf("%s: another query answered %d with the first one's ETag", path, rec.Code)
		}
	}
}

func TestSearchFeeds(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	for _, ext := range []string{"rss", "atom", "json"} {
		t.Run(ext, func(t *testing.T) {
			rec := get(t, h, "/search."+ext+"?q=%E5%A4%A7%E6%B9%BE%E5%8C%BA", nil)
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			f, err := gofeed.NewParser().ParseString(rec.Body.String())
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(f.Items) != 1 || !strings.HasSuffix(f.Items[0].Link, "/posts/2") {
				t.Errorf("items %+v", f.Items)
			}
			if !strings.Contains(f.Title, "大湾区") {
				t.Errorf("title %q", f.Title)
			}
			if rec := get(t, h, "/search."+ext, nil); rec.Code != 400 {
				t.Errorf("without q: %d", rec.Code)
			}
		})
	}
}

func TestArchive(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	tests := []struct {
		path    string
		code    int
		want    []string
		notWant []string
	}{
		// Post 1 was published 2023-05-25T15:31Z, 23:31 in China; post 6 on 24 May.
		{"/archive/2023/05", 200, []string{"Posts of May 2023", `href="/posts/1"`, `href="/posts/2"`, `href="/posts/6"`,
			`href="/archive/2023/04"`, `href="/archive/2023/06"`}, []string{`href="/posts/3"`, `href="/posts/4"`}},
		{"/archive/2023/05?source=zhaoqing-wechat", 200, []string{`href="/posts/6"`, `href="/archive/2023/04?source=zhaoqing-wechat"`},
			[]string{`href="/posts/1"`}},
		{"/archive/2023/06", 200, []string{`href="/posts/3"`, `href="/posts/4"`}, []string{`href="/posts/7"`}},
		{"/archive/2023/13", 404, nil, nil},
		{"/archive/23/05", 404, nil, nil},
		{"/archive/2023/05?source=nope", 404, nil, nil},
		{"/archive/2023/05?before=bad", 404, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			rec := get(t, h, tc.path, nil)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
		})
	}
	post := get(t, h, "/posts/1", nil).Body.String()
	for _, w := range []string{`href="/archive/2023/05"`, `href="/archive/2023/05?source=zhaoqing-news"`} {
		if !strings.Contains(post, w) {
			t.Errorf("post page lacks archive link %s", w)
		}
	}
	if idx := get(t, h, "/", nil).Body.String(); !strings.Contains(idx, `href="/archive/`) {
		t.Error("index lacks an archive link")
	}
	_ = seed.XuID
}

// TestSearchGlossarySynonyms: a glossary term finds its counterpart in the
// other language, so 大湾区 finds an English post that says "Greater Bay
// Area" and "Greater Bay Area" a post published untranslated.
func TestSearchGlossarySynonyms(t *testing.T) {
	cfg := seed.ZhaoqingConfig(testBase)
	cfg.Translation.Glossary = map[string]string{"大湾区": "Greater Bay Area"}
	st := newSeededStore(t)
	ids := st.add(
		model.Item{SourceID: "gd-english", Key: "e50", Title: "Trade fair opens in the Greater Bay Area",
			Language: "en", Published: testNow, State: model.StateReady, ContentHTML: "<p>Exhibitors came.</p>"},
		model.Item{SourceID: "zhaoqing-news", Key: "z51", Title: "大湾区交通建设", Untranslated: true,
			Language: "zh", Published: testNow, State: model.StateReady, ContentHTML: "<p>交通。</p>"},
	)
	s, err := New(cfg, st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	en, zh := fmt.Sprintf(`href="/posts/%d"`, ids[0]), fmt.Sprintf(`href="/posts/%d"`, ids[1])
	for q, want := range map[string][]string{
		"%E5%A4%A7%E6%B9%BE%E5%8C%BA": {en, zh, `href="/posts/2"`, `<mark>Greater Bay Area</mark>`},
		"Greater+Bay+Area":            {en, zh, `href="/posts/2"`, `<mark>大湾区</mark>`},
	} {
		body := get(t, h, "/search?q="+q, nil).Body.String()
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("q=%s: body lacks %s", q, w)
			}
		}
	}
}

// TestSearchPageCachedUntilResultsChange: the same query answers the same
// rendered page until a post it shows changes (here: retranslated), and
// then shows the new text at once.
func TestSearchPageCachedUntilResultsChange(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	const path = "/search?q=Greater+Bay+Area"
	first := get(t, h, path, nil)
	second := get(t, h, path, nil)
	if first.Code != 200 || second.Body.String() != first.Body.String() || second.Header().Get("ETag") != first.Header().Get("ETag") {
		t.Fatalf("the same search twice: %d, bodies equal %v", first.Code, second.Body.String() == first.Body.String())
	}
	if s.searchPages.entries[path] == nil {
		t.Fatalf("the page was not kept")
	}
	it, err := st.GetItem(t.Context(), 2)
	if err != nil {
		t.Fatal(err)
	}
	it.TitleEN = "Zhaoqing convenes a Greater Bay Area construction meeting"
	st.ready(it, testNow.Add(time.Hour))
	third := get(t, h, path, nil)
	if !strings.Contains(third.Body.String(), "Zhaoqing convenes a <mark>Greater Bay Area</mark> construction meeting") ||
		third.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Errorf("after a retranslation the page still shows the old title (ETag %q, was %q)", third.Header().Get("ETag"), first.Header().Get("ETag"))
	}
}
