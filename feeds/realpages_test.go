package feeds

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// realPage is one saved real page of testdata/realpages and what the page
// itself says (see testdata/realpages/README.md).
type realPage struct {
	File        string            `json:"file"`
	URL         string            `json:"url"`
	ContentType string            `json:"content_type"`
	Kind        string            `json:"kind"`
	Selector    string            `json:"selector"` // full_text.selector (readability is always on)
	Title       string            `json:"title"`
	Date        string            `json:"date"` // China time to the minute; "" the page gives none
	Author      string            `json:"author"`
	Meta        map[string]string `json:"meta"`
	BodyStarts  string            `json:"body_starts"`
	BodyEnds    string            `json:"body_ends"`
	// KnownMisses lists fields the extractor is known to get wrong on this
	// page, with the reason; such a field passing is reported too, so the
	// list stays true.
	KnownMisses map[string]string `json:"known_misses"`
}

func loadRealPages(t testing.TB) []realPage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "realpages", "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pages []realPage
	if err := json.Unmarshal(b, &pages); err != nil {
		t.Fatalf("expectations.json: %v", err)
	}
	return pages
}

// extractRealPage runs the article stage as Poll does for a post whose list
// gave only the link.
func extractRealPage(t testing.TB, n *Normalizer, p realPage) (model.Item, Article) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "realpages", p.File))
	if err != nil {
		t.Fatal(err)
	}
	body := DecodeToUTF8(raw, p.ContentType)
	a, err := ExtractArticle(body, p.URL, &config.FullText{Selector: p.Selector, Readability: true}, model.China())
	r := RawItem{Link: p.URL, BaseURL: p.URL}
	r.mergeArticle(a, err == nil)
	if err != nil {
		t.Errorf("%s: %v", p.File, err)
	}
	src := config.Source{ID: "real"}
	return n.Normalize(src, model.China(), r, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), a
}

// TestRealPages runs the extraction stage over every saved real page and
// checks each field against what the page says; it logs per-field accuracy.
func TestRealPages(t *testing.T) {
	pages := loadRealPages(t)
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
	n := NewNormalizer()
	type score struct{ ok, total int }
	acc := map[string]*score{}
	fields := []string{"date", "title", "author", "meta", "body start", "body end"}
	for _, f := range fields {
		acc[f] = &score{}
	}
	for _, p := range pages {
		it, a := extractRealPage(t, n, p)
		text := strings.TrimSpace(plainText(it.ContentHTML))
		gotDate := ""
		if !it.Published.IsZero() {
			gotDate = it.Published.In(model.China()).Format("2006-01-02 15:04")
		}
		head := string([]rune(text)[:min(len([]rune(text)), 300)])
		tail := string([]rune(text)[max(0, len([]rune(text))-300):])
		checks := map[string]struct {
			ok        bool
			got, want string
		}{
			"date":       {gotDate == p.Date, gotDate + " (" + a.DateRule + ")", p.Date},
			"title":      {it.Title == p.Title, it.Title + " (" + a.TitleRule + ")", p.Title},
			"author":     {it.Author == p.Author, it.Author + " (" + a.AuthorRule + ")", p.Author},
			"meta":       {maps.Equal(it.Meta, p.Meta), fmt.Sprint(it.Meta), fmt.Sprint(p.Meta)},
			"body start": {strings.HasPrefix(text, p.BodyStarts), head, p.BodyStarts},
			"body end":   {strings.HasSuffix(text, p.BodyEnds), tail, p.BodyEnds},
		}
		for _, f := range fields {
			c := checks[f]
			acc[f].total++
			if c.ok {
				acc[f].ok++
			}
			why, known := p.KnownMisses[f]
			switch {
			case !c.ok && !known:
				t.Errorf("%s: %s = %q, want %q", p.File, f, c.got, c.want)
			case c.ok && known:
				t.Errorf("%s: %s now right (known miss %q): update expectations.json", p.File, f, why)
			}
		}
	}
	for _, f := range fields {
		s := acc[f]
		t.Logf("accuracy %-10s %d/%d = %.0f%%", f, s.ok, s.total, 100*float64(s.ok)/float64(s.total))
	}
	// Every file in the folder is in the expectations and vice versa.
	files, _ := filepath.Glob(filepath.Join("testdata", "realpages", "*.html"))
	var want []string
	for _, p := range pages {
		want = append(want, filepath.Join("testdata", "realpages", p.File))
	}
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Errorf("pages on disk %v, in expectations.json %v", files, want)
	}
}
