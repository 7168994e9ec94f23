package translate

import (
	"strings"
	"unicode"

	"github.com/transfeed/transfeed/model"
)

// chineseShare is the share of Han characters among letters above which a
// text counts as Chinese. Chinese government posts quote Latin acronyms
// (GDP, 5G, APEC) but stay far above it; English posts that name a place in
// characters stay far below it.
const chineseShare = 0.3

func containsHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

// HanShare returns the share of Han characters among the letters of s
// (Han characters plus letters of other scripts), 0 when s has no letters.
func HanShare(s string) float64 {
	han, letters := 0, 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(han) / float64(letters)
}

// LooksChinese reports whether a text is mainly Chinese.
func LooksChinese(s string) bool {
	return HanShare(s) >= chineseShare
}

// NeedsTranslation reports whether an item must go through translation
// under a source's translate mode: "always", "never" or "auto" (the
// default; any other value counts as auto). Auto translates an item whose
// title, or summary (when there is none, body), is mainly Chinese — each
// field is judged on its own, so a Chinese title over an English body is
// translated (the engine sends only the parts with Han characters) — or
// whose language says Chinese and whose text has any Han character. The
// language tag alone is not trusted: RSSHub labels every feed "en".
func NeedsTranslation(mode string, it model.Item) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	text := strings.TrimSpace(it.Title + "\n" + it.Summary)
	if text == "" {
		text = htmlText(it.ContentHTML)
	}
	lang := strings.ToLower(it.Language)
	if (lang == "zh" || strings.HasPrefix(lang, "zh-")) && containsHan(text+it.ContentHTML) {
		return true
	}
	if LooksChinese(it.Title) {
		return true
	}
	body := strings.TrimSpace(it.Summary)
	if body == "" {
		body = htmlText(it.ContentHTML)
	}
	return LooksChinese(body) || LooksChinese(text)
}
