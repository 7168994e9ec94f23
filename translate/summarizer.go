package translate

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"
)

// SummaryRequest asks a Summarizer for a short English summary of one post.
type SummaryRequest struct {
	Title string // English title
	Text  string // English body as plain text
	Date  string // publication date as the post's readers know it ("2026-05-25"), may be ""
	// Sentences is how many sentences the summary should have (2–3).
	Sentences int
	// Glossary holds the glossary terms of the post (source → required
	// English); the summary must use the English as given.
	Glossary map[string]string
}

// Chars is what the request costs in the daily character budget: the code
// points of the post text sent, as for a translation.
func (r SummaryRequest) Chars() int64 {
	return int64(utf8.RuneCountInString(r.Title) + utf8.RuneCountInString(r.Text) + utf8.RuneCountInString(r.Date))
}

// Summarizer writes a short English summary of an English post. An
// OpenAI-compatible provider implements it (translate/openai). Like a
// Translator it does no retries itself and returns *Error for every failure.
type Summarizer interface {
	Summarize(ctx context.Context, req SummaryRequest) (string, error)
	// Name identifies provider and model ("openai/gpt-4o-mini"); usage is
	// recorded under it.
	Name() string
}

// TermsIn returns the glossary terms (source → target) that occur in text,
// the same terms a translation of text is held to. Terms marked "=" are left
// out.
func (g *Glossary) TermsIn(text string) map[string]string {
	out := map[string]string{}
	for _, sp := range g.find(text) {
		if t := g.terms[sp.term]; !t.keep {
			out[t.source] = t.target
		}
	}
	return out
}

// EnforceEnglish holds English text written from a post (a summary) to the
// post's glossary terms: a term left in the source language is replaced by
// its required English, and the required English written in another case
// ("greater bay area") is written as the glossary gives it ("Greater Bay
// Area").
func (g *Glossary) EnforceEnglish(en string, terms map[string]string) string {
	if len(terms) == 0 {
		return en
	}
	sub, err := NewGlossary(terms)
	if err != nil {
		return en
	}
	en = sub.apply(en, map[string]string{})
	for _, t := range sub.terms {
		re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(t.target) + `\b`)
		if err != nil || !utf8.ValidString(t.target) {
			continue
		}
		en = re.ReplaceAllLiteralString(en, t.target)
	}
	return en
}

// ContainsHan reports whether s has a Chinese (Han) character.
func ContainsHan(s string) bool { return containsHan(s) }

// InventedNumbers returns the numbers written with digits in text that
// appear in none of sources: what a summary says that its post does not.
// A number counts as present when any of its readings is (1,000 = 1000;
// 1.5 million = 1500000; 14:30 = 2:30), sources are read as English or, when
// they have Chinese characters, as Chinese (1.5万 = 15000), and number words
// and month names in sources count (May = 5).
func InventedNumbers(text string, sources ...string) []string {
	have := map[string]bool{}
	for _, src := range sources {
		for _, n := range scanNumbers(src, containsHan(src)) {
			for _, v := range n.values {
				have[v] = true
			}
		}
		for _, v := range englishWordNumbers(src) {
			have[v] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range scanNumbers(text, false) {
		vals := n.values
		if n.scaled {
			vals = vals[1:] // "2 billion" is 2e9, not 2
		}
		found := false
		for _, v := range vals {
			found = found || have[v]
		}
		if !found && !seen[n.text] {
			seen[n.text] = true
			out = append(out, strings.TrimSpace(n.text))
		}
	}
	return out
}
