package store_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

const postgresEnv = "TRANSFEED_TEST_POSTGRES_DSN"

// postgresConfig returns a config whose connections use a fresh schema,
// dropped when the test ends. The test is skipped when no server is given.
func postgresConfig(t testing.TB) store.Config {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skipf("%s not set: skipping the PostgreSQL store tests (e.g. postgres://user:pass@localhost:5432/db)", postgresEnv)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres admin connection: invalid %s", postgresEnv)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "transfeed_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return store.Config{Driver: "postgres", DSN: withSearchPath(t, dsn, schema)}
}

// withSearchPath adds search_path=schema to a URL or key=value DSN; pgx
// sends it as a run-time parameter on every connection.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse %s: invalid URL", postgresEnv)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
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
	if os.Getenv(postgresEnv) == "" {
		t.Skipf("%s not set: skipping the PostgreSQL store tests", postgresEnv)
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
