package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

const adminID = 999000111

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestBot(t *testing.T, srv *telegramtest.Server) *Bot {
	t.Helper()
	b, err := NewBot(config.TelegramConfig{
		Token:  config.Secret(srv.Token()),
		APIURL: srv.URL(),
		Admins: []int64{adminID},
	}, BotOptions{PollTimeout: 2 * time.Second, Client: srv.Client()}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testConfig(chans ...config.Channel) *config.Config {
	return &config.Config{
		Server: config.ServerConfig{BaseURL: "https://example.org"},
		Sources: []config.Source{
			{ID: "zhaoqing-news", Name: "Zhaoqing Government — News", Tags: []string{"zhaoqing"}},
			{ID: "gd-wechat", Name: "Guangdong WeChat", Tags: []string{"guangdong", "wechat"}},
		},
		Telegram: config.TelegramConfig{Admins: []int64{adminID}, Channels: chans},
	}
}

// fastOptions keeps Telegram's rules but at test speed.
func fastOptions() Options {
	return Options{
		ChatRate:   60,
		GroupRate:  60,
		GlobalRate: rate.Inf,
		PollEvery:  20 * time.Millisecond,
		BackoffMin: 20 * time.Millisecond,
		BackoffMax: 200 * time.Millisecond,
	}
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
			ID:           int64(i),
			SourceID:     []string{"zhaoqing-news", "gd-wechat"}[i%2],
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

func fill(t *testing.T, st *fakeStore, cfg *config.Config, items []model.Item) int {
	t.Helper()
	n := 0
	for _, it := range items {
		keys := Route(cfg, it)
		st.addReady(it, keys)
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

// runSender runs s.Run until stop is called; stop waits for Run to return.
func runSender(t *testing.T, s *Sender) (stop func()) {
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

func TestSender300PostsThreeChannels(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
	cfg := testConfig(
		config.Channel{Chat: "@chan_one"},
		config.Channel{Chat: "-1001234567890", SummaryChars: 2000},
		config.Channel{Chat: "@forum_group", Thread: 7, SummaryChars: 5000},
	)
	st := newFakeStore(t)
	if n := fill(t, st, cfg, makeItems(t, 300)); n != 900 {
		t.Fatalf("routed %d deliveries, want 900", n)
	}
	srv.RateLimit("@chan_one", 1)      // the first request to @chan_one gets 429 retry_after 1
	srv.RateLimit("-1001234567890", 1) // and so does the first to the group
	opts := fastOptions()
	// 20 ms between messages to one chat; the server fails the test under 5 ms
	// (the slack absorbs scheduling delays on a loaded machine).
	opts.ChatRate, opts.GroupRate = 50, 50
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), NewMetrics(nil), "test", opts)

	stop := runSender(t, s)
	waitFor(t, 60*time.Second, "900 deliveries sent", func() bool { return st.countState(model.DeliverySent) == 900 })
	stop()

	for _, chat := range []string{"@chan_one", "-1001234567890", "@forum_group"} {
		checkOnce(t, srv, chat, 300)
	}
	for _, m := range srv.Messages("@forum_group") {
		if m.Thread != 7 {
			t.Fatalf("forum message sent to thread %d, want 7", m.Thread)
		}
	}
	for _, d := range st.snapshot() {
		if d.MessageID <= 0 {
			t.Errorf("delivery %d sent without a message id", d.ID)
		}
	}
	// While @chan_one waited out its retry_after, the forum chat went on.
	first := srv.Messages("@chan_one")[0].At
	before := 0
	for _, m := range srv.Messages("@forum_group") {
		if m.At.Before(first) {
			before++
		}
	}
	if before == 0 {
		t.Errorf("no message reached @forum_group while @chan_one was rate-limited: one chat blocked the others")
	}
	if got := srv.Requests("sendPhoto"); got == 0 {
		t.Errorf("no photo sent; items with images should go as sendPhoto")
	}
}

func TestSenderRestartNeverResends(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 10 * time.Millisecond})
	cfg := testConfig(config.Channel{Chat: "@chan_one"})
	st := newFakeStore(t)
	fill(t, st, cfg, makeItems(t, 40))
	opts := fastOptions()
	opts.ChatRate = 40 // 25 ms apart

	first := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "first", opts)
	stop := runSender(t, first)
	waitFor(t, 30*time.Second, "10 deliveries sent", func() bool { return st.countState(model.DeliverySent) >= 10 })
	stop()
	time.Sleep(25 * time.Millisecond) // a restart takes longer than one chat gap; the new sender starts with fresh limiters
	sentBefore := st.countState(model.DeliverySent)
	if sentBefore == 40 {
		t.Fatalf("everything was sent before the restart; the test proves nothing")
	}
	for _, d := range st.snapshot() {
		if d.State == model.DeliveryPending && d.LeaseOwner != "" {
			t.Errorf("delivery %d still leased after a clean stop", d.ID)
		}
	}

	second := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "second", opts)
	n, err := second.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 40-sentBefore {
		t.Errorf("second sender sent %d, want %d", n, 40-sentBefore)
	}
	checkOnce(t, srv, "@chan_one", 40)
}

func TestSenderSurvives502(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
	cfg := testConfig(config.Channel{Chat: "@chan_one"}, config.Channel{Chat: "@chan_two"})
	st := newFakeStore(t)
	fill(t, st, cfg, makeItems(t, 20))
	srv.Down(700 * time.Millisecond)
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())

	stop := runSender(t, s)
	waitFor(t, 30*time.Second, "40 deliveries sent", func() bool { return st.countState(model.DeliverySent) == 40 })
	stop()

	checkOnce(t, srv, "@chan_one", 20)
	checkOnce(t, srv, "@chan_two", 20)
	if got := srv.ChatRequests("@chan_one"); got <= 20 {
		t.Errorf("%d requests to @chan_one: the 502 period was not hit", got)
	}
	if failed := st.countState(model.DeliveryFailed); failed != 0 {
		t.Errorf("%d deliveries failed; a 502 must never drop one", failed)
	}
}

func TestSenderChatErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*telegramtest.Server)
		wantPaused bool
		wantFailed int // deliveries of @chan_two marked failed
	}{
		{
			name:       "bot kicked",
			setup:      func(s *telegramtest.Server) { s.Forbid("@chan_two", "Forbidden: bot was kicked from the channel chat") },
			wantPaused: true,
			wantFailed: 1,
		},
		{
			name: "bot not a member",
			setup: func(s *telegramtest.Server) {
				s.Forbid("@chan_two", "Forbidden: bot is not a member of the channel chat")
			},
			wantPaused: true,
			wantFailed: 1,
		},
		{
			name:       "chat not found",
			setup:      func(s *telegramtest.Server) { s.RejectChat("@chan_two", "Bad Request: chat not found") },
			wantPaused: true,
			wantFailed: 1,
		},
		{
			name:       "message refused",
			setup:      func(s *telegramtest.Server) { s.RejectChat("@chan_two", "Bad Request: message is too long") },
			wantPaused: false,
			wantFailed: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
			cfg := testConfig(config.Channel{Chat: "@chan_one"}, config.Channel{Chat: "@chan_two"})
			st := newFakeStore(t)
			items := makeItems(t, 6)
			for i := range items {
				items[i].ImageURL = "" // one request per delivery
			}
			fill(t, st, cfg, items)
			tt.setup(srv)
			s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())
			n, err := s.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n != 6 {
				t.Errorf("sent %d, want the 6 of @chan_one", n)
			}
			checkOnce(t, srv, "@chan_one", 6)
			failed, pending := 0, 0
			for _, d := range st.snapshot() {
				if d.Channel != "@chan_two" {
					continue
				}
				switch d.State {
				case model.DeliveryFailed:
					failed++
					if d.Error == "" {
						t.Errorf("failed delivery %d without a reason", d.ID)
					}
				case model.DeliveryPending:
					pending++
				}
			}
			if failed != tt.wantFailed || pending != 6-tt.wantFailed {
				t.Errorf("@chan_two: %d failed, %d pending; want %d failed, %d pending", failed, pending, tt.wantFailed, 6-tt.wantFailed)
			}
			cs, _ := st.GetChannelState(t.Context(), "@chan_two")
			alerts := srv.Messages(fmt.Sprint(adminID))
			if tt.wantPaused {
				if !cs.Paused || cs.Reason == "" || cs.AlertedAt.IsZero() {
					t.Errorf("channel state %+v, want paused with a reason and AlertedAt", cs)
				}
				if len(alerts) != 1 || !strings.Contains(alerts[0].Text, "@chan_two") {
					t.Errorf("admin alerts %v, want one about @chan_two", alerts)
				}
				if got := srv.ChatRequests("@chan_two"); got != 1 {
					t.Errorf("%d requests to @chan_two, want 1 (then paused)", got)
				}
				// A second run neither sends to the paused chat nor alerts again.
				if _, err := s.RunOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				if got := srv.ChatRequests("@chan_two"); got != 1 {
					t.Errorf("%d requests to @chan_two after a second run, want 1", got)
				}
				if got := len(srv.Messages(fmt.Sprint(adminID))); got != 1 {
					t.Errorf("%d alerts after a second run, want 1", got)
				}
			} else {
				if cs.Paused || len(alerts) != 0 {
					t.Errorf("channel state %+v and %d alerts; a refused message must not pause the channel", cs, len(alerts))
				}
			}
		})
	}
}

func TestSenderFollowsMigration(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
	cfg := testConfig(config.Channel{Chat: "-100111"})
	st := newFakeStore(t)
	fill(t, st, cfg, makeItems(t, 5))
	srv.Migrate("-100111", -1002222)
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())
	n, err := s.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("sent %d, want 5", n)
	}
	checkOnce(t, srv, "-1002222", 5)
	if got := srv.ChatRequests("-100111"); got != 1 {
		t.Errorf("%d requests to the old chat id, want 1", got)
	}
	cs, _ := st.GetChannelState(t.Context(), "-100111")
	if cs.ChatID != "-1002222" {
		t.Errorf("ChannelState.ChatID = %q, want -1002222", cs.ChatID)
	}
}

func TestSenderPhotos(t *testing.T) {
	tests := []struct {
		name       string
		photoFail  string
		wantMethod string
	}{
		{"photo accepted", "", "sendphoto"},
		{"wrong file identifier", "Bad Request: wrong file identifier/HTTP URL specified", "sendmessage"},
		{"failed to get content", "Bad Request: failed to get HTTP URL content", "sendmessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
			cfg := testConfig(config.Channel{Chat: "@chan_one", SummaryChars: 3000})
			st := newFakeStore(t)
			items := makeItems(t, 4)
			for i := range items {
				items[i].ImageURL = fmt.Sprintf("https://img.example/%d.jpg", i)
			}
			fill(t, st, cfg, items)
			srv.FailPhotos(tt.photoFail)
			s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())
			if n, err := s.RunOnce(t.Context()); err != nil || n != 4 {
				t.Fatalf("RunOnce = %d, %v; want 4", n, err)
			}
			checkOnce(t, srv, "@chan_one", 4)
			for _, m := range srv.Messages("@chan_one") {
				if m.Method != tt.wantMethod {
					t.Errorf("sent with %s, want %s", m.Method, tt.wantMethod)
				}
				if m.Method == "sendmessage" && telegramtest.VisibleLen(m.Visible) <= 1024 {
					t.Errorf("text fallback has %d characters: it should carry the full summary, not the caption", telegramtest.VisibleLen(m.Visible))
				}
			}
		})
	}
}

func TestSenderRunOnceWaitsOutRetryAfter(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
	cfg := testConfig(config.Channel{Chat: "@chan_one"})
	st := newFakeStore(t)
	fill(t, st, cfg, makeItems(t, 3))
	srv.RateLimit("@chan_one", 1)
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())
	n, err := s.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("RunOnce sent %d, want 3 (it must wait out retry_after, not skip)", n)
	}
	checkOnce(t, srv, "@chan_one", 3)
	cs, _ := st.GetChannelState(t.Context(), "@chan_one")
	if cs.PausedUntil.IsZero() {
		t.Errorf("retry_after not stored in ChannelState.PausedUntil")
	}
}

func TestSenderDefersBeyondLeaseWithoutStarvingOthers(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 10 * time.Millisecond})
	cfg := testConfig(
		config.Channel{Chat: "@busy", Sources: []string{"zhaoqing-news"}},
		config.Channel{Chat: "@quiet", Sources: []string{"gd-wechat"}},
	)
	st := newFakeStore(t)
	var busy, quiet []model.Item
	for _, it := range makeItems(t, 60) {
		if it.SourceID == "zhaoqing-news" {
			busy = append(busy, it)
		} else {
			quiet = append(quiet, it)
		}
	}
	fill(t, st, cfg, busy)      // 30 older deliveries for @busy
	fill(t, st, cfg, quiet[:5]) // then 5 for @quiet
	opts := fastOptions()
	opts.ChatRate, opts.GroupRate = 50, 50 // 20 ms apart
	opts.Lease, opts.LeaseMargin = 400*time.Millisecond, 200*time.Millisecond
	opts.Batch = 50 // lane capacity: (400-200)/20 = 10 per lease
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", opts)
	n, err := s.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 35 {
		t.Errorf("sent %d, want 35", n)
	}
	checkOnce(t, srv, "@busy", 30)
	checkOnce(t, srv, "@quiet", 5)
	busyMsgs, quietMsgs := srv.Messages("@busy"), srv.Messages("@quiet")
	if len(busyMsgs) == 30 && len(quietMsgs) == 5 && quietMsgs[4].At.After(busyMsgs[15].At) {
		t.Errorf("@quiet finished after half of @busy's backlog: one chat held up another")
	}
}

func TestSenderRealPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("uses Telegram's real 1 message/s pace")
	}
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 950 * time.Millisecond})
	cfg := testConfig(config.Channel{Chat: "555000"}) // a private chat: 1 message/s
	st := newFakeStore(t)
	fill(t, st, cfg, makeItems(t, 3))
	s := NewSender(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test")
	n, err := s.RunOnce(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("RunOnce = %d, %v; want 3", n, err)
	}
	msgs := srv.Messages("555000")
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	if span := msgs[2].At.Sub(msgs[0].At); span < 1900*time.Millisecond {
		t.Errorf("3 messages within %v; at 1/s they need 2 s", span)
	}
}

// TestPacingLimits checks the default limiters in a synctest bubble: one
// message a second to a private chat, and no more than 20 a minute to a group.
func TestPacingLimits(t *testing.T) {
	tests := []struct {
		chat    string
		minGap  time.Duration
		perMin  int
		samples int
	}{
		{"555000", time.Second, 60, 70},
		{"@channel", time.Second, 20, 70},
		{"-1001234", time.Second, 20, 45},
	}
	for _, tt := range tests {
		t.Run(tt.chat, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := NewSender(testConfig(config.Channel{Chat: tt.chat}), newFakeStore(t), nil, discardLogger(), nil, "test")
				l := s.lanes[tt.chat]
				var at []time.Time
				for range tt.samples {
					if err := s.pace(t.Context(), l); err != nil {
						t.Fatal(err)
					}
					at = append(at, time.Now())
				}
				for i := 1; i < len(at); i++ {
					if gap := at[i].Sub(at[i-1]); gap < tt.minGap {
						t.Fatalf("messages %d and %d %v apart, want >= %v", i-1, i, gap, tt.minGap)
					}
				}
				for i := range at {
					n := 0
					for j := i; j < len(at) && at[j].Sub(at[i]) < time.Minute; j++ {
						n++
					}
					if n > tt.perMin {
						t.Fatalf("%d messages in the minute from message %d, want <= %d", n, i, tt.perMin)
					}
				}
			})
		})
	}
}

func TestSenderUnknownChannelFails(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	cfg := testConfig(config.Channel{Chat: "@chan_one"})
	st := newFakeStore(t)
	st.addReady(makeItems(t, 1)[0], []string{"@removed_channel"})
	s := NewSenderWithOptions(cfg, st, newTestBot(t, srv), discardLogger(), nil, "test", fastOptions())
	if _, err := s.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := st.snapshot()[0]; d.State != model.DeliveryFailed || !strings.Contains(d.Error, "no longer in the configuration") {
		t.Errorf("delivery = %+v, want failed: channel no longer configured", d)
	}
}
