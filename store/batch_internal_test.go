package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
)

func openBatchTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{DSN: filepath.Join(t.TempDir(), "t.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitQueued waits until n writes are queued in s's group commit.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.writes.mu.Lock()
		queued := len(s.writes.queue)
		s.writes.mu.Unlock()
		if queued == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes queued", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWriteBatcher queues writes while the write turn is held, so that one
// call writes them all in one transaction, and checks each caller gets its
// own outcome: with no failure every write runs once and commits; when one
// fails, the others still commit (each run again on its own) and only the
// failing one's rows are missing.
func TestWriteBatcher(t *testing.T) {
	tests := []struct {
		name string
		fail int // index of the write that fails, -1: none
	}{
		{"all in one transaction", -1},
		{"one fails: the rest alone", 3},
		{"another fails", 0},
	}
	const n = 8
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openBatchTestStore(t)
			ctx := t.Context()
			var runs [n]atomic.Int32
			errFail := errors.New("this write fails")
			errs := make([]error, n)
			s.writes.mu.Lock() // nobody writes until all are queued
			s.writes.writing = true
			s.writes.mu.Unlock()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					// posts = i+1 tells the queue's order below.
					errs[i] = s.write(ctx, i+1, func(ctx context.Context, tx *sql.Tx) error {
						runs[i].Add(1)
						if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, 'v')`, fmt.Sprint("k", i)); err != nil {
							return err
						}
						if i == tc.fail {
							return errFail
						}
						return nil
					})
				})
			}
			waitQueued(t, s, n)
			// A write queued before the failing one runs twice (shared,
			// then alone); one after it once (alone).
			wantRuns := make([]int32, n)
			failed := tc.fail < 0
			s.writes.mu.Lock()
			for _, r := range s.writes.queue {
				i := r.posts - 1
				wantRuns[i] = 1
				if !failed {
					wantRuns[i] = 2
				}
				if i == tc.fail || tc.fail < 0 {
					wantRuns[i] = 1
				}
				failed = failed || i == tc.fail
			}
			s.writes.mu.Unlock()
			s.writes.passOn()
			wg.Wait()
			for i := range n {
				var v string
				err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, fmt.Sprint("k", i)).Scan(&v)
				if i == tc.fail {
					if !errors.Is(errs[i], errFail) {
						t.Errorf("write %d: error %v, want its own", i, errs[i])
					}
					if !errors.Is(err, sql.ErrNoRows) {
						t.Errorf("write %d failed, yet its row is stored (%v)", i, err)
					}
					continue
				}
				if errs[i] != nil {
					t.Errorf("write %d: %v (another write's failure)", i, errs[i])
				}
				if err != nil {
					t.Errorf("write %d: its row is missing: %v", i, err)
				}
				if got := runs[i].Load(); got != wantRuns[i] {
					t.Errorf("write %d ran %d times, want %d", i, got, wantRuns[i])
				}
			}
			if len(s.writes.queue) != 0 {
				t.Errorf("%d writes left in the queue", len(s.writes.queue))
			}
		})
	}
}

// TestConcurrentPolls runs many polls' writes at once (lease, posts,
// record and release) through the group commit and checks every poll's
// outcome is its own.
func TestConcurrentPolls(t *testing.T) {
	s := openBatchTestStore(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	const sources, posts = 24, 5
	var wg sync.WaitGroup
	errs := make(chan error, sources)
	for i := range sources {
		wg.Go(func() {
			id := fmt.Sprint("src-", i)
			ok, err := s.ClaimSource(ctx, id, "me", now, time.Minute)
			if err != nil || !ok {
				errs <- fmt.Errorf("%s: claim %v %v", id, ok, err)
				return
			}
			if ok, err := s.ClaimSource(ctx, id, "other", now, time.Minute); err != nil || ok {
				errs <- fmt.Errorf("%s: a second owner's claim: %v %v", id, ok, err)
				return
			}
			var items []model.Item
			for j := range posts {
				items = append(items, model.Item{Key: fmt.Sprint("k", j), Title: fmt.Sprint("标题 ", i, " ", j),
					ContentHash: fmt.Sprint("h", j), Published: now.Add(-time.Duration(j) * time.Minute)})
			}
			up, err := s.UpsertItems(ctx, id, items, now)
			if err != nil || len(up.New) != posts {
				errs <- fmt.Errorf("%s: upsert: %d new, %v", id, len(up.New), err)
				return
			}
			st, err := s.RecordPoll(ctx, model.PollResult{SourceID: id, At: now, Status: model.PollOK,
				ItemCount: posts, ETag: "e-" + id, NextPollAt: now.Add(time.Hour), ReleaseFor: "me"})
			if err != nil {
				errs <- fmt.Errorf("%s: record: %v", id, err)
				return
			}
			if st.ID != id || st.ETag != "e-"+id || st.ItemCount != posts || st.Polls != 1 {
				errs <- fmt.Errorf("%s: recorded state %+v", id, st)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range sources {
		id := fmt.Sprint("src-", i)
		ok, err := s.ClaimSource(ctx, id, "other", now, time.Minute)
		if err != nil || !ok {
			t.Errorf("%s: the lease was not released by the record: %v %v", id, ok, err)
		}
	}
}

// TestWriteBatcherCancelledWriter: the batch's statements run without its
// writer's cancellation, which is checked before each request instead; a
// writer whose context ended gets its error, and the requests it took
// from the queue are each written on their own.
func TestWriteBatcherCancelledWriter(t *testing.T) {
	s := openBatchTestStore(t)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	const n = 4
	errs := make([]error, n)
	s.writes.mu.Lock()
	s.writes.writing = true
	s.writes.mu.Unlock()
	var wg sync.WaitGroup
	for i := range n {
		ctx := t.Context()
		if i == 0 {
			ctx = cancelled // first in the queue: it writes the batch
		}
		waitQueued(t, s, i) // queued in order
		wg.Go(func() {
			errs[i] = s.write(ctx, 1, func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, 'v')`, fmt.Sprint("c", i))
				return err
			})
		})
	}
	waitQueued(t, s, n)
	s.writes.passOn()
	wg.Wait()
	for i := range n {
		var v string
		err := s.r.QueryRowContext(t.Context(), `SELECT value FROM meta WHERE key = ?`, fmt.Sprint("c", i)).Scan(&v)
		if i == 0 {
			if !errors.Is(errs[i], context.Canceled) || !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("cancelled writer: error %v, row %v; want context.Canceled and no row", errs[i], err)
			}
			continue
		}
		if errs[i] != nil || err != nil {
			t.Errorf("write %d: error %v, row %v; want it stored", i, errs[i], err)
		}
	}
}
