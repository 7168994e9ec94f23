package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
)

func TestSender300PostsThreeChannels(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{MinInterval: 5 * time.Millisecond})
	chans := []bot.Channel{channel("@chan_one", 0, 0), channel("-1001234567890", 0, 2000), channel("@forum_group", 7, 5000)}
	st := openStore(t)
	if n := fill(t, st, everySource(chans...), makeItems(t, 300)); n != 900 {
		t.Fatalf("routed %d deliveries, want 900", n)
	}
	srv.RateLimit("@chan_one", 1)      // the first request to @chan_one gets 429 retry_after 1
	srv.RateLimit("-1001234567890", 1) // and so does the first to the group
	opts := fastOptions()
	// 20 ms between messages to one chat; the server fails the test under 5 ms
	// (the slack absorbs scheduling delays on a loaded machine).
	opts.Rates = telegram.Pacing{Chat: 50, Group: 50}.Rates
	opts.Metrics = bot.NewMetrics(nil)
	s := newSender(t, srv, st, "test", opts, chans...)

	stop := runSender(t, s)
	waitSent(t, st, 900, 3*time.Minute) // a generous bound: the race detector and a busy machine slow SQLite a lot
	if n := st.count(t, "", model.DeliverySent); n != 900 {
		t.Errorf("the store has %d deliveries sent, want 900", n)
	}
	stop()

	for _, chat := range []string{"@chan_one", "-1001234567890", "@forum_group"} {
		checkOnce(t, srv, chat, 300)
	}
	for _, m := range srv.Messages("@forum_group") {
		if m.Thread != 7 {
			t.Fatalf("forum message sent to thread %d, want 7", m.Thread)
		}
	}
	ids := st.messageIDs()
	if len(ids) != 900 {
		t.Errorf("%d deliveries recorded as sent, want 900", len(ids))
	}
	for d, msg := range ids {
		if msg <= 0 {
			t.Errorf("delivery %d sent without a message id", d)
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
	chans := []bot.Channel{channel("@chan_one", 0, 0)}
	st := openStore(t)
	fill(t, st, everySource(chans...), makeItems(t, 40))
	opts := fastOptions()
	opts.Rates = telegram.Pacing{Chat: 40, Group: 60}.Rates // 25 ms apart

	first := newSender(t, srv, st, "first", opts, chans...)
	stop := runSender(t, first)
	waitFor(t, 30*time.Second, "10 deliveries sent", func() bool { return st.sentCount() >= 10 })
	stop()
	time.Sleep(25 * time.Millisecond) // a restart takes longer than one chat gap; the new sender starts with fresh limiters
	sentBefore := st.count(t, "", model.DeliverySent)
	if sentBefore == 40 {
		t.Fatalf("everything was sent before the restart; the test proves nothing")
	}
	// A clean stop hands every delivery it held back: all the pending ones
	// can be claimed at once.
	probe, err := st.ClaimDeliveries(t.Context(), "probe", time.Now(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(probe) != 40-sentBefore {
		t.Errorf("%d of %d pending deliveries claimable after a clean stop: the others are still leased", len(probe), 40-sentBefore)
	}
	for _, d := range probe {
		if err := st.ReleaseDelivery(t.Context(), d.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	second := newSender(t, srv, st, "second", opts, chans...)
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
	chans := []bot.Channel{channel("@chan_one", 0, 0), channel("@chan_two", 0, 0)}
	st := openStore(t)
	fill(t, st, everySource(chans...), makeItems(t, 20))
	srv.Down(700 * time.Millisecond)
	s := newSender(t, srv, st, "test", fastOptions(), chans...)

	stop := runSender(t, s)
	waitSent(t, st, 40, 30*time.Second)
	stop()

	checkOnce(t, srv, "@chan_one", 20)
	checkOnce(t, srv, "@chan_two", 20)
	if got := srv.ChatRequests("@chan_one"); got <= 20 {
		t.Errorf("%d requests to @chan_one: the 502 period was not hit", got)
	}
	if failed := st.count(t, "", model.DeliveryFailed); failed != 0 {
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
			chans := []bot.Channel{channel("@chan_one", 0, 0), channel("@chan_two", 0, 0)}
			st := openStore(t)
			items := makeItems(t, 6)
			for i := range items {
				items[i].ImageURL = "" // one request per delivery
			}
			fill(t, st, everySource(chans...), items)
			tt.setup(srv)
			s := newSender(t, srv, st, "test", fastOptions(), chans...)
			n, err := s.RunOnce(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if n != 6 {
				t.Errorf("sent %d, want the 6 of @chan_one", n)
			}
			checkOnce(t, srv, "@chan_one", 6)
			failed, pending := st.count(t, "@chan_two", model.DeliveryFailed), st.count(t, "@chan_two", model.DeliveryPending)
			if n := st.count(t, "@chan_one", model.DeliveryFailed); n != 0 {
				t.Errorf("%d deliveries of @chan_one failed", n)
			}
			for id, reason := range st.failures() {
				if reason == "" {
					t.Errorf("failed delivery %d without a reason", id)
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
	chans := []bot.Channel{channel("-100111", 0, 0)}
	st := openStore(t)
	fill(t, st, everySource(chans...), makeItems(t, 5))
	srv.Migrate("-100111", -1002222)
	s := newSender(t, srv, st, "test", fastOptions(), chans...)
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
			chans := []bot.Channel{channel("@chan_one", 0, 3000)}
			st := openStore(t)
			items := makeItems(t, 4)
			for i := range items {
				// The picture of the posts' bodies: one picture, so a photo.
				items[i].ImageURL = "https://www.zhaoqing.gov.cn/img/2023/05/25/a.jpg"
			}
			fill(t, st, everySource(chans...), items)
			srv.FailPhotos(tt.photoFail)
			s := newSender(t, srv, st, "test", fastOptions(), chans...)
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
	chans := []bot.Channel{channel("@chan_one", 0, 0)}
	st := openStore(t)
	fill(t, st, everySource(chans...), makeItems(t, 3))
	srv.RateLimit("@chan_one", 1)
	s := newSender(t, srv, st, "test", fastOptions(), chans...)
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
	chans := []bot.Channel{channel("@busy", 0, 0), channel("@quiet", 0, 0)}
	rules := []bot.Rule{{Channel: "@busy", Sources: []string{"zhaoqing-news"}}, {Channel: "@quiet", Sources: []string{"gd-wechat"}}}
	st := openStore(t)
	var busy, quiet []model.Item
	for _, it := range makeItems(t, 60) {
		if it.SourceID == "zhaoqing-news" {
			busy = append(busy, it)
		} else {
			quiet = append(quiet, it)
		}
	}
	fill(t, st, rules, busy)      // 30 older deliveries for @busy
	fill(t, st, rules, quiet[:5]) // then 5 for @quiet
	opts := fastOptions()
	opts.Rates = telegram.Pacing{Chat: 50, Group: 50}.Rates // 20 ms apart
	opts.Lease, opts.LeaseMargin = 400*time.Millisecond, 200*time.Millisecond
	opts.Batch = 50 // lane capacity: (400-200)/20 = 10 per lease
	s := newSender(t, srv, st, "test", opts, chans...)
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
	chans := []bot.Channel{channel("555000", 0, 0)} // a private chat: 1 message/s
	st := openStore(t)
	fill(t, st, everySource(chans...), makeItems(t, 3))
	pace := telegram.Pacing{}
	s := newSender(t, srv, st, "test", bot.Options{Rates: pace.Rates, GlobalRate: pace.GlobalRate()}, chans...)
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
				pace := telegram.Pacing{}
				s, err := bot.New(bot.Options{Store: openStore(t), Notifier: nopNotifier{}, Owner: "test",
					Channels: []bot.Channel{channel(tt.chat, 0, 0)}, Rates: pace.Rates, GlobalRate: pace.GlobalRate()})
				if err != nil {
					t.Fatal(err)
				}
				var at []time.Time
				for range tt.samples {
					if err := bot.Pace(t.Context(), s, tt.chat); err != nil {
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
	st := openStore(t)
	fillTo(t, st, makeItems(t, 1), func(model.Item) []string { return []string{"@removed_channel"} })
	s := newSender(t, srv, st, "test", fastOptions(), channel("@chan_one", 0, 0))
	if _, err := s.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := st.count(t, "@removed_channel", model.DeliveryFailed); n != 1 {
		t.Errorf("%d deliveries for the removed channel failed, want 1", n)
	}
	for _, reason := range st.failures() {
		if !strings.Contains(reason, "no longer in the configuration") {
			t.Errorf("failure reason %q, want: channel no longer configured", reason)
		}
	}
}

// nopNotifier is never called: the pacing test calls the limiters only.
type nopNotifier struct{}

func (nopNotifier) Notify(context.Context, bot.Post) (int64, error) {
	return 0, errors.New("nopNotifier: not for sending")
}
