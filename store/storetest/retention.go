package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// upsertReady stores items ready at once (no translation, no channels), as
// a poll of a source that needs no translation does.
func upsertReady(t *testing.T, s *store.Store, source string, now time.Time, items ...model.Item) store.UpsertResult {
	t.Helper()
	res, err := s.UpsertItemsWith(t.Context(), source, items, now, store.UpsertOptions{
		Ready: func(model.Item) (model.Translation, []string, bool) { return model.Translation{}, nil, true },
	})
	if err != nil {
		t.Fatalf("upsert items ready: %v", err)
	}
	return res
}

// testSweepKeepsUnfinished: a sweep deletes an old post only once it is
// done: ready, with no delivery still pending. Each case is one post, past
// max_age, in its own source, brought to a state by its steps.
func testSweepKeepsUnfinished(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(30 * 24 * time.Hour)
	old := now.Add(-20 * 24 * time.Hour) // past max_age (10 days)
	type post struct {
		s   *store.Store
		id  int64
		src string
	}
	// ready marks the post ready for channels, named after its source so
	// that each case counts its own deliveries.
	ready := func(channels ...string) func(p post) error {
		return func(p post) error {
			var named []string
			for _, ch := range channels {
				named = append(named, "@"+p.src+"-"+ch)
			}
			return p.s.MarkReady(ctx, p.id, model.Translation{TitleEN: "T"}, named, now)
		}
	}
	// deliver settles the post's deliveries in order: "sent", "failed",
	// "claimed" (leased, still pending) or "pending" (left alone).
	// claimed: a delivery taken by a sender and not yet answered.
	const claimed model.DeliveryState = "claimed"
	deliver := func(outcomes ...model.DeliveryState) func(p post) error {
		return func(p post) error {
			ds, err := p.s.ClaimDeliveries(ctx, "sweeper-test-"+p.src, now, 100, time.Hour)
			if err != nil {
				return err
			}
			var mine []model.Delivery
			for _, d := range ds {
				if d.ItemID == p.id {
					mine = append(mine, d)
				} else if err := p.s.ReleaseDelivery(ctx, d.ID, now); err != nil {
					return err
				}
			}
			if len(mine) != len(outcomes) {
				return fmt.Errorf("claimed %d deliveries of post %d, want %d", len(mine), p.id, len(outcomes))
			}
			for i, d := range mine {
				switch outcomes[i] {
				case model.DeliverySent:
					err = p.s.MarkDelivered(ctx, d.ID, 1, now)
				case model.DeliveryFailed:
					err = p.s.MarkDeliveryFailed(ctx, d.ID, "blocked")
				case model.DeliveryPending:
					err = p.s.ReleaseDelivery(ctx, d.ID, now)
				case claimed:
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	cases := []struct {
		name  string
		steps []func(p post) error
		// deleted: the sweep deletes the post; deliveries: how many of its
		// deliveries are left after the sweep.
		deleted    bool
		deliveries int
	}{
		{name: "new, never looked at"},
		{name: "new, claimed for translation", steps: []func(p post) error{func(p post) error {
			_, err := p.s.ClaimItems(ctx, "translator", now, 100, time.Hour)
			return err
		}}},
		{name: "translating, waiting for a retry", steps: []func(p post) error{func(p post) error {
			return p.s.MarkTranslateFailed(ctx, p.id, nil, "429", now.Add(time.Hour))
		}}},
		{name: "ready, no channel", steps: []func(p post) error{ready()}, deleted: true},
		{name: "ready, delivery pending", steps: []func(p post) error{ready("a")}, deliveries: 1},
		{name: "ready, delivery being sent", steps: []func(p post) error{ready("a"), deliver(claimed)}, deliveries: 1},
		{name: "ready, delivery sent", steps: []func(p post) error{ready("a"), deliver(model.DeliverySent)}, deleted: true},
		{name: "ready, delivery failed", steps: []func(p post) error{ready("a"), deliver(model.DeliveryFailed)}, deleted: true},
		{name: "ready, one sent and one pending", steps: []func(p post) error{ready("a", "b"), deliver(model.DeliverySent, model.DeliveryPending)}, deliveries: 2},
		{name: "ready, then edited at the source (new again)", steps: []func(p post) error{ready(), func(p post) error {
			_, err := p.s.UpsertItems(ctx, p.src, []model.Item{item("p", "h2", old)}, now)
			return err
		}}},
	}
	posts := make([]post, len(cases))
	for i, c := range cases {
		// Cases run one after another: each settles only its own post
		// (other claims are handed back), so earlier posts keep their state.
		src := fmt.Sprintf("case-%02d", i)
		p := post{s: s, id: upsert(t, s, src, now, item("p", "h", old)).New[0], src: src}
		for j, step := range c.steps {
			if err := step(p); err != nil {
				t.Fatalf("%s: step %d: %v", c.name, j, err)
			}
		}
		posts[i] = p
	}
	res, err := s.Sweep(ctx, store.Retention{MaxAge: 10 * 24 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	var wantRes store.SweepResult
	for i, c := range cases {
		st := getItemState(t, s, posts[i].id)
		switch {
		case c.deleted:
			wantRes.Items++
		case st == model.StateReady:
			wantRes.Kept++
		default:
			wantRes.NotReady++
		}
		if gone := st == ""; gone != c.deleted {
			t.Errorf("%s: deleted %v (state %q), want %v", c.name, gone, st, c.deleted)
		}
		if got := countDeliveries(t, s, posts[i].src); got != c.deliveries {
			t.Errorf("%s: %d deliveries left, want %d", c.name, got, c.deliveries)
		}
	}
	wantRes.Deliveries = 2 // of "delivery sent" and "delivery failed"
	if res != wantRes {
		t.Errorf("sweep = %+v, want %+v", res, wantRes)
	}
}

// getItemState is the post's state, "" when it is gone.
func getItemState(t *testing.T, s *store.Store, id int64) model.State {
	t.Helper()
	it, err := s.GetItem(t.Context(), id)
	if err != nil {
		return ""
	}
	return it.State
}

// countDeliveries counts, in every state, the deliveries to the channels
// named after src.
func countDeliveries(t *testing.T, s *store.Store, src string) int {
	t.Helper()
	bl, err := s.DeliveryBacklogs(t.Context())
	if err != nil {
		t.Fatalf("delivery backlogs: %v", err)
	}
	n := 0
	for _, b := range bl {
		if strings.HasPrefix(b.Channel, "@"+src+"-") {
			n += b.Pending + b.Sent + b.Failed
		}
	}
	return n
}

// testRetentionBoundary: the Published before which a poll stores nothing
// is the later of now-max_age and the source's Nth newest post.
func testRetentionBoundary(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(100 * 24 * time.Hour)
	hour := time.Hour
	// Source "ten": posts 1…10 hours old; "none": no posts.
	var its []model.Item
	for i := 1; i <= 10; i++ {
		its = append(its, item(fmt.Sprintf("p%d", i), "h", now.Add(-time.Duration(i)*hour)))
	}
	tenIDs := upsert(t, s, "ten", now, its...).New
	cases := []struct {
		name   string
		source string
		p      store.Retention
		want   time.Time // zero: no boundary
	}{
		{"keep everything", "ten", store.Retention{}, time.Time{}},
		{"max_age", "ten", store.Retention{MaxAge: 5 * hour}, now.Add(-5 * hour)},
		{"max_age, source without posts", "none", store.Retention{MaxAge: 5 * hour}, now.Add(-5 * hour)},
		{"max_posts above what is stored", "ten", store.Retention{MaxPostsPerSource: 11}, time.Time{}},
		{"max_posts exactly what is stored", "ten", store.Retention{MaxPostsPerSource: 10}, now.Add(-10 * hour)},
		{"max_posts 3: the 3rd newest", "ten", store.Retention{MaxPostsPerSource: 3}, now.Add(-3 * hour)},
		{"max_posts, source without posts", "none", store.Retention{MaxPostsPerSource: 3}, time.Time{}},
		{"both, max_posts later", "ten", store.Retention{MaxAge: 8 * hour, MaxPostsPerSource: 3}, now.Add(-3 * hour)},
		{"both, max_age later", "ten", store.Retention{MaxAge: 2 * hour, MaxPostsPerSource: 3}, now.Add(-2 * hour)},
	}
	for _, c := range cases {
		got, err := s.RetentionBoundary(ctx, c.source, c.p, now)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !got.Equal(c.want) {
			t.Errorf("%s: boundary %v, want %v", c.name, got, c.want)
		}
	}
	// The boundary is where a sweep cuts: what it keeps is at or after it.
	p := store.Retention{MaxPostsPerSource: 4}
	b, err := s.RetentionBoundary(ctx, "ten", p, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range tenIDs {
		if err := s.MarkReady(ctx, id, model.Translation{}, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Sweep(ctx, p, now); err != nil {
		t.Fatal(err)
	}
	left, err := s.ListItems(ctx, store.ItemQuery{SourceIDs: []string{"ten"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range left {
		keys = append(keys, it.Key)
		if it.Published.Before(b) {
			t.Errorf("%s (%v) kept, before the boundary %v", it.Key, it.Published, b)
		}
	}
	if diff := cmp.Diff([]string{"p1", "p2", "p3", "p4"}, keys); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
}
