package fulltext

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"English stemmed", "Ports ported porting", []string{"port", "port", "port"}},
		{"possessive", "China's ports", []string{"china", "port"}},
		{"Han pairs", "大湾区", []string{"大湾", "湾区"}},
		{"lone Han character", "汛", []string{"汛"}},
		{"mixed", "2024年粤港澳GDP增长", []string{"2024", "年粤", "粤港", "港澳", "gdp", "增长"}},
		{"punctuation splits runs", "防汛，抗旱。", []string{"防汛", "抗旱"}},
		{"long word dropped", strings.Repeat("a", 65) + " ok", []string{"ok"}},
		{"empty", " ,. ", nil},
		{"letters beyond ASCII", "Zürich café ٣", []string{"zürich", "café", "٣"}},
		{"Han outside the main block", "〇〇㐀", []string{"〇〇", "〇㐀"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, termTexts(tc.in)); diff != "" {
				t.Errorf("Terms(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestStem(t *testing.T) {
	// Pairs from Porter's paper and its published vocabulary.
	tests := map[string]string{
		"caresses": "caress", "ponies": "poni", "cats": "cat", "feed": "feed", "agreed": "agre",
		"plastered": "plaster", "motoring": "motor", "sing": "sing", "conflated": "conflat",
		"hopping": "hop", "filing": "file", "happy": "happi", "relational": "relat",
		"conditional": "condit", "rational": "ration", "digitizer": "digit", "generalization": "gener",
		"electricity": "electr", "hopeful": "hope", "goodness": "good", "revival": "reviv",
		"adjustment": "adjust", "adoption": "adopt", "controlling": "control", "rolling": "roll",
		"probate": "probat", "rate": "rate", "cease": "ceas", "meetings": "meet", "as": "as",
	}
	for in, want := range tests {
		if got := stem(in); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		fts5      string
		positions bool // NeedsPositions
		err       error
	}{
		{"words", "Greater Bay Area", `"greater" AND "bai" AND "area"`, false, nil},
		{"Han word", "大湾区", `"大湾 湾区"`, true, nil},
		{"two characters", "湾区", `"湾区"`, false, nil},
		{"one character", "汛", `"汛"*`, false, nil},
		{"phrase", `"bay area" ports`, `"bai area" AND "port"`, true, nil},
		{"mixed field", "GDP增长", `"gdp" AND "增长"`, false, nil},
		{"duplicates", "port ports", `"port"`, false, nil},
		{"quotes cannot escape", `a"b' OR c`, `"a" AND "b" AND "or" AND "c"`, false, nil},
		{"empty", `  "" ,.`, "", false, ErrEmptyQuery},
		{"too long", strings.Repeat("a ", 101), "", false, ErrQueryTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Parse(tc.in)
			if err != tc.err { //nolint:errorlint // sentinels returned as they are
				t.Fatalf("error = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got := q.FTS5(); got != tc.fts5 {
				t.Errorf("FTS5 = %s, want %s", got, tc.fts5)
			}
			if got := q.NeedsPositions(); got != tc.positions {
				t.Errorf("NeedsPositions = %v, want %v", got, tc.positions)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	q, err := Parse("bay 湾区")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
		max  int
		want []Fragment
	}{
		{"marks words", "The Bay Area plan", 100, []Fragment{{Text: "The "}, {Text: "Bay", Mark: true}, {Text: " Area plan"}}},
		{"marks Han pairs as one", "粤港澳大湾区建设", 100, []Fragment{{Text: "粤港澳大"}, {Text: "湾区", Mark: true}, {Text: "建设"}}},
		{"no match: the start", "Nothing to see here at all", 10, []Fragment{{Text: "Nothing to"}, {Text: "…"}}},
		{"window around the match", strings.Repeat("word ", 40) + "the bay is here", 20,
			[]Fragment{{Text: "…"}, {Text: "the "}, {Text: "bay", Mark: true}, {Text: " is here"}}},
		{"a text that fits is whole", strings.Repeat("word ", 15) + "the bay", 100,
			[]Fragment{{Text: strings.Repeat("word ", 15) + "the "}, {Text: "bay", Mark: true}}},
		{"empty", "  ", 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Snippet(tc.text, q, tc.max)); diff != "" {
				t.Errorf("Snippet (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseSnippet checks that any query either fails cleanly or gives
// index syntax made of its terms only, and that snippets keep the text.
func FuzzParseSnippet(f *testing.F) {
	for _, s := range []string{"Greater Bay Area", `"bay area" 大湾区`, "汛", `a"b'c\d`, "\xff\xfe", "China’s ports"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		for _, g := range q.Groups {
			for _, term := range g.Terms {
				if strings.ContainsAny(term, `"'\ *:&|!<>()`) || term == "" {
					t.Fatalf("term %q of %q could break index syntax", term, s)
				}
			}
		}
		if diff := cmp.Diff(matchingTerms(s, q, nil), matchingTerms(s, q, newTermFilter(q))); diff != "" {
			t.Fatalf("%q: the term filter changes the matches:\n%s", s, diff)
		}
		var b strings.Builder
		for _, fr := range Snippet(s, q, 50) {
			if fr.Text != "…" {
				b.WriteString(fr.Text)
			}
		}
		if got := b.String(); utf8.ValidString(s) && !strings.Contains(strings.TrimSpace(s), got) {
			t.Fatalf("snippet %q is not a piece of %q", got, s)
		}
	})
}

func TestExpand(t *testing.T) {
	syn := NewSynonyms(map[string]string{"大湾区": "Greater Bay Area", "肇庆": "Zhaoqing", "七星岩": "=", "端砚": "Duan inkstone"})
	tests := []struct {
		in, fts5 string
	}{
		{"Greater Bay Area", `("greater bai area" OR "大湾 湾区")`},
		{"the greater bay area plan", `"the" AND ("greater bai area" OR "大湾 湾区") AND "plan"`},
		{"大湾区", `("大湾 湾区" OR "greater bai area")`},
		{"zhaoqing 大湾区", `("zhaoq" OR "肇庆") AND ("大湾 湾区" OR "greater bai area")`},
		{"duan inkstones", `("duan inkston" OR "端砚")`},
		{"greater bay", `"greater" AND "bai"`},
		{"七星岩", `"七星 星岩"`},
	}
	for _, tc := range tests {
		q, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		q = q.Expand(syn)
		if got := q.FTS5(); got != tc.fts5 {
			t.Errorf("%q: FTS5 %s, want %s", tc.in, got, tc.fts5)
		}
	}
	q, _ := Parse("Greater Bay Area")
	q = q.Expand(syn)
	if !q.NeedsPositions() {
		t.Error("an expanded phrase needs positions")
	}
	if !q.Matches("湾区") {
		t.Error("the counterpart's terms are not marked in snippets")
	}
}

// TestMatch checks Document.Match and MatchTitle on the cases of
// testdata/match.json: FTS5's answer for the same document and query.
func TestMatch(t *testing.T) {
	b, err := os.ReadFile("testdata/match.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name       string            `json:"name"`
		Title      []string          `json:"title"`
		Body       []string          `json:"body"`
		Query      string            `json:"query"`
		Glossary   map[string]string `json:"glossary"`
		Match      bool              `json:"match"`
		TitleMatch bool              `json:"title_match"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("testdata/match.json: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			q, err := Parse(tc.Query)
			if err != nil {
				t.Fatal(err)
			}
			if tc.Glossary != nil {
				q = q.Expand(NewSynonyms(tc.Glossary))
			}
			d := NewDocument(tc.Title, tc.Body)
			if got := d.Match(q); got != tc.Match {
				t.Errorf("Match = %v, want %v (document %+v, query %s)", got, tc.Match, d, q.FTS5())
			}
			if got := d.MatchTitle(q); got != tc.TitleMatch {
				t.Errorf("MatchTitle = %v, want %v (document %+v, query %s)", got, tc.TitleMatch, d, q.FTS5())
			}
		})
	}
}

func TestPrefixRange(t *testing.T) {
	tests := []struct{ in, lo, hi string }{
		{"汛", "汛", "汜"},
		{"ab", "ab", "ac"},
		{"\ud7ff", "\ud7ff", "\ue000"},
	}
	for _, tc := range tests {
		lo, hi := PrefixRange(tc.in)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("PrefixRange(%q) = %q, %q; want %q, %q", tc.in, lo, hi, tc.lo, tc.hi)
		}
		if !(lo+"期" < hi) || !(lo < hi) {
			t.Errorf("PrefixRange(%q): %q is not below %q", tc.in, lo+"期", hi)
		}
	}
}

// matchingTerms are the terms of text that q looks for, found with or
// without q's filter.
func matchingTerms(text string, q Query, filter *termFilter) []Term {
	var out []Term
	for _, t := range terms(text, nil, filter) {
		if q.Matches(t.Text) {
			out = append(out, t)
		}
	}
	return out
}

// TestTermFilter: skipping the words and Han text a query cannot match
// leaves the matches of every case of testdata/match.json as they are.
func TestTermFilter(t *testing.T) {
	b, err := os.ReadFile("testdata/match.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Title, Body []string
		Query       string
		Glossary    map[string]string
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	queries := []string{"ies", "Agreed", "happy", "yes", "ated", "2024 港澳", "Zürich port"}
	var texts []string
	for _, c := range cases {
		queries = append(queries, c.Query)
		texts = append(texts, c.Title...)
		texts = append(texts, c.Body...)
	}
	texts = append(texts, "Ies agreed; HAPPY yes! Ated 2024年粤港澳 zürich ports")
	for _, qs := range queries {
		q, err := Parse(qs)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range texts {
			if diff := cmp.Diff(matchingTerms(text, q, nil), matchingTerms(text, q, newTermFilter(q))); diff != "" {
				t.Errorf("query %q, text %q: filter changes the matches (-all +filtered):\n%s", qs, text, diff)
			}
		}
	}
}
