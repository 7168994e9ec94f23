package tghtml

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Ellipsis ends a cut text.
const Ellipsis = "…"

// Units is the UTF-16 length of plain text s.
func Units(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

func runeUnits(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// Escape escapes plain text for Telegram HTML: <, > and & in text, and " as
// well so the result may also stand in an attribute value.
func Escape(s string) string {
	if !strings.ContainsAny(s, `<>&"`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Cut shortens valid Telegram HTML s so that its visible text has at most
// max UTF-16 units, ending the text with "…" (counted), and closes every tag
// left open, so the result parses whenever s does. Tags and entities are
// never split; the cut prefers a word boundary in the last fifth of the
// text. s is returned unchanged when it fits. An s that does not parse is
// cut as plain text after its markup is escaped.
func Cut(s string, max int) string {
	visible, err := Parse(s)
	if err != nil {
		return Escape(cutPlain(s, max))
	}
	if Units(visible) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	budget := max - Units(Ellipsis)
	var (
		b       strings.Builder
		stack   []string
		used    int
		lastSp  = -1 // b.Len() at the last space written in text
		spStack []string
	)
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			j := tagEnd(s, i) // s parses, so the tag ends
			tag := s[i:j]
			name, closing := tagName(tag)
			if closing {
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			} else {
				stack = append(stack, name)
			}
			b.WriteString(tag)
			i = j
		case '&':
			r, n, _ := parseEntity(s, i)
			u := runeUnits(r)
			if used+u > budget {
				return finish(&b, stack, lastSp, spStack, used, max)
			}
			if unicode.IsSpace(r) {
				lastSp, spStack = b.Len(), append([]string(nil), stack...)
			}
			b.WriteString(s[i:n])
			used += u
			i = n
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			u := runeUnits(r)
			if used+u > budget {
				return finish(&b, stack, lastSp, spStack, used, max)
			}
			if unicode.IsSpace(r) {
				lastSp, spStack = b.Len(), append([]string(nil), stack...)
			}
			b.WriteString(s[i : i+n])
			used += u
			i += n
		}
	}
	return s // not reached: s did not fit
}

// finish ends a cut: back to the last space when it is in the last fifth,
// trailing spaces and punctuation dropped, the ellipsis, open tags closed.
func finish(b *strings.Builder, stack []string, lastSp int, spStack []string, used, max int) string {
	out := b.String()
	if lastSp > 0 && used > 0 && Units(visibleOf(out[lastSp:])) <= max/5 {
		out, stack = out[:lastSp], spStack
	}
	out = strings.TrimRightFunc(out, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == ';' || r == ':' || r == '，' || r == '、'
	})
	// Trimming may have left an empty element open at the end; that is
	// still valid HTML for Telegram.
	return closeAll(out+Ellipsis, stack)
}

// visibleOf is the visible text of a fragment that may have unbalanced tags.
func visibleOf(frag string) string {
	var b strings.Builder
	for i := 0; i < len(frag); {
		switch frag[i] {
		case '<':
			j := tagEnd(frag, i)
			if j < 0 {
				return b.String()
			}
			i = j
		case '&':
			r, n, err := parseEntity(frag, i)
			if err != nil {
				b.WriteByte('&')
				i++
				continue
			}
			b.WriteRune(r)
			i = n
		default:
			b.WriteByte(frag[i])
			i++
		}
	}
	return b.String()
}

func closeAll(s string, stack []string) string {
	var b strings.Builder
	b.WriteString(s)
	for k := len(stack) - 1; k >= 0; k-- {
		b.WriteString("</" + stack[k] + ">")
	}
	return b.String()
}

// tagEnd returns the index after the tag starting at s[i] == '<', skipping
// quoted attribute values; -1 when it does not end.
func tagEnd(s string, i int) int {
	var q byte
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			return j + 1
		}
	}
	return -1
}

// tagName returns the lower-case name of a tag and whether it is an end tag.
func tagName(tag string) (string, bool) {
	t := strings.TrimPrefix(tag, "<")
	closing := strings.HasPrefix(t, "/")
	t = strings.TrimPrefix(t, "/")
	end := strings.IndexFunc(t, func(r rune) bool { return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-') })
	if end < 0 {
		end = len(t)
	}
	return strings.ToLower(t[:end]), closing
}

// cutPlain cuts plain text to max units with the ellipsis.
func cutPlain(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if Units(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	budget := max - Units(Ellipsis)
	n := 0
	for i, r := range s {
		if n+runeUnits(r) > budget {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + Ellipsis
		}
		n += runeUnits(r)
	}
	return s
}
