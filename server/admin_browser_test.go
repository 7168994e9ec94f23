package server

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// headless is one tab of a headless Chromium for a browser test, with the
// test's deadline on its actions.
type headless struct {
	t   *testing.T
	ctx context.Context
}

// newHeadless starts a headless Chromium, or skips the test where none is
// installed (Debian: apt-get install chromium). The browser stops with the
// test.
func newHeadless(t *testing.T, timeout time.Duration) *headless {
	t.Helper()
	var browser string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no Chromium installed: skipping the headless browser session")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Flag("ignore-certificate-errors", true), // httptest's own certificate
		chromedp.NoSandbox,
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return &headless{t: t, ctx: ctx}
}

// do runs steps; what names them in the failure.
func (h *headless) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	h.t.Helper()
	if err := chromedp.Do(h.ctx, steps...); err != nil {
		h.t.Fatalf("browser: %s: %v", what, err)
	}
}

// browserRead runs a and returns its value; what names it in the failure.
func browserRead[T any](h *headless, what string, a chromedp.Action[T]) T {
	h.t.Helper()
	v, err := chromedp.Run(h.ctx, a)
	if err != nil {
		h.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// TestAdminBrowserSession drives a real headless Chromium through the
// admin pages: the post page sends it to the sign-in form, it signs in,
// edits a paragraph and saves; the correction is stored and published. It
// is skipped where no Chromium is installed (Debian: apt-get install
// chromium).
func TestAdminBrowserSession(t *testing.T) {
	b := newHeadless(t, 60*time.Second)
	f := newAdminFixture(t)

	postURL := f.ts.URL + "/admin/posts/" + strconv.FormatInt(f.postID, 10)
	fixed := "Zhaoqing held a meeting on the Greater Bay Area (browser edit)."
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := b.do
	read := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		return browserRead(b, what, a)
	}
	step("open the post page", chromedp.Navigate(postURL), chromedp.WaitVisible(css("#password")))
	loginURL := read("location", chromedp.Location())
	step("sign in", chromedp.SendKeys(css("#password"), adminPassword), chromedp.Submit(css("#password")),
		// Signed in, the browser is back on the post page it asked for.
		chromedp.WaitVisible(css(`textarea[name="block-0"]`)))
	step("edit and save", chromedp.SetValue(css(`textarea[name="block-0"]`), fixed),
		chromedp.Click(css(`form.correct button[type="submit"]`)), chromedp.WaitVisible(css("p.flash")))
	flash := read("flash", chromedp.Text(css("p.flash")))
	step("open the public page", chromedp.Navigate(f.ts.URL+"/posts/"+strconv.FormatInt(f.postID, 10)),
		chromedp.WaitVisible(css("article.post")))
	publicBody := read("public page", chromedp.Text(css("article.post")))
	if !strings.Contains(loginURL, "/admin/login?next=") {
		t.Errorf("the post page without a session went to %q, want the sign-in form", loginURL)
	}
	if !strings.Contains(flash, "Saved 1 correction") {
		t.Errorf("flash = %q", flash)
	}
	if !strings.Contains(publicBody, fixed) || !strings.Contains(publicBody, "Corrected by an editor on") {
		t.Errorf("public page after the browser edit:\n%s", publicBody)
	}
	hist, err := f.st.ListCorrections(t.Context(), f.postID)
	if err != nil || len(hist) != 1 || hist[0].NewEN != fixed {
		t.Errorf("stored history = %+v, %v", hist, err)
	}
	if strings.Contains(f.logs.String(), adminPassword) {
		t.Error("the password reached the log")
	}
}
