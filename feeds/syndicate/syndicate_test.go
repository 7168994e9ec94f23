package syndicate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
	"github.com/transfeed/transfeed/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var xuPublished = time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC)

func xuItem() model.Item {
	return model.Item{
		ID:            7,
		SourceID:      "zhaoqing-news",
		Key:           "k7",
		GUID:          "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html",
		Link:          "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html",
		Title:         "许晓雄率队赴深圳开展招商考察活动",
		Summary:       "5月25日，市委书记许晓雄率队赴深圳开展招商考察活动。",
		ContentHTML:   "<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动。</p><p>市领导参加活动。</p>",
		Author:        "肇庆市人民政府办公室",
		Language:      "zh",
		Categories:    []string{"要闻"},
		Published:     xuPublished,
		FirstSeen:     xuPublished.Add(10 * time.Minute),
		UpdatedAt:     xuPublished.Add(10 * time.Minute),
		State:         model.StateReady,
		TitleEN:       "Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion and inspection activities",
		SummaryEN:     "On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen.",
		ContentHTMLEN: "<p>On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen.</p><p>City leaders attended.</p>",
		TranslatedBy:  "deepl",
		TranslatedAt:  xuPublished.Add(20 * time.Minute),
		ReadyAt:       xuPublished.Add(20 * time.Minute),
	}
}

func hostileItem() model.Item {
	it := xuItem()
	it.ID = 8
	it.Title = "恶意<script>alert(1)</script>标题\x1b"
	it.TitleEN = "Hostile <script>alert(1)</script> title\x1b\x00"
	it.Link = "javascript:alert(1)"
	it.Author = "<img src=x onerror=alert(1)>"
	hostile := `<p onclick="alert(1)">Click</p><script>alert(1)</script><a href="javascript:alert(1)">js</a>` +
		`<iframe src="https://evil.example/"></iframe><svg onload="alert(1)"><circle/></svg>` +
		`<img src="https://mmbiz.qpic.cn/x.jpg" onerror="alert(1)"><style>body{}</style>` + "\x1b]]>"
	it.ContentHTML = hostile
	it.ContentHTMLEN = hostile
	it.SummaryEN = "summary with ]]> and \x07 bell"
	return it
}

func testBuilder(t testing.TB) *Builder {
	t.Helper()
	b, err := NewBuilder("https://zq.example.org/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testChannel() Channel {
	return Channel{
		Title:       "Zhaoqing News in English",
		Description: "Machine-translated news from Zhaoqing",
		Link:        "https://zq.example.org/feeds/zhaoqing",
		SelfURL:     "https://zq.example.org/feeds/zhaoqing.rss",
		Language:    "en",
		ID:          "tag:zq.example.org,2026:feeds/zhaoqing",
		Updated:     xuPublished.Add(20 * time.Minute),
	}
}

var zhaoqingNews = SourceInfo{ID: "zhaoqing-news", Name: "Zhaoqing Government — News", URL: "http://www.zhaoqing.gov.cn/xwzx/zqyw/rss.xml"}

type renderFunc func(io.Writer, Channel, []Entry) error

var formats = []struct {
	ext    string
	render renderFunc
}{
	{"rss", RSS},
	{"atom", Atom},
	{"json", JSON},
}

func render(t *testing.T, f renderFunc, ch Channel, es []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf, ch, es); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	b := testBuilder(t)
	cases := []struct {
		name    string
		entries []Entry
	}{
		{"empty", nil},
		{"xu", []Entry{b.Entry(xuItem(), zhaoqingNews, false)}},
		{"bilingual", []Entry{b.Entry(xuItem(), zhaoqingNews, true)}},
	}
	for _, tc := range cases {
		for _, f := range formats {
			t.Run(tc.name+"."+f.ext, func(t *testing.T) {
				golden(t, tc.name+"."+f.ext, render(t, f.render, testChannel(), tc.entries))
			})
		}
	}
}

// TestParsesWithGofeed checks every format with an independent parser and
// that ids are stable across renders.
func TestParsesWithGofeed(t *testing.T) {
	b := testBuilder(t)
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			es := []Entry{b.Entry(xuItem(), zhaoqingNews, false), b.Entry(hostileItem(), zhaoqingNews, true)}
			first := render(t, f.render, testChannel(), es)
			es2 := []Entry{b.Entry(xuItem(), zhaoqingNews, false), b.Entry(hostileItem(), zhaoqingNews, true)}
			second := render(t, f.render, testChannel(), es2)
			if !bytes.Equal(first, second) {
				t.Errorf("two renders differ")
			}
			if f.ext != "json" {
				var v any
				if err := xml.Unmarshal(first, &v); err != nil {
					t.Errorf("not well-formed XML: %v", err)
				}
			}
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(first))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if len(feed.Items) != 2 {
				t.Fatalf("gofeed items = %d, want 2", len(feed.Items))
			}
			if got, want := feed.Items[0].GUID, "tag:zq.example.org,2026:posts/7"; got != want {
				t.Errorf("id = %q, want %q", got, want)
			}
			if got, want := feed.Items[0].Title, xuItem().TitleEN; got != want {
				t.Errorf("title = %q, want %q", got, want)
			}
			if feed.Items[0].PublishedParsed == nil || !feed.Items[0].PublishedParsed.Equal(xuPublished) {
				t.Errorf("published = %v, want %v", feed.Items[0].PublishedParsed, xuPublished)
			}
			if !strings.Contains(feed.Items[0].Content, "Machine-translated from Chinese by deepl.") {
				t.Errorf("content lacks the translation notice: %s", feed.Items[0].Content)
			}
			if !strings.Contains(feed.Items[0].Content, "许晓雄率队赴深圳开展招商考察活动") {
				t.Errorf("content lacks the original title")
			}
			if !strings.Contains(feed.Items[0].Content, "2023-05-25 23:31 CST") {
				t.Errorf("content lacks the CST time")
			}
			if feed.Language != "en" {
				t.Errorf("language = %q", feed.Language)
			}
		})
	}
}

func TestFormatSpecifics(t *testing.T) {
	b := testBuilder(t)
	es := []Entry{b.Entry(xuItem(), zhaoqingNews, false)}
	ch := testChannel()
	cases := []struct {
		name    string
		render  renderFunc
		entries []Entry
		want    []string
		notWant []string
	}{
		{"rss", RSS, es, []string{
			`<atom:link href="https://zq.example.org/feeds/zhaoqing.rss" rel="self" type="application/rss+xml"></atom:link>`,
			`<content:encoded><![CDATA[<p>On May 25`,
			`<guid isPermaLink="false">tag:zq.example.org,2026:posts/7</guid>`,
			`<source url="http://www.zhaoqing.gov.cn/xwzx/zqyw/rss.xml">Zhaoqing Government — News</source>`,
			`<pubDate>Thu, 25 May 2023 15:31:00 +0000</pubDate>`,
			`<language>en</language>`,
			`<description>On May 25, Xu Xiaoxiong`,
		}, []string{"<author>"}},
		{"atom", Atom, es, []string{
			`<id>tag:zq.example.org,2026:feeds/zhaoqing</id>`,
			`<published>2023-05-25T15:31:00Z</published>`,
			`<updated>2023-05-25T15:51:00Z</updated>`,
			`<link href="https://zq.example.org/posts/7" rel="alternate" type="text/html"></link>`,
			`<link href="http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html" rel="related" type="text/html"></link>`,
			`<link href="https://zq.example.org/feeds/zhaoqing.rss" rel="self" type="application/atom+xml"></link>`,
			`<category term="要闻"></category>`,
		}, []string{"urn:uuid"}},
		{"atom-empty", Atom, nil, []string{
			`<id>tag:zq.example.org,2026:feeds/zhaoqing</id>`,
			`<updated>2023-05-25T15:51:00Z</updated>`,
		}, []string{"<updated></updated>"}},
		{"json", JSON, es, []string{
			`"version": "https://jsonfeed.org/version/1.1"`,
			`"feed_url": "https://zq.example.org/feeds/zhaoqing.rss"`,
			`"home_page_url": "https://zq.example.org/feeds/zhaoqing"`,
			`"language": "en"`,
			`"id": "tag:zq.example.org,2026:posts/7"`,
			`"external_url": "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html"`,
		}, nil},
		{"json-empty", JSON, nil, []string{`"items": []`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(render(t, tc.render, ch, tc.entries))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %s\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output contains %s", w)
				}
			}
		})
	}
	t.Run("atom-empty-no-date", func(t *testing.T) {
		c := ch
		c.Updated = time.Time{}
		got := string(render(t, Atom, c, nil))
		if !strings.Contains(got, "<updated>1970-01-01T00:00:00Z</updated>") {
			t.Errorf("empty feed without a date lacks a valid updated:\n%s", got)
		}
	})
	t.Run("json-items-parse", func(t *testing.T) {
		var v struct {
			Items []json.RawMessage `json:"items"`
		}
		raw := render(t, JSON, ch, nil)
		if err := json.Unmarshal(raw, &v); err != nil || v.Items == nil {
			t.Errorf("items missing or invalid: %v %s", err, raw)
		}
	})
}

var dangerous = regexp.MustCompile(`(?i)<script|<iframe|<svg|<style|\bon[a-z]+\s*=|javascript:|\x1b|\x00|\x07`)

// TestHostileItemIsDefused renders a post whose every field tries markup:
// none of it may reach a reader as markup.
func TestHostileItemIsDefused(t *testing.T) {
	b := testBuilder(t)
	es := []Entry{b.Entry(hostileItem(), zhaoqingNews, true)}
	for _, f := range formats {
		t.Run(f.ext, func(t *testing.T) {
			got := render(t, f.render, testChannel(), es)
			// Decode the format so escaped markup (which a reader would unescape) is checked too.
			var texts []string
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("hostile feed does not parse: %v", err)
			}
			for _, it := range feed.Items {
				texts = append(texts, it.Description, it.Content, it.Link)
				// A title is plain text: kept as written, never parsed.
				if it.Title != "Hostile <script>alert(1)</script> title" {
					t.Errorf("title %q, want the hostile title as plain text", it.Title)
				}
				if m := dangerous.FindString(strings.ReplaceAll(it.Title, "<script>", "")); m != "" {
					t.Errorf("found %q in %s title %q", m, f.ext, it.Title)
				}
			}
			if f.ext != "json" {
				// Raw XML: the title's "<" is escaped, so only real markup matches.
				texts = append(texts, string(got))
			}
			for _, s := range texts {
				if m := dangerous.FindString(s); m != "" {
					t.Errorf("found %q in %s output: %.300s", m, f.ext, s)
				}
			}
		})
	}
}

func TestBilingual(t *testing.T) {
	cases := []struct {
		name, en, orig, want string
	}{
		{"paired", "<p>One</p><p>Two</p>", "<p>一</p><p>二</p>",
			`<p>One</p><blockquote lang="zh"><p>一</p></blockquote><p>Two</p><blockquote lang="zh"><p>二</p></blockquote>`},
		{"counts differ", "<p>One</p><p>Two</p>", "<p>一二</p>",
			`<p>One</p><p>Two</p><blockquote lang="zh"><p>一二</p></blockquote>`},
		{"loose text is a block", "Intro <b>bold</b><p>Two</p>", "引言<b>粗</b><p>二</p>",
			`Intro <b>bold</b><blockquote lang="zh">引言<b>粗</b></blockquote><p>Two</p><blockquote lang="zh"><p>二</p></blockquote>`},
		{"no original", "<p>One</p>", "", "<p>One</p>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Bilingual(tc.en, tc.orig); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain 中文", "plain 中文"},
		{"a\x1bb\x00c\td\ne", "abc\td\ne"},
		{"bad \xff utf8", "bad  utf8"},
		{"keep \uFFFD", "keep \uFFFD"},
		{"nope \uFFFE\u0085", "nope "},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := CleanText(tc.in); got != tc.want {
				t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewBuilderRejectsBadBase(t *testing.T) {
	for _, base := range []string{"", "localhost:8080", "ftp://x", "/relative"} {
		t.Run(base, func(t *testing.T) {
			if _, err := NewBuilder(base, nil, nil); err == nil {
				t.Errorf("NewBuilder(%q) accepted", base)
			}
		})
	}
}

// FuzzRender feeds arbitrary text through an entry into every format: the
// output must always be well-formed and parse.
func FuzzRender(f *testing.F) {
	f.Add("title", "<p>body</p>", "summary")
	f.Add("\x1b]]>", "<script>x</script>]]>\x00", "\xff\xfe")
	f.Add("许晓雄", "<p>一</p><p>二", "<svg onload=1>")
	b := testBuilder(f)
	f.Fuzz(func(t *testing.T, title, body, summary string) {
		it := xuItem()
		it.TitleEN, it.ContentHTMLEN, it.SummaryEN = title, body, summary
		it.ContentHTML = body
		es := []Entry{b.Entry(it, zhaoqingNews, true)}
		for _, fm := range formats {
			var buf bytes.Buffer
			if err := fm.render(&buf, testChannel(), es); err != nil {
				t.Fatalf("%s: %v", fm.ext, err)
			}
			if fm.ext == "json" {
				if !json.Valid(buf.Bytes()) {
					t.Fatalf("invalid json")
				}
				continue
			}
			d := xml.NewDecoder(&buf)
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s not well-formed: %v", fm.ext, err)
				}
			}
		}
	})
}

// FuzzBlocks checks that splitting never loses text.
func FuzzBlocks(f *testing.F) {
	f.Add("<p>a</p>b<div>c</div>")
	f.Add("<table><tr><td>x</table>")
	f.Fuzz(func(t *testing.T, s string) {
		_ = Bilingual(s, s)
	})
}

func BenchmarkRSS50(b *testing.B) {
	bl := testBuilder(b)
	es := make([]Entry, 50)
	for i := range es {
		it := xuItem()
		it.ID = int64(i + 1)
		es[i] = bl.Entry(it, zhaoqingNews, false)
	}
	for b.Loop() {
		if err := RSS(io.Discard, testChannel(), es); err != nil {
			b.Fatal(err)
		}
	}
}

// An undated post (DateUnknown) carries no publication date in any format,
// says "date unknown (first seen …)" in its footer, and lists government
// metadata as categories and footer lines.
func TestDateUnknownAndMeta(t *testing.T) {
	b := testBuilder(t)
	it := xuItem()
	it.Published, it.DateUnknown = time.Time{}, true
	it.FirstSeen = time.Date(2023, 5, 26, 1, 0, 0, 0, time.UTC)
	it.Meta = map[string]string{"发文字号": "肇府〔2023〕5号", "索引号": "11441200007/2023-00012"}
	es := []Entry{b.Entry(it, zhaoqingNews, false)}
	for _, tc := range []struct {
		name    string
		render  renderFunc
		want    []string
		notWant []string
	}{
		{"rss", RSS, []string{"<category>索引号: 11441200007/2023-00012</category>", "date unknown (first seen 2023-05-26 09:00 CST)",
			"Index number (索引号): 11441200007/2023-00012"}, []string{"<pubDate>"}},
		{"atom", Atom, []string{"date unknown (first seen"}, []string{"<published>"}},
		{"json", JSON, []string{"date unknown (first seen"}, []string{"date_published"}},
	} {
		var buf bytes.Buffer
		if err := tc.render(&buf, testChannel(), es); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: missing %q", tc.name, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%s: has %q for a post without a date", tc.name, w)
			}
		}
	}
}
