// Package fulltext turns text into the terms transfeed's search index holds,
// turns a reader's query into what the index is asked, and cuts highlighted
// snippets. It is the one tokenizer of both stores: SQLite's FTS5 table and
// PostgreSQL's term arrays are fed the terms computed here (and never parse
// the text themselves), and Document.Match checks phrases the way FTS5 does,
// so the same post matches the same query on both engines.
//
// Terms:
//   - English (and any other alphabetic or numeric) words: lower-cased and,
//     when plain a–z, reduced to their Porter stem ("ports", "ported" →
//     "port"). Apostrophes inside a word are dropped ("China's" → "china").
//   - Han (and kana, Hangul) text has no spaces between words: each run is
//     indexed as its overlapping two-character pairs (大湾区 → 大湾 湾区), so
//     any word of two or more characters is found as the phrase of its
//     pairs; a run of one character is that character.
package fulltext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Term is one indexed term and where it came from in the text.
type Term struct {
	Text       string
	Start, End int // byte offsets of the text it was made from
}

// maxWordBytes bounds a term; longer words (a URL, a hash) are not indexed.
const maxWordBytes = 64

type class int

const (
	other class = iota
	word
	cjk
)

func classOf(r rune) class {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return word
		}
		return other
	}
	if 0x4E00 <= r && r <= 0x9FFF { // CJK Unified Ideographs: most Han text
		return cjk
	}
	switch {
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return cjk
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
		return word
	}
	return other
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// Terms returns the terms of text in order.
func Terms(text string) []Term { return terms(text, nil, nil) }

// termFilter lets terms skip what cannot match a query: words whose first
// letter (which their stem keeps) starts none of its terms, and Han text
// when it has no Han term.
type termFilter struct {
	first [utf8.RuneSelf]bool // ASCII first bytes of the query's terms
	cjk   bool                // the query has a Han term
	// match, when set, keeps only the terms it accepts (the query's own:
	// a snippet wants its hits, not every word of a body).
	match func(term string) bool
}

func newTermFilter(q Query) *termFilter {
	f := &termFilter{}
	for _, g := range q.Groups {
		for _, alt := range g.Alternatives() {
			for _, t := range alt {
				switch c := t[0]; {
				case c < utf8.RuneSelf:
					f.first[c] = true
				case cjkTerm(t):
					f.cjk = true
				default:
					return nil // a word beyond ASCII: keep everything
				}
			}
		}
	}
	return f
}

// keepWord reports whether the word w may have a term of the query.
func (f *termFilter) keepWord(w string) bool {
	c := w[0]
	if f == nil || c >= utf8.RuneSelf {
		return true
	}
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return f.first[c]
}

// keep reports whether the term t is to be returned.
func (f *termFilter) keep(t string) bool { return f == nil || f.match == nil || f.match(t) }

// cjkAt reports whether a Han (kana, Hangul) character starts at text[i:].
func cjkAt(text string, i int) bool {
	if i >= len(text) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return classOf(r) == cjk
}

// terms is Terms; words already seen in cache (word → term, filled as it
// goes when not nil) are not normalised again: a text repeats its words.
// With a filter, terms that cannot match its query may be left out.
func terms(text string, cache map[string]string, filter *termFilter) []Term {
	var out []Term
	eachTerm(text, cache, filter, func(t Term) bool {
		out = append(out, t)
		return true
	})
	return out
}

// eachTerm calls fn with the terms of text in order (as terms returns
// them) until fn returns false.
func eachTerm(text string, cache map[string]string, filter *termFilter, fn func(Term) bool) {
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch classOf(r) {
		case word:
			j := i
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if classOf(r2) == word {
					j += n2
					continue
				}
				// An apostrophe between letters stays inside the word.
				if isApostrophe(r2) && j+n2 < len(text) {
					if r3, _ := utf8.DecodeRuneInString(text[j+n2:]); classOf(r3) == word {
						j += n2
						continue
					}
				}
				break
			}
			w := text[i:j]
			if !filter.keepWord(w) {
				i = j
				continue
			}
			t, ok := cache[w]
			if !ok {
				t = normWord(w)
				if cache != nil {
					cache[w] = t
				}
			}
			if t != "" && filter.keep(t) {
				if !fn(Term{Text: t, Start: i, End: j}) {
					return
				}
			}
			i = j
		case cjk:
			if filter != nil && !filter.cjk {
				for i < len(text) {
					r2, n2 := utf8.DecodeRuneInString(text[i:])
					if classOf(r2) != cjk {
						break
					}
					i += n2
				}
				continue
			}
			// The run's overlapping pairs: characters a and b, b and the
			// next, …; a run of one character is that character.
			a, b := i, i+n
			if !cjkAt(text, b) {
				if filter.keep(text[a:b]) {
					if !fn(Term{Text: text[a:b], Start: a, End: b}) {
						return
					}
				}
				i = b
				continue
			}
			for {
				_, nb := utf8.DecodeRuneInString(text[b:])
				c := b + nb
				if filter.keep(text[a:c]) {
					if !fn(Term{Text: text[a:c], Start: a, End: c}) {
						return
					}
				}
				if !cjkAt(text, c) {
					i = c
					break
				}
				a, b = b, c
			}
		default:
			i += n
		}
	}
}

// normWord lower-cases a word, drops a possessive "'s" and apostrophes, and
// stems it.
func normWord(w string) string {
	w = strings.ToLower(w)
	if strings.ContainsAny(w, "'’") {
		for _, s := range []string{"'s", "’s"} {
			w = strings.TrimSuffix(w, s)
		}
		w = strings.NewReplacer("'", "", "’", "").Replace(w)
	}
	if w == "" || len(w) > maxWordBytes {
		return ""
	}
	return stem(w)
}

// Document is a post's text as the index holds it: its title terms and its
// body terms, in order (FTS5 stores each list as a column; PostgreSQL
// stores the set of their ids, and phrases are checked on the Document).
type Document struct {
	Title []string
	Body  []string
}

// maxBodyTerms bounds the terms indexed from one post's body (a post is
// rarely a tenth of that), the same on both engines.
const maxBodyTerms = 16000

// NewDocument builds the document of a post from its plain-text fields:
// titles (English and original) and bodies (English and original).
func NewDocument(titles, bodies []string) Document {
	var d Document
	cache := map[string]string{}
	for _, t := range titles {
		eachTerm(t, cache, nil, func(term Term) bool {
			d.Title = append(d.Title, term.Text)
			return true
		})
	}
	// About a term per five bytes (English words and their spaces; Han
	// pairs are one per three bytes): most bodies fill it without growing.
	n := 0
	for _, b := range bodies {
		n += len(b)
	}
	d.Body = make([]string, 0, min(n/5+1, maxBodyTerms))
	for _, b := range bodies {
		eachTerm(b, cache, nil, func(term Term) bool {
			if len(d.Body) >= maxBodyTerms {
				return false
			}
			d.Body = append(d.Body, term.Text)
			return true
		})
	}
	return d
}
