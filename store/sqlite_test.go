package store_test

import (
	"path/filepath"
	"testing"

	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

func openSQLite(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "db", "transfeed.db")}, nil)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store { return openSQLite(t) })
}

func TestSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.Open(t.Context(), store.Config{DSN: ":memory:"}, nil)
		if err != nil {
			t.Fatalf("open sqlite memory: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestSQLiteReopen(t *testing.T) {
	storetest.Reopen(t, store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "transfeed.db")})
}

func TestSQLiteDriver(t *testing.T) {
	if got := openSQLite(t).Driver(); got != store.DriverSQLite {
		t.Errorf("Driver() = %q, want %q", got, store.DriverSQLite)
	}
}

func TestSQLiteSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) *store.Store { return openSQLite(t) })
}
