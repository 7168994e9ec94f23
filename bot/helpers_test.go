package bot_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

const adminID = 999000111

var sourceIDs = []string{"zhaoqing-news", "gd-wechat"}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// readFixture reads a post body shared with bot/telegram's format tests.
func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("telegram", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// channel is a configured channel as cmd/transfeed builds it: photos on.
func channel(chat string, thread, summaryChars int) bot.Channel {
	key := chat
	if thread != 0 {
		key = fmt.Sprintf("%s#%d", chat, thread)
	}
	return bot.Channel{Key: key, Address: chat, Thread: thread, SummaryChars: summaryChars, Photo: true}
}

// everySource routes every source to each channel.
func everySource(chans ...bot.Channel) []bot.Rule {
	var rules []bot.Rule
	for _, ch := range chans {
		rules = append(rules, bot.Rule{Channel: ch.Key, Sources: sourceIDs})
	}
	return rules
}

// telegramNotifier is the real Telegram notifier and client on srv.
func telegramNotifier(t *testing.T, srv *telegramtest.Server) (*telegram.Notifier, *telegram.Client) {
	t.Helper()
	c, err := telegram.NewClient(telegram.ClientOptions{
		Token:       telegram.Token(srv.Token()),
		APIURL:      srv.URL(),
		Admins:      []int64{adminID},
		PollTimeout: 2 * time.Second,
		HTTPClient:  srv.Client(),
		Logger:      discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := telegram.NewNotifier(telegram.NotifierOptions{
		Client:  c,
		BaseURL: "https://example.org",
		Sources: map[string]telegram.Source{
			"zhaoqing-news": {ID: "zhaoqing-news", Name: "Zhaoqing Government — News", Tags: []string{"zhaoqing"}},
			"gd-wechat":     {ID: "gd-wechat", Name: "Guangdong WeChat", Tags: []string{"guangdong", "wechat"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

// fastOptions keeps Telegram's rules but at test speed.
func fastOptions() bot.Options {
	return bot.Options{
		Rates:      telegram.Pacing{Chat: 60, Group: 60}.Rates,
		GlobalRate: rate.Inf,
		PollEvery:  100 * time.Millisecond, // a claim scans the backlog: often enough, not 50 times a second
		BackoffMin: 20 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond,
	}
}

// newSender builds a Sender delivering to chans through the Telegram
// notifier on srv, with opts' timing.
func newSender(t *testing.T, srv *telegramtest.Server, st bot.Store, owner string, opts bot.Options, chans ...bot.Channel) *bot.Sender {
	t.Helper()
	n, c := telegramNotifier(t, srv)
	opts.Store, opts.Notifier, opts.Alerter, opts.Owner, opts.Channels = st, n, c, owner, chans
	opts.Logger = discardLogger()
	s, err := bot.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkedStore is the real store, watching what the Sender records: it
// fails the test when a delivery is marked delivered twice (a double send)
// or marked again after it was sent. It decides nothing itself.
type checkedStore struct {
	*store.Store
	t testing.TB

	mu     sync.Mutex
	sent   map[int64]int64  // delivery id → message id
	failed map[int64]string // delivery id → reason
}

func newCheckedStore(t testing.TB, st *store.Store) *checkedStore {
	return &checkedStore{Store: st, t: t, sent: map[int64]int64{}, failed: map[int64]string{}}
}

// openStore opens the real store on an in-memory SQLite database.
func openStore(t *testing.T) *checkedStore {
	t.Helper()
	return newCheckedStore(t, openReal(t, store.Config{DSN: ":memory:"}))
}

func openReal(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// realStores opens each real engine: SQLite in memory and in a file
// always, PostgreSQL (a fresh schema, dropped afterwards) when
// TRANSFEED_TEST_POSTGRES_DSN is set.
func realStores() map[string]func(t *testing.T) *checkedStore {
	return map[string]func(t *testing.T) *checkedStore{
		"sqlite": func(t *testing.T) *checkedStore {
			return newCheckedStore(t, openReal(t, store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "transfeed.db")}))
		},
		"postgres": func(t *testing.T) *checkedStore {
			return newCheckedStore(t, openReal(t, store.Config{Driver: "postgres", DSN: storetest.PostgresDSN(t)}))
		},
	}
}

func (c *checkedStore) MarkDelivered(ctx context.Context, id int64, messageID int64, at time.Time) error {
	if err := c.Store.MarkDelivered(ctx, id, messageID, at); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, dup := c.sent[id]; dup {
		c.t.Errorf("delivery %d marked delivered twice (messages %d and %d): sent twice", id, prev, messageID)
	}
	c.sent[id] = messageID
	return nil
}

func (c *checkedStore) MarkDeliveryRetry(ctx context.Context, id int64, reason string, next time.Time) error {
	c.mu.Lock()
	if _, sent := c.sent[id]; sent {
		c.t.Errorf("delivery %d put back for retry after it was sent", id)
	}
	c.mu.Unlock()
	return c.Store.MarkDeliveryRetry(ctx, id, reason, next)
}

func (c *checkedStore) MarkDeliveryFailed(ctx context.Context, id int64, reason string) error {
	c.mu.Lock()
	if _, sent := c.sent[id]; sent {
		c.t.Errorf("delivery %d marked failed after it was sent", id)
	}
	c.failed[id] = reason
	c.mu.Unlock()
	return c.Store.MarkDeliveryFailed(ctx, id, reason)
}

// count is how many deliveries of channel ("" = every channel) are in state.
func (c *checkedStore) count(t *testing.T, channel string, state model.DeliveryState) int {
	t.Helper()
	bl, err := c.DeliveryBacklogs(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range bl {
		if channel != "" && b.Channel != channel {
			continue
		}
		switch state {
		case model.DeliveryPending:
			n += b.Pending
		case model.DeliverySent:
			n += b.Sent
		case model.DeliveryFailed:
			n += b.Failed
		}
	}
	return n
}

// messageIDs are the message ids recorded with the sent deliveries.
func (c *checkedStore) messageIDs() map[int64]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]int64, len(c.sent))
	for k, v := range c.sent {
		out[k] = v
	}
	return out
}

// sentCount is how many deliveries were recorded as sent.
func (c *checkedStore) sentCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent)
}

// failures are the reasons recorded with the failed deliveries.
func (c *checkedStore) failures() map[int64]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]string, len(c.failed))
	for k, v := range c.failed {
		out[k] = v
	}
	return out
}

// makeItems builds n varied ready items: long bodies, images, untranslated
// Chinese ones, English sources.
func makeItems(t testing.TB, n int) []model.Item {
	en := readFixture(t, "post_en.html")
	zh := readFixture(t, "post_zh.html")
	long := strings.Repeat(en, 8)
	var out []model.Item
	for i := 1; i <= n; i++ {
		it := model.Item{
			Key:          fmt.Sprintf("post-%d", i),
			ContentHash:  "h",
			SourceID:     sourceIDs[i%2],
			Link:         fmt.Sprintf("http://www.zhaoqing.gov.cn/post_%d.html?a=1&b=2", i),
			Title:        fmt.Sprintf("肇庆新闻第%d条", i),
			ContentHTML:  zh,
			Language:     "zh",
			Published:    time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			BackfillRank: -1,
			TitleEN:      fmt.Sprintf("Zhaoqing news <%d> & more", i),
			SummaryEN:    "Summary.",
		}
		switch {
		case i%10 == 0:
			it.ContentHTMLEN, it.TranslatedBy = long, "openai/test"
		case i%5 == 0:
			it.TitleEN, it.SummaryEN, it.Untranslated = "", "", true
		case i%3 == 0:
			it.Title, it.ContentHTML, it.Language, it.TitleEN = fmt.Sprintf("English post %d", i), en, "en", ""
		default:
			it.ContentHTMLEN, it.TranslatedBy = en, "deepl"
		}
		if i%7 == 0 {
			it.ImageURL = fmt.Sprintf("https://www.zhaoqing.gov.cn/img/%d.jpg", i)
		}
		out = append(out, it)
	}
	return out
}

// fill stores items as the worker does — UpsertItems, then MarkReady with
// the channels Route picks — and returns how many deliveries it made.
func fill(t *testing.T, st *checkedStore, rules []bot.Rule, items []model.Item) int {
	t.Helper()
	return fillTo(t, st, items, func(it model.Item) []string { return bot.Route(rules, it) })
}

func fillTo(t *testing.T, st *checkedStore, items []model.Item, route func(model.Item) []string) int {
	t.Helper()
	ctx := t.Context()
	n := 0
	for _, it := range items {
		res, err := st.UpsertItems(ctx, it.SourceID, []model.Item{it}, time.Now())
		if err != nil || len(res.New) != 1 {
			t.Fatalf("upsert %s: %+v, %v", it.Key, res, err)
		}
		keys := route(it)
		tr := model.Translation{TitleEN: it.TitleEN, SummaryEN: it.SummaryEN, ContentHTMLEN: it.ContentHTMLEN,
			TranslatedBy: it.TranslatedBy, Untranslated: it.Untranslated}
		if err := st.MarkReady(ctx, res.New[0], tr, keys, time.Now()); err != nil {
			t.Fatal(err)
		}
		n += len(keys)
	}
	return n
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitSent waits until want deliveries were recorded as sent; on a
// timeout it reports the store's backlog.
func waitSent(t *testing.T, st *checkedStore, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for st.sentCount() < want {
		if time.Now().After(deadline) {
			bl, err := st.DeliveryBacklogs(context.WithoutCancel(t.Context()))
			t.Fatalf("timed out waiting for %d deliveries sent: %d recorded; backlog %+v, %v", want, st.sentCount(), bl, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runSender runs s.Run until stop is called; stop waits for Run to return.
func runSender(t *testing.T, s *bot.Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return func() { cancel(); wg.Wait() }
}

var postLink = regexp.MustCompile(`/posts/(\d+)"`)

// checkOnce fails unless every item was received exactly once per chat.
func checkOnce(t *testing.T, srv *telegramtest.Server, chat string, wantItems int) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range srv.Messages(chat) {
		sub := postLink.FindStringSubmatch(m.Text)
		if sub == nil {
			t.Errorf("%s: message without a post link: %q", chat, m.Text)
			continue
		}
		seen[sub[1]]++
	}
	if len(seen) != wantItems {
		t.Errorf("%s: %d distinct items received, want %d", chat, len(seen), wantItems)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s: item %s received %d times", chat, id, n)
		}
	}
}
