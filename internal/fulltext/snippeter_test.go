package fulltext

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// referenceSnippet is Snippet as it was before the Snippeter: every term of
// the text normalised afresh, the query's kept by Matches.
func referenceSnippet(text string, q Query, maxRunes int) []Fragment {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if maxRunes <= 0 {
		maxRunes = 200
	}
	return fragments(text, matchingTerms(text, q, nil), maxRunes)
}

var snippeterTexts = []struct {
	name, text string
	max        int
}{
	{"english", "The Greater Bay Area plan brings investment to the bay and its ports.", 40},
	{"chinese", "粤港澳大湾区建设是国家战略，肇庆积极融入大湾区，招商引资成效显著。", 12},
	{"mixed", "肇庆 Zhaoqing joined the 大湾区 Greater Bay Area; investors’ plans grew.", 30},
	{"one han character", "湾", 10},
	{"empty", "", 10},
	{"spaces only", " \t\n ", 10},
	{"no match", "Nothing here matches any of the words at all.", 15},
	{"very long english", strings.Repeat("City leaders attended the meeting on investment. ", 400) + "the bay area ports", 200},
	{"very long chinese", strings.Repeat("市领导参加活动，推进招商引资。", 500) + "大湾区建设", 80},
	{"default limit", strings.Repeat("word ", 100) + "investment", 0},
}

// TestSnippeterSameAsSnippet: one Snippeter cutting many texts (its word
// cache carried from one to the next, and around again) gives what a fresh
// snippet of each text gives, for English, Chinese and mixed queries.
func TestSnippeterSameAsSnippet(t *testing.T) {
	for _, query := range []string{"bay", "bay area", "investment", "湾区", "大湾区", "招商", "bay 湾区", `"bay area" ports`, "invest*", "zhaoqing 肇庆"} {
		q, err := Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		sn := NewSnippeter(q)
		for round := range 2 {
			for _, tc := range snippeterTexts {
				want := referenceSnippet(tc.text, q, tc.max)
				if diff := cmp.Diff(want, sn.Snippet(tc.text, tc.max)); diff != "" {
					t.Errorf("%q, %s (round %d): Snippeter (-want +got):\n%s", query, tc.name, round, diff)
				}
				if diff := cmp.Diff(want, Snippet(tc.text, q, tc.max)); diff != "" {
					t.Errorf("%q, %s: Snippet (-want +got):\n%s", query, tc.name, diff)
				}
			}
		}
	}
}

// TestSnippeterCacheBounded: a Snippeter fed more distinct words than it
// keeps forgets them rather than growing, and still cuts the same snippets.
func TestSnippeterCacheBounded(t *testing.T) {
	q, err := Parse("w1")
	if err != nil {
		t.Fatal(err)
	}
	sn := NewSnippeter(q)
	for i := range 3 {
		var b strings.Builder
		for j := range maxSnippetWords {
			b.WriteString("w")
			b.WriteString(strings.Repeat("x", i))
			b.WriteString(string(rune('a' + j%26)))
			b.WriteString(strings.Repeat("y", j/26))
			b.WriteString(" ")
		}
		b.WriteString("w1")
		text := b.String()
		if diff := cmp.Diff(referenceSnippet(text, q, 50), sn.Snippet(text, 50)); diff != "" {
			t.Fatalf("text %d (-want +got):\n%s", i, diff)
		}
		if n := len(sn.cache); n > maxSnippetWords+maxSnippetWords {
			t.Fatalf("text %d: %d cached words, more than a text's worth past %d", i, n, maxSnippetWords)
		}
	}
}

// FuzzSnippeter: for any query and texts, a reused Snippeter agrees with a
// fresh reference snippet.
func FuzzSnippeter(f *testing.F) {
	f.Add("bay 湾区", "The Bay Area plan", "粤港澳大湾区建设", 20)
	f.Add("invest*", "investors invest in investment", "", 5)
	f.Add(`"bay area"`, "bay  area bay\narea", "大湾区 Greater Bay Area", 0)
	f.Fuzz(func(t *testing.T, query, a, b string, max int) {
		if max < 0 || max > 500 {
			return
		}
		q, err := Parse(query)
		if err != nil {
			return
		}
		sn := NewSnippeter(q)
		for _, text := range []string{a, b, a} {
			if diff := cmp.Diff(referenceSnippet(text, q, max), sn.Snippet(text, max)); diff != "" {
				t.Fatalf("query %q, text %q, max %d (-want +got):\n%s", query, text, max, diff)
			}
		}
	})
}
