package feeds

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/config"
)

func TestNormalizeCaps(t *testing.T) {
	src := config.Source{ID: "s", Timezone: "Asia/Shanghai"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lim := Limits{TitleChars: 100, SummaryChars: 50, BodyBytes: 4000, Tags: 3}
	n := NewNormalizerWithLimits(lim)

	para := "<p>" + strings.Repeat("肇庆市政府发布通知。", 20) + "</p>" // ~600 bytes
	manyCats := make([]string, 200)
	for i := range manyCats {
		manyCats[i] = fmt.Sprintf("tag%d", i)
	}
	tests := []struct {
		name  string
		raw   RawItem
		check func(t *testing.T, title, summary, body string, tags []string)
	}{
		{
			name: "huge title is cut to title_chars",
			raw:  RawItem{GUID: "1", Title: strings.Repeat("长", 3_000_000), ContentHTML: para},
			check: func(t *testing.T, title, _, _ string, _ []string) {
				if n := utf8.RuneCountInString(title); n != lim.TitleChars || !strings.HasSuffix(title, "…") {
					t.Errorf("title: %d runes (suffix %q), want %d ending in …", n, title[len(title)-3:], lim.TitleChars)
				}
			},
		},
		{
			name: "huge HTML title is cut too",
			raw:  RawItem{GUID: "2", Title: strings.Repeat("<b>标题</b>", 500_000)},
			check: func(t *testing.T, title, _, _ string, _ []string) {
				if n := utf8.RuneCountInString(title); n > lim.TitleChars || strings.Contains(title, "<") {
					t.Errorf("title: %d runes %q", n, title[:min(len(title), 40)])
				}
			},
		},
		{
			name: "body is cut between blocks with a notice",
			raw:  RawItem{GUID: "3", Title: "t", ContentHTML: strings.Repeat(para, 20_000)}, // 12 MB
			check: func(t *testing.T, _, summary, body string, _ []string) {
				if len(body) > lim.BodyBytes {
					t.Errorf("body %d bytes, want at most %d", len(body), lim.BodyBytes)
				}
				if !strings.HasSuffix(body, TruncatedNotice) {
					t.Errorf("body does not end with the notice: …%s", body[max(0, len(body)-80):])
				}
				rest := strings.TrimSuffix(body, TruncatedNotice)
				if strings.Count(rest, "<p>") != strings.Count(rest, "</p>") || !strings.HasSuffix(rest, "</p>") || strings.Count(rest, "<p>") < 2 {
					t.Errorf("body not cut at a block boundary: …%s", rest[max(0, len(rest)-80):])
				}
				if n := utf8.RuneCountInString(summary); n > lim.SummaryChars {
					t.Errorf("summary %d runes, want at most %d", n, lim.SummaryChars)
				}
			},
		},
		{
			name: "one block larger than the allowance keeps its head as text",
			raw:  RawItem{GUID: "4", Title: "t", ContentHTML: "<div>" + strings.Repeat("正文", 1_000_000) + "</div>"},
			check: func(t *testing.T, _, _, body string, _ []string) {
				if len(body) > lim.BodyBytes || !strings.HasSuffix(body, TruncatedNotice) || !strings.HasPrefix(body, "<p>正文") {
					t.Errorf("body %d bytes: %.60q…", len(body), body)
				}
			},
		},
		{
			name: "plain-text body is cut between lines",
			raw:  RawItem{GUID: "5", Title: "t", Summary: strings.Repeat("一行纯文本的正文内容\n", 100_000)},
			check: func(t *testing.T, _, _, body string, _ []string) {
				if len(body) > lim.BodyBytes || !strings.HasSuffix(body, TruncatedNotice) {
					t.Errorf("body %d bytes, ends %q", len(body), body[max(0, len(body)-40):])
				}
			},
		},
		{
			name: "tags are capped in number and length",
			raw:  RawItem{GUID: "6", Title: "t", Categories: append([]string{strings.Repeat("类", 5000)}, manyCats...)},
			check: func(t *testing.T, _, _, _ string, tags []string) {
				if len(tags) != lim.Tags {
					t.Errorf("%d tags, want %d", len(tags), lim.Tags)
				}
				if n := utf8.RuneCountInString(tags[0]); n > maxTagChars {
					t.Errorf("first tag %d runes, want at most %d", n, maxTagChars)
				}
			},
		},
		{
			name: "a short post is untouched",
			raw:  RawItem{GUID: "7", Title: "肇庆新闻", ContentHTML: para, Categories: []string{"a", "b"}},
			check: func(t *testing.T, title, _, body string, tags []string) {
				if title != "肇庆新闻" || strings.Contains(body, "rest is in the original") || len(tags) != 2 {
					t.Errorf("title %q, tags %v, body %q", title, tags, body)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := n.Normalize(src, nil, tt.raw, now)
			tt.check(t, it.Title, it.Summary, it.ContentHTML, it.Categories)
			if k := n.Key(src, nil, tt.raw, now); k != it.Key {
				t.Errorf("Key %q differs from the normalised item's %q", k, it.Key)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	n := NewNormalizer()
	it := n.Normalize(config.Source{ID: "s"}, nil, RawItem{GUID: "g", Title: strings.Repeat("x", 10_000),
		ContentHTML: strings.Repeat("<p>"+strings.Repeat("y", 1000)+"</p>", 1000)}, time.Now())
	if utf8.RuneCountInString(it.Title) != DefaultTitleChars {
		t.Errorf("title %d runes, want %d", utf8.RuneCountInString(it.Title), DefaultTitleChars)
	}
	if len(it.ContentHTML) > DefaultBodyBytes || !strings.HasSuffix(it.ContentHTML, TruncatedNotice) {
		t.Errorf("body %d bytes, want at most %d with the notice", len(it.ContentHTML), DefaultBodyBytes)
	}
}
