package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestOnceRefusesLinksToOtherPrivateAddresses runs `once` against a feed on
// 127.0.0.1 whose posts link to (or redirect to) a server on 127.0.0.2: that
// server must see no request, the posts are stored with the feed's text,
// and the summary says links were refused. The admin-named host still works.
func TestOnceRefusesLinksToOtherPrivateAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	var internalHits atomic.Int64
	internal := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		fmt.Fprint(w, `<html><body><div class="TRS_Editor"><p>内部机密</p></div></body></html>`)
	})}}
	internal.Start()
	defer internal.Close()

	var feed *httptest.Server
	feed = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rss.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>链接到内部地址</title><link>%[1]s/secret.html</link><guid>a</guid><description>摘要一</description></item>
<item><title>跳转到内部地址</title><link>%[2]s/jump</link><guid>b</guid><description>摘要二</description></item>
<item><title>本站文章</title><link>%[2]s/own.html</link><guid>c</guid><description>摘要三</description></item>
<item><title>本站跳转到元数据</title><link>%[2]s/meta</link><guid>d</guid><description>摘要四</description></item>
</channel></rss>`, internal.URL, feed.URL)
		case "/jump":
			http.Redirect(w, r, internal.URL+"/secret.html", http.StatusFound)
		case "/meta":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/own.html":
			fmt.Fprint(w, `<html><body><div class="TRS_Editor"><p>本站正文</p></div></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer feed.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	y := fmt.Sprintf(`data_dir: %s/data
server: { listen: "" }
fetch: { timeout: 2s }
sources:
  - id: guarded
    url: %s/rss.xml
    full_text: { selector: ".TRS_Editor" }
`, dir, feed.URL)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("once exit %d\n%s\n%s", code, out, errOut)
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("the server on 127.0.0.2 got %d requests, want none", n)
	}
	if l := lineFor(out, "guarded"); !strings.Contains(l, "new=4") || !strings.Contains(l, "refused_links=3") {
		t.Errorf("once line %q: want new=4 and refused_links=3", l)
	}
	if !strings.Contains(errOut, "169.254.169.254") || !strings.Contains(errOut, "link-local") {
		t.Errorf("log does not name the refused metadata address and why:\n%s", errOut)
	}
	body := map[string]string{}
	for _, it := range itemsJSON(t, cfg) {
		body[it.Title] = it.ContentHTML + it.Summary
	}
	for title, want := range map[string]string{"链接到内部地址": "摘要一", "跳转到内部地址": "摘要二", "本站文章": "本站正文", "本站跳转到元数据": "摘要四"} {
		if !strings.Contains(body[title], want) {
			t.Errorf("post %s: text %q, want %q", title, body[title], want)
		}
		if strings.Contains(body[title], "内部机密") {
			t.Errorf("post %s carries the internal page's text", title)
		}
	}

	// allow_private: true lets the same source reach the internal server.
	y2 := strings.Replace(y, "    full_text:", "    allow_private: true\n    full_text:", 1)
	y2 = strings.Replace(y2, "id: guarded", "id: trusted", 1)
	if err := os.WriteFile(cfg, []byte(y2), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCmd(t, "once", "-config", cfg); code != 0 || internalHits.Load() == 0 {
		t.Errorf("allow_private: exit %d, %d requests to 127.0.0.2, want some\n%s\n%s", code, internalHits.Load(), out, errOut)
	}
}
