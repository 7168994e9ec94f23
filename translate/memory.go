package translate

import (
	"context"
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
