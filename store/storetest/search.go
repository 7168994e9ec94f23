package storetest

import (
	"embed"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

//go:embed testdata/search_corpus.json
var corpusFS embed.FS

// CorpusPost is one post of the search suite's corpus
// (testdata/search_corpus.json).
type CorpusPost struct {
	Key          string `json:"key"`
	Source       string `json:"source"`
	Day          int    `json:"day"` // published t0 + Day days
	Title        string `json:"title"`
	Body         string `json:"body"`
	TitleEN      string `json:"title_en"`
	BodyEN       string `json:"body_en"`
	Untranslated bool   `json:"untranslated"` // published as original after a failed translation
	English      bool   `json:"english"`      // an English source: needs no translation
}

// Corpus is the search suite's posts.
func Corpus(t testing.TB) []CorpusPost {
	t.Helper()
	b, err := corpusFS.ReadFile("testdata/search_corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var ps []CorpusPost
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatalf("search corpus: %v", err)
	}
	return ps
}

// LoadCorpus stores the corpus in s, every post ready, and returns key → id.
func LoadCorpus(t testing.TB, s *store.Store) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	out := map[string]int64{}
	for _, p := range Corpus(t) {
		pub := t0().Add(time.Duration(p.Day) * 24 * time.Hour)
		it := model.Item{Key: p.Key, GUID: p.Key, Link: "http://example.gov.cn/" + p.Key + ".html",
			Title: p.Title, ContentHTML: p.Body, Language: "zh", Published: pub, ContentHash: "h1", BackfillRank: -1}
		if p.English {
			it.Language = "en"
		}
		res, err := s.UpsertItems(ctx, p.Source, []model.Item{it}, pub)
		if err != nil || len(res.New) != 1 {
			t.Fatalf("upsert %s: %v %+v", p.Key, err, res)
		}
		id := res.New[0]
		var tr model.Translation
		switch {
		case p.Untranslated:
			tr.Untranslated = true
		case !p.English:
			tr = model.Translation{TitleEN: p.TitleEN, ContentHTMLEN: p.BodyEN, TranslatedBy: "test/model"}
		}
		if err := s.MarkReady(ctx, id, tr, nil, pub); err != nil {
			t.Fatalf("mark %s ready: %v", p.Key, err)
		}
		out[p.Key] = id
	}
	return out
}

// SearchCase is one query of the suite and the corpus keys it finds.
type SearchCase struct {
	Name      string
	Query     string
	SourceIDs []string
	FromDay   int               // 0: open
	ToDay     int               // 0: open
	Glossary  map[string]string // query expanded with these synonyms
	Want      []string
}

// SearchCases are the suite's queries over the corpus; every engine must
// find exactly these posts.
func SearchCases() []SearchCase {
	return []SearchCase{
		{Name: "English phrase words", Query: "Greater Bay Area", Want: []string{"gba-forum", "gba-rail"}},
		{Name: "Chinese three characters", Query: "大湾区", Want: []string{"gba-forum", "gba-rail"}},
		{Name: "Chinese two characters", Query: "湾区", Want: []string{"gba-forum", "gba-rail", "untranslated"}},
		{Name: "Chinese two characters flood", Query: "防汛", Want: []string{"flood"}},
		{Name: "one Chinese character", Query: "汛", Want: []string{"flood"}},
		{Name: "stemmed plural", Query: "ports", Want: []string{"port-upgrade", "porting-policy", "xss"}},
		{Name: "stemmed gerund", Query: "porting", Want: []string{"port-upgrade", "porting-policy", "xss"}},
		{Name: "stemmed singular", Query: "Flood", Want: []string{"flood"}},
		{Name: "two words", Query: "bay area", Want: []string{"english-source", "gba-forum", "gba-rail"}},
		{Name: "quoted phrase and word", Query: `"bay area" cooperation`, Want: []string{"english-source"}},
		// Every post that says "bay area" holds both words: only the phrase
		// check tells them apart.
		{Name: "quoted phrase in the wrong order", Query: `"area bay"`, Want: nil},
		{Name: "Han word whose pairs are apart", Query: "省港澳", Want: nil},
		{Name: "English and Chinese", Query: "railway 肇庆", Want: []string{"gba-rail"}},
		{Name: "source filter", Query: "湾区", SourceIDs: []string{"gd-gov"}, Want: []string{"untranslated"}},
		{Name: "date filter", Query: "湾区", FromDay: 2, ToDay: 12, Want: []string{"gba-rail", "untranslated"}},
		{Name: "markup is not text", Query: "evil", Want: nil},
		{Name: "no match", Query: "tokyo", Want: nil},
		{Name: "glossary synonym of Chinese", Query: "湾区", Glossary: map[string]string{"湾区": "Bay Area"},
			Want: []string{"english-source", "gba-forum", "gba-rail", "untranslated"}},
		{Name: "glossary synonym of English", Query: "bay area", Glossary: map[string]string{"湾区": "Bay Area"},
			Want: []string{"english-source", "gba-forum", "gba-rail", "untranslated"}},
		{Name: "punctuation only words", Query: "bay, area!", Want: []string{"english-source", "gba-forum", "gba-rail"}},
	}
}

// Run runs one case on s and returns the keys found, in result order.
func (c SearchCase) Run(t testing.TB, s *store.Store, ids map[string]int64, order string) []string {
	t.Helper()
	q, err := fulltext.Parse(c.Query)
	if err != nil {
		t.Fatalf("parse %q: %v", c.Query, err)
	}
	if c.Glossary != nil {
		q = q.Expand(fulltext.NewSynonyms(c.Glossary))
	}
	sq := store.SearchQuery{Query: q, SourceIDs: c.SourceIDs, Order: order, Limit: 2}
	if c.FromDay > 0 {
		sq.From = t0().Add(time.Duration(c.FromDay) * 24 * time.Hour)
	}
	if c.ToDay > 0 {
		sq.To = t0().Add(time.Duration(c.ToDay) * 24 * time.Hour)
	}
	byID := map[int64]string{}
	for k, id := range ids {
		byID[id] = k
	}
	var got []string
	for page := 0; ; page++ {
		res, err := s.Search(t.Context(), sq)
		if err != nil {
			t.Fatalf("search %q: %v", c.Query, err)
		}
		for _, h := range res.Hits {
			got = append(got, byID[h.Item.ID])
		}
		if res.Next == "" {
			break
		}
		if page > 10 {
			t.Fatalf("search %q: pages do not end", c.Query)
		}
		sq.After = res.Next
	}
	return got
}

func testSearch(t *testing.T, s *store.Store) {
	ids := LoadCorpus(t, s)
	for _, c := range SearchCases() {
		t.Run(c.Name, func(t *testing.T) {
			for _, order := range []string{store.SearchByRank, store.SearchByDate} {
				got := c.Run(t, s, ids, order)
				if order == store.SearchByDate {
					// Newest first, and paging neither repeats nor skips.
					want := slices.Clone(c.Want)
					slices.SortFunc(want, func(a, b string) int { return int(ids[b] - ids[a]) })
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%q by date (-want +got):\n%s", c.Query, diff)
					}
					continue
				}
				slices.Sort(got)
				if diff := cmp.Diff(c.Want, got); diff != "" {
					t.Errorf("%q by rank (-want +got):\n%s", c.Query, diff)
				}
			}
		})
	}
	t.Run("title match ranks first", func(t *testing.T) {
		got := SearchCase{Query: "railway"}.Run(t, s, ids, store.SearchByRank)
		if len(got) != 1 || got[0] != "gba-rail" {
			t.Errorf("railway: %v", got)
		}
		// "ports": the posts titled with it, newest first, then the one that
		// only says it in the body (newer than one of them), across pages of 1.
		c := SearchCase{Query: "ports"}
		if diff := cmp.Diff([]string{"xss", "port-upgrade", "porting-policy"}, c.Run(t, s, ids, store.SearchByRank)); diff != "" {
			t.Errorf("ports by rank (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"xss", "porting-policy", "port-upgrade"}, c.Run(t, s, ids, store.SearchByDate)); diff != "" {
			t.Errorf("ports by date (-want +got):\n%s", diff)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		q, _ := fulltext.Parse("bay")
		for _, after := range []string{"x1_2", "r1_2", "d1_x", "dz_1", "d0", "d-1"} {
			if _, err := s.Search(t.Context(), store.SearchQuery{Query: q, After: after, Order: store.SearchByDate}); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("after %q: error %v, want ErrBadCursor", after, err)
			}
		}
	})
}

// testSearchFollowsWrites checks that the index follows every write: a
// retranslated post is found by its new text at once and no longer by its
// old one; a post whose original changed leaves the results until it is
// ready again, then is found by its new original.
func testSearchFollowsWrites(t *testing.T, s *store.Store) {
	ctx := t.Context()
	find := func(query string) []int64 {
		t.Helper()
		q, err := fulltext.Parse(query)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Search(ctx, store.SearchQuery{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, h := range res.Hits {
			out = append(out, h.Item.ID)
		}
		return out
	}
	it := item("k", "h1", t0())
	it.Title, it.ContentHTML = "西江防汛", "<p>防汛准备</p>"
	id := upsert(t, s, "src", t0(), it).New[0]
	if got := find("防汛"); got != nil {
		t.Errorf("a post not ready yet is found: %v", got)
	}
	tr := model.Translation{TitleEN: "Flood control", ContentHTMLEN: "<p>Preparations</p>", TranslatedBy: "test/model"}
	if err := s.MarkReady(ctx, id, tr, nil, t0()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"防汛", "flood", "preparation"} {
		if got := find(q); !slices.Equal(got, []int64{id}) {
			t.Errorf("ready post: %q finds %v, want [%d]", q, got, id)
		}
	}
	tr.TitleEN, tr.ContentHTMLEN = "Flood prevention", "<p>Readiness</p>"
	if err := s.MarkReady(ctx, id, tr, nil, t0().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := find("readiness"); !slices.Equal(got, []int64{id}) {
		t.Errorf("retranslated: new text finds %v", got)
	}
	if got := find("preparation"); got != nil {
		t.Errorf("retranslated: old text still finds %v", got)
	}
	it.Title, it.ContentHTML, it.ContentHash = "西江抗旱", "<p>抗旱准备</p>", "h2"
	upsert(t, s, "src", t0().Add(2*time.Hour), it)
	if got := find("防汛"); got != nil {
		t.Errorf("changed original, not ready: old text finds %v", got)
	}
	if err := s.MarkReady(ctx, id, model.Translation{TitleEN: "Drought relief", ContentHTMLEN: "<p>Readiness</p>",
		TranslatedBy: "test/model"}, nil, t0().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := find("抗旱"); !slices.Equal(got, []int64{id}) {
		t.Errorf("corrected original: new text finds %v", got)
	}
	if got := find("防汛"); got != nil {
		t.Errorf("corrected original: old text finds %v", got)
	}
	if err := s.SetItemState(ctx, id, model.StateNew); err != nil {
		t.Fatal(err)
	}
	if got := find("抗旱"); got != nil {
		t.Errorf("post no longer ready is found: %v", got)
	}
}

// RunSearch runs the search behaviours; open must return a new, empty,
// migrated store for each call.
func RunSearch(t *testing.T, open func(t *testing.T) *store.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Search", testSearch},
		{"SearchFollowsWrites", testSearchFollowsWrites},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// Day is the corpus's publication time of day n.
func Day(n int) time.Time { return t0().Add(time.Duration(n) * 24 * time.Hour) }
