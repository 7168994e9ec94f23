package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

func addFixtureSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkFuzzItems(t *testing.T, items []model.Item) {
	for _, it := range items {
		for _, s := range []string{it.Title, it.Summary, it.ContentHTML, it.Link, it.Author} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
			for _, r := range s {
				if isControl(r) {
					t.Fatalf("control character %U in %q", r, s)
				}
			}
		}
		low := strings.ToLower(it.ContentHTML)
		for _, bad := range []string{"<script", "<iframe", "<svg", "<object", "<embed"} {
			if strings.Contains(low, bad) {
				t.Fatalf("sanitiser let %q through: %s", bad, it.ContentHTML)
			}
		}
		// "javascript:" as visible text is harmless; as a URL it is not.
		z := html.NewTokenizer(strings.NewReader(it.ContentHTML))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			for _, a := range z.Token().Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:text") {
					t.Fatalf("sanitiser let attribute %s=%q through: %s", a.Key, a.Val, it.ContentHTML)
				}
			}
		}
		if !it.Published.IsZero() && it.Published.Location() != time.UTC {
			t.Fatalf("published not UTC: %v", it.Published)
		}
	}
}

func FuzzPollParse(f *testing.F) {
	addFixtureSeeds(f, "wechat_rsshub.xml", "zhaoqing_gb2312.xml", "english.atom", "xss.xml", "truncated.xml", "html_page.html")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[{"id":"1","url":"/a","content_html":"<p>x</p>","date_published":"2023-05-25T23:31:00+08:00"}]}`))
	f.Add([]byte(`<rss><channel><item><title>&#x1b;</title><description>&lt;img data-src=x&gt;</description><pubDate>2023年5月25日</pubDate></item></channel></rss>`))
	f.Add([]byte(""))
	fetcher := NewFetcher(FetchOptions{}, discardLogger())
	src := config.Source{ID: "fuzz"}
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		utf := DecodeToUTF8(body, "")
		if !utf8.Valid(utf) {
			t.Fatalf("DecodeToUTF8 returned invalid UTF-8")
		}
		raws, err := fetcher.parseFeed(utf, "application/xml", "https://example.gov.cn/rss.xml")
		if err != nil {
			return
		}
		checkFuzzItems(t, fetcher.normalizeAll(src, loc, raws, now))
	})
}

func FuzzHTMLList(f *testing.F) {
	addFixtureSeeds(f, "list_gbk.html", "article_123_gbk.html", "html_page.html")
	f.Add([]byte(`<ul class="news_list"><li><a href="javascript:void(0)" title="全标题">短...</a><span>05-25</span></li><li><a>无链接</a></li></ul>`))
	f.Add([]byte(`<base href="//x/"><ul class="news_list"><li><a href="./202305/t20230525_1.html">a</a><span>2023年5月25日</span></li></ul>`))
	h := &config.HTMLList{Item: "ul.news_list li", Title: "a", Link: "a@href", Date: "span"}
	fetcher := NewFetcher(FetchOptions{}, discardLogger())
	src := config.Source{ID: "fuzz", Type: "html"}
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := parseHTMLList(DecodeToUTF8(body, "text/html"), "http://www.zhaoqing.gov.cn/xwzx/tzgg/index.html", h)
		if err != nil {
			return
		}
		checkFuzzItems(t, fetcher.normalizeAll(src, loc, raws, now))
	})
}

// benchFeed builds an RSSHub-style feed of n posts with ~5 KB WeChat bodies.
func benchFeed(n int) []byte {
	para := `<section style="margin: 0px; padding: 0px; box-sizing: border-box;"><p style="text-indent: 2em; line-height: 1.75em;"><span style="font-size: 15px; color: rgb(62, 62, 62);">市委书记许晓雄率队赴深圳开展招商考察活动，走访对接企业，推动项目合作，</span><span style="font-size: 15px;">深化与粤港澳大湾区城市的产业协作。</span></p></section>`
	img := `<p style="text-align: center;"><img class="rich_pages wxw-img" data-src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg" src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E" style="width: 100%;"></p>`
	var body strings.Builder
	for body.Len() < 5000 {
		body.WriteString(para)
		if body.Len()%3 == 0 {
			body.WriteString(img)
		}
	}
	body.WriteString(`<p>📍发表于：广东</p><p><a href="https://mp.weixin.qq.com/s/x">🔗️ 阅读原文</a></p>`)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>投资肇庆</title><link>https://mp.weixin.qq.com/</link>`)
	for i := range n {
		fmt.Fprintf(&b, `<item><title><![CDATA[第%d条 许晓雄率队赴深圳开展招商考察活动]]></title><description><![CDATA[%s]]></description>`+
			`<pubDate>2023-05-25 23:%02d:00</pubDate><guid isPermaLink="false">https://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=%d&amp;idx=1&amp;sn=abc</guid>`+
			`<link>https://mp.weixin.qq.com/s?__biz=MzA5&amp;mid=%d&amp;idx=1&amp;sn=abc&amp;chksm=1&amp;scene=126#rd</link></item>`, i, body.String(), i%60, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

func BenchmarkParseNormalize50(b *testing.B) {
	feed := benchFeed(50)
	f := NewFetcher(FetchOptions{}, discardLogger())
	src := config.Source{ID: "bench"}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.SetBytes(int64(len(feed)))
	items := 0
	start, cpu0 := time.Now(), cpuTime(b)
	for b.Loop() {
		raws, err := f.parseFeed(DecodeToUTF8(feed, "application/rss+xml"), "application/rss+xml", "https://rsshub.example/wechat")
		if err != nil {
			b.Fatal(err)
		}
		got := f.normalizeAll(src, loc, raws, now)
		if len(got) != 50 {
			b.Fatalf("got %d items", len(got))
		}
		items += len(got)
	}
	b.ReportMetric(float64(items)/time.Since(start).Seconds(), "items/s")
	// On a shared machine wall time overstates the cost: also report
	// items per second of CPU actually used by this process.
	b.ReportMetric(float64(items)/(cpuTime(b)-cpu0).Seconds(), "items/cpu-s")
}

func BenchmarkPoll304(b *testing.B) {
	const sources = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == "" {
			b.Errorf("%s: no If-None-Match", r.URL.Path)
		}
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{PerHost: 16, Concurrency: 16}, discardLogger())
	srcs := make([]config.Source, sources)
	for i := range srcs {
		srcs[i] = config.Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("%s/s/%d/rss.xml", srv.URL, i)}
	}
	polls := 0
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for _, src := range srcs {
			wg.Go(func() {
				res, err := f.Poll(context.Background(), src, Validators{ETag: `"e"`}, nil)
				if err != nil || !res.NotModified {
					b.Errorf("%s: %v", src.ID, err)
				}
			})
		}
		wg.Wait()
		polls += sources
	}
	b.ReportMetric(float64(polls)/time.Since(start).Seconds(), "polls/s")
}

// FuzzExtractArticle: any page extracts without panicking into valid
// UTF-8 fields, and a date found is one the page could mean (1970–2200).
func FuzzExtractArticle(f *testing.F) {
	addFixtureSeeds(f, "article_120_gbk.html", "article_123_gbk.html", "html_page.html",
		"realpages/gne-shanxi-gov.html", "realpages/platform1-govcn-5353307.html", "realpages/wechatsogou-qqmusic.html",
		"realpages/gne-zyyfy.html", "realpages/gne-163-gbk.html")
	f.Add([]byte(`<title>x_网易订阅</title><meta name="author" content="网易"><div data-ptime="民國115年13月40日 25:61"><p>索引号：a 发布机构： 信息来源：b 浏览次数：</p><p>来源：本站原创 作者：：</p></div>`))
	f.Add([]byte(`<script>var __$pubtime='2012-06-24';var ct="99999999999";var nickname="&#x1b;"</script><td>索引号：</td><td>x</td><td>发文字号：</td><td>y</td>`))
	f.Add([]byte(`<p>发布时间：２０１９年１３月３１日 ２５:６１</p><p>来源：</p>`))
	loc := model.China()
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ExtractArticle(DecodeToUTF8(body, "text/html"), "https://mp.weixin.qq.com/s?__biz=x", &config.FullText{Selector: "#js_content", Readability: true}, loc)
		if err != nil && !errors.Is(err, ErrNoArticle) {
			return
		}
		for _, s := range []string{a.Title, a.Author, a.HTML} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %q", s)
			}
		}
		if !a.Published.IsZero() && (a.Published.Year() < 1969 || a.Published.Year() > 2200) {
			t.Fatalf("date %v out of range", a.Published)
		}
	})
}
