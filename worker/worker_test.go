package worker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// fakeFetcher answers polls from a script.
type fakeFetcher struct {
	mu      sync.Mutex
	results []func(v feeds.Validators) (*feeds.PollResult, error)
	calls   int
	gotV    []feeds.Validators
}

func (f *fakeFetcher) Poll(_ context.Context, _ config.Source, v feeds.Validators, _ func(string) bool) (*feeds.PollResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gotV = append(f.gotV, v)
	i := min(f.calls, len(f.results)-1)
	f.calls++
	return f.results[i](v)
}

func items(n int, prefix string) []model.Item {
	var out []model.Item
	base := time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC)
	for i := range n {
		out = append(out, model.Item{
			Key: fmt.Sprintf("%s-%d", prefix, i), Title: fmt.Sprintf("标题 %d", i), Link: fmt.Sprintf("http://x.example/%d", i),
			ContentHTML: "<p>内容</p>", Language: "zh", Published: base.Add(-time.Duration(i) * time.Hour),
			ContentHash: fmt.Sprintf("h%d", i), BackfillRank: -1,
		})
	}
	return out
}

func ok(its []model.Item, etag string) func(feeds.Validators) (*feeds.PollResult, error) {
	return func(feeds.Validators) (*feeds.PollResult, error) {
		return &feeds.PollResult{Items: its, Validators: feeds.Validators{ETag: etag}}, nil
	}
}

func notModified(feeds.Validators) (*feeds.PollResult, error) {
	return &feeds.PollResult{NotModified: true}, nil
}

func fail(msg string) func(feeds.Validators) (*feeds.PollResult, error) {
	return func(feeds.Validators) (*feeds.PollResult, error) { return nil, errors.New(msg) }
}

type fakeAlerter struct {
	mu   sync.Mutex
	sent []string
}

func (a *fakeAlerter) AlertAdmins(_ context.Context, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, text)
	return nil
}

func testConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	y := `data_dir: ` + t.TempDir() + `
sources:
  - id: src
    name: Source
    url: http://x.example/rss.xml
    schedule: "@every 15m"
` + extra
	cfg, err := config.Parse("test.yaml", []byte(y), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestWorker(t *testing.T, cfg *config.Config, st *store.Store, f Fetcher, now *time.Time, d Deps) *Worker {
	t.Helper()
	d.Config, d.Store, d.Fetcher = cfg, st, f
	d.Now = func() time.Time { return *now }
	w, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestPollSourceLifecycle(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){
		ok(items(3, "a"), `"v1"`),
		notModified,
		ok(append(items(3, "a"), items(1, "b")...), `"v2"`),
		ok(nil, `"v3"`),
	}}
	al := &fakeAlerter{}
	w := newTestWorker(t, cfg, st, f, &now, Deps{Alerter: al})
	src, _ := cfg.Source("src")

	steps := []struct {
		status   model.PollStatus
		new      int
		wantErrs int
	}{
		{model.PollOK, 3, 0},
		{model.PollNotModified, 0, 0},
		{model.PollOK, 1, 0},
		{model.PollError, 0, 1}, // zero items where there were four: reported as failing
	}
	for i, s := range steps {
		rep := w.PollSource(t.Context(), src)
		if rep.Status != s.status || rep.New != s.new {
			t.Fatalf("poll %d: %+v, want status %s new %d", i, rep, s.status, s.new)
		}
		got, err := st.GetSource(t.Context(), "src")
		if err != nil {
			t.Fatal(err)
		}
		if got.ConsecutiveErrors != s.wantErrs {
			t.Errorf("poll %d: consecutive errors %d, want %d", i, got.ConsecutiveErrors, s.wantErrs)
		}
		// The poll's lease is given back whatever the outcome: another
		// instance can take the source at once.
		if ok, err := st.ClaimSource(t.Context(), "src", "other-instance", now, time.Minute); err != nil || !ok {
			t.Errorf("poll %d: claim by another instance after the poll = %v, %v; want the lease released", i, ok, err)
		} else if err := st.ReleaseSource(t.Context(), "src", "other-instance"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * time.Minute)
	}
	if !strings.Contains(lastErr(t, st), "no posts") {
		t.Errorf("last error %q does not say the source returned no posts", lastErr(t, st))
	}
	// Validators stored by the first poll are sent by the second.
	if f.gotV[1].ETag != `"v1"` {
		t.Errorf("second poll sent validators %+v, want ETag \"v1\"", f.gotV[1])
	}
	// First-poll items carry their backfill rank; later ones do not.
	its, err := st.ListItems(t.Context(), store.ItemQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	ranks := map[string]int{}
	for _, it := range its {
		ranks[it.Key] = it.BackfillRank
	}
	want := map[string]int{"a-0": 0, "a-1": 1, "a-2": 2, "b-0": -1}
	for k, r := range want {
		if ranks[k] != r {
			t.Errorf("item %s backfill rank %d, want %d", k, ranks[k], r)
		}
	}
}

func lastErr(t *testing.T, st *store.Store) string {
	s, err := st.GetSource(t.Context(), "src")
	if err != nil {
		t.Fatal(err)
	}
	return s.LastError
}

func TestFailingSourceBacksOffAndAlertsOnce(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){fail("HTTP 500 Internal Server Error")}}
	al := &fakeAlerter{}
	w := newTestWorker(t, cfg, st, f, &now, Deps{Alerter: al})
	src, _ := cfg.Source("src")
	var prevWait time.Duration
	for i := range 12 {
		w.PollSource(t.Context(), src)
		s, err := st.GetSource(t.Context(), "src")
		if err != nil {
			t.Fatal(err)
		}
		wait := s.NextPollAt.Sub(now)
		if wait <= 0 || wait > maxBackoff {
			t.Fatalf("failure %d: next poll in %v, want within (0, %v]", i+1, wait, maxBackoff)
		}
		if i > 1 && wait < prevWait {
			t.Errorf("failure %d: backoff shrank from %v to %v", i+1, prevWait, wait)
		}
		prevWait = wait
		now = s.NextPollAt
	}
	if len(al.sent) != 1 {
		t.Fatalf("admins alerted %d times, want once: %q", len(al.sent), al.sent)
	}
	if !strings.Contains(al.sent[0], "src") || !strings.Contains(al.sent[0], "HTTP 500") {
		t.Errorf("alert %q does not name the source and the reason", al.sent[0])
	}
	// Recovery resets the counter, and a new failure run alerts again.
	f.results = []func(feeds.Validators) (*feeds.PollResult, error){ok(items(1, "a"), "")}
	f.calls = 0
	w.PollSource(t.Context(), src)
	s, _ := st.GetSource(t.Context(), "src")
	if s.ConsecutiveErrors != 0 || !s.AlertedAt.IsZero() {
		t.Errorf("after recovery: %d errors, alerted at %v", s.ConsecutiveErrors, s.AlertedAt)
	}
}

func TestBackoffIsCappedAndNeverStops(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: time.Minute, 2: 2 * time.Minute, 5: 16 * time.Minute, 50: maxBackoff, 1000: maxBackoff} {
		if got := backoff(n, time.Minute); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestJitterSpreadsSourcesOnOneSchedule(t *testing.T) {
	seconds := map[int64]int{}
	for i := range 100 {
		d := jitter(fmt.Sprintf("source-%d", i), 15*time.Minute)
		if d < 0 || d >= 5*time.Minute {
			t.Fatalf("jitter %v outside [0, 5m)", d)
		}
		if d != jitter(fmt.Sprintf("source-%d", i), 15*time.Minute) {
			t.Fatal("jitter is not stable")
		}
		seconds[int64(d/time.Second)]++
	}
	for s, n := range seconds {
		if n > 3 {
			t.Errorf("%d sources fire in second %d", n, s)
		}
	}
}

// fakeEngine translates by prefixing, or fails as scripted.
type fakeEngine struct {
	err   error
	calls int
}

func (e *fakeEngine) TranslateItem(_ context.Context, it model.Item) (*translate.Result, error) {
	e.calls++
	r := &translate.Result{Translation: model.Translation{TitleEN: "EN " + it.Key, SummaryEN: "s", ContentHTMLEN: "<p>body</p>", TranslatedBy: "fake/1"}}
	if e.err != nil {
		if errors.Is(e.err, translate.ErrBudget) {
			r.Translation.ContentHTMLEN = ""
			return r, e.err
		}
		return nil, e.err
	}
	return r, nil
}

func TestTranslationStage(t *testing.T) {
	cases := []struct {
		name      string
		extra     string
		err       error
		age       time.Duration
		wantState model.State
		wantUntr  bool
		wantTitle bool
	}{
		{"translated", "", nil, 0, model.StateReady, false, false},
		{"engine down, held", "", &translate.Error{Provider: "fake", Kind: translate.KindRetryable, Err: errors.New("503")}, 0, model.StateTranslating, false, false},
		{"budget: title only, body waits", "", translate.ErrBudget, 0, model.StateTranslating, false, true},
		{"held past hold_for with on_failure original", "translation:\n  on_failure: original\n  hold_for: 1h\n",
			&translate.Error{Provider: "fake", Kind: translate.KindRetryable, Err: errors.New("503")}, 2 * time.Hour, model.StateReady, true, false},
		{"held past hold_for with on_failure hold", "translation:\n  on_failure: hold\n  hold_for: 1h\n",
			&translate.Error{Provider: "fake", Kind: translate.KindRetryable, Err: errors.New("503")}, 2 * time.Hour, model.StateTranslating, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, c.extra)
			st := openStore(t)
			now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
			w := newTestWorker(t, cfg, st, &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(1, "a"), "")}},
				&now, Deps{Engine: &fakeEngine{err: c.err}, Provider: "fake"})
			src, _ := cfg.Source("src")
			w.PollSource(t.Context(), src)
			now = now.Add(c.age)
			if _, err := w.TranslateDue(t.Context()); err != nil {
				t.Fatal(err)
			}
			its, err := st.ListItems(t.Context(), store.ItemQuery{})
			if err != nil || len(its) != 1 {
				t.Fatalf("items %v %v", its, err)
			}
			it := its[0]
			if it.State != c.wantState || it.Untranslated != c.wantUntr {
				t.Errorf("state %s untranslated %v, want %s %v (reason %q)", it.State, it.Untranslated, c.wantState, c.wantUntr, it.TranslateErr)
			}
			if c.wantTitle && (it.TitleEN == "" || !it.TitleOnly) {
				t.Errorf("budget reached: title %q title-only %v, want the title translated", it.TitleEN, it.TitleOnly)
			}
			if c.wantState == model.StateTranslating && it.TranslateErr == "" {
				t.Errorf("held without a reason on record")
			}
			// Nothing is due again before its next attempt.
			if n, _ := w.TranslateDue(t.Context()); c.wantState == model.StateTranslating && n != 0 {
				t.Errorf("retried %d item(s) before the next attempt time", n)
			}
		})
	}
}

// cancellingEngine translates one item, then shuts the worker down.
type cancellingEngine struct {
	fakeEngine
	cancel context.CancelFunc
}

func (e *cancellingEngine) TranslateItem(ctx context.Context, it model.Item) (*translate.Result, error) {
	r, err := e.fakeEngine.TranslateItem(ctx, it)
	e.cancel()
	return r, err
}

func TestCleanStopHandsBackClaimedItems(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(t.Context())
	eng := &cancellingEngine{cancel: cancel}
	w := newTestWorker(t, cfg, st, &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(5, "a"), "")}},
		&now, Deps{Engine: eng, Provider: "fake"})
	src, _ := cfg.Source("src")
	w.PollSource(t.Context(), src)
	if n, _ := w.TranslateDue(ctx); n != 1 {
		t.Fatalf("translated %d before the stop, want 1", n)
	}
	// The four items claimed but not translated are due at once for anyone.
	rest, err := st.ClaimItems(t.Context(), "another-instance", now, 16, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 4 {
		t.Errorf("after a clean stop %d items are claimable, want 4 (the rest stay leased)", len(rest))
	}
}

// pairEngine answers only when two posts are being translated at once (or
// after a timeout), and records the most calls in flight.
type pairEngine struct {
	mu       sync.Mutex
	inFlight int
	most     int
	both     chan struct{}
}

func (e *pairEngine) TranslateItem(ctx context.Context, it model.Item) (*translate.Result, error) {
	e.mu.Lock()
	e.inFlight++
	e.most = max(e.most, e.inFlight)
	if e.inFlight == 2 {
		select {
		case <-e.both:
		default:
			close(e.both)
		}
	}
	e.mu.Unlock()
	select {
	case <-e.both:
	case <-time.After(3 * time.Second):
	}
	e.mu.Lock()
	e.inFlight--
	e.mu.Unlock()
	return &translate.Result{Translation: model.Translation{TitleEN: "EN " + it.Key, ContentHTMLEN: "<p>b</p>", TranslatedBy: "fake/1"}}, nil
}

func TestTranslateWorkersRunInParallel(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	eng := &pairEngine{both: make(chan struct{})}
	w := newTestWorker(t, cfg, st, &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(10, "a"), "")}},
		&now, Deps{Engine: eng, Provider: "fake", TranslateWorkers: 4})
	src, _ := cfg.Source("src")
	w.PollSource(t.Context(), src)
	n, err := w.TranslateDue(t.Context())
	if err != nil || n != 10 {
		t.Fatalf("translated %d (%v), want 10", n, err)
	}
	if eng.most < 2 || eng.most > 4 {
		t.Errorf("at most %d posts in flight, want 2 to 4", eng.most)
	}
	ready, err := st.CountItems(t.Context(), store.ItemQuery{States: []model.State{model.StateReady}})
	if err != nil || ready != 10 {
		t.Errorf("%d ready (%v), want 10", ready, err)
	}
}

func TestPollSourceListShapeChangeAlertsOnce(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	shaped := func(shape string) func(feeds.Validators) (*feeds.PollResult, error) {
		return func(feeds.Validators) (*feeds.PollResult, error) {
			return &feeds.PollResult{Items: items(3, "a"), Shape: shape}, nil
		}
	}
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){
		shaped("ul.list > li | a | a@href | span"),
		shaped("ul.list > li | a | a@href | span"),
		shaped("div.news > p | a | a@href | "),
		shaped("div.news > p | a | a@href | "),
		shaped("ul.list > li | a | a@href | span"), // flips back within the day: no second alert
	}}
	al := &fakeAlerter{}
	w := newTestWorker(t, cfg, st, f, &now, Deps{Alerter: al})
	src, _ := cfg.Source("src")
	for i := range 5 {
		if rep := w.PollSource(t.Context(), src); rep.Status != model.PollOK {
			t.Fatalf("poll %d: %+v", i, rep)
		}
		if want := map[int]int{0: 0, 1: 0, 2: 1, 3: 1, 4: 1}[i]; len(al.sent) != want {
			t.Fatalf("after poll %d: %d alerts, want %d: %q", i, len(al.sent), want, al.sent)
		}
		now = now.Add(20 * time.Minute)
	}
	if !strings.Contains(al.sent[0], "Was: ul.list > li") || !strings.Contains(al.sent[0], "Now: div.news > p") {
		t.Errorf("alert %q does not name both shapes", al.sent[0])
	}
	got, err := st.GetSource(t.Context(), "src")
	if err != nil {
		t.Fatal(err)
	}
	if got.ListShape != "ul.list > li | a | a@href | span" || got.ListShapeWas != "div.news > p | a | a@href | " || got.ShapeChangedAt.IsZero() {
		t.Errorf("stored shape %+v", got)
	}
}

func TestRefusedLinksAreKeptForStatus(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	refused := make([]feeds.RefusedLink, maxRefusedExamples+2)
	for i := range refused {
		refused[i] = feeds.RefusedLink{URL: fmt.Sprintf("http://10.0.0.%d/a.html", i), Reason: "a private address"}
	}
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){
		func(feeds.Validators) (*feeds.PollResult, error) {
			return &feeds.PollResult{Items: items(2, "a"), Refused: refused}, nil
		},
		ok(items(2, "a"), ""), // nothing refused: the last refusal stays on show
	}}
	w := newTestWorker(t, cfg, st, f, &now, Deps{})
	src, _ := cfg.Source("src")
	for i := range 2 {
		if rep := w.PollSource(t.Context(), src); rep.Status != model.PollOK {
			t.Fatalf("poll %d: %+v", i, rep)
		}
		got, err := st.GetRefusedLinks(t.Context(), "src")
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != len(refused) || len(got.Examples) != maxRefusedExamples || !got.At.Equal(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("poll %d: refused links %+v, want %d refused, %d examples, at the first poll", i, got, len(refused), maxRefusedExamples)
		}
		now = now.Add(20 * time.Minute)
	}
	its, err := st.ListItems(t.Context(), store.ItemQuery{Limit: 10})
	if err != nil || len(its) != 2 {
		t.Errorf("items stored: %d, %v; want 2 (a refused link keeps its post)", len(its), err)
	}
}

func TestPollMaxItemsPerPoll(t *testing.T) {
	cfg := testConfig(t, "fetch: { max_items_per_poll: 2 }\n")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	all := items(5, "a") // a-0 newest … a-4 oldest
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(all, `"v1"`)}}
	w := newTestWorker(t, cfg, st, f, &now, Deps{})
	src := cfg.Sources[0]

	steps := []struct {
		wantNew, wantWaiting int
		wantKeys             []string // every stored key after the poll, newest first
		wantValidator        string   // validator sent with the NEXT poll
	}{
		{2, 3, []string{"a-0", "a-1"}, ""},
		{2, 1, []string{"a-0", "a-1", "a-2", "a-3"}, ""},
		{1, 0, []string{"a-0", "a-1", "a-2", "a-3", "a-4"}, `"v1"`},
		{0, 0, []string{"a-0", "a-1", "a-2", "a-3", "a-4"}, `"v1"`},
	}
	for i, stp := range steps {
		rep := w.PollSource(t.Context(), src)
		if rep.Status != model.PollOK || rep.New != stp.wantNew || rep.Waiting != stp.wantWaiting {
			t.Fatalf("poll %d: %+v, want ok new=%d waiting=%d", i, rep, stp.wantNew, stp.wantWaiting)
		}
		got, err := st.ListItems(t.Context(), store.ItemQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, it := range got {
			keys = append(keys, it.Key)
			// The whole first import is backfill, ranked by age.
			if want := int(it.Key[2] - '0'); it.BackfillRank != want {
				t.Errorf("poll %d: %s has backfill rank %d, want %d", i, it.Key, it.BackfillRank, want)
			}
		}
		if strings.Join(keys, " ") != strings.Join(stp.wantKeys, " ") {
			t.Errorf("poll %d: stored %v, want %v", i, keys, stp.wantKeys)
		}
		s, err := st.GetSource(t.Context(), src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.ETag != stp.wantValidator {
			t.Errorf("poll %d: stored ETag %q, want %q", i, s.ETag, stp.wantValidator)
		}
		now = now.Add(20 * time.Minute)
	}
}

func TestPollStoresReadyWhenNothingToTranslate(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	its := items(3, "e")
	its[0].Language, its[0].Title, its[0].ContentHTML = "en", "English title", "<p>English</p>"
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(its, `"v1"`)}}
	// No engine: every post is published at once, marked untranslated; no claim needed.
	w := newTestWorker(t, cfg, st, f, &now, Deps{Route: func(model.Item) []string { return []string{"@c"} }})
	if rep := w.PollSource(t.Context(), cfg.Sources[0]); rep.Status != model.PollOK || rep.New != 3 {
		t.Fatalf("poll: %+v", rep)
	}
	got, err := st.ListItems(t.Context(), store.ItemQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range got {
		if it.State != model.StateReady {
			t.Errorf("%s: state %s, want ready at store time", it.Key, it.State)
		}
		if wantU := it.Key != "e-0"; it.Untranslated != wantU {
			t.Errorf("%s: untranslated %v, want %v", it.Key, it.Untranslated, wantU)
		}
	}
	if claimed, err := st.ClaimItems(t.Context(), "x", now, 10, time.Minute); err != nil || len(claimed) != 0 {
		t.Errorf("claim after poll = %d items, %v; want none left", len(claimed), err)
	}
	bl, err := st.DeliveryBacklogs(t.Context())
	if err != nil || len(bl) != 1 || bl[0].Pending != 3 {
		t.Errorf("delivery backlogs = %+v, %v; want 3 pending for @c", bl, err)
	}
}

func TestSweepIfDue(t *testing.T) {
	cfg := testConfig(t, "retention: { max_age: 240h }\n")
	st := openStore(t)
	now := time.Date(2023, 6, 10, 0, 0, 0, 0, time.UTC) // items(…) are from 2023-05-25
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(3, "a"), `"v1"`)}}
	w := newTestWorker(t, cfg, st, f, &now, Deps{Owner: "me"})
	// Stored before retention was set (a poll now stores none of them),
	// and ready: a sweep deletes only ready posts.
	fresh := items(1, "fresh")
	fresh[0].Published = now.Add(-time.Hour)
	ready := store.UpsertOptions{Ready: func(model.Item) (model.Translation, []string, bool) { return model.Translation{}, nil, true }}
	if _, err := st.UpsertItemsWith(t.Context(), "src", append(items(3, "a"), fresh...), now, ready); err != nil {
		t.Fatal(err)
	}
	res, swept, err := w.SweepIfDue(t.Context())
	if err != nil || !swept || res.Items != 3 {
		t.Fatalf("first sweep = %+v, %v, %v; want the 3 old posts deleted", res, swept, err)
	}
	left, err := st.ListItems(t.Context(), store.ItemQuery{})
	if err != nil || len(left) != 1 || left[0].Key != "fresh-0" {
		t.Errorf("left = %v, %v; want the fresh post only", left, err)
	}
	now = now.Add(23 * time.Hour)
	if _, swept, err := w.SweepIfDue(t.Context()); err != nil || swept {
		t.Errorf("sweep 23 h later = %v, %v; want not due", swept, err)
	}
	now = now.Add(time.Hour)
	if _, swept, err := w.SweepIfDue(t.Context()); err != nil || !swept {
		t.Errorf("sweep a day later = %v, %v; want swept", swept, err)
	}
}

// TestPollStoresNothingRetentionWouldDelete: a feed that still lists posts
// the sweep deleted (or would delete) does not bring them back as new, so
// they are not pushed again.
func TestPollStoresNothingRetentionWouldDelete(t *testing.T) {
	base := time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC) // items(…): a-0 at base, a-i i hours before
	cases := []struct {
		name      string
		retention string
		now       time.Time
		// first poll; the sweep after it (every delivery sent); second poll
		// (same list) 20 minutes later.
		new1, tooOld1 int
		swept         int64
		tooOld2       int
		wantKeys      []string
	}{
		{name: "keep everything", retention: "", now: base.Add(30 * time.Minute),
			new1: 5, wantKeys: []string{"a-0", "a-1", "a-2", "a-3", "a-4"}},
		{name: "max_age: older posts are never stored", retention: "max_age: 2h", now: base.Add(30 * time.Minute),
			new1: 2, tooOld1: 3, tooOld2: 3, wantKeys: []string{"a-0", "a-1"}},
		{name: "max_age: a post that ages out between polls is not stored again", retention: "max_age: 2h",
			now: base.Add(1*time.Hour + 50*time.Minute), new1: 1, tooOld1: 4, swept: 0, tooOld2: 5, wantKeys: []string{"a-0"}},
		{name: "max_posts_per_source: the sweep's cut is the poll's", retention: "max_posts_per_source: 2", now: base.Add(30 * time.Minute),
			new1: 5, swept: 3, tooOld2: 3, wantKeys: []string{"a-0", "a-1"}},
		{name: "both", retention: "{ max_age: 4h, max_posts_per_source: 2 }", now: base.Add(30 * time.Minute),
			new1: 4, tooOld1: 1, swept: 2, tooOld2: 3, wantKeys: []string{"a-0", "a-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extra := ""
			if c.retention != "" {
				extra = "retention: " + c.retention + "\n"
				if !strings.HasPrefix(c.retention, "{") {
					extra = "retention: { " + c.retention + " }\n"
				}
			}
			cfg := testConfig(t, extra)
			st := openStore(t)
			now := c.now
			f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(5, "a"), `"v1"`), ok(items(5, "a"), `"v2"`)}}
			w := newTestWorker(t, cfg, st, f, &now, Deps{Owner: "me", Route: func(model.Item) []string { return []string{"@c"} }})
			rep := w.PollSource(t.Context(), cfg.Sources[0])
			if rep.Status != model.PollOK || rep.New != c.new1 || rep.TooOld != c.tooOld1 {
				t.Fatalf("first poll: %+v, want new=%d too_old=%d", rep, c.new1, c.tooOld1)
			}
			ds, err := st.ClaimDeliveries(t.Context(), "sender", now, 100, time.Minute)
			if err != nil || len(ds) != c.new1 {
				t.Fatalf("deliveries after the first poll = %d, %v; want %d", len(ds), err, c.new1)
			}
			for _, d := range ds {
				if err := st.MarkDelivered(t.Context(), d.ID, 1, now); err != nil {
					t.Fatal(err)
				}
			}
			res, _, err := w.SweepIfDue(t.Context())
			if err != nil || res.Items != c.swept {
				t.Fatalf("sweep = %+v, %v; want %d deleted", res, err, c.swept)
			}
			now = now.Add(20 * time.Minute)
			rep = w.PollSource(t.Context(), cfg.Sources[0])
			if rep.Status != model.PollOK || rep.New != 0 || rep.TooOld != c.tooOld2 {
				t.Errorf("second poll: %+v, want new=0 too_old=%d", rep, c.tooOld2)
			}
			if ds, err := st.ClaimDeliveries(t.Context(), "sender", now, 100, time.Minute); err != nil || len(ds) != 0 {
				t.Errorf("deliveries after the second poll = %d, %v; want none (nothing pushed twice)", len(ds), err)
			}
			got, err := st.ListItems(t.Context(), store.ItemQuery{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, it := range got {
				keys = append(keys, it.Key)
			}
			if strings.Join(keys, " ") != strings.Join(c.wantKeys, " ") {
				t.Errorf("stored %v, want %v", keys, c.wantKeys)
			}
		})
	}
}

func TestSweepEvery(t *testing.T) {
	cases := []struct {
		name      string
		retention string
		// sweeps after 0, 59 s, 61 s, 23 h and 24 h past the first.
		want []bool
	}{
		{"default: daily", "retention: { max_age: 240h }\n", []bool{true, false, false, false, true}},
		{"every minute", "retention: { max_age: 240h, sweep_every: 1m }\n", []bool{true, false, true, true, true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, c.retention)
			st := openStore(t)
			start := time.Date(2023, 6, 10, 0, 0, 0, 0, time.UTC)
			now := start
			w := newTestWorker(t, cfg, st, &fakeFetcher{}, &now, Deps{Owner: "me"})
			last := start
			for i, at := range []time.Duration{0, 59 * time.Second, 61 * time.Second, 23 * time.Hour, 24 * time.Hour} {
				now = last.Add(at)
				if i == 0 {
					now = start
				}
				_, swept, err := w.SweepIfDue(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if swept != c.want[i] {
					t.Errorf("check %d (%s after the last sweep): swept %v, want %v", i, now.Sub(last), swept, c.want[i])
				}
				if swept {
					last = now
				}
			}
		})
	}
}

// failingStorePoll is a store whose StorePoll fails (a full disk, say).
type failingStorePoll struct{ *store.Store }

func (failingStorePoll) StorePoll(context.Context, string, []model.Item, time.Time, store.UpsertOptions,
	model.PollResult) (store.UpsertResult, model.Source, error) {
	return store.UpsertResult{}, model.Source{}, errors.New("disk I/O error")
}

// TestPollStoreFailure: when a poll's posts cannot be stored, the poll is
// recorded as failed with the reason, nothing counts as stored, the
// validators are not advanced (the next poll fetches the posts again) and
// the lease is released.
func TestPollStoreFailure(t *testing.T) {
	cfg := testConfig(t, "")
	st := openStore(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	f := &fakeFetcher{results: []func(feeds.Validators) (*feeds.PollResult, error){ok(items(3, "a"), `"v1"`)}}
	w, err := New(Deps{Config: cfg, Store: failingStorePoll{st}, Fetcher: f, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("src")
	rep := w.PollSource(t.Context(), src)
	if rep.Status != model.PollError || rep.New != 0 || !strings.Contains(rep.Reason, "disk I/O error") {
		t.Errorf("report %+v, want an error naming the store's failure and nothing new", rep)
	}
	got, err := st.GetSource(t.Context(), "src")
	if err != nil {
		t.Fatal(err)
	}
	if got.ConsecutiveErrors != 1 || got.ETag != "" || !strings.Contains(got.LastError, "disk I/O error") {
		t.Errorf("source after the failed store: errors %d, etag %q, last error %q", got.ConsecutiveErrors, got.ETag, got.LastError)
	}
	if ok, err := st.ClaimSource(t.Context(), "src", "other-instance", now, time.Minute); err != nil || !ok {
		t.Errorf("lease not released after the failed store: %v %v", ok, err)
	}
}

// countingFetcher answers every poll with posts posts and counts the polls.
type countingFetcher struct {
	posts int
	calls atomic.Int32
}

func (f *countingFetcher) Poll(_ context.Context, src config.Source, _ feeds.Validators, _ func(string) bool) (*feeds.PollResult, error) {
	f.calls.Add(1)
	return &feeds.PollResult{Items: items(f.posts, src.ID), Validators: feeds.Validators{ETag: `"` + src.ID + `"`}}, nil
}

// heldStorePoll is a store whose StorePoll waits until release is closed.
type heldStorePoll struct {
	*store.Store
	waiting atomic.Int32
	release chan struct{}
}

func (s *heldStorePoll) StorePoll(ctx context.Context, id string, its []model.Item, now time.Time, opt store.UpsertOptions,
	pr model.PollResult) (store.UpsertResult, model.Source, error) {
	s.waiting.Add(1)
	<-s.release
	return s.Store.StorePoll(ctx, id, its, now, opt, pr)
}

// TestPollAllWritesWaitOffFetchSlots: a poll whose answer is parsed gives
// its fetch slot to the next source while it waits for its write, as many
// wait so as fetch (concurrency), holding at most maxWaitingPosts posts
// between them; with the writes held, no other source is fetched (or
// leased) until a write ends.
func TestPollAllWritesWaitOffFetchSlots(t *testing.T) {
	const concurrency = 4
	tests := []struct {
		name            string
		sources, posts  int
		fetched, stores int32 // polls fetched, and writes begun, while the writes are held
	}{
		{"small polls: as many wait as fetch", 12, 1, 2 * concurrency, concurrency},
		// Two fit in maxWaitingPosts; the third waits in its fetch slot.
		{"large polls: bounded by their posts", concurrency + 3, maxWaitingPosts/2 - 1, concurrency + 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var y strings.Builder
			fmt.Fprintf(&y, "data_dir: %s\nfetch:\n  concurrency: %d\n  max_items_per_poll: %d\nsources:\n", t.TempDir(), concurrency, tc.posts)
			for i := range tc.sources {
				fmt.Fprintf(&y, "  - id: s%d\n    name: S%d\n    url: http://x%d.example/rss.xml\n    schedule: \"@every 15m\"\n", i, i, i)
			}
			cfg, err := config.Parse("test.yaml", []byte(y.String()), func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			st := &heldStorePoll{Store: openStore(t), release: make(chan struct{})}
			f := &countingFetcher{posts: tc.posts}
			now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
			w, err := New(Deps{Config: cfg, Store: st, Fetcher: f, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(t.Context()); err != nil {
				t.Fatal(err)
			}
			done := make(chan []PollReport)
			go func() { done <- w.PollAll(t.Context(), cfg.Sources) }()
			for deadline := time.Now().Add(10 * time.Second); f.calls.Load() < tc.fetched || st.waiting.Load() < tc.stores; {
				if time.Now().After(deadline) {
					t.Fatalf("with the writes held: %d polls fetched, %d writes begun; want %d and %d",
						f.calls.Load(), st.waiting.Load(), tc.fetched, tc.stores)
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // room for a poll or a write that should not start
			if got, waiting := f.calls.Load(), st.waiting.Load(); got != tc.fetched || waiting != tc.stores {
				t.Errorf("with the writes held: %d polls fetched, %d writes begun; want %d and %d", got, waiting, tc.fetched, tc.stores)
			}
			close(st.release)
			for _, rep := range <-done {
				if rep.Status != model.PollOK || rep.New != tc.posts {
					t.Errorf("%s: %+v, want ok with %d new posts", rep.Source, rep, tc.posts)
				}
			}
			if got := f.calls.Load(); got != int32(tc.sources) {
				t.Errorf("%d polls, want %d", got, tc.sources)
			}
		})
	}
}
