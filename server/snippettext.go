package server

import (
	"hash/maphash"
	"strconv"
	"sync"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// Bounds of the snippet text cache: a post's entry is its title and the
// first snippetScanRunes runes of each body (about 4 KB of English and 9 KB
// of Chinese at most).
const (
	maxSnippetTexts     = 4096
	maxSnippetTextBytes = 32 << 20
)

// snippetTexts keeps the text search results' snippets are cut from
// (store.SnippetTextOf), so that a post that many searches show — the
// newest posts, a common word's best matches — has its HTML turned into
// text once rather than on every page it is on. An entry is found by the
// post's id and a hash of every field that text is made of: a corrected or
// retranslated post has other text, so it misses and is shown by its new
// text at once, whatever its timestamps say.
type snippetTexts struct {
	seed     maphash.Seed
	max      int
	maxBytes int64

	mu      sync.Mutex
	bytes   int64
	entries map[snippetKey]store.SearchText
}

type snippetKey struct {
	id  int64
	sum uint64
}

func newSnippetTexts(max int, maxBytes int64) *snippetTexts {
	return &snippetTexts{seed: maphash.MakeSeed(), max: max, maxBytes: maxBytes, entries: map[snippetKey]store.SearchText{}}
}

// key hashes what store.SnippetTextOf reads of it.
func (c *snippetTexts) key(it model.Item) snippetKey {
	var h maphash.Hash
	h.SetSeed(c.seed)
	for _, s := range []string{it.Title, it.Summary, it.ContentHTML, it.TitleEN, it.SummaryEN, it.ContentHTMLEN,
		it.TranslatedBy, strconv.FormatBool(it.Untranslated), strconv.FormatBool(it.TitleOnly)} {
		h.WriteString(s)
		h.WriteByte(0) // fields cannot run into each other
	}
	return snippetKey{id: it.ID, sum: h.Sum64()}
}

// get returns the snippet text of it, made once per version of its text.
func (c *snippetTexts) get(it model.Item) store.SearchText {
	k := c.key(it)
	c.mu.Lock()
	t, ok := c.entries[k]
	c.mu.Unlock()
	if ok {
		return t
	}
	t = store.SnippetTextOf(it, snippetScanRunes)
	size := textSize(t)
	if size > c.maxBytes/16 {
		return t
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[k]; ok { // made meanwhile by another request
		c.bytes -= textSize(old)
		delete(c.entries, k)
	}
	for ek, e := range c.entries {
		if len(c.entries) < c.max && c.bytes+size <= c.maxBytes {
			break
		}
		c.bytes -= textSize(e)
		delete(c.entries, ek)
	}
	c.entries[k] = t
	c.bytes += size
	return t
}

func textSize(t store.SearchText) int64 {
	return int64(len(t.Title)+len(t.Body)+len(t.OriginalTitle)+len(t.OriginalBody)) + 96
}
