package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// testSummaries: a summary is stored once per item and content hash (the
// first writer wins, concurrent writers included), a rejection is stored
// like a summary, and a new content hash is a new entry.
func testSummaries(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a.example/rss"}); err != nil {
		t.Fatal(err)
	}
	res := upsert(t, s, "a", t0(), item("k1", "h1", t0().Add(-time.Hour)), item("k2", "h2", t0().Add(-time.Hour)))
	id1, id2 := res.New[0], res.New[1]

	if _, err := s.GetSummary(ctx, id1, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSummary before any = %v, want ErrNotFound", err)
	}
	first := model.Summary{ItemID: id1, ContentHash: "h1", Summarizer: "openai/m", Text: "On May 25 the city opened 3 parks.", Chars: 900, CreatedAt: t0()}
	var wg sync.WaitGroup
	got := make([]model.Summary, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Go(func() {
			sm := first
			if i > 0 {
				sm.Text = "another writer's summary"
			}
			got[i], errs[i] = s.PutSummary(ctx, sm)
		})
	}
	wg.Wait()
	winner := got[0]
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("PutSummary %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(winner, got[i]); diff != "" {
			t.Errorf("PutSummary %d returned another summary than the stored one (-first +this):\n%s", i, diff)
		}
	}
	stored, err := s.GetSummary(ctx, id1, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(winner, stored); diff != "" {
		t.Errorf("GetSummary (-put +get):\n%s", diff)
	}
	if stored.Chars != 900 || !stored.CreatedAt.Equal(t0()) || stored.Summarizer != "openai/m" {
		t.Errorf("stored = %+v, want chars, time and summarizer kept", stored)
	}

	rejected := model.Summary{ItemID: id2, ContentHash: "h2", Summarizer: "openai/m", Rejected: "number 7 is not in the post", Chars: 40, CreatedAt: t0()}
	if got, err := s.PutSummary(ctx, rejected); err != nil || got.Rejected != rejected.Rejected || got.Text != "" {
		t.Errorf("PutSummary(rejected) = %+v, %v", got, err)
	}
	if _, err := s.GetSummary(ctx, id2, "h3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSummary of a new content hash = %v, want ErrNotFound", err)
	}

	for name, bad := range map[string]model.Summary{
		"no item":        {ContentHash: "h", Summarizer: "x", Text: "t"},
		"no hash":        {ItemID: id1, Summarizer: "x", Text: "t"},
		"no summarizer":  {ItemID: id1, ContentHash: "h", Text: "t"},
		"neither":        {ItemID: id1, ContentHash: "h", Summarizer: "x"},
		"text and cause": {ItemID: id1, ContentHash: "h", Summarizer: "x", Text: "t", Rejected: "r"},
	} {
		if _, err := s.PutSummary(ctx, bad); err == nil {
			t.Errorf("PutSummary(%s) succeeded", name)
		}
	}
}

// testMedia: an item's media kind is stored, and replaced with its content.
func testMedia(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a.example/rss"}); err != nil {
		t.Fatal(err)
	}
	it := item("k1", "h1", t0().Add(-time.Hour))
	it.Media = model.MediaVideo
	id := upsert(t, s, "a", t0(), it).New[0]
	if got := getItem(t, s, id).Media; got != model.MediaVideo {
		t.Errorf("media %q, want %q", got, model.MediaVideo)
	}
	it.ContentHash, it.Media = "h2", model.MediaAudio
	upsert(t, s, "a", t0().Add(time.Minute), it)
	if got := getItem(t, s, id).Media; got != model.MediaAudio {
		t.Errorf("media after an update %q, want %q", got, model.MediaAudio)
	}
}
