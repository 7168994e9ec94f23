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

// TestAdminBrowserSession drives a real headless Chromium through the
// admin pages: the post page sends it to the sign-in form, it signs in,
// edits a paragraph and saves; the correction is stored and published. It
// is skipped where no Chromium is installed (Debian: apt-get install
// chromium).
func TestAdminBrowserSession(t *testing.T) {
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
	f := newAdminFixture(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Flag("ignore-certificate-errors", true), // httptest's own certificate
		chromedp.NoSandbox,
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	postURL := f.ts.URL + "/admin/posts/" + strconv.FormatInt(f.postID, 10)
	fixed := "Zhaoqing held a meeting on the Greater Bay Area (browser edit)."
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	read := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
		return v
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
