package store_test

import (
	"strings"
	"testing"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// TestSnippetTextOf: the snippet text is the indexed text with each body
// cut where model.PlainText cuts it, titles whole.
func TestSnippetTextOf(t *testing.T) {
	long := model.Item{
		ID: 1, Title: "粤港澳大湾区建设", Summary: "大湾区",
		ContentHTML:   "<p>" + strings.Repeat("粤港澳大湾区建设，", 400) + "</p>",
		TitleEN:       "Building the Greater Bay Area",
		ContentHTMLEN: "<p>" + strings.Repeat("Investment in the bay area grows. ", 200) + "</p>",
		TranslatedBy:  "deepl",
	}
	short := long
	short.ContentHTML, short.ContentHTMLEN = "<p>短文。</p>", "<p>A short post.</p>"
	untranslated := long
	untranslated.TranslatedBy, untranslated.TitleEN, untranslated.ContentHTMLEN = "", "", ""
	summaryOnly := long
	summaryOnly.ContentHTML, summaryOnly.ContentHTMLEN, summaryOnly.SummaryEN = "", "", "The bay area."
	cases := []struct {
		name       string
		it         model.Item
		max        int
		cut, zhCut bool // whether the English, the Chinese body is cut
	}{
		{"long, cut", long, 100, true, true},
		{"long, cut short", long, 10, true, true},
		{"no limit", long, 0, false, false},
		{"short, whole", short, 100, false, false},
		{"untranslated", untranslated, 50, true, false}, // one body: the original
		{"summary only", summaryOnly, 20, false, false}, // the stored summaries, whole
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			whole, got := store.SearchTextOf(tc.it), store.SnippetTextOf(tc.it, tc.max)
			if got.Title != whole.Title || got.OriginalTitle != whole.OriginalTitle {
				t.Errorf("titles %q, %q; want the indexed %q, %q", got.Title, got.OriginalTitle, whole.Title, whole.OriginalTitle)
			}
			for _, b := range []struct{ name, got, whole string }{{"body", got.Body, whole.Body}, {"original body", got.OriginalBody, whole.OriginalBody}} {
				if !strings.HasPrefix(b.whole, strings.TrimSuffix(b.got, "…")) {
					t.Errorf("%s %q is not the start of the indexed %q", b.name, b.got, b.whole)
				}
				if cut := strings.HasSuffix(b.got, "…") && !strings.HasSuffix(b.whole, "…"); cut != (b.got != b.whole) {
					t.Errorf("%s cut %v but differs %v: %q", b.name, cut, b.got != b.whole, b.got)
				}
			}
			if (got.Body != whole.Body) != tc.cut || (got.OriginalBody != whole.OriginalBody) != tc.zhCut {
				t.Errorf("cut %v, %v; want %v, %v", got.Body != whole.Body, got.OriginalBody != whole.OriginalBody, tc.cut, tc.zhCut)
			}
			for _, b := range []string{got.Body, got.OriginalBody} {
				if n := len([]rune(b)); tc.max > 0 && n > tc.max+1 {
					t.Errorf("a body has %d runes, more than %d and \"…\": %q", n, tc.max, b)
				}
			}
		})
	}
}
