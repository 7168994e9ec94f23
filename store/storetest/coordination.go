package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// testMarkReadyStale: a translation of an original that has changed since
// it was claimed is refused, and the changed item can be claimed at once.
func testMarkReadyStale(t *testing.T, s *store.Store) {
	ctx := t.Context()
	id := upsert(t, s, "src", t0(), item("k", "h1", t0())).New[0]
	claimed, err := s.ClaimItems(ctx, "A", t0(), 1, time.Hour)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	// The original changes while A translates it.
	upsert(t, s, "src", t0().Add(time.Minute), item("k", "h2", t0()))
	stale := model.Translation{TitleEN: "old title", TranslatedBy: "p", OriginalHash: claimed[0].ContentHash}
	err = s.MarkReady(ctx, id, stale, []string{"@a"}, t0().Add(2*time.Minute))
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("MarkReady of the old original: error = %v, want ErrStale", err)
	}
	got := getItem(t, s, id)
	if got.State != model.StateNew || got.TitleEN != "" || got.ContentHash != "h2" {
		t.Errorf("after a stale MarkReady: state %q title_en %q hash %q; want new, empty, h2", got.State, got.TitleEN, got.ContentHash)
	}
	if ds, err := s.ClaimDeliveries(ctx, "bot", t0().Add(time.Hour), 10, time.Minute); err != nil || len(ds) != 0 {
		t.Errorf("deliveries after a stale MarkReady = %v, %v; want none", ds, err)
	}
	// The changed item is claimable at once by another instance, well
	// within A's hour-long lease.
	again, err := s.ClaimItems(ctx, "B", t0().Add(3*time.Minute), 1, time.Hour)
	if err != nil || len(again) != 1 || again[0].ContentHash != "h2" {
		t.Fatalf("claim of the changed item = %v, %v", again, err)
	}
	fresh := model.Translation{TitleEN: "new title", TranslatedBy: "p", OriginalHash: "h2"}
	if err := s.MarkReady(ctx, id, fresh, []string{"@a"}, t0().Add(4*time.Minute)); err != nil {
		t.Fatalf("MarkReady of the current original: %v", err)
	}
	if got := getItem(t, s, id); got.State != model.StateReady || got.TitleEN != "new title" {
		t.Errorf("after MarkReady: state %q title_en %q", got.State, got.TitleEN)
	}
	if err := s.MarkReady(ctx, 987654, fresh, nil, t0()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing item with a hash: error = %v, want ErrNotFound", err)
	}
}

func testReleaseDelivery(t *testing.T, s *store.Store) {
	ctx := t.Context()
	readyItems(t, s, 2, "@a")
	now := t0().Add(time.Hour)
	ds, err := s.ClaimDeliveries(ctx, "A", now, 10, time.Hour)
	if err != nil || len(ds) != 2 {
		t.Fatalf("claim = %v, %v", ds, err)
	}
	if err := s.MarkDeliveryRetry(ctx, ds[0].ID, "502", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDeliveries(ctx, "A", now, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	next := now.Add(10 * time.Second)
	if err := s.ReleaseDelivery(ctx, ds[0].ID, next); err != nil {
		t.Fatal(err)
	}
	// Not due before next, even for another owner within A's lease…
	if got, err := s.ClaimDeliveries(ctx, "B", next.Add(-time.Millisecond), 10, time.Hour); err != nil || len(got) != 0 {
		t.Errorf("claim before next = %v, %v; want none", got, err)
	}
	// …then offered to anyone, with its attempts and error unchanged.
	got, err := s.ClaimDeliveries(ctx, "B", next, 10, time.Hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim at next = %v, %v", got, err)
	}
	if got[0].ID != ds[0].ID || got[0].Attempts != 1 || got[0].Error != "502" || !got[0].NextAttemptAt.Equal(next) {
		t.Errorf("released delivery = %+v; want id %d, 1 attempt, error 502, next %v", got[0], ds[0].ID, next)
	}
	// A sent delivery stays sent.
	if err := s.MarkDelivered(ctx, ds[1].ID, 77, now); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseDelivery(ctx, ds[1].ID, now); err != nil {
		t.Fatal(err)
	}
	if bl, err := s.DeliveryBacklogs(ctx); err != nil || len(bl) != 1 || bl[0].Sent != 1 || bl[0].Pending != 1 {
		t.Errorf("backlogs = %+v, %v; want 1 sent, 1 pending", bl, err)
	}
	if err := s.ReleaseDelivery(ctx, 987654, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing delivery: error = %v, want ErrNotFound", err)
	}
}

func testReserveSend(t *testing.T, s *store.Store) {
	ctx := t.Context()
	gap := 3 * time.Second
	steps := []struct {
		name     string
		channel  string
		at       time.Duration // after t0
		wantOK   bool
		wantWait time.Duration
	}{
		{"first send", "@a", 0, true, 0},
		{"too soon", "@a", time.Second, false, 2 * time.Second},
		{"other chat is independent", "@b", time.Second, true, 0},
		{"just before the slot", "@a", gap - time.Millisecond, false, time.Millisecond},
		{"at the slot", "@a", gap, true, 0},
		{"refusal did not move the slot", "@a", 2 * gap, true, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ok, wait, err := s.ReserveSend(ctx, st.channel, t0().Add(st.at), gap)
			if err != nil {
				t.Fatal(err)
			}
			if ok != st.wantOK || wait != st.wantWait {
				t.Errorf("ReserveSend(%s, t0+%v) = %v, %v; want %v, %v", st.channel, st.at, ok, wait, st.wantOK, st.wantWait)
			}
		})
	}
	if _, _, err := s.ReserveSend(ctx, "", t0(), gap); err == nil {
		t.Error("empty channel: no error")
	}
}

// testReserveSendConcurrent: many instances racing for one chat's slots at
// the same instant get exactly one slot per instant.
func testReserveSendConcurrent(t *testing.T, s *store.Store) {
	const racers, rounds = 6, 10
	gap := time.Second
	var (
		mu   sync.Mutex
		wins = map[int]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for r := range racers {
		wg.Go(func() {
			for round := range rounds {
				ok, _, err := s.ReserveSend(t.Context(), "@race", t0().Add(time.Duration(round)*gap), gap)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("racer %d: %w", r, err))
				} else if ok {
					wins[round]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		if wins[round] > 1 {
			t.Errorf("round %d: %d instances got the slot", round, wins[round])
		}
	}
	if wins[0] != 1 {
		t.Errorf("round 0: %d instances got the slot, want 1", wins[0])
	}
}

func testClaimLeader(t *testing.T, s *store.Store) {
	ctx := t.Context()
	lease := time.Minute
	steps := []struct {
		name   string
		do     string // "claim" | "release"
		owner  string
		at     time.Duration
		wantOK bool
	}{
		{"first claim", "claim", "A", 0, true},
		{"other is refused", "claim", "B", time.Second, false},
		{"holder renews", "claim", "A", 50 * time.Second, true},
		{"renewal extends the lease", "claim", "B", 90 * time.Second, false},
		{"expired lease is taken over", "claim", "B", 50*time.Second + lease, true},
		{"old holder is refused", "claim", "A", 50*time.Second + lease + time.Second, false},
		{"release by a non-holder does nothing", "release", "A", 0, false},
		{"still refused", "claim", "A", 50*time.Second + lease + 2*time.Second, false},
		{"holder releases", "release", "B", 0, false},
		{"released lease is free at once", "claim", "A", 50*time.Second + lease + 3*time.Second, true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.do == "release" {
				if err := s.ReleaseLeader(ctx, "admin", st.owner); err != nil {
					t.Fatal(err)
				}
				return
			}
			ok, err := s.ClaimLeader(ctx, "admin", st.owner, t0().Add(st.at), lease)
			if err != nil {
				t.Fatal(err)
			}
			if ok != st.wantOK {
				t.Errorf("ClaimLeader(%s, t0+%v) = %v, want %v", st.owner, st.at, ok, st.wantOK)
			}
		})
	}
	if ok, err := s.ClaimLeader(ctx, "other", "B", t0(), lease); err != nil || !ok {
		t.Errorf("a second lease name: %v, %v; want independent", ok, err)
	}
	if _, err := s.ClaimLeader(ctx, "", "A", t0(), lease); err == nil {
		t.Error("empty name: no error")
	}
}

// testClaimLeaderConcurrent: of many instances racing for a free lease,
// exactly one wins.
func testClaimLeaderConcurrent(t *testing.T, s *store.Store) {
	var (
		mu      sync.Mutex
		winners []string
		errs    []error
		wg      sync.WaitGroup
	)
	for i := range 8 {
		wg.Go(func() {
			owner := fmt.Sprintf("instance-%d", i)
			ok, err := s.ClaimLeader(t.Context(), "race", owner, t0(), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				winners = append(winners, owner)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(winners) != 1 {
		slices.Sort(winners)
		t.Errorf("winners = %v, want exactly one", winners)
	}
}
