package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// site is a local stand-in for the sources of the "Sources in" issue: good
// feeds in several charsets and formats, and every kind of broken source.
type site struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]int
	cond     map[string]int // conditional requests seen per path
	bomb     []byte
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "site", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gbk(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes(b)
	if err != nil {
		t.Fatalf("encoding fixture as GBK: %v", err)
	}
	return out
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{requests: map[string]int{}, cond: map[string]int{}}
	// A gzip bomb: 64 MiB of zeros in ~64 KiB.
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestCompression)
	zw.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`))
	chunk := make([]byte, 1<<20)
	for range 64 {
		zw.Write(chunk)
	}
	zw.Close()
	s.bomb = zb.Bytes()

	static := map[string]struct {
		body        []byte
		contentType string
	}{
		"/wechat/mp/homepage/MzA3/0":       {fixture(t, "wechat.xml"), "application/rss+xml; charset=utf-8"},
		"/gb/rss.xml":                      {gbk(t, fixture(t, "gb2312.xml")), "text/xml"},
		"/zqyw/index.html":                 {gbk(t, fixture(t, "list.html")), "text/html"},
		"/zqyw/202305/t20230523_1001.html": {gbk(t, fixture(t, "article1001.html")), "text/html"},
		"/zqyw/202305/t20230522_1000.html": {gbk(t, fixture(t, "article1000.html")), "text/html"},
		"/en/atom.xml":                     {fixture(t, "english.atom"), "application/atom+xml"},
		"/hostile/rss.xml":                 {fixture(t, "xss.xml"), "application/rss+xml"},
		"/broken/notfeed":                  {fixture(t, "notfeed.html"), "text/html; charset=utf-8"},
		"/broken/truncated.xml":            {fixture(t, "truncated.xml"), "application/xml"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			s.cond[r.URL.Path]++
		}
		s.mu.Unlock()
		f, ok := static[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(f.body)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Thu, 25 May 2023 16:00:00 GMT")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Write(f.body)
	})
	mux.HandleFunc("/broken/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	})
	mux.HandleFunc("/broken/stall", func(w http.ResponseWriter, r *http.Request) {
		select { // stalls for 40 s unless the client gives up first
		case <-r.Context().Done():
		case <-time.After(40 * time.Second):
		}
	})
	mux.HandleFunc("/broken/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/broken/loop", http.StatusFound)
	})
	mux.HandleFunc("/broken/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`))
		line := bytes.Repeat([]byte("a"), 1<<20)
		for range 60 { // 60 MB, no Content-Length
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/broken/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(s.bomb)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *site) conditional(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cond[path]
}

// writeConfig writes a config for every source of the site into dir.
func (s *site) writeConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`data_dir: %[2]s/data
server:
  listen: ""
  base_url: http://transfeed.test
fetch:
  timeout: 2s
  max_body: 5MB
  per_host: 2
  concurrency: 8
defaults:
  schedule: "@every 15m"
sources:
  - id: tzzq-wechat
    name: 投资肇庆 (WeChat)
    url: %[1]s/wechat/mp/homepage/MzA3/0
    tags: [zhaoqing, wechat]
  - id: zq-notices
    name: Zhaoqing Government — Notices
    url: %[1]s/gb/rss.xml
    tags: [zhaoqing]
  - id: zq-news
    name: Zhaoqing Government — News
    url: %[1]s/zqyw/index.html
    type: html
    html:
      item: "ul.news_list li"
      title: "a"
      link: "a@href"
      date: "span"
    full_text:
      selector: ".TRS_Editor"
  - id: gd-digest
    name: Guangdong Digest
    url: %[1]s/en/atom.xml
  - id: hostile
    url: %[1]s/hostile/rss.xml
  - id: broken-500
    url: %[1]s/broken/500
  - id: broken-html
    url: %[1]s/broken/notfeed
  - id: broken-truncated
    url: %[1]s/broken/truncated.xml
  - id: broken-stall
    url: %[1]s/broken/stall
  - id: broken-loop
    url: %[1]s/broken/loop
  - id: broken-huge
    url: %[1]s/broken/huge
  - id: broken-bomb
    url: %[1]s/broken/bomb
feeds:
  - id: zhaoqing
    title: Zhaoqing in English
    tags: [zhaoqing]
%[3]s`, s.URL, dir, extra)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) (string, bool) { return "", false }

// runCmd runs the command line in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb, noEnv)
	return code, out.String(), errb.String()
}

func lineFor(out, source string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == source {
			return l
		}
	}
	return ""
}
