package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

func migT0() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }

// fillInstallation writes a small but complete installation: sources in
// every poll state, items new/translating/ready (one with a changed
// original), deliveries sent/pending/failed, TM, usage, provider and channel
// state, meta and chat pacing.
func fillInstallation(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SyncSources(ctx, map[string]string{"gov-news": "http://www.gov.cn/rss", "gd-wechat": "http://rsshub/wechat/gd"}))
	_, err := s.RecordPoll(ctx, model.PollResult{SourceID: "gov-news", At: migT0(), Status: model.PollOK, ETag: `"e1"`,
		LastModified: "Sun, 01 Mar 2026 08:00:00 GMT", ItemCount: 30, NextPollAt: migT0().Add(10 * time.Minute)})
	must(err)
	_, err = s.RecordPoll(ctx, model.PollResult{SourceID: "gd-wechat", At: migT0(), Status: model.PollError,
		Error: "HTTP 412 环境异常", NextPollAt: migT0().Add(time.Hour)})
	must(err)
	var items []model.Item
	for i := range 30 {
		items = append(items, model.Item{Key: fmt.Sprintf("k%02d", i), GUID: fmt.Sprintf("g%d", i),
			Link: fmt.Sprintf("http://www.gov.cn/%d.html", i), Title: fmt.Sprintf("国务院新闻 %d", i),
			Summary: "摘要", ContentHTML: "<p>正文</p>", Language: "zh", Categories: []string{"要闻"},
			Published: migT0().Add(-time.Duration(i) * time.Hour), ContentHash: "h1", BackfillRank: i})
	}
	res, err := s.UpsertItems(ctx, "gov-news", items, migT0())
	must(err)
	claimed, err := s.ClaimItems(ctx, "old-instance", migT0(), 25, time.Hour)
	must(err)
	for i, it := range claimed {
		switch {
		case i < 20:
			must(s.MarkReady(ctx, it.ID, model.Translation{TitleEN: fmt.Sprintf("State Council news %d", i),
				SummaryEN: "Summary", ContentHTMLEN: "<p>Body</p>", TranslatedBy: "openai/gpt-4o-mini",
				OriginalHash: it.ContentHash}, []string{"@chan_one", "@forum#3"}, migT0().Add(time.Minute)))
		default:
			must(s.MarkTranslateFailed(ctx, it.ID, &model.Translation{TitleEN: "title only", TitleOnly: true},
				"daily character limit reached", migT0().Add(16*time.Hour)))
		}
	}
	// One original changed after it was published.
	changed := items[0]
	changed.ContentHash, changed.Title = "h2", "国务院新闻 0（更新）"
	_, err = s.UpsertItems(ctx, "gov-news", []model.Item{changed}, migT0().Add(2*time.Minute))
	must(err)
	ds, err := s.ClaimDeliveries(ctx, "old-instance", migT0().Add(3*time.Minute), 15, time.Minute)
	must(err)
	for i, d := range ds {
		switch {
		case i < 10:
			must(s.MarkDelivered(ctx, d.ID, int64(1000+i), migT0().Add(4*time.Minute)))
		case i < 12:
			must(s.MarkDeliveryFailed(ctx, d.ID, "Forbidden: bot was kicked"))
		case i < 14:
			must(s.MarkDeliveryRetry(ctx, d.ID, "502 Bad Gateway", migT0().Add(5*time.Minute)))
		} // the rest stays leased by the old instance
	}
	must(s.TMPut(ctx, []model.TMEntry{{Key: "tm1", Provider: "openai", Source: "国务院", Target: "State Council"},
		{Key: "tm2", Provider: "deepl", Source: "肇庆", Target: "Zhaoqing"}}))
	must(s.AddUsage(ctx, "2026-03-01", "openai", 123456, 78))
	must(s.SetProviderState(ctx, model.ProviderState{Provider: "openai", PausedUntil: migT0().Add(16 * time.Hour),
		Reason: "quota", AlertedAt: migT0()}))
	must(s.SetChannelState(ctx, model.ChannelState{Channel: "@forum#3", ChatID: "-100999", Paused: true,
		Reason: "bot was kicked", AlertedAt: migT0()}))
	must(s.SetMeta(ctx, "telegram.update_offset", "4242"))
	if ok, _, err := s.ReserveSend(ctx, "chat:@chan_one", migT0().Add(time.Hour), time.Hour); err != nil || !ok {
		t.Fatalf("reserve send: %v, %v", ok, err)
	}
	if len(res.New) != 30 {
		t.Fatalf("%d new items", len(res.New))
	}
}

// sameInstallation compares everything a user or the daemon can see.
func sameInstallation(t *testing.T, want, got *store.Store) {
	t.Helper()
	ctx := t.Context()
	now := migT0().Add(24 * time.Hour)
	diff := func(what string, w, g any) {
		t.Helper()
		if d := cmp.Diff(w, g); d != "" {
			t.Errorf("%s differs (-source +target):\n%s", what, d)
		}
	}
	wantSrc, err := want.ListSources(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	gotSrc, err := got.ListSources(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	diff("sources", wantSrc, gotSrc)
	q := store.ItemQuery{Limit: 1000}
	wantItems, err := want.ListItems(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	gotItems, err := got.ListItems(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantItems) != 30 {
		t.Fatalf("source has %d items, want 30", len(wantItems))
	}
	diff("items", wantItems, gotItems)
	for _, st := range [][]model.State{{model.StateReady}, {model.StateNew}, {model.StateTranslating}} {
		w, _ := want.CountItems(ctx, store.ItemQuery{States: st})
		g, _ := got.CountItems(ctx, store.ItemQuery{States: st})
		if w != g {
			t.Errorf("%s items: source %d, target %d", st[0], w, g)
		}
	}
	wb, _ := want.DeliveryBacklogs(ctx)
	gb, _ := got.DeliveryBacklogs(ctx)
	diff("delivery backlogs", wb, gb)
	wc, _ := want.ListChannelStates(ctx)
	gc, _ := got.ListChannelStates(ctx)
	diff("channel states", wc, gc)
	wm, _ := want.TMGet(ctx, []string{"tm1", "tm2", "missing"})
	gm, _ := got.TMGet(ctx, []string{"tm1", "tm2", "missing"})
	diff("translation memory", wm, gm)
	wu, _ := want.GetUsage(ctx, "2026-03-01", "openai")
	gu, _ := got.GetUsage(ctx, "2026-03-01", "openai")
	diff("usage", wu, gu)
	wp, _ := want.GetProviderState(ctx, "openai")
	gp, _ := got.GetProviderState(ctx, "openai")
	diff("provider state", wp, gp)
	wo, _ := want.GetMeta(ctx, "telegram.update_offset")
	gotOffset, _ := got.GetMeta(ctx, "telegram.update_offset")
	diff("update offset", wo, gotOffset)
	if ok, _, err := got.ReserveSend(ctx, "chat:@chan_one", migT0().Add(90*time.Minute), time.Second); err != nil || ok {
		t.Errorf("chat pacing not copied: reserve = %v, %v", ok, err)
	}
	// Pending deliveries, including the one leased by the old instance
	// (leases are cleared by the copy), are all offered to the new one.
	wd, err := want.ClaimDeliveries(ctx, "new", now.Add(time.Hour), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	gd, err := got.ClaimDeliveries(ctx, "new", now, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(gd) != len(wd) || len(gd) == 0 {
		t.Errorf("pending deliveries claimable in the target: %d, in the source after its leases ran out: %d", len(gd), len(wd))
	}
	// New rows get fresh ids after the copied ones.
	res, err := got.UpsertItems(ctx, "gov-news", []model.Item{{Key: "after-copy", ContentHash: "x", BackfillRank: -1}}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range wantItems {
		if len(res.New) != 1 || res.New[0] <= it.ID {
			t.Fatalf("item stored after the copy got id %v, not after copied id %d", res.New, it.ID)
		}
	}
}

func TestMigrateStore(t *testing.T) {
	targets := []struct {
		name string
		to   func(t *testing.T) (arg string, cfg store.Config)
	}{
		{"sqlite to sqlite", func(t *testing.T) (string, store.Config) {
			p := filepath.Join(t.TempDir(), "new.db")
			return "sqlite:" + p, store.Config{Driver: "sqlite", DSN: p}
		}},
		{"sqlite to postgres", func(t *testing.T) (string, store.Config) {
			dsn := storetest.PostgresDSN(t)
			return "postgres:" + dsn, store.Config{Driver: "postgres", DSN: dsn}
		}},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			srcPath := filepath.Join(t.TempDir(), "old.db")
			src, err := store.Open(t.Context(), store.Config{Driver: "sqlite", DSN: srcPath}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			fillInstallation(t, src)
			toArg, toCfg := tt.to(t)

			var stdout, stderr bytes.Buffer
			code := run(t.Context(), []string{"migrate-store", "-from", "sqlite:" + srcPath, "-to", toArg}, &stdout, &stderr, noEnv)
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			for _, w := range []string{"items", "30 rows", "deliveries", "40 rows", "Row counts checked equal"} {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
			if strings.Contains(stdout.String()+stderr.String(), "tfpass") {
				t.Errorf("the output shows the database password")
			}

			// Running it again refuses and changes nothing.
			stdout.Reset()
			stderr.Reset()
			code = run(t.Context(), []string{"migrate-store", "-from", "sqlite:" + srcPath, "-to", toArg}, &stdout, &stderr, noEnv)
			if code != exitFailure || !strings.Contains(stderr.String(), "not empty") || !strings.Contains(stderr.String(), "nothing was changed") {
				t.Errorf("second run: exit %d, stderr %q; want a refusal", code, stderr.String())
			}

			dst, err := store.Open(t.Context(), toCfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			sameInstallation(t, src, dst)
		})
	}
}

func TestMigrateStoreArguments(t *testing.T) {
	db := filepath.Join(t.TempDir(), "a.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "-from is required"},
		{"no target", []string{"-from", "sqlite:" + db}, "-to is required"},
		{"no driver", []string{"-from", db, "-to", "sqlite:" + db + "2"}, "want DRIVER:DSN"},
		{"unknown driver", []string{"-from", "mysql:x", "-to", "sqlite:" + db}, `unknown driver "mysql"`},
		{"same database", []string{"-from", "sqlite:" + db, "-to", "sqlite:" + db}, "same database"},
		{"extra argument", []string{"-from", "sqlite:" + db, "-to", "sqlite:b", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"migrate-store"}, tt.args...), &stdout, &stderr, noEnv)
			if code != exitInvalid || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), exitInvalid, tt.want)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"migrate-store", "-from", "postgres:postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=1", "-to", "sqlite:" + db}, &stdout, &stderr, noEnv)
	if code != exitFailure || strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("unreachable source: exit %d, stderr %q; want a failure without the password", code, stderr.String())
	}
}
