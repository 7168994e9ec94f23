package server

import (
	"strconv"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

func snippetItem(id int64) model.Item {
	return model.Item{
		ID: id, Title: "粤港澳大湾区建设", ContentHTML: "<p>粤港澳大湾区建设。</p>",
		TitleEN: "Building the Greater Bay Area", ContentHTMLEN: "<p>The bay area grows.</p>", TranslatedBy: "deepl",
	}
}

// TestSnippetTextsMissAfterEdit: the cache answers an unchanged post from
// its entry, and a post whose text changed in any of the fields its
// snippet text is made of (a correction, a retranslation) by its new text.
func TestSnippetTextsMissAfterEdit(t *testing.T) {
	edits := []struct {
		name string
		edit func(*model.Item)
	}{
		{"corrected English body", func(it *model.Item) { it.ContentHTMLEN = "<p>The corrected text.</p>" }},
		{"retranslated title", func(it *model.Item) { it.TitleEN = "Greater Bay Area construction" }},
		{"English summary", func(it *model.Item) { it.SummaryEN = "New summary." }},
		{"original body", func(it *model.Item) { it.ContentHTML = "<p>更正后的正文。</p>" }},
		{"original title", func(it *model.Item) { it.Title = "更正标题" }},
		{"original summary", func(it *model.Item) { it.Summary = "摘要" }},
		{"translation dropped", func(it *model.Item) { it.TranslatedBy = "" }},
		{"marked untranslated", func(it *model.Item) { it.Untranslated = true }},
		{"title only", func(it *model.Item) { it.TitleOnly = true }},
	}
	for _, tc := range edits {
		t.Run(tc.name, func(t *testing.T) {
			c := newSnippetTexts(16, 1<<20)
			it := snippetItem(1)
			c.get(it)
			// A marked entry shows whether get answered from the cache.
			k := c.key(it)
			mark := store.SearchText{Title: "cached"}
			c.bytes += textSize(mark) - textSize(c.entries[k])
			c.entries[k] = mark
			if got := c.get(it); got != mark {
				t.Fatalf("unchanged post: got %+v, want the cached entry", got)
			}
			tc.edit(&it)
			if got, want := c.get(it), store.SnippetTextOf(it, snippetScanRunes); got != want {
				t.Errorf("edited post: got %+v, want its new text %+v", got, want)
			}
		})
	}
}

// TestSnippetTextsBounded: entries and bytes stay within the bounds however
// many posts are looked up, the bytes counted match the entries, and a text
// too big for the cache is returned without being kept.
func TestSnippetTextsBounded(t *testing.T) {
	cases := []struct {
		name     string
		max      int
		maxBytes int64
		posts    int
		body     int // English words in each body
	}{
		{"by count", 10, 1 << 20, 100, 5},
		{"by bytes", 1000, 16 << 10, 200, 40},
		{"too big to keep", 1000, 16 << 10, 20, 2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newSnippetTexts(tc.max, tc.maxBytes)
			for i := range tc.posts {
				it := snippetItem(int64(i))
				it.ContentHTMLEN = "<p>" + strings.Repeat("word"+strconv.Itoa(i)+" ", tc.body) + "</p>"
				if got, want := c.get(it), store.SnippetTextOf(it, snippetScanRunes); got != want {
					t.Fatalf("post %d: got %+v, want %+v", i, got, want)
				}
				var sum int64
				for _, e := range c.entries {
					sum += textSize(e)
				}
				if len(c.entries) > tc.max || c.bytes > tc.maxBytes || sum != c.bytes {
					t.Fatalf("after post %d: %d entries of %d bytes (counted %d), bounds %d, %d",
						i, len(c.entries), sum, c.bytes, tc.max, tc.maxBytes)
				}
			}
			if len(c.entries) == 0 && tc.body < 1000 {
				t.Error("nothing kept")
			}
		})
	}
}
