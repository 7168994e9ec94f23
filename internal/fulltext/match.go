package fulltext

import (
	"slices"
	"strings"
)

// Alternatives are the phrases any one of which satisfies g: its own terms
// first, then its synonyms (g.Or). Only the first is a prefix when g.Prefix.
func (g Group) Alternatives() [][]string {
	return append([][]string{g.Terms}, g.Or...)
}

// NeedsPositions reports whether a post that holds every term of q (in any
// order, anywhere) may still not match it: q has a phrase (a quoted phrase,
// a Han word of three or more characters, a glossary term of several
// words). An index of terms without positions must then have its
// candidates checked with Document.Match.
func (q Query) NeedsPositions() bool {
	for _, g := range q.Groups {
		for _, alt := range g.Alternatives() {
			if len(alt) > 1 {
				return true
			}
		}
	}
	return false
}

// Match reports whether d holds every group of q: for each group, its
// phrase or one of its alternatives, terms side by side in the title or in
// the body (a phrase does not run from one into the other). It is what
// SQLite's FTS5 answers for q.FTS5() on the same document.
func (d Document) Match(q Query) bool { return d.match(q, true) }

// MatchTitle is Match on the title alone (q.FTS5Title()).
func (d Document) MatchTitle(q Query) bool { return d.match(q, false) }

func (d Document) match(q Query, body bool) bool {
	if len(q.Groups) == 0 {
		return false
	}
	for _, g := range q.Groups {
		found := false
		for i, alt := range g.Alternatives() {
			prefix := g.Prefix && i == 0
			if hasPhrase(d.Title, alt, prefix) || (body && hasPhrase(d.Body, alt, prefix)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// hasPhrase reports whether terms holds phrase, its terms side by side; the
// last one as a prefix when prefix is set.
func hasPhrase(terms, phrase []string, prefix bool) bool {
	n := len(phrase)
	if n == 0 {
		return false
	}
	for i := 0; i+n <= len(terms); i++ {
		if !slices.Equal(terms[i:i+n-1], phrase[:n-1]) {
			continue
		}
		last := terms[i+n-1]
		if last == phrase[n-1] || (prefix && strings.HasPrefix(last, phrase[n-1])) {
			return true
		}
	}
	return false
}

// PrefixRange is the range [lo, hi) of the terms that start with prefix in
// byte order (UTF-8 keeps code point order): lo is prefix, hi is prefix
// with its last character replaced by the next one.
func PrefixRange(prefix string) (lo, hi string) {
	r := []rune(prefix)
	if len(r) == 0 {
		return "", ""
	}
	next := r[len(r)-1] + 1
	if next >= 0xD800 && next < 0xE000 {
		next = 0xE000
	}
	r[len(r)-1] = next
	return prefix, string(r)
}
