package telegram

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/internal/tghtml"
	"github.com/transfeed/transfeed/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testSource() Source {
	return Source{ID: "zhaoqing-news", Name: "Zhaoqing Government — News", Tags: []string{"zhaoqing", "Greater Bay-Area", "#bad tag!", "ZHAOQING", "---"}}
}

func translatedItem(t testing.TB) model.Item {
	return model.Item{
		ID:            42,
		SourceID:      "zhaoqing-news",
		Link:          "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_1.html?a=1&b=2",
		Title:         "肇庆市召开粤港澳大湾区建设新闻发布会",
		ContentHTML:   readFixture(t, "post_zh.html"),
		Language:      "zh",
		Published:     time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC),
		BackfillRank:  -1,
		TitleEN:       "Zhaoqing holds press conference on <Greater Bay Area> & growth",
		SummaryEN:     "Zhaoqing held a press conference.",
		ContentHTMLEN: readFixture(t, "post_en.html"),
		TranslatedBy:  "openai/gpt-4o-mini",
	}
}

// checkTelegram fails the test unless m is what Telegram accepts.
func checkTelegram(t testing.TB, m Message) {
	t.Helper()
	var err error
	if m.Photo != "" || len(m.Album) > 0 {
		err = telegramtest.CheckCaption(m.Text, "HTML")
	} else {
		err = telegramtest.CheckMessage(m.Text, "HTML")
	}
	if err != nil {
		t.Fatalf("Telegram would refuse the message: %v\n%s", err, m.Text)
	}
}

func visible(t testing.TB, html string) string {
	t.Helper()
	v, err := telegramtest.ParseHTML(html)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return v
}

func TestFormatGolden(t *testing.T) {
	// The golden file is the text form (the post's picture goes as a photo
	// when the channel takes photos, see TestFormat).
	m := Format(translatedItem(t), testSource(), bot.Channel{Key: "@zq", Address: "@zq", SummaryChars: 400}, "https://example.org/", false)
	checkTelegram(t, m)
	golden := filepath.Join("testdata", "format_translated.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(m.Text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFixture(t, "format_translated.golden")
	if diff := cmp.Diff(want, m.Text); diff != "" {
		t.Errorf("Format mismatch (-want +got):\n%s", diff)
	}
	if m.Photo != "" {
		t.Errorf("Photo = %q, want none (photo off)", m.Photo)
	}
}

func TestFormat(t *testing.T) {
	long := strings.Repeat("<p>"+strings.Repeat("The municipal government announced new measures for enterprises. ", 40)+"</p>", 20)
	tests := []struct {
		name     string
		item     func(model.Item) model.Item
		ch       bot.Channel
		photo    bool
		contains []string
		absent   []string
		check    func(t *testing.T, m Message)
	}{
		{
			name: "translated: title, CST time, entities decoded, links, original title, hashtags",
			ch:   bot.Channel{SummaryChars: 400},
			contains: []string{
				"<b>Zhaoqing holds press conference on &lt;Greater Bay Area&gt; &amp; growth</b>",
				"<i>Zhaoqing Government — News · 2023-05-25 23:31 CST</i>",
				"Greater Bay Area (GBA). Mayor Zhang said the city will \"fully integrate\" into the GBA—and",
				`<a href="https://example.org/posts/42">Read in English</a> · <a href="http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_1.html?a=1&amp;b=2">Original</a>`,
				"\n肇庆市召开粤港澳大湾区建设新闻发布会\n",
				"#zhaoqing #GreaterBayArea #badtag",
			},
			absent: []string{"&nbsp;", "&mdash;", "#ZHAOQING", "not text", "[untranslated]"},
		},
		{
			name: "summary cut at a sentence end",
			ch:   bot.Channel{SummaryChars: 300},
			check: func(t *testing.T, m Message) {
				s := summaryOf(t, m)
				if !strings.HasSuffix(s, ".") || strings.HasSuffix(s, "…") {
					t.Errorf("summary %q does not end at a sentence end", s)
				}
				if n := tghtml.VisibleLen(s); n > 300 {
					t.Errorf("summary has %d characters, want <= 300", n)
				}
				if !strings.HasPrefix(s, "On May 25, the Zhaoqing") {
					t.Errorf("summary %q does not start with the leading paragraph", s)
				}
			},
		},
		{
			name: "whole paragraphs then whole sentences of the next",
			ch:   bot.Channel{SummaryChars: 600},
			check: func(t *testing.T, m Message) {
				s := summaryOf(t, m)
				paras := strings.Split(s, "\n\n")
				if len(paras) < 2 {
					t.Fatalf("summary %q: want at least two paragraphs", s)
				}
				if !strings.HasSuffix(paras[0], "year on year.") {
					t.Errorf("first paragraph %q is not whole", paras[0])
				}
			},
		},
		{
			name: "first sentence longer than the limit: word boundary and ellipsis",
			ch:   bot.Channel{SummaryChars: 60},
			check: func(t *testing.T, m Message) {
				s := summaryOf(t, m)
				if !strings.HasSuffix(s, "…") {
					t.Fatalf("summary %q: want an ellipsis", s)
				}
				if n := tghtml.VisibleLen(s); n > 60 {
					t.Errorf("summary has %d characters, want <= 60", n)
				}
				full := "On May 25, the Zhaoqing Municipal People's Government held a press conference"
				cut := strings.TrimSuffix(s, "…")
				if !strings.HasPrefix(full, cut) || full[len(cut)] != ' ' {
					t.Errorf("summary %q is not cut at a word boundary", s)
				}
			},
		},
		{
			name: "untranslated item shows the original, marked",
			item: func(it model.Item) model.Item {
				it.TitleEN, it.SummaryEN, it.ContentHTMLEN, it.TranslatedBy = "", "", "", ""
				it.Untranslated = true
				return it
			},
			contains: []string{"<b>[untranslated] 肇庆市召开粤港澳大湾区建设新闻发布会</b>", "5月25日，肇庆市人民政府召开新闻发布会", "Read online"},
			absent:   []string{"&nbsp;", "Read in English"},
		},
		{
			name: "English source uses the original fields, no original-title line",
			item: func(it model.Item) model.Item {
				it.Title, it.ContentHTML, it.Language = "Zhaoqing news in English", "<p>Hello &amp; welcome. Second sentence.</p>", "en"
				it.TitleEN, it.SummaryEN, it.ContentHTMLEN, it.TranslatedBy = "", "", "", ""
				return it
			},
			contains: []string{"<b>Zhaoqing news in English</b>", "Hello &amp; welcome. Second sentence.", "Read in English"},
			absent:   []string{"肇庆"},
		},
		{
			name: "no body: the English summary is used",
			item: func(it model.Item) model.Item {
				it.ContentHTMLEN = ""
				return it
			},
			contains: []string{"Zhaoqing held a press conference."},
		},
		{
			name: "photo: caption within 1024 even with a large summary_chars",
			item: func(it model.Item) model.Item {
				it.ImageURL = "https://www.zhaoqing.gov.cn/img/a.jpg"
				it.ContentHTMLEN = long
				return it
			},
			ch:    bot.Channel{SummaryChars: 3000},
			photo: true,
			check: func(t *testing.T, m Message) {
				if m.Photo != "https://www.zhaoqing.gov.cn/img/a.jpg" {
					t.Errorf("Photo = %q", m.Photo)
				}
				if n := telegramtest.VisibleLen(visible(t, m.Text)); n > 1024 || n < 900 {
					t.Errorf("caption has %d characters, want 900..1024", n)
				}
			},
		},
		{
			name:  "photo off for the channel: text message",
			item:  func(it model.Item) model.Item { it.ImageURL = "https://www.zhaoqing.gov.cn/img/a.jpg"; return it },
			photo: false,
			check: func(t *testing.T, m Message) {
				if m.Photo != "" {
					t.Errorf("Photo = %q, want none", m.Photo)
				}
			},
		},
		{
			name: "non-http image is not sent as a photo",
			item: func(it model.Item) model.Item {
				it.ImageURL = "javascript:alert(1)"
				it.ContentHTML, it.ContentHTMLEN = "<p>正文。</p>", "<p>Text.</p>"
				return it
			},
			photo: true,
			check: func(t *testing.T, m Message) {
				if m.Photo != "" {
					t.Errorf("Photo = %q, want none", m.Photo)
				}
			},
		},
		{
			name: "long post: text within 4096",
			item: func(it model.Item) model.Item { it.ContentHTMLEN = long; return it },
			ch:   bot.Channel{SummaryChars: 10000},
			check: func(t *testing.T, m Message) {
				if n := telegramtest.VisibleLen(visible(t, m.Text)); n > 4096 || n < 3900 {
					t.Errorf("text has %d characters, want 3900..4096", n)
				}
			},
		},
		{
			name: "astral characters count as two",
			item: func(it model.Item) model.Item {
				it.TitleEN = strings.Repeat("😀", 300)
				it.ContentHTMLEN = "<p>" + strings.Repeat("𝓐𝓑 ", 3000) + "</p>"
				return it
			},
			ch: bot.Channel{SummaryChars: 10000},
			check: func(t *testing.T, m Message) {
				if n := telegramtest.VisibleLen(visible(t, m.Text)); n > 4096 {
					t.Errorf("text has %d UTF-16 units, want <= 4096", n)
				}
			},
		},
		{
			name:     "unsafe link is dropped",
			item:     func(it model.Item) model.Item { it.Link = "javascript:alert(1)"; return it },
			contains: []string{"Read in English</a>\n"},
			absent:   []string{"Original", "javascript"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := translatedItem(t)
			if tt.item != nil {
				it = tt.item(it)
			}
			m := Format(it, testSource(), tt.ch, "https://example.org", tt.photo)
			checkTelegram(t, m)
			for _, s := range tt.contains {
				if !strings.Contains(m.Text, s) {
					t.Errorf("message lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(m.Text, s) {
					t.Errorf("message contains %q:\n%s", s, m.Text)
				}
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

// summaryOf extracts the visible summary: between the meta line and the links.
func summaryOf(t *testing.T, m Message) string {
	t.Helper()
	v := visible(t, m.Text)
	parts := strings.SplitN(v, "\n\n", 2)
	if len(parts) < 2 {
		t.Fatalf("no summary in %q", v)
	}
	i := strings.LastIndex(parts[1], "\n\nRead")
	if i < 0 {
		t.Fatalf("no links in %q", v)
	}
	return parts[1][:i]
}

func BenchmarkFormat(b *testing.B) {
	it := translatedItem(b)
	src := testSource()
	ch := bot.Channel{Key: "@zq", Address: "@zq", SummaryChars: 600}
	b.ReportAllocs()
	for b.Loop() {
		Format(it, src, ch, "https://example.org", true)
	}
}

func FuzzFormat(f *testing.F) {
	en := readFixture(f, "post_en.html")
	zh := readFixture(f, "post_zh.html")
	f.Add("肇庆新闻", "Zhaoqing news", en, "", "http://a.example/x?a=1&b=2", "", "zhaoqing,news", 600, true, false)
	f.Add("标题", "", "", zh, "https://a.example/", "https://a.example/i.jpg", "", 0, true, true)
	f.Add("<b>x", "a & b < c", "<p>&nbsp;&mdash;&#0;&#xD800;</p>", "x", "javascript:x", "ftp://x", "#,,,", 5, true, false)
	f.Add("", "", "<p>"+strings.Repeat("😀 ", 3000)+"</p>", "", "", "https://i.example/a.png", "😀", 100000, true, false)
	f.Add("\x00\xff\xfe", "\u2028line\u2029", "<script>x</script><p>a.b.c. d!</p>", "", "https://x/\"><b>", "https://x/\"", "a\x00b", -3, false, true)
	f.Fuzz(func(t *testing.T, title, titleEN, bodyEN, body, link, image, tags string, summaryChars int, photo, untranslated bool) {
		it := model.Item{
			ID: 7, SourceID: "s", Title: title, ContentHTML: body, Link: link, ImageURL: image,
			Published: time.Unix(1700000000, 0), TitleEN: titleEN, ContentHTMLEN: bodyEN, Untranslated: untranslated,
		}
		if titleEN != "" {
			it.TranslatedBy = "fuzz"
		}
		src := Source{ID: "s", Name: title, Tags: strings.Split(tags, ",")}
		m := Format(it, src, bot.Channel{SummaryChars: summaryChars % 20000}, "https://example.org", photo)
		if m.Photo != "" && !photo {
			t.Fatalf("photo sent although photo=false")
		}
		checkTelegram(t, m)
	})
}
