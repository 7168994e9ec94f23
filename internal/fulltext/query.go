package fulltext

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// Group is one part of a query that a post must contain: a single term, or
// a phrase (terms in this order, side by side): a quoted phrase, or the
// character pairs of a Han word. Prefix marks a lone Han character, matched
// as the start of any pair.
type Group struct {
	Terms  []string
	Prefix bool
	// Or are other phrases that satisfy the group as well: the other
	// language's term of a glossary entry (see Synonyms).
	Or [][]string
}

// Query is a parsed search: a post matches when it contains every group.
type Query struct {
	Groups []Group
	text   string
}

// Query limits.
const (
	MaxQueryRunes  = 200
	MaxQueryGroups = 8
)

// Query errors.
var (
	ErrEmptyQuery   = errors.New("fulltext: the query has no words to search for")
	ErrQueryTooLong = errors.New("fulltext: the query is too long")
)

// Parse reads a reader's query: words (all required), "quoted phrases", and
// Han words (found as a phrase of their character pairs). Punctuation is
// ignored. Groups beyond MaxQueryGroups are dropped.
func Parse(q string) (Query, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > MaxQueryRunes {
		return Query{}, ErrQueryTooLong
	}
	var out Query
	seen := map[string]bool{}
	add := func(g Group) {
		k := strings.Join(g.Terms, " ")
		if g.Prefix {
			k += "*"
		}
		if len(g.Terms) == 0 || seen[k] || len(out.Groups) >= MaxQueryGroups {
			return
		}
		seen[k] = true
		out.Groups = append(out.Groups, g)
	}
	parts := strings.Split(q, `"`)
	for i, part := range parts {
		quoted := i%2 == 1 && i < len(parts)-1
		if quoted {
			var g Group
			for _, t := range Terms(part) {
				g.Terms = append(g.Terms, t.Text)
			}
			if len(g.Terms) == 1 && isLoneCJK(g.Terms[0]) {
				g.Prefix = true
			}
			add(g)
			continue
		}
		for _, f := range strings.Fields(part) {
			for _, g := range fieldGroups(f) {
				add(g)
			}
		}
	}
	if len(out.Groups) == 0 {
		return Query{}, ErrEmptyQuery
	}
	out.text = q
	return out, nil
}

// fieldGroups splits one space-free field into groups: each word is a term,
// each Han run the phrase of its pairs.
func fieldGroups(f string) []Group {
	var (
		out []Group
		run *Group
		end = -1
	)
	for _, t := range Terms(f) {
		if cjkTerm(t.Text) {
			// Pairs of one run overlap: the next pair starts inside the last.
			if run != nil && t.Start < end {
				run.Terms = append(run.Terms, t.Text)
				end = t.End
				continue
			}
			out = append(out, Group{Terms: []string{t.Text}, Prefix: isLoneCJK(t.Text)})
			run, end = &out[len(out)-1], t.End
			continue
		}
		out = append(out, Group{Terms: []string{t.Text}})
		run = nil
	}
	return out
}

func cjkTerm(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return classOf(r) == cjk
}

func isLoneCJK(s string) bool { return cjkTerm(s) && utf8.RuneCountInString(s) == 1 }

// String is the query as the reader wrote it (trimmed).
func (q Query) String() string { return q.text }

// FTS5 is the query in SQLite FTS5 syntax: every group required, phrases
// quoted, lone Han characters as prefixes. Terms hold only letters and
// digits, so quoting cannot be escaped from.
func (q Query) FTS5() string {
	parts := make([]string, len(q.Groups))
	for i, g := range q.Groups {
		parts[i] = `"` + strings.Join(g.Terms, " ") + `"`
		if g.Prefix {
			parts[i] += "*"
		}
		if len(g.Or) > 0 {
			alts := []string{parts[i]}
			for _, o := range g.Or {
				alts = append(alts, `"`+strings.Join(o, " ")+`"`)
			}
			parts[i] = "(" + strings.Join(alts, " OR ") + ")"
		}
	}
	return strings.Join(parts, " AND ")
}

// FTS5Title is FTS5 for posts whose title alone has every group.
func (q Query) FTS5Title() string { return "{title} : (" + q.FTS5() + ")" }

// FTS5Body is FTS5 for the other matching posts: every group, not all in the title.
func (q Query) FTS5Body() string { return "(" + q.FTS5() + ") NOT " + q.FTS5Title() }

// Matches reports whether term (an indexed term) is one the query looks for.
func (q Query) Matches(term string) bool {
	for _, g := range q.Groups {
		for _, t := range g.Terms {
			if t == term || (g.Prefix && strings.HasPrefix(term, t)) {
				return true
			}
		}
		for _, o := range g.Or {
			if slices.Contains(o, term) {
				return true
			}
		}
	}
	return false
}

// Synonyms are the glossary's pairs of terms (Chinese source, English
// target), each the other's alternative in a query: 大湾区 also finds a
// post that says "Greater Bay Area" (an English source, or one published
// untranslated), and the other way round.
type Synonyms struct {
	pairs [][2][]string // terms of the Chinese, terms of the English
}

// NewSynonyms builds Synonyms from glossary entries (source → target).
// Targets "=" (not a term) and entries without terms are left out.
func NewSynonyms(entries map[string]string) *Synonyms {
	syn := &Synonyms{}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, src := range keys {
		dst := entries[src]
		if dst == "=" {
			continue
		}
		a, b := termTexts(src), termTexts(dst)
		if len(a) == 0 || len(b) == 0 || slices.Equal(a, b) {
			continue
		}
		syn.pairs = append(syn.pairs, [2][]string{a, b})
	}
	return syn
}

func termTexts(s string) []string {
	var out []string
	for _, t := range Terms(s) {
		out = append(out, t.Text)
	}
	return out
}

// Expand gives each group that is a glossary term its counterpart as an
// alternative. Consecutive words that spell a term of several words
// (Greater Bay Area) become that phrase, or its counterpart.
func (q Query) Expand(syn *Synonyms) Query {
	if syn == nil || len(syn.pairs) == 0 {
		return q
	}
	var out []Group
	for i := 0; i < len(q.Groups); i++ {
		g := q.Groups[i]
		if alt, ok := syn.other(g.Terms); ok && !g.Prefix {
			g.Or = append(slices.Clip(g.Or), alt)
			out = append(out, g)
			continue
		}
		// The longest run of single words from i that spells a term.
		best, bestAlt := 0, []string(nil)
		for j := i + 2; j <= len(q.Groups); j++ {
			var words []string
			ok := true
			for _, w := range q.Groups[i:j] {
				if len(w.Terms) != 1 || w.Prefix || len(w.Or) > 0 {
					ok = false
					break
				}
				words = append(words, w.Terms[0])
			}
			if !ok {
				break
			}
			if alt, found := syn.other(words); found {
				best, bestAlt = j, alt
			}
		}
		if best > 0 {
			var words []string
			for _, w := range q.Groups[i:best] {
				words = append(words, w.Terms[0])
			}
			out = append(out, Group{Terms: words, Or: [][]string{bestAlt}})
			i = best - 1
			continue
		}
		out = append(out, g)
	}
	q.Groups = out
	return q
}

// other returns the counterpart of the term spelled by terms.
func (syn *Synonyms) other(terms []string) ([]string, bool) {
	for _, p := range syn.pairs {
		switch {
		case slices.Equal(p[0], terms):
			return p[1], true
		case slices.Equal(p[1], terms):
			return p[0], true
		}
	}
	return nil, false
}
