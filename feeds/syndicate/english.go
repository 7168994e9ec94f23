package syndicate

import (
	"strings"
	"unicode/utf8"

	"github.com/transfeed/transfeed/store"
	"golang.org/x/net/html"
)

// UntranslatedMark prefixes the title of a post published in its original
// language because its translation failed (on_failure: original).
const UntranslatedMark = "[untranslated]"

// SummaryRunes is the length of a summary derived from a body.
const SummaryRunes = 300

// EnglishOf returns the text of a ready item as every republishing surface
// (feeds, reading site, Telegram) shows it, so they all agree:
//
//   - translated items (TranslatedBy set): TitleEN, SummaryEN and
//     ContentHTMLEN; a missing English summary is derived from the English
//     body. translated is true.
//   - items published untranslated after a failure (Untranslated):
//     "[untranslated] " + the original title, the original summary and body.
//     translated is false.
//   - title-only translations (TitleOnly, budget reached): the English title
//     with the original summary and body. translated is false: a post is never
//     presented as translated when only part of it is.
//   - items that needed no translation (English sources: TranslatedBy "" and
//     Language "en") and any other item without a translation: the original
//     fields. translated is false.
//
// html is returned as stored (sanitised at ingestion); callers that render it
// must sanitise it again. Use Notice for the matching one-line explanation.
func EnglishOf(it store.Item) (title, summary, html string, translated bool) {
	switch {
	case it.Untranslated:
		return markUntranslated(it.Title), orSummary(it.Summary, it.ContentHTML), it.ContentHTML, false
	case it.TranslatedBy == "":
		return it.Title, orSummary(it.Summary, it.ContentHTML), it.ContentHTML, false
	case it.TitleOnly:
		t := it.TitleEN
		if t == "" {
			t = it.Title
		}
		return t, orSummary(it.Summary, it.ContentHTML), it.ContentHTML, false
	}
	title = it.TitleEN
	if title == "" {
		title = it.Title
	}
	html = it.ContentHTMLEN
	summary = orSummary(it.SummaryEN, html)
	return title, summary, html, true
}

// Notice is the one-line explanation of how an item's text came to be in
// English, shown with every post ("Machine-translated from Chinese by
// deepl."). It agrees with EnglishOf.
func Notice(it store.Item) string {
	lang := LanguageName(it.Language)
	switch {
	case it.Untranslated:
		return UntranslatedMark + " Machine translation failed; shown in the original " + lang + "."
	case it.TranslatedBy == "" && strings.HasPrefix(strings.ToLower(it.Language), "en"):
		return "Originally published in English; not translated."
	case it.TranslatedBy == "":
		return "Not translated; shown in the original " + lang + "."
	case it.TitleOnly:
		return "Title machine-translated from " + lang + " by " + it.TranslatedBy + "; the text is shown in the original " + lang + " until its translation is done."
	}
	return "Machine-translated from " + lang + " by " + it.TranslatedBy + "."
}

// LanguageName names a language code for the notice ("zh" → "Chinese").
func LanguageName(code string) string {
	base, _, _ := strings.Cut(strings.ToLower(code), "-")
	switch base {
	case "zh", "":
		// Sources are Chinese unless detected otherwise.
		return "Chinese"
	case "en":
		return "English"
	case "ja":
		return "Japanese"
	case "ko":
		return "Korean"
	case "fr":
		return "French"
	case "de":
		return "German"
	case "es":
		return "Spanish"
	case "ru":
		return "Russian"
	}
	return "language " + code
}

func markUntranslated(title string) string {
	if strings.HasPrefix(title, UntranslatedMark) {
		return title
	}
	return UntranslatedMark + " " + title
}

func orSummary(summary, body string) string {
	if s := strings.TrimSpace(summary); s != "" {
		return s
	}
	return PlainText(body, SummaryRunes)
}

// PlainText returns the text of an HTML fragment with whitespace collapsed,
// cut at a word or rune boundary to at most max runes (0: no limit), with
// "…" when cut. Block elements are separated by a space.
func PlainText(fragment string, max int) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(fragment))
	sep := false // a separator is due before the next word
	skip := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		switch tt {
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "template":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "b", "i", "em", "strong", "span", "a", "u", "s", "sub", "sup", "small", "code", "font", "abbr", "mark", "q", "time":
				// inline: no separator
			default:
				sep = true
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			if text != "" && isSpace(text[0]) {
				sep = true
			}
			for _, f := range strings.Fields(text) {
				if sep && b.Len() > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(f)
				sep = true
			}
			sep = text != "" && isSpace(text[len(text)-1])
		}
		if max > 0 && b.Len() > max*8 {
			break
		}
	}
	return cut(joinCJK(b.String()), max)
}

// joinCJK removes spaces that Fields put between two CJK characters: Chinese
// text has no word spaces, so "今天 天气" came from a line break.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func joinCJK(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i, r := range rs {
		if r == ' ' && i > 0 && i+1 < len(rs) && isCJK(rs[i-1]) && isCJK(rs[i+1]) {
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

func isCJK(r rune) bool {
	return (r >= 0x3000 && r <= 0x9FFF) || (r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFF00 && r <= 0xFFEF) || (r >= 0x20000 && r <= 0x2FA1F)
}

func cut(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	rs := []rune(s)[:max]
	// Prefer a word boundary in the last fifth for Latin text.
	for i := len(rs) - 1; i > max*4/5; i-- {
		if rs[i] == ' ' {
			rs = rs[:i]
			break
		}
	}
	return strings.TrimRight(string(rs), " ,;:") + "…"
}
