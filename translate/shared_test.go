package translate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// Boilerplate paragraphs that government posts repeat.
var sharedBoilerplate = []string{
	"本网站所载文字、图片等内容，未经授权不得转载。",
	"来源：肇庆市人民政府办公室，责任编辑：李华。",
	"各部门要切实履职尽责，抓好各项工作落实。",
	"如有疑问，请在工作日拨打政务服务热线咨询。",
}

// sharedPosts returns n posts, each with its own title and paragraph and
// three of the boilerplate paragraphs.
func sharedPosts(n int) []model.Item {
	posts := make([]model.Item, n)
	for i := range posts {
		b := sharedBoilerplate
		posts[i] = model.Item{ID: int64(i + 1), Title: fmt.Sprintf("关于第%d批重点项目的通知", i+1),
			ContentHTML: paragraphs(b[i%4], fmt.Sprintf("第%d批项目共涉及投资资金。", i+1), b[(i+1)%4], b[(i+2)%4])}
	}
	return posts
}

// slowTranslator delays each call a little, so that calls of several
// engines overlap the way requests to a real provider do.
type slowTranslator struct {
	*fakeTranslator
	delay time.Duration
}

func (s slowTranslator) Translate(ctx context.Context, req Request) ([]string, error) {
	if err := sleepCtx(ctx, s.delay); err != nil {
		return nil, err
	}
	return s.fakeTranslator.Translate(ctx, req)
}

func openTestStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "tm.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// openTestPostgres opens a store on a fresh schema of the server named by
// TRANSFEED_TEST_POSTGRES_DSN (skipping when unset), dropped at the end.
func openTestPostgres(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), store.Config{Driver: store.DriverPostgres, DSN: storetest.PostgresDSN(t)}, nil)
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSharedMemoryTranslatedOnce: two engines (two instances) sharing one
// database translate 20 posts with shared boilerplate in parallel and send
// exactly the characters one engine sends alone, with the same results.
func TestSharedMemoryTranslatedOnce(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t testing.TB) *store.Store
	}{
		{"sqlite", openTestStore},
		{"postgres", openTestPostgres},
	} {
		t.Run(db.name, func(t *testing.T) { testTranslatedOnce(t, db.open) })
	}
}

func testTranslatedOnce(t *testing.T, open func(t testing.TB) *store.Store) {
	ctx := t.Context()
	posts := sharedPosts(20)

	single := newFake(t, "fake/model-1", nil)
	eng, err := NewEngine(EngineConfig{}, single, open(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]model.Translation{}
	for _, p := range posts {
		res, err := eng.TranslateItem(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want[p.ID] = res.Translation
	}
	_, wantChars := single.stats()

	fake := newFake(t, "fake/model-1", nil)
	tr := slowTranslator{fakeTranslator: fake, delay: 2 * time.Millisecond}
	st := open(t)
	// Real time, but the engines poll the memory every millisecond instead
	// of every reservePoll, to keep the test short.
	poll := func(ctx context.Context, _ time.Duration) error { return sleepCtx(ctx, time.Millisecond) }
	var engines []*Engine
	for _, name := range []string{"instance-a", "instance-b"} {
		e, err := NewEngine(EngineConfig{Owner: name, Sleep: poll}, tr, st, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	queue := make(chan model.Item, len(posts))
	for _, p := range posts {
		queue <- p
	}
	close(queue)
	var (
		mu   sync.Mutex
		got  = map[int64]model.Translation{}
		hits int
		errs []error
		wg   sync.WaitGroup
	)
	for w := range 4 { // two workers per instance
		e := engines[w%2]
		wg.Go(func() {
			for p := range queue {
				res, err := e.TranslateItem(ctx, p)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("post %d: %w", p.ID, err))
				} else {
					got[p.ID] = res.Translation
					hits += res.MemoryHits
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	calls, chars := fake.stats()
	t.Logf("one engine: %d characters; two engines in parallel: %d characters in %d requests, %d memory hits", wantChars, chars, calls, hits)
	if chars != wantChars {
		t.Errorf("two engines sent %d characters, one engine %d: want equal", chars, wantChars)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("translations differ from one engine's (-want +got):\n%s", diff)
	}
	seen := map[string]int{}
	for _, s := range fake.sentTexts() {
		if seen[s]++; seen[s] == 2 {
			t.Errorf("sent twice: %q", s)
		}
	}
}

// fakeClock is an engine's Now and Sleep: sleeping moves the clock on and
// calls onSleep with the number of sleeps so far.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  int
	onSleep func(n int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps++
	n := c.sleeps
	c.mu.Unlock()
	if c.onSleep != nil {
		c.onSleep(n)
	}
	return ctx.Err()
}

// unitKey returns the translation-memory key the engine uses for a
// segment of it.
func unitKey(t *testing.T, e *Engine, it model.Item, text string) string {
	t.Helper()
	j, err := e.plan(t.Context(), it)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range j.units {
		if u.text == text {
			return u.key
		}
	}
	t.Fatalf("no segment %q", text)
	return ""
}

// TestWaitForAnotherInstance: a segment another instance has reserved is
// waited for (after this call's own segments are sent), used when its
// translation appears, and sent when the other instance gives it up, dies
// or stores an answer that fails the checks.
func TestWaitForAnotherInstance(t *testing.T) {
	const boiler = "肇庆市人民政府办公室主办。"
	it := model.Item{ID: 7, Title: "关于做好防汛工作的通知", ContentHTML: paragraphs("今天召开防汛工作会议。", boiler)}
	lease := 2 * time.Minute
	tests := []struct {
		name string
		// at is called at the nth sleep, as the other instance.
		at         int
		other      func(ctx context.Context, mem *store.Store, key string) error
		wantSleeps int
		wantSent   bool // the boilerplate is sent by this call
	}{
		{name: "the holder stores it", at: 3, wantSleeps: 3,
			other: func(ctx context.Context, mem *store.Store, key string) error {
				return mem.TMPut(ctx, []model.TMEntry{{Key: key, Provider: "fake/model-1", Source: boiler, Target: "Hosted by the Zhaoqing municipal office."}})
			}},
		{name: "the holder releases it", at: 3, wantSleeps: reserveEvery, wantSent: true,
			other: func(ctx context.Context, mem *store.Store, key string) error {
				return mem.TMRelease(ctx, []string{key}, "other")
			}},
		{name: "the holder dies", wantSleeps: int(lease / reservePoll), wantSent: true},
		{name: "the holder's answer fails the checks", at: 2, wantSleeps: 2, wantSent: true,
			other: func(ctx context.Context, mem *store.Store, key string) error {
				return mem.TMPut(ctx, []model.TMEntry{{Key: key, Provider: "fake/model-1", Source: boiler, Target: boiler}})
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			fake := newFake(t, "fake/model-1", nil)
			mem := newMemory(t)
			clock := &fakeClock{now: testNow}
			eng, err := NewEngine(EngineConfig{Owner: "me", Now: clock.Now, Sleep: clock.Sleep, ReserveLease: lease}, fake, mem, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			key := unitKey(t, eng, it, boiler)
			if owned, err := mem.TMReserve(ctx, []string{key}, "other", testNow, lease); err != nil || len(owned) != 1 {
				t.Fatalf("other's reservation = %v, %v", owned, err)
			}
			var sentBeforeWait []string
			clock.onSleep = func(n int) {
				if n == 1 {
					sentBeforeWait = fake.sentTexts()
				}
				if n == tc.at && tc.other != nil {
					if err := tc.other(ctx, mem, key); err != nil {
						t.Error(err)
					}
				}
			}
			res, err := eng.TranslateItem(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			if clock.sleeps != tc.wantSleeps {
				t.Errorf("slept %d times, want %d", clock.sleeps, tc.wantSleeps)
			}
			if diff := cmp.Diff([]string{it.Title, "今天召开防汛工作会议。"}, sentBeforeWait); diff != "" {
				t.Errorf("sent before waiting (-want +got):\n%s", diff)
			}
			sent := strings.Contains(strings.Join(fake.sentTexts(), "\n"), boiler)
			if sent != tc.wantSent {
				t.Errorf("boilerplate sent = %v, want %v (sent %q)", sent, tc.wantSent, fake.sentTexts())
			}
			var fromMemory bool
			for _, p := range res.Segments {
				if p.Original == boiler {
					fromMemory = p.FromMemory
				}
			}
			if fromMemory == tc.wantSent {
				t.Errorf("boilerplate from memory = %v", fromMemory)
			}
			if containsHan(htmlText(res.Translation.ContentHTMLEN)) {
				t.Errorf("content not translated: %q", res.Translation.ContentHTMLEN)
			}
			if got, err := mem.TMGet(ctx, []string{key}); err != nil || got[key] == "" {
				t.Errorf("boilerplate not in the memory afterwards")
			}
		})
	}
}

// TestWaitEndsWithContext: a call waiting for another instance stops when
// its context ends.
func TestWaitEndsWithContext(t *testing.T) {
	const boiler = "肇庆市人民政府办公室主办。"
	it := model.Item{Title: "关于做好防汛工作的通知", ContentHTML: paragraphs(boiler)}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	mem := newMemory(t)
	clock := &fakeClock{now: testNow, onSleep: func(n int) {
		if n == 4 {
			cancel()
		}
	}}
	eng, err := NewEngine(EngineConfig{Now: clock.Now, Sleep: clock.Sleep}, newFake(t, "fake/model-1", nil), mem, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mem.TMReserve(ctx, []string{unitKey(t, eng, it, boiler)}, "other", testNow, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.TranslateItem(ctx, it); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if clock.sleeps != 4 {
		t.Errorf("slept %d times, want 4", clock.sleeps)
	}
}

// countingMemory counts the reservation calls to a Memory.
type countingMemory struct {
	*store.Store
	mu                      sync.Mutex
	reserves, releases, put int
}

func (m *countingMemory) TMReserve(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]string, error) {
	m.mu.Lock()
	m.reserves++
	m.mu.Unlock()
	return m.Store.TMReserve(ctx, keys, owner, now, lease)
}

func (m *countingMemory) TMRelease(ctx context.Context, keys []string, owner string) error {
	m.mu.Lock()
	m.releases++
	m.mu.Unlock()
	return m.Store.TMRelease(ctx, keys, owner)
}

func (m *countingMemory) TMPut(ctx context.Context, entries []model.TMEntry) error {
	m.mu.Lock()
	m.put++
	m.mu.Unlock()
	return m.Store.TMPut(ctx, entries)
}

func (m *countingMemory) counts() [3]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return [3]int{m.reserves, m.releases, m.put}
}

// TestReservationCost: alone, an engine pays one reservation per post
// with segments to send, none for a post the memory holds, and releases
// what it holds when a call fails, so another instance can take it at once.
func TestReservationCost(t *testing.T) {
	ctx := t.Context()
	it := model.Item{Title: "关于做好防汛工作的通知", ContentHTML: paragraphs("今天召开防汛工作会议。", "肇庆市人民政府办公室主办。")}
	fake := newFake(t, "fake/model-1", nil)
	mem := &countingMemory{Store: newMemory(t)}
	eng, err := NewEngine(EngineConfig{Now: func() time.Time { return testNow }}, fake, mem, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		it   model.Item
		fail error
		want [3]int // reserves, releases, puts so far
	}{
		{"new post: one reservation, one store", it, nil, [3]int{1, 0, 1}},
		{"the same post again: nothing", it, nil, [3]int{1, 0, 1}},
		{"a failed call releases", model.Item{Title: "另一篇文章的标题"},
			&Error{Provider: "fake/model-1", Kind: KindPermanent, Err: errors.New("bad key")}, [3]int{2, 1, 1}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.fail != nil {
				fake.failNext(st.fail)
			}
			_, err := eng.TranslateItem(ctx, st.it)
			if (err != nil) != (st.fail != nil) {
				t.Fatalf("error = %v, want %v", err, st.fail)
			}
			if got := mem.counts(); got != st.want {
				t.Errorf("reserves, releases, puts = %v, want %v", got, st.want)
			}
		})
	}
	key := unitKey(t, eng, model.Item{Title: "另一篇文章的标题"}, "另一篇文章的标题")
	if owned, err := mem.TMReserve(ctx, []string{key}, "other", testNow, time.Minute); err != nil || len(owned) != 1 {
		t.Errorf("after the failed call, another instance's reservation = %v, %v; want it free", owned, err)
	}
}
