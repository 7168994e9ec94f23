package store

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
)

// TestTMPutEndsReservations: the reservation rows of stored keys are gone,
// whoever held them; others stay.
func TestTMPutEndsReservations(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "tm.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.TMReserve(ctx, []string{"a", "b"}, "A", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TMReserve(ctx, []string{"c"}, "B", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.TMPut(ctx, []model.TMEntry{{Key: "c", Source: "丙", Target: "C"}, {Key: "a", Source: "甲", Target: "A"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, owner FROM tm_pending ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var k, o string
		if err := rows.Scan(&k, &o); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+"/"+o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "b/A" {
		t.Errorf("tm_pending after TMPut = %v, want [b/A]", got)
	}
}
