package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// testUpsertConcurrent: polls storing at the same time (SQLite writes them
// in one shared transaction) each get their own result, exactly as if
// they had run one after another; a caller whose context is cancelled
// fails alone.
func testUpsertConcurrent(t *testing.T, s *store.Store) {
	readyFor := func(channel string) store.UpsertOptions {
		return store.UpsertOptions{Ready: func(model.Item) (model.Translation, []string, bool) {
			return model.Translation{Untranslated: true}, []string{channel}, true
		}}
	}
	type poll struct {
		source    string
		keys      int  // posts k0…k{keys-1}
		ready     bool // stored ready, with a delivery to "@"+source
		cancelled bool // its context is cancelled before it starts
	}
	cases := []struct {
		name  string
		polls []poll
		// wantNew: new posts stored per source, over all its polls.
		wantNew map[string]int
	}{
		{
			name: "sixteen sources, half ready",
			polls: func() []poll {
				var ps []poll
				for i := range 16 {
					ps = append(ps, poll{source: fmt.Sprintf("c1-%02d", i), keys: 10, ready: i%2 == 1})
				}
				return ps
			}(),
			wantNew: func() map[string]int {
				m := map[string]int{}
				for i := range 16 {
					m[fmt.Sprintf("c1-%02d", i)] = 10
				}
				return m
			}(),
		},
		{
			name:    "one source polled four times at once",
			polls:   []poll{{source: "c2", keys: 10}, {source: "c2", keys: 10}, {source: "c2", keys: 10, ready: true}, {source: "c2", keys: 12}},
			wantNew: map[string]int{"c2": 12},
		},
		{
			name: "a cancelled caller among others",
			polls: []poll{{source: "c3-a", keys: 5}, {source: "c3-b", keys: 5, cancelled: true}, {source: "c3-c", keys: 5, ready: true},
				{source: "c3-d", keys: 5}, {source: "c3-e", keys: 5}},
			wantNew: map[string]int{"c3-a": 5, "c3-c": 5, "c3-d": 5, "c3-e": 5}, // c3-b: 0 or 5, checked below
		},
	}
	for _, c := range cases {
		results := make([]store.UpsertResult, len(c.polls))
		errs := make([]error, len(c.polls))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, p := range c.polls {
			var its []model.Item
			for k := range p.keys {
				its = append(its, item(fmt.Sprintf("k%d", k), "h", t0()))
			}
			opt := store.UpsertOptions{}
			if p.ready {
				opt = readyFor("@" + p.source)
			}
			ctx := t.Context()
			if p.cancelled {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				cancel()
			}
			wg.Go(func() {
				<-start
				results[i], errs[i] = s.UpsertItemsWith(ctx, p.source, its, t0(), opt)
			})
		}
		close(start)
		wg.Wait()
		gotNew := map[string]int{}
		var allNew []int64
		for i, p := range c.polls {
			r, err := results[i], errs[i]
			if err != nil {
				if !p.cancelled {
					t.Errorf("%s: poll %d (%s): %v", c.name, i, p.source, err)
				}
				if len(r.New)+len(r.Updated)+len(r.Ready)+r.Unchanged != 0 {
					t.Errorf("%s: poll %d failed but reports %+v", c.name, i, r)
				}
				continue
			}
			if got := len(r.New) + r.Unchanged; got != p.keys {
				t.Errorf("%s: poll %d (%s): %d new + %d unchanged, want %d in all", c.name, i, p.source, len(r.New), r.Unchanged, p.keys)
			}
			if p.ready && !slices.Equal(r.Ready, r.New) {
				t.Errorf("%s: poll %d: ready %v, want its new posts %v", c.name, i, r.Ready, r.New)
			}
			if !p.ready && len(r.Ready) != 0 {
				t.Errorf("%s: poll %d: ready %v, want none", c.name, i, r.Ready)
			}
			gotNew[p.source] += len(r.New)
			allNew = append(allNew, r.New...)
		}
		slices.Sort(allNew)
		if len(slices.Compact(slices.Clone(allNew))) != len(allNew) {
			t.Errorf("%s: an id is new in two polls: %v", c.name, allNew)
		}
		for i, p := range c.polls {
			if !p.cancelled {
				continue
			}
			// Either it failed and stored nothing, or it was written with
			// the others.
			if want := len(results[i].New); gotNew[p.source] != want {
				t.Errorf("%s: cancelled poll reports %d new, counted %d", c.name, want, gotNew[p.source])
			}
			c.wantNew[p.source] = len(results[i].New)
		}
		for src, want := range c.wantNew {
			if gotNew[src] != want {
				t.Errorf("%s: %s: %d new, want %d", c.name, src, gotNew[src], want)
			}
			stored, err := s.ListItems(t.Context(), store.ItemQuery{SourceIDs: []string{src}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != want {
				t.Errorf("%s: %s: %d stored, want %d", c.name, src, len(stored), want)
			}
		}
	}
	// Every ready post got its one delivery, to its source's channel.
	bl, err := s.DeliveryBacklogs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bl {
		if b.Channel == "@c2" {
			// c2's ready poll raced three others: it made ready the posts
			// it stored first, at most 10.
			if b.Pending > 10 {
				t.Errorf("%s: %d pending, want at most 10", b.Channel, b.Pending)
			}
			continue
		}
		if b.Pending != 5 && b.Pending != 10 {
			t.Errorf("%s: %d pending, want one per post of the source (5 or 10)", b.Channel, b.Pending)
		}
	}
}

// testImportIndexed: posts stored ready at store time (the import path,
// whose search documents are computed before the write transaction) are
// found exactly as posts made ready one by one: the search suite's cases
// on its corpus, loaded source by source in one call each; and a changed
// post is found by its new text only.
func testImportIndexed(t *testing.T, s *store.Store) {
	ctx := t.Context()
	bySource := map[string][]model.Item{}
	tr := map[string]model.Translation{}
	var sources []string
	for _, p := range Corpus(t) {
		it := model.Item{Key: p.Key, GUID: p.Key, Link: "http://example.gov.cn/" + p.Key + ".html",
			Title: p.Title, ContentHTML: p.Body, Language: "zh", Published: Day(p.Day), ContentHash: "h1", BackfillRank: -1}
		if p.English {
			it.Language = "en"
		}
		switch {
		case p.Untranslated:
			tr[p.Key] = model.Translation{Untranslated: true}
		case !p.English:
			tr[p.Key] = model.Translation{TitleEN: p.TitleEN, ContentHTMLEN: p.BodyEN, TranslatedBy: "test/model"}
		}
		if len(bySource[p.Source]) == 0 {
			sources = append(sources, p.Source)
		}
		bySource[p.Source] = append(bySource[p.Source], it)
	}
	opt := store.UpsertOptions{Ready: func(it model.Item) (model.Translation, []string, bool) { return tr[it.Key], nil, true }}
	ids := map[string]int64{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, src := range sources {
		wg.Go(func() {
			res, err := s.UpsertItemsWith(ctx, src, bySource[src], Day(0), opt)
			if err != nil || len(res.Ready) != len(bySource[src]) {
				t.Errorf("import %s: %+v, %v", src, res, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for i, it := range bySource[src] {
				ids[it.Key] = res.New[i]
			}
		})
	}
	wg.Wait()
	for _, c := range SearchCases() {
		got := c.Run(t, s, ids, store.SearchByRank)
		slices.Sort(got)
		if !slices.Equal(got, c.Want) {
			t.Errorf("%s: %q found %v, want %v", c.Name, c.Query, got, c.Want)
		}
	}
	// An edit at the source, stored ready again: found by its new title only.
	first := bySource[sources[0]][0]
	first.Title, first.ContentHash = "全新标题 zeppelins", "h2"
	delete(tr, first.Key)
	if res, err := s.UpsertItemsWith(ctx, sources[0], []model.Item{first}, Day(1), opt); err != nil || len(res.Ready) != 1 {
		t.Fatalf("edit: %+v, %v", res, err)
	}
	if got := (SearchCase{Query: "zeppelins"}).Run(t, s, ids, store.SearchByRank); !slices.Equal(got, []string{first.Key}) {
		t.Errorf("zeppelins: found %v, want %s", got, first.Key)
	}
}
