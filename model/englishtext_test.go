package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var plainTextInputs = []struct{ name, html string }{
	{"english", "<p>On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen.</p><p>City leaders attended.</p>"},
	{"chinese", "<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动。</p><p>市领导\n参加活动。</p>"},
	{"mixed", "<div>肇庆 Zhaoqing <b>大湾区</b> Greater Bay Area</div><script>var x = 1;</script><p>李琴雯 刘会</p>"},
	{"inline and entities", "<p>a &amp; b <em>c</em>d   e\n\nf</p>"},
	{"empty", ""},
	{"tags only", "<p></p><br/><div> </div>"},
	{"very long english", "<p>" + strings.Repeat("Investment in the bay area grows. ", 500) + "</p>"},
	{"very long chinese", "<p>" + strings.Repeat("粤港澳大湾区建设，", 800) + "</p>"},
	{"one long word", "<p>" + strings.Repeat("x", 3000) + "</p>"},
}

// TestPlainTextLimitIsCutOfWhole: PlainText stops reading at its limit and
// gives what cutting the whole text to that limit gives.
func TestPlainTextLimitIsCutOfWhole(t *testing.T) {
	for _, tc := range plainTextInputs {
		whole := PlainText(tc.html, 0)
		for _, max := range []int{1, 2, 5, 12, 40, 200, 1000, 3000, 100000} {
			if got, want := PlainText(tc.html, max), cut(whole, max); got != want {
				t.Errorf("%s, max %d: PlainText = %q, want %q (the whole text cut)", tc.name, max, got, want)
			}
		}
	}
}

// TestEnglishTextAgreesWithEnglishOf: EnglishText is EnglishOf but for the
// summary cut from the body and the notice.
func TestEnglishTextAgreesWithEnglishOf(t *testing.T) {
	xu := xuItem()
	untranslated := xuItem()
	untranslated.Untranslated, untranslated.TranslatedBy = true, ""
	titleOnly := xuItem()
	titleOnly.TitleOnly = true
	noSummary := xuItem()
	noSummary.Summary, noSummary.SummaryEN = "", ""
	pending := xuItem()
	pending.TranslatedBy, pending.TitleEN, pending.SummaryEN, pending.ContentHTMLEN = "", "", "", ""
	untitled := xuItem()
	untitled.Title, untitled.TitleEN = "", ""
	sameTitle := xuItem()
	sameTitle.TitleEN = sameTitle.Title
	cases := []struct {
		name    string
		it      Item
		summary string // EnglishText's: the stored one, of the language shown
	}{
		{"translated", xu, xu.SummaryEN},
		{"untranslated", untranslated, untranslated.Summary},
		{"title only", titleOnly, titleOnly.Summary},
		{"no summary", noSummary, ""},
		{"pending", pending, pending.Summary},
		{"untitled", untitled, untitled.SummaryEN},
		{"same title", sameTitle, sameTitle.SummaryEN},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			of, text := EnglishOf(tc.it), EnglishText(tc.it)
			if text.Summary != tc.summary {
				t.Errorf("EnglishText summary %q, want %q", text.Summary, tc.summary)
			}
			wantSummary := of.Summary
			if text.Summary == "" {
				// EnglishOf cut it from the body; EnglishText leaves that out.
				if want := PlainText(of.HTML, SummaryRunes); of.Summary != want {
					t.Errorf("EnglishOf summary %q is not the body's start %q", of.Summary, want)
				}
				wantSummary = ""
			}
			of.Summary, of.Notice = wantSummary, ""
			if diff := cmp.Diff(of, text); diff != "" {
				t.Errorf("EnglishText differs from EnglishOf (-EnglishOf +EnglishText):\n%s", diff)
			}
		})
	}
}
