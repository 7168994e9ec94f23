package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/model"
)

// scripted is a Notifier that answers from a script, one answer per call,
// then accepts; it records every post it was given.
type scripted struct {
	mu     sync.Mutex
	script []error
	posts  []bot.Post
}

func (s *scripted) Notify(_ context.Context, p bot.Post) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, p)
	if len(s.script) > 0 {
		err := s.script[0]
		s.script = s.script[1:]
		if err != nil {
			return 0, err
		}
	}
	return int64(100 + len(s.posts)), nil
}

type alerts struct {
	mu    sync.Mutex
	texts []string
}

func (a *alerts) AlertAdmins(_ context.Context, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.texts = append(a.texts, text)
	return nil
}

// TestSenderOutcomes drives the outbox with a scripted notifier: what
// each kind of failure does, without any network.
func TestSenderOutcomes(t *testing.T) {
	type want struct {
		addresses []string // where each attempt went
		plain     []bool   // the Plain flag of each attempt
		state     model.DeliveryState
		channel   model.ChannelState // Channel field ignored
		alerts    int
	}
	tests := []struct {
		name   string
		script []error
		want   want
	}{
		{"accepted", nil, want{addresses: []string{"@c"}, plain: []bool{false}, state: model.DeliverySent}},
		{"moved, then sent to the new address",
			[]error{&bot.Error{Kind: bot.KindMoved, MovedTo: "-100200"}},
			want{addresses: []string{"@c", "-100200"}, plain: []bool{false, false}, state: model.DeliverySent,
				channel: model.ChannelState{ChatID: "-100200"}}},
		{"rich form refused, plain form sent",
			[]error{&bot.Error{Kind: bot.KindTryPlain, Reason: "photo"}},
			want{addresses: []string{"@c", "@c"}, plain: []bool{false, true}, state: model.DeliverySent}},
		{"plain form refused too: failed",
			[]error{&bot.Error{Kind: bot.KindTryPlain}, &bot.Error{Kind: bot.KindTryPlain, Reason: "still no"}},
			want{addresses: []string{"@c", "@c"}, plain: []bool{false, true}, state: model.DeliveryFailed}},
		{"permanent: failed, the channel goes on",
			[]error{&bot.Error{Kind: bot.KindPermanent, Reason: "too long"}},
			want{addresses: []string{"@c"}, plain: []bool{false}, state: model.DeliveryFailed}},
		{"gone: failed, paused, admins told once",
			[]error{&bot.Error{Kind: bot.KindGone, Reason: "kicked"}},
			want{addresses: []string{"@c"}, plain: []bool{false}, state: model.DeliveryFailed,
				channel: model.ChannelState{Paused: true, Reason: "kicked"}, alerts: 1}},
		{"unclassified error: transient, kept pending",
			[]error{errors.New("connection reset")},
			want{addresses: []string{"@c"}, plain: []bool{false}, state: model.DeliveryPending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			ch := channel("@c", 0, 0)
			fill(t, st, everySource(ch), makeItems(t, 1))
			n := &scripted{script: tt.script}
			al := &alerts{}
			opts := fastOptions()
			opts.Store, opts.Notifier, opts.Alerter, opts.Owner, opts.Channels = st, n, al, "test", []bot.Channel{ch}
			opts.BackoffMin, opts.BackoffMax = time.Hour, time.Hour // a transient failure waits for the next run
			s, err := bot.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
			var addrs []string
			var plain []bool
			for _, p := range n.posts {
				addrs, plain = append(addrs, p.Address), append(plain, p.Plain)
				if p.Channel != ch || p.Item.Title == "" {
					t.Errorf("post %+v: want the channel and the stored item", p)
				}
			}
			if diff := cmp.Diff(tt.want.addresses, addrs); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.plain, plain); diff != "" {
				t.Errorf("plain (-want +got):\n%s", diff)
			}
			if got := st.count(t, "@c", tt.want.state); got != 1 {
				t.Errorf("%d deliveries %s, want 1", got, tt.want.state)
			}
			cs, err := st.GetChannelState(t.Context(), "@c")
			if err != nil {
				t.Fatal(err)
			}
			got := model.ChannelState{ChatID: cs.ChatID, Paused: cs.Paused, Reason: cs.Reason}
			if diff := cmp.Diff(tt.want.channel, got); diff != "" {
				t.Errorf("channel state (-want +got):\n%s", diff)
			}
			if len(al.texts) != tt.want.alerts {
				t.Errorf("%d alerts, want %d: %q", len(al.texts), tt.want.alerts, al.texts)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	st := openStore(t)
	tests := map[string]bot.Options{
		"no store":             {Notifier: &scripted{}, Owner: "x"},
		"no notifier":          {Store: st, Owner: "x"},
		"no owner":             {Store: st, Notifier: &scripted{}},
		"channel with no addr": {Store: st, Notifier: &scripted{}, Owner: "x", Channels: []bot.Channel{{Key: "k"}}},
	}
	for name, opts := range tests {
		if _, err := bot.New(opts); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
