package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server/internal/seed"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

const adminPassword = "correct horse battery staple"

// dictTranslator is a provider that translates with translatetest's
// dictionary and counts the characters it was sent.
type dictTranslator struct {
	mu    sync.Mutex
	chars int64
}

func (d *dictTranslator) Name() string             { return "dict/test" }
func (d *dictTranslator) Limits() translate.Limits { return translate.Limits{} }
func (d *dictTranslator) sent() int64              { d.mu.Lock(); defer d.mu.Unlock(); return d.chars }
func (d *dictTranslator) Translate(_ context.Context, req translate.Request) ([]string, error) {
	out := make([]string, len(req.Texts))
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, t := range req.Texts {
		d.chars += int64(utf8.RuneCountInString(t))
		out[i] = translatetest.Translate(t)
	}
	return out, nil
}

// logBuffer collects what the server logs, for the secret checks.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type adminFixture struct {
	srv    *Server
	ts     *httptest.Server
	st     *store.Store
	engine *translate.Engine
	tr     *dictTranslator
	logs   *logBuffer
	postID int64
}

const (
	adminPostTitle = "大湾区建设推进会议召开"
	adminPostBody  = "<p>肇庆市召开大湾区建设推进会议。</p>\n<p>市长出席会议并讲话。</p>"
)

// newAdminFixture is a server with the admin pages on, over the real store
// (SQLite in memory) and an engine with a dictionary provider, holding one
// translated post.
func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tr := &dictTranslator{}
	eng, err := translate.NewEngine(translate.EngineConfig{Human: st, StoredGlossary: st}, tr, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &adminFixture{st: st, engine: eng, tr: tr, logs: &logBuffer{}}
	f.postID = f.addPost(t, "zhaoqing-news", "p1", adminPostTitle, adminPostBody)

	cfg := seed.ZhaoqingConfig(testBase)
	hash, err := HashPassword([]byte(adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.Admin = config.AdminConfig{PasswordFile: "admin.hash", PasswordHash: config.Secret(hash)}
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.srv, err = New(cfg, st, prometheus.NewRegistry(), logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.EnableAdmin(AdminDeps{Store: st, Engine: eng, ConfigGlossary: map[string]string{"市长": "Mayor"},
		// Feeds give times in whole seconds: corrections happen "later".
		Now: func() time.Time { return time.Now().Add(2 * time.Second) }}); err != nil {
		t.Fatal(err)
	}
	f.srv.versionTTL = 0
	f.ts = httptest.NewTLSServer(f.srv.Handler())
	t.Cleanup(f.ts.Close)
	return f
}

// addPost stores, translates and publishes one post; it returns its id.
func (f *adminFixture) addPost(t *testing.T, source, key, title, body string) int64 {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	it := model.Item{SourceID: source, Key: key, Title: title, ContentHTML: body, Language: "zh", Published: now,
		ContentHash: "h-" + key, Link: "http://www.zhaoqing.gov.cn/" + key + ".html"}
	if _, err := f.st.UpsertItems(ctx, source, []model.Item{it}, now); err != nil {
		t.Fatal(err)
	}
	items, err := f.st.ListItems(ctx, store.ItemQuery{SourceIDs: []string{source}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range items {
		if got.Key != key {
			continue
		}
		res, err := f.engine.TranslateItem(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.st.MarkReady(ctx, got.ID, res.Translation, nil, now); err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	t.Fatalf("post %s not stored", key)
	return 0
}

// client is a browser: cookies kept, redirects not followed.
func (f *adminFixture) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := f.ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

// login signs c in and returns the session's CSRF token.
func (f *adminFixture) login(t *testing.T, c *http.Client) string {
	t.Helper()
	resp, page := do(t, c, http.MethodGet, f.ts.URL+"/admin/login", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login form: %d", resp.StatusCode)
	}
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "password": {adminPassword}, "next": {"/admin/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = do(t, c, http.MethodGet, f.ts.URL+"/admin/", nil)
	return csrfOf(t, page)
}

func TestAdminOffWithoutPassword(t *testing.T) {
	s, _ := newTestServer(t)
	for _, p := range []string{"/admin/", "/admin/login", "/admin/posts/1", "/admin/glossary"} {
		if rec := get(t, s.Handler(), p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s without admin = %d, want 404", p, rec.Code)
		}
	}
}

// TestAdminNeedsSession: every admin route but the sign-in form sends a
// browser without a session to the sign-in form, GET or POST; a made-up
// cookie is no session.
func TestAdminNeedsSession(t *testing.T) {
	f := newAdminFixture(t)
	id := strconv.FormatInt(f.postID, 10)
	routes := []struct{ method, path string }{
		{"GET", "/admin/"}, {"GET", "/admin/posts/" + id}, {"POST", "/admin/posts/" + id},
		{"GET", "/admin/glossary"}, {"POST", "/admin/glossary"}, {"POST", "/admin/glossary/delete"},
		{"POST", "/admin/glossary/retranslate"}, {"GET", "/admin/glossary.tsv"}, {"POST", "/admin/logout"},
		{"GET", "/admin/anything"}, {"GET", "/admin/posts/999999"},
	}
	for _, cookie := range []string{"", "forged-token"} {
		for _, r := range routes {
			t.Run(r.method+" "+r.path+" cookie="+cookie, func(t *testing.T) {
				c := f.client(t)
				if cookie != "" {
					u, _ := url.Parse(f.ts.URL + "/admin/")
					c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: cookie, Path: "/admin"}})
				}
				var form url.Values
				if r.method == "POST" {
					form = url.Values{"csrf": {"x"}, "source": {"大湾区"}, "target": {"x"}}
				}
				resp, _ := do(t, c, r.method, f.ts.URL+r.path, form)
				loc := resp.Header.Get("Location")
				if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/login?next=") {
					t.Errorf("%d → %q, want 303 to the sign-in form", resp.StatusCode, loc)
				}
			})
		}
	}
	entries, err := f.st.GlossaryEntries(t.Context())
	if err != nil || len(entries) != 0 {
		t.Errorf("glossary after unauthenticated posts = %v, %v; want empty", entries, err)
	}
}

func TestAdminSessionCookieAndCSRF(t *testing.T) {
	f := newAdminFixture(t)
	c := f.client(t)
	_, page := do(t, c, http.MethodGet, f.ts.URL+"/admin/login", nil)
	// Sign-in without the form's token is refused.
	resp, _ := do(t, c, http.MethodPost, f.ts.URL+"/admin/login", url.Values{"csrf": {"wrong"}, "password": {adminPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a bad CSRF token = %d, want 403", resp.StatusCode)
	}
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "password": {adminPassword}})
	var sc string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, sessionCookie+"=") {
			sc = v
		}
	}
	for _, want := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	_, page = do(t, c, http.MethodGet, f.ts.URL+"/admin/", nil)
	csrf := csrfOf(t, page)
	id := strconv.FormatInt(f.postID, 10)
	posts := []struct{ path string }{{"/admin/posts/" + id}, {"/admin/glossary"}, {"/admin/glossary/delete"}, {"/admin/glossary/retranslate"}, {"/admin/logout"}}
	for _, p := range posts {
		for _, tok := range []string{"", "not-the-token", csrf + "x"} {
			resp, _ := do(t, c, http.MethodPost, f.ts.URL+p.path, url.Values{"csrf": {tok}, "source": {"大湾区"}, "target": {"x"}, "block-0": {"x"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with CSRF %q = %d, want 403", p.path, tok, resp.StatusCode)
			}
		}
	}
	// The session still works, and its token works.
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/logout", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
		t.Errorf("sign-out = %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = do(t, c, http.MethodGet, f.ts.URL+"/admin/", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out /admin/ = %d, want 303", resp.StatusCode)
	}
}

// TestAdminLoginRateLimit: ten wrong passwords are answered; past them the
// address is locked out, even for the right password; no password ever
// reaches the log.
func TestAdminLoginRateLimit(t *testing.T) {
	f := newAdminFixture(t)
	c := f.client(t)
	try := func(pw string) int {
		_, page := do(t, c, http.MethodGet, f.ts.URL+"/admin/login", nil)
		resp, _ := do(t, c, http.MethodPost, f.ts.URL+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "password": {pw}})
		return resp.StatusCode
	}
	for i := range 10 {
		if code := try("wrong-guess-" + strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d = %d, want 401", i+1, code)
		}
	}
	if code := try("wrong-guess-10"); code != http.StatusUnauthorized {
		t.Fatalf("11th wrong password = %d, want 401 (and a lock-out)", code)
	}
	if code := try(adminPassword); code != http.StatusTooManyRequests {
		t.Errorf("right password while locked out = %d, want 429", code)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "admin sign-in failed") {
		t.Errorf("wrong passwords are not logged:\n%s", logs)
	}
	for _, secret := range []string{adminPassword, "wrong-guess", "argon2id"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestAdminCorrection: a corrected block replaces the machine text in the
// page and the feeds at once (same id, new updated), the site marks the
// post and shows old → new, and the same block in a mirror's next post
// comes from the human memory with nothing sent for it.
func TestAdminCorrection(t *testing.T) {
	f := newAdminFixture(t)
	c := f.client(t)
	csrf := f.login(t, c)
	id := strconv.FormatInt(f.postID, 10)
	_, before := do(t, c, http.MethodGet, f.ts.URL+"/sources/zhaoqing-news.atom", nil)
	resp, page := do(t, c, http.MethodGet, f.ts.URL+"/admin/posts/"+id, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post page = %d", resp.StatusCode)
	}
	if !strings.Contains(page, "肇庆市召开大湾区建设推进会议。") || !strings.Contains(page, `name="block-0"`) || !strings.Contains(page, "Dawan District") {
		t.Fatalf("the post page does not show the block beside its English:\n%s", page)
	}
	hash := regexp.MustCompile(`name="hash" value="([^"]*)"`).FindStringSubmatch(page)[1]
	fixed := "Zhaoqing held a meeting on building the Greater Bay Area."
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/posts/"+id, url.Values{"csrf": {csrf}, "hash": {hash}, "block-0": {fixed}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", resp.StatusCode)
	}

	_, feed := do(t, c, http.MethodGet, f.ts.URL+"/sources/zhaoqing-news.atom", nil)
	if !strings.Contains(feed, fixed) || strings.Contains(feed, "Dawan District building") {
		t.Errorf("the feed does not carry the correction:\n%s", feed)
	}
	idRe := regexp.MustCompile(`<id>([^<]*posts[^<]*)</id>`)
	updRe := regexp.MustCompile(`<entry>[\s\S]*?<updated>([^<]+)</updated>`)
	if a, b := idRe.FindStringSubmatch(before), idRe.FindStringSubmatch(feed); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("entry id changed: %v → %v", a, b)
	}
	if a, b := updRe.FindStringSubmatch(before), updRe.FindStringSubmatch(feed); a == nil || b == nil || a[1] >= b[1] {
		t.Errorf("entry updated did not move forward: %v → %v", a, b)
	}
	_, pub := do(t, c, http.MethodGet, f.ts.URL+"/posts/"+id, nil)
	for _, want := range []string{fixed, "Corrected by an editor on", "<del>", "<ins>" + fixed + "</ins>"} {
		if !strings.Contains(pub, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	if strings.Contains(pub, "editor from") {
		t.Error("the public page shows the editor's address")
	}
	_, index := do(t, c, http.MethodGet, f.ts.URL+"/", nil)
	if !strings.Contains(index, `<span class="tag">corrected</span>`) {
		t.Error("the index does not mark the corrected post")
	}
	audit, err := f.st.ListAudit(t.Context(), f.postID, 10)
	if err != nil || len(audit) == 0 || audit[0].Action != "correct" || !strings.HasPrefix(audit[0].Actor, "editor from ") {
		t.Errorf("audit = %+v, %v", audit, err)
	}

	// A mirror posts the same paragraph: it comes from the human memory.
	sentBefore := f.tr.sent()
	mirror := f.addPost(t, "zhaoqing-wechat", "m1", "肇庆新闻", "<section>肇庆市召开大湾区建设推进会议。</section>")
	it, err := f.st.GetItem(t.Context(), mirror)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(it.ContentHTMLEN, fixed) {
		t.Errorf("mirror body %q lacks the correction", it.ContentHTMLEN)
	}
	if got, title := f.tr.sent()-sentBefore, int64(utf8.RuneCountInString("肇庆新闻")); got != title {
		t.Errorf("mirror post sent %d characters, want %d (its title only)", got, title)
	}
}

// TestAdminGlossary: "always translate 大湾区 as Greater Bay Area" is stored,
// the preview states the characters before any are sent, one action
// retranslates the posts for exactly that, and the entry is exported.
func TestAdminGlossary(t *testing.T) {
	f := newAdminFixture(t)
	f.addPost(t, "zhaoqing-news", "p2", "大湾区规划发布", "<p>大湾区发展规划纲要发布。</p>")
	f.addPost(t, "zhaoqing-news", "p3", "市长调研", "<p>市长调研项目。</p>")
	c := f.client(t)
	csrf := f.login(t, c)
	resp, _ := do(t, c, http.MethodPost, f.ts.URL+"/admin/glossary", url.Values{"csrf": {csrf}, "source": {"大湾区"}, "target": {"Greater Bay Area"}, "from": {strconv.FormatInt(f.postID, 10)}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/glossary?term=") {
		t.Fatalf("add = %d → %q", resp.StatusCode, loc)
	}
	sent := f.tr.sent()
	_, page := do(t, c, http.MethodGet, f.ts.URL+loc, nil)
	if f.tr.sent() != sent {
		t.Fatalf("the preview sent %d characters", f.tr.sent()-sent)
	}
	m := regexp.MustCompile(`<strong class="cost">(\d+) characters</strong>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no cost in the preview:\n%s", page)
	}
	cost, _ := strconv.ParseInt(m[1], 10, 64)
	if cost == 0 || !strings.Contains(page, "Retranslate 2 post(s) now") {
		t.Errorf("preview: cost %d, page:\n%s", cost, page)
	}
	// The configured glossary is read-only here.
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/glossary", url.Values{"csrf": {csrf}, "source": {"市长"}, "target": {"boss"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("overriding a configured term = %d, want 409", resp.StatusCode)
	}
	resp, _ = do(t, c, http.MethodPost, f.ts.URL+"/admin/glossary/retranslate", url.Values{"csrf": {csrf}, "term": {"大湾区"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retranslate = %d", resp.StatusCode)
	}
	if got := f.tr.sent() - sent; got != cost {
		t.Errorf("retranslation sent %d characters, the preview said %d", got, cost)
	}
	it, err := f.st.GetItem(t.Context(), f.postID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(it.ContentHTMLEN, "Greater Bay Area") || strings.Contains(it.ContentHTMLEN, "Dawan") {
		t.Errorf("retranslated body %q", it.ContentHTMLEN)
	}
	// The next post uses the entry too.
	next := f.addPost(t, "zhaoqing-news", "p4", "大湾区新闻", "")
	if it, _ := f.st.GetItem(t.Context(), next); !strings.Contains(it.TitleEN, "Greater Bay Area") {
		t.Errorf("next post's title %q does not use the stored glossary", it.TitleEN)
	}
	_, tsv := do(t, c, http.MethodGet, f.ts.URL+"/admin/glossary.tsv", nil)
	if !strings.Contains(tsv, "大湾区\tGreater Bay Area\n") {
		t.Errorf("TSV export:\n%s", tsv)
	}
	if _, err := translate.BuildGlossary(nil, writeTemp(t, tsv)); err != nil {
		t.Errorf("the export is not a glossary file: %v", err)
	}
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := t.TempDir() + "/glossary.tsv"
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hash, pw string
		ok, parses     bool
	}{
		{"argon2id right", h, "s3cret", true, true},
		{"argon2id wrong", h, "s3cre", false, true},
		{"bcrypt", bcryptOf(t, "s3cret"), "s3cret", true, true},
		{"bcrypt wrong", bcryptOf(t, "s3cret"), "other", false, true},
		{"plain text", "s3cret", "s3cret", false, false},
		{"truncated argon2id", h[:30], "s3cret", false, false},
		{"md5 crypt", "$1$abc$def", "s3cret", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePasswordHash(tc.hash)
			if (err == nil) != tc.parses {
				t.Fatalf("parse error = %v, want parses %t", err, tc.parses)
			}
			if err != nil {
				if strings.Contains(err.Error(), tc.hash) {
					t.Errorf("error quotes the hash: %v", err)
				}
				return
			}
			if got := p.matches([]byte(tc.pw)); got != tc.ok {
				t.Errorf("matches = %t, want %t", got, tc.ok)
			}
		})
	}
}

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
