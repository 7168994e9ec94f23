package store_test

import (
	"os"
	"testing"

	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// postgresConfig returns a config whose connections use a fresh schema,
// dropped when the test ends. The test is skipped when no server is given.
func postgresConfig(t testing.TB) store.Config {
	t.Helper()
	return store.Config{Driver: store.DriverPostgres, DSN: storetest.PostgresDSN(t)}
}

func openPostgres(t testing.TB) *store.Store {
	t.Helper()
	cfg := postgresConfig(t)
	s, err := store.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set: skipping the PostgreSQL store tests", storetest.PostgresEnv)
	}
	storetest.Run(t, func(t *testing.T) *store.Store { return openPostgres(t) })
}

func TestPostgresReopen(t *testing.T) {
	storetest.Reopen(t, postgresConfig(t))
}

func TestPostgresDriver(t *testing.T) {
	if got := openPostgres(t).Driver(); got != store.DriverPostgres {
		t.Errorf("Driver() = %q, want %q", got, store.DriverPostgres)
	}
}

func TestPostgresSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) *store.Store { return openPostgres(t) })
}
