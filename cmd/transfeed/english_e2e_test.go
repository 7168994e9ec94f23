package main

import (
	"bytes"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server"
	"github.com/transfeed/transfeed/store"
)

// TestEverySurfaceShowsTheSameEnglish stores one post in each case a ready
// post can be in and reads it back from every surface: the RSS feed, the
// post page of the reading site, the Telegram message and `items` (text and
// -json). Each must show the title model.EnglishOf gives, and say
// "translated" only when EnglishOf does.
func TestEverySurfaceShowsTheSameEnglish(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	yaml := `data_dir: ` + dir + `
server:
  base_url: https://zq.example.org
translation:
  provider: deepl
  deepl: { api_key: "k:fx" }
sources:
  - id: zq
    name: Zhaoqing Government
    url: http://127.0.0.1:9/rss.xml
feeds:
  - id: all
    title: Everything
    sources: [zq]
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, noEnv)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(ctx, store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	now := time.Date(2023, 5, 26, 2, 0, 0, 0, time.UTC)
	zh := func(key, title string, hour int) model.Item {
		return model.Item{
			SourceID: "zq", Key: key, GUID: "http://www.zhaoqing.gov.cn/" + key, Link: "http://www.zhaoqing.gov.cn/" + key,
			Title: title, ContentHTML: "<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动。</p>", Language: "zh",
			Published: now.Add(-time.Duration(hour) * time.Hour), ContentHash: "h-" + key, BackfillRank: -1,
		}
	}
	cases := []struct {
		name string
		item model.Item
		tr   model.Translation
	}{
		{"translated", zh("a", "许晓雄率队赴深圳开展招商考察活动", 1), model.Translation{
			TitleEN: "Xu Xiaoxiong led a team to Shenzhen", ContentHTMLEN: "<p>On May 25, Xu Xiaoxiong led a team to Shenzhen.</p>", TranslatedBy: "deepl"}},
		{"title only", zh("b", "我市召开粤港澳大湾区建设工作推进会", 2), model.Translation{
			TitleEN: "Zhaoqing holds a Greater Bay Area meeting", TranslatedBy: "deepl", TitleOnly: true}},
		{"failed, published untranslated", zh("c", "肇庆市2023年第一季度经济运行情况", 3), model.Translation{Untranslated: true}},
		{"english source", model.Item{SourceID: "zq", Key: "d", Link: "http://www.zhaoqing.gov.cn/d", Title: "Guangdong unveils <20> measures & more",
			ContentHTML: "<p>The provincial government issued 20 measures.</p>", Language: "en", Published: now.Add(-4 * time.Hour), ContentHash: "h-d", BackfillRank: -1},
			model.Translation{}},
	}
	for _, tc := range cases {
		up, err := st.UpsertItems(ctx, "zq", []model.Item{tc.item}, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(up.New) == 1 {
			if err := st.MarkReady(ctx, up.New[0], tc.tr, nil, now); err != nil {
				t.Fatalf("%s: mark ready: %v", tc.name, err)
			}
		}
	}
	items, err := st.ListItems(ctx, store.ItemQuery{States: []model.State{model.StateReady}, Limit: 10})
	if err != nil || len(items) != len(cases) {
		t.Fatalf("%d ready items (%v), want %d", len(items), err, len(cases))
	}

	srv, err := server.New(cfg, st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	feed, err := gofeed.NewParser().Parse(strings.NewReader(get("/feeds/all.rss")))
	if err != nil {
		t.Fatalf("feed: %v", err)
	}
	feedTitle := map[string]string{}
	for _, fi := range feed.Items {
		feedTitle[fi.Link] = fi.Title
	}
	var text bytes.Buffer
	writeText(&text, items)
	h1 := regexp.MustCompile(`(?s)<h1>(.*?)</h1>`)
	bold := regexp.MustCompile(`(?s)^<b>(.*?)</b>`)

	for _, it := range items {
		en := model.EnglishOf(it)
		t.Run(en.Title, func(t *testing.T) {
			id := strconv.FormatInt(it.ID, 10)
			got := map[string]string{}
			got["feed"] = feedTitle["https://zq.example.org/posts/"+id]
			page := get("/posts/" + id)
			if m := h1.FindStringSubmatch(page); m != nil {
				got["site"] = html.UnescapeString(strings.TrimSpace(m[1]))
			}
			msg := telegram.Format(it, telegram.Source{ID: "zq", Name: "Zhaoqing Government"}, bot.Channel{Key: "@zq_en", Address: "@zq_en"}, cfg.Server.BaseURL, false)
			if m := bold.FindStringSubmatch(msg.Text); m != nil {
				got["telegram"] = html.UnescapeString(m[1])
			}
			j := toJSON(it)
			got["items -json"] = j.English.Title
			for _, surface := range []string{"feed", "site", "telegram", "items -json"} {
				if title := got[surface]; title != en.Title {
					t.Errorf("%s shows %q, EnglishOf says %q", surface, title, en.Title)
				}
			}
			if !strings.Contains(text.String(), en.Title) {
				t.Errorf("items text output lacks %q:\n%s", en.Title, text.String())
			}
			if j.English.Translated != en.Translated {
				t.Errorf("items -json translated %v, EnglishOf %v", j.English.Translated, en.Translated)
			}
			if !strings.Contains(html.UnescapeString(page), en.Notice) {
				t.Errorf("post page lacks the notice %q", en.Notice)
			}
			readLabel := strings.Contains(msg.Text, ">Read in English<")
			if want := en.Translated || it.Language == "en"; readLabel != want {
				t.Errorf("Telegram says Read in English: %v, want %v (translated %v)", readLabel, want, en.Translated)
			}
		})
	}
}
