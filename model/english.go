package model

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// UntranslatedMark prefixes the title of a post published in its original
// language because its translation failed (on_failure: original).
const UntranslatedMark = "[untranslated]"

// SummaryRunes is the length of a summary derived from a body.
const SummaryRunes = 300

// Untitled is the title shown for a post that has none in any language.
const Untitled = "(untitled)"

// English is a post as every republishing surface (feeds, reading site,
// Telegram, `items`) shows it. Title, Summary and OriginalTitle are plain
// text; HTML is the body as stored (sanitised at ingestion; callers that
// render it sanitise it again).
type English struct {
	Title   string
	Summary string
	HTML    string
	// Translated is true only when title and body are both translated: a
	// post is never presented as translated when only part of it is.
	Translated bool
	// OriginalTitle is the original title when Title is a translation of it
	// ("" otherwise).
	OriginalTitle string
	// Notice is the one-line explanation of how the text came to be in
	// English (see Notice).
	Notice string
}

// EnglishOf is the one rule for the English of a post:
//
//   - translated items (TranslatedBy set): TitleEN, SummaryEN and
//     ContentHTMLEN; a missing English summary is derived from the English
//     body. Translated is true.
//   - items published untranslated after a failure (Untranslated):
//     "[untranslated] " + the original title, the original summary and body.
//   - title-only translations (TitleOnly, budget reached): the English title
//     with the original summary and body.
//   - items that needed no translation (English sources) and any other item
//     without a translation: the original fields.
//
// A title empty in every language is Untitled.
func EnglishOf(it Item) English {
	e := EnglishText(it)
	e.Summary = orSummary(e.Summary, e.HTML)
	e.Notice = Notice(it)
	return e
}

// EnglishText is EnglishOf without what it derives: Summary is the stored
// summary of the English (one line; empty when the post has none, where
// EnglishOf cuts one from the body) and Notice is empty. For callers that
// turn the body into text themselves (the search index, snippets) and
// would otherwise read it twice.
func EnglishText(it Item) English {
	orig := OneLine(it.Title)
	e := English{Title: orig, Summary: OneLine(it.Summary), HTML: it.ContentHTML}
	if it.TranslatedBy != "" && !it.Untranslated {
		e.Title = OneLine(FirstNonEmpty(it.TitleEN, it.Title))
		if !it.TitleOnly {
			e.Summary, e.HTML, e.Translated = OneLine(it.SummaryEN), it.ContentHTMLEN, true
		}
	}
	if e.Title != orig && orig != "" {
		e.OriginalTitle = orig
	}
	if e.Title == "" {
		e.Title = Untitled
	}
	if it.Untranslated {
		e.Title = markUntranslated(e.Title)
	}
	return e
}

// FirstNonEmpty returns the first of ss that is not empty or white space.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// Notice is the one-line explanation of how an item's text came to be in
// English, shown with every post ("Machine-translated from Chinese by
// deepl."). It agrees with EnglishOf.
func Notice(it Item) string {
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

// OneLine collapses every run of white space in a plain-text field (a
// title, a summary) to one space. It never parses the text as HTML: a title
// such as "Notice on <Rules> & fees" stays as written.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orSummary(summary, body string) string {
	if s := OneLine(summary); s != "" {
		return s
	}
	return PlainText(body, SummaryRunes)
}

// PlainText returns the text of an HTML fragment with whitespace collapsed,
// cut at a word or rune boundary to at most max runes (0: no limit), with
// "…" when cut. Block elements are separated by a space. Spaces the source
// put between Chinese words ("李琴雯 刘会") are kept; only a line break
// inside the text between two CJK characters is joined, since Chinese has
// no word spaces and the break only wrapped the line.
func PlainText(fragment string, max int) string {
	const (
		sepNone  = iota
		sepJoin  // whitespace with a line break: nothing between CJK, else a space
		sepSpace // a space, or a block boundary
	)
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(fragment))
	pending := sepNone
	var last rune
	skip, runes := 0, 0 // runes written to b
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
				pending = sepSpace
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			text := string(z.Text())
			for i := 0; i < len(text); {
				j := i
				newline := false
				for j < len(text) && isSpace(text[j]) {
					newline = newline || text[j] == '\n' || text[j] == '\r'
					j++
				}
				if j > i {
					kind := sepSpace
					if newline {
						kind = sepJoin
					}
					pending = maxInt(pending, kind)
					i = j
					continue
				}
				for j < len(text) && !isSpace(text[j]) {
					j++
				}
				word := text[i:j]
				if b.Len() > 0 && pending != sepNone {
					first, _ := utf8.DecodeRuneInString(word)
					if pending == sepSpace || !isCJK(last) || !isCJK(first) {
						b.WriteByte(' ')
						runes++
					}
				}
				pending = sepNone
				b.WriteString(word)
				runes += utf8.RuneCountInString(word)
				last, _ = utf8.DecodeLastRuneInString(word)
				i = j
			}
		}
		// Past max runes the rest cannot change what cut keeps.
		if max > 0 && runes > max {
			break
		}
	}
	return cut(b.String(), max)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isCJK(r rune) bool {
	return (r >= 0x3000 && r <= 0x9FFF) || (r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFF00 && r <= 0xFFEF) || (r >= 0x20000 && r <= 0x2FA1F)
}

// RuneHead is s's first n runes, and whether that is less than s. It reads
// only those runes: a post's whole body is not turned into []rune to keep
// its first few hundred.
func RuneHead(s string, n int) (string, bool) {
	i := 0
	for range n {
		if i >= len(s) {
			return s, false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], i < len(s)
}

func cut(s string, max int) string {
	if max <= 0 {
		return s
	}
	head, cut := RuneHead(s, max)
	if !cut {
		return s
	}
	rs := []rune(head)
	// Prefer a word boundary in the last fifth for Latin text.
	for i := len(rs) - 1; i > max*4/5; i-- {
		if rs[i] == ' ' {
			rs = rs[:i]
			break
		}
	}
	return strings.TrimRight(string(rs), " ,;:") + "…"
}
