package feeds

import "unicode/utf8"

// Limits cap what one post may hold, whatever a source sends. Zero fields
// get the defaults below.
type Limits struct {
	TitleChars   int // runes of the plain-text title
	SummaryChars int // runes of the plain-text summary
	BodyBytes    int // bytes of cleaned HTML; cut at a block boundary
	Tags         int // categories per post
}

// Default limits (config.example.yaml "limits").
const (
	DefaultTitleChars   = 1000
	DefaultSummaryChars = 2000
	DefaultBodyBytes    = 512 * 1000
	DefaultTags         = 50

	// maxTagChars is the length of one category; longer ones are cut.
	maxTagChars = 100
	// maxAuthorChars is the length of the author's name.
	maxAuthorChars = 200
	// rawFactor bounds how much of a raw field is even read: markup and
	// entities make raw text longer than its plain form, but not more
	// than this many times for any real post.
	rawFactor = 8
	// rawBodyFactor is the same bound for a body's raw HTML.
	rawBodyFactor = 4
)

// TruncatedNotice is the paragraph that ends a body cut at limits.body_bytes.
const TruncatedNotice = `<p><em>[…] This post is longer than transfeed keeps; the rest is in the original.</em></p>`

func (l Limits) withDefaults() Limits {
	if l.TitleChars <= 0 {
		l.TitleChars = DefaultTitleChars
	}
	if l.SummaryChars <= 0 {
		l.SummaryChars = DefaultSummaryChars
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = DefaultBodyBytes
	}
	if l.Tags < 0 {
		l.Tags = 0
	} else if l.Tags == 0 {
		l.Tags = DefaultTags
	}
	return l
}

// headBytes is the first n bytes of s, cut back to a UTF-8 boundary: a
// cheap bound on what later stages parse.
func headBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
