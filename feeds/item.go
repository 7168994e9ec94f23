// Package feeds fetches sources (HTTP with conditional GET, charset
// decoding, size caps), parses them (gofeed; HTML list pages with goquery),
// extracts full text, normalises posts, and renders our output feeds.
package feeds

import "time"

// Item is one normalised post, ready to be stored.
type Item struct {
	SourceID    string
	Key         string // stable identity within the source (see Identity)
	GUID        string
	Link        string // absolute, tracking parameters removed
	Title       string // plain text
	Summary     string // plain text, at most ~300 runes
	ContentHTML string // sanitised, absolute URLs, clean paragraphs
	Author      string
	Language    string // "zh" | "en" | "" (unknown)
	ImageURL    string // first image, absolute
	Categories  []string
	Published   time.Time // UTC; zero when the source gives no date (caller uses first-seen)
	ContentHash string    // hash of title + content, for change detection
}
