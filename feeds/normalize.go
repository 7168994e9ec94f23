package feeds

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// RawItem is a post as a parser found it, before normalisation. Every
// string may contain markup, entities, relative URLs and control characters.
type RawItem struct {
	GUID    string
	Link    string // may be relative to BaseURL
	BaseURL string // the document the item came from (final URL after redirects)
	Title   string // text or HTML
	// ContentHTML is the full body (content:encoded, Atom content, RSSHub's
	// description, an extracted article). Summary is the short description;
	// it is used as the body when ContentHTML is empty.
	ContentHTML string
	Summary     string
	Author      string
	// Published is the date exactly as the source wrote it. It is re-read
	// with the source's time zone; PublishedParsed (a feed parser's own
	// reading) is used only when Published cannot be read.
	Published       string
	PublishedParsed time.Time
	ImageURL        string
	Categories      []string
	// Meta is government document metadata from the article page.
	Meta map[string]string
	// Rules names the rule of evidence that gave each field (see extract.go).
	Rules Rules
	// FetchErr is why the article page could not be used ("" when it was,
	// or when none was fetched).
	FetchErr string
	// MediaType is the MIME type of a video or audio enclosure ("" when none).
	MediaType string
}

// Rules names, per field, the rule of evidence that gave it.
type Rules struct {
	Title, Date, Author, Body string
}

// SourceLocation loads the source's time zone (default Asia/Shanghai).
func SourceLocation(src config.Source) (*time.Location, error) {
	name := src.Timezone
	if name == "" {
		name = config.DefaultTimezone
	}
	return model.LoadLocation(name)
}

// Normalizer turns RawItems into Items. It holds the sanitising policy,
// built once; it is safe for concurrent use.
type Normalizer struct {
	policy *bluemonday.Policy
	limits Limits
	// perBlock makes clean sanitise block by block even when the body
	// fits (tests: the reference of its one-pass path).
	perBlock bool
}

// NewNormalizer builds the sanitising policy: bluemonday's UGC policy
// (no style, class, data-*, scripts, iframes, svg, event handlers or
// javascript: URLs), links with rel="nofollow noreferrer" and
// target="_blank".
func NewNormalizer() *Normalizer { return NewNormalizerWithLimits(Limits{}) }

// NewNormalizerWithLimits is NewNormalizer with field caps (zero fields:
// the defaults).
func NewNormalizerWithLimits(l Limits) *Normalizer {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return &Normalizer{policy: p, limits: l.withDefaults()}
}

// title is the plain-text title of raw, capped at limits.title_chars. Only
// a bounded head of the raw text is read, so a title of megabytes costs no
// more than one of a few kilobytes.
func (n *Normalizer) title(raw string) string {
	return capText(raw, n.limits.TitleChars)
}

// capText is the plain text of a bounded head of raw, without bidi
// controls, cut at max runes. Text that only looks like markup ("<Notice>",
// "a <b"), which parsing as HTML would empty, stays as written.
func capText(raw string, max int) string {
	raw = headBytes(raw, max*utf8.UTFMax*rawFactor)
	t := plainText(raw)
	if t == "" {
		t = collapse(raw)
	}
	return capRunes(stripBidi(t), max)
}

// stripBidi removes the bidirectional embedding, override and isolate
// controls (U+202A–U+202E, U+2066–U+2069): in a title they reorder what
// surrounds it (a reversed file name, a spoofed link text).
func stripBidi(s string) string {
	if !hasBidi(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) {
			return -1
		}
		return r
	}, s)
}

// hasBidi tells whether s holds one of the controls stripBidi removes. Their
// UTF-8 forms are E2 80 AA–AE and E2 81 A6–A9: it looks at each E2 byte
// only (strings.ContainsAny decodes and looks up every rune of s, which
// for a post's whole text was 2 % of a cold import's CPU).
func hasBidi(s string) bool {
	for {
		i := strings.IndexByte(s, 0xE2)
		if i < 0 || i+2 >= len(s) {
			return false
		}
		b1, b2 := s[i+1], s[i+2]
		if b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE || b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9 {
			return true
		}
		s = s[i+1:]
	}
}

// capRunes cuts s to at most max runes, the ellipsis included.
func capRunes(s string, max int) string {
	if max < 2 {
		return s
	}
	if _, cut := model.RuneHead(s, max); !cut {
		return s
	}
	return cutRunes(s, max-1)
}

// Normalize is a convenience for one-off use; it builds a policy on every
// call. Bulk callers use a Normalizer (or a Fetcher, which has one).
func Normalize(src config.Source, loc *time.Location, raw RawItem, now time.Time) model.Item {
	return NewNormalizer().Normalize(src, loc, raw, now)
}

// Normalize cleans one post: absolute URLs, sanitised and de-cluttered
// HTML, plain-text title and summary, a UTC date (zone-less dates read in
// loc; nil loc means the source's zone), identity key, content hash and
// language. now resolves year-less dates; a post without any date gets a
// zero Published.
func (n *Normalizer) Normalize(src config.Source, loc *time.Location, raw RawItem, now time.Time) model.Item {
	if loc == nil {
		l, err := SourceLocation(src)
		if err != nil {
			l = model.China()
		}
		loc = l
	}
	base, _ := url.Parse(strings.TrimSpace(raw.BaseURL))
	link := resolveURL(base, stripControl(raw.Link))
	if link != "" {
		link = PublicLink(link)
	}
	contentBase := base
	if lu, err := url.Parse(link); err == nil && lu.IsAbs() {
		contentBase = lu
	}

	body := raw.ContentHTML
	if strings.TrimSpace(body) == "" {
		body = raw.Summary
	}
	title := n.title(raw.Title)
	cleaned := n.clean(body, contentBase, title)

	summaryText := cleaned.text
	if summaryText == "" {
		summaryText = capText(raw.Summary, n.limits.SummaryChars)
	}
	summary := capRunes(cutSummary(stripBidi(summaryText)), n.limits.SummaryChars)
	ev := map[string]string{}
	switch {
	case raw.Rules.Title != "":
		ev["title"] = raw.Rules.Title
	case title != "":
		ev["title"] = "feed"
	}
	if title == "" {
		title = firstSentence(summaryText)
		if title != "" {
			ev["title"] = "first sentence of the body"
		}
	}

	published := normalizeDate(raw, loc, now)
	switch {
	case published.IsZero():
		ev["date"] = "unknown"
	case raw.Rules.Date != "":
		ev["date"] = raw.Rules.Date
	default:
		ev["date"] = "feed"
	}
	if raw.Rules.Author != "" {
		ev["author"] = raw.Rules.Author
	} else if raw.Author != "" {
		ev["author"] = "feed"
	}
	if raw.Rules.Body != "" {
		ev["body"] = raw.Rules.Body
	} else if cleaned.html != "" {
		ev["body"] = "feed"
	}

	image := resolveURL(contentBase, stripControl(raw.ImageURL))
	if !strings.HasPrefix(image, "http://") && !strings.HasPrefix(image, "https://") {
		image = cleaned.image
	}

	var cats []string
	seen := map[string]bool{}
	for _, c := range raw.Categories {
		if len(cats) == n.limits.Tags {
			break
		}
		c = capText(c, maxTagChars)
		if c != "" && !seen[c] {
			seen[c] = true
			cats = append(cats, c)
		}
	}

	guid := strings.TrimSpace(stripControl(raw.GUID))
	return model.Item{
		SourceID:     src.ID,
		BackfillRank: -1, // set by the caller on a source's first poll
		Key:          ItemKey(guid, link, title, published),
		GUID:         guid,
		Link:         link,
		Title:        title,
		Summary:      summary,
		ContentHTML:  cleaned.html,
		Author:       capText(raw.Author, maxAuthorChars),
		Language:     DetectLanguage(title + " " + cutRunes(summaryText, 400)),
		ImageURL:     image,
		Media:        mediaOf(cleaned.media, raw.MediaType),
		Categories:   cats,
		Published:    published,
		DateUnknown:  published.IsZero(),
		ContentHash:  ContentHash(title, cleaned.html),
		Meta:         cleanMeta(raw.Meta),
		Evidence:     ev,
	}
}

// Key is the identity Normalize will give raw (used to skip full-text
// fetches of posts already stored).
func (n *Normalizer) Key(src config.Source, loc *time.Location, raw RawItem, now time.Time) string {
	base, _ := url.Parse(strings.TrimSpace(raw.BaseURL))
	link := resolveURL(base, stripControl(raw.Link))
	if link != "" {
		link = CanonicalLink(link)
	}
	guid := strings.TrimSpace(stripControl(raw.GUID))
	if guid != "" || link != "" {
		return ItemKey(guid, link, "", time.Time{})
	}
	if loc == nil {
		loc = model.China()
	}
	title := n.title(raw.Title)
	if title == "" {
		body := raw.ContentHTML
		if strings.TrimSpace(body) == "" {
			body = raw.Summary
		}
		title = firstSentence(n.clean(body, base, "").text)
	}
	return ItemKey("", "", title, normalizeDate(raw, loc, now))
}

func normalizeDate(raw RawItem, loc *time.Location, now time.Time) time.Time {
	if t, ok := ParseDate(raw.Published, loc, now); ok {
		return t
	}
	if !raw.PublishedParsed.IsZero() {
		return raw.PublishedParsed.UTC()
	}
	return time.Time{}
}

// resolveURL makes ref absolute against base; "" stays "". An absolute
// ref is returned byte for byte.
func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	if base == nil || r.IsAbs() && r.Host != "" {
		return ref
	}
	if r.Scheme != "" { // javascript:, mailto:, data:
		return ref
	}
	return base.ResolveReference(r).String()
}

// stripControl removes C0 control characters other than tab, LF and CR,
// and DEL: they are invalid in XML and useless in text.
func stripControl(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if isControl(rune(s[i])) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return (r <= 0x08) || r == 0x0B || r == 0x0C || (r >= 0x0E && r <= 0x1F) || r == 0x7F
}

func isSpaceLike(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' || r == '\u00a0' || r == '\u3000'
}

// collapse trims and collapses all whitespace (including NBSP and the
// ideographic space) into single spaces. A run of whitespace with a line
// break between two Han characters is removed: Chinese has no word
// spaces, so it only wrapped a line. Spaces the source put between Han
// characters ("李琴雯 刘会") are kept.
func collapse(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, newline, hard := false, false, false
	var prev rune
	for _, r := range s {
		if isSpaceLike(r) || isControl(r) {
			space = b.Len() > 0
			newline = newline || r == '\n' || r == '\r'
			hard = hard || r == blockSep
			continue
		}
		if space && (hard || !(newline && isHan(prev) && isHan(r))) {
			b.WriteByte(' ')
		}
		space, newline, hard = false, false, false
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// blockSep marks an element boundary in text built from markup (U+2029,
// paragraph separator): collapse always turns it into a space, even
// between Han characters.
const blockSep = '\u2029'

// joinLineBreaks removes line breaks (with the indentation around them)
// between two Han characters inside a text node and leaves every other
// character, spaces included, as it is.
func joinLineBreaks(s string) string {
	if !strings.ContainsAny(s, "\n\r") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(rs); i++ {
		if rs[i] != '\n' && rs[i] != '\r' {
			b.WriteRune(rs[i])
			continue
		}
		// The whitespace run around this break.
		lo := i
		for lo > 0 && isSpaceLike(rs[lo-1]) && b.Len() > 0 {
			lo--
		}
		hi := i
		for hi+1 < len(rs) && isSpaceLike(rs[hi+1]) {
			hi++
		}
		if lo > 0 && hi+1 < len(rs) && isHan(rs[lo-1]) && isHan(rs[hi+1]) {
			// Drop the spaces already written before the break too.
			out := []rune(b.String())
			b.Reset()
			b.WriteString(string(out[:len(out)-(i-lo)]))
			i = hi
			continue
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

// isHan reports whether r is a Han character or CJK punctuation.
func isHan(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303F && r != 0x3000) || (r >= 0xFF01 && r <= 0xFF5E)
}

// plainText turns a possibly-HTML string into one line of text.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) == 0 {
				// Not an HTML element: text that looks like a tag ("<Notice>").
				if skip == 0 {
					b.WriteString(html.UnescapeString(string(z.Raw())))
				}
				continue
			}
			switch string(name) {
			case "script", "style":
				if tt == html.StartTagToken {
					skip++
				}
			case "br", "p", "div", "li":
				b.WriteRune(blockSep)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) == 0 {
				if skip == 0 {
					b.WriteString(html.UnescapeString(string(z.Raw())))
				}
				continue
			}
			switch string(name) {
			case "script", "style":
				if skip > 0 {
					skip--
				}
			case "p", "div", "li", "td":
				b.WriteRune(blockSep)
			}
		}
	}
}

// summaryLimit: about 200 Chinese characters or 300 runes of other text.
// The language is that of the text's head, which the summary is cut from
// (not of the whole body).
func summaryLimit(s string) int {
	head, _ := model.RuneHead(s, 400)
	if DetectLanguage(head) == "zh" {
		return 200
	}
	return 300
}

// cutSummary shortens text to the summary length, at a sentence end when
// one falls in the second half of the allowance.
func cutSummary(s string) string {
	limit := summaryLimit(s)
	head, cut := model.RuneHead(s, limit)
	if !cut {
		return s
	}
	runes := []rune(head)
	for i := len(runes) - 1; i >= limit/2; i-- {
		switch runes[i] {
		case '。', '！', '？', '!', '?', '；':
			return strings.TrimSpace(string(runes[:i+1]))
		case '.':
			if i+1 < len(runes) && runes[i+1] == ' ' {
				return strings.TrimSpace(string(runes[:i+1]))
			}
		}
	}
	return strings.TrimSpace(string(runes)) + "…"
}

// cutRunes cuts s to at most n runes (with an ellipsis when cut).
func cutRunes(s string, n int) string {
	head, cut := model.RuneHead(s, n)
	if !cut {
		return s
	}
	return strings.TrimSpace(head) + "…"
}

// firstSentence is a title made from body text: its first sentence, cut at
// 60 runes, with an ellipsis (it is not the page's own title).
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	rs := []rune(s)
	end := len(rs)
	for i, r := range rs {
		if r == '。' || r == '！' || r == '？' || r == '!' || r == '?' || r == '；' || (r == '.' && (i+1 == len(rs) || rs[i+1] == ' ')) {
			end = i
			break
		}
	}
	if end > 60 {
		end = 60
	}
	return strings.TrimSpace(string(rs[:end])) + "…"
}

// cleanMeta makes metadata plain one-line text; empty maps become nil.
func cleanMeta(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		k, v = plainText(k), plainText(v)
		if k != "" && v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
