package fulltext

import (
	"errors"
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
	}
	return strings.Join(parts, " AND ")
}

// FTS5Title is FTS5 for posts whose title alone has every group.
func (q Query) FTS5Title() string { return "{title} : (" + q.FTS5() + ")" }

// FTS5Body is FTS5 for the other matching posts: every group, not all in the title.
func (q Query) FTS5Body() string { return "(" + q.FTS5() + ") NOT " + q.FTS5Title() }

// TSQuery is the query as a PostgreSQL tsquery literal: groups joined by &,
// phrases by <->, lone Han characters as :* prefixes.
func (q Query) TSQuery() string { return q.tsquery("") }

// TSQueryTitle is TSQuery for posts whose title alone (weight A) has every group.
func (q Query) TSQueryTitle() string { return q.tsquery("A") }

// TSQueryBody is TSQuery for the other matching posts.
func (q Query) TSQueryBody() string { return "(" + q.TSQuery() + ") & !(" + q.TSQueryTitle() + ")" }

func (q Query) tsquery(weight string) string {
	parts := make([]string, len(q.Groups))
	for i, g := range q.Groups {
		terms := make([]string, len(g.Terms))
		for j, t := range g.Terms {
			terms[j] = quoteLexeme(t)
			switch {
			case g.Prefix:
				terms[j] += ":*" + weight
			case weight != "":
				terms[j] += ":" + weight
			}
		}
		parts[i] = "(" + strings.Join(terms, " <-> ") + ")"
	}
	return strings.Join(parts, " & ")
}

// quoteLexeme quotes a term for tsvector/tsquery input.
func quoteLexeme(t string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(t) + "'"
}

// TSVector is the document as a PostgreSQL tsvector literal: title terms at
// weight A, body terms after them at weight D (positions 1…16383).
func (d Document) TSVector() string {
	var b strings.Builder
	pos := 0
	write := func(terms []string, weight string) {
		for _, t := range terms {
			pos++
			if pos > 16383 {
				return
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quoteLexeme(t))
			b.WriteByte(':')
			b.WriteString(itoa(pos))
			b.WriteString(weight)
		}
	}
	write(d.Title, "A")
	write(d.Body, "")
	return b.String()
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for n >= 10 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	buf[i] = byte('0' + n)
	return string(buf[i:])
}

// Matches reports whether term (an indexed term) is one the query looks for.
func (q Query) Matches(term string) bool {
	for _, g := range q.Groups {
		for _, t := range g.Terms {
			if t == term || (g.Prefix && strings.HasPrefix(term, t)) {
				return true
			}
		}
	}
	return false
}
