package bot

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// realStores opens the real store engines: SQLite always, PostgreSQL (a
// fresh schema, dropped afterwards; skipped when
// TRANSFEED_TEST_POSTGRES_DSN is unset).
func realStores() map[string]func(t *testing.T) *store.Store {
	return map[string]func(t *testing.T) *store.Store{
		"sqlite": func(t *testing.T) *store.Store {
			return openStore(t, store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "transfeed.db")})
		},
		"postgres": func(t *testing.T) *store.Store {
			return openStore(t, store.Config{Driver: "postgres", DSN: storetest.PostgresDSN(t)})
		},
	}
}

func openStore(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestSendersShareOneDatabase runs two Senders (two instances) on one real
// store, claiming one delivery at a time so both hold deliveries for the
// same chats at once. The fake fails the test on messages to one chat
// closer than the pace (the in-process limiters alone cannot stop that:
// only the store's shared send slot does) and checkOnce on duplicates.
func TestSendersShareOneDatabase(t *testing.T) {
	const gap = 500 * time.Millisecond
	for name, open := range realStores() {
		t.Run(name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.Options{MinInterval: gap - 100*time.Millisecond})
			chats := []string{"@chan_one", "@chan_two", "-1001234567"}
			var chans []config.Channel
			for _, c := range chats {
				chans = append(chans, config.Channel{Chat: c})
			}
			cfg := testConfig(chans...)
			st := open(t)
			ctx := t.Context()
			items := makeItems(t, 5)
			want := 0
			for _, it := range items {
				it.Key = fmt.Sprintf("k%d", it.ID)
				it.ContentHash = "h"
				res, err := st.UpsertItems(ctx, it.SourceID, []model.Item{it}, time.Now())
				if err != nil || len(res.New) != 1 {
					t.Fatalf("upsert: %v, %v", res, err)
				}
				tr := model.Translation{TitleEN: it.TitleEN, SummaryEN: it.SummaryEN, ContentHTMLEN: it.ContentHTMLEN,
					TranslatedBy: it.TranslatedBy, Untranslated: it.Untranslated}
				keys := Route(cfg, it)
				want += len(keys)
				if err := st.MarkReady(ctx, res.New[0], tr, keys, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			opts := Options{ChatRate: rate.Every(gap), GroupRate: rate.Every(gap), GlobalRate: rate.Inf,
				Batch: 1, PollEvery: 10 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
			var stops []func()
			for _, owner := range []string{"instance-1", "instance-2"} {
				stops = append(stops, runSender(t, NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, owner, opts)))
			}
			waitFor(t, 30*time.Second, "every delivery sent", func() bool {
				bl, err := st.DeliveryBacklogs(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sent := 0
				for _, b := range bl {
					sent += b.Sent
				}
				return sent == want
			})
			for _, stop := range stops {
				stop()
			}
			for _, c := range chats {
				checkOnce(t, srv, c, len(items))
			}
			if want != len(chats)*len(items) {
				t.Errorf("%d deliveries, want %d", want, len(chats)*len(items))
			}
		})
	}
}
