package telegram

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

const adminID = 999000111

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestClient(t *testing.T, srv *telegramtest.Server) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{
		Token:       Token(srv.Token()),
		APIURL:      srv.URL(),
		Admins:      []int64{adminID},
		PollTimeout: 2 * time.Second,
		HTTPClient:  srv.Client(),
		Logger:      discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openStore opens the real store on an in-memory SQLite database.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// addReady stores items as the worker does (UpsertItems, then MarkReady
// with the channels), so each gets one pending delivery per channel.
func addReady(t *testing.T, st *store.Store, items []model.Item, channels ...string) {
	t.Helper()
	ctx := t.Context()
	for i, it := range items {
		it.Key, it.ContentHash = fmt.Sprintf("k%d", i), "h"
		res, err := st.UpsertItems(ctx, it.SourceID, []model.Item{it}, time.Now())
		if err != nil || len(res.New) != 1 {
			t.Fatalf("upsert: %+v, %v", res, err)
		}
		if err := st.MarkReady(ctx, res.New[0], model.Translation{TitleEN: it.TitleEN}, channels, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// leaderWatch is the real store, recording which owner the store last
// granted the leader lease to (it decides nothing itself).
type leaderWatch struct {
	*store.Store

	mu    sync.Mutex
	owner string
	until time.Time
}

func (w *leaderWatch) ClaimLeader(ctx context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error) {
	ok, err := w.Store.ClaimLeader(ctx, name, owner, now, lease)
	if ok && err == nil && name == leaderLease {
		w.mu.Lock()
		w.owner, w.until = owner, now.Add(lease)
		w.mu.Unlock()
	}
	return ok, err
}

func (w *leaderWatch) ReleaseLeader(ctx context.Context, name, owner string) error {
	err := w.Store.ReleaseLeader(ctx, name, owner)
	w.mu.Lock()
	if err == nil && name == leaderLease && w.owner == owner {
		w.owner = ""
	}
	w.mu.Unlock()
	return err
}

// leader is the owner holding the lease now ("" when none does).
func (w *leaderWatch) leader() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.until.Before(time.Now()) {
		return ""
	}
	return w.owner
}
