package translate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Glossary is a fixed set of source terms and their required English.
// It is built once and safe for concurrent use. A nil *Glossary has no terms.
type Glossary struct {
	terms []glossTerm // longest source first (in characters), then by source
}

type glossTerm struct {
	source, target string
	keep           bool // target "=": not a term, only stops shorter terms matching inside it
}

// KeepTarget as a glossary target marks a phrase that is not a term: it is
// sent unchanged and keeps shorter terms from matching inside it
// (城市长远 = 城市 + 长远, not 市长).
const KeepTarget = "="

// termUse is a glossary term found in a text.
type termUse struct {
	Source, Target string
}

// NewGlossary builds a glossary. Sources and targets are trimmed; an empty
// source or target is an error (every problem is reported).
func NewGlossary(entries map[string]string) (*Glossary, error) {
	g := &Glossary{}
	var errs []error
	for _, src := range slices.Sorted(maps.Keys(entries)) {
		s, t := strings.TrimSpace(src), strings.TrimSpace(entries[src])
		switch {
		case s == "":
			errs = append(errs, fmt.Errorf("translate: glossary: empty source term (target %q)", t))
			continue
		case t == "":
			errs = append(errs, fmt.Errorf("translate: glossary: term %q has an empty target", s))
			continue
		case !utf8.ValidString(s) || !utf8.ValidString(t):
			errs = append(errs, fmt.Errorf("translate: glossary: term %q is not valid UTF-8", s))
			continue
		}
		g.terms = append(g.terms, glossTerm{source: s, target: t, keep: t == KeepTarget})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(g.terms, func(a, b glossTerm) int {
		if la, lb := utf8.RuneCountInString(a.source), utf8.RuneCountInString(b.source); la != lb {
			return lb - la
		}
		return strings.Compare(a.source, b.source)
	})
	g.terms = slices.CompactFunc(g.terms, func(a, b glossTerm) bool { return a.source == b.source })
	return g, nil
}

// Len returns the number of terms.
func (g *Glossary) Len() int {
	if g == nil {
		return 0
	}
	return len(g.terms)
}

// Entries returns a copy of the terms (source → target).
func (g *Glossary) Entries() map[string]string {
	out := map[string]string{}
	if g == nil {
		return out
	}
	for _, t := range g.terms {
		out[t.source] = t.target
	}
	return out
}

type termSpan struct {
	start, end int // byte offsets
	term       int // index into g.terms
}

// find returns the non-overlapping occurrences of glossary terms in s,
// ordered by position. Longer terms win: every occurrence of a longer term
// is taken before any shorter term is looked for, so 粤港澳大湾区 is never
// split to give 大湾区.
func (g *Glossary) find(s string) []termSpan {
	if g == nil || s == "" {
		return nil
	}
	var spans []termSpan
	var covered []bool
	for i, t := range g.terms {
		from := 0
		for from < len(s) {
			j := strings.Index(s[from:], t.source)
			if j < 0 {
				break
			}
			start, end := from+j, from+j+len(t.source)
			if covered != nil && slices.Contains(covered[start:end], true) {
				_, n := utf8.DecodeRuneInString(s[start:])
				from = start + n
				continue
			}
			if covered == nil {
				covered = make([]bool, len(s))
			}
			for k := start; k < end; k++ {
				covered[k] = true
			}
			spans = append(spans, termSpan{start: start, end: end, term: i})
			from = end
		}
	}
	slices.SortFunc(spans, func(a, b termSpan) int { return a.start - b.start })
	return spans
}

// apply replaces every glossary term in s by its target and returns the
// result with the terms used. A target written between two letters or
// digits gets a space on that side, so the engine sees a separate word.
func (g *Glossary) apply(s string, uses map[string]string) string {
	spans := g.find(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	prev := 0
	for _, sp := range spans {
		t := g.terms[sp.term]
		if t.keep {
			continue
		}
		uses[t.source] = t.target
		b.WriteString(s[prev:sp.start])
		if r, _ := utf8.DecodeLastRuneInString(s[:sp.start]); wordRune(r) && startsWord(t.target) {
			b.WriteByte(' ')
		}
		b.WriteString(t.target)
		if r, _ := utf8.DecodeRuneInString(s[sp.end:]); wordRune(r) && endsWord(t.target) {
			b.WriteByte(' ')
		}
		prev = sp.end
	}
	b.WriteString(s[prev:])
	return b.String()
}

func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func startsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return wordRune(r)
}

func endsWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return wordRune(r)
}

// LoadGlossaryFile reads a glossary TSV file: one "source<TAB>target" per
// line; blank lines and lines starting with # are skipped. Errors name
// file:line. A term given twice with different targets is an error.
func LoadGlossaryFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("translate: glossary: %w", err)
	}
	return parseGlossaryTSV(path, data)
}

func parseGlossaryTSV(name string, data []byte) (map[string]string, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	out := map[string]string{}
	lineOf := map[string]int{}
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			errs = append(errs, fmt.Errorf("translate: glossary %s:%d: not valid UTF-8", name, n))
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 2 {
			errs = append(errs, fmt.Errorf("translate: glossary %s:%d: want source<TAB>target, found %d tab-separated fields", name, n, len(fields)))
			continue
		}
		src, tgt := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		switch {
		case src == "":
			errs = append(errs, fmt.Errorf("translate: glossary %s:%d: empty source term", name, n))
			continue
		case tgt == "":
			errs = append(errs, fmt.Errorf("translate: glossary %s:%d: term %q has an empty target", name, n, src))
			continue
		}
		if old, ok := out[src]; ok && old != tgt {
			errs = append(errs, fmt.Errorf("translate: glossary %s:%d: term %q already given on line %d with target %q", name, n, src, lineOf[src], old))
			continue
		}
		out[src] = tgt
		lineOf[src] = n
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("translate: glossary %s:%d: %w", name, n+1, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// BuildGlossary merges the glossary file (when file is not empty) with the
// inline entries of translation.glossary, the inline entries winning, and
// builds the glossary.
func BuildGlossary(inline map[string]string, file string) (*Glossary, error) {
	entries := map[string]string{}
	if file != "" {
		fromFile, err := LoadGlossaryFile(file)
		if err != nil {
			return nil, err
		}
		maps.Copy(entries, fromFile)
	}
	maps.Copy(entries, inline)
	return NewGlossary(entries)
}
