package translate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/transfeed/transfeed/model"
)

// Memory is what the engine keeps between calls: the translation memory
// with its reservations, the daily usage per provider and the providers'
// pause state. *store.Store implements it.
type Memory interface {
	TMGet(ctx context.Context, keys []string) (map[string]string, error)
	// TMPut stores entries and ends the reservations of their keys.
	TMPut(ctx context.Context, entries []model.TMEntry) error
	// TMReserve reserves for owner, until now+lease, the keys that are not
	// in the memory and not held unexpired by another owner, and returns
	// the keys owner holds (see store.Store.TMReserve).
	TMReserve(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]string, error)
	// TMRelease ends owner's reservations of keys.
	TMRelease(ctx context.Context, keys []string, owner string) error
	AddUsage(ctx context.Context, day, provider string, chars, requests int64) error
	GetUsage(ctx context.Context, day, provider string) (model.Usage, error)
	GetProviderState(ctx context.Context, provider string) (model.ProviderState, error)
	SetProviderState(ctx context.Context, st model.ProviderState) error
}

// MapMemory is a Memory held in maps, for `transfeed preview` and tests.
// It is safe for concurrent use; it keeps everything until dropped.
type MapMemory struct {
	mu      sync.Mutex
	tm      map[string]model.TMEntry
	pending map[string]reservation
	usage   map[[2]string]model.Usage
	states  map[string]model.ProviderState
}

// NewMapMemory returns an empty MapMemory.
func NewMapMemory() *MapMemory {
	return &MapMemory{
		tm:      map[string]model.TMEntry{},
		pending: map[string]reservation{},
		usage:   map[[2]string]model.Usage{},
		states:  map[string]model.ProviderState{},
	}
}

// NewMemoryOnly is NewMapMemory under the name `transfeed preview` uses:
// a memory that lives only as long as the command.
func NewMemoryOnly() *MapMemory { return NewMapMemory() }

// TMGet returns the stored translations of the keys it has.
func (m *MapMemory) TMGet(ctx context.Context, keys []string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for _, k := range keys {
		if e, ok := m.tm[k]; ok {
			out[k] = e.Target
		}
	}
	return out, nil
}

// TMPut stores (or replaces) entries.
func (m *MapMemory) TMPut(ctx context.Context, entries []model.TMEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.tm[e.Key] = e
		delete(m.pending, e.Key)
	}
	return nil
}

// reservation is a key held by owner until a time.
type reservation struct {
	owner string
	until time.Time
}

// TMReserve reserves, as store.Store.TMReserve does, the keys not in the
// memory that nobody else holds unexpired, and returns the keys owner
// holds (sorted, without duplicates).
func (m *MapMemory) TMReserve(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if owner == "" || lease <= 0 {
		return nil, errors.New("translate: memory: reserve: empty owner or lease")
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	m.mu.Lock()
	defer m.mu.Unlock()
	var owned []string
	for _, k := range keys {
		if _, ok := m.tm[k]; ok {
			continue
		}
		if r, ok := m.pending[k]; ok && r.owner != owner && now.Before(r.until) {
			continue
		}
		m.pending[k] = reservation{owner: owner, until: now.Add(lease)}
		owned = append(owned, k)
	}
	return owned, nil
}

// TMRelease ends owner's reservations of keys.
func (m *MapMemory) TMRelease(ctx context.Context, keys []string, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if r, ok := m.pending[k]; ok && r.owner == owner {
			delete(m.pending, k)
		}
	}
	return nil
}

// TMLen returns the number of translation-memory entries.
func (m *MapMemory) TMLen() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tm)
}

// AddUsage adds to a provider's usage of one day.
func (m *MapMemory) AddUsage(ctx context.Context, day, provider string, chars, requests int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{day, provider}
	u := m.usage[k]
	u.Day, u.Provider = day, provider
	u.Chars += chars
	u.Requests += requests
	m.usage[k] = u
	return nil
}

// GetUsage returns a provider's usage of one day (zero when none).
func (m *MapMemory) GetUsage(ctx context.Context, day, provider string) (model.Usage, error) {
	if err := ctx.Err(); err != nil {
		return model.Usage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.usage[[2]string{day, provider}]
	if !ok {
		return model.Usage{Day: day, Provider: provider}, nil
	}
	return u, nil
}

// GetProviderState returns a provider's pause state (zero when none).
func (m *MapMemory) GetProviderState(ctx context.Context, provider string) (model.ProviderState, error) {
	if err := ctx.Err(); err != nil {
		return model.ProviderState{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.states[provider]
	if !ok {
		return model.ProviderState{Provider: provider}, nil
	}
	return st, nil
}

// SetProviderState stores a provider's pause state.
func (m *MapMemory) SetProviderState(ctx context.Context, st model.ProviderState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[st.Provider] = st
	return nil
}
