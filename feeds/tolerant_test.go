package feeds

import (
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
)

func TestTolerantFeedParsing(t *testing.T) {
	wrap := func(title string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>` +
			`<item><title>` + title + `</title><guid>1</guid><description>正文</description></item>` +
			`<item><title>第二条</title><guid>2</guid></item></channel></rss>`
	}
	tests := []struct {
		name, body, wantTitle string
	}{
		{"noncharacter reference", wrap("肇庆&#xFFFE;新闻"), "肇庆新闻"},
		{"decimal reference to a control character", wrap("肇庆&#1;&#27;新闻"), "肇庆新闻"},
		{"surrogate reference", wrap("肇庆&#xD800;新闻"), "肇庆新闻"},
		{"out-of-range reference", wrap("肇庆&#x110000;新闻"), "肇庆新闻"},
		{"reference rebuilt by dropping one", wrap("肇庆&&#1;#1;新闻"), "肇庆新闻"},
		{"raw control characters", wrap("肇庆\x01\x1b\x7f新闻"), "肇庆 新闻"}, // DEL is valid XML; the title turns it into a space
		{"raw U+FFFF", wrap("肇庆\uffff新闻"), "肇庆新闻"},
		{"valid references are kept", wrap("A&#x26;B &#169; &#20013;"), "A&B © 中"},
	}
	f := NewFetcher(FetchOptions{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raws, err := f.parseFeed([]byte(tt.body), "application/rss+xml", "http://x.example/rss")
			if err != nil {
				t.Fatalf("parseFeed: %v", err)
			}
			if len(raws) != 2 {
				t.Fatalf("%d items, want 2", len(raws))
			}
			if got := plainText(raws[0].Title); got != tt.wantTitle {
				t.Errorf("title %q, want %q", got, tt.wantTitle)
			}
		})
	}
	t.Run("JSON Feed with a raw control character", func(t *testing.T) {
		body := "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"id\":\"1\",\"title\":\"肇庆\x01新闻\",\"content_text\":\"x\"}]}"
		raws, err := f.parseFeed([]byte(body), "application/feed+json", "http://x.example/feed.json")
		if err != nil || len(raws) != 1 || raws[0].Title != "肇庆新闻" {
			t.Fatalf("JSON: %+v, %v", raws, err)
		}
	})
}

func TestTitlesArePlainText(t *testing.T) {
	src := config.Source{ID: "s", Timezone: "Asia/Shanghai"}
	tests := []struct{ name, raw, want string }{
		{"right-to-left override removed", "Invoice\u202Efdp.exe", "Invoicefdp.exe"},
		{"isolates removed", "\u2066肇庆\u2069 \u2067新闻\u2068", "肇庆 新闻"},
		{"unknown tag is text", "<Notice> on the 2024 budget", "<Notice> on the 2024 budget"},
		{"angle-bracketed Chinese", "关于《通知》的<说明>", "关于《通知》的<说明>"},
		{"title that is only markup stays as written", "<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"real markup is stripped", "<b>肇庆</b>新闻", "肇庆新闻"},
		{"escaped markup is text", "&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"},
		{"less-than in text", "a < b and c > d", "a < b and c > d"},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := n.Normalize(src, nil, RawItem{GUID: "g", Title: tt.raw, Summary: "摘要"}, time.Now())
			if it.Title != tt.want {
				t.Errorf("title %q, want %q", it.Title, tt.want)
			}
			if strings.ContainsAny(it.Title, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") {
				t.Errorf("title keeps a bidi control: %q", it.Title)
			}
		})
	}
}

// FuzzDropInvalidXMLChars: the filtered document never holds a character
// XML forbids, and a document without any is left unchanged.
func FuzzDropInvalidXMLChars(f *testing.F) {
	f.Add([]byte("<t>a&#xFFFE;b\x01c</t>"))
	f.Add([]byte("<t>&#20013;&amp;&#x;&#;</t>"))
	f.Add([]byte("<t>&&#1;#1;</t>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := dropInvalidXMLChars(b)
		if hasInvalidXML(out) {
			t.Fatalf("%q still invalid after filtering: %q", b, out)
		}
		if !hasInvalidXML(b) && string(out) != string(b) {
			t.Fatalf("valid %q changed to %q", b, out)
		}
	})
}

func TestDeeplyNestedXMLIsRefused(t *testing.T) {
	f := NewFetcher(FetchOptions{}, nil)
	wrapDesc := func(inner string) string {
		return `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title><guid>1</guid><description>` +
			inner + `</description></item></channel></rss>`
	}
	deep := wrapDesc(strings.Repeat("<a>", 1_000_000))
	if _, err := f.parseFeed([]byte(deep), "application/rss+xml", "http://x.example/"); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("1,000,000 levels: %v, want a refusal naming the nesting", err)
	}
	// Ordinary depth, self-closing tags, comments, CDATA and quoted '>' count right.
	ok := wrapDesc(strings.Repeat(`<br/><!-- <a><a> --><![CDATA[<a><a>]]><img alt="a>b"/>`, 5000) + strings.Repeat("<b>", 100) + strings.Repeat("</b>", 100))
	if raws, err := f.parseFeed([]byte(ok), "application/rss+xml", "http://x.example/"); err != nil || len(raws) != 1 {
		t.Fatalf("ordinary document: %v, %d items", err, len(raws))
	}
}

func TestXMLTooDeep(t *testing.T) {
	tests := []struct {
		doc  string
		max  int
		want bool
	}{
		{"<a><b><c/></b></a>", 2, false},
		{"<a><b><c></c></b></a>", 2, true},
		{"<a><!-- <b><c> --></a>", 1, false},
		{"<a><![CDATA[<b><c>]]></a>", 1, false},
		{`<a x="<b>"><?pi <b> ?></a>`, 1, false},
		{"<a><b></b><b></b><b></b></a>", 2, false},
		{"<a", 0, true},
		{"", 0, false},
	}
	for _, tt := range tests {
		if got := xmlTooDeep([]byte(tt.doc), tt.max); got != tt.want {
			t.Errorf("xmlTooDeep(%q, %d) = %v, want %v", tt.doc, tt.max, got, tt.want)
		}
	}
}

func FuzzXMLTooDeep(f *testing.F) {
	f.Add([]byte("<a><b x='>'><!--x--><![CDATA[y]]></b></a>"), 3)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		_ = xmlTooDeep(b, max%1000) // must not panic or hang
	})
}
