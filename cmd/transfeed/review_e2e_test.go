package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/bot/telegramtest"
)

// adminConfig turns a translate e2e config into one that serves HTTP on a
// free port with the admin pages on; it returns the base URL.
func adminConfig(t *testing.T, cfgPath, password string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runWithInput(t.Context(), strings.NewReader(password+"\n"), []string{"hash-password"}, &out, &errb, noEnv); code != 0 {
		t.Fatalf("hash-password: %s", errb.String())
	}
	dir := cfgPath[:strings.LastIndex(cfgPath, "/")]
	if err := os.WriteFile(dir+"/admin.hash", out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), `  listen: ""`, "  listen: "+addr+"\n  admin:\n    password_file: admin.hash", 1)
	cfg = strings.Replace(cfg, "base_url: http://transfeed.test", "base_url: http://"+addr, 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// startDaemon runs `run` in-process until the returned stop is called.
func startDaemon(t *testing.T, cfgPath, base string) (stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"run", "-config", cfgPath}, &out, &errb, testEnv)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the daemon did not answer /healthz: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return func() string {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exit %d: %s", code, errb.String())
		}
		return errb.String()
	}
}

func httpDo(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
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
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestCorrectionEndToEnd: on the real command line, an editor signs in,
// corrects one paragraph of a translated post, the feed carries it at once,
// and a mirrored source's next post takes that paragraph (and the rest)
// from memory: no character is sent.
func TestCorrectionEndToEnd(t *testing.T) {
	const password = "e2e editor password"
	dir := t.TempDir()
	site := newTranslateSite(t)
	p := newProvider(t, "deepl")
	tr := translationYAML("deepl", p.fake.URL, "")
	cfg := writeTranslateConfig(t, dir, tr, sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
	base := adminConfig(t, cfg, password)
	tg := telegramtest.New(t, telegramtest.Options{})
	b, _ := os.ReadFile(cfg)
	tgYAML := "telegram:\n  token: \"" + tg.Token() + "\"\n  api_url: " + tg.URL() +
		"\n  channels:\n    - chat: \"@zq_en\"\n      sources: [tzzq-wechat]\n      photo: false\n      backfill: 5\n"
	if err := os.WriteFile(cfg, append(b, tgYAML...), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "once", "-config", cfg)
	sent := tg.Requests("sendmessage")
	if sent != feedsPerSource {
		t.Fatalf("once sent %d message(s), want %d", sent, feedsPerSource)
	}
	seven := findItem(t, itemsEnv(t, cfg), "tzzq-wechat", sevenGUIDPart)
	id := strconv.FormatInt(seven.ID, 10)

	stop := startDaemon(t, cfg, base)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := httpDo(t, c, "GET", base+"/admin/posts/"+id, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin page without a session = %d, want 303", resp.StatusCode)
	}
	_, page := httpDo(t, c, "GET", base+"/admin/login", nil)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	resp, _ = httpDo(t, c, "POST", base+"/admin/login", url.Values{"csrf": {csrf.FindStringSubmatch(page)[1]}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	_, page = httpDo(t, c, "GET", base+"/admin/posts/"+id, nil)
	m := regexp.MustCompile(`name="hash" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, `name="block-0"`) {
		t.Fatalf("no correction form:\n%s", page)
	}
	fixed := "On 25 May 2023 the Party Secretary Xu Xiaoxiong led a delegation to Shenzhen (corrected by an editor)."
	resp, _ = httpDo(t, c, "POST", base+"/admin/posts/"+id, url.Values{"csrf": {csrf.FindStringSubmatch(page)[1]}, "hash": {m[1]}, "block-0": {fixed}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save = %d", resp.StatusCode)
	}
	_, feed := httpDo(t, c, "GET", base+"/feeds/zhaoqing.json", nil)
	if !strings.Contains(feed, "corrected by an editor") {
		t.Errorf("the feed does not carry the correction:\n%.2000s", feed)
	}
	_, post := httpDo(t, c, "GET", base+"/posts/"+id, nil)
	if !strings.Contains(post, "Corrected by an editor on") {
		t.Error("the post page does not say it was corrected")
	}
	// The message already in the channel is edited in place: one
	// editMessageText, no new message.
	deadline := time.Now().Add(15 * time.Second)
	for len(tg.Edits("@zq_en")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	logs := stop()
	edits := tg.Edits("@zq_en")
	if len(edits) != 1 || edits[0].Method != "editmessagetext" || !strings.Contains(edits[0].Visible, "corrected by an editor") {
		t.Errorf("edits = %+v, want one editMessageText with the correction", edits)
	}
	if got := tg.Requests("sendmessage"); got != sent {
		t.Errorf("the correction sent %d new message(s)", got-sent)
	}
	if strings.Contains(logs, password) {
		t.Error("the daemon logged the admin password")
	}

	// The mirror repeats the post: nothing is sent, and the corrected
	// paragraph comes from the human memory.
	reqs := p.fake.Requests()
	b, _ = os.ReadFile(cfg)
	mirrored := strings.Replace(string(b), "sources:\n", "sources:\n"+sourceYAML("zq-mirror", site.URL, "mirror.xml"), 1)
	mirrored = strings.Replace(mirrored, "sources: [tzzq-wechat]", "sources: [tzzq-wechat, zq-mirror]", 1)
	if err := os.WriteFile(cfg, []byte(mirrored), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "once", "-config", cfg)
	if got := p.fake.Requests(); got != reqs {
		t.Errorf("the mirrored post cost %d request(s), want 0", got-reqs)
	}
	mirror := findItem(t, itemsEnv(t, cfg), "zq-mirror", "zqfb-2023-0525-01")
	if got := paragraphs(t, mirror.ContentHTMLEN); len(got) == 0 || !strings.Contains(got[0], "corrected by an editor") {
		t.Errorf("the mirror's first paragraph = %q, want the correction", got)
	}
}

// waitFor polls cond every 50 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// TestReviewQueueEndToEnd: on the real command line, a channel with
// review: true gets nothing until an admin presses Approve in the private
// prompt; the answer, given while the daemon is down, is taken after the
// restart; exactly one message reaches the channel, through restarts and
// a second press; Skip keeps a post out for good; /queue lists what waits.
func TestReviewQueueEndToEnd(t *testing.T) {
	const admin = 424242
	adminChat := strconv.Itoa(admin)
	dir := t.TempDir()
	site := newTranslateSite(t)
	p := newProvider(t, "deepl")
	cfg := writeTranslateConfig(t, dir, translationYAML("deepl", p.fake.URL, ""), sourceYAML("tzzq-wechat", site.URL, "wechat7.xml"))
	base := adminConfig(t, cfg, "unused password")
	tg := telegramtest.New(t, telegramtest.Options{})
	b, _ := os.ReadFile(cfg)
	tgYAML := "telegram:\n  token: \"" + tg.Token() + "\"\n  api_url: " + tg.URL() + "\n  admins: [" + adminChat + "]" +
		"\n  channels:\n    - chat: \"@zq_review\"\n      sources: [tzzq-wechat]\n      photo: false\n      backfill: 5\n      review: true\n"
	if err := os.WriteFile(cfg, append(b, tgYAML...), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "once", "-config", cfg)
	if n := len(tg.Messages("@zq_review")); n != 0 {
		t.Fatalf("once posted %d message(s) to a review channel", n)
	}

	stop := startDaemon(t, cfg, base)
	if !waitFor(15*time.Second, func() bool { return len(tg.Messages(adminChat)) >= feedsPerSource }) {
		stop()
		t.Fatalf("admin prompts: %+v", tg.Messages(adminChat))
	}
	time.Sleep(300 * time.Millisecond)
	prompts := tg.Messages(adminChat)
	if len(prompts) != feedsPerSource || len(tg.Messages("@zq_review")) != 0 {
		stop()
		t.Fatalf("%d prompt(s), %d channel message(s); want %d and 0", len(prompts), len(tg.Messages("@zq_review")), feedsPerSource)
	}
	button := func(m telegramtest.Message, label string) string {
		for _, row := range m.Buttons {
			for _, bt := range row {
				if bt.Text == label {
					return bt.CallbackData
				}
			}
		}
		t.Fatalf("prompt %d has no %s button: %+v", m.ID, label, m.Buttons)
		return ""
	}
	stop()

	// Approve while the daemon is down; it takes the answer after the restart.
	approve := tg.PushCallback(admin, adminChat, prompts[0].ID, button(prompts[0], "Approve"))
	stop = startDaemon(t, cfg, base)
	if !waitFor(15*time.Second, func() bool { return len(tg.Messages("@zq_review")) == 1 }) {
		stop()
		t.Fatalf("channel after approval: %+v", tg.Messages("@zq_review"))
	}
	if ok, text := tg.CallbackAnswer(approve); !ok || !strings.Contains(text, "Approved") {
		t.Errorf("approve answered %t %q", ok, text)
	}
	// A second press, a skip and /queue.
	again := tg.PushCallback(admin, adminChat, prompts[0].ID, button(prompts[0], "Approve"))
	skip := tg.PushCallback(admin, adminChat, prompts[1].ID, button(prompts[1], "Skip"))
	tg.PushMessage(admin, "/queue")
	if !waitFor(10*time.Second, func() bool {
		ok1, _ := tg.CallbackAnswer(again)
		ok2, _ := tg.CallbackAnswer(skip)
		return ok1 && ok2 && len(tg.Messages(adminChat)) > len(prompts)
	}) {
		t.Errorf("answers to the second press / skip / queue did not come")
	}
	if _, text := tg.CallbackAnswer(again); !strings.Contains(text, "Already answered") {
		t.Errorf("second press answered %q", text)
	}
	msgs := tg.Messages(adminChat)
	if last := msgs[len(msgs)-1].Text; !strings.Contains(last, "1 post(s) wait for review") {
		t.Errorf("/queue answered %q", last)
	}
	stop()
	// Restart again: still exactly one message, and no prompt sent twice.
	stop = startDaemon(t, cfg, base)
	time.Sleep(3 * time.Second)
	stop()
	if n := len(tg.Messages("@zq_review")); n != 1 {
		t.Errorf("channel has %d message(s) after restarts, want exactly 1", n)
	}
	if n := len(tg.Messages(adminChat)); n != len(prompts)+1 {
		t.Errorf("admin chat has %d message(s), want the %d prompts and the /queue answer", n, len(prompts))
	}
}
