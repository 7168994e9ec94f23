package translate

import (
	"testing"

	"github.com/transfeed/transfeed/store"
)

// newMemory is the real store, in memory: the engine's tests run against
// the SQL the daemon runs (the same store passes the storetest suite).
func newMemory(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		t.Fatalf("open in-memory store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
