package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
)

// TestSendersShareOneDatabase runs two Senders (two instances) on one real
// store, claiming one delivery at a time so both hold deliveries for the
// same chats at once. The fake fails the test on messages to one chat
// closer than the pace (the in-process limiters alone cannot stop that:
// only the store's shared send slot does) and checkOnce on duplicates.
func TestSendersShareOneDatabase(t *testing.T) {
	const gap = 500 * time.Millisecond
	for name, open := range realStores() {
		t.Run(name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.Options{MinInterval: gap - 100*time.Millisecond})
			chats := []string{"@chan_one", "@chan_two", "-1001234567"}
			var chans []bot.Channel
			for _, c := range chats {
				chans = append(chans, channel(c, 0, 0))
			}
			st := open(t) // one decorator over the one store: it sees both instances' records
			items := makeItems(t, 5)
			want := fill(t, st, everySource(chans...), items)
			opts := bot.Options{Rates: func(string) []rate.Limit { return []rate.Limit{rate.Every(gap)} }, GlobalRate: rate.Inf,
				Batch: 1, PollEvery: 10 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
			var stops []func()
			for _, owner := range []string{"instance-1", "instance-2"} {
				stops = append(stops, runSender(t, newSender(t, srv, st, owner, opts, chans...)))
			}
			waitSent(t, st, want, 30*time.Second)
			for _, stop := range stops {
				stop()
			}
			for _, c := range chats {
				checkOnce(t, srv, c, len(items))
			}
			if n := st.count(t, "", model.DeliverySent); n != want {
				t.Errorf("the store has %d deliveries sent, want %d", n, want)
			}
			if want != len(chats)*len(items) {
				t.Errorf("%d deliveries, want %d", want, len(chats)*len(items))
			}
		})
	}
}

// slowSlots is the real store answering its first ReserveSend late, as a
// busy database does.
type slowSlots struct {
	*checkedStore
	delay time.Duration
	once  sync.Once
}

func (s *slowSlots) ReserveSend(ctx context.Context, key string, now time.Time, minGap time.Duration) (bool, time.Duration, error) {
	ok, wait, err := s.checkedStore.ReserveSend(ctx, key, now, minGap)
	s.once.Do(func() { time.Sleep(s.delay) })
	return ok, wait, err
}

// TestSlowReservationLapses: a send slot the store granted late is mostly
// used up — another instance may send when it ends — so the Sender lets it
// lapse and takes the next one instead of sending at once.
func TestSlowReservationLapses(t *testing.T) {
	const gap = 400 * time.Millisecond
	srv := telegramtest.New(t, telegramtest.Options{})
	chans := []bot.Channel{channel("@chan_one", 0, 0)}
	st := &slowSlots{checkedStore: openStore(t), delay: 150 * time.Millisecond}
	fill(t, st.checkedStore, everySource(chans...), makeItems(t, 1)[:1])
	opts := fastOptions()
	opts.Rates = func(string) []rate.Limit { return []rate.Limit{rate.Every(gap)} }
	start := time.Now()
	if n, err := newSender(t, srv, st, "test", opts, chans...).RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1", n, err)
	}
	msgs := srv.Messages("@chan_one")
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	if at := msgs[0].At.Sub(start); at < gap {
		t.Errorf("sent %v after the start, in the slot granted %v late; want it to lapse (send after %v)", at, st.delay, gap)
	}
}
