package fulltext

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fragment is a piece of a snippet; Mark is true for text that matched the
// query. Text is plain text: the caller escapes it (html/template does).
type Fragment struct {
	Text string
	Mark bool
}

// Snippet cuts from text (plain text) the window of about maxRunes runes
// that holds the most of the query's distinct terms, and marks the matched
// words in it. Without a match it is the start of text (unmarked); empty
// text gives nil. An ellipsis shows where the window cuts text.
func Snippet(text string, q Query, maxRunes int) []Fragment {
	return NewSnippeter(q).Snippet(text, maxRunes)
}

// Snippeter cuts the snippets of one query (Snippet) from many texts — a
// page of results — normalising each distinct word once for all of them:
// the posts of a page repeat their words. It is not safe for concurrent use.
type Snippeter struct {
	q      Query
	filter *termFilter
	cache  map[string]string // word → term, at most maxSnippetWords
}

// maxSnippetWords bounds a Snippeter's words: a page of results has a few
// hundred distinct ones.
const maxSnippetWords = 4096

// NewSnippeter returns a Snippeter for q.
func NewSnippeter(q Query) *Snippeter {
	sn := &Snippeter{q: q, filter: newTermFilter(q), cache: map[string]string{}}
	if sn.filter != nil {
		sn.filter.match = q.Matches
	}
	return sn
}

// Snippet is Snippet(text, q, maxRunes) for the Snippeter's query.
func (sn *Snippeter) Snippet(text string, maxRunes int) []Fragment {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if maxRunes <= 0 {
		maxRunes = 200
	}
	if len(sn.cache) > maxSnippetWords {
		clear(sn.cache)
	}
	var hits []Term
	for _, t := range terms(text, sn.cache, sn.filter) {
		if sn.q.Matches(t.Text) { // the filter's own check, when it has none
			hits = append(hits, t)
		}
	}
	return fragments(text, hits, maxRunes)
}

// fragments is the snippet of text (trimmed, not empty) around its hits.
func fragments(text string, hits []Term, maxRunes int) []Fragment {
	start, end := window(text, hits, maxRunes)
	var out []Fragment
	if start > 0 {
		out = append(out, Fragment{Text: "…"})
	}
	pos := start
	for i := 0; i < len(hits); i++ {
		h := hits[i]
		if h.End <= start || h.Start >= end {
			continue
		}
		// Overlapping pairs of one Han word, and matched words with only
		// spaces between them, make one mark.
		hs, he := max(h.Start, pos), min(h.End, end)
		for i+1 < len(hits) && hits[i+1].Start < end &&
			(hits[i+1].Start <= he || strings.TrimSpace(text[he:hits[i+1].Start]) == "") {
			i++
			he = min(max(he, hits[i].End), end)
		}
		if hs >= he {
			continue
		}
		if hs > pos {
			out = append(out, Fragment{Text: text[pos:hs]})
		}
		out = append(out, Fragment{Text: text[hs:he], Mark: true})
		pos = he
	}
	if pos < end {
		out = append(out, Fragment{Text: text[pos:end]})
	}
	if end < len(text) {
		out = append(out, Fragment{Text: "…"})
	}
	return out
}

// window picks the byte range [start, end) of about maxRunes runes with the
// most distinct hit terms, starting a little before its first hit and on a
// word boundary.
func window(text string, hits []Term, maxRunes int) (int, int) {
	if len(hits) == 0 {
		return 0, cutAfter(text, 0, maxRunes)
	}
	best, bestN := 0, -1
	var seen []string // distinct hit terms of a window: a query has few
	for i := range hits {
		end := cutAfter(text, hits[i].Start, maxRunes)
		seen = seen[:0]
		for j := i; j < len(hits) && hits[j].End <= end; j++ {
			if !slices.Contains(seen, hits[j].Text) {
				seen = append(seen, hits[j].Text)
			}
		}
		if len(seen) > bestN {
			best, bestN = i, len(seen)
		}
	}
	// Some context before the first hit: a fifth of the window. A text
	// that fits in the window is shown whole (a title is not cut).
	start := backUp(text, hits[best].Start, maxRunes/5)
	if whole := cutAfter(text, 0, maxRunes); start == 0 || whole == len(text) {
		return 0, whole
	}
	return start, cutAfter(text, start, maxRunes)
}

// cutAfter is the byte offset n runes after from (or len(text)), moved back
// to a space when one is near so a word is not cut.
func cutAfter(text string, from, n int) int {
	i := from
	for k := 0; k < n && i < len(text); k++ {
		_, sz := utf8.DecodeRuneInString(text[i:])
		i += sz
	}
	if i >= len(text) {
		return len(text)
	}
	if j := strings.LastIndexFunc(text[from:i], unicode.IsSpace); j > (i-from)*3/4 {
		return from + j
	}
	return i
}

// backUp is the byte offset about n runes before at, moved forward to the
// start of a word.
func backUp(text string, at, n int) int {
	i := at
	for k := 0; k < n && i > 0; k++ {
		_, sz := utf8.DecodeLastRuneInString(text[:i])
		i -= sz
	}
	if i == 0 {
		return 0
	}
	if r, _ := utf8.DecodeLastRuneInString(text[:i]); unicode.IsSpace(r) {
		return i
	}
	if j := strings.IndexFunc(text[i:at], unicode.IsSpace); j >= 0 {
		return i + j + 1
	}
	return i
}
