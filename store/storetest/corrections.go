package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// testAdminSessions: a session is found by its token hash until it
// expires, and not after sign-out.
func testAdminSessions(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0()
	a := store.AdminSession{TokenHash: "h1", CSRF: "c1", Client: "192.0.2.1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateAdminSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAdminSession(ctx, store.AdminSession{TokenHash: "h1", CSRF: "other", CreatedAt: now, ExpiresAt: now}); err == nil {
		t.Error("a second session with the same token: no error")
	}
	tests := []struct {
		name  string
		hash  string
		at    time.Time
		found bool
	}{
		{"live", "h1", now.Add(59 * time.Minute), true},
		{"expired", "h1", now.Add(time.Hour), false},
		{"unknown", "h2", now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.GetAdminSession(ctx, tc.hash, tc.at)
			if !tc.found {
				if !errors.Is(err, model.ErrNotFound) {
					t.Errorf("err = %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(a, got); diff != "" {
				t.Errorf("session (-want +got):\n%s", diff)
			}
		})
	}
	if err := s.DeleteAdminSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAdminSession(ctx, "h1", now); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteExpiredAdminSessions(ctx, now); err != nil {
		t.Fatal(err)
	}
}

// testLoginFailures: Free failures pass, then each locks the client out for
// longer; a new window starts over; clearing forgets; clients are apart.
func testLoginFailures(t *testing.T, s *store.Store) {
	ctx := t.Context()
	p := store.LoginPolicy{Free: 3, Window: 10 * time.Minute, Base: 30 * time.Second, Max: 2 * time.Minute}
	now := t0()
	wantLock := []time.Duration{0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 2 * time.Minute}
	for i, want := range wantLock {
		n, locked, err := s.RecordLoginFailure(ctx, "a", now, p)
		if err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Errorf("failure %d counted as %d", i+1, n)
		}
		var got time.Duration
		if !locked.IsZero() {
			got = locked.Sub(now)
		}
		if got != want {
			t.Errorf("failure %d: locked for %s, want %s", i+1, got, want)
		}
		until, err := s.LoginLockedUntil(ctx, "a", now)
		if err != nil {
			t.Fatal(err)
		}
		if !until.Equal(locked) {
			t.Errorf("failure %d: LoginLockedUntil = %v, want %v", i+1, until, locked)
		}
	}
	if until, _ := s.LoginLockedUntil(ctx, "b", now); !until.IsZero() {
		t.Errorf("another client is locked until %v", until)
	}
	if until, _ := s.LoginLockedUntil(ctx, "a", now.Add(3*time.Minute)); !until.IsZero() {
		t.Errorf("lock still on after it ran out: %v", until)
	}
	if n, _, _ := s.RecordLoginFailure(ctx, "a", now.Add(11*time.Minute), p); n != 1 {
		t.Errorf("failures in a new window = %d, want 1", n)
	}
	if err := s.ClearLoginFailures(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.RecordLoginFailure(ctx, "a", now.Add(12*time.Minute), p); n != 1 {
		t.Errorf("failures after clearing = %d, want 1", n)
	}
}

// testLoginFailuresConcurrent: failures from several instances at once are
// all counted.
func testLoginFailuresConcurrent(t *testing.T, s *store.Store) {
	ctx := t.Context()
	p := store.LoginPolicy{Free: 100, Window: time.Hour, Base: time.Second, Max: time.Minute}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if _, _, err := s.RecordLoginFailure(ctx, "c", t0(), p); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n, _, err := s.RecordLoginFailure(ctx, "c", t0(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n != 41 {
		t.Errorf("failures counted = %d, want 41", n)
	}
}

// testCorrections: CorrectItem replaces the English, moves ready_at (the
// feed's updated and version), records history, human memory and audit in
// one transaction, and refuses posts not ready or changed.
func testCorrections(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0()
	ids := readyItems(t, s, 2)
	before := getItem(t, s, ids[0])
	changedBefore, err := s.ItemsChangedSince(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(time.Hour)
	c := store.ItemCorrection{
		OriginalHash: before.ContentHash, TitleEN: "Fixed title", SummaryEN: before.SummaryEN, ContentHTMLEN: "<p>Greater Bay Area</p>",
		Changes: []store.Correction{
			{Field: "title", Source: "标题", OldEN: before.TitleEN, NewEN: "Fixed title"},
			{Field: "content", Block: 2, Source: "大湾区", OldEN: "Dawan District", NewEN: "Greater Bay Area"},
		},
		Human:  []store.HumanEntry{{Key: "k-title", Source: "标题", Target: "Fixed title"}, {Key: "k-gba", Source: "大湾区", Target: "Greater Bay Area"}},
		Editor: "editor from 192.0.2.1", At: at,
	}
	if err := s.CorrectItem(ctx, ids[0], c); err != nil {
		t.Fatal(err)
	}
	got := getItem(t, s, ids[0])
	if got.TitleEN != "Fixed title" || got.ContentHTMLEN != "<p>Greater Bay Area</p>" || !got.ReadyAt.Equal(at) || !got.TranslatedAt.Equal(at) {
		t.Errorf("item after correction: title %q body %q ready_at %v translated_at %v", got.TitleEN, got.ContentHTMLEN, got.ReadyAt, got.TranslatedAt)
	}
	if got.State != model.StateReady || got.ID != before.ID || got.TranslatedBy != before.TranslatedBy {
		t.Errorf("correction changed state/id/provider: %+v", got)
	}
	changed, err := s.ItemsChangedSince(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !changed.After(changedBefore) {
		t.Errorf("feed version did not move: %v → %v", changedBefore, changed)
	}
	hist, err := s.ListCorrections(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Field != "title" || hist[1].Block != 2 || hist[1].NewEN != "Greater Bay Area" || hist[1].Editor != c.Editor || !hist[1].At.Equal(at) {
		t.Errorf("history = %+v", hist)
	}
	hm, err := s.HumanTMGet(ctx, []string{"k-gba", "k-title", "k-none"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"k-gba": "Greater Bay Area", "k-title": "Fixed title"}, hm); diff != "" {
		t.Errorf("human memory (-want +got):\n%s", diff)
	}
	corrected, err := s.CorrectedItems(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(corrected) != 1 || !corrected[ids[0]].Equal(at) {
		t.Errorf("CorrectedItems = %v", corrected)
	}
	audit, err := s.ListAudit(ctx, ids[0], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Action != "correct" || audit[0].Actor != c.Editor {
		t.Errorf("audit = %+v", audit)
	}

	// A later correction of the same block replaces the human entry.
	c2 := c
	c2.Human = []store.HumanEntry{{Key: "k-gba", Source: "大湾区", Target: "the Greater Bay Area"}}
	c2.Changes = c.Changes[1:]
	if err := s.CorrectItem(ctx, ids[0], c2); err != nil {
		t.Fatal(err)
	}
	if hm, _ := s.HumanTMGet(ctx, []string{"k-gba"}); hm["k-gba"] != "the Greater Bay Area" {
		t.Errorf("human entry after a second correction = %q", hm["k-gba"])
	}

	tests := []struct {
		name string
		id   int64
		hash string
		want error
	}{
		{"changed original", ids[1], "not-the-hash", store.ErrStale},
		{"no such post", 999999, "", model.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cc := c
			cc.OriginalHash = tc.hash
			if err := s.CorrectItem(ctx, tc.id, cc); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if hist, _ := s.ListCorrections(ctx, ids[1]); len(hist) != 0 {
		t.Errorf("a refused correction left history: %+v", hist)
	}
	// Posts not ready are not corrected.
	if err := s.SetItemState(ctx, ids[1], model.StateNew); err != nil {
		t.Fatal(err)
	}
	cc := c
	cc.OriginalHash = ""
	if err := s.CorrectItem(ctx, ids[1], cc); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("correcting a post not ready: %v, want ErrNotFound", err)
	}
}

// testGlossaryEntries: stored entries are put, replaced, listed and deleted.
func testGlossaryEntries(t *testing.T, s *store.Store) {
	ctx := t.Context()
	at := t0()
	for _, e := range []store.GlossaryEntry{
		{Source: "大湾区", Target: "Dawan", AddedBy: "a", CreatedAt: at},
		{Source: "大湾区", Target: "Greater Bay Area", AddedBy: "b", CreatedAt: at.Add(time.Minute)},
		{Source: "肇庆", Target: "Zhaoqing", AddedBy: "b", CreatedAt: at},
	} {
		if err := s.PutGlossaryEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutGlossaryEntry(ctx, store.GlossaryEntry{Source: " ", Target: "x"}); err == nil {
		t.Error("an empty term was stored")
	}
	got, err := s.GlossaryEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.GlossaryEntry{
		{Source: "大湾区", Target: "Greater Bay Area", AddedBy: "b", CreatedAt: at.Add(time.Minute)},
		{Source: "肇庆", Target: "Zhaoqing", AddedBy: "b", CreatedAt: at},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if err := s.DeleteGlossaryEntry(ctx, "肇庆"); err != nil {
		t.Fatal(err)
	}
	m, err := s.GlossaryMap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"大湾区": "Greater Bay Area"}, m); diff != "" {
		t.Errorf("map (-want +got):\n%s", diff)
	}
}

// testAuditLog: entries come back newest first, per post or all.
func testAuditLog(t *testing.T, s *store.Store) {
	ctx := t.Context()
	for i, e := range []store.AuditEntry{
		{Action: "sign-in", Actor: "x"}, {Action: "correct", ItemID: 7, Actor: "x"}, {Action: "glossary-add", ItemID: 7, Detail: "a → b", Actor: "y"},
	} {
		e.At = t0().Add(time.Duration(i) * time.Minute)
		if err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListAudit(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Action != "glossary-add" || all[2].Action != "sign-in" {
		t.Errorf("all = %+v", all)
	}
	one, err := s.ListAudit(ctx, 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].Detail != "a → b" || !one[0].At.Equal(t0().Add(2*time.Minute)) {
		t.Errorf("post 7, limit 1 = %+v", one)
	}
}

// testMessageEdits: a change of a post's English (correction or
// retranslation) queues an edit of each message already sent for it, in
// the same transaction; edits are claimed once, retried, and a newer change
// during an edit is not lost.
func testMessageEdits(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(time.Hour)
	ids := readyItems(t, s, 1, "@a", "@b")
	ds, err := s.ClaimDeliveries(ctx, "w", now, 10, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim deliveries: %v, %v", ds, err)
	}
	var sentID int64
	for _, d := range ds {
		if d.Channel == "@a" {
			sentID = d.ID
			if err := s.MarkDelivered(ctx, d.ID, 501, now); err != nil {
				t.Fatal(err)
			}
		} else if err := s.ReleaseDelivery(ctx, d.ID, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.PendingEdits(ctx); n != 0 {
		t.Fatalf("edits before any change = %d", n)
	}
	it := getItem(t, s, ids[0])
	correct := func(at time.Time, title string) {
		t.Helper()
		err := s.CorrectItem(ctx, ids[0], store.ItemCorrection{OriginalHash: it.ContentHash, TitleEN: title,
			Changes: []store.Correction{{Field: "title", Source: "x", OldEN: "T", NewEN: title}}, Editor: "e", At: at})
		if err != nil {
			t.Fatal(err)
		}
	}
	correct(now, "Fixed")
	if n, _ := s.PendingEdits(ctx); n != 1 {
		t.Fatalf("edits after a correction = %d, want 1 (only the sent message)", n)
	}
	got, err := s.ClaimEdits(ctx, "e1", now, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != sentID || got[0].MessageID != 501 {
		t.Fatalf("ClaimEdits = %+v, %v", got, err)
	}
	if again, _ := s.ClaimEdits(ctx, "e2", now, 10, time.Minute); len(again) != 0 {
		t.Errorf("a leased edit was claimed twice: %+v", again)
	}
	// The English changes again while e1 edits: e1's done does not drop it.
	correct(now.Add(time.Second), "Fixed again")
	if err := s.MarkEdited(ctx, sentID, "e1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingEdits(ctx); n != 1 {
		t.Fatalf("the newer change's edit was dropped: %d pending", n)
	}
	got, _ = s.ClaimEdits(ctx, "e2", now.Add(time.Second), 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("re-queued edit not claimable: %+v", got)
	}
	if err := s.MarkEditRetry(ctx, sentID, "429", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimEdits(ctx, "e2", now.Add(30*time.Second), 10, time.Minute); len(got) != 0 {
		t.Errorf("an edit due later was claimed: %+v", got)
	}
	// A paused channel's edits wait.
	if err := s.SetChannelState(ctx, model.ChannelState{Channel: "@a", Paused: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimEdits(ctx, "e2", now.Add(2*time.Minute), 10, time.Minute); len(got) != 0 {
		t.Errorf("an edit of a paused channel was claimed: %+v", got)
	}
	if err := s.SetChannelState(ctx, model.ChannelState{Channel: "@a"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ClaimEdits(ctx, "e2", now.Add(2*time.Minute), 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("edit after the retry time: %+v", got)
	}
	if err := s.MarkEdited(ctx, sentID, "e2"); err != nil {
		t.Fatal(err)
	}
	// A retranslation queues an edit too.
	if err := s.MarkReady(ctx, ids[0], model.Translation{TitleEN: "Retranslated", TranslatedBy: "p"}, nil, now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingEdits(ctx); n != 1 {
		t.Errorf("edits after a retranslation = %d, want 1", n)
	}
	got, _ = s.ClaimEdits(ctx, "e3", now.Add(3*time.Minute), 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("retranslation edit: %+v", got)
	}
	if err := s.MarkEdited(ctx, sentID, "e3"); err != nil {
		t.Fatal(err)
	}
	// The same English again (a whitespace-only source edit): no edit.
	if err := s.MarkReady(ctx, ids[0], model.Translation{TitleEN: "Retranslated", TranslatedBy: "p"}, nil, now.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PendingEdits(ctx); n != 0 {
		t.Errorf("an identical retranslation queued %d edit(s)", n)
	}
}

// testReviewQueue: a delivery to a review channel is held (never claimed)
// until approved; approve makes it due at once; skip fails it for good
// (and /retry leaves it alone); one answer wins; prompts are claimed once;
// retranslate re-queues the post and asks again once it is ready.
func testReviewQueue(t *testing.T, s *store.Store) {
	ctx := t.Context()
	now := t0().Add(time.Hour)
	if err := s.SyncReviewChannels(ctx, []string{"@review", "@review"}); err != nil {
		t.Fatal(err)
	}
	ids := readyItems(t, s, 3, "@review", "@open")
	ds, err := s.ClaimDeliveries(ctx, "w", now, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Channel == "@review" {
			t.Errorf("a held delivery was claimed: %+v", d)
		}
		if err := s.MarkDelivered(ctx, d.ID, 1, now); err != nil {
			t.Fatal(err)
		}
	}
	if len(ds) != 3 {
		t.Fatalf("claimed %d open deliveries, want 3", len(ds))
	}
	prompts, err := s.ClaimReviewPrompts(ctx, now, 10)
	if err != nil || len(prompts) != 3 {
		t.Fatalf("prompts = %+v, %v", prompts, err)
	}
	if again, _ := s.ClaimReviewPrompts(ctx, now, 10); len(again) != 0 {
		t.Errorf("prompts claimed twice: %+v", again)
	}
	waiting, err := s.WaitingReviews(ctx, 10)
	if err != nil || len(waiting) != 3 || waiting[0].ItemID != ids[0] {
		t.Fatalf("waiting = %+v, %v", waiting, err)
	}
	// Approve: one of two concurrent answers wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, a := range []store.ReviewAnswer{store.AnswerApprove, store.AnswerSkip} {
		wg.Go(func() { _, errs[i] = s.AnswerReview(ctx, waiting[0].DeliveryID, a, "admin", now) })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("answers: %v / %v, want exactly one to win", errs[0], errs[1])
	}
	lost := errs[0]
	if lost == nil {
		lost = errs[1]
	}
	if !errors.Is(lost, store.ErrAnswered) {
		t.Errorf("the losing answer: %v, want ErrAnswered", lost)
	}
	// The rest of the test uses deliveries 2 and 3.
	if r, err := s.AnswerReview(ctx, waiting[1].DeliveryID, store.AnswerApprove, "admin", now); err != nil || r.State != model.ReviewApproved {
		t.Fatalf("approve: %+v, %v", r, err)
	}
	ds, err = s.ClaimDeliveries(ctx, "w", now, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var approvedClaimed bool
	for _, d := range ds {
		approvedClaimed = approvedClaimed || d.ID == waiting[1].DeliveryID
		if d.ID == waiting[2].DeliveryID {
			t.Errorf("a waiting delivery was claimed")
		}
	}
	if !approvedClaimed {
		t.Errorf("the approved delivery is not due: %+v", ds)
	}
	if _, err := s.AnswerReview(ctx, waiting[2].DeliveryID, store.AnswerSkip, "admin", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetryFailedDeliveries(ctx, ""); err != nil {
		t.Fatal(err)
	}
	ds, _ = s.ClaimDeliveries(ctx, "w2", now.Add(time.Hour), 10, time.Minute)
	for _, d := range ds {
		if d.ID == waiting[2].DeliveryID {
			t.Errorf("/retry brought a skipped post back")
		}
	}
	if _, err := s.AnswerReview(ctx, 999999, store.AnswerApprove, "admin", now); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("unknown review: %v", err)
	}

	// Retranslate: the post goes back to translation; once it is ready
	// again the admins are asked again, and the delivery stays held.
	extra := upsert(t, s, "src", t0(), item("rv-extra", "h", t0())).New[0]
	if err := s.MarkReady(ctx, extra, model.Translation{TitleEN: "T"}, []string{"@review"}, now); err != nil {
		t.Fatal(err)
	}
	p, _ := s.ClaimReviewPrompts(ctx, now, 10)
	if len(p) != 1 {
		t.Fatalf("prompt for the new post: %+v", p)
	}
	if _, err := s.AnswerReview(ctx, p[0].DeliveryID, store.AnswerRetranslate, "admin", now); err != nil {
		t.Fatal(err)
	}
	if it := getItem(t, s, p[0].ItemID); it.State != model.StateNew {
		t.Errorf("state after retranslate = %s, want new", it.State)
	}
	if again, _ := s.ClaimReviewPrompts(ctx, now, 10); len(again) != 0 {
		t.Errorf("asked again before the post is ready: %+v", again)
	}
	if err := s.MarkReady(ctx, p[0].ItemID, model.Translation{TitleEN: "Again", TranslatedBy: "x"}, []string{"@review"}, now); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimReviewPrompts(ctx, now, 10); len(again) != 1 || again[0].DeliveryID != p[0].DeliveryID {
		t.Errorf("asked again after the retranslation: %+v", again)
	}
	if ds, _ := s.ClaimDeliveries(ctx, "w3", now.Add(2*time.Hour), 10, time.Minute); slices.ContainsFunc(ds, func(d model.Delivery) bool { return d.ID == p[0].DeliveryID }) {
		t.Error("the retranslated post was sent before approval")
	}
}
