// Package tghtml is Telegram's HTML parse mode: a parser as strict as the
// Bot API (stricter where Telegram is lenient), the length Telegram counts
// (UTF-16 code units of the visible text) and a cut that shortens a message
// to a limit without breaking its markup. It imports nothing of the module,
// so the config loader (template checks), the Telegram notifier and the
// strict fake Bot API all hold messages to the same rules.
package tghtml

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Telegram's limits, counted on the visible text (after entity parsing).
const (
	MaxTextLen    = 4096 // sendMessage.text
	MaxCaptionLen = 1024 // sendPhoto.caption
)

// ErrParse is wrapped by every error Parse returns.
var ErrParse = errors.New("can't parse entities")

// Parse parses s as Telegram HTML (parse_mode "HTML") the way the Bot API
// does, but stricter where Telegram is lenient: it returns the visible text
// (tags removed, entities decoded) or an error for anything Telegram would
// refuse — a tag outside Telegram's list, an attribute it does not know, an
// unclosed or misnested tag, an entity other than &lt; &gt; &amp; &quot; and
// numeric ones, a raw '<' or '&' in text, invalid UTF-8. It also refuses a
// raw '>' in text, which Telegram tolerates, so that our own output is held
// to "every other character escaped".
func Parse(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: text must be encoded in UTF-8", ErrParse)
	}
	var (
		out   strings.Builder
		stack []string
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			n, name, closing, err := parseTag(s, i, stack)
			if err != nil {
				return "", err
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("%w: unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", ErrParse, i, top(stack), name)
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, name)
			}
			i = n
		case '&':
			r, n, err := parseEntity(s, i)
			if err != nil {
				return "", err
			}
			out.WriteRune(r)
			i = n
		case '>':
			return "", fmt.Errorf("%w: unescaped '>' at byte offset %d", ErrParse, i)
		default:
			out.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("%w: can't find end tag corresponding to start tag \"%s\"", ErrParse, top(stack))
	}
	return out.String(), nil
}

// VisibleLen is the length Telegram checks against its limits: UTF-16 code
// units of the visible text (the safe reading of "characters").
func VisibleLen(visible string) int {
	n := 0
	for _, r := range visible {
		n += RuneUnits(r)
	}
	return n
}

// RuneUnits is the UTF-16 length of r: 2 above the Basic Multilingual
// Plane, else 1 (a rune UTF-16 cannot hold is sent as U+FFFD, 1 unit).
func RuneUnits(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// CheckMessage validates a message text (parseMode "HTML" or "") and its
// length: 1..MaxTextLen visible characters, not only whitespace.
func CheckMessage(text, parseMode string) error {
	return check(text, parseMode, 1, MaxTextLen, "message text")
}

// CheckCaption validates a photo caption: 0..MaxCaptionLen visible characters.
func CheckCaption(caption, parseMode string) error {
	return check(caption, parseMode, 0, MaxCaptionLen, "message caption")
}

func check(text, parseMode string, minLen, maxLen int, what string) error {
	visible := text
	switch parseMode {
	case "HTML":
		v, err := Parse(text)
		if err != nil {
			return err
		}
		visible = v
	case "":
		if !utf8.ValidString(text) {
			return fmt.Errorf("%w: text must be encoded in UTF-8", ErrParse)
		}
	default:
		return fmt.Errorf("unsupported parse_mode %q", parseMode)
	}
	if minLen > 0 && strings.TrimSpace(visible) == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if n := VisibleLen(visible); n > maxLen {
		return fmt.Errorf("%s is too long (%d > %d)", what, n, maxLen)
	}
	return nil
}

func top(stack []string) string {
	if len(stack) == 0 {
		return ""
	}
	return stack[len(stack)-1]
}

// formatting tags can contain, and be part of, anything except pre and code.
func isFormatting(name string) bool {
	switch name {
	case "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler":
		return true
	}
	return false
}

// canContain reports whether an open parent tag may contain child.
func canContain(parent, child string) bool {
	switch parent {
	case "code":
		return false
	case "pre":
		return child == "code"
	}
	switch child {
	case "pre", "code":
		return parent == "blockquote"
	case "blockquote":
		return false // blockquotes can't be nested, nor be part of other entities
	case "a":
		return parent != "a"
	case "tg-emoji", "tg-time":
		return parent != "a" && parent != "tg-emoji" && parent != "tg-time"
	}
	return isFormatting(child)
}

// parseTag parses the tag starting at s[i] == '<' and returns the index
// after it, the tag name and whether it is an end tag.
func parseTag(s string, i int, stack []string) (int, string, bool, error) {
	start := i
	i++
	closing := false
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '-' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	name := strings.ToLower(s[i:j])
	if name == "" {
		return 0, "", false, fmt.Errorf("%w: unescaped '<' at byte offset %d", ErrParse, start)
	}
	if !knownTag(name) {
		return 0, "", false, fmt.Errorf("%w: unsupported start tag \"%s\" at byte offset %d", ErrParse, name, start)
	}
	i = j
	if closing {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '>' {
			return 0, "", false, fmt.Errorf("%w: end tag \"%s\" is not closed at byte offset %d", ErrParse, name, start)
		}
		return i + 1, name, true, nil
	}
	for _, p := range stack {
		if !canContain(p, name) {
			return 0, "", false, fmt.Errorf("%w: tag \"%s\" can't be nested in \"%s\" at byte offset %d", ErrParse, name, p, start)
		}
	}
	attrs := map[string]string{}
	for {
		k := i
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return 0, "", false, fmt.Errorf("%w: unclosed start tag at byte offset %d", ErrParse, start)
		}
		if s[i] == '>' {
			i++
			break
		}
		if i == k {
			return 0, "", false, fmt.Errorf("%w: expected space or '>' in tag at byte offset %d", ErrParse, i)
		}
		a := i
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] == '-' || s[i] == '_') {
			i++
		}
		attr := strings.ToLower(s[a:i])
		if attr == "" {
			return 0, "", false, fmt.Errorf("%w: bad attribute at byte offset %d", ErrParse, i)
		}
		if _, dup := attrs[attr]; dup {
			return 0, "", false, fmt.Errorf("%w: duplicate attribute %q at byte offset %d", ErrParse, attr, a)
		}
		if i < len(s) && s[i] == '=' {
			i++
			if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
				return 0, "", false, fmt.Errorf("%w: attribute value must be quoted at byte offset %d", ErrParse, i)
			}
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return 0, "", false, fmt.Errorf("%w: unclosed attribute value at byte offset %d", ErrParse, i)
			}
			raw := s[i+1 : i+1+end]
			val, err := decodeAttr(raw, i+1)
			if err != nil {
				return 0, "", false, err
			}
			attrs[attr] = val
			i = i + 1 + end + 1
		} else {
			attrs[attr] = ""
		}
	}
	if err := checkAttrs(name, attrs, stack, start); err != nil {
		return 0, "", false, err
	}
	return i, name, false, nil
}

func knownTag(name string) bool {
	switch name {
	case "a", "code", "pre", "blockquote", "tg-emoji", "tg-time":
		return true
	}
	return isFormatting(name)
}

func checkAttrs(name string, attrs map[string]string, stack []string, at int) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %s in tag \"%s\" at byte offset %d", ErrParse, why, name, at)
	}
	allowed := map[string]bool{}
	switch name {
	case "a":
		allowed["href"] = true
		href, ok := attrs["href"]
		if !ok || strings.TrimSpace(href) == "" {
			return bad("missing href")
		}
		if strings.ContainsAny(href, " \n\t<>") {
			return bad("invalid URL")
		}
	case "span":
		allowed["class"] = true
		if attrs["class"] != "tg-spoiler" {
			return bad("span without class=\"tg-spoiler\"")
		}
	case "tg-emoji":
		allowed["emoji-id"] = true
		if _, err := strconv.ParseUint(attrs["emoji-id"], 10, 64); err != nil {
			return bad("invalid emoji-id")
		}
	case "tg-time":
		allowed["unix"], allowed["format"] = true, true
		if _, err := strconv.ParseInt(attrs["unix"], 10, 64); err != nil {
			return bad("invalid unix time")
		}
	case "code":
		allowed["class"] = true
		if c, ok := attrs["class"]; ok && (top(stack) != "pre" || !strings.HasPrefix(c, "language-")) {
			return bad("class is allowed only as language-* inside pre")
		}
	case "blockquote":
		allowed["expandable"] = true
		if v, ok := attrs["expandable"]; ok && v != "" {
			return bad("expandable takes no value")
		}
	}
	for k := range attrs {
		if !allowed[k] {
			return bad(fmt.Sprintf("unsupported attribute %q", k))
		}
	}
	return nil
}

func decodeAttr(raw string, at int) (string, error) {
	if !strings.ContainsAny(raw, "&<") {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '<':
			return "", fmt.Errorf("%w: unescaped '<' in attribute at byte offset %d", ErrParse, at+i)
		case '&':
			r, n, err := parseEntity(raw, i)
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i = n
		default:
			b.WriteByte(raw[i])
			i++
		}
	}
	return b.String(), nil
}

// parseEntity decodes the entity at s[i] == '&'.
func parseEntity(s string, i int) (rune, int, error) {
	end := strings.IndexByte(s[i:], ';')
	if end < 0 || end > 12 {
		return 0, 0, fmt.Errorf("%w: unescaped '&' at byte offset %d", ErrParse, i)
	}
	body := s[i+1 : i+end]
	next := i + end + 1
	switch body {
	case "lt":
		return '<', next, nil
	case "gt":
		return '>', next, nil
	case "amp":
		return '&', next, nil
	case "quot":
		return '"', next, nil
	}
	if num, ok := strings.CutPrefix(body, "#"); ok {
		base := 10
		if h, ok := strings.CutPrefix(num, "x"); ok {
			num, base = h, 16
		} else if h, ok := strings.CutPrefix(num, "X"); ok {
			num, base = h, 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err == nil && v != 0 && v <= utf8.MaxRune && !(v >= 0xD800 && v <= 0xDFFF) {
			return rune(v), next, nil
		}
		return 0, 0, fmt.Errorf("%w: invalid numeric entity at byte offset %d", ErrParse, i)
	}
	return 0, 0, fmt.Errorf("%w: unsupported HTML entity \"&%s;\" at byte offset %d", ErrParse, body, i)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
