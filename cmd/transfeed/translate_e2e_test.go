package main

// End-to-end tests of translation through the real command line: the
// sources are local httptest servers serving testdata/translate, the
// translation providers are the strict fakes of translate/translatetest
// (whose dictionary engine renders 大湾区 as "Dawan District", so the
// glossary is visibly enforced), sometimes behind a proxy that fails
// requests the way real providers do.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate/translatetest"
	"github.com/transfeed/transfeed/worker"
)

// The seven-paragraph WeChat post of testdata/translate/wechat7.xml.
const (
	sevenGUIDPart  = "sn=seven"
	sevenTitle     = "许晓雄率队赴深圳开展大湾区招商考察活动"
	sevenImage     = `src="https://mmbiz.qpic.cn/mmbiz_jpg/xyz789/640?wx_fmt=jpeg"`
	sevenLink      = `href="https://www.zhaoqing.gov.cn/xwzx/zqyw/"`
	openAIKeyVar   = "TF_E2E_OPENAI_KEY"
	openAIKey      = "sk-e2e-0123456789abcdef"
	openAIModel    = "gpt-4o-mini"
	deepLKey       = "k:fx"
	feedsPerSource = 3 // posts in wechat7.xml
)

// translateSite serves testdata/translate/<name> at /<name>, with an ETag so
// that a second poll is a conditional request.
func newTranslateSite(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" || strings.ContainsAny(name, "/\\") {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join("testdata", "translate", name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x-%d"`, len(b), bytes.Count(b, []byte("<item>")))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// faultyAPI is a proxy in front of a fake provider that answers the n-th
// request (from 1) with fail(n) when that is not nil, and forwards it
// otherwise. It counts every request it receives.
type faultyAPI struct {
	*httptest.Server
	mu   sync.Mutex
	n    int
	fail func(n int) *translatetest.Reply
}

func newFaultyAPI(t *testing.T, upstream string, fail func(n int) *translatetest.Reply) *faultyAPI {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &faultyAPI{fail: fail}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		n, fail := f.n, f.fail
		f.mu.Unlock()
		if rep := fail(n); rep != nil {
			io.Copy(io.Discard, r.Body)
			for k, v := range rep.Header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rep.Status)
			io.WriteString(w, rep.Body)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *faultyAPI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// providerSetup is one translation provider behind a fake.
type providerSetup struct {
	name         string // translation.provider
	translatedBy string // the items' translated_by
	fake         *translatetest.Server
}

func newProvider(t *testing.T, name string) providerSetup {
	t.Helper()
	switch name {
	case "openai":
		return providerSetup{name, "openai/" + openAIModel,
			translatetest.NewOpenAIServer(t, translatetest.Options{Key: openAIKey, Model: openAIModel})}
	case "deepl":
		return providerSetup{name, "deepl", translatetest.NewDeepLServer(t, translatetest.Options{Key: deepLKey})}
	}
	t.Fatalf("unknown provider %q", name)
	return providerSetup{}
}

// translationYAML is the translation section for provider at apiURL (the
// fake's root URL, or a proxy in front of it).
func translationYAML(provider, apiURL, extra string) string {
	var p string
	switch provider {
	case "openai":
		p = fmt.Sprintf("  openai:\n    base_url: %s/v1\n    api_key: \"${%s}\"\n    model: %s\n", apiURL, openAIKeyVar, openAIModel)
	case "deepl":
		p = fmt.Sprintf("  deepl:\n    base_url: %s\n    api_key: %q\n", apiURL, deepLKey)
	}
	return fmt.Sprintf("translation:\n  provider: %s\n%s  glossary:\n    大湾区: Greater Bay Area\n  timeout: 5s\n%s", provider, p, extra)
}

// sourceYAML is one source entry polling /file of the site.
func sourceYAML(id, siteURL, file string) string {
	return fmt.Sprintf("  - id: %s\n    name: %s\n    url: %s/%s\n", id, id, siteURL, file)
}

// writeTranslateConfig writes config.yaml into dir and returns its path.
func writeTranslateConfig(t *testing.T, dir, translation string, sources ...string) string {
	t.Helper()
	var ids []string
	for _, s := range sources {
		id := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(s, "\n", 2)[0], "  - id:"))
		ids = append(ids, id)
	}
	cfg := fmt.Sprintf(`data_dir: %s/data
server:
  listen: ""
  base_url: http://transfeed.test
fetch:
  timeout: 5s
defaults:
  schedule: "@every 15m"
%s
sources:
%s
feeds:
  - id: zhaoqing
    title: Zhaoqing in English
    sources: [%s]
`, dir, translation, strings.Join(sources, ""), strings.Join(ids, ", "))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testEnv is the environment the command sees: only the OpenAI key.
func testEnv(k string) (string, bool) {
	if k == openAIKeyVar {
		return openAIKey, true
	}
	return "", false
}

// runEnv runs the command line in-process with testEnv.
func runEnv(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb, testEnv)
	return code, out.String(), errb.String()
}

// mustRun runs a command that must exit 0 and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runEnv(t, args...)
	if code != 0 {
		t.Fatalf("%s exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	if strings.Contains(out+errOut, openAIKey) {
		t.Errorf("%s printed the API key", args[0])
	}
	return out
}

// itemsEnv is `items -json` run with testEnv (the config needs the key).
func itemsEnv(t *testing.T, cfgPath string) []itemJSON {
	t.Helper()
	out := mustRun(t, "items", "-config", cfgPath, "-json", "-limit", "1000")
	var items []itemJSON
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("items -json is not a JSON array: %v\n%s", err, out)
	}
	return items
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// findItem returns the stored item whose GUID contains part.
func findItem(t *testing.T, items []itemJSON, source, part string) itemJSON {
	t.Helper()
	for _, it := range items {
		if it.Source == source && strings.Contains(it.GUID, part) {
			return it
		}
	}
	t.Fatalf("no item of %s with a GUID containing %q among %d items", source, part, len(items))
	return itemJSON{}
}

// paragraphs returns the text of every <p> that has text, in order.
func paragraphs(t *testing.T, fragment string) []string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatalf("parse %q: %v", fragment, err)
	}
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "p" {
			var b strings.Builder
			var text func(n *html.Node)
			text = func(n *html.Node) {
				if n.Type == html.TextNode {
					b.WriteString(n.Data)
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					text(c)
				}
			}
			text(n)
			if s := strings.Join(strings.Fields(b.String()), " "); s != "" {
				out = append(out, s)
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return out
}

// expectedEnglish is what the fake engine makes of a Chinese text once the
// glossary put "Greater Bay Area" in place of 大湾区, spaces normalised.
func expectedEnglish(zh string) string {
	rs := []rune(zh)
	var b strings.Builder
	term := []rune("大湾区")
	for i := 0; i < len(rs); {
		if i+len(term) <= len(rs) && string(rs[i:i+len(term)]) == "大湾区" {
			if i > 0 && (unicode.IsLetter(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
				b.WriteByte(' ')
			}
			b.WriteString("Greater Bay Area")
			if j := i + len(term); j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				b.WriteByte(' ')
			}
			i += len(term)
			continue
		}
		b.WriteRune(rs[i])
		i++
	}
	return strings.Join(strings.Fields(translatetest.Translate(b.String())), " ")
}

// checkSevenParagraphPost checks the English of the seven-paragraph post.
func checkSevenParagraphPost(t *testing.T, it itemJSON, translatedBy string) {
	t.Helper()
	if it.State != string(model.StateReady) || it.TranslatedBy != translatedBy || it.Untranslated || it.TitleOnly || it.TranslateErr != "" {
		t.Errorf("state %q translated_by %q untranslated %v title_only %v error %q; want ready, %s, fully translated",
			it.State, it.TranslatedBy, it.Untranslated, it.TitleOnly, it.TranslateErr, translatedBy)
	}
	if it.Title != sevenTitle {
		t.Errorf("title %q, want %q", it.Title, sevenTitle)
	}
	for field, v := range map[string]string{"title_en": it.TitleEN, "summary_en": it.SummaryEN, "content_html_en": it.ContentHTMLEN} {
		if hasHan(v) {
			t.Errorf("%s has Chinese characters left: %s", field, v)
		}
		if strings.Contains(v, "Dawan") {
			t.Errorf("%s says Dawan District: the glossary was not enforced: %s", field, v)
		}
	}
	if want := expectedEnglish(it.Title); it.TitleEN != want {
		t.Errorf("title_en %q, want %q", it.TitleEN, want)
	}
	if it.Summary != "" && it.SummaryEN == "" {
		t.Errorf("summary %q has no English", it.Summary)
	}
	if n, want := strings.Count(it.SummaryEN, "Greater Bay Area"), strings.Count(it.Summary, "大湾区"); n != want {
		t.Errorf("summary_en has Greater Bay Area %d times, the summary has 大湾区 %d times: %q", n, want, it.SummaryEN)
	}
	if n, want := strings.Count(it.ContentHTMLEN, "Greater Bay Area"), strings.Count(it.ContentHTML, "大湾区"); n != want || want != 4 {
		t.Errorf("content_html_en has Greater Bay Area %d times, the source has 大湾区 %d times (want 4 each)", n, want)
	}
	for _, keep := range []string{sevenImage, sevenLink} {
		if !strings.Contains(it.ContentHTML, keep) {
			t.Errorf("stored original lacks %s:\n%s", keep, it.ContentHTML)
		}
		if !strings.Contains(it.ContentHTMLEN, keep) {
			t.Errorf("content_html_en lacks %s:\n%s", keep, it.ContentHTMLEN)
		}
	}
	zh, en := paragraphs(t, it.ContentHTML), paragraphs(t, it.ContentHTMLEN)
	if len(zh) != 7 || len(en) != 7 {
		t.Fatalf("%d source and %d English paragraphs, want 7 and 7\nsource: %q\nEnglish: %q", len(zh), len(en), zh, en)
	}
	for i := range zh {
		if want := expectedEnglish(zh[i]); en[i] != want {
			t.Errorf("English paragraph %d:\n got %q\nwant %q (from %q)", i+1, en[i], want, zh[i])
		}
	}
	for _, n := range []string{"2023", "25", "12", "85"} {
		if !regexp.MustCompile(`\b` + n + `\b`).MatchString(it.ContentHTMLEN) {
			t.Errorf("content_html_en lacks the number %s", n)
		}
	}
}

// openStoreAt opens the store of the config at path (no command runs).
func openStoreAt(t *testing.T, path string) (*config.Config, *store.Store) {
	t.Helper()
	cfg, err := config.Load(path, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), store.Config{Driver: cfg.Storage.Driver, DSN: cfg.Storage.DSN.Reveal()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfg, st
}

// visiblePosts returns title → URL of the posts a JSON feed route lists,
// served in-process by the real server over the store of the config at path.
func visiblePosts(t *testing.T, path, route string) map[string]string {
	t.Helper()
	cfg, st := openStoreAt(t, path)
	srv, err := server.New(cfg, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, route, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", route, rec.Code, rec.Body)
	}
	var feed struct {
		Items []struct {
			ID    string `json:"id"`
			URL   string `json:"url"`
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
		t.Fatalf("GET %s: not a JSON feed: %v", route, err)
	}
	out := map[string]string{}
	for _, it := range feed.Items {
		out[it.Title] = it.URL
	}
	st.Close()
	return out
}

// sentChars is the number of characters a fake received, request bodies
// summed.
func sentChars(bodies [][]byte) int {
	n := 0
	for _, b := range bodies {
		n += utf8.RuneCount(b)
	}
	return n
}

func TestTranslateWeChatPostEndToEnd(t *testing.T) {
	for _, name := range []string{"openai", "deepl"} {
		t.Run(name, func(t *testing.T) {
			site := newTranslateSite(t)
			p := newProvider(t, name)
			dir := t.TempDir()
			tr := translationYAML(name, p.fake.URL, "")
			cfg := writeTranslateConfig(t, dir, tr, sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))

			// preview -translate prints ZH/EN pairs and stores nothing.
			before := itemsEnv(t, cfg)
			out := mustRun(t, "preview", "-config", cfg, "-source", "tzzq-wechat", "-translate")
			if !strings.Contains(out, "ZH: "+sevenTitle) {
				t.Errorf("preview does not show the title as a ZH line:\n%s", out)
			}
			var zhLines, enLines int
			for l := range strings.SplitSeq(out, "\n") {
				l = strings.TrimSpace(l)
				switch {
				case strings.HasPrefix(l, "ZH: "):
					zhLines++
				case strings.HasPrefix(l, "EN"):
					enLines++
					if hasHan(l) || strings.Contains(l, "Dawan") {
						t.Errorf("preview EN line not fully translated or glossary not enforced: %s", l)
					}
				}
			}
			// Three titles, seven paragraphs of the long post, three of the others.
			if zhLines < 3+7+3 || zhLines != enLines {
				t.Errorf("preview printed %d ZH and %d EN lines, want paired lines for every title and paragraph (at least 13)\n%s", zhLines, enLines, out)
			}
			if !strings.Contains(out, "EN: "+expectedEnglish(sevenTitle)) {
				t.Errorf("preview lacks the English title %q:\n%s", expectedEnglish(sevenTitle), out)
			}
			previewRequests := p.fake.Requests()
			if previewRequests == 0 {
				t.Fatalf("preview -translate sent nothing to the provider")
			}
			if after := itemsEnv(t, cfg); len(after) != len(before) || len(after) != 0 {
				t.Fatalf("preview stored posts: %d before, %d after", len(before), len(after))
			}

			// once translates every post; the long one in full.
			out = mustRun(t, "once", "-config", cfg)
			if l := lineFor(out, "tzzq-wechat"); !strings.Contains(l, "new=3") {
				t.Errorf("once: %q, want new=3\n%s", l, out)
			}
			items := itemsEnv(t, cfg)
			if len(items) != feedsPerSource {
				t.Fatalf("%d items stored, want %d", len(items), feedsPerSource)
			}
			if p.fake.Requests() == previewRequests {
				t.Errorf("once sent nothing: the preview must not have filled the translation memory")
			}
			for _, it := range items {
				if it.State != string(model.StateReady) || it.TranslatedBy != p.translatedBy || hasHan(it.TitleEN+it.SummaryEN+it.ContentHTMLEN) {
					t.Errorf("%s: state %s by %q, title_en %q: want ready, by %s, no Chinese left", it.Title, it.State, it.TranslatedBy, it.TitleEN, p.translatedBy)
				}
			}
			seven := findItem(t, items, "tzzq-wechat", sevenGUIDPart)
			checkSevenParagraphPost(t, seven, p.translatedBy)

			visible := visiblePosts(t, cfg, "/feeds/zhaoqing.json")
			if _, ok := visible[seven.TitleEN]; !ok || len(visible) != feedsPerSource {
				t.Errorf("feed lists %v, want the %d English titles (with %q)", visible, feedsPerSource, seven.TitleEN)
			}

			// A second once and a second source carrying the same post:
			// nothing more goes to the provider.
			reqs, chars := p.fake.Requests(), sentChars(p.fake.Bodies())
			out = mustRun(t, "once", "-config", cfg)
			if l := lineFor(out, "tzzq-wechat"); !strings.Contains(l, model.PollNotModified.String()) {
				t.Errorf("second once: %q, want not modified", l)
			}
			cfg = writeTranslateConfig(t, dir, tr, sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"),
				sourceYAML("zq-mirror", site.URL, "mirror.xml"))
			out = mustRun(t, "once", "-config", cfg)
			if l := lineFor(out, "zq-mirror"); !strings.Contains(l, "new=1") {
				t.Errorf("once with the mirror: %q, want new=1\n%s", l, out)
			}
			if got, gotChars := p.fake.Requests(), sentChars(p.fake.Bodies()); got != reqs || gotChars != chars {
				t.Errorf("the repeated post cost %d more request(s) and %d more characters, want 0", got-reqs, gotChars-chars)
			}
			items = itemsEnv(t, cfg)
			mirror := findItem(t, items, "zq-mirror", "zqfb-2023-0525-01")
			if mirror.ID == seven.ID {
				t.Fatalf("the mirror's post is the same item as the original")
			}
			checkSevenParagraphPost(t, mirror, p.translatedBy)
			if mirror.TitleEN != seven.TitleEN || paragraphs(t, mirror.ContentHTMLEN)[6] != paragraphs(t, seven.ContentHTMLEN)[6] {
				t.Errorf("the mirror's translation differs from the original's")
			}
		})
	}
}

func TestTranslateRecoversFromTransientFailures(t *testing.T) {
	unavailable := translatetest.Reply{Status: http.StatusServiceUnavailable, Body: `{"message":"Service Unavailable"}`}
	tooMany := translatetest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"},
		Body: `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`}
	tests := []struct {
		provider string
		first    []translatetest.Reply // answers to the first requests
	}{
		{"openai", []translatetest.Reply{unavailable, tooMany}},
		{"deepl", []translatetest.Reply{tooMany, unavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.provider, func(t *testing.T) {
			site := newTranslateSite(t)
			p := newProvider(t, tc.provider)
			api := newFaultyAPI(t, p.fake.URL, func(n int) *translatetest.Reply {
				if n <= len(tc.first) {
					return &tc.first[n-1]
				}
				return nil
			})
			cfg := writeTranslateConfig(t, t.TempDir(), translationYAML(tc.provider, api.URL, ""),
				sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
			out := mustRun(t, "once", "-config", cfg)
			if !strings.Contains(out, "translation stage: 3 post(s) handled") {
				t.Errorf("once output:\n%s", out)
			}
			if got := api.requests() - p.fake.Requests(); got != len(tc.first) {
				t.Errorf("%d request(s) failed, want %d", got, len(tc.first))
			}
			items := itemsEnv(t, cfg)
			for _, it := range items {
				if it.State != string(model.StateReady) || it.Untranslated || it.TranslatedBy != p.translatedBy || it.TitleEN == "" || hasHan(it.TitleEN+it.ContentHTMLEN) {
					t.Errorf("%s: state %s untranslated %v by %q title_en %q; want ready and translated once the provider recovered",
						it.Title, it.State, it.Untranslated, it.TranslatedBy, it.TitleEN)
				}
			}
			checkSevenParagraphPost(t, findItem(t, items, "tzzq-wechat", sevenGUIDPart), p.translatedBy)
		})
	}

	// A longer outage: the first post fails every attempt of its call
	// and waits, invisible, with the reason on record, while the others
	// go on; once the provider is back, the next attempt translates it.
	t.Run("outage", func(t *testing.T) {
		site := newTranslateSite(t)
		p := newProvider(t, "deepl")
		api := newFaultyAPI(t, p.fake.URL, func(n int) *translatetest.Reply {
			if n <= 3 { // the engine makes three attempts per call
				return &unavailable
			}
			return nil
		})
		cfg := writeTranslateConfig(t, t.TempDir(), translationYAML("deepl", api.URL, ""),
			sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
		mustRun(t, "once", "-config", cfg)
		items := itemsEnv(t, cfg)
		var waiting []itemJSON
		for _, it := range items {
			switch it.State {
			case string(model.StateReady):
				if it.TitleEN == "" || it.Untranslated {
					t.Errorf("%s: ready but not translated", it.Title)
				}
			case string(model.StateTranslating):
				waiting = append(waiting, it)
				if !strings.Contains(it.TranslateErr, "503") {
					t.Errorf("%s: translate_error %q, want the provider's 503 on record", it.Title, it.TranslateErr)
				}
				if it.TitleEN != "" || it.ContentHTMLEN != "" || it.Untranslated {
					t.Errorf("%s: waiting post carries a translation (title_en %q, %d bytes of body) or is marked untranslated",
						it.Title, it.TitleEN, len(it.ContentHTMLEN))
				}
			default:
				t.Errorf("%s: state %s", it.Title, it.State)
			}
		}
		if len(waiting) != 1 {
			t.Fatalf("%d post(s) waiting, want 1 (the one whose call failed three times)", len(waiting))
		}
		visible := visiblePosts(t, cfg, "/feeds/zhaoqing.json")
		srcVisible := visiblePosts(t, cfg, "/sources/tzzq-wechat.json")
		if len(visible) != 2 || len(srcVisible) != 2 {
			t.Errorf("feeds list %d and %d posts, want the 2 translated ones: %v", len(visible), len(srcVisible), visible)
		}
		for title, link := range visible {
			if hasHan(title) || strings.HasSuffix(link, fmt.Sprintf("/posts/%d", waiting[0].ID)) {
				t.Errorf("feed lists the waiting post or an untranslated title: %q %s", title, link)
			}
		}

		// A second once at once does not retry early: the worker backs off.
		before := api.requests()
		mustRun(t, "once", "-config", cfg)
		if api.requests() != before {
			t.Errorf("an immediate second once retried the waiting post (backoff ignored)")
		}

		// The retry comes later: run the real worker and engine over the
		// same store with the clock past the backoff.
		appCfg, ok := loadConfig(cfg, io.Discard, testEnv)
		if !ok {
			t.Fatal("config does not load")
		}
		a, err := newApp(t.Context(), appCfg, io.Discard, false)
		if err != nil {
			t.Fatal(err)
		}
		later, err := worker.New(worker.Deps{Config: appCfg, Store: a.st, Fetcher: a.fetcher, Engine: a.engine,
			Provider: a.provider, Route: router(appCfg), Owner: "e2e-test",
			Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		n, err := later.TranslateDue(t.Context())
		a.st.Close()
		if err != nil || n != 1 {
			t.Fatalf("translation stage two hours later: %d post(s), %v; want 1", n, err)
		}
		it := findItem(t, itemsEnv(t, cfg), waiting[0].Source, waiting[0].GUID)
		if it.State != string(model.StateReady) || it.TitleEN == "" || hasHan(it.TitleEN+it.ContentHTMLEN) || it.TranslateErr != "" {
			t.Errorf("after recovery: state %s title_en %q error %q; want ready and translated", it.State, it.TitleEN, it.TranslateErr)
		}
		if v := visiblePosts(t, cfg, "/feeds/zhaoqing.json"); len(v) != 3 {
			t.Errorf("after recovery the feed lists %d posts, want 3", len(v))
		}
	})
}

func TestTranslateQuotaExhaustedMidRun(t *testing.T) {
	site := newTranslateSite(t)
	p := newProvider(t, "deepl")
	quota := translatetest.Reply{Status: 456, Body: `{"message":"Quota Exceeded"}`}
	api := newFaultyAPI(t, p.fake.URL, func(n int) *translatetest.Reply {
		if n >= 2 { // the first post goes through, then the quota is gone
			return &quota
		}
		return nil
	})
	cfg := writeTranslateConfig(t, t.TempDir(), translationYAML("deepl", api.URL, "  on_failure: original\n  hold_for: 1s\n"),
		sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
	mustRun(t, "once", "-config", cfg)
	start := time.Now()
	items := itemsEnv(t, cfg)
	var ready, waiting int
	for _, it := range items {
		switch {
		case it.State == string(model.StateReady) && !it.Untranslated && it.TranslatedBy == "deepl" && it.TitleEN != "":
			ready++
		case it.State == string(model.StateTranslating):
			waiting++
			if !strings.Contains(strings.ToLower(it.TranslateErr), "quota") {
				t.Errorf("%s: translate_error %q, want the quota on record", it.Title, it.TranslateErr)
			}
			if it.TitleEN != "" || it.ContentHTMLEN != "" {
				t.Errorf("%s: waiting post carries a translation", it.Title)
			}
		default:
			t.Errorf("%s: state %s untranslated %v by %q", it.Title, it.State, it.Untranslated, it.TranslatedBy)
		}
	}
	if ready != 1 || waiting != 2 {
		t.Errorf("%d translated and %d waiting, want 1 and 2", ready, waiting)
	}
	if n := api.requests(); n != 2 {
		t.Errorf("the provider got %d requests, want 2: none after it said the quota is gone", n)
	}
	_, st := openStoreAt(t, cfg)
	ps, err := st.GetProviderState(t.Context(), "deepl")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !ps.PausedUntil.After(time.Now()) || !strings.Contains(strings.ToLower(ps.Reason), "quota") {
		t.Errorf("provider state %+v, want paused for the quota", ps)
	}
	if v := visiblePosts(t, cfg, "/feeds/zhaoqing.json"); len(v) != 1 {
		t.Errorf("feed lists %d posts, want only the translated one: %v", len(v), v)
	}

	// hold_for (1s from first seen) passes; on_failure: original
	// publishes the waiting posts, marked untranslated, without asking the
	// paused provider again.
	time.Sleep(time.Second + 100*time.Millisecond - time.Since(start))
	mustRun(t, "once", "-config", cfg)
	for _, it := range itemsEnv(t, cfg) {
		if it.TranslatedBy == "deepl" {
			continue
		}
		if it.State != string(model.StateReady) || !it.Untranslated {
			t.Errorf("%s: after hold_for, state %s untranslated %v (error %q); want ready, untranslated: true",
				it.Title, it.State, it.Untranslated, it.TranslateErr)
		}
	}
	if n := api.requests(); n != 2 {
		t.Errorf("the paused provider got %d requests, want still 2", n)
	}
	if v := visiblePosts(t, cfg, "/feeds/zhaoqing.json"); len(v) != 3 {
		t.Errorf("after hold_for the feed lists %d posts, want 3", len(v))
	}
}

func TestTranslateDailyCharLimitTranslatesTitlesOnly(t *testing.T) {
	site := newTranslateSite(t)
	p := newProvider(t, "openai")
	cfg := writeTranslateConfig(t, t.TempDir(), translationYAML("openai", p.fake.URL, "  daily_char_limit: 150\n"),
		sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
	mustRun(t, "once", "-config", cfg)
	items := itemsEnv(t, cfg)
	var titleOnly []itemJSON
	for _, it := range items {
		if hasHan(it.TitleEN) || it.TitleEN == "" {
			t.Errorf("%s: title_en %q, want the title translated whatever the budget", it.Title, it.TitleEN)
		}
		switch it.State {
		case string(model.StateReady):
			if it.TitleOnly || it.Untranslated || it.ContentHTMLEN == "" || hasHan(it.ContentHTMLEN) {
				t.Errorf("%s: ready but not fully translated", it.Title)
			}
		case string(model.StateTranslating):
			titleOnly = append(titleOnly, it)
			if !it.TitleOnly || it.ContentHTMLEN != "" || it.SummaryEN != "" {
				t.Errorf("%s: waiting: title_only %v, %d bytes of English body; want the title only", it.Title, it.TitleOnly, len(it.ContentHTMLEN))
			}
			if !strings.Contains(it.TranslateErr, "daily character limit") {
				t.Errorf("%s: translate_error %q, want the daily limit on record", it.Title, it.TranslateErr)
			}
		default:
			t.Errorf("%s: state %s", it.Title, it.State)
		}
	}
	if len(titleOnly) == 0 || len(titleOnly) == len(items) {
		t.Fatalf("%d of %d posts wait for the budget; want the long ones waiting and a short one translated within the limit",
			len(titleOnly), len(items))
	}
	seven := findItem(t, items, "tzzq-wechat", sevenGUIDPart)
	if seven.State != string(model.StateTranslating) || seven.TitleEN != expectedEnglish(sevenTitle) {
		t.Errorf("the long post: state %s title_en %q; want waiting with the title %q", seven.State, seven.TitleEN, expectedEnglish(sevenTitle))
	}
	visible := visiblePosts(t, cfg, "/feeds/zhaoqing.json")
	for _, it := range titleOnly {
		if _, ok := visible[it.TitleEN]; ok {
			t.Errorf("%s: the feed lists a post whose body is not translated", it.Title)
		}
	}
	if len(visible) != len(items)-len(titleOnly) {
		t.Errorf("feed lists %d posts, want %d", len(visible), len(items)-len(titleOnly))
	}

	// The budget is counted in characters sent: a second once the same day
	// sends no body.
	reqs := p.fake.Requests()
	mustRun(t, "once", "-config", cfg)
	if p.fake.Requests() != reqs {
		t.Errorf("a second once sent %d more request(s) although the day's budget is spent", p.fake.Requests()-reqs)
	}
}
