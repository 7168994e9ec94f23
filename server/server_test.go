package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server/internal/seed"
	"github.com/transfeed/transfeed/store"
)

const testBase = "https://zq.example.org"

var testNow = time.Date(2023, 6, 26, 4, 0, 0, 0, time.UTC)

func newTestServer(t testing.TB) (*Server, *testStore) {
	t.Helper()
	st := newSeededStore(t)
	s, err := New(seed.ZhaoqingConfig(testBase), st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	s.statusTTL = 0 // the clock stands still: /status would never change
	return s, st
}

func get(t testing.TB, h http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// allFeedPaths lists every output feed of the seeded config.
func allFeedPaths(s *Server) []string {
	var out []string
	for _, f := range append(append([]*outFeed(nil), s.feeds...), s.sources...) {
		for _, fm := range outFormats() {
			out = append(out, f.path+"."+fm.ext)
		}
	}
	return out
}

func TestRoutes(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	cases := []struct {
		name, path string
		code       int
		ctype      string
		want       []string
	}{
		{"index", "/", 200, "text/html", []string{
			"Xu Xiaoxiong led a team to Shenzhen",
			`<time datetime="2023-05-25T23:31:00+08:00">2023-05-25 23:31 CST</time>`,
			`<time datetime="2023-05-25">Thursday, 25 May 2023</time>`,
			`<link rel="alternate" type="application/rss+xml"`,
			`<link rel="alternate" type="application/atom+xml"`,
			`<link rel="alternate" type="application/feed+json"`,
			`name="viewport"`, "[untranslated] 肇庆市2023年第一季度经济运行情况",
		}},
		{"post", "/posts/1", 200, "text/html", []string{
			"<h1>Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion and inspection activities</h1>",
			"许晓雄率队赴深圳开展招商考察活动",
			"<details class=\"original\">\n<summary>Original Chinese text</summary>",
			"5月25日，市委书记许晓雄率队赴深圳开展招商考察活动",
			"Machine-translated from Chinese by deepl.",
			`href="http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html"`,
			"2023-05-25 23:31 CST",
		}},
		{"english post", "/posts/4", 200, "text/html", []string{"Originally published in English; not translated."}},
		{"untranslated post", "/posts/5", 200, "text/html", []string{"[untranslated]"}},
		{"not ready post", "/posts/7", 404, "text/html", []string{"Not found"}},
		{"unknown post", "/posts/999", 404, "text/html", nil},
		{"bad post id", "/posts/abc", 404, "text/html", nil},
		{"feed page", "/feeds/zhaoqing", 200, "text/html", []string{"Zhaoqing News in English", `href="https://zq.example.org/feeds/zhaoqing.atom"`}},
		{"source page", "/sources/gd-english", 200, "text/html", []string{"Guangdong unveils measures"}},
		{"unknown feed", "/feeds/nope.rss", 404, "text/html", nil},
		{"unknown format", "/feeds/zhaoqing.xml", 404, "text/html", nil},
		{"rss", "/feeds/zhaoqing.rss", 200, "application/rss+xml", []string{"<atom:link href=\"https://zq.example.org/feeds/zhaoqing.rss\" rel=\"self\""}},
		{"atom", "/sources/zhaoqing-news.atom", 200, "application/atom+xml", []string{"<id>tag:zq.example.org,2026:sources/zhaoqing-news</id>"}},
		{"json", "/feeds/guangdong.json", 200, "application/feed+json", []string{`"feed_url": "https://zq.example.org/feeds/guangdong.json"`}},
		{"opml", "/feeds.opml", 200, "text/x-opml", []string{`xmlUrl="https://zq.example.org/feeds/zhaoqing.rss"`, `xmlUrl="https://zq.example.org/sources/gd-english.rss"`}},
		{"status", "/status", 200, "text/html", []string{"HTTP 412 from rsshub.example", "48210", "200000", "-1001234567890#7", "Telegram flood limit"}},
		{"healthz", "/healthz", 200, "text/plain", []string{"ok"}},
		{"css", "/static/style.css", 200, "text/css", []string{"max-width"}},
		{"unknown", "/wp-admin", 404, "text/html", nil},
		{"page 0", "/?page=0", 404, "text/html", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, tc.path, nil)
			if rec.Code != tc.code {
				t.Fatalf("GET %s = %d, want %d", tc.path, rec.Code, tc.code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type = %q, want %s", ct, tc.ctype)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("security headers missing: %v", rec.Header())
			}
			if strings.HasPrefix(tc.ctype, "text/html") && rec.Header().Get("Content-Security-Policy") != cspHTML {
				t.Errorf("CSP = %q", rec.Header().Get("Content-Security-Policy"))
			}
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
		})
	}
}

func TestFeedsParse(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	for _, p := range allFeedPaths(s) {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, p, nil)
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			f, err := gofeed.NewParser().Parse(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			seen := map[string]bool{}
			for _, it := range f.Items {
				if it.GUID == "" || seen[it.GUID] {
					t.Errorf("missing or duplicate id %q", it.GUID)
				}
				seen[it.GUID] = true
				if strings.Contains(it.Title, "尚未翻译") {
					t.Errorf("item not ready is shown: %s", it.Title)
				}
			}
			// a second render must be byte-identical (stable ids, no random parts)
			s2, _ := newTestServer(t)
			if again := get(t, s2.Handler(), p, nil); again.Body.String() != rec.Body.String() {
				t.Errorf("output differs between servers")
			}
		})
	}
}

func TestConditionalRequests(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	for _, p := range append(allFeedPaths(s), "/", "/posts/1", "/feeds/zhaoqing", "/feeds.opml") {
		t.Run(p, func(t *testing.T) {
			first := get(t, h, p, nil)
			etag := first.Header().Get("ETag")
			if first.Code != 200 || etag == "" {
				t.Fatalf("first GET: %d etag %q", first.Code, etag)
			}
			if first.Header().Get("Cache-Control") == "" || first.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("caching headers: %v", first.Header())
			}
			lists := st.listCalls()
			for _, hdr := range []map[string]string{
				{"If-None-Match": etag},
				{"If-None-Match": `"other", ` + strings.TrimPrefix(etag, "W/")},
			} {
				rec := get(t, h, p, hdr)
				if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
					t.Errorf("%v: %d, body %d bytes; want 304", hdr, rec.Code, rec.Body.Len())
				}
			}
			if lm := first.Header().Get("Last-Modified"); lm != "" {
				if rec := get(t, h, p, map[string]string{"If-Modified-Since": lm}); rec.Code != http.StatusNotModified {
					t.Errorf("If-Modified-Since: %d, want 304", rec.Code)
				}
				if rec := get(t, h, p, map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}); rec.Code != 200 {
					t.Errorf("old If-Modified-Since: %d, want 200", rec.Code)
				}
			}
			if rec := get(t, h, p, map[string]string{"If-None-Match": `W/"stale"`}); rec.Code != 200 {
				t.Errorf("stale etag: %d, want 200", rec.Code)
			}
			if got := st.listCalls(); got != lists {
				t.Errorf("conditional and cached requests listed items %d times; want none", got-lists)
			}
		})
	}
}

func TestChangeInvalidatesFeed(t *testing.T) {
	s, st := newTestServer(t)
	clock := testNow
	s.now = func() time.Time { return clock }
	h := s.Handler()
	const p = "/feeds/zhaoqing.rss"
	first := get(t, h, p, nil)
	it, err := st.GetItem(context.Background(), seed.XuID)
	if err != nil {
		t.Fatal(err)
	}
	it.TitleEN = "Xu Xiaoxiong visits Shenzhen (revised)"
	st.ready(it, testNow) // re-translated now: the latest change of the feed
	// Within versionTTL the feed's version is trusted; past it, the change shows.
	if rec := get(t, h, p, map[string]string{"If-None-Match": first.Header().Get("ETag")}); rec.Code != 304 {
		t.Errorf("within versionTTL: %d, want 304 (version memoised)", rec.Code)
	}
	clock = clock.Add(versionTTL)
	rec := get(t, h, p, map[string]string{"If-None-Match": first.Header().Get("ETag")})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "(revised)") {
		t.Fatalf("after a change: %d, revised title present %v", rec.Code, strings.Contains(rec.Body.String(), "(revised)"))
	}
	if rec.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Errorf("ETag unchanged after a change")
	}
	// An item leaving the feed (count changes) also invalidates it.
	if err := st.SetItemState(context.Background(), it.ID, model.StateTranslating); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(versionTTL)
	if again := get(t, h, p, map[string]string{"If-None-Match": rec.Header().Get("ETag")}); again.Code != 200 || strings.Contains(again.Body.String(), "Xu Xiaoxiong") {
		t.Errorf("item no longer ready still served (code %d)", again.Code)
	}
}

func TestGzip(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	cases := []struct {
		accept string
		gz     bool
	}{
		{"gzip", true},
		{"br, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	plain := get(t, h, "/feeds/zhaoqing.atom", nil).Body.Bytes()
	for _, tc := range cases {
		t.Run(tc.accept, func(t *testing.T) {
			rec := get(t, h, "/feeds/zhaoqing.atom", map[string]string{"Accept-Encoding": tc.accept})
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gz {
				t.Fatalf("gzip = %v, want %v", got, tc.gz)
			}
			body := rec.Body.Bytes()
			if tc.gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, plain) {
				t.Errorf("body differs from the plain one")
			}
			if cl := rec.Header().Get("Content-Length"); cl != fmt.Sprint(rec.Body.Len()) {
				t.Errorf("Content-Length %s, body %d", cl, rec.Body.Len())
			}
		})
	}
}

var dangerous = regexp.MustCompile(`(?i)<script|<iframe|<svg|\bon[a-z]+\s*=|javascript:`)

// TestHostileItemIsDefused fetches every feed and page: nothing of the
// hostile post's scripts, handlers, javascript: links, iframes or SVG may
// appear as markup. Titles are plain text: a title that reads
// `<script>alert("t")</script>` is shown as those characters (escaped in
// HTML and XML, a JSON string in JSON), never parsed and never dropped.
func TestHostileItemIsDefused(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	paths := append(allFeedPaths(s), "/", "/feeds/zhaoqing", "/sources/zhaoqing-wechat", fmt.Sprintf("/posts/%d", seed.HostileID), "/status", "/status?format=json")
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, p, nil)
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}
			var texts []string
			if !strings.Contains(rec.Header().Get("Content-Type"), "json") {
				texts = append(texts, rec.Body.String())
			}
			if f, err := gofeed.NewParser().Parse(bytes.NewReader(rec.Body.Bytes())); err == nil {
				for _, it := range f.Items {
					texts = append(texts, it.Description, it.Content, it.Link)
					if strings.Contains(it.Title, "Hostile") && !strings.Contains(it.Title, `<script>alert("t")</script>`) {
						t.Errorf("hostile title not kept as text: %q", it.Title)
					}
				}
			}
			for _, s := range texts {
				if m := dangerous.FindString(s); m != "" {
					i := strings.Index(s, m)
					t.Errorf("found %q: …%s…", m, s[max(0, i-80):min(len(s), i+80)])
				}
			}
		})
	}
	if !strings.Contains(get(t, h, fmt.Sprintf("/posts/%d", seed.HostileID), nil).Body.String(), "Body text") {
		t.Errorf("hostile post's harmless text was lost")
	}
}

func TestPagination(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	base := time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range 70 {
		st.add(model.Item{
			ID: int64(100 + i), SourceID: "gd-english", Key: fmt.Sprint("p", i), Title: fmt.Sprintf("Post number %d", i),
			Language: "en", Published: base.Add(time.Duration(i) * time.Hour), State: model.StateReady,
			ContentHTML: "<p>Text.</p>", ReadyAt: base,
		})
	}
	// gd-english has 71 posts: three keyset pages, each reached by the
	// "older" link of the one before.
	nextRE := regexp.MustCompile(`rel="next" href="([^"]+)"`)
	titleRE := regexp.MustCompile(`<h3><a href="/posts/\d+">([^<]+)</a></h3>`)
	var (
		seen  []string
		pages []string
	)
	for path := "/sources/gd-english"; path != ""; {
		rec := get(t, h, path, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		body := rec.Body.String()
		titles := titleRE.FindAllStringSubmatch(body, -1)
		if len(titles) > PageSize {
			t.Errorf("%s: %d posts on a page", path, len(titles))
		}
		for _, m := range titles {
			seen = append(seen, m[1])
		}
		if strings.Contains(body, "page=") || strings.Contains(body, "offset") {
			t.Errorf("%s: links by page number or offset", path)
		}
		pages = append(pages, path)
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
		if len(pages) > 5 {
			t.Fatal("older links do not end")
		}
	}
	if len(pages) != 3 || len(seen) != 71 {
		t.Fatalf("pages %v, %d posts (want 3 pages, 71 posts)", pages, len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] == seen[i-1] {
			t.Errorf("post %q twice", seen[i])
		}
	}
	// Old ?page=N links redirect to the keyset page that starts at the same post.
	for _, tc := range []struct {
		path string
		code int
		to   string
	}{
		{"/sources/gd-english?page=1", 301, "/sources/gd-english"},
		{"/sources/gd-english?page=2", 301, pages[1]},
		{"/sources/gd-english?page=3", 301, pages[2]},
		{"/sources/gd-english?page=4", 404, ""},
		{"/sources/gd-english?page=x", 404, ""},
		{"/sources/gd-english?before=x_1", 404, ""},
		{"/sources/gd-english?before=1_1", 404, ""},
	} {
		rec := get(t, h, tc.path, nil)
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.to {
			t.Errorf("%s: %d %q, want %d %q", tc.path, rec.Code, rec.Header().Get("Location"), tc.code, tc.to)
		}
	}
	if !strings.Contains(get(t, h, "/sources/gd-english", nil).Body.String(), "Post number 69") {
		t.Errorf("newest post not on page 1")
	}
}

func TestHealthz(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	cases := []struct {
		name string
		err  error
		code int
		body string
	}{
		{"up", nil, 200, "ok\n"},
		{"down", errors.New("store: database is locked"), 503, "store unavailable\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st.setPingError(tc.err)
			rec := get(t, h, "/healthz", nil)
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.code, tc.body)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	s, _ := newTestServer(t)
	rec := get(t, s.Handler(), "/status?format=json", nil)
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("Content-Type %q", rec.Header().Get("Content-Type"))
	}
	var v struct {
		Sources []struct {
			ID                string     `json:"id"`
			LastResult        string     `json:"last_result"`
			ConsecutiveErrors int        `json:"consecutive_errors"`
			FailingSince      *time.Time `json:"failing_since"`
			PostsTotal        int        `json:"posts_total"`
		} `json:"sources"`
		Translation struct {
			Backlog        int   `json:"backlog"`
			DailyCharLimit int64 `json:"daily_char_limit"`
			Providers      []struct {
				Provider string `json:"provider"`
			} `json:"providers"`
		} `json:"translation"`
		Channels []struct {
			Channel string `json:"channel"`
			Pending int    `json:"pending"`
			Paused  bool   `json:"paused"`
		} `json:"channels"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Sources) != 3 || v.Sources[1].ID != "zhaoqing-wechat" || v.Sources[1].ConsecutiveErrors != 3 || v.Sources[1].FailingSince == nil {
		t.Errorf("sources: %+v", v.Sources)
	}
	if v.Sources[0].PostsTotal != 4 {
		t.Errorf("zhaoqing-news posts = %d, want 4", v.Sources[0].PostsTotal)
	}
	if v.Translation.Backlog != 1 || v.Translation.DailyCharLimit != 200000 || len(v.Translation.Providers) != 1 {
		t.Errorf("translation: %+v", v.Translation)
	}
	if len(v.Channels) != 2 || v.Channels[0].Channel != "@zhaoqing_en" || v.Channels[0].Pending != 2 || !v.Channels[1].Paused {
		t.Errorf("channels: %+v", v.Channels)
	}
}

func TestStatusRefusedLinks(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	if body := get(t, h, "/status", nil).Body.String(); strings.Contains(body, "Refused links") {
		t.Errorf("status shows a refused-links section with nothing refused")
	}
	at := time.Date(2024, 5, 6, 7, 8, 0, 0, time.UTC)
	setRefused(t, st, "zhaoqing-news", store.RefusedLinks{At: at, Count: 2, Examples: []store.RefusedLink{
		{URL: "http://169.254.169.254/latest/meta-data/", Reason: "refused to connect to 169.254.169.254: a link-local address"},
	}})
	body := get(t, h, "/status", nil).Body.String()
	for _, want := range []string{"Refused links", "http://169.254.169.254/latest/meta-data/", "a link-local address", "2 refused"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	var v struct {
		Sources []struct {
			ID           string `json:"id"`
			RefusedLinks *struct {
				Count    int `json:"count"`
				Examples []struct {
					URL    string `json:"url"`
					Reason string `json:"reason"`
				} `json:"examples"`
			} `json:"refused_links"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(get(t, h, "/status?format=json", nil).Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if r := v.Sources[0].RefusedLinks; v.Sources[0].ID != "zhaoqing-news" || r == nil || r.Count != 2 || len(r.Examples) != 1 || r.Examples[0].Reason == "" {
		t.Errorf("JSON refused_links of zhaoqing-news: %+v", v.Sources[0].RefusedLinks)
	}
	if v.Sources[1].RefusedLinks != nil {
		t.Errorf("JSON refused_links of a source without refusals: %+v", v.Sources[1].RefusedLinks)
	}
}

func TestMetricsByRoutePattern(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	get(t, h, "/posts/1", nil)
	get(t, h, "/posts/2", nil)
	get(t, h, "/posts/999", nil)
	body := get(t, h, "/metrics", nil).Body.String()
	for _, w := range []string{
		`transfeed_http_requests_total{code="200",route="GET /posts/{id}"} 2`,
		`transfeed_http_requests_total{code="404",route="GET /posts/{id}"} 1`,
		`transfeed_http_request_duration_seconds_bucket{code="200",route="GET /posts/{id}",le="+Inf"} 2`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if strings.Contains(body, `route="/posts/1"`) {
		t.Errorf("raw path used as a label")
	}
}

func TestNewRejects(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := seed.ZhaoqingConfig(testBase)
	if _, err := New(cfg, newEmptyStore(t), reg, nil); err != nil {
		t.Fatal(err)
	}
	bad := seed.ZhaoqingConfig("not a url")
	cases := []struct {
		name string
		fn   func() error
	}{
		{"nil config", func() error { _, err := New(nil, newEmptyStore(t), nil, nil); return err }},
		{"nil store", func() error { _, err := New(cfg, nil, nil, nil); return err }},
		{"bad base url", func() error { _, err := New(bad, newEmptyStore(t), nil, nil); return err }},
		{"registry reused", func() error { _, err := New(cfg, newEmptyStore(t), reg, nil); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(); err == nil || !strings.HasPrefix(err.Error(), "server: ") {
				t.Errorf("err = %v, want a server: error", err)
			}
		})
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	s, _ := newTestServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Errorf("healthz over TCP = %q", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v, want nil", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Errorf("server still answering after shutdown")
	}
}

func TestHead(t *testing.T) {
	s, _ := newTestServer(t)
	req := httptest.NewRequest(http.MethodHead, "/feeds/zhaoqing.rss", nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("ETag") == "" {
		t.Errorf("HEAD: %d, %d body bytes, etag %q", rec.Code, rec.Body.Len(), rec.Header().Get("ETag"))
	}
}

func TestAcceptsGzip(t *testing.T) {
	cases := map[string]bool{"gzip": true, "GZIP": true, "deflate, gzip;q=1.0": true, "gzip;q=0.0": false, "*": true, "*;q=0": false, "br": false, "gzip;q=0.001": true}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Accept-Encoding", in)
			if got := acceptsGzip(r); got != want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", in, got, want)
			}
		})
	}
}

// benchServer is a server whose feed has 50 posts.
func benchServer(b *testing.B) http.Handler {
	st := newEmptyStore(b)
	base := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		st.add(model.Item{
			ID: int64(i + 1), SourceID: "zhaoqing-news", Key: fmt.Sprint("k", i),
			Link:  fmt.Sprintf("http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_%d.html", 2869000+i),
			Title: "许晓雄率队赴深圳开展招商考察活动", Language: "zh", Published: base.Add(time.Duration(i) * time.Hour),
			ContentHTML:   strings.Repeat("<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动，与企业负责人座谈交流。</p>", 8),
			TitleEN:       "Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion and inspection activities",
			ContentHTMLEN: strings.Repeat("<p>On May 25, Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion, holding talks with business leaders.</p>", 8),
			TranslatedBy:  "deepl", State: model.StateReady, ReadyAt: base,
		})
	}
	s, err := New(seed.ZhaoqingConfig(testBase), st, prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler()
}

// BenchmarkFeed304 is a conditional request answered from the feed's version.
func BenchmarkFeed304(b *testing.B) {
	h := benchServer(b)
	etag := get(b, h, "/feeds/zhaoqing.rss", nil).Header().Get("ETag")
	req := httptest.NewRequest(http.MethodGet, "/feeds/zhaoqing.rss", nil)
	req.Header.Set("If-None-Match", etag)
	req.Header.Set("Accept-Encoding", "gzip")
	benchServe(b, h, req, http.StatusNotModified)
}

// BenchmarkFeed200 is a full response of the cached, gzipped 50-post feed.
func BenchmarkFeed200(b *testing.B) {
	h := benchServer(b)
	get(b, h, "/feeds/zhaoqing.rss", nil)
	req := httptest.NewRequest(http.MethodGet, "/feeds/zhaoqing.rss", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	benchServe(b, h, req, http.StatusOK)
}

// benchServe serves req over and over, failing on any status but want.
func benchServe(b *testing.B, h http.Handler, req *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("status %d, want %d", rec.Code, want)
		}
	}
}

// BenchmarkFeedRender is a feed rebuilt after every change (cache miss).
func BenchmarkFeedRender(b *testing.B) {
	st := newEmptyStore(b)
	s, err := New(seed.ZhaoqingConfig(testBase), st, prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	st.add(benchItems()...)
	f := s.byFeed["zhaoqing"]
	fm, _ := formatOf("rss")
	for b.Loop() {
		if _, err := s.renderFeed(context.Background(), f, fm, feedVersion{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchItems() []model.Item {
	base := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
	var out []model.Item
	for i := range 50 {
		out = append(out, model.Item{
			ID: int64(i + 1), SourceID: "zhaoqing-news", Key: fmt.Sprint("k", i), Title: "许晓雄率队赴深圳开展招商考察活动", Language: "zh",
			Published:     base.Add(time.Duration(i) * time.Hour),
			ContentHTML:   strings.Repeat("<p>市委书记许晓雄率队赴深圳开展招商考察活动。</p>", 8),
			TitleEN:       "Xu Xiaoxiong led a team to Shenzhen",
			ContentHTMLEN: strings.Repeat("<p>Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion.</p>", 8),
			TranslatedBy:  "deepl", State: model.StateReady, ReadyAt: base,
		})
	}
	return out
}

func TestStatusShowsListShapeChange(t *testing.T) {
	s, st := newTestServer(t)
	// Two polls of a detected list, the second finding another shape.
	for i, shape := range []string{"ul.list > li | a | a@href | span", "div.news > p | a | a@href | "} {
		at := testNow.Add(time.Duration(i-2) * 2 * time.Minute)
		if _, err := st.RecordPoll(context.Background(), model.PollResult{SourceID: "zhaoqing-news", At: at, Status: model.PollOK,
			ItemCount: 4, ListShape: shape, NextPollAt: at.Add(15 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	rec := get(t, s.Handler(), "/status?format=json", nil)
	var v struct {
		Sources []struct {
			ID         string `json:"id"`
			ListShape  string `json:"list_shape"`
			ShapeWas   string `json:"list_shape_was"`
			ShapeAlert bool   `json:"shape_alert"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Sources[0].ID != "zhaoqing-news" || !v.Sources[0].ShapeAlert || v.Sources[0].ShapeWas != "ul.list > li | a | a@href | span" {
		t.Errorf("status JSON sources[0] = %+v", v.Sources[0])
	}
	if v.Sources[1].ShapeAlert {
		t.Errorf("a source without a shape change is flagged: %+v", v.Sources[1])
	}
	page := get(t, s.Handler(), "/status", nil).Body.String()
	for _, want := range []string{"list changed shape on", "Was <code>ul.list &gt; li | a | a@href | span</code>", "transfeed discover"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
}

// With translation off, feeds and pages claim neither English nor machine
// translation; with it on, they do.
func TestTranslationOffClaimsNothing(t *testing.T) {
	for _, provider := range []string{"deepl", "none"} {
		cfg := seed.ZhaoqingConfig(testBase)
		cfg.Translation.Provider = provider
		s, err := New(cfg, newSeededStore(t), prometheus.NewRegistry(), nil)
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return testNow }
		h := s.Handler()
		for _, path := range []string{"/sources/zhaoqing-news.rss", "/sources/zhaoqing-news.json", "/"} {
			body := get(t, h, path, nil).Body.String()
			claims := strings.Contains(body, "<language>en</language>") || strings.Contains(body, `"language": "en"`) ||
				strings.Contains(body, "machine-translated into English")
			if provider == "none" && claims {
				t.Errorf("translation off: %s claims English or machine translation", path)
			}
			if provider == "deepl" && path != "/sources/zhaoqing-news.json" && !claims {
				t.Errorf("translation on: %s does not say it is machine-translated English", path)
			}
		}
	}
}

type fixedTelegram TelegramState

func (f fixedTelegram) TelegramState() TelegramState { return TelegramState(f) }

func TestStatusTelegram(t *testing.T) {
	since := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	tests := []struct {
		name      string
		h         TelegramHealth
		wantState string // "" = no telegram object
		wantHTML  string
	}{
		{name: "not reported", h: nil},
		{name: "connecting", h: fixedTelegram{}, wantState: "connecting", wantHTML: "connecting"},
		{name: "up", h: fixedTelegram{Up: true, Checked: true, Since: since}, wantState: "up", wantHTML: "connected since"},
		{name: "down", h: fixedTelegram{Checked: true, Reason: "telegram: getMe: connection refused", Since: since, NextTry: since.Add(time.Minute)},
			wantState: "down", wantHTML: "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t)
			if tt.h != nil {
				s.SetTelegramHealth(tt.h)
			}
			var v struct {
				Telegram *struct {
					State  string `json:"state"`
					Reason string `json:"reason"`
				} `json:"telegram"`
			}
			if err := json.Unmarshal(get(t, s.Handler(), "/status?format=json", nil).Body.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantState == "" && v.Telegram != nil:
				t.Errorf("telegram reported: %+v", v.Telegram)
			case tt.wantState != "" && (v.Telegram == nil || v.Telegram.State != tt.wantState):
				t.Errorf("telegram %+v, want state %q", v.Telegram, tt.wantState)
			}
			if tt.wantState == "down" && !strings.Contains(v.Telegram.Reason, "connection refused") {
				t.Errorf("reason %q", v.Telegram.Reason)
			}
			if body := get(t, s.Handler(), "/status", nil).Body.String(); tt.wantHTML != "" && !strings.Contains(body, tt.wantHTML) {
				t.Errorf("status page lacks %q", tt.wantHTML)
			}
		})
	}
}

// gatedStore holds every FeedVersion call until the gate opens and counts them.
type gatedStore struct {
	*testStore
	gate    chan struct{}
	entered chan struct{}
	calls   atomic.Int32
}

func (g *gatedStore) FeedVersion(ctx context.Context, ids []string) (store.FeedVersion, error) {
	if g.calls.Add(1) == 1 {
		close(g.entered)
	}
	<-g.gate
	return g.testStore.FeedVersion(ctx, ids)
}

// TestVersionSingleFlight: requests arriving while a feed's version is being
// loaded wait for that load; the store is asked once, not once per request.
func TestVersionSingleFlight(t *testing.T) {
	st := &gatedStore{testStore: newSeededStore(t), gate: make(chan struct{}), entered: make(chan struct{})}
	s, err := New(seed.ZhaoqingConfig(testBase), st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testNow }
	h := s.Handler()
	const n = 20
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { codes <- get(t, h, "/feeds/zhaoqing.rss", nil).Code })
	}
	<-st.entered
	// Let the others pile up behind the first load, then release it.
	time.Sleep(50 * time.Millisecond)
	close(st.gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("status %d, want 200", c)
		}
	}
	if got := st.calls.Load(); got != 1 {
		t.Errorf("FeedVersion called %d times for %d concurrent requests, want 1", got, n)
	}
}

func setRefused(t *testing.T, st *testStore, source string, r store.RefusedLinks) {
	t.Helper()
	if err := st.SetRefusedLinks(context.Background(), source, r); err != nil {
		t.Fatal(err)
	}
}

// TestSharedHeaderValues: responses share prebuilt header values; a
// header added to one response (as a middleware would) must not show in
// the next, and a feed's memoised ETag must follow a new post.
func TestSharedHeaderValues(t *testing.T) {
	s, st := newTestServer(t)
	h := s.Handler()
	for _, path := range []string{"/feeds/zhaoqing.rss", "/", "/feeds/zhaoqing"} {
		t.Run(path, func(t *testing.T) {
			first := get(t, h, path, map[string]string{"Accept-Encoding": "gzip"})
			etag := first.Header().Get("ETag")
			first.Header().Add("Vary", "Cookie")
			first.Header().Add("Content-Length", "1")
			for _, hdr := range []map[string]string{{"Accept-Encoding": "gzip"}, {"If-None-Match": etag}} {
				rec := get(t, h, path, hdr)
				if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
					t.Errorf("%v: Vary = %q, want [Accept-Encoding]", hdr, got)
				}
				if n := len(rec.Header().Values("Content-Length")); rec.Code == 200 && n != 1 {
					t.Errorf("%v: %d Content-Length values", hdr, n)
				}
			}
		})
	}
	etag := get(t, h, "/feeds/zhaoqing.rss", nil).Header().Get("ETag")
	st.add(model.Item{ID: 999, SourceID: "zhaoqing-news", Key: "new", Title: "新", Language: "zh",
		Published: testNow, TitleEN: "New", State: model.StateReady, ReadyAt: testNow})
	s.versionTTL = 0
	if rec := get(t, h, "/feeds/zhaoqing.rss", map[string]string{"If-None-Match": etag}); rec.Code != http.StatusOK || rec.Header().Get("ETag") == etag {
		t.Errorf("after a new post: %d, ETag %q (was %q), want 200 with a new ETag", rec.Code, rec.Header().Get("ETag"), etag)
	}
}

// TestStatusRenderedOncePerTTL: within statusTTL /status is the same
// rendering (HTML and JSON each); once the clock passes it, a new poll
// shows.
func TestStatusRenderedOncePerTTL(t *testing.T) {
	s, st := newTestServer(t)
	clock := testNow
	s.now = func() time.Time { return clock }
	s.statusTTL = time.Second
	polls := func(path string) string {
		rec := get(t, s.Handler(), path, map[string]string{"Accept-Encoding": "gzip"})
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: %d, headers %v", path, rec.Code, rec.Header())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(zr)
		var v struct {
			Sources []struct {
				Polls int64 `json:"polls"`
			} `json:"sources"`
		}
		if path != "/status?format=json" {
			return string(b)
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(v.Sources[0].Polls)
	}
	record := func() {
		if _, err := st.RecordPoll(t.Context(), model.PollResult{SourceID: "zhaoqing-news", At: clock, Status: model.PollOK, NextPollAt: clock.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/status?format=json", "/status"} {
		t.Run(path, func(t *testing.T) {
			clock = clock.Add(time.Second)
			before := polls(path)
			record()
			if got := polls(path); got != before {
				t.Errorf("within the TTL the page changed")
			}
			clock = clock.Add(time.Second)
			if got := polls(path); got == before {
				t.Errorf("past the TTL the page still shows the old poll count")
			}
		})
	}
}
