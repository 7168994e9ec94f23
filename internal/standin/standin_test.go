package standin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	tg "github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/openai"
	"github.com/transfeed/transfeed/translate/translatetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestServer(t *testing.T, o Options) (*Server, *httptest.Server, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	s, err := New(o, nil, c.now)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, c
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func parseFeed(t *testing.T, body []byte) *gofeed.Feed {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gofeed: %v", err)
	}
	return f
}

func TestFeedConditionalGET(t *testing.T) {
	_, ts, c := newTestServer(t, Options{Sources: 3, NewEvery: time.Minute})
	resp, _ := get(t, ts.URL+"/src/1.xml", nil)
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.StatusCode != 200 || etag == "" || lm == "" {
		t.Fatalf("first GET: %d etag=%q last-modified=%q", resp.StatusCode, etag, lm)
	}
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"etag", map[string]string{"If-None-Match": etag}, 304},
		{"weak etag in a list", map[string]string{"If-None-Match": `"x", W/` + etag}, 304},
		{"last-modified", map[string]string{"If-Modified-Since": lm}, 304},
		{"other etag wins over date", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": lm}, 200},
		{"old date", map[string]string{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200},
		{"unconditional", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := get(t, ts.URL+"/src/1.xml", tt.hdr)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	t.Run("new post invalidates", func(t *testing.T) {
		c.add(2 * time.Minute)
		resp, body := get(t, ts.URL+"/src/1.xml", map[string]string{"If-None-Match": etag})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d after a new post, want 200", resp.StatusCode)
		}
		if n := len(parseFeed(t, body).Items); n <= 5 {
			t.Errorf("%d items after 2 minutes, want more than the 5 initial ones", n)
		}
	})
}

func TestFeedContent(t *testing.T) {
	s, ts, c := newTestServer(t, Options{Sources: 10, NewEvery: time.Second, Seed: 3})
	c.add(time.Minute) // every source has 5 + ~60 posts; the feed shows 20
	tests := []struct {
		n   int
		gbk bool
	}{{0, false}, {3, false}, {4, true}, {9, true}}
	for _, tt := range tests {
		t.Run(GUID(tt.n, 0), func(t *testing.T) {
			resp, body := get(t, ts.URL+"/src/"+itoa(tt.n)+".xml", nil)
			prolog := `encoding="UTF-8"`
			if tt.gbk {
				prolog = `encoding="gb2312"`
				if bytes.Contains(body, []byte("肇庆")) {
					t.Error("GBK source contains UTF-8 Chinese")
				}
			}
			if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" `+prolog)) {
				t.Errorf("prolog: %q", body[:50])
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			f := parseFeed(t, body)
			if len(f.Items) != 20 {
				t.Fatalf("%d items, want 20", len(f.Items))
			}
			if !strings.Contains(f.Title, "信息源") {
				t.Errorf("title %q does not decode to Chinese", f.Title)
			}
			guids := map[string]bool{}
			for _, it := range f.Items {
				if !strings.HasPrefix(it.GUID, "src-"+itoa(tt.n)+"-post-") || guids[it.GUID] {
					t.Errorf("bad or repeated GUID %q", it.GUID)
				}
				guids[it.GUID] = true
				if n := len(it.Description); n < 1000 || n > 4500 {
					t.Errorf("%s: body of %d bytes", it.GUID, n)
				}
				if it.PublishedParsed == nil {
					t.Errorf("%s: pubDate %q does not parse", it.GUID, it.Published)
				}
			}
		})
	}
	t.Run("stats", func(t *testing.T) {
		st := s.Stats()
		if st.Sources.Polls != 4 || st.Sources.OK != 4 {
			t.Errorf("polls=%d ok=%d, want 4", st.Sources.Polls, st.Sources.OK)
		}
		if st.Sources.PostsServed != 80 {
			t.Errorf("posts served %d, want 80", st.Sources.PostsServed)
		}
		pub := s.PublishedPosts()
		if len(pub) != st.Sources.PostsPublished || len(pub) < 10*60 {
			t.Errorf("%d published posts, stats say %d", len(pub), st.Sources.PostsPublished)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFeedChangesAndStatic(t *testing.T) {
	tests := []struct {
		name        string
		o           Options
		wantChanged bool
	}{
		{"edit every request", Options{Sources: 1, NewEvery: time.Hour, ChangeRate: 1}, true},
		{"static ignores edits and time", Options{Sources: 1, NewEvery: time.Second, ChangeRate: 1, Static: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts, c := newTestServer(t, tt.o)
			r1, b1 := get(t, ts.URL+"/src/0.xml", nil)
			c.add(10 * time.Second)
			r2, b2 := get(t, ts.URL+"/src/0.xml", nil)
			f1, f2 := parseFeed(t, b1), parseFeed(t, b2)
			if changed := !bytes.Equal(b1, b2); changed != tt.wantChanged {
				t.Errorf("body changed = %v, want %v", changed, tt.wantChanged)
			}
			if (r1.Header.Get("ETag") != r2.Header.Get("ETag")) != tt.wantChanged {
				t.Errorf("etag %s → %s", r1.Header.Get("ETag"), r2.Header.Get("ETag"))
			}
			if len(f1.Items) != len(f2.Items) {
				t.Fatalf("items %d → %d", len(f1.Items), len(f2.Items))
			}
			for i := range f1.Items {
				if f1.Items[i].GUID != f2.Items[i].GUID {
					t.Errorf("GUID %s → %s", f1.Items[i].GUID, f2.Items[i].GUID)
				}
			}
			if got := s.Stats().Sources.Edits > 0; got != tt.wantChanged {
				t.Errorf("edits %d", s.Stats().Sources.Edits)
			}
		})
	}
}

func TestFaultRates(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		bad  func(st Stats) int64
	}{
		{"fail 30%", Options{Sources: 5, FailRate: 0.3, Seed: 42}, func(st Stats) int64 { return st.Sources.Failures }},
		{"stall 20%", Options{Sources: 5, TimeoutRate: 0.2, Seed: 42}, func(st Stats) int64 { return st.Sources.Stalls }},
	}
	const n = 2000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.o, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rate := tt.o.FailRate + tt.o.TimeoutRate
			ctx, cancel := context.WithCancel(t.Context())
			cancel() // a stalled request returns as soon as its client is gone
			var bad int
			for i := range n {
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/src/"+itoa(i%5)+".xml", nil)
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				if rec.Code != 200 || rec.Body.Len() == 0 { // a stall ends with nothing written
					bad++
					if tt.o.FailRate > 0 && rec.Code != 500 && rec.Code != 502 && rec.Code != 503 {
						t.Errorf("fault status %d", rec.Code)
					}
				}
			}
			got := float64(tt.bad(s.Stats())) / n
			if got < rate*0.8 || got > rate*1.2 {
				t.Errorf("fault fraction %.3f, want about %.2f", got, rate)
			}
			if int64(bad) != tt.bad(s.Stats()) {
				t.Errorf("%d non-200 answers, stats count %d", bad, tt.bad(s.Stats()))
			}
		})
	}
}

func TestTranslateWithOpenAIClient(t *testing.T) {
	texts := []string{"肇庆市召开重点项目建设工作会议", "<p>全市新能源汽车产业完成投资12.5亿元。</p>"}
	tests := []struct {
		name      string
		errorRate float64
		wantKind  translate.ErrorKind
		wantErr   bool
	}{
		{"ok", 0, 0, false},
		{"always failing", 1, translate.KindRetryable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts, _ := newTestServer(t, Options{TrErrorRate: tt.errorRate})
			tr, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", APIKey: "k", Model: "standin"}, &http.Client{Timeout: 10 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.Translate(t.Context(), translate.Request{Source: "zh", Target: "en", Format: translate.FormatHTML, Texts: texts})
			st := s.Stats().Translate
			if st.Requests != 1 || st.Chars != int64(len([]rune(texts[0]))+len([]rune(texts[1]))) || st.Malformed != 0 {
				t.Errorf("stats %+v", st)
			}
			if tt.wantErr {
				var te *translate.Error
				if !errors.As(err, &te) || te.Kind != tt.wantKind {
					t.Fatalf("error %v, want kind %v", err, tt.wantKind)
				}
				if te.StatusCode == 429 && te.RetryAfter != time.Second {
					t.Errorf("429 retry after %v, want 1s", te.RetryAfter)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := translatetest.TranslateAll(texts)
			if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	t.Run("malformed request", func(t *testing.T) {
		s, ts, _ := newTestServer(t, Options{})
		resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || s.Stats().Translate.Malformed != 1 {
			t.Errorf("status %d, malformed %d", resp.StatusCode, s.Stats().Translate.Malformed)
		}
	})
}

func newBot(t *testing.T, url string) *tg.Client {
	t.Helper()
	b, err := tg.NewClient(tg.ClientOptions{Token: "123:abc", APIURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTelegramWithRealBot(t *testing.T) {
	good := tg.Message{Text: "<b>Title</b>\n<a href=\"http://localhost:8080/posts/7\">Read in English</a>"}
	tests := []struct {
		name  string
		o     Options
		sends []tg.Message
		gaps  []time.Duration // clock advance before each send
		kinds []tg.ErrorKind  // -1 = accepted
		check func(t *testing.T, st TelegramStats)
	}{
		{
			name:  "accepted then duplicate",
			sends: []tg.Message{good, good},
			gaps:  []time.Duration{0, 2 * time.Second},
			kinds: []tg.ErrorKind{-1, -1},
			check: func(t *testing.T, st TelegramStats) {
				if st.Messages != 2 || st.Duplicates != 1 || st.PacingViolations != 0 {
					t.Errorf("messages %d duplicates %d pacing %d", st.Messages, st.Duplicates, st.PacingViolations)
				}
			},
		},
		{
			name:  "bad HTML rejected",
			sends: []tg.Message{{Text: "<p>not allowed</p>"}, {Text: "a & b <b>unclosed"}},
			gaps:  []time.Duration{0, 2 * time.Second},
			kinds: []tg.ErrorKind{tg.KindBadRequest, tg.KindBadRequest},
			check: func(t *testing.T, st TelegramStats) {
				if st.Messages != 0 || st.Rejected != 2 {
					t.Errorf("messages %d rejected %d", st.Messages, st.Rejected)
				}
			},
		},
		{
			name:  "pacing and retry_after violations",
			o:     Options{Tg429Rate: 1},
			sends: []tg.Message{good, good, good},
			gaps:  []time.Duration{0, 100 * time.Millisecond, 2 * time.Second},
			kinds: []tg.ErrorKind{tg.KindRateLimited, tg.KindRateLimited, tg.KindRateLimited},
			check: func(t *testing.T, st TelegramStats) {
				if st.RateLimited != 2 || st.RetryAfterViolations != 1 || st.PacingViolations != 0 {
					t.Errorf("rate limited %d, retry_after violations %d, pacing %d", st.RateLimited, st.RetryAfterViolations, st.PacingViolations)
				}
			},
		},
		{
			name:  "too fast",
			sends: []tg.Message{good, {Text: "second"}},
			gaps:  []time.Duration{0, 500 * time.Millisecond},
			kinds: []tg.ErrorKind{-1, -1},
			check: func(t *testing.T, st TelegramStats) {
				if st.PacingViolations != 1 || st.PerChat["-100123"].PacingViolations != 1 {
					t.Errorf("pacing %d", st.PacingViolations)
				}
			},
		},
		{
			name:  "down window",
			o:     Options{TgDownFrom: time.Minute, TgDownFor: time.Minute},
			sends: []tg.Message{good, {Text: "x"}, {Text: "y"}},
			gaps:  []time.Duration{0, 90 * time.Second, time.Minute},
			kinds: []tg.ErrorKind{-1, tg.KindTransient, -1},
			check: func(t *testing.T, st TelegramStats) {
				if st.DownResponses != 1 || st.Messages != 2 {
					t.Errorf("down %d messages %d", st.DownResponses, st.Messages)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts, c := newTestServer(t, tt.o)
			b := newBot(t, ts.URL)
			if err := b.Check(t.Context()); err != nil {
				t.Fatalf("getMe: %v", err)
			}
			for i, m := range tt.sends {
				c.add(tt.gaps[i])
				_, err := b.Send(t.Context(), "-100123", 0, m)
				if tt.kinds[i] == -1 {
					if err != nil {
						t.Errorf("send %d: %v", i, err)
					}
					continue
				}
				var ae *tg.APIError
				if !errors.As(err, &ae) || ae.Kind != tt.kinds[i] {
					t.Errorf("send %d: error %v, want kind %v", i, err, tt.kinds[i])
				}
			}
			tt.check(t, s.Stats().Telegram)
		})
	}
}

func TestTelegramLogAndGetUpdates(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s, ts, _ := newTestServer(t, Options{TgLog: func(l []byte) { mu.Lock(); lines = append(lines, string(l)); mu.Unlock() }})
	b := newBot(t, ts.URL)
	if _, err := b.Send(t.Context(), "@standin_chan", 0, tg.Message{Text: "<a href=\"http://x/posts/1\">Read in English</a>", Photo: "http://x/img/a.png"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(lines) != 1 || !strings.Contains(lines[0], `"url":"http://x/posts/1"`) || !strings.Contains(lines[0], `"method":"sendPhoto"`) {
		t.Errorf("log lines %q", lines)
	}
	mu.Unlock()
	resp, err := http.Post(ts.URL+"/bot123:abc/getUpdates", "application/x-www-form-urlencoded", strings.NewReader("timeout=0"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != `{"ok":true,"result":[]}` {
		t.Errorf("getUpdates: %s", body)
	}
	resp, err = http.Post(ts.URL+"/bot999:wrong/getMe", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if m := s.Messages(); len(m) != 1 || m[0].Chat != "@standin_chan" {
		t.Errorf("messages %+v", m)
	}
}

func TestGenerateConfigValidates(t *testing.T) {
	tests := []struct {
		name string
		o    ConfigOptions
	}{
		{"sqlite 3 channels", ConfigOptions{Sources: 50, Base: "http://127.0.0.1:4000", Schedule: "@every 1m", Channels: 3, DataDir: "data", ListenHTTP: "127.0.0.1:18080"}},
		{"postgres no channels", ConfigOptions{Sources: 2, Base: "http://127.0.0.1:4000/", StorageDSN: "postgres://u:p@localhost/db", Backfill: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := GenerateConfig(&b, tt.o); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatalf("config does not validate: %v\n%s", err, b.String())
			}
			if len(cfg.Sources) != tt.o.Sources || len(cfg.Telegram.Channels) != tt.o.Channels {
				t.Errorf("%d sources, %d channels", len(cfg.Sources), len(cfg.Telegram.Channels))
			}
			for i, ch := range cfg.Telegram.Channels {
				if got := len(cfg.ChannelSourceIDs(ch)); got == 0 || got > tt.o.Sources/tt.o.Channels+1 {
					t.Errorf("channel %d takes %d sources", i, got)
				}
			}
		})
	}
	if err := GenerateConfig(io.Discard, ConfigOptions{Sources: 1, Base: "not a url"}); err == nil {
		t.Error("bad base accepted")
	}
}

// TestPubLag: with -pub-lag a post's pubDate is that long before it
// appears; which posts a feed carries does not change.
func TestPubLag(t *testing.T) {
	tests := []struct {
		name string
		lag  time.Duration
	}{
		{"no lag", 0},
		{"57 minutes", 57 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts, c := newTestServer(t, Options{Sources: 1, InitialPost: 1, NewEvery: time.Minute, PubLag: tt.lag})
			start := c.now()
			c.add(2 * time.Minute)
			_, body := get(t, ts.URL+"/src/0.xml", nil)
			f := parseFeed(t, body)
			posts := s.PublishedPosts()
			if len(f.Items) != len(posts) || len(posts) < 3 {
				t.Fatalf("feed has %d items, /published %d; want the same, at least 3", len(f.Items), len(posts))
			}
			for _, p := range posts {
				// Post 0 is the initial one (an hour before start); post k ≥ 1
				// appears at start + offset + (k-1) minutes.
				var k int
				if _, err := fmt.Sscanf(p.GUID, "src-0-post-%d", &k); err != nil {
					t.Fatal(err)
				}
				appeared := start.Add(-time.Hour)
				if k > 0 {
					appeared = start.Add(s.farm.sources[0].offset + time.Duration(k-1)*time.Minute)
				}
				if want := appeared.Add(-tt.lag); !p.Published.Equal(want) {
					t.Errorf("%s: published %v, want %v", p.GUID, p.Published, want)
				}
				for _, it := range f.Items {
					if it.GUID == p.GUID && !it.PublishedParsed.Equal(p.Published.Truncate(time.Second)) {
						t.Errorf("%s: pubDate %v, want %v", p.GUID, it.PublishedParsed, p.Published.Truncate(time.Second))
					}
				}
			}
		})
	}
}
