package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// discoverSite serves saved pages (feeds/discover/testdata/corpus and the
// gkmlpt stand-ins) at the paths their links expect. Occurrences of
// "http://SITE" in a body become the server's own URL.
func discoverSite(t *testing.T) *httptest.Server {
	t.Helper()
	root := filepath.Join("..", "..", "feeds")
	routes := map[string]string{
		"/xxgk/zwdt/zwyw/": filepath.Join(root, "discover", "testdata", "corpus", "yichun_zwyw.html"),
		"/xxgk/zwdt/zwyw/201710/t20171015_521060.html":        filepath.Join(root, "testdata", "article_123_gbk.html"),
		"/dfaets/news/infodisclosure/announcement/index.html": filepath.Join(root, "discover", "testdata", "corpus", "dfa66_announcement.html"),
		"/forum-9-1.html":      filepath.Join(root, "discover", "testdata", "corpus", "netease_forum_head.html"),
		"/forum.php":           filepath.Join(root, "testdata", "zhaoqing_gb2312.xml"),
		"/xwzx/zqyw/rss.xml":   filepath.Join(root, "testdata", "zhaoqing_gb2312.xml"),
		"/gkmlpt/index":        filepath.Join(root, "gkmlpt", "testdata", "index.html"),
		"/gkmlpt/api/all/5722": filepath.Join(root, "gkmlpt", "testdata", "list.json"),
		"/empty.html":          filepath.Join("testdata", "site", "notfeed.html"),
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("fixture: %v", err)
			http.Error(w, "missing", 500)
			return
		}
		body = bytes.ReplaceAll(body, []byte("https://n.netease.com/"), []byte(srv.URL+"/"))
		body = bytes.ReplaceAll(body, []byte("http://www.zhaoqing.gov.cn"), []byte(srv.URL))
		switch filepath.Ext(file) {
		case ".xml":
			w.Header().Set("Content-Type", "application/rss+xml")
		case ".json":
			w.Header().Set("Content-Type", "application/json")
		default:
			w.Header().Set("Content-Type", "text/html")
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoverListPage(t *testing.T) {
	srv := discoverSite(t)
	code, out, errOut := runCmd(t, "discover", srv.URL+"/xxgk/zwdt/zwyw/")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"# found: a list of 20 posts by its shape",
		"#    1. 我市在广州举行生态招商推介会 · 2017-10-14 · " + srv.URL + "/xxgk/zwdt/zwyw/201710/t20171015_521060.html",
		"#   10. 精准扶贫助推全面小康",
		"# next page: " + srv.URL + "/xxgk/zwdt/zwyw/index_1.html",
		"# article body of the first post: .TRS_Editor",
		"    type: html\n    html:\n      item: ",
		`      date: "td:nth-of-type(2)"`,
		`    full_text: { selector: ".TRS_Editor" }`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "#   11.") {
		t.Error("more than 10 posts printed")
	}
	// The block is ready to paste: a config made of it validates and its
	// source polls the same 20 posts.
	cfg := writeDiscoveredConfig(t, out)
	if code, vout, verr := runCmd(t, "validate", "-config", cfg); code != exitOK {
		t.Fatalf("the proposed block does not validate (exit %d):\n%s%s\n%s", code, vout, verr, out)
	}
	code, pout, perr := runCmd(t, "preview", "-config", cfg, "-source", "zwyw")
	if code != exitOK || !strings.Contains(pout, "zwyw: 20 post(s)") {
		t.Errorf("preview of the proposed source: exit %d\n%s\n%s", code, pout, perr)
	}
}

// writeDiscoveredConfig wraps a discover block into a config file.
func writeDiscoveredConfig(t *testing.T, out string) string {
	t.Helper()
	var block []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  ") {
			block = append(block, l)
		}
	}
	dir := t.TempDir()
	cfg := "data_dir: " + dir + "\nsources:\n" + strings.Join(block, "\n") + "\n"
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiscoverPreviewURL(t *testing.T) {
	srv := discoverSite(t)
	code, out, errOut := runCmd(t, "preview", "-url", srv.URL+"/dfaets/news/infodisclosure/announcement/index.html", "-limit", "3")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"type html", "announcement: 3 post(s)", "东方阿尔法优势产业混合型发起式证券投资基金可投资于科创板股票的公告", "2020-07-02"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview -url output lacks %q:\n%s", want, out)
		}
	}
}

func TestDiscoverFeeds(t *testing.T) {
	srv := discoverSite(t)
	tests := map[string]struct {
		path string
		want []string
	}{
		"announced":         {"/forum-9-1.html", []string{"# found: a feed with", "the page announces it", "    url: \"" + srv.URL + "/forum.php?mod=rss&fid=9&auth=0\"", "    type: feed"}},
		"the URL is a feed": {"/xwzx/zqyw/rss.xml", []string{"the URL is a feed", "    type: feed"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCmd(t, "discover", srv.URL+tt.path)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestDiscoverGkmlpt(t *testing.T) {
	srv := discoverSite(t)
	code, out, errOut := runCmd(t, "discover", srv.URL+"/gkmlpt/index#5722")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"Guangdong disclosure catalogue (gkmlpt), site id SID=2",
		"#   5722 · 市政府文件 · 120",
		"#   5730 · 政府信息公开指南 · link only",
		"11441200MB2C91453G/2025-00271",
		"(display_publish_time)",
		"    url: \"" + srv.URL + "/gkmlpt/index#5722\"\n    type: gkmlpt",
		"    name: \"市政府文件\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Without a column: the columns are listed, the block reads the first.
	code, out, _ = runCmd(t, "discover", srv.URL+"/gkmlpt/index")
	if code != exitOK || !strings.Contains(out, "the URL names no column") || !strings.Contains(out, "/gkmlpt/index#5721") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDiscoverNothingAndUsage(t *testing.T) {
	srv := discoverSite(t)
	code, out, _ := runCmd(t, "discover", srv.URL+"/empty.html")
	if code != exitFailure || !strings.Contains(out, "nothing list-like found") || !regexp.MustCompile(`# saw: \d+ links`).MatchString(out) {
		t.Errorf("nothing list-like: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"discover"}, {"discover", "not a url"}, {"discover", "ftp://x/"}, {"discover", "http://a/", "b"}, {"discover", "-bogus", "http://a/"}} {
		if code, _, _ := runCmd(t, args...); code != exitInvalid {
			t.Errorf("%q: exit %d, want %d", args, code, exitInvalid)
		}
	}
	if code, out, _ := runCmd(t, "discover", srv.URL+"/xxgk/zwdt/zwyw/", "-no-body"); code != exitOK || strings.Contains(out, "article body of the first post") {
		t.Errorf("flag after the URL: exit %d\n%s", code, out)
	}
	if code, _, _ := runCmd(t, "discover", srv.URL+"/missing.html"); code != exitFailure {
		t.Errorf("404 page: exit %d, want %d", code, exitFailure)
	}
}

// TestDiscoverNeverFollowsAPageToAPrivateAddress: the admin typed a URL on
// 127.0.0.1, whose page announces a feed (and links its posts) on
// 127.0.0.2. discover may read the typed host, but nothing the page names
// elsewhere on a private address: the server on 127.0.0.2 gets no request.
func TestDiscoverNeverFollowsAPageToAPrivateAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	var hits atomic.Int64
	internal := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>secret</title></channel></rss>`))
	})}}
	internal.Start()
	t.Cleanup(internal.Close)
	var list strings.Builder
	for i := range 12 {
		fmt.Fprintf(&list, `<li><a href="%s/art/%d.html">关于做好第%d项工作的通知</a><span>2024-05-%02d</span></li>`, internal.URL, i, i, i+1)
	}
	page := `<html><head><link rel="alternate" type="application/rss+xml" href="` + internal.URL + `/rss.xml"></head><body><ul>` + list.String() + `</ul></body></html>`
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(public.Close)
	_, out, errOut := runCmd(t, "discover", public.URL+"/list.html")
	if n := hits.Load(); n != 0 {
		t.Errorf("the server on 127.0.0.2 got %d requests, want none\n%s\n%s", n, out, errOut)
	}
}
