package feeds

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
)

// TestPollTimeoutDefersUnfetchedPosts: pages that do not answer before
// fetch.poll_timeout do not hold the poll; their posts are left out (to be
// new, and fetched, at the next poll) while the others are stored.
func TestPollTimeoutDefersUnfetchedPosts(t *testing.T) {
	var slow atomic.Bool
	slow.Store(true)
	// The slow pages are on a host of their own, so that they cannot take
	// the fast host's slots (allow_private lets the source reach it).
	slowSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			<-r.Context().Done() // never answers; the poll deadline ends it
			return
		}
		fmt.Fprint(w, `<html><body><div class="TRS_Editor"><p>页面正文</p></div></body></html>`)
	}))
	defer slowSrv.Close()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/rss.xml":
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>`)
			for i := range 3 {
				fmt.Fprintf(&b, `<item><title>快%d</title><link>%s/fast/%d</link><guid>f%d</guid><description>列表摘要</description></item>`, i, srv.URL, i, i)
			}
			for i := range 4 {
				fmt.Fprintf(&b, `<item><title>慢%d</title><link>%s/slow/%d</link><guid>s%d</guid><description>列表摘要</description></item>`, i, slowSrv.URL, i, i)
			}
			b.WriteString(`</channel></rss>`)
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, b.String())
		default:
			fmt.Fprint(w, `<html><body><div class="TRS_Editor"><p>页面正文</p></div></body></html>`)
		}
	}))
	defer srv.Close()

	f := NewFetcher(FetchOptions{Timeout: time.Minute, PollTimeout: 500 * time.Millisecond, PerHost: 2}, discardLogger())
	src := config.Source{ID: "s", URL: srv.URL + "/rss.xml", Timezone: "Asia/Shanghai", FullText: &config.FullText{Selector: ".TRS_Editor"}, AllowPrivate: true}
	res, err := f.Poll(t.Context(), src, Validators{}, nil)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if res.Deferred != 4 || len(res.Items) != 3 {
		t.Fatalf("items %d, deferred %d; want the 3 fetched posts stored and the 4 slow ones deferred", len(res.Items), res.Deferred)
	}
	known := map[string]bool{}
	for _, it := range res.Items {
		known[it.Key] = true
		if !strings.Contains(it.ContentHTML, "页面正文") || !strings.HasPrefix(it.Title, "快") {
			t.Errorf("stored post %q without its page's text: %q", it.Title, it.ContentHTML)
		}
	}

	// Next poll: the deferred posts are new again and their pages are fetched.
	slow.Store(false)
	res, err = f.Poll(t.Context(), src, Validators{}, func(k string) bool { return known[k] })
	if err != nil {
		t.Fatalf("second Poll: %v", err)
	}
	if res.Deferred != 0 || len(res.Items) != 7 {
		t.Fatalf("second poll: items %d, deferred %d; want 7 and 0", len(res.Items), res.Deferred)
	}
	for _, it := range res.Items {
		if strings.HasPrefix(it.Title, "慢") && !strings.Contains(it.ContentHTML, "页面正文") {
			t.Errorf("deferred post %q stored without its page: %q", it.Title, it.ContentHTML)
		}
	}
}
