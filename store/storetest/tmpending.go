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

// testTMReserve walks reservations of translation-memory keys by two
// instances through their life: exclusive while held, renewed by the
// holder, ended by TMPut and TMRelease, taken over when expired.
func testTMReserve(t *testing.T, s *store.Store) {
	ctx := t.Context()
	lease := time.Minute
	steps := []struct {
		name  string
		do    string // "reserve" | "release" | "put"
		owner string
		keys  []string
		at    time.Duration
		want  []string // reserve: the keys owned
	}{
		{"first reservation", "reserve", "A", []string{"k2", "k1", "k1"}, 0, []string{"k1", "k2"}},
		{"held keys are refused to another", "reserve", "B", []string{"k1", "k2", "k3"}, 10 * time.Second, []string{"k3"}},
		{"the holder renews", "reserve", "A", []string{"k1"}, 30 * time.Second, []string{"k1"}},
		{"a stored key ends the reservation", "put", "A", []string{"k1"}, 0, nil},
		{"a key in the memory is never reserved", "reserve", "B", []string{"k1"}, 31 * time.Second, nil},
		{"not even by its former holder", "reserve", "A", []string{"k1"}, 32 * time.Second, nil},
		{"release by a non-holder does nothing", "release", "B", []string{"k2"}, 0, nil},
		{"still held", "reserve", "B", []string{"k2"}, 33 * time.Second, nil},
		{"the holder releases", "release", "A", []string{"k2", "k9"}, 0, nil},
		{"a released key is free at once", "reserve", "B", []string{"k2"}, 34 * time.Second, []string{"k2"}},
		{"held until the lease ends", "reserve", "A", []string{"k3"}, 10*time.Second + lease - time.Millisecond, nil},
		{"an expired reservation is taken over", "reserve", "A", []string{"k3", "k4"}, 10*time.Second + lease, []string{"k3", "k4"}},
		{"the old holder is refused", "reserve", "B", []string{"k3"}, 11*time.Second + lease, nil},
		{"no keys", "reserve", "A", nil, 0, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			switch st.do {
			case "release":
				if err := s.TMRelease(ctx, st.keys, st.owner); err != nil {
					t.Fatal(err)
				}
			case "put":
				var es []model.TMEntry
				for _, k := range st.keys {
					es = append(es, model.TMEntry{Key: k, Provider: "p", Source: "源" + k, Target: "EN " + k})
				}
				if err := s.TMPut(ctx, es); err != nil {
					t.Fatal(err)
				}
			default:
				got, err := s.TMReserve(ctx, st.keys, st.owner, t0().Add(st.at), lease)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(st.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("TMReserve(%s, %v, t0+%v) owned (-want +got):\n%s", st.owner, st.keys, st.at, diff)
				}
			}
		})
	}
	t.Run("invalid", func(t *testing.T) {
		for name, call := range map[string]func() error{
			"empty owner": func() error { _, err := s.TMReserve(ctx, []string{"x"}, "", t0(), lease); return err },
			"empty key":   func() error { _, err := s.TMReserve(ctx, []string{"x", ""}, "A", t0(), lease); return err },
			"zero lease":  func() error { _, err := s.TMReserve(ctx, []string{"x"}, "A", t0(), 0); return err },
		} {
			if call() == nil {
				t.Errorf("%s: no error", name)
			}
		}
		// Nothing was reserved by the refused calls.
		if got, err := s.TMReserve(ctx, []string{"x"}, "B", t0(), lease); err != nil || !slices.Equal(got, []string{"x"}) {
			t.Errorf("x after refused calls = %v, %v; want owned by B", got, err)
		}
	})
	t.Run("many keys", func(t *testing.T) {
		keys := make([]string, 1200)
		for i := range keys {
			keys[i] = fmt.Sprintf("bulk-%04d", i)
		}
		got, err := s.TMReserve(ctx, keys, "A", t0(), lease)
		if err != nil || len(got) != len(keys) {
			t.Fatalf("reserve = %d keys, %v; want %d", len(got), err, len(keys))
		}
		if err := s.TMRelease(ctx, keys, "A"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TMReserve(ctx, keys, "B", t0(), lease); err != nil || len(got) != len(keys) {
			t.Errorf("after release: B owns %d keys, %v; want %d", len(got), err, len(keys))
		}
	})
}

// testTMReserveConcurrent: instances racing for overlapping sets of keys
// (in different orders) each get a key exactly once, and nobody deadlocks.
func testTMReserveConcurrent(t *testing.T, s *store.Store) {
	const racers, nkeys = 6, 40
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("seg-%02d", i)
	}
	var (
		mu    sync.Mutex
		owner = map[string][]string{}
		errs  []error
		wg    sync.WaitGroup
	)
	for r := range racers {
		wg.Go(func() {
			mine := slices.Clone(keys[r*3:])
			slices.Reverse(mine) // another order than the others
			name := fmt.Sprintf("instance-%d", r)
			got, err := s.TMReserve(t.Context(), mine, name, t0(), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for _, k := range got {
				owner[k] = append(owner[k], name)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if len(owner[k]) != 1 {
			t.Errorf("%s owned by %v, want exactly one instance", k, owner[k])
		}
	}
}
