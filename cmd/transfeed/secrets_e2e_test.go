package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the daemon's log writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSourceURLSecretsNeverLeave runs the daemon with source URLs carrying
// a password and an access key (the RSSHub ?key= form), one source working
// and one failing, and greps every page, feed, OPML, metrics and log line
// for the secrets.
func TestSourceURLSecretsNeverLeave(t *testing.T) {
	const password, key, code = "pa55w0rdXYZ", "rsshubKEY8f3a9", "c0deQQ71"
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wechat/rss" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Zhaoqing news</title><link>https://mp.weixin.qq.com/s/abc</link><guid>a</guid><description>English text.</description></item>
</channel></rss>`)
	}))
	defer feed.Close()
	host := strings.TrimPrefix(feed.URL, "http://")

	dir := t.TempDir()
	listen := freePort(t)
	cfg := filepath.Join(dir, "config.yaml")
	y := fmt.Sprintf(`data_dir: %[1]s/data
server: { listen: %[2]s, base_url: "http://%[2]s" }
fetch: { timeout: 2s }
defaults: { schedule: "@every 1h", translate: never }
sources:
  - id: good
    url: http://reader:%[3]s@%[4]s/wechat/rss?key=%[5]s&limit=5
  - id: broken
    url: http://reader:%[3]s@%[4]s/missing?key=%[5]s&sign=%[6]s
feeds:
  - id: all
    title: All
    sources: [good, broken]
`, dir, listen, password, host, key, code)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	var logs, out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-config", cfg}, &out, &logs, noEnv) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	}()

	base := "http://" + listen
	getBody := func(path string) string {
		resp, err := http.Get(base + path)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := getBody("/status?format=json")
		if strings.Contains(st, `"last_error"`) && strings.Count(st, `"last_result": "ok"`)+strings.Count(st, `"last_result":"ok"`) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not poll both sources in time; status:\n%s\nlogs:\n%s", st, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	pages := map[string]string{}
	for _, p := range []string{"/status", "/status?format=json", "/", "/posts/1", "/feeds/all.rss", "/feeds/all.atom",
		"/feeds/all.json", "/sources/good.rss", "/sources/good.atom", "/sources/good.json", "/sources/broken.rss", "/feeds.opml", "/metrics"} {
		pages[p] = getBody(p)
	}
	pages["log"] = logs.String()
	pages["stdout"] = out.String()
	if !strings.Contains(pages["/status"], "404") {
		t.Errorf("status page does not show the failing source's error:\n%s", pages["/status"])
	}
	if !strings.Contains(pages["/sources/good.rss"], "Zhaoqing news") || !strings.Contains(pages["/sources/good.rss"], "<source url=") {
		t.Errorf("source feed lacks the post or its <source url>:\n%s", pages["/sources/good.rss"])
	}
	for name, body := range pages {
		for _, secret := range []string{password, key, code} {
			if strings.Contains(body, secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
	code2, items, _ := runCmd(t, "items", "-config", cfg, "-json")
	if code2 == 0 {
		for _, secret := range []string{password, key, code} {
			if strings.Contains(items, secret) {
				t.Errorf("items -json contains the secret %q", secret)
			}
		}
	}
}
