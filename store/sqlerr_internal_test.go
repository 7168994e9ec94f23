package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
)

func TestStorageErrorsInPlainWords(t *testing.T) {
	ctx := t.Context()
	seed := func(t *testing.T, path string, n int) {
		t.Helper()
		s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var items []model.Item
		for i := range n {
			items = append(items, model.Item{Key: fmt.Sprintf("k%d", i), Title: strings.Repeat("标题", 200), ContentHTML: strings.Repeat("<p>正文</p>", 300),
				ContentHash: "h", Published: time.Now(), BackfillRank: -1})
		}
		if _, err := s.UpsertItems(ctx, "src", items, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, err, kind error, words ...string) {
		t.Helper()
		if !errors.Is(err, kind) {
			t.Fatalf("error %v, want %v", err, kind)
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}

	t.Run("not a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "transfeed.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database file. ", 200)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, Config{Driver: DriverSQLite, DSN: path}, nil)
		check(t, err, ErrCorrupt, path, "damaged", "restore it from a backup")
	})

	t.Run("damaged pages are found by quick_check at start", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "transfeed.db")
		seed(t, path, 200)
		_ = os.Remove(path + "-wal")
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		// Scribble over the second half of the file (item pages), keeping the header.
		junk := []byte(strings.Repeat("\xff\x00garbage", 512))
		for off := fi.Size() / 2; off < fi.Size()-int64(len(junk)); off += 8192 {
			if _, err := f.WriteAt(junk, off); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		_, err = Open(ctx, Config{Driver: DriverSQLite, DSN: path, CheckIntegrity: true}, nil)
		check(t, err, ErrCorrupt, path, "damaged", "does not write into a damaged file")
	})

	t.Run("read-only database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "transfeed.db")
		seed(t, path, 1)
		s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: "file:" + path + "?mode=ro"}, nil)
		if err == nil {
			err = s.SetMeta(ctx, "k", "v")
			s.Close()
		}
		check(t, err, ErrReadOnly, path, "cannot be written", "writable")
	})

	t.Run("full disk", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "transfeed.db")
		s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var pages int
		if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		// The writer's only connection may not grow the file: as a full disk.
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
			t.Fatal(err)
		}
		var items []model.Item
		for i := range 200 {
			items = append(items, model.Item{Key: fmt.Sprintf("k%d", i), Title: "t", ContentHTML: strings.Repeat("<p>正文</p>", 300),
				ContentHash: "h", Published: time.Now(), BackfillRank: -1})
		}
		_, err = s.UpsertItems(ctx, "src", items, time.Now())
		check(t, err, ErrDiskFull, path, "is full", "free some space")
	})
}
