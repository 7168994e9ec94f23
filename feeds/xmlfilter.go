package feeds

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// dropInvalidXMLChars removes what XML 1.0 forbids and a lenient reader can
// drop without losing anything a reader wants: raw C0 control characters
// (other than tab, LF and CR), U+FFFE and U+FFFF, and numeric character
// references to such characters or to surrogates (&#xFFFE;, &#1;,
// &#xD800;). One of them anywhere would otherwise reject the whole feed.
// body is UTF-8; it is returned as is (no copy) when it holds none.
func dropInvalidXMLChars(body []byte) []byte {
	// Dropping can join what surrounded a reference into a new one
	// ("&&#1;#1;"): repeat until none is left (each pass shortens body).
	for hasInvalidXML(body) {
		body = dropInvalidOnce(body)
	}
	return body
}

func dropInvalidOnce(body []byte) []byte {
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			i++
			continue
		case c == 0xEF && i+2 < len(body) && body[i+1] == 0xBF && (body[i+2] == 0xBE || body[i+2] == 0xBF):
			i += 3
			continue
		case c == '&' && i+2 < len(body) && body[i+1] == '#':
			if n, ok := invalidCharRef(body[i:]); ok {
				i += n
				continue
			}
		}
		out = append(out, c)
		i++
	}
	return out
}

// hasInvalidXML is the quick check of dropInvalidXMLChars.
func hasInvalidXML(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return true
		}
		if c == '&' && i+2 < len(b) && b[i+1] == '#' {
			if _, ok := invalidCharRef(b[i:]); ok {
				return true
			}
		}
	}
	return false
}

// invalidCharRef reports whether b starts with a numeric character
// reference to a character XML forbids, and its length.
func invalidCharRef(b []byte) (int, bool) {
	end := bytes.IndexByte(b[:min(len(b), 16)], ';')
	if end < 3 {
		return 0, false
	}
	digits, base := b[2:end], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil {
		return end + 1, true // &#99999999999; is no character at all
	}
	return end + 1, !validXMLChar(rune(v))
}

// validXMLChar is XML 1.0's Char production.
func validXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return r <= utf8.MaxRune
}

// maxXMLDepth is the deepest element nesting a feed may have. Real feeds
// nest a few levels (XHTML content a few dozen); a document nested
// thousands of levels deep costs the XML parser hundreds of megabytes.
const maxXMLDepth = 256

// xmlTooDeep reports whether an XML document nests elements deeper than
// max. It scans the bytes once without allocating: start tags count up,
// end tags down; self-closing tags, comments, CDATA, processing
// instructions and declarations count nothing.
func xmlTooDeep(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '<' || i+1 >= len(b) {
			continue
		}
		switch c := b[i+1]; {
		case c == '/':
			depth--
			i = skipTo(b, i+2, ">")
		case c == '?':
			i = skipTo(b, i+2, "?>")
		case c == '!':
			switch {
			case bytes.HasPrefix(b[i:], []byte("<!--")):
				i = skipTo(b, i+4, "-->")
			case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
				i = skipTo(b, i+9, "]]>")
			default:
				i = skipTo(b, i+2, ">")
			}
		default:
			end := skipTag(b, i+1)
			if end > 0 && b[end-1] != '/' {
				depth++
				if depth > max {
					return true
				}
			}
			i = end
		}
	}
	return false
}

// skipTo returns the index of the last byte of the next sep at or after i
// (len(b) when there is none).
func skipTo(b []byte, i int, sep string) int {
	if i > len(b) {
		return len(b)
	}
	j := bytes.Index(b[i:], []byte(sep))
	if j < 0 {
		return len(b)
	}
	return i + j + len(sep) - 1
}

// skipTag returns the index of the '>' ending the tag whose name starts at
// i, skipping quoted attribute values (len(b) when unterminated).
func skipTag(b []byte, i int) int {
	var quote byte
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return len(b)
}
