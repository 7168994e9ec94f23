package feeds

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// sniffLen is how far into a body charset declarations are looked for.
// Gov pages often put <meta charset> after 1 KB of comments and scripts.
const sniffLen = 4096

var (
	xmlPrologRe   = regexp.MustCompile(`^\s*<\?xml[^>]*?\?>`)
	xmlEncodingRe = regexp.MustCompile(`(?i)\sencoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']`)
	metaCharsetRe = regexp.MustCompile(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)`)
)

// DecodeToUTF8 returns body as UTF-8. A valid UTF-8 body is returned as is
// (minus a BOM). Otherwise the charset is taken from the HTTP Content-Type,
// the XML prolog or a <meta> tag (first 4 KB); GBK/GB2312 labels decode as
// GB18030 (a superset); without a usable label GB18030 is assumed. An XML
// prolog's encoding attribute is always removed, so that a parser does not
// decode the text a second time. The result is always valid UTF-8.
func DecodeToUTF8(body []byte, contentType string) []byte {
	body = decodeBody(body, contentType)
	return stripPrologEncoding(body)
}

func decodeBody(body []byte, contentType string) []byte {
	switch {
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		body = body[3:]
		if utf8.Valid(body) {
			return body
		}
		return []byte(strings.ToValidUTF8(string(body), "\uFFFD"))
	case bytes.HasPrefix(body, []byte("\xFE\xFF")), bytes.HasPrefix(body, []byte("\xFF\xFE")):
		out, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder().Bytes(body)
		if err == nil {
			return out
		}
	}
	if utf8.Valid(body) {
		return body
	}
	enc := sniffEncoding(body, contentType)
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil || !utf8.Valid(out) {
		out, err = simplifiedchinese.GB18030.NewDecoder().Bytes(body)
		if err != nil {
			return []byte(strings.ToValidUTF8(string(body), "\uFFFD"))
		}
	}
	return out
}

// sniffEncoding picks the encoding of a body known not to be UTF-8.
func sniffEncoding(body []byte, contentType string) encoding.Encoding {
	head := body[:min(len(body), sniffLen)]
	var labels []string
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		labels = append(labels, params["charset"])
	}
	if m := xmlPrologRe.Find(head); m != nil {
		if e := xmlEncodingRe.FindSubmatch(m); e != nil {
			labels = append(labels, string(e[1]))
		}
	}
	if m := metaCharsetRe.FindSubmatch(head); m != nil {
		labels = append(labels, string(m[1]))
	}
	var western encoding.Encoding
	for _, l := range labels {
		enc, name := charset.Lookup(strings.TrimSpace(l))
		if enc == nil {
			continue
		}
		switch name {
		case "utf-8", "utf-16be", "utf-16le", "replacement":
			// The body is not valid UTF-8, so this label is wrong.
			continue
		case "gbk", "gb18030":
			return simplifiedchinese.GB18030
		case "windows-1252", "iso-8859-1", "iso-8859-15", "us-ascii":
			// Servers default to Latin-1 in headers; a document's own
			// Chinese declaration is more credible, so keep looking.
			if western == nil {
				western = enc
			}
			continue
		}
		return enc
	}
	if western != nil {
		return western
	}
	return simplifiedchinese.GB18030
}

// stripPrologEncoding removes the encoding attribute of a leading XML
// declaration (the bytes are UTF-8 by now).
func stripPrologEncoding(body []byte) []byte {
	loc := xmlPrologRe.FindIndex(body[:min(len(body), sniffLen)])
	if loc == nil {
		return body
	}
	prolog := body[loc[0]:loc[1]]
	if !xmlEncodingRe.Match(prolog) {
		return body
	}
	fixed := xmlEncodingRe.ReplaceAll(prolog, nil)
	out := make([]byte, 0, len(body))
	out = append(out, body[:loc[0]]...)
	out = append(out, fixed...)
	return append(out, body[loc[1]:]...)
}
