package store_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// TestSQLiteSweepGivesSpaceBack: after a sweep the database file has no
// free pages left (incremental vacuum), so it stays the size of what is kept.
func TestSQLiteSweepGivesSpaceBack(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := store.Open(ctx, store.Config{DSN: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	body := "<p>" + strings.Repeat("正文", 2000) + "</p>"
	var items []model.Item
	for i := range 400 {
		items = append(items, model.Item{Key: fmt.Sprintf("k%d", i), ContentHash: "h", ContentHTML: body,
			Published: now.Add(-time.Duration(i) * time.Hour), BackfillRank: -1})
	}
	// Stored ready: a sweep deletes only ready posts.
	ready := store.UpsertOptions{Ready: func(model.Item) (model.Translation, []string, bool) { return model.Translation{}, nil, true }}
	if _, err := s.UpsertItemsWith(ctx, "src", items, now, ready); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pragma := func(name string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&n); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return n
	}
	full := pragma("page_count")
	res, err := s.Sweep(ctx, store.Retention{MaxPostsPerSource: 40}, now)
	if err != nil || res.Items != 360 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}
	if free := pragma("freelist_count"); free != 0 {
		t.Errorf("%d free pages left after the sweep, want 0", free)
	}
	if after := pragma("page_count"); after > full/4 {
		t.Errorf("page count %d after keeping a tenth of the posts (was %d)", after, full)
	}
}
