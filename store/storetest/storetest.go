// Package storetest is the behaviour suite every store engine must pass.
// store/sqlite_test.go runs it on a fresh SQLite file per test;
// store/postgres_test.go runs it on a fresh PostgreSQL schema per test when
// TRANSFEED_TEST_POSTGRES_DSN is set.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// t0() is the suite's reference time: UTC, whole milliseconds.
func t0() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }

// Run runs every behaviour test; open must return a new, empty, migrated
// store for each call and close it when the test ends.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"SyncSources", testSyncSources},
		{"RecordPoll", testRecordPoll},
		{"SourceCounts", testSourceCounts},
		{"ClaimSource", testClaimSource},
		{"StorePoll", testStorePoll},
		{"UpsertItems", testUpsertItems},
		{"ItemMetaAndDate", testItemMetaAndDate},
		{"UpsertRejects", testUpsertRejects},
		{"ListItems", testListItems},
		{"KeysetPages", testKeysetPages},
		{"TimesRoundTrip", testTimesRoundTrip},
		{"ItemsChangedSince", testItemsChangedSince},
		{"ClaimItems", testClaimItems},
		{"ClaimItemsConcurrent", testClaimItemsConcurrent},
		{"MarkReady", testMarkReady},
		{"MarkTranslateFailed", testMarkTranslateFailed},
		{"SetItemState", testSetItemState},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimDeliveriesPaused", testClaimDeliveriesPaused},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"DeliveryOutcomes", testDeliveryOutcomes},
		{"TranslationMemory", testTranslationMemory},
		{"Usage", testUsage},
		{"ProviderState", testProviderState},
		{"ChannelState", testChannelState},
		{"Meta", testMeta},
		{"RefusedLinks", testRefusedLinks},
		{"ReleaseOwner", testReleaseOwner},
		{"ConcurrentWriters", testConcurrentWriters},
		{"MarkReadyStale", testMarkReadyStale},
		{"ReleaseDelivery", testReleaseDelivery},
		{"ReserveSend", testReserveSend},
		{"ReserveSendConcurrent", testReserveSendConcurrent},
		{"ClaimLeader", testClaimLeader},
		{"ClaimLeaderConcurrent", testClaimLeaderConcurrent},
		{"TMReserve", testTMReserve},
		{"TMReserveConcurrent", testTMReserveConcurrent},
		{"Summaries", testSummaries},
		{"Media", testMedia},
		{"AdminSessions", testAdminSessions},
		{"LoginFailures", testLoginFailures},
		{"LoginFailuresConcurrent", testLoginFailuresConcurrent},
		{"Corrections", testCorrections},
		{"GlossaryEntries", testGlossaryEntries},
		{"AuditLog", testAuditLog},
		{"MessageEdits", testMessageEdits},
		{"ReviewQueue", testReviewQueue},
	}
	for _, tc := range append(tests, scaleTests()...) {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// Reopen checks that data written to the database described by cfg survives
// Close and Open, and that opening again applies no migration twice.
// cfg must name an empty database.
func Reopen(t *testing.T, cfg store.Config) {
	ctx := t.Context()
	s, err := store.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	v1, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 < 1 {
		t.Fatalf("schema version after first open = %d, want >= 1", v1)
	}
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a.example/rss"}); err != nil {
		t.Fatal(err)
	}
	res := upsert(t, s, "a", t0(), item("k1", "h1", t0().Add(-time.Hour)))
	if err := s.MarkReady(ctx, res.New[0], model.Translation{TitleEN: "Title"}, []string{"@c"}, t0()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "offset", "42"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	for round := range 2 {
		s, err := store.Open(ctx, cfg, nil)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != v1 {
			t.Errorf("reopen %d: schema version = %d, want %d", round, v, v1)
		}
		src, err := s.GetSource(ctx, "a")
		if err != nil {
			t.Fatalf("reopen %d: get source: %v", round, err)
		}
		if src.URL != "http://a.example/rss" || src.ItemCount != 1 {
			t.Errorf("reopen %d: source = %+v, want url kept and 1 item", round, src)
		}
		it, err := s.GetItem(ctx, res.New[0])
		if err != nil {
			t.Fatalf("reopen %d: get item: %v", round, err)
		}
		if it.State != model.StateReady || it.TitleEN != "Title" || !it.ReadyAt.Equal(t0()) {
			t.Errorf("reopen %d: item = state %q title_en %q ready_at %v", round, it.State, it.TitleEN, it.ReadyAt)
		}
		if v, err := s.GetMeta(ctx, "offset"); err != nil || v != "42" {
			t.Errorf("reopen %d: meta = %q, %v; want 42", round, v, err)
		}
		bl, err := s.DeliveryBacklogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]model.DeliveryBacklog{{Channel: "@c", Pending: 1}}, bl); diff != "" {
			t.Errorf("reopen %d: backlogs (-want +got):\n%s", round, diff)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

// item builds an item to upsert.
func item(key, hash string, published time.Time) model.Item {
	return model.Item{
		Key:          key,
		GUID:         "guid-" + key,
		Link:         "http://example.gov.cn/" + key + ".html",
		Title:        "标题 " + key,
		Summary:      "摘要 " + key,
		ContentHTML:  "<p>正文 " + key + "</p>",
		Author:       "作者",
		Language:     "zh",
		ImageURL:     "http://example.gov.cn/" + key + ".jpg",
		Categories:   []string{"要闻", key},
		Published:    published,
		ContentHash:  hash,
		BackfillRank: -1,
	}
}

func upsert(t *testing.T, s *store.Store, source string, now time.Time, items ...model.Item) store.UpsertResult {
	t.Helper()
	res, err := s.UpsertItems(t.Context(), source, items, now)
	if err != nil {
		t.Fatalf("upsert items: %v", err)
	}
	return res
}

func getItem(t *testing.T, s *store.Store, id int64) model.Item {
	t.Helper()
	it, err := s.GetItem(t.Context(), id)
	if err != nil {
		t.Fatalf("get item %d: %v", id, err)
	}
	return it
}

func ids(items []model.Item) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func deliveryIDs(ds []model.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func testSyncSources(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a/1", "b": "http://b/1"}); err != nil {
		t.Fatal(err)
	}
	// b leaves the config and a moves: b's row stays, a's URL follows.
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a/2", "c": "http://c/1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListSources(ctx, t0())
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Source{{ID: "a", URL: "http://a/2"}, {ID: "b", URL: "http://b/1"}, {ID: "c", URL: "http://c/1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if _, err := s.GetSource(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSource(missing) error = %v, want ErrNotFound", err)
	}
}

func testRecordPoll(t *testing.T, s *store.Store) {
	type step struct {
		poll    *model.PollResult
		alerted time.Time
	}
	ok := func(at time.Duration, etag, lm string, n int) step {
		return step{poll: &model.PollResult{At: t0().Add(at), Status: model.PollOK, ETag: etag, LastModified: lm,
			ItemCount: n, NextPollAt: t0().Add(at + 15*time.Minute)}}
	}
	okShape := func(at time.Duration, shape string) step {
		st := ok(at, "", "", 20)
		st.poll.ListShape = shape
		return st
	}
	notMod := func(at time.Duration) step {
		return step{poll: &model.PollResult{At: t0().Add(at), Status: model.PollNotModified,
			ETag: "ignored", LastModified: "ignored", ItemCount: 99, NextPollAt: t0().Add(at + 15*time.Minute)}}
	}
	fail := func(at time.Duration, msg string) step {
		return step{poll: &model.PollResult{At: t0().Add(at), Status: model.PollError, Error: msg,
			ETag: "ignored", ItemCount: 99, NextPollAt: t0().Add(at + time.Hour)}}
	}
	tests := []struct {
		name  string
		steps []step
		want  model.Source
	}{
		{
			name:  "first ok",
			steps: []step{ok(0, `"v1"`, "Sat, 01 Mar 2026 07:00:00 GMT", 20)},
			want: model.Source{LastPollAt: t0(), LastStatus: model.PollOK, LastSuccessAt: t0(), NextPollAt: t0().Add(15 * time.Minute),
				ETag: `"v1"`, LastModified: "Sat, 01 Mar 2026 07:00:00 GMT", LastItemCount: 20, PolledOnce: true, Polls: 1},
		},
		{
			name:  "errors keep validators and count up from the first failure",
			steps: []step{ok(0, `"v1"`, "lm1", 20), fail(time.Hour, "timeout"), fail(2*time.Hour, "HTTP 503")},
			want: model.Source{LastPollAt: t0().Add(2 * time.Hour), LastStatus: model.PollError, LastError: "HTTP 503",
				LastSuccessAt: t0(), NextPollAt: t0().Add(3 * time.Hour), ConsecutiveErrors: 2,
				FailingSince: t0().Add(time.Hour), ETag: `"v1"`, LastModified: "lm1", LastItemCount: 20, PolledOnce: true, Polls: 3},
		},
		{
			name:  "errors before any success",
			steps: []step{fail(0, "dns"), fail(time.Hour, "dns")},
			want: model.Source{LastPollAt: t0().Add(time.Hour), LastStatus: model.PollError, LastError: "dns",
				NextPollAt: t0().Add(2 * time.Hour), ConsecutiveErrors: 2, FailingSince: t0(), Polls: 2},
		},
		{
			name: "ok after errors and an alert resets the failure run",
			steps: []step{ok(0, `"v1"`, "", 5), fail(time.Hour, "x"), {alerted: t0().Add(90 * time.Minute)},
				ok(2*time.Hour, `"v2"`, "", 6)},
			want: model.Source{LastPollAt: t0().Add(2 * time.Hour), LastStatus: model.PollOK, LastSuccessAt: t0().Add(2 * time.Hour),
				NextPollAt: t0().Add(2*time.Hour + 15*time.Minute), ETag: `"v2"`, LastItemCount: 6, PolledOnce: true, Polls: 3},
		},
		{
			name:  "not modified keeps validators and item count",
			steps: []step{ok(0, `"v1"`, "lm1", 7), fail(time.Hour, "x"), notMod(2 * time.Hour)},
			want: model.Source{LastPollAt: t0().Add(2 * time.Hour), LastStatus: model.PollNotModified,
				LastSuccessAt: t0().Add(2 * time.Hour), NextPollAt: t0().Add(2*time.Hour + 15*time.Minute),
				ETag: `"v1"`, LastModified: "lm1", LastItemCount: 7, PolledOnce: true, Polls: 3},
		},
		{
			name:  "first detected list shape is not a change",
			steps: []step{okShape(0, "ul > li | a | a@href | span")},
			want: model.Source{LastPollAt: t0(), LastStatus: model.PollOK, LastSuccessAt: t0(), NextPollAt: t0().Add(15 * time.Minute),
				LastItemCount: 20, PolledOnce: true, ListShape: "ul > li | a | a@href | span", Polls: 1},
		},
		{
			name: "a changed list shape is recorded with the old one; errors keep it",
			steps: []step{okShape(0, "ul > li | a | a@href | span"), okShape(time.Hour, "ul > li | a | a@href | span"),
				okShape(2*time.Hour, "table > tr | a | a@href | td"), fail(3*time.Hour, "x")},
			want: model.Source{LastPollAt: t0().Add(3 * time.Hour), LastStatus: model.PollError, LastError: "x",
				LastSuccessAt: t0().Add(2 * time.Hour), NextPollAt: t0().Add(4 * time.Hour), ConsecutiveErrors: 1,
				FailingSince: t0().Add(3 * time.Hour), LastItemCount: 20, PolledOnce: true,
				ListShape: "table > tr | a | a@href | td", ListShapeWas: "ul > li | a | a@href | span", ShapeChangedAt: t0().Add(2 * time.Hour), Polls: 4},
		},
		{
			name:  "selectors configured again: the shape is forgotten",
			steps: []step{okShape(0, "ul > li | a | a@href | span"), ok(time.Hour, "", "", 20)},
			want: model.Source{LastPollAt: t0().Add(time.Hour), LastStatus: model.PollOK, LastSuccessAt: t0().Add(time.Hour),
				NextPollAt: t0().Add(time.Hour + 15*time.Minute), LastItemCount: 20, PolledOnce: true, Polls: 2},
		},
		{
			name:  "alert during a failure run is kept",
			steps: []step{fail(0, "x"), {alerted: t0().Add(time.Minute)}, fail(time.Hour, "y")},
			want: model.Source{LastPollAt: t0().Add(time.Hour), LastStatus: model.PollError, LastError: "y",
				NextPollAt: t0().Add(2 * time.Hour), ConsecutiveErrors: 2, FailingSince: t0(), AlertedAt: t0().Add(time.Minute), Polls: 2},
		},
		{
			name: "article fetch failures add up; the last failure stays until another",
			steps: func() []step {
				a, b := ok(0, `"v1"`, "", 5), ok(time.Hour, `"v1"`, "", 5)
				a.poll.ArticleFetches, a.poll.ArticleFailures, a.poll.ArticleError = 5, 2, "HTTP 404 from https://example.gov.cn/a.html"
				b.poll.ArticleFetches = 3
				return []step{a, b}
			}(),
			want: model.Source{LastPollAt: t0().Add(time.Hour), LastStatus: model.PollOK, LastSuccessAt: t0().Add(time.Hour),
				NextPollAt: t0().Add(time.Hour + 15*time.Minute), ETag: `"v1"`, LastItemCount: 5, PolledOnce: true, Polls: 2,
				ArticleFetches: 8, ArticleFailures: 2, LastArticleError: "HTTP 404 from https://example.gov.cn/a.html", LastArticleErrorAt: t0()},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			id := fmt.Sprintf("src-%d", i)
			url := "http://example.gov.cn/" + id
			if err := s.SyncSources(ctx, map[string]string{id: url}); err != nil {
				t.Fatal(err)
			}
			var got model.Source
			for _, st := range tc.steps {
				if st.poll == nil {
					if err := s.SetSourceAlerted(ctx, id, st.alerted); err != nil {
						t.Fatal(err)
					}
					continue
				}
				p := *st.poll
				p.SourceID = id
				var err error
				got, err = s.RecordPoll(ctx, p)
				if err != nil {
					t.Fatalf("record poll: %v", err)
				}
			}
			if st := tc.steps[len(tc.steps)-1]; st.poll == nil {
				t.Fatal("last step must be a poll")
			}
			tc.want.ID, tc.want.URL = id, url
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RecordPoll result (-want +got):\n%s", diff)
			}
			stored, err := s.GetSource(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, stored); diff != "" {
				t.Errorf("GetSource differs from RecordPoll result (-returned +stored):\n%s", diff)
			}
		})
	}

	t.Run("unknown status", func(t *testing.T) {
		_, err := s.RecordPoll(t.Context(), model.PollResult{SourceID: "x", At: t0(), Status: model.PollStatus("weird")})
		if err == nil {
			t.Error("RecordPoll with unknown status: no error")
		}
	})
	t.Run("creates a missing source and takes a new url", func(t *testing.T) {
		got, err := s.RecordPoll(t.Context(), model.PollResult{SourceID: "unsynced", URL: "http://u/1", At: t0(), Status: model.PollOK})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "unsynced" || got.URL != "http://u/1" || !got.PolledOnce {
			t.Errorf("got %+v", got)
		}
		got, err = s.RecordPoll(t.Context(), model.PollResult{SourceID: "unsynced", URL: "http://u/2", At: t0(), Status: model.PollError})
		if err != nil {
			t.Fatal(err)
		}
		if got.URL != "http://u/2" {
			t.Errorf("url = %q, want http://u/2", got.URL)
		}
	})
	t.Run("alert on missing source", func(t *testing.T) {
		if err := s.SetSourceAlerted(t.Context(), "nope", t0()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
}

func testSourceCounts(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.SyncSources(ctx, map[string]string{"a": "u", "b": "u", "empty": "u"}); err != nil {
		t.Fatal(err)
	}
	upsert(t, s, "a", t0().Add(-48*time.Hour), item("old1", "h", t0()), item("old2", "h", t0()))
	upsert(t, s, "a", t0().Add(-24*time.Hour), item("edge", "h", t0())) // exactly 24 h: counted
	upsert(t, s, "a", t0().Add(-time.Hour), item("new", "h", t0()))
	upsert(t, s, "b", t0().Add(-30*time.Hour), item("x", "h", t0()))
	got, err := s.ListSources(ctx, t0())
	if err != nil {
		t.Fatal(err)
	}
	type counts struct {
		ID              string
		ItemCount, Last int
	}
	var gotC []counts
	for _, src := range got {
		gotC = append(gotC, counts{src.ID, src.ItemCount, src.ItemsLast24h})
	}
	want := []counts{{"a", 4, 2}, {"b", 1, 0}, {"empty", 0, 0}}
	if diff := cmp.Diff(want, gotC); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}

	// GetSource counts against the wall clock.
	now := time.Now()
	upsert(t, s, "c", now.Add(-2*time.Hour), item("recent", "h", now))
	upsert(t, s, "c", now.Add(-50*time.Hour), item("stale", "h", now))
	if _, err := s.RecordPoll(ctx, model.PollResult{SourceID: "c", At: now, Status: model.PollOK}); err != nil {
		t.Fatal(err)
	}
	src, err := s.GetSource(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if src.ItemCount != 2 || src.ItemsLast24h != 1 {
		t.Errorf("GetSource(c) counts = %d/%d, want 2/1", src.ItemCount, src.ItemsLast24h)
	}
}

func testClaimSource(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.SyncSources(ctx, map[string]string{"a": "u"}); err != nil {
		t.Fatal(err)
	}
	type step struct {
		op    string // claim | release | record (RecordPoll releasing owner's lease)
		owner string
		at    time.Duration
		want  bool
	}
	steps := []step{
		{"claim", "A", 0, true},
		{"claim", "B", time.Minute, false},
		{"claim", "A", 2 * time.Minute, true}, // renew: now until 7m
		{"claim", "B", 6 * time.Minute, false},
		{"release", "B", 0, false}, // not the holder: nothing happens
		{"claim", "B", 6 * time.Minute, false},
		{"claim", "B", 7 * time.Minute, true}, // A's lease ran out
		{"release", "B", 0, false},
		{"claim", "C", 7 * time.Minute, true},
		{"record", "B", 0, false}, // not the holder: the poll is recorded, the lease stays
		{"claim", "D", 8 * time.Minute, false},
		{"record", "C", 0, false},
		{"claim", "D", 8 * time.Minute, true},
	}
	for i, st := range steps {
		switch st.op {
		case "release":
			if err := s.ReleaseSource(ctx, "a", st.owner); err != nil {
				t.Fatalf("step %d: release: %v", i, err)
			}
		case "record":
			pr := model.PollResult{SourceID: "a", At: t0().Add(8 * time.Minute), Status: model.PollNotModified, ReleaseFor: st.owner}
			if _, err := s.RecordPoll(ctx, pr); err != nil {
				t.Fatalf("step %d: record poll: %v", i, err)
			}
		case "claim":
			got, err := s.ClaimSource(ctx, "a", st.owner, t0().Add(st.at), 5*time.Minute)
			if err != nil {
				t.Fatalf("step %d: claim: %v", i, err)
			}
			if got != st.want {
				t.Errorf("step %d: ClaimSource(%s at %v) = %v, want %v", i, st.owner, st.at, got, st.want)
			}
		}
	}
	// A source not synced yet gets a row and can be leased.
	if ok, err := s.ClaimSource(ctx, "unsynced", "A", t0(), time.Minute); err != nil || !ok {
		t.Errorf("claim unsynced source = %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimSource(ctx, "unsynced", "B", t0(), time.Minute); err != nil || ok {
		t.Errorf("second claim of unsynced source = %v, %v; want false", ok, err)
	}
	if _, err := s.GetSource(ctx, "unsynced"); err != nil {
		t.Errorf("unsynced source after claim: %v", err)
	}
}

func itemIDs(items []model.Item) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// testItemMetaAndDate: government metadata round-trips; a post first seen
// without a date gets one when a later poll finds it, and keeps it when a
// still later poll loses it again.
func testItemMetaAndDate(t *testing.T, s *store.Store) {
	it := item("m", "h1", time.Time{})
	it.Meta = map[string]string{"索引号": "000014349/2019-00011", "发文字号": "国发〔2019〕23号"}
	res := upsert(t, s, "meta-src", t0(), it)
	id := res.New[0]
	got := getItem(t, s, id)
	if !got.DateUnknown || !got.Published.IsZero() || len(got.Meta) != 2 || got.Meta["发文字号"] != "国发〔2019〕23号" {
		t.Fatalf("stored: DateUnknown %v Published %v Meta %v", got.DateUnknown, got.Published, got.Meta)
	}
	dated := item("m", "h2", t0().Add(-48*time.Hour))
	upsert(t, s, "meta-src", t0().Add(time.Hour), dated)
	got = getItem(t, s, id)
	if got.DateUnknown || !got.Published.Equal(t0().Add(-48*time.Hour)) || got.Meta != nil {
		t.Errorf("after dated update: DateUnknown %v Published %v Meta %v", got.DateUnknown, got.Published, got.Meta)
	}
	upsert(t, s, "meta-src", t0().Add(2*time.Hour), item("m", "h3", time.Time{}))
	got = getItem(t, s, id)
	if got.DateUnknown || !got.Published.Equal(t0().Add(-48*time.Hour)) {
		t.Errorf("after undated update: DateUnknown %v Published %v, want the stored date kept", got.DateUnknown, got.Published)
	}
}

func testUpsertItems(t *testing.T, s *store.Store) {
	ctx := t.Context()
	first := []model.Item{item("a", "ha", t0().Add(-3*time.Hour)), item("b", "hb", t0().Add(-2*time.Hour)), item("c", "hc", time.Time{})}
	first[0].BackfillRank = 0
	first[1].BackfillRank = 1
	res := upsert(t, s, "src", t0(), first...)
	if len(res.New) != 3 || len(res.Updated) != 0 || res.Unchanged != 0 {
		t.Fatalf("first upsert = %+v, want 3 new", res)
	}
	idA, idB, idC := res.New[0], res.New[1], res.New[2]

	a := getItem(t, s, idA)
	want := first[0]
	want.ID, want.SourceID, want.State = idA, "src", model.StateNew
	want.FirstSeen, want.UpdatedAt = t0(), t0()
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("stored item (-want +got):\n%s", diff)
	}
	// A post without a date keeps it unknown (never the fetch time) and is
	// placed by its first-seen time.
	if c := getItem(t, s, idC); !c.Published.IsZero() || !c.DateUnknown || !c.FirstSeen.Equal(t0()) {
		t.Errorf("item without date: Published = %v, DateUnknown %v, FirstSeen %v; want zero, true, %v", c.Published, c.DateUnknown, c.FirstSeen, t0())
	}
	if list, err := s.ListItems(ctx, store.ItemQuery{SourceIDs: []string{"src"}}); err != nil {
		t.Fatal(err)
	} else if len(list) != 3 || list[0].ID != idC || list[1].ID != idB || list[2].ID != idA {
		t.Errorf("list order %v, want the undated post (first seen now) first, then b, a", itemIDs(list))
	}

	// Give b a translation and a failure history, then poll again.
	tr := model.Translation{TitleEN: "Title b", SummaryEN: "Summary b", ContentHTMLEN: "<p>Body b</p>", TranslatedBy: "deepl"}
	if err := s.MarkTranslateFailed(ctx, idB, &tr, "quota", t0().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	t.Run("same batch again is unchanged", func(t *testing.T) {
		res := upsert(t, s, "src", t0().Add(time.Hour), first...)
		if diff := cmp.Diff(store.UpsertResult{Unchanged: 3}, res); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		if got := getItem(t, s, idA); !got.UpdatedAt.Equal(t0()) {
			t.Errorf("unchanged item UpdatedAt = %v, want %v", got.UpdatedAt, t0())
		}
		n, err := s.CountItems(ctx, store.ItemQuery{})
		if err != nil || n != 3 {
			t.Errorf("CountItems = %d, %v; want 3", n, err)
		}
	})

	t.Run("changed hash replaces the original and keeps the translation", func(t *testing.T) {
		now := t0().Add(2 * time.Hour)
		changed := item("b", "hb2", time.Time{}) // no date: keep the stored one
		changed.Title = "新标题"
		changed.Categories = nil
		res := upsert(t, s, "src", now, first[0], changed, item("d", "hd", now))
		if len(res.New) != 1 || !slices.Equal(res.Updated, []int64{idB}) || res.Unchanged != 1 {
			t.Fatalf("result = %+v, want 1 new, b updated, 1 unchanged", res)
		}
		b := getItem(t, s, idB)
		if b.Title != "新标题" || b.ContentHash != "hb2" || b.Categories != nil {
			t.Errorf("original not replaced: %+v", b)
		}
		if !b.Published.Equal(t0().Add(-2*time.Hour)) || !b.FirstSeen.Equal(t0()) || !b.UpdatedAt.Equal(now) {
			t.Errorf("times: published %v first_seen %v updated %v", b.Published, b.FirstSeen, b.UpdatedAt)
		}
		if b.State != model.StateNew || b.Attempts != 0 || b.TranslateErr != "" || !b.NextAttemptAt.IsZero() {
			t.Errorf("retranslation state: state %q attempts %d err %q next %v", b.State, b.Attempts, b.TranslateErr, b.NextAttemptAt)
		}
		if b.TitleEN != "Title b" || b.ContentHTMLEN != "<p>Body b</p>" || b.TranslatedBy != "deepl" {
			t.Errorf("translation slot not kept: %q %q %q", b.TitleEN, b.ContentHTMLEN, b.TranslatedBy)
		}
		if b.BackfillRank != 1 {
			t.Errorf("BackfillRank = %d, want 1 (kept)", b.BackfillRank)
		}
	})

	t.Run("new published date replaces the old one", func(t *testing.T) {
		pub := t0().Add(-90 * time.Minute)
		res := upsert(t, s, "src", t0().Add(3*time.Hour), item("a", "ha2", pub))
		if !slices.Equal(res.Updated, []int64{idA}) {
			t.Fatalf("result = %+v", res)
		}
		if got := getItem(t, s, idA); !got.Published.Equal(pub) {
			t.Errorf("Published = %v, want %v", got.Published, pub)
		}
	})

	t.Run("duplicate keys in one batch", func(t *testing.T) {
		now := t0().Add(4 * time.Hour)
		res := upsert(t, s, "src", now, item("e", "he", now), item("e", "he", now), item("e", "he2", now))
		if len(res.New) != 1 || !slices.Equal(res.Updated, res.New) || res.Unchanged != 1 {
			t.Fatalf("result = %+v, want e new once, then updated, one unchanged", res)
		}
		if got := getItem(t, s, res.New[0]); got.ContentHash != "he2" {
			t.Errorf("hash = %q, want the last one", got.ContentHash)
		}
	})

	t.Run("keys are per source", func(t *testing.T) {
		res := upsert(t, s, "other", t0(), item("a", "ha", t0()))
		if len(res.New) != 1 || res.New[0] == idA {
			t.Errorf("same key in another source: %+v", res)
		}
		keys, err := s.ItemKeys(ctx, "src")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a": "ha2", "b": "hb2", "c": "hc", "d": "hd", "e": "he2"}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("ItemKeys (-want +got):\n%s", diff)
		}
	})

	t.Run("empty batch", func(t *testing.T) {
		res, err := s.UpsertItems(ctx, "src", nil, t0())
		if err != nil || len(res.New)+len(res.Updated)+res.Unchanged != 0 {
			t.Errorf("UpsertItems(nil) = %+v, %v", res, err)
		}
	})

	t.Run("large batch", func(t *testing.T) {
		var batch []model.Item
		for i := range 1200 {
			batch = append(batch, item(fmt.Sprintf("bulk-%04d", i), "h", t0()))
		}
		if res := upsert(t, s, "bulk", t0(), batch...); len(res.New) != 1200 {
			t.Fatalf("new = %d, want 1200", len(res.New))
		}
		if res := upsert(t, s, "bulk", t0(), batch...); res.Unchanged != 1200 {
			t.Fatalf("unchanged = %d, want 1200", res.Unchanged)
		}
	})
}

func testUpsertRejects(t *testing.T, s *store.Store) {
	tests := []struct {
		name   string
		source string
		items  []model.Item
	}{
		{"empty key", "src", []model.Item{item("ok", "h", t0()), item("", "h", t0())}},
		{"empty source", "", []model.Item{item("ok", "h", t0())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.UpsertItems(t.Context(), tc.source, tc.items, t0()); err == nil {
				t.Fatal("no error")
			}
			if n, err := s.CountItems(t.Context(), store.ItemQuery{}); err != nil || n != 0 {
				t.Errorf("CountItems = %d, %v; want nothing stored", n, err)
			}
		})
	}
}

func testListItems(t *testing.T, s *store.Store) {
	ctx := t.Context()
	byKey := map[string]int64{}
	add := func(src, key string, pub time.Duration) {
		res := upsert(t, s, src, t0(), item(key, "h", t0().Add(pub)))
		byKey[key] = res.New[0]
	}
	add("a", "a1", -5*time.Hour)
	add("a", "a2", -1*time.Hour)
	add("b", "b1", -3*time.Hour)
	add("b", "b2", -1*time.Hour) // same published as a2: higher id first
	add("c", "c1", -2*time.Hour)
	if err := s.MarkReady(ctx, byKey["a1"], model.Translation{}, nil, t0()); err != nil {
		t.Fatal(err)
	}
	if err := s.SetItemState(ctx, byKey["c1"], model.StateTranslating); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     store.ItemQuery
		want  []string
		count int
	}{
		{"all newest first", store.ItemQuery{}, []string{"b2", "a2", "c1", "b1", "a1"}, 5},
		{"one source", store.ItemQuery{SourceIDs: []string{"a"}}, []string{"a2", "a1"}, 2},
		{"two sources", store.ItemQuery{SourceIDs: []string{"a", "c"}}, []string{"a2", "c1", "a1"}, 3},
		{"states", store.ItemQuery{States: []model.State{model.StateReady, model.StateTranslating}}, []string{"c1", "a1"}, 2},
		{"state and source", store.ItemQuery{SourceIDs: []string{"a"}, States: []model.State{model.StateNew}}, []string{"a2"}, 1},
		{"limit", store.ItemQuery{Limit: 2}, []string{"b2", "a2"}, 5},
		{"offset", store.ItemQuery{Limit: 2, Offset: 2}, []string{"c1", "b1"}, 5},
		{"before", store.ItemQuery{Before: t0().Add(-time.Hour)}, []string{"c1", "b1", "a1"}, 3},
		{"nothing", store.ItemQuery{SourceIDs: []string{"zzz"}}, []string{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListItems(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			want := []int64{}
			for _, k := range tc.want {
				want = append(want, byKey[k])
			}
			if diff := cmp.Diff(want, ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			n, err := s.CountItems(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.count {
				t.Errorf("CountItems = %d, want %d", n, tc.count)
			}
		})
	}
	t.Run("default limit 50", func(t *testing.T) {
		var batch []model.Item
		for i := range 60 {
			batch = append(batch, item(fmt.Sprintf("many-%02d", i), "h", t0().Add(time.Duration(i)*time.Second)))
		}
		upsert(t, s, "many", t0(), batch...)
		got, err := s.ListItems(ctx, store.ItemQuery{SourceIDs: []string{"many"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 50 || got[0].Key != "many-59" {
			t.Errorf("got %d items, first %q; want 50 starting with many-59", len(got), got[0].Key)
		}
	})
	t.Run("missing item", func(t *testing.T) {
		if _, err := s.GetItem(ctx, 987654); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
}

func testTimesRoundTrip(t *testing.T, s *store.Store) {
	ctx := t.Context()
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"utc whole ms", t0(), t0()},
		{"sub-millisecond truncated", t0().Add(123456789 * time.Nanosecond), t0().Add(123 * time.Millisecond)},
		{"other zone comes back utc", time.Date(2026, 3, 1, 16, 30, 0, 5_000_000, shanghai), time.Date(2026, 3, 1, 8, 30, 0, 5_000_000, time.UTC)},
		{"far future", time.Date(2099, 12, 31, 23, 59, 59, 999_000_000, time.UTC), time.Date(2099, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := upsert(t, s, "times", tc.in, item(fmt.Sprintf("k%d", i), "h", tc.in))
			got := getItem(t, s, res.New[0])
			for name, v := range map[string]time.Time{"Published": got.Published, "FirstSeen": got.FirstSeen} {
				if !v.Equal(tc.want) || v.Location() != time.UTC {
					t.Errorf("%s = %v (%v), want %v UTC", name, v, v.Location(), tc.want)
				}
			}
			if err := s.SetChannelState(ctx, model.ChannelState{Channel: "c", PausedUntil: tc.in}); err != nil {
				t.Fatal(err)
			}
			cs, err := s.GetChannelState(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			if !cs.PausedUntil.Equal(tc.want) || cs.PausedUntil.Location() != time.UTC {
				t.Errorf("PausedUntil = %v, want %v UTC", cs.PausedUntil, tc.want)
			}
		})
	}
	t.Run("zero stays zero", func(t *testing.T) {
		res := upsert(t, s, "zero", t0(), item("z", "h", t0()))
		got := getItem(t, s, res.New[0])
		if !got.ReadyAt.IsZero() || !got.TranslatedAt.IsZero() || !got.NextAttemptAt.IsZero() {
			t.Errorf("unset times not zero: %v %v %v", got.ReadyAt, got.TranslatedAt, got.NextAttemptAt)
		}
	})
}

func testItemsChangedSince(t *testing.T, s *store.Store) {
	ctx := t.Context()
	check := func(name string, sources []string, want time.Time) {
		t.Helper()
		got, err := s.ItemsChangedSince(ctx, sources)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("%s: ItemsChangedSince(%v) = %v, want %v", name, sources, got, want)
		}
	}
	check("empty store", nil, time.Time{})
	a := upsert(t, s, "a", t0(), item("a1", "h", t0())).New[0]
	upsert(t, s, "b", t0().Add(time.Hour), item("b1", "h", t0()))
	check("stored", []string{"a"}, t0())
	if err := s.MarkReady(ctx, a, model.Translation{TitleEN: "x"}, nil, t0().Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("source a", []string{"a"}, t0().Add(3*time.Hour))
	check("all sources", nil, t0().Add(3*time.Hour))
	check("other source", []string{"b"}, t0().Add(time.Hour))
	check("unknown source", []string{"zzz"}, time.Time{})
	upsert(t, s, "a", t0().Add(4*time.Hour), item("a1", "h2", t0()))
	check("changed original", []string{"a"}, t0().Add(4*time.Hour))
}

func testClaimItems(t *testing.T, s *store.Store) {
	ctx := t.Context()
	var all []int64
	for i := range 5 {
		res := upsert(t, s, "src", t0().Add(time.Duration(i)*time.Minute), item(fmt.Sprintf("k%d", i), "h", t0()))
		all = append(all, res.New[0])
	}
	// all[3] is ready; all[4] waits for a retry at t0()+1h.
	if err := s.MarkReady(ctx, all[3], model.Translation{}, nil, t0()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTranslateFailed(ctx, all[4], nil, "boom", t0().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	lease := 2 * time.Hour
	steps := []struct {
		name  string
		owner string
		at    time.Duration
		limit int
		want  []int64
	}{
		{"oldest first up to limit", "A", 0, 2, all[:2]},
		{"leased items are skipped", "B", time.Minute, 10, all[2:3]},
		{"nothing left", "C", 2 * time.Minute, 10, nil},
		{"retry comes due", "C", time.Hour, 10, all[4:5]},
		{"expired leases come back", "D", 2*time.Hour + time.Minute, 10, all[:3]},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := s.ClaimItems(ctx, st.owner, t0().Add(st.at), st.limit, lease)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(st.want, ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("claimed items are complete", func(t *testing.T) {
		got, err := s.ClaimItems(ctx, "E", t0().Add(3*time.Hour), 1, lease)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim = %v, %v", got, err)
		}
		if diff := cmp.Diff(getItem(t, s, got[0].ID), got[0]); diff != "" {
			t.Errorf("claimed item differs from stored (-stored +claimed):\n%s", diff)
		}
		if got[0].Title == "" || len(got[0].Categories) != 2 {
			t.Errorf("claimed item lacks fields: %+v", got[0])
		}
	})
	t.Run("zero limit", func(t *testing.T) {
		got, err := s.ClaimItems(ctx, "F", t0().Add(5*time.Hour), 0, lease)
		if err != nil || len(got) != 0 {
			t.Errorf("ClaimItems(limit 0) = %v, %v", got, err)
		}
	})
}

// claimAll runs workers that claim batches until one comes back empty and
// reports every id each one received. It gives up once more than limit ids
// were handed out in total (a broken lease would otherwise claim forever).
func claimAll(t *testing.T, workers, limit int, claim func(owner string) ([]int64, error)) []int64 {
	t.Helper()
	var (
		mu   sync.Mutex
		got  []int64
		errs []error
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("worker-%d", w)
			for {
				batch, err := claim(owner)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				got = append(got, batch...)
				over := len(got) > limit
				mu.Unlock()
				if over {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("claim: %v", err)
	}
	return got
}

func assertEachOnce(t *testing.T, want, got []int64) {
	t.Helper()
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("id %d claimed %d times", id, n)
		}
	}
	got = slices.Clone(got)
	slices.Sort(got)
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	if diff := cmp.Diff(sorted, slices.Compact(got)); diff != "" {
		t.Errorf("claimed ids (-want +got):\n%s", diff)
	}
}

func testClaimItemsConcurrent(t *testing.T, s *store.Store) {
	var batch []model.Item
	for i := range 300 {
		batch = append(batch, item(fmt.Sprintf("k%03d", i), "h", t0()))
	}
	want := upsert(t, s, "src", t0(), batch...).New
	got := claimAll(t, 8, 2*len(want), func(owner string) ([]int64, error) {
		items, err := s.ClaimItems(t.Context(), owner, t0(), 7, time.Hour)
		return ids(items), err
	})
	assertEachOnce(t, want, got)
}

func testMarkReady(t *testing.T, s *store.Store) {
	ctx := t.Context()
	id := upsert(t, s, "src", t0(), item("k", "h", t0())).New[0]
	if _, err := s.ClaimItems(ctx, "A", t0(), 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTranslateFailed(ctx, id, nil, "first try failed", t0()); err != nil {
		t.Fatal(err)
	}
	tr := model.Translation{TitleEN: "Title", SummaryEN: "Summary", ContentHTMLEN: "<p>Body</p>",
		TranslatedBy: "openai/gpt-4o-mini", TitleOnly: true}
	readyAt := t0().Add(time.Minute)
	if err := s.MarkReady(ctx, id, tr, []string{"@a", "@b#7"}, readyAt); err != nil {
		t.Fatal(err)
	}
	got := getItem(t, s, id)
	want := item("k", "h", t0())
	want.ID, want.SourceID, want.State = id, "src", model.StateReady
	want.FirstSeen, want.UpdatedAt, want.ReadyAt, want.TranslatedAt = t0(), t0(), readyAt, readyAt
	want.TitleEN, want.SummaryEN, want.ContentHTMLEN, want.TranslatedBy, want.TitleOnly = tr.TitleEN, tr.SummaryEN, tr.ContentHTMLEN, tr.TranslatedBy, true
	want.Attempts = 1 // kept: attempts so far
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ready item (-want +got):\n%s", diff)
	}

	// Retranslated later (the original changed): no second delivery for @a
	// and @b#7, a new one for a channel added since.
	upsert(t, s, "src", t0().Add(time.Hour), item("k", "h2", t0()))
	if err := s.MarkReady(ctx, id, tr, []string{"@a", "@b#7", "@c"}, t0().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.ClaimDeliveries(ctx, "bot", t0().Add(3*time.Hour), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var chans []string
	for _, d := range ds {
		chans = append(chans, d.Channel)
		if d.ItemID != id || d.State != model.DeliveryPending || d.Attempts != 0 {
			t.Errorf("delivery %+v", d)
		}
	}
	if diff := cmp.Diff([]string{"@a", "@b#7", "@c"}, chans); diff != "" {
		t.Errorf("delivery channels, oldest first (-want +got):\n%s", diff)
	}
	if !ds[0].CreatedAt.Equal(readyAt) || !ds[0].NextAttemptAt.Equal(readyAt) || !ds[2].CreatedAt.Equal(t0().Add(2*time.Hour)) {
		t.Errorf("delivery times: %+v", ds)
	}
	if it := getItem(t, s, id); !it.ReadyAt.Equal(t0().Add(2 * time.Hour)) {
		t.Errorf("ReadyAt after second MarkReady = %v", it.ReadyAt)
	}
	t.Run("untranslated original", func(t *testing.T) {
		id := upsert(t, s, "src", t0(), item("orig", "h", t0())).New[0]
		if err := s.MarkReady(ctx, id, model.Translation{Untranslated: true}, nil, t0()); err != nil {
			t.Fatal(err)
		}
		got := getItem(t, s, id)
		if !got.Untranslated || got.State != model.StateReady || !got.TranslatedAt.IsZero() {
			t.Errorf("got untranslated %v state %q translated_at %v", got.Untranslated, got.State, got.TranslatedAt)
		}
	})
	t.Run("missing item", func(t *testing.T) {
		if err := s.MarkReady(ctx, 987654, tr, []string{"@a"}, t0()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
}

func testMarkTranslateFailed(t *testing.T, s *store.Store) {
	ctx := t.Context()
	id := upsert(t, s, "src", t0(), item("k", "h", t0())).New[0]
	tests := []struct {
		name     string
		tr       *model.Translation
		reason   string
		next     time.Duration
		attempts int
		titleEN  string
	}{
		{"no partial translation", nil, "HTTP 503", time.Minute, 1, ""},
		{"title only", &model.Translation{TitleEN: "Title", TranslatedBy: "deepl", TitleOnly: true}, "quota", time.Hour, 2, "Title"},
		{"nil keeps the partial one", nil, "HTTP 429", 2 * time.Hour, 3, "Title"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claimed, err := s.ClaimItems(ctx, "A", t0().Add(24*time.Hour), 1, time.Minute)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim = %v, %v", claimed, err)
			}
			next := t0().Add(tc.next)
			if err := s.MarkTranslateFailed(ctx, id, tc.tr, tc.reason, next); err != nil {
				t.Fatal(err)
			}
			got := getItem(t, s, id)
			if got.State != model.StateTranslating || got.Attempts != tc.attempts || got.TranslateErr != tc.reason ||
				!got.NextAttemptAt.Equal(next) || got.TitleEN != tc.titleEN {
				t.Errorf("got state %q attempts %d err %q next %v title_en %q", got.State, got.Attempts,
					got.TranslateErr, got.NextAttemptAt, got.TitleEN)
			}
			// The lease is cleared: the item is claimable as soon as it is due.
			if c, err := s.ClaimItems(ctx, "B", next, 1, time.Minute); err != nil || len(c) != 1 {
				t.Errorf("not claimable at next attempt: %v, %v", c, err)
			}
			if c, err := s.ClaimItems(ctx, "B", next.Add(-time.Millisecond), 1, time.Minute); err != nil || len(c) != 0 {
				t.Errorf("claimable before next attempt: %v, %v", c, err)
			}
		})
	}
	if err := s.MarkTranslateFailed(ctx, 987654, nil, "x", t0()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing item: error = %v, want ErrNotFound", err)
	}
}

func testSetItemState(t *testing.T, s *store.Store) {
	ctx := t.Context()
	res := upsert(t, s, "src", t0(), item("a", "h", t0()), item("b", "h", t0()), item("c", "h", t0()))
	backlog := func(want int) {
		t.Helper()
		n, err := s.TranslationBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("TranslationBacklog = %d, want %d", n, want)
		}
	}
	backlog(3)
	if err := s.SetItemState(ctx, res.New[0], model.StateTranslating); err != nil {
		t.Fatal(err)
	}
	backlog(3)
	if err := s.SetItemState(ctx, res.New[1], model.StateReady); err != nil {
		t.Fatal(err)
	}
	backlog(2)
	if got := getItem(t, s, res.New[0]); got.State != model.StateTranslating {
		t.Errorf("state = %q", got.State)
	}
	if err := s.SetItemState(ctx, res.New[0], "bogus"); err == nil {
		t.Error("unknown state accepted")
	}
	if err := s.SetItemState(ctx, 987654, model.StateNew); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing item: error = %v, want ErrNotFound", err)
	}
}

// readyItems stores n items and marks each ready for channels, one minute apart.
func readyItems(t *testing.T, s *store.Store, n int, channels ...string) []int64 {
	t.Helper()
	var out []int64
	for i := range n {
		id := upsert(t, s, "src", t0(), item(fmt.Sprintf("r%03d", i), "h", t0())).New[0]
		if err := s.MarkReady(t.Context(), id, model.Translation{TitleEN: "T"}, channels, t0().Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func testClaimDeliveries(t *testing.T, s *store.Store) {
	ctx := t.Context()
	readyItems(t, s, 4, "@a")
	// Delivery ids in creation order.
	first, err := s.ClaimDeliveries(ctx, "probe", t0().Add(time.Hour), 100, time.Millisecond)
	if err != nil || len(first) != 4 {
		t.Fatalf("claim all = %v, %v", first, err)
	}
	d := deliveryIDs(first)
	base := t0().Add(time.Hour + time.Second) // probe lease is over
	if err := s.MarkDelivered(ctx, d[0], 555, base); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryRetry(ctx, d[1], "HTTP 429", base.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeliveryFailed(ctx, d[2], "chat not found"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		owner string
		at    time.Duration
		limit int
		want  []int64
	}{
		{"sent, failed and not-due skipped", "A", 0, 10, d[3:4]},
		{"leased skipped", "B", time.Second, 10, nil},
		{"retry due", "B", 30 * time.Second, 10, d[1:2]},
		{"lease expiry frees pending only", "C", 10 * time.Minute, 10, []int64{d[1], d[3]}},
		{"limit", "D", 20 * time.Minute, 1, d[1:2]},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := s.ClaimDeliveries(ctx, st.owner, base.Add(st.at), st.limit, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(st.want, deliveryIDs(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("claimed (-want +got):\n%s", diff)
			}
			for _, dl := range got {
				if dl.LeaseOwner != st.owner || !dl.LeaseUntil.Equal(base.Add(st.at+5*time.Minute)) {
					t.Errorf("delivery %d lease = %q until %v", dl.ID, dl.LeaseOwner, dl.LeaseUntil)
				}
			}
		})
	}
	sent, err := s.ClaimDeliveries(ctx, "Z", base.Add(24*time.Hour), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(deliveryIDs(sent), d[0]) || slices.Contains(deliveryIDs(sent), d[2]) {
		t.Errorf("sent or failed delivery claimed again: %v", deliveryIDs(sent))
	}
}

func testClaimDeliveriesPaused(t *testing.T, s *store.Store) {
	ctx := t.Context()
	readyItems(t, s, 1, "@free", "@paused", "@ratelimited", "@expired", "@resumed")
	now := t0().Add(time.Hour)
	states := []model.ChannelState{
		{Channel: "@paused", Paused: true, Reason: "bot was kicked"},
		{Channel: "@ratelimited", PausedUntil: now.Add(time.Second), Reason: "retry_after 1"},
		{Channel: "@expired", PausedUntil: now},
		{Channel: "@resumed", Paused: false, Reason: "resumed by admin"},
	}
	for _, st := range states {
		if err := s.SetChannelState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClaimDeliveries(ctx, "A", now, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var chans []string
	for _, d := range got {
		chans = append(chans, d.Channel)
	}
	slices.Sort(chans)
	if diff := cmp.Diff([]string{"@expired", "@free", "@resumed"}, chans); diff != "" {
		t.Errorf("claimed channels (-want +got):\n%s", diff)
	}
}

func testClaimDeliveriesConcurrent(t *testing.T, s *store.Store) {
	readyItems(t, s, 60, "@a", "@b", "@c")
	probe, err := s.ClaimDeliveries(t.Context(), "probe", t0().Add(time.Hour), 1000, time.Millisecond)
	if err != nil || len(probe) != 180 {
		t.Fatalf("probe = %d, %v", len(probe), err)
	}
	at := t0().Add(2 * time.Hour)
	got := claimAll(t, 8, 2*len(probe), func(owner string) ([]int64, error) {
		ds, err := s.ClaimDeliveries(t.Context(), owner, at, 5, time.Hour)
		return deliveryIDs(ds), err
	})
	assertEachOnce(t, deliveryIDs(probe), got)
}

func testDeliveryOutcomes(t *testing.T, s *store.Store) {
	ctx := t.Context()
	readyItems(t, s, 3, "@a", "@b")
	ds, err := s.ClaimDeliveries(ctx, "A", t0().Add(time.Hour), 100, time.Minute)
	if err != nil || len(ds) != 6 {
		t.Fatalf("claim = %v, %v", ds, err)
	}
	byChan := map[string][]model.Delivery{}
	for _, d := range ds {
		byChan[d.Channel] = append(byChan[d.Channel], d)
	}
	sentAt := t0().Add(time.Hour + time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.MarkDelivered(ctx, byChan["@a"][0].ID, 1001, sentAt))
	must(s.MarkDeliveryFailed(ctx, byChan["@a"][1].ID, "message is too long"))
	must(s.MarkDeliveryFailed(ctx, byChan["@b"][0].ID, "chat not found"))
	must(s.MarkDeliveryFailed(ctx, byChan["@b"][1].ID, "chat not found"))
	must(s.MarkDeliveryRetry(ctx, byChan["@b"][2].ID, "network", t0().Add(2*time.Hour)))
	// A failure reported after the message was sent leaves it sent.
	must(s.MarkDeliveryFailed(ctx, byChan["@a"][0].ID, "late"))

	backlog := func(want []model.DeliveryBacklog) {
		t.Helper()
		got, err := s.DeliveryBacklogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("backlogs (-want +got):\n%s", diff)
		}
	}
	backlog([]model.DeliveryBacklog{{Channel: "@a", Pending: 1, Sent: 1, Failed: 1}, {Channel: "@b", Pending: 1, Failed: 2}})

	sent, err := s.ClaimDeliveries(ctx, "B", t0().Add(48*time.Hour), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 {
		t.Errorf("claimable after outcomes = %v, want the two pending", deliveryIDs(sent))
	}
	for _, d := range sent {
		if d.Channel == "@b" && (d.Attempts != 1 || d.Error != "network" || !d.NextAttemptAt.Equal(t0().Add(2*time.Hour))) {
			t.Errorf("retried delivery = %+v", d)
		}
	}

	n, err := s.RetryFailedDeliveries(ctx, "@b")
	if err != nil || n != 2 {
		t.Errorf("RetryFailedDeliveries(@b) = %d, %v; want 2", n, err)
	}
	backlog([]model.DeliveryBacklog{{Channel: "@a", Pending: 1, Sent: 1, Failed: 1}, {Channel: "@b", Pending: 3}})
	n, err = s.RetryFailedDeliveries(ctx, "")
	if err != nil || n != 1 {
		t.Errorf("RetryFailedDeliveries(all) = %d, %v; want 1", n, err)
	}
	requeued, err := s.ClaimDeliveries(ctx, "C", t0().Add(48*time.Hour), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range requeued {
		if d.ID == byChan["@a"][0].ID {
			t.Errorf("sent delivery requeued")
		}
		if d.ID == byChan["@b"][0].ID && (d.Attempts != 0 || d.Error != "") {
			t.Errorf("requeued delivery keeps history: %+v", d)
		}
	}
	if len(requeued) != 3 {
		t.Errorf("requeued = %d, want 3 (two @b and one @a)", len(requeued))
	}

	for name, err := range map[string]error{
		"delivered":   s.MarkDelivered(ctx, 987654, 1, t0()),
		"retry":       s.MarkDeliveryRetry(ctx, 987654, "x", t0()),
		"mark failed": s.MarkDeliveryFailed(ctx, 987654, "x"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s on missing delivery: error = %v, want ErrNotFound", name, err)
		}
	}
}

func testTranslationMemory(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.TMPut(ctx, []model.TMEntry{
		{Key: "k1", Provider: "deepl", Source: "肇庆", Target: "Zhaoqing"},
		{Key: "k2", Provider: "deepl", Source: "大湾区", Target: "Great Bay"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.TMPut(ctx, []model.TMEntry{{Key: "k2", Provider: "openai", Source: "大湾区", Target: "Greater Bay Area"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keys []string
		want map[string]string
	}{
		{"hits and misses", []string{"k1", "k2", "k3"}, map[string]string{"k1": "Zhaoqing", "k2": "Greater Bay Area"}},
		{"none", []string{"nope"}, map[string]string{}},
		{"no keys", nil, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.TMGet(ctx, tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("TMGet (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("many keys", func(t *testing.T) {
		var entries []model.TMEntry
		var keys []string
		for i := range 1100 {
			k := fmt.Sprintf("bulk-%d", i)
			entries = append(entries, model.TMEntry{Key: k, Source: "源", Target: k})
			keys = append(keys, k)
		}
		if err := s.TMPut(ctx, entries); err != nil {
			t.Fatal(err)
		}
		got, err := s.TMGet(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1100 || got["bulk-1099"] != "bulk-1099" {
			t.Errorf("got %d entries", len(got))
		}
	})
}

func testUsage(t *testing.T, s *store.Store) {
	ctx := t.Context()
	got, err := s.GetUsage(ctx, "2026-03-01", "deepl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(model.Usage{Day: "2026-03-01", Provider: "deepl"}, got); diff != "" {
		t.Errorf("empty usage (-want +got):\n%s", diff)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 20 {
		wg.Go(func() { errs <- s.AddUsage(ctx, "2026-03-01", "deepl", 1000, 1) })
		wg.Go(func() { errs <- s.AddUsage(ctx, "2026-03-02", "deepl", 7, 1) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddUsage(ctx, "2026-03-01", "openai", 5, 2); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		day, provider string
		want          model.Usage
	}{
		{"2026-03-01", "deepl", model.Usage{Day: "2026-03-01", Provider: "deepl", Chars: 20000, Requests: 20}},
		{"2026-03-02", "deepl", model.Usage{Day: "2026-03-02", Provider: "deepl", Chars: 140, Requests: 20}},
		{"2026-03-01", "openai", model.Usage{Day: "2026-03-01", Provider: "openai", Chars: 5, Requests: 2}},
	}
	for _, tc := range tests {
		got, err := s.GetUsage(ctx, tc.day, tc.provider)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("usage %s %s (-want +got):\n%s", tc.day, tc.provider, diff)
		}
	}
}

func testProviderState(t *testing.T, s *store.Store) {
	ctx := t.Context()
	got, err := s.GetProviderState(ctx, "deepl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(model.ProviderState{Provider: "deepl"}, got); diff != "" {
		t.Errorf("none stored (-want +got):\n%s", diff)
	}
	for _, st := range []model.ProviderState{
		{Provider: "deepl", PausedUntil: t0().Add(time.Hour), Reason: "quota exceeded", AlertedAt: t0()},
		{Provider: "deepl", Reason: "resumed"},
	} {
		if err := s.SetProviderState(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetProviderState(ctx, st.Provider)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func testChannelState(t *testing.T, s *store.Store) {
	ctx := t.Context()
	got, err := s.GetChannelState(ctx, "@a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(model.ChannelState{Channel: "@a"}, got); diff != "" {
		t.Errorf("none stored (-want +got):\n%s", diff)
	}
	states := []model.ChannelState{
		{Channel: "@b", ChatID: "-1001234", Paused: true, Reason: "forbidden", AlertedAt: t0()},
		{Channel: "@a", ChatID: "-100999", PausedUntil: t0().Add(time.Minute), Reason: "retry_after"},
		{Channel: "@b", ChatID: "-1005678", Reason: "migrated"},
	}
	for _, st := range states {
		if err := s.SetChannelState(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetChannelState(ctx, st.Channel)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	list, err := s.ListChannelStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]model.ChannelState{states[1], states[2]}, list); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
}

func testMeta(t *testing.T, s *store.Store) {
	ctx := t.Context()
	steps := []struct {
		set   bool
		key   string
		value string
	}{
		{false, "tg_offset", ""},
		{true, "tg_offset", "100"},
		{false, "tg_offset", "100"},
		{true, "tg_offset", "101"},
		{false, "tg_offset", "101"},
		{false, "other", ""},
	}
	for i, st := range steps {
		if st.set {
			if err := s.SetMeta(ctx, st.key, st.value); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := s.GetMeta(ctx, st.key)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.value {
			t.Errorf("step %d: GetMeta(%q) = %q, want %q", i, st.key, got, st.value)
		}
	}
}

// testReleaseOwner: the claims of a process that is gone (ClaimHolders
// lists it) are handed back at once, those of others stay.
func testReleaseOwner(t *testing.T, s *store.Store) {
	ctx := t.Context()
	var ids []int64
	for i := range 4 {
		res := upsert(t, s, "src", t0().Add(time.Duration(i)*time.Minute), item(fmt.Sprintf("k%d", i), "h", t0()))
		ids = append(ids, res.New[0])
	}
	// ids[3] becomes ready with a delivery to claim.
	if err := s.MarkReady(ctx, ids[3], model.Translation{TitleEN: "x"}, []string{"@c"}, t0()); err != nil {
		t.Fatal(err)
	}
	lease := time.Hour
	now := t0().Add(time.Minute)
	if got, err := s.ClaimItems(ctx, "host-100", now, 2, lease); err != nil || len(got) != 2 {
		t.Fatalf("claim by the dead process: %v, %v", got, err)
	}
	if got, err := s.ClaimItems(ctx, "host-200", now, 1, lease); err != nil || len(got) != 1 {
		t.Fatalf("claim by the live process: %v, %v", got, err)
	}
	if got, err := s.ClaimDeliveries(ctx, "host-100", now, 10, lease); err != nil || len(got) != 1 {
		t.Fatalf("delivery claim: %v, %v", got, err)
	}
	holders, err := s.ClaimHolders(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"host-100", "host-200"}, holders, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("ClaimHolders (-want +got):\n%s", diff)
	}
	n, err := s.ReleaseOwner(ctx, "host-100")
	if err != nil || n != 3 {
		t.Fatalf("ReleaseOwner = %d, %v; want 3 claims (2 posts, 1 delivery)", n, err)
	}
	// Within the dead process's lease, its posts and its delivery can be claimed again.
	got, err := s.ClaimItems(ctx, "host-300", now.Add(time.Second), 10, lease)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids[:2], idsOf(got)); diff != "" {
		t.Errorf("claimable again (-want +got):\n%s", diff)
	}
	if ds, err := s.ClaimDeliveries(ctx, "host-300", now.Add(time.Second), 10, lease); err != nil || len(ds) != 1 {
		t.Errorf("delivery claimable again: %v, %v", ds, err)
	}
	if holders, err := s.ClaimHolders(ctx, now.Add(2*lease)); err != nil || len(holders) != 0 {
		t.Errorf("holders after every lease expired: %v, %v", holders, err)
	}
}

func idsOf(items []model.Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func testRefusedLinks(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if got, err := s.GetRefusedLinks(ctx, "a"); err != nil || got.Count != 0 {
		t.Fatalf("GetRefusedLinks before any: %+v, %v", got, err)
	}
	want := store.RefusedLinks{At: t0(), Count: 3, Examples: []store.RefusedLink{{URL: "http://10.0.0.1/x", Reason: "private"}}}
	if err := s.SetRefusedLinks(ctx, "a", want); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRefusedLinks(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("GetRefusedLinks (-want +got):\n%s", diff)
	}
	if other, err := s.GetRefusedLinks(ctx, "b"); err != nil || other.Count != 0 {
		t.Errorf("another source: %+v, %v", other, err)
	}
	// All sources at once; a meta key that only looks alike is not one.
	if err := s.SetRefusedLinks(ctx, "c_d", want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "refusedXlinks/e", "not json"); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListRefusedLinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]store.RefusedLinks{"a": want, "c_d": want}, all, cmpopts.EquateApproxTime(time.Millisecond)); diff != "" {
		t.Errorf("ListRefusedLinks (-want +got):\n%s", diff)
	}
}

// testConcurrentWriters mixes writers and readers; on SQLite none may fail
// with SQLITE_BUSY.
func testConcurrentWriters(t *testing.T, s *store.Store) {
	ctx := t.Context()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	record := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	for w := range 6 {
		wg.Go(func() {
			src := fmt.Sprintf("src-%d", w)
			for i := range 15 {
				res, err := s.UpsertItems(ctx, src, []model.Item{item(fmt.Sprintf("k%d", i), "h", t0())}, t0())
				record(err)
				if err != nil {
					return
				}
				record(s.MarkReady(ctx, res.New[0], model.Translation{TitleEN: "x"}, []string{"@a"}, t0()))
				record(s.AddUsage(ctx, "2026-03-01", "p", 1, 1))
				_, err = s.RecordPoll(ctx, model.PollResult{SourceID: src, At: t0(), Status: model.PollOK})
				record(err)
			}
		})
		wg.Go(func() {
			for range 15 {
				_, err := s.ListItems(ctx, store.ItemQuery{})
				record(err)
				_, err = s.ListSources(ctx, t0())
				record(err)
				_, err = s.ClaimDeliveries(ctx, fmt.Sprintf("r%d", w), t0(), 3, time.Millisecond)
				record(err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountItems(ctx, store.ItemQuery{States: []model.State{model.StateReady}})
	if err != nil || n != 90 {
		t.Errorf("ready items = %d, %v; want 90", n, err)
	}
	u, err := s.GetUsage(ctx, "2026-03-01", "p")
	if err != nil || u.Chars != 90 {
		t.Errorf("usage = %+v, %v; want 90 chars", u, err)
	}
}

// testKeysetPages pages through the ready posts of one, two and every
// source with a keyset cursor (published, id), many posts sharing one
// publication time: every post comes exactly once, newest first, through
// the per-source merge and the global index alike, and Since bounds the
// window.
func testKeysetPages(t *testing.T, s *store.Store) {
	ctx := t.Context()
	want := map[string][]int64{}
	for _, src := range []string{"a", "b", "c"} {
		var items []model.Item
		for i := range 7 {
			// Three posts at each time: ties broken by id only.
			items = append(items, item(fmt.Sprintf("%s%d", src, i), "h", t0().Add(-time.Duration(i/3)*time.Hour)))
		}
		res := upsert(t, s, src, t0(), items...)
		for _, id := range res.New {
			if err := s.MarkReady(ctx, id, model.Translation{TitleEN: "T"}, nil, t0()); err != nil {
				t.Fatal(err)
			}
			want[src] = append(want[src], id)
		}
	}
	for _, tc := range []struct {
		name    string
		sources []string
		since   time.Time
	}{
		{"one source", []string{"a"}, time.Time{}},
		{"two sources (per-source merge)", []string{"a", "b"}, time.Time{}},
		{"every source (global index)", nil, time.Time{}},
		{"two sources since an hour ago", []string{"a", "c"}, t0().Add(-time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := store.ItemQuery{SourceIDs: tc.sources, States: []model.State{model.StateReady}, Limit: 2, Since: tc.since}
			var got []model.Item
			for page := 0; page < 50; page++ {
				items, err := s.ListItems(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, items...)
				if len(items) < q.Limit {
					break
				}
				last := items[len(items)-1]
				q.Before, q.BeforeID = last.Published, last.ID
			}
			wantN := 0
			for src, ids := range want {
				if len(tc.sources) > 0 && !slices.Contains(tc.sources, src) {
					continue
				}
				for _, id := range ids {
					if it := getItem(t, s, id); tc.since.IsZero() || !it.Published.Before(tc.since) {
						wantN++
					}
				}
			}
			seen := map[int64]bool{}
			for i, it := range got {
				if seen[it.ID] {
					t.Fatalf("post %d on two pages", it.ID)
				}
				seen[it.ID] = true
				if i > 0 {
					prev := got[i-1]
					if it.Published.After(prev.Published) || it.Published.Equal(prev.Published) && it.ID > prev.ID {
						t.Errorf("post %d (%s) after post %d (%s): not newest first", it.ID, it.Published, prev.ID, prev.Published)
					}
				}
				if !tc.since.IsZero() && it.Published.Before(tc.since) {
					t.Errorf("post %d published %s, before Since %s", it.ID, it.Published, tc.since)
				}
			}
			if len(got) != wantN {
				t.Errorf("paged %d posts, want %d", len(got), wantN)
			}
		})
	}
}

// testStorePoll: a poll's posts and its record are one write. Stored
// together, the record sees the posts (ItemCount) and releases the lease;
// a poll result that cannot be written stores none of the posts.
func testStorePoll(t *testing.T, s *store.Store) {
	ctx := t.Context()
	ok := func(src string) model.PollResult {
		return model.PollResult{SourceID: src, At: t0(), Status: model.PollOK, ETag: `"e1"`, ItemCount: 2,
			NextPollAt: t0().Add(time.Hour), ReleaseFor: "A"}
	}
	posts := []model.Item{item("k1", "h1", t0()), item("k2", "h2", t0().Add(-time.Hour))}
	tests := []struct {
		name    string
		source  string
		items   []model.Item
		r       model.PollResult
		wantErr bool
		wantNew int
	}{
		{"posts and record", "a", posts, ok("a"), false, 2},
		{"record only", "b", nil, ok("b"), false, 0},
		{"result of another source", "c", posts, ok("d"), true, 0},
		{"unknown status", "e", posts, model.PollResult{SourceID: "e", At: t0(), Status: model.PollStatus("nonsense")}, true, 0},
		{"a post without key", "f", []model.Item{item("k1", "h1", t0()), item("", "h", t0())}, ok("f"), true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if claimed, err := s.ClaimSource(ctx, tc.source, "A", t0(), time.Minute); err != nil || !claimed {
				t.Fatalf("claim: %v %v", claimed, err)
			}
			up, src, err := s.StorePoll(ctx, tc.source, tc.items, t0(), store.UpsertOptions{}, tc.r)
			n, cerr := s.CountItems(ctx, store.ItemQuery{SourceIDs: []string{tc.source}})
			if cerr != nil {
				t.Fatal(cerr)
			}
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if n != 0 {
					t.Errorf("%d posts stored by a failed StorePoll", n)
				}
				if got, err := s.GetSource(ctx, tc.source); err != nil || got.Polls != 0 {
					t.Errorf("a failed StorePoll recorded a poll: %+v, %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(up.New) != tc.wantNew || n != tc.wantNew {
				t.Errorf("new = %d, stored %d; want %d", len(up.New), n, tc.wantNew)
			}
			if src.ID != tc.source || src.Polls != 1 || src.ETag != `"e1"` || src.ItemCount != tc.wantNew || src.LastStatus != model.PollOK {
				t.Errorf("recorded source = %+v", src)
			}
			if claimed, err := s.ClaimSource(ctx, tc.source, "B", t0(), time.Minute); err != nil || !claimed {
				t.Errorf("the record did not release A's lease: %v %v", claimed, err)
			}
		})
	}
}
