package model

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var xuPublished = time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC)

func xuItem() Item {
	return Item{
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
		State:         StateReady,
		TitleEN:       "Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion and inspection activities",
		SummaryEN:     "On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen.",
		ContentHTMLEN: "<p>On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen.</p><p>City leaders attended.</p>",
		TranslatedBy:  "deepl",
		TranslatedAt:  xuPublished.Add(20 * time.Minute),
		ReadyAt:       xuPublished.Add(20 * time.Minute),
	}
}

func TestEnglishOf(t *testing.T) {
	xu := xuItem()
	untranslated := xuItem()
	untranslated.Untranslated = true
	untranslated.TranslatedBy = ""
	untranslated.TitleEN, untranslated.SummaryEN, untranslated.ContentHTMLEN = "", "", ""
	english := Item{Title: "Guangdong opens new port", Summary: "", ContentHTML: "<p>The port opened on Monday.</p>", Language: "en"}
	titleOnly := xuItem()
	titleOnly.TitleOnly = true
	titleOnly.ContentHTMLEN, titleOnly.SummaryEN = "", ""
	noSummary := xuItem()
	noSummary.SummaryEN = ""
	waiting := xuItem() // not translated yet (still translating)
	waiting.TranslatedBy, waiting.TitleEN, waiting.SummaryEN, waiting.ContentHTMLEN = "", "", "", ""
	untitled := Item{Language: "zh", ContentHTML: "<p>正文。</p>"}
	untitledFailed := untitled
	untitledFailed.Untranslated = true
	titleOnlyNoEN := titleOnly
	titleOnlyNoEN.TitleEN = ""
	markup := english
	markup.Title = "Notice on <Rules> &amp; fees\n  (2023)"
	type out struct {
		Title, Summary, HTML string
		Translated           bool
		Notice               string
	}
	cases := []struct {
		name string
		in   Item
		want out
	}{
		{"translated", xu, out{xu.TitleEN, xu.SummaryEN, xu.ContentHTMLEN, true, "Machine-translated from Chinese by deepl."}},
		{"untranslated", untranslated, out{"[untranslated] " + xu.Title, xu.Summary, xu.ContentHTML, false, "[untranslated] Machine translation failed; shown in the original Chinese."}},
		{"english source", english, out{english.Title, "The port opened on Monday.", english.ContentHTML, false, "Originally published in English; not translated."}},
		{"title only", titleOnly, out{xu.TitleEN, xu.Summary, xu.ContentHTML, false, "Title machine-translated from Chinese by deepl; the text is shown in the original Chinese until its translation is done."}},
		{"waiting for translation", waiting, out{xu.Title, xu.Summary, xu.ContentHTML, false, "Not translated; shown in the original Chinese."}},
		{"untitled", untitled, out{Untitled, "正文。", untitled.ContentHTML, false, "Not translated; shown in the original Chinese."}},
		{"untitled and failed", untitledFailed, out{"[untranslated] " + Untitled, "正文。", untitled.ContentHTML, false, "[untranslated] Machine translation failed; shown in the original Chinese."}},
		{"title only without an English title", titleOnlyNoEN, out{xu.Title, xu.Summary, xu.ContentHTML, false, "Title machine-translated from Chinese by deepl; the text is shown in the original Chinese until its translation is done."}},
		{"title is plain text, never parsed", markup, out{"Notice on <Rules> &amp; fees (2023)", "The port opened on Monday.", english.ContentHTML, false, "Originally published in English; not translated."}},
		{"summary derived", noSummary, out{xu.TitleEN, "On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen. City leaders attended.", xu.ContentHTMLEN, true, "Machine-translated from Chinese by deepl."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := EnglishOf(tc.in)
			got := out{e.Title, e.Summary, e.HTML, e.Translated, e.Notice}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     string
	}{
		{"blocks", "<p>One</p><p>Two <b>b</b>old</p>", 0, "One Two bold"},
		{"script dropped", "<p>A</p><script>var x=1;</script><p>B</p>", 0, "A B"},
		{"chinese lines joined", "<p>今天\n天气</p>", 0, "今天天气"},
		{"cut at word", "<p>alpha beta gamma delta</p>", 12, "alpha beta…"},
		{"entities", "<p>a &amp; b &lt; c</p>", 0, "a & b < c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlainText(tc.in, tc.max); got != tc.want {
				t.Errorf("PlainText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

// FuzzPlainText checks that PlainText never panics and respects its limit.
func FuzzPlainText(f *testing.F) {
	f.Add("<p>a</p>b<div>c</div>", 10)
	f.Add("<table><tr><td>今天\n天气</table>", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1000 {
			return
		}
		out := PlainText(s, max)
		if max > 0 && len([]rune(out)) > max+1 {
			t.Errorf("PlainText(%q, %d) has %d runes", s, max, len([]rune(out)))
		}
	})
}

func TestEnglishOfOriginalTitle(t *testing.T) {
	xu := xuItem()
	failed := xuItem()
	failed.Untranslated, failed.TranslatedBy = true, ""
	english := Item{Title: "Guangdong opens new port", Language: "en"}
	cases := []struct {
		name string
		in   Item
		want string
	}{
		{"translated: the original beside it", xu, xu.Title},
		{"failed: the title is the original", failed, ""},
		{"english source", english, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := EnglishOf(tc.in).OriginalTitle; got != tc.want {
				t.Errorf("OriginalTitle %q, want %q", got, tc.want)
			}
		})
	}
}
