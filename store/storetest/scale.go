package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// scaleTests are the behaviour tests of what issue 10 added: counters kept
// on write, the feed version, ready-at-store, per-key lookups, the merged
// per-source feed read and retention.
func scaleTests() []struct {
	name string
	fn   func(t *testing.T, s *store.Store)
} {
	return []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"FeedVersion", testFeedVersion},
		{"UpsertReady", testUpsertReady},
		{"KnownKeys", testKnownKeys},
		{"ListReadyMerged", testListReadyMerged},
		{"Sweep", testSweep},
		{"SweepBatches", testSweepBatches},
		{"SweepKeepsUnfinished", testSweepKeepsUnfinished},
		{"RetentionBoundary", testRetentionBoundary},
		{"UpsertConcurrent", testUpsertConcurrent},
		{"ImportIndexed", testImportIndexed},
		{"DeliveryCounters", testDeliveryCounters},
	}
}

func feedVersion(t *testing.T, s *store.Store, sources ...string) store.FeedVersion {
	t.Helper()
	v, err := s.FeedVersion(t.Context(), sources)
	if err != nil {
		t.Fatalf("feed version: %v", err)
	}
	return v
}

func testFeedVersion(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if v := feedVersion(t, s); v != (store.FeedVersion{}) {
		t.Errorf("empty store: %+v, want zero", v)
	}
	a := upsert(t, s, "a", t0(), item("a1", "h", t0()), item("a2", "h", t0()))
	b := upsert(t, s, "b", t0(), item("b1", "h", t0()))
	v0 := feedVersion(t, s)
	if v0.Ready != 0 {
		t.Errorf("nothing ready yet: %+v", v0)
	}
	type step struct {
		name   string
		do     func() error
		source string // the source whose feed changes
		ready  int    // ready posts of that source after the step
	}
	steps := []step{
		{"a post becomes ready", func() error { return s.MarkReady(ctx, a.New[0], model.Translation{}, nil, t0().Add(time.Minute)) }, "a", 1},
		{"another one", func() error { return s.MarkReady(ctx, b.New[0], model.Translation{}, nil, t0().Add(2*time.Minute)) }, "b", 1},
		{"a ready post is translated again", func() error {
			return s.MarkReady(ctx, a.New[0], model.Translation{TitleEN: "T"}, nil, t0().Add(3*time.Minute))
		}, "a", 1},
		{"a ready post's original changes", func() error {
			_, err := s.UpsertItems(ctx, "a", []model.Item{item("a1", "h2", t0())}, t0().Add(4*time.Minute))
			return err
		}, "a", 0},
	}
	prevAll := feedVersion(t, s)
	for _, st := range steps {
		other := "b"
		if st.source == "b" {
			other = "a"
		}
		prevSrc, prevOther := feedVersion(t, s, st.source), feedVersion(t, s, other)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		all, src, oth := feedVersion(t, s), feedVersion(t, s, st.source), feedVersion(t, s, other)
		if all.Version <= prevAll.Version || src.Version <= prevSrc.Version {
			t.Errorf("%s: version did not grow: all %d→%d, %s %d→%d", st.name, prevAll.Version, all.Version,
				st.source, prevSrc.Version, src.Version)
		}
		if oth != prevOther {
			t.Errorf("%s: feed of %s changed too: %+v → %+v", st.name, other, prevOther, oth)
		}
		if src.Ready != st.ready {
			t.Errorf("%s: %s has %d ready, want %d", st.name, st.source, src.Ready, st.ready)
		}
		if src.Changed.Before(prevSrc.Changed) {
			t.Errorf("%s: changed went back: %v → %v", st.name, prevSrc.Changed, src.Changed)
		}
		prevAll = all
	}
	// Work on posts that are not ready (claims, failures) leaves feeds alone.
	before := feedVersion(t, s)
	if _, err := s.ClaimItems(ctx, "w", t0().Add(5*time.Minute), 10, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkTranslateFailed(ctx, a.New[1], nil, "boom", t0().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if after := feedVersion(t, s); after != before {
		t.Errorf("claims and failures changed the feed version: %+v → %+v", before, after)
	}
	if got := feedVersion(t, s, "a", "b"); got != feedVersion(t, s) {
		t.Errorf("feed of every source (%+v) differs from feed of both (%+v)", feedVersion(t, s), got)
	}
}

func testUpsertReady(t *testing.T, s *store.Store) {
	ctx := t.Context()
	var asked []string
	opt := store.UpsertOptions{Ready: func(it model.Item) (model.Translation, []string, bool) {
		asked = append(asked, it.Key)
		if it.Language != "en" {
			return model.Translation{}, nil, false
		}
		return model.Translation{}, []string{"@c1", "@c2"}, true
	}}
	en := item("en", "h", t0())
	en.Language = "en"
	res, err := s.UpsertItemsWith(ctx, "src", []model.Item{en, item("zh", "h", t0())}, t0(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.New) != 2 || len(res.Ready) != 1 || res.Ready[0] != res.New[0] {
		t.Fatalf("result %+v, want 2 new, the first ready", res)
	}
	if diff := cmp.Diff([]string{"en", "zh"}, asked); diff != "" {
		t.Errorf("asked (-want +got):\n%s", diff)
	}
	got := getItem(t, s, res.New[0])
	if got.State != model.StateReady || !got.ReadyAt.Equal(t0()) {
		t.Errorf("english post: state %s ready at %v, want ready at %v", got.State, got.ReadyAt, t0())
	}
	if zh := getItem(t, s, res.New[1]); zh.State != model.StateNew {
		t.Errorf("chinese post: state %s, want new", zh.State)
	}
	bl, err := s.DeliveryBacklogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.DeliveryBacklog{{Channel: "@c1", Pending: 1}, {Channel: "@c2", Pending: 1}}
	if diff := cmp.Diff(want, bl); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if v := feedVersion(t, s, "src"); v.Ready != 1 {
		t.Errorf("feed version %+v, want 1 ready", v)
	}
	// Unchanged items are not asked again; a changed one is, and no
	// delivery is made twice.
	asked = nil
	en2 := en
	en2.ContentHash = "h2"
	res, err = s.UpsertItemsWith(ctx, "src", []model.Item{en2, item("zh", "h", t0())}, t0().Add(time.Hour), opt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"en"}, asked); diff != "" {
		t.Errorf("asked again (-want +got):\n%s", diff)
	}
	if len(res.Updated) != 1 || len(res.Ready) != 1 {
		t.Errorf("second upsert %+v, want the english post updated and ready", res)
	}
	if bl2, _ := s.DeliveryBacklogs(ctx); !cmp.Equal(bl2, want) {
		t.Errorf("deliveries after the change: %+v, want %+v", bl2, want)
	}
}

func testKnownKeys(t *testing.T, s *store.Store) {
	upsert(t, s, "a", t0(), item("k1", "h1", t0()), item("k2", "h2", t0()))
	upsert(t, s, "b", t0(), item("k3", "h3", t0()))
	keys := []string{"k1", "k3", "nope"}
	for i := range 600 { // more than one IN batch
		keys = append(keys, fmt.Sprintf("x%d", i))
	}
	got, err := s.KnownKeys(t.Context(), "a", keys)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"k1": "h1"}, got); diff != "" {
		t.Errorf("known keys (-want +got):\n%s", diff)
	}
}

func testListReadyMerged(t *testing.T, s *store.Store) {
	ctx := t.Context()
	// Three sources with interleaved dates, some posts not ready.
	var want []int64
	for i := range 30 {
		src := []string{"a", "b", "c", "d"}[i%4]
		res := upsert(t, s, src, t0(), item(fmt.Sprintf("p%d", i), "h", t0().Add(time.Duration(i%7)*time.Hour+time.Duration(i)*time.Second)))
		if i%5 == 0 {
			continue
		}
		if err := s.MarkReady(ctx, res.New[0], model.Translation{}, nil, t0()); err != nil {
			t.Fatal(err)
		}
	}
	// The same query answered by the global ordered read (every source)
	// and by the merged per-source read (a few sources) must agree.
	all, err := s.ListItems(ctx, store.ItemQuery{States: []model.State{model.StateReady}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		if it.SourceID != "d" {
			want = append(want, it.ID)
		}
	}
	for _, q := range []struct{ limit, offset int }{{5, 0}, {5, 5}, {100, 0}, {3, 17}, {5, 100}} {
		got, err := s.ListItems(ctx, store.ItemQuery{SourceIDs: []string{"c", "a", "b", "a"},
			States: []model.State{model.StateReady}, Limit: q.limit, Offset: q.offset})
		if err != nil {
			t.Fatal(err)
		}
		w := want[min(q.offset, len(want)):min(q.offset+q.limit, len(want))]
		if diff := cmp.Diff(w, ids(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("limit %d offset %d (-want +got):\n%s", q.limit, q.offset, diff)
		}
	}
	before, err := s.ListItems(ctx, store.ItemQuery{SourceIDs: []string{"a", "b"}, States: []model.State{model.StateReady},
		Before: t0().Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range before {
		if !it.Published.Before(t0().Add(3 * time.Hour)) {
			t.Errorf("Before: got %v", it.Published)
		}
	}
}

func testSweep(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(100 * 24 * time.Hour)
	day := 24 * time.Hour
	if err := s.SyncSources(ctx, map[string]string{"a": "http://a.example/", "b": "http://b.example/"}); err != nil {
		t.Fatal(err)
	}
	// Source a: posts 1…10 days old; b: 20 posts 50…69 days old.
	var aIDs, bIDs []int64
	for i := 1; i <= 10; i++ {
		res := upsert(t, s, "a", now, item(fmt.Sprintf("a%d", i), "h", now.Add(-time.Duration(i)*day)))
		aIDs = append(aIDs, res.New[0])
	}
	for i := range 20 {
		res := upsert(t, s, "b", now, item(fmt.Sprintf("b%d", i), "h", now.Add(-time.Duration(50+i)*day)))
		bIDs = append(bIDs, res.New[0])
	}
	// a8 (8 days old) waits for a delivery; a9 was sent; b19 failed; a10
	// is still new (not ready: kept); the others are ready without channels.
	for _, id := range []int64{aIDs[7], aIDs[8], bIDs[19]} {
		if err := s.MarkReady(ctx, id, model.Translation{}, []string{"@c"}, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range append(slices.Clone(aIDs[:7]), bIDs[:19]...) {
		if err := s.MarkReady(ctx, id, model.Translation{}, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimDeliveries(ctx, "o", now, 10, time.Minute)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim deliveries = %d, %v", len(claimed), err)
	}
	for _, d := range claimed {
		switch d.ItemID {
		case aIDs[8]:
			err = s.MarkDelivered(ctx, d.ID, 1, now)
		case bIDs[19]:
			err = s.MarkDeliveryFailed(ctx, d.ID, "blocked")
		default:
			err = s.ReleaseDelivery(ctx, d.ID, now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.TMPut(ctx, []model.TMEntry{{Key: "tm1", Source: "标题", Target: "Title"}}); err != nil {
		t.Fatal(err)
	}
	vBefore := feedVersion(t, s)

	// Nothing is deleted without a policy.
	if r, err := s.Sweep(ctx, store.Retention{}, now); err != nil || r != (store.SweepResult{}) {
		t.Fatalf("sweep without policy = %+v, %v", r, err)
	}
	res, err := s.Sweep(ctx, store.Retention{MaxAge: 7 * day, MaxPostsPerSource: 5}, now)
	if err != nil {
		t.Fatal(err)
	}
	// a: older than 7 days are a8, a9, a10 (a8 kept: pending; a10 kept:
	// not ready); newest 5 are a1…a5, so a6, a7 go too. b: all older than
	// 7 days, none pending.
	if want := (store.SweepResult{Items: 3 + 20, Deliveries: 2, Kept: 1, NotReady: 1}); res != want {
		t.Errorf("sweep = %+v, want %+v", res, want)
	}
	left, err := s.ListItems(ctx, store.ItemQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range left {
		keys = append(keys, it.Key)
	}
	if diff := cmp.Diff([]string{"a1", "a2", "a3", "a4", "a5", "a8", "a10"}, keys); diff != "" {
		t.Errorf("left after sweep (-want +got):\n%s", diff)
	}
	bl, err := s.DeliveryBacklogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]model.DeliveryBacklog{{Channel: "@c", Pending: 1}}, bl); diff != "" {
		t.Errorf("deliveries after sweep (-want +got):\n%s", diff)
	}
	tm, err := s.TMGet(ctx, []string{"tm1"})
	if err != nil || tm["tm1"] != "Title" {
		t.Errorf("translation memory after sweep = %v, %v; want kept", tm, err)
	}
	srcs, err := s.ListSources(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, src := range srcs {
		counts[src.ID] = src.ItemCount
	}
	if counts["a"] != 7 || counts["b"] != 0 {
		t.Errorf("item counts after sweep = %v, want a:7 b:0", counts)
	}
	if v := feedVersion(t, s); v.Version <= vBefore.Version || v.Ready != 6 {
		t.Errorf("feed version after sweep %+v (before %+v): want it grown, 6 ready (a1…a5, a8)", v, vBefore)
	}
	// Once sent, the kept post goes in the next sweep; a second sweep
	// otherwise finds nothing.
	claimed, err = s.ClaimDeliveries(ctx, "o", now, 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if err := s.MarkDelivered(ctx, claimed[0].ID, 2, now); err != nil {
		t.Fatal(err)
	}
	res, err = s.Sweep(ctx, store.Retention{MaxAge: 7 * day, MaxPostsPerSource: 5}, now)
	if want := (store.SweepResult{Items: 1, Deliveries: 1, NotReady: 1}); err != nil || res != want {
		t.Errorf("second sweep = %+v, %v; want %+v (a8 and its delivery; a10 still new)", res, err, want)
	}
}

func testSweepBatches(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(1000 * time.Hour)
	var batch []model.Item
	for i := range 57 {
		batch = append(batch, item(fmt.Sprintf("k%02d", i), "h", now.Add(-time.Duration(i+1)*time.Hour)))
	}
	upsertReady(t, s, "src", now, batch...)
	res, err := s.Sweep(ctx, store.Retention{MaxPostsPerSource: 10, Batch: 7}, now)
	if err != nil || res.Items != 47 {
		t.Fatalf("sweep = %+v, %v; want 47 deleted in batches of 7", res, err)
	}
	left, err := s.ListItems(ctx, store.ItemQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range left {
		keys = append(keys, it.Key)
	}
	want := []string{"k00", "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08", "k09"}
	if !slices.Equal(keys, want) {
		t.Errorf("kept %v, want the newest 10 %v", keys, want)
	}
}

func testDeliveryCounters(t *testing.T, s *store.Store) {
	ctx := t.Context()
	for i := range 4 {
		res := upsert(t, s, "src", t0(), item(fmt.Sprintf("k%d", i), "h", t0()))
		if err := s.MarkReady(ctx, res.New[0], model.Translation{}, []string{"@a", "@b"}, t0()); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]*model.DeliveryBacklog{"@a": {Channel: "@a", Pending: 4}, "@b": {Channel: "@b", Pending: 4}}
	check := func(step string) {
		t.Helper()
		got, err := s.DeliveryBacklogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		exp := []model.DeliveryBacklog{*want["@a"], *want["@b"]}
		if diff := cmp.Diff(exp, got); diff != "" {
			t.Errorf("%s: counters (-want +got):\n%s", step, diff)
		}
	}
	check("all pending")
	ds, err := s.ClaimDeliveries(ctx, "o", t0(), 3, time.Minute)
	if err != nil || len(ds) != 3 {
		t.Fatalf("claim = %v, %v", ds, err)
	}
	if err := s.MarkDelivered(ctx, ds[0].ID, 1, t0()); err != nil {
		t.Fatal(err)
	}
	want[ds[0].Channel].Pending--
	want[ds[0].Channel].Sent++
	if err := s.MarkDeliveryFailed(ctx, ds[1].ID, "x"); err != nil {
		t.Fatal(err)
	}
	want[ds[1].Channel].Pending--
	want[ds[1].Channel].Failed++
	if err := s.MarkDeliveryRetry(ctx, ds[2].ID, "later", t0()); err != nil {
		t.Fatal(err)
	}
	check("after outcomes")
	if _, err := s.RetryFailedDeliveries(ctx, ""); err != nil {
		t.Fatal(err)
	}
	want[ds[1].Channel].Pending++
	want[ds[1].Channel].Failed--
	check("after retry of failed")
}
