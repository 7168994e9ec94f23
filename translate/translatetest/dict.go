// Package translatetest holds test helpers shared by the translation
// providers and by end-to-end tests: a deterministic dictionary "engine"
// (Translate), fake servers that speak each provider's wire format and fail
// the test on a malformed request, and a secret-leak assertion.
package translatetest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// dictionary returns the fake engine's word list. It is a function, not a
// package variable, so there is no package-level mutable state.
func dictionary() map[string]string {
	return map[string]string{
		"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area",
		"大湾区":    "Dawan District",
		"肇庆":     "Zhaoqing",
		"肇庆市":    "Zhaoqing City",
		"许晓雄":    "Xu Xiaoxiong",
		"招商":     "investment promotion",
		"招商引资":   "investment attraction",
		"广东":     "Guangdong",
		"广东省":    "Guangdong Province",
		"国务院":    "State Council",
		"常务会议":   "executive meeting",
		"会议":     "meeting",
		"市委":     "municipal Party committee",
		"市政府":    "municipal government",
		"政府":     "government",
		"书记":     "secretary",
		"市长":     "mayor",
		"副市长":    "vice mayor",
		"主持":     "presided over",
		"召开":     "held",
		"出席":     "attended",
		"调研":     "inspected",
		"项目":     "project",
		"重点项目":   "key project",
		"企业":     "enterprise",
		"经济":     "economy",
		"发展":     "development",
		"高质量":    "high-quality",
		"产业":     "industry",
		"新能源":    "new energy",
		"汽车":     "automobile",
		"投资":     "investment",
		"亿元":     "hundred million yuan",
		"万元":     "ten thousand yuan",
		"元":      "yuan",
		"签约":     "signed",
		"合作":     "cooperation",
		"建设":     "construction",
		"工作":     "work",
		"通知":     "notice",
		"公告":     "announcement",
		"关于":     "on",
		"印发":     "issuing",
		"新闻":     "news",
		"发布会":    "press conference",
		"我市":     "our city",
		"全市":     "the whole city",
		"年":      "year",
		"月":      "month",
		"日":      "day",
		"第":      "No.",
		"和":      "and",
		"与":      "and",
		"的":      "of",
		"在":      "in",
		"是":      "is",
		"了":      "",
		"个":      "",
	}
}

// punctuation maps full-width punctuation to ASCII.
func punctuation(r rune) (string, bool) {
	switch r {
	case '，', '、':
		return ",", true
	case '。':
		return ".", true
	case '：':
		return ":", true
	case '；':
		return ";", true
	case '！':
		return "!", true
	case '？':
		return "?", true
	case '（':
		return "(", true
	case '）':
		return ")", true
	case '“', '”', '《', '》', '「', '」':
		return `"`, true
	case '—':
		return "-", true
	case '　':
		return " ", true
	}
	return "", false
}

// Translate is the fake engine every fake server uses: Chinese words of a
// small dictionary become English (大湾区 → "Dawan District", 肇庆 →
// "Zhaoqing", 许晓雄 → "Xu Xiaoxiong", 招商 → "investment promotion", …),
// longest match first; full-width punctuation becomes ASCII; digits, Latin
// text, HTML tags (with their attributes) and character references are
// copied through unchanged (Han characters inside a tag, say in an alt
// attribute, stay as they are). A Han character not in the dictionary becomes
// "u" plus its hex code point (未 → "u672a"), so the output never contains
// Han characters and is deterministic.
func Translate(zh string) string {
	dict := dictionary()
	maxLen := 0
	for k := range dict {
		maxLen = max(maxLen, utf8.RuneCountInString(k))
	}
	var out strings.Builder
	// afterWord: the last text written (HTML tags aside) ends in a word
	// character.
	afterWord := false
	// word writes an English word, separated by a space from a preceding
	// word, even when a tag lies between them.
	word := func(w string) {
		if w == "" {
			return
		}
		if first, _ := utf8.DecodeRuneInString(w); afterWord && isWordRune(first) {
			out.WriteByte(' ')
		}
		out.WriteString(w)
		last, _ := utf8.DecodeLastRuneInString(w)
		afterWord = isWordRune(last)
	}
	rs := []rune(zh)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '<' && isTagStart(rs[i+1:]):
			end := i + 1
			for end < len(rs) && rs[end] != '>' && rs[end] != '<' {
				end++
			}
			if end < len(rs) && rs[end] == '>' {
				out.WriteString(string(rs[i : end+1]))
				i = end + 1
				continue
			}
		case unicode.Is(unicode.Han, r):
			matched := false
			for n := min(maxLen, len(rs)-i); n > 0; n-- {
				if en, ok := dict[string(rs[i:i+n])]; ok {
					word(en)
					i += n
					matched = true
					break
				}
			}
			if !matched {
				word(fmt.Sprintf("u%04x", r))
				i++
			}
			continue
		}
		if p, ok := punctuation(r); ok {
			out.WriteString(p)
			afterWord = false
			if strings.Contains(",.:;!?)", p) && i+1 < len(rs) && !unicode.IsSpace(rs[i+1]) && rs[i+1] != '<' {
				out.WriteByte(' ')
			}
			i++
			continue
		}
		if isWordRune(r) {
			// Latin words and numbers: copy the whole run, spaced from a
			// preceding English word.
			end := i
			for end < len(rs) && (isWordRune(rs[end]) && !unicode.Is(unicode.Han, rs[end]) || rs[end] == '.' && end+1 < len(rs) && unicode.IsDigit(rs[end+1])) {
				end++
			}
			word(string(rs[i:end]))
			i = end
			continue
		}
		out.WriteRune(r)
		afterWord = false
		i++
	}
	return strings.TrimRight(out.String(), " \t\n\r") + trailingSpace(zh)
}

// trailingSpace keeps the input's trailing ASCII white space, which the
// punctuation spacing above may have trimmed.
func trailingSpace(s string) string {
	t := strings.TrimRight(s, " \t\n\r")
	return s[len(t):]
}

// isTagStart reports whether the text after a '<' starts a tag, a closing
// tag or a comment/doctype.
func isTagStart(rest []rune) bool {
	if len(rest) == 0 {
		return false
	}
	c := rest[0]
	return c == '/' || c == '!' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// TranslateAll applies Translate to each text.
func TranslateAll(texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = Translate(t)
	}
	return out
}
