package feeds

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/config"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// route serves one fixture file (status 0 means 200).
type route struct {
	file        string
	contentType string
	status      int
}

// fixtureServer serves testdata files by path and counts the hits per path.
// Requests that are not well-formed GETs fail the test.
type fixtureServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func newFixtureServer(t *testing.T, routes map[string]route) *fixtureServer {
	t.Helper()
	fs := &fixtureServer{hits: map[string]int{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			t.Errorf("%s %s: want GET", r.Method, r.URL.Path)
		}
		if r.Header.Get("User-Agent") == "" {
			t.Errorf("%s: request without User-Agent", r.URL.Path)
		}
		fs.mu.Lock()
		fs.hits[r.URL.Path]++
		fs.mu.Unlock()
		rt, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(filepath.Join("testdata", rt.file))
		if err != nil {
			t.Errorf("fixture %s: %v", rt.file, err)
			http.Error(w, "fixture missing", http.StatusInternalServerError)
			return
		}
		if rt.contentType != "" {
			w.Header().Set("Content-Type", rt.contentType)
		}
		if rt.status != 0 {
			w.WriteHeader(rt.status)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fixtureServer) hitCount(path string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits[path]
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func checkContains(t *testing.T, what, s string, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
	for _, w := range notWant {
		if strings.Contains(strings.ToLower(s), strings.ToLower(w)) {
			t.Errorf("%s contains %q:\n%s", what, w, s)
		}
	}
}

func TestPollFixtures(t *testing.T) {
	routes := map[string]route{
		"/wechat.xml":                             {file: "wechat_rsshub.xml", contentType: "application/rss+xml; charset=utf-8"},
		"/xwzx/zqyw/rss.xml":                      {file: "zhaoqing_gb2312.xml", contentType: "text/xml"},
		"/english/news/atom.xml":                  {file: "english.atom", contentType: "application/atom+xml"},
		"/xss.xml":                                {file: "xss.xml", contentType: "application/rss+xml"},
		"/truncated.xml":                          {file: "truncated.xml", contentType: "application/rss+xml"},
		"/feed-is-html.xml":                       {file: "html_page.html", contentType: "text/html; charset=utf-8"},
		"/xwzx/tzgg/index.html":                   {file: "list_gbk.html", contentType: "text/html"},
		"/xwzx/tzgg/202305/t20230525_123.html":    {file: "article_123_gbk.html", contentType: "text/html"},
		"/xwzx/tzgg/202305/t20230524_120.html":    {file: "article_120_gbk.html", contentType: "text/html"},
		"/xwzx/tzgg/202305/W020230525381234.html": {file: "article_120_gbk.html", contentType: "text/html"},
	}
	srv := newFixtureServer(t, routes)
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())

	type wantItem struct {
		title     string
		link      string
		published string
		language  string
		content   []string // substrings of ContentHTML
		noContent []string
		image     string
		author    string
	}
	tests := []struct {
		name      string
		src       config.Source
		known     func(string) bool
		wantKind  ErrorKind
		wantErr   string
		wantItems []wantItem
		check     func(t *testing.T)
	}{
		{
			name: "rsshub wechat utf-8",
			src:  config.Source{ID: "tzzq", URL: srv.URL + "/wechat.xml"},
			wantItems: []wantItem{{
				title:     "许晓雄率队赴深圳开展招商考察活动",
				link:      "https://mp.weixin.qq.com/s?__biz=MzA5NjE4NTQ0Mg==&mid=2651234567&idx=1&sn=0a1b2c3d4e5f",
				published: "2023-05-25T15:31:00Z",
				language:  "zh",
				content: []string{`<img src="https://mmbiz.qpic.cn/mmbiz_jpg/abc123/640?wx_fmt=jpeg"`,
					"<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动，走访对接企业，推动项目合作。</p>",
					"<p>许晓雄表示，肇庆将全力以赴为企业提供优质服务。</p><p>双方就深化合作进行了深入交流。</p>",
					"<strong>来源：肇庆发布</strong>"},
				noContent: []string{"style=", "class=", "data-", "<section", "<span", "<font", "📍", "阅读原文", "<p></p>", "data:image"},
				image:     "https://mmbiz.qpic.cn/mmbiz_jpg/abc123/640?wx_fmt=jpeg",
				author:    "投资肇庆",
			}, {
				title:     "肇庆高新区举办2023年企业服务月活动",
				published: "2023-05-24T10:05:00Z",
				language:  "zh",
				content:   []string{"<p>肇庆高新区近日举办企业服务月活动。</p>"},
				noContent: []string{"📍"},
			}},
		},
		{
			name: "gb2312 rss with zone-less dates and relative links",
			src:  config.Source{ID: "zq", URL: srv.URL + "/xwzx/zqyw/rss.xml"},
			wantItems: []wantItem{{
				title:     "肇庆市召开2023年重点项目建设推进会",
				link:      srv.URL + "/xwzx/zqyw/202305/t20230525_123.html",
				published: "2023-05-25T02:30:00Z",
				language:  "zh",
				content:   []string{"粤港澳大湾区", `<img src="` + srv.URL + `/xwzx/zqyw/202305/W020230525123456.jpg" alt="会议现场"`},
				image:     srv.URL + "/xwzx/zqyw/202305/W020230525123456.jpg",
			}, {
				title:     "市政府常务会议研究部署近期工作",
				link:      srv.URL + "/xwzx/zqyw/202305/t20230524_120.html",
				published: "2023-05-24T08:00:00Z",
				language:  "zh",
			}},
		},
		{
			name: "english atom",
			src:  config.Source{ID: "gd-en", URL: srv.URL + "/english/news/atom.xml", Timezone: "Asia/Shanghai"},
			wantItems: []wantItem{{
				title:     "Guangdong & Hong Kong sign new trade pact",
				link:      srv.URL + "/english/news/2023-05/26/content_1001.html",
				published: "2023-05-26T01:30:00Z",
				language:  "en",
				content: []string{`<img src="` + srv.URL + `/english/images/pact.jpg" alt="Signing ceremony"`,
					`<a href="` + srv.URL + `/english/news/2023-05/26/content_1000.html" rel="nofollow noreferrer noopener" target="_blank">the earlier report</a>`},
				author: "Guangdong Foreign Affairs Office",
			}, {
				title:     "Zhaoqing opens new high-speed rail link",
				link:      "https://www.gd.gov.cn/english/news/2023-05/25/content_0999.html",
				published: "2023-05-25T02:00:00Z",
				language:  "en",
				content:   []string{"<p>The new line cuts the trip to Guangzhou to 40 minutes.</p>"},
			}},
		},
		{
			name: "hostile feed is sanitised",
			src:  config.Source{ID: "xss", URL: srv.URL + "/xss.xml"},
			wantItems: []wantItem{{
				title:     "Hostile title",
				link:      "https://evil.example/post/1",
				published: "2023-05-25T15:31:00Z",
				content:   []string{`<a href="https://evil.example/safe" rel="nofollow noreferrer noopener" target="_blank">safe link</a>`, "controlchars here", "styled"},
				noContent: []string{"<script", "alert", "javascript:", "onerror", "onclick", "onload", "<iframe", "<svg", "style=", "class=", "data-track", "<object", "<embed", "<form", "<input", "<math", "data:image", "\x1b", "display:none"},
			}},
		},
		{
			name:     "truncated xml",
			src:      config.Source{ID: "trunc", URL: srv.URL + "/truncated.xml"},
			wantKind: KindParse,
			wantErr:  "feed could not be parsed",
		},
		{
			name:     "html page served as a feed",
			src:      config.Source{ID: "html", URL: srv.URL + "/feed-is-html.xml"},
			wantKind: KindNotFeed,
			wantErr:  "not a feed: the server sent an HTML page (text/html)",
		},
		{
			name: "gbk html list with full text",
			src: config.Source{ID: "tzgg", Type: "html", URL: srv.URL + "/xwzx/tzgg/index.html",
				HTML:     &config.HTMLList{Item: "ul.news_list li", Title: "a", Link: "a@href", Date: "span"},
				FullText: &config.FullText{Selector: ".TRS_Editor"}},
			known: func(key string) bool {
				return key == ItemKey("", srv.URL+"/xwzx/tzgg/202305/t20230524_120.html", "", time.Time{})
			},
			wantItems: []wantItem{{
				title:     "肇庆市关于开展2023年度企业招商引资专项扶持资金申报工作的通知",
				link:      srv.URL + "/xwzx/tzgg/202305/t20230525_123.html",
				published: "2023-05-25T01:15:00Z", // article meta PubDate 09:15 beats the list's bare date
				language:  "zh",
				content: []string{"<p>各县（市、区）商务主管部门，各有关企业：</p>",
					`<img src="` + srv.URL + `/xwzx/tzgg/202305/W020230525381234567890.png"`,
					`<a href="` + srv.URL + `/xwzx/tzgg/202305/P020230525381234.docx"`},
				noContent: []string{"<font", "style=", "主办"},
				author:    "肇庆市商务局",
			}, {
				title:     "市政府办公室关于端午节放假安排的通知",
				link:      srv.URL + "/xwzx/tzgg/202305/t20230524_120.html",
				published: "2023-05-23T16:00:00Z", // known: not fetched; date from the TRS URL
				language:  "zh",
			}, {
				title:     "肇庆市2023年一季度经济运行情况",
				link:      srv.URL + "/xxgk/202305/t20230520_99.html",
				published: "2023-05-19T16:00:00Z", // article 404: kept with the list's data
				language:  "zh",
			}},
			check: func(t *testing.T) {
				if n := srv.hitCount("/xwzx/tzgg/202305/t20230524_120.html"); n != 0 {
					t.Errorf("known article fetched %d times, want 0", n)
				}
				if n := srv.hitCount("/xxgk/202305/t20230520_99.html"); n != 1 {
					t.Errorf("missing article fetched %d times, want 1", n)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.Poll(context.Background(), tc.src, Validators{}, tc.known)
			if tc.wantErr != "" {
				fe, ok := errors.AsType[*Error](err)
				if !ok {
					t.Fatalf("err = %v, want *Error", err)
				}
				if fe.Kind != tc.wantKind || !strings.Contains(fe.Error(), tc.wantErr) {
					t.Fatalf("err = %v (kind %v), want kind %v containing %q", err, fe.Kind, tc.wantKind, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Poll: %v", err)
			}
			if len(res.Items) != len(tc.wantItems) {
				t.Fatalf("got %d items, want %d: %+v", len(res.Items), len(tc.wantItems), res.Items)
			}
			for i, w := range tc.wantItems {
				it := res.Items[i]
				for _, s := range []string{it.Title, it.Summary, it.ContentHTML, it.Author, it.Link} {
					if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
						t.Errorf("item %d: invalid or replaced UTF-8 in %q", i, s)
					}
				}
				if it.Title != w.title {
					t.Errorf("item %d title = %q, want %q", i, it.Title, w.title)
				}
				if w.link != "" && it.Link != w.link {
					t.Errorf("item %d link = %q, want %q", i, it.Link, w.link)
				}
				if got := it.Published.Format(time.RFC3339); !it.Published.Equal(mustTime(t, w.published)) || it.Published.Location() != time.UTC {
					t.Errorf("item %d published = %s, want %s", i, got, w.published)
				}
				if w.language != "" && it.Language != w.language {
					t.Errorf("item %d language = %q, want %q", i, it.Language, w.language)
				}
				if w.image != "" && it.ImageURL != w.image {
					t.Errorf("item %d image = %q, want %q", i, it.ImageURL, w.image)
				}
				if w.author != "" && it.Author != w.author {
					t.Errorf("item %d author = %q, want %q", i, it.Author, w.author)
				}
				if it.Key == "" || it.ContentHash == "" || it.SourceID != tc.src.ID {
					t.Errorf("item %d: key %q hash %q source %q", i, it.Key, it.ContentHash, it.SourceID)
				}
				checkContains(t, "content", it.ContentHTML, w.content, w.noContent)
				if strings.Contains(it.Title, "<") {
					t.Errorf("item %d title has markup: %q", i, it.Title)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func TestPollHTMLListArticleFailureKeepsItem(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := newFixtureServer(t, map[string]route{
		"/list/index.html": {file: "list_gbk.html", contentType: "text/html"},
	})
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, logger)
	src := config.Source{ID: "tzgg", Type: "html", URL: srv.URL + "/list/index.html?token=s3cr3t",
		HTML:     &config.HTMLList{Item: "ul.news_list li", Link: "a@href", Date: "span"},
		FullText: &config.FullText{Readability: true}}
	res, err := f.Poll(context.Background(), src, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 3 {
		t.Fatalf("got %d items, want 3", len(res.Items))
	}
	if !strings.Contains(logs.String(), "full text not fetched") || !strings.Contains(logs.String(), "HTTP 404") {
		t.Errorf("no warning logged for failed article fetches:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("secret in logs:\n%s", logs.String())
	}
	// /status counts them: every article page failed, with the reason.
	if res.ArticleFetches != 3 || res.ArticleFailures != 3 || !strings.Contains(res.ArticleError, "404") || strings.Contains(res.ArticleError, "s3cr3t") {
		t.Errorf("article fetches %d failed %d (%q), want 3 of 3 with HTTP 404", res.ArticleFetches, res.ArticleFailures, res.ArticleError)
	}
}

func TestPollReadability(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>/</link>
<item><title>短标题</title><link>/a/1.html</link><description>列表摘要</description></item></channel></rss>`)
		case "/a/1.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<html><head><title>文章</title><meta name="PubDate" content="2023-05-25 23:31"></head><body>
<div class="nav"><a href="/">首页</a> | <a href="/news">新闻</a></div>
<article><h1>文章</h1>`+strings.Repeat(`<p>肇庆市召开重点项目建设推进会，会议强调要抢抓粤港澳大湾区建设机遇，加快推进重点项目建设，确保完成全年目标任务。</p>`, 8)+`</article>
<div class="footer">版权所有</div></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	res, err := f.Poll(context.Background(), config.Source{ID: "r", URL: srv.URL + "/feed.xml", FullText: &config.FullText{Readability: true}}, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d items", len(res.Items))
	}
	it := res.Items[0]
	checkContains(t, "content", it.ContentHTML, []string{"抢抓粤港澳大湾区建设机遇"}, []string{"版权所有", "列表摘要"})
	if want := mustTime(t, "2023-05-25T15:31:00Z"); !it.Published.Equal(want) {
		t.Errorf("published = %s, want %s", it.Published, want)
	}
}
