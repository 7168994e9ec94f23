package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

var adminChannels = []bot.Channel{
	{Key: "@chan_one", Address: "@chan_one"},
	{Key: "@forum#3", Address: "@forum", Thread: 3},
}

var adminSources = []string{"zhaoqing-news", "gd-wechat"}

// countDeliveries adds up the store's backlog of one state.
func countDeliveries(t *testing.T, st AdminStore, state model.DeliveryState) int {
	t.Helper()
	bl, err := st.DeliveryBacklogs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range bl {
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

func TestAdminCommands(t *testing.T) {
	const stranger = 424242
	srv := telegramtest.New(t, telegramtest.Options{})
	st := openStore(t)
	ctx := t.Context()
	now := time.Now()
	polls := []model.PollResult{{SourceID: "zhaoqing-news", Status: model.PollOK, At: now, ItemCount: 12}}
	for range 5 { // five failed polls in a row
		polls = append(polls, model.PollResult{SourceID: "gd-wechat", Status: model.PollError, Error: "HTTP 412 环境异常", At: now.Add(-time.Hour)})
	}
	for _, r := range polls {
		if _, err := st.RecordPoll(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	addReady(t, st, []model.Item{
		{SourceID: "zhaoqing-news", Title: "一", TitleEN: "One", BackfillRank: -1},
		{SourceID: "gd-wechat", Title: "二", TitleEN: "Two", BackfillRank: -1},
	}, "@chan_one", "@forum#3")
	claimed, err := st.ClaimDeliveries(ctx, "test", time.Now(), 10, time.Minute)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claimed %d deliveries, %v; want 4", len(claimed), err)
	}
	for _, d := range claimed {
		if err := st.MarkDeliveryFailed(ctx, d.ID, "Forbidden: bot was kicked"); err != nil {
			t.Fatal(err)
		}
	}
	// Two more posts, routed nowhere, for /search (addReady keys posts by
	// their index: k0 is new to gd-wechat, k1 to zhaoqing-news).
	addReady(t, st, []model.Item{
		{SourceID: "gd-wechat", Title: "Harbour report for May", Language: "en", BackfillRank: -1},
		{SourceID: "zhaoqing-news", Title: "我市召开大湾区建设推进会", Language: "zh", BackfillRank: -1},
	})
	var (
		mu     sync.Mutex
		polled []string
	)
	poll := func(_ context.Context, id string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		polled = append(polled, id)
		return "3 new items", nil
	}
	api := newTestClient(t, srv)
	if err := api.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	search := func(ctx context.Context, words string, limit int) ([]model.Item, error) {
		q, err := fulltext.Parse(words)
		if err != nil {
			return nil, err
		}
		res, err := st.Search(ctx, store.SearchQuery{Query: q, Limit: limit})
		var items []model.Item
		for _, h := range res.Hits {
			items = append(items, h.Item)
		}
		return items, err
	}
	a, err := NewAdmin(AdminOptions{Client: api, Store: st, Channels: adminChannels, Sources: adminSources, Poll: poll, Logger: discardLogger(),
		Search: search, BaseURL: "https://zq.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()

	admin := fmt.Sprint(adminID)
	replies := 0
	// ask sends text as the admin and returns the answer.
	ask := func(t *testing.T, text string) string {
		t.Helper()
		srv.PushMessage(adminID, text)
		replies++
		waitFor(t, 10*time.Second, "an answer to "+text, func() bool { return len(srv.Messages(admin)) >= replies })
		return srv.Messages(admin)[replies-1].Text
	}

	t.Run("non-admin gets nothing", func(t *testing.T) {
		srv.PushMessage(stranger, "/status")
		srv.PushMessage(stranger, "/pause @chan_one")
		ask(t, "/help") // handled after the stranger's updates (one at a time, in order)
		if got := srv.Messages(fmt.Sprint(stranger)); len(got) != 0 {
			t.Errorf("non-admin got %d answers: %v", len(got), got)
		}
		if cs, _ := st.GetChannelState(t.Context(), "@chan_one"); cs.Paused {
			t.Errorf("a non-admin paused the channel")
		}
	})
	tests := []struct {
		name, text string
		want       []string
		check      func(t *testing.T)
	}{
		{name: "status", text: "/status", want: []string{"@chan_one — active", "@forum#3", "failed 2", "Sources: 2, failing: 1"}},
		{name: "search", text: "/search harbour", want: []string{`Top 1 for "harbour"`, "1. Harbour report for May (", "https://zq.example.org/posts/"}},
		{name: "search in Chinese", text: "/search 湾区", want: []string{"1. 我市召开大湾区建设推进会 (", "https://zq.example.org/posts/"}},
		{name: "search without words", text: "/search", want: []string{"Send /search followed by words"}},
		{name: "search finds nothing", text: "/search typhoon", want: []string{`Nothing found for "typhoon".`}},
		{name: "status with bot mention", text: "/status@" + srv.BotUsername(), want: []string{"@chan_one"}},
		{name: "sources", text: "/sources", want: []string{"zhaoqing-news", "gd-wechat", "FAILING", "HTTP 412 环境异常"}},
		{name: "poll", text: "/poll zhaoqing-news", want: []string{"zhaoqing-news: 3 new items"}, check: func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			if len(polled) != 1 || polled[0] != "zhaoqing-news" {
				t.Errorf("polled %v", polled)
			}
		}},
		{name: "poll unknown source", text: "/poll nope", want: []string{"Unknown source"}},
		{name: "pause", text: "/pause @chan_one", want: []string{"@chan_one paused"}, check: func(t *testing.T) {
			if cs, _ := st.GetChannelState(t.Context(), "@chan_one"); !cs.Paused {
				t.Errorf("channel not paused: %+v", cs)
			}
		}},
		{name: "status shows the pause", text: "/status", want: []string{"@chan_one — PAUSED (paused by an admin)"}},
		{name: "resume", text: "/resume @CHAN_ONE", want: []string{"@chan_one resumed"}, check: func(t *testing.T) {
			if cs, _ := st.GetChannelState(t.Context(), "@chan_one"); cs.Paused || !cs.AlertedAt.IsZero() {
				t.Errorf("channel still paused: %+v", cs)
			}
		}},
		{name: "pause unknown channel", text: "/pause @nope", want: []string{"Usage: /pause <channel>", "@chan_one, @forum#3"}},
		{name: "retry one channel", text: "/retry @forum#3", want: []string{"Re-queued 2 failed deliveries."}},
		{name: "retry all", text: "/retry", want: []string{"Re-queued 2 failed deliveries."}, check: func(t *testing.T) {
			if n := countDeliveries(t, st, model.DeliveryFailed); n != 0 {
				t.Errorf("%d deliveries still failed", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ask(t, tt.text)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: answer lacks %q:\n%s", tt.text, w, got)
				}
			}
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	t.Run("command for another bot is ignored", func(t *testing.T) {
		srv.PushMessage(adminID, "/status@some_other_bot")
		ask(t, "/help")
		if got := srv.Messages(admin)[replies-1].Text; !strings.Contains(got, "admin commands") {
			t.Errorf("the last answer is not /help's: %q", got)
		}
	})
	if cmds := srv.Commands(); len(cmds) != 7 {
		t.Errorf("setMyCommands registered %d commands, want 7 (/search included)", len(cmds))
	}
	if off, _ := st.GetMeta(t.Context(), metaUpdateOffset); off == "" {
		t.Errorf("update offset not stored")
	}
}

// TestAdminOneLeader runs two instances on one store: only the lease holder
// polls (two pollers would both answer each command: the fake hands every
// update to every poller), and when it stops the other takes over and
// carries on from the stored offset, answering each command once.
func TestAdminOneLeader(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	st := &leaderWatch{Store: openStore(t)}
	api := newTestClient(t, srv)
	start := func(owner string) (stop func()) {
		a, err := NewAdmin(AdminOptions{Client: api, Store: st, Channels: adminChannels[:1], Logger: discardLogger(),
			Owner: owner, Lease: 600 * time.Millisecond, ConflictBackoff: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := a.Run(ctx); err != nil {
				t.Errorf("Run %s: %v", owner, err)
			}
		})
		return func() { cancel(); wg.Wait() }
	}
	leader := st.leader
	admin := fmt.Sprint(adminID)
	asked := 0
	ask := func(text string) {
		t.Helper()
		srv.PushMessage(adminID, text)
		asked++
		waitFor(t, 10*time.Second, "an answer to "+text, func() bool { return len(srv.Messages(admin)) >= asked })
	}

	stops := map[string]func(){"A": start("A"), "B": start("B")}
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	waitFor(t, 5*time.Second, "a leader", func() bool { return leader() != "" })
	first := leader()
	for _, cmd := range []string{"/help", "/status", "/help"} {
		ask(cmd)
	}
	// Leases are renewed: several lease periods later the same instance leads.
	time.Sleep(1200 * time.Millisecond)
	if got := leader(); got != first {
		t.Errorf("leader changed from %s to %q while both ran", first, got)
	}
	// Stop the leader: the other takes over and answers what comes next.
	stops[first]()
	waitFor(t, 5*time.Second, "a new leader", func() bool { l := leader(); return l != "" && l != first })
	ask("/help")
	ask("/status")
	for _, stop := range stops { // a stopped Admin has stored the offset of what it answered
		stop()
	}

	// A command answered twice means two pollers handled it.
	if got := len(srv.Messages(admin)); got != asked {
		t.Errorf("%d answers to %d commands", got, asked)
	}
	if off, _ := st.GetMeta(t.Context(), metaUpdateOffset); off != fmt.Sprint(asked) {
		t.Errorf("stored offset %q, want %d", off, asked)
	}
}

// TestAdminBacksOffOn409: a 409 Conflict (another process polls the token
// outside our database) stops polling for ConflictBackoff instead of the
// client's quick retries.
func TestAdminBacksOffOn409(t *testing.T) {
	var (
		mu      sync.Mutex
		polls   int
		badPath []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		if !strings.HasPrefix(r.URL.Path, "/bot123456:test-token/") || r.Method != http.MethodPost {
			mu.Lock()
			badPath = append(badPath, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		switch strings.ToLower(method) {
		case "getupdates":
			mu.Lock()
			polls++
			mu.Unlock()
			w.WriteHeader(http.StatusConflict)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}`)
		case "setmycommands":
			_, _ = io.WriteString(w, `{"ok":true,"result":true}`)
		default:
			t.Errorf("unexpected method %s", method)
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		}
	}))
	defer srv.Close()
	api, err := NewClient(ClientOptions{Token: "123456:test-token", APIURL: srv.URL, Admins: []int64{adminID},
		PollTimeout: 2 * time.Second, HTTPClient: srv.Client(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAdmin(AdminOptions{Client: api, Store: openStore(t), Logger: discardLogger(),
		Owner: "A", Lease: time.Minute, ConflictBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, 5*time.Second, "the first poll", func() bool { mu.Lock(); defer mu.Unlock(); return polls > 0 })
	// The client alone would retry after 100, 200, 400 ms…
	time.Sleep(800 * time.Millisecond)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if polls != 1 {
		t.Errorf("getUpdates called %d times after a 409; want 1 (back off for an hour)", polls)
	}
	if len(badPath) > 0 {
		t.Errorf("malformed requests: %v", badPath)
	}
}
