package summarize_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/openai"
	"github.com/transfeed/transfeed/translate/summarize"
	"github.com/transfeed/transfeed/translate/translatetest"
)

var now = time.Date(2026, 5, 25, 10, 0, 0, 0, time.UTC)

const (
	enBody = "<p>On May 25, Zhaoqing signed 12 projects in the Greater Bay Area. Total investment is 3.2 billion yuan.</p><p>City leaders attended the ceremony.</p>"
	zhBody = "<p>5月25日，肇庆在大湾区签约12个项目。总投资32亿元。</p><p>市领导出席仪式。</p>"
)

func translated(hash string) model.Item {
	return model.Item{
		Key: "k-" + hash, GUID: "g-" + hash, Link: "http://www.zhaoqing.gov.cn/a.html",
		Title: "肇庆签约12个项目", ContentHTML: zhBody, Language: "zh", ContentHash: hash,
		Published: now.Add(-2 * time.Hour), BackfillRank: -1,
	}
}

var translation = model.Translation{
	TitleEN: "Zhaoqing signs 12 projects", ContentHTMLEN: enBody, TranslatedBy: "openai/test-model",
}

type env struct {
	st  *store.Store
	srv *translatetest.Server
	svc *summarize.Service
	cfg summarize.Config
}

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newEnv(t *testing.T, st *store.Store, srv *translatetest.Server, cfg summarize.Config) *env {
	t.Helper()
	if srv == nil {
		srv = translatetest.NewOpenAIServer(t, translatetest.Options{Key: "k", Model: "test-model"})
	}
	tr, err := openai.New(openai.Config{BaseURL: srv.URL + "/v1", APIKey: "k", Model: "test-model"}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Glossary == nil {
		g, err := translate.NewGlossary(map[string]string{"大湾区": "Greater Bay Area"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Glossary = g
	}
	cfg.Now = func() time.Time { return now }
	svc, err := summarize.New(cfg, tr, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, srv: srv, svc: svc, cfg: cfg}
}

// stored upserts the item and marks it ready with tr (nil: untranslated).
func stored(t *testing.T, st *store.Store, it model.Item, tr *model.Translation) model.Item {
	t.Helper()
	ctx := t.Context()
	if err := st.SyncSources(ctx, map[string]string{"src": "http://www.zhaoqing.gov.cn/rss.xml"}); err != nil {
		t.Fatal(err)
	}
	res, err := st.UpsertItems(ctx, "src", []model.Item{it}, now)
	if err != nil {
		t.Fatal(err)
	}
	id := append(res.New, res.Updated...)[0]
	if tr != nil {
		if err := st.MarkReady(ctx, id, *tr, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.GetItem(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func usage(t *testing.T, st *store.Store, provider string) model.Usage {
	t.Helper()
	u, err := st.GetUsage(t.Context(), now.Format(time.DateOnly), provider)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestOncePerPost: the first request pays, every later one — the same
// service, or a new one on the reopened database (a restart) — sends 0
// characters; the cost is in the day's usage; a new content hash is a new
// summary.
func TestOncePerPost(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "t.db")
	st := open(t, dsn)
	e := newEnv(t, st, nil, summarize.Config{})
	it := stored(t, st, translated("h1"), &translation)

	first := e.svc.Summary(ctx, it)
	if first.Text == "" || first.Cached || first.CharsSent == 0 {
		t.Fatalf("first = %+v, want a fresh summary", first)
	}
	if want := "On May 25, Zhaoqing signed 12 projects in the Greater Bay Area. Total investment is 3.2 billion yuan."; first.Text != want {
		t.Errorf("summary %q, want %q", first.Text, want)
	}
	if u := usage(t, st, e.svc.Name()); u.Chars != first.CharsSent || u.Requests != 1 {
		t.Errorf("usage %+v, want %d chars in 1 request", u, first.CharsSent)
	}
	again := e.svc.Summary(ctx, it)
	if again.Text != first.Text || !again.Cached || again.CharsSent != 0 {
		t.Errorf("second = %+v, want the cached summary, 0 characters", again)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := open(t, dsn)
	e2 := newEnv(t, st2, e.srv, summarize.Config{})
	after := e2.svc.Summary(ctx, it)
	if after.Text != first.Text || after.CharsSent != 0 {
		t.Errorf("after restart = %+v, want the stored summary, 0 characters", after)
	}
	if n := e.srv.Requests(); n != 1 {
		t.Errorf("%d summarizer requests, want 1 for one unchanged post", n)
	}
	changed := it
	changed.ContentHash = "h2"
	if r := e2.svc.Summary(ctx, changed); r.Cached || r.CharsSent == 0 {
		t.Errorf("changed post = %+v, want a new summary", r)
	}
}

func TestChecks(t *testing.T) {
	reply := func(s string) *translatetest.Reply {
		return &translatetest.Reply{Body: translatetest.ChatCompletion(translatetest.SummaryContent(s), "stop")}
	}
	tests := []struct {
		name       string
		reply      *translatetest.Reply
		want       string // "" = lead
		wantReason string
		cached     bool // a second call sends nothing
	}{
		{name: "numbers of the post", reply: reply("Zhaoqing signed 12 projects worth 3.2 billion yuan on May 25."),
			want: "Zhaoqing signed 12 projects worth 3.2 billion yuan on May 25.", cached: true},
		{name: "invented number", reply: reply("Zhaoqing signed 15 projects worth 3.2 billion yuan."),
			wantReason: "numbers that are not in the post: 15", cached: true},
		{name: "invented amount", reply: reply("Zhaoqing signed 12 projects worth 4 billion yuan."),
			wantReason: "not in the post: 4", cached: true},
		{name: "glossary case enforced", reply: reply("Zhaoqing joins the greater bay area with 12 projects."),
			want: "Zhaoqing joins the Greater Bay Area with 12 projects.", cached: true},
		{name: "glossary term left in Chinese", reply: reply("Zhaoqing joins the 大湾区."),
			want: "Zhaoqing joins the Greater Bay Area.", cached: true},
		{name: "chinese left", reply: reply("Zhaoqing 签约 projects."), wantReason: "Chinese characters", cached: true},
		{name: "too long", reply: reply(strings.Repeat("Zhaoqing signed projects. ", 40)), wantReason: "longer than", cached: true},
		{name: "engine down", reply: &translatetest.Reply{Status: 503, Body: `{"error":{"message":"overloaded","type":"server_error"}}`},
			wantReason: "summarizer failed", cached: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t, ":memory:")
			srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: "k", Model: "test-model", Reply: tc.reply})
			e := newEnv(t, st, srv, summarize.Config{})
			it := stored(t, st, translated("h1"), &translation)
			r := e.svc.Summary(ctx, it)
			if r.Text != tc.want {
				t.Errorf("summary %q, want %q (reason %q)", r.Text, tc.want, r.Reason)
			}
			if tc.want == "" && !strings.Contains(r.Reason, tc.wantReason) {
				t.Errorf("reason %q, want it to say %q", r.Reason, tc.wantReason)
			}
			r2 := e.svc.Summary(ctx, it)
			if r2.Text != r.Text || r2.Cached != tc.cached || (tc.cached && r2.CharsSent != 0) {
				t.Errorf("second call = %+v, want same answer, cached %v", r2, tc.cached)
			}
			wantReq := 1
			if !tc.cached {
				wantReq = 2
			}
			if n := srv.Requests(); n != wantReq {
				t.Errorf("%d requests, want %d", n, wantReq)
			}
		})
	}
}

// TestBudget: a summary that would overshoot translation.daily_char_limit
// (the translation provider's spend included) is not asked for.
func TestBudget(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		spent       int64 // by the translation provider today
		limit       int64
		wantSummary bool
	}{
		{"room left", 100, 10000, true},
		{"translation used the budget", 9950, 10000, false},
		{"no limit", 1 << 40, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, ":memory:")
			if err := st.AddUsage(ctx, now.Format(time.DateOnly), "deepl", tc.spent, 1); err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, st, nil, summarize.Config{DailyCharLimit: tc.limit, SharedBudget: []string{"deepl"}})
			it := stored(t, st, translated("h1"), &translation)
			r := e.svc.Summary(ctx, it)
			if (r.Text != "") != tc.wantSummary {
				t.Fatalf("result %+v, want summary %v", r, tc.wantSummary)
			}
			if !tc.wantSummary {
				if e.srv.Requests() != 0 || !strings.Contains(r.Reason, "daily character limit") {
					t.Errorf("over budget: %d requests, reason %q", e.srv.Requests(), r.Reason)
				}
				if u := usage(t, st, e.svc.Name()); u.Chars != 0 {
					t.Errorf("usage %+v after no request", u)
				}
			}
		})
	}
}

// TestNotTranslated: only a complete English post is summarised.
func TestNotTranslated(t *testing.T) {
	ctx := context.Background()
	titleOnly := model.Translation{TitleEN: "Zhaoqing signs 12 projects", TranslatedBy: "deepl", TitleOnly: true}
	english := translated("h-en")
	english.Title, english.ContentHTML, english.Language = "Guangdong opens a port", "<p>The port opened on Monday.</p>", "en"
	for _, tc := range []struct {
		name string
		it   model.Item
		tr   *model.Translation
		want bool
	}{
		{"waiting for translation", translated("h1"), nil, false},
		{"title only", translated("h2"), &titleOnly, false},
		{"english source", english, &model.Translation{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, ":memory:")
			e := newEnv(t, st, nil, summarize.Config{})
			r := e.svc.Summary(ctx, stored(t, st, tc.it, tc.tr))
			if (r.Text != "") != tc.want {
				t.Errorf("result %+v, want summary %v", r, tc.want)
			}
			if !tc.want && e.srv.Requests() != 0 {
				t.Errorf("%d requests for a post that is not summarised", e.srv.Requests())
			}
		})
	}
}

func TestNew(t *testing.T) {
	if _, err := summarize.New(summarize.Config{}, nil, nil, nil); err == nil {
		t.Error("New without a summarizer succeeded")
	}
	tr, err := openai.New(openai.Config{BaseURL: "http://127.0.0.1:1/v1", Model: "m"}, http.DefaultClient, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := summarize.New(summarize.Config{}, tr, nil, nil); err == nil {
		t.Error("New without a store succeeded")
	}
}
