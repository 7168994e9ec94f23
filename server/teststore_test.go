package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server/internal/seed"
	"github.com/transfeed/transfeed/store"
)

// testStore is the real store, in memory (the one the storetest suite
// runs), seeded with the Zhaoqing posts, plus the two hooks the server's
// tests need: it counts ListItems calls and can be told to fail Ping. The
// helpers below write through the store's own API.
type testStore struct {
	*store.Store
	t       testing.TB
	lists   atomic.Int64
	mu      sync.Mutex
	pingErr error
}

// newSeededStore opens a fresh in-memory store holding the seed.
func newSeededStore(t testing.TB) *testStore {
	t.Helper()
	st, err := seed.Open(context.Background(), testNow)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &testStore{Store: st, t: t}
}

// newEmptyStore opens a fresh, empty in-memory store.
func newEmptyStore(t testing.TB) *testStore {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := seed.ZhaoqingConfig(testBase)
	ids := map[string]string{}
	for _, src := range cfg.Sources {
		ids[src.ID] = src.URL
	}
	if err := st.SyncSources(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
	return &testStore{Store: st, t: t}
}

func (s *testStore) ListItems(ctx context.Context, q store.ItemQuery) ([]model.Item, error) {
	s.lists.Add(1)
	return s.Store.ListItems(ctx, q)
}

func (s *testStore) Ping(ctx context.Context) error {
	s.mu.Lock()
	err := s.pingErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Store.Ping(ctx)
}

// listCalls is how many times the server listed items.
func (s *testStore) listCalls() int64 { return s.lists.Load() }

func (s *testStore) setPingError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingErr = err
}

// add stores posts as the pipeline would: first seen at their ReadyAt
// (else Published), and made ready with their translation when State is
// ready. It returns the ids the store gave them.
func (s *testStore) add(items ...model.Item) []int64 {
	s.t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, it := range items {
		seen := it.ReadyAt
		if seen.IsZero() {
			seen = it.Published
		}
		state := it.State
		it.ID, it.State = 0, ""
		if it.ContentHash == "" {
			it.ContentHash = "h" + it.Key
		}
		it.BackfillRank = -1
		res, err := s.UpsertItems(ctx, it.SourceID, []model.Item{it}, seen)
		if err != nil || len(res.New) != 1 {
			s.t.Fatalf("store %s: %v (new %v)", it.Key, err, res.New)
		}
		it.ID = res.New[0]
		ids = append(ids, it.ID)
		if state == model.StateReady {
			s.ready(it, seen)
		}
	}
	return ids
}

// ready stores it's translation fields and makes it ready at the time given.
func (s *testStore) ready(it model.Item, at time.Time) {
	s.t.Helper()
	t := model.Translation{TitleEN: it.TitleEN, SummaryEN: it.SummaryEN, ContentHTMLEN: it.ContentHTMLEN,
		TranslatedBy: it.TranslatedBy, TitleOnly: it.TitleOnly, Untranslated: it.Untranslated}
	if err := s.MarkReady(context.Background(), it.ID, t, nil, at); err != nil {
		s.t.Fatalf("ready %d: %v", it.ID, err)
	}
}
