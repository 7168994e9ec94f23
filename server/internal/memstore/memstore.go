// Package memstore is an in-memory implementation of server.Store for the
// server's tests and the development server (server/internal/devserver).
// It follows store/API.md's semantics for the methods the server reads; it
// is not a database and is never used by the daemon.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// Store holds items and status rows in memory. It is safe for concurrent use.
type Store struct {
	mu         sync.RWMutex
	items      []model.Item
	sources    map[string]model.Source
	backlog    int
	usage      map[string]model.Usage // day|provider
	providers  map[string]model.ProviderState
	deliveries []model.DeliveryBacklog
	channels   []model.ChannelState
	refused    map[string]store.RefusedLinks
	pingErr    error
	calls      map[string]int
	// rev grows with every write (AddItems, UpdateItem): FeedVersion's Version.
	rev int64
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		sources:   make(map[string]model.Source),
		usage:     make(map[string]model.Usage),
		providers: make(map[string]model.ProviderState),
		calls:     make(map[string]int),
		refused:   make(map[string]store.RefusedLinks),
	}
}

// AddItems stores items; an item without an ID gets the next one.
func (s *Store) AddItems(items ...model.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		if it.ID == 0 {
			it.ID = int64(len(s.items) + 1)
		}
		s.items = append(s.items, it)
		s.rev++
	}
}

// UpdateItem replaces the item with it.ID.
func (s *Store) UpdateItem(it model.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.items {
		if s.items[i].ID == it.ID {
			s.items[i] = it
			s.rev++
			return nil
		}
	}
	return fmt.Errorf("memstore: item %d: %w", it.ID, model.ErrNotFound)
}

// SetSource sets the stored state of a source.
func (s *Store) SetSource(src model.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources[src.ID] = src
}

// SetRefusedLinks sets what GetRefusedLinks returns for a source.
func (s *Store) SetRefusedLinks(sourceID string, r store.RefusedLinks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[sourceID] = r
}

// GetRefusedLinks returns what SetRefusedLinks set.
func (s *Store) GetRefusedLinks(ctx context.Context, sourceID string) (store.RefusedLinks, error) {
	if err := ctx.Err(); err != nil {
		return store.RefusedLinks{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.refused[sourceID], nil
}

// SetTranslationBacklog sets what TranslationBacklog returns.
func (s *Store) SetTranslationBacklog(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backlog = n
}

// SetUsage sets a provider's usage for a day.
func (s *Store) SetUsage(u model.Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage[u.Day+"|"+u.Provider] = u
}

// SetProviderState sets a provider's pause state.
func (s *Store) SetProviderState(_ context.Context, ps model.ProviderState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.providers[ps.Provider] = ps
	return nil
}

// SetDeliveryBacklogs sets what DeliveryBacklogs returns.
func (s *Store) SetDeliveryBacklogs(b []model.DeliveryBacklog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = slices.Clone(b)
}

// SetChannelStates sets what ListChannelStates returns.
func (s *Store) SetChannelStates(c []model.ChannelState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels = slices.Clone(c)
}

// SetPingError makes Ping fail with err (nil: succeed).
func (s *Store) SetPingError(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingErr = err
}

// Calls returns how many times a method was called (for tests that check
// that cached responses do not list items).
func (s *Store) Calls(method string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.calls[method]
}

func (s *Store) count(method string) {
	s.calls[method]++
}

// Ping implements server.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pingErr
}

func match(it model.Item, q store.ItemQuery) bool {
	if len(q.SourceIDs) > 0 && !slices.Contains(q.SourceIDs, it.SourceID) {
		return false
	}
	if len(q.States) > 0 && !slices.Contains(q.States, it.State) {
		return false
	}
	if !q.Before.IsZero() && q.BeforeID > 0 {
		if it.SortTime().After(q.Before) || (it.SortTime().Equal(q.Before) && it.ID >= q.BeforeID) {
			return false
		}
	} else if !q.Before.IsZero() && !it.SortTime().Before(q.Before) {
		return false
	}
	if !q.Since.IsZero() && it.SortTime().Before(q.Since) {
		return false
	}
	return true
}

// ListItems implements server.Store: newest first by SortTime — the date,
// or first-seen when it is unknown, as the SQL store orders (ties: higher id).
func (s *Store) ListItems(ctx context.Context, q store.ItemQuery) ([]model.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.count("ListItems")
	var out []model.Item
	for _, it := range s.items {
		if match(it, q) {
			out = append(out, it)
		}
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b model.Item) int {
		if c := b.SortTime().Compare(a.SortTime()); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if q.Offset >= len(out) {
		return nil, nil
	}
	out = out[q.Offset:]
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CountItems implements server.Store.
func (s *Store) CountItems(ctx context.Context, q store.ItemQuery) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("CountItems")
	n := 0
	for _, it := range s.items {
		if match(it, q) {
			n++
		}
	}
	return n, nil
}

// GetItem implements server.Store.
func (s *Store) GetItem(ctx context.Context, id int64) (model.Item, error) {
	if err := ctx.Err(); err != nil {
		return model.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("GetItem")
	for _, it := range s.items {
		if it.ID == id {
			return it, nil
		}
	}
	return model.Item{}, fmt.Errorf("memstore: item %d: %w", id, model.ErrNotFound)
}

// FeedVersion implements server.Store: Version grows with every write of
// any item (coarser than the store's per-source counters, which is
// allowed: a version must change when the posts change, not only then).
func (s *Store) FeedVersion(ctx context.Context, sourceIDs []string) (store.FeedVersion, error) {
	if err := ctx.Err(); err != nil {
		return store.FeedVersion{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("FeedVersion")
	v := store.FeedVersion{Version: s.rev}
	q := store.ItemQuery{SourceIDs: sourceIDs, States: []model.State{model.StateReady}}
	for _, it := range s.items {
		if !match(it, q) {
			continue
		}
		v.Ready++
		for _, t := range []time.Time{it.ReadyAt, it.UpdatedAt} {
			if t.After(v.Changed) {
				v.Changed = t
			}
		}
	}
	return v, nil
}

// ItemsChangedSince implements server.Store: max(ReadyAt, UpdatedAt) of ready items.
func (s *Store) ItemsChangedSince(ctx context.Context, sourceIDs []string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("ItemsChangedSince")
	var m time.Time
	q := store.ItemQuery{SourceIDs: sourceIDs, States: []model.State{model.StateReady}}
	for _, it := range s.items {
		if !match(it, q) {
			continue
		}
		for _, t := range []time.Time{it.ReadyAt, it.UpdatedAt} {
			if t.After(m) {
				m = t
			}
		}
	}
	return m, nil
}

// ListSources implements server.Store, with ItemCount and ItemsLast24h computed.
func (s *Store) ListSources(ctx context.Context, now time.Time) ([]model.Source, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]model.Source, 0, len(s.sources))
	for _, src := range s.sources {
		src.ItemCount, src.ItemsLast24h = 0, 0
		for _, it := range s.items {
			if it.SourceID != src.ID {
				continue
			}
			src.ItemCount++
			if it.FirstSeen.After(now.Add(-24 * time.Hour)) {
				src.ItemsLast24h++
			}
		}
		out = append(out, src)
	}
	slices.SortFunc(out, func(a, b model.Source) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// TranslationBacklog implements server.Store.
func (s *Store) TranslationBacklog(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.backlog
	for _, it := range s.items {
		if it.State != model.StateReady {
			n++
		}
	}
	return n, nil
}

// GetUsage implements server.Store.
func (s *Store) GetUsage(ctx context.Context, day, provider string) (model.Usage, error) {
	if err := ctx.Err(); err != nil {
		return model.Usage{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.usage[day+"|"+provider]
	if !ok {
		return model.Usage{Day: day, Provider: provider}, nil
	}
	return u, nil
}

// GetProviderState implements server.Store.
func (s *Store) GetProviderState(ctx context.Context, provider string) (model.ProviderState, error) {
	if err := ctx.Err(); err != nil {
		return model.ProviderState{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps, ok := s.providers[provider]
	if !ok {
		return model.ProviderState{Provider: provider}, nil
	}
	return ps, nil
}

// DeliveryBacklogs implements server.Store.
func (s *Store) DeliveryBacklogs(ctx context.Context) ([]model.DeliveryBacklog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.deliveries), nil
}

// ListChannelStates implements server.Store.
func (s *Store) ListChannelStates(ctx context.Context) ([]model.ChannelState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.channels), nil
}
