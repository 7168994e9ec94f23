package feeds

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/transfeed/transfeed/config"
)

func TestForbiddenReason(t *testing.T) {
	tests := []struct {
		ip   string
		want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.0.0.2", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"169.254.169.254", "link-local"}, // cloud metadata
		{"fe80::1", "link-local"},
		{"fc00::1", "unique-local"},
		{"fd12:3456::1", "unique-local"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"::ffff:100.64.0.1", "shared (CGNAT)"},
		{"64:ff9b::a9fe:a9fe", "link-local"}, // NAT64 form of 169.254.169.254
		{"::7f00:1", "loopback"},             // IPv4-compatible 127.0.0.1
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.32.0.1", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"121.8.1.1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := ForbiddenReason(netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("ForbiddenReason(%s) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}

// FuzzForbiddenReason checks that the guard never lets a non-public
// address through whatever form it is written in (IPv4, IPv4-mapped IPv6).
func FuzzForbiddenReason(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::ffff:192.168.0.1", "8.8.8.8", "fd00::1", "100.64.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return
		}
		reason := ForbiddenReason(ip)
		u := ip.Unmap()
		if (u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsUnspecified() || u.IsMulticast()) && reason == "" {
			t.Fatalf("%s passes the guard", ip)
		}
		if u.Is4() {
			mapped := netip.AddrFrom16(u.As16())
			if got := ForbiddenReason(mapped); got != reason {
				t.Fatalf("%s: %q, its IPv4-mapped form %s: %q", u, reason, mapped, got)
			}
		}
	})
}

// loopbackServer is an httptest server on the given loopback address that
// counts its requests.
type loopbackServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newLoopbackServer(t *testing.T, addr string, h http.HandlerFunc) *loopbackServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ls := &loopbackServer{}
	ls.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ls.hits.Add(1)
		h(w, r)
	})}}
	ls.Start()
	t.Cleanup(ls.Close)
	return ls
}

func rssWithLink(link string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>` +
		`<item><title>通知公告</title><link>` + link + `</link><guid>g1</guid>` +
		`<description>列表里的摘要文字</description><pubDate>Mon, 02 Jan 2023 15:04:05 +0800</pubDate></item>` +
		`</channel></rss>`
}

const articlePage = `<html><body><div class="TRS_Editor"><p>文章正文来自页面</p></div></body></html>`

func TestAddressGuard(t *testing.T) {
	// other is a second loopback address: an "internal" host the feed
	// points at. It must never be reached unless the source allows it.
	other := newLoopbackServer(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, articlePage)
	})
	var feedBody atomic.Value
	src := newLoopbackServer(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprint(w, feedBody.Load().(string))
		case "/article.html":
			fmt.Fprint(w, articlePage)
		case "/to-other":
			http.Redirect(w, r, other.URL+"/article.html", http.StatusFound)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/moved-feed":
			http.Redirect(w, r, "/feed.xml", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	})

	tests := []struct {
		name         string
		link         string // the feed item's link
		sourcePath   string // path of the source URL on src
		allowPrivate bool
		wantOther    int64  // requests that may reach other
		wantBody     string // text the post must contain
		wantRefused  int
	}{
		{name: "link to another loopback address is not fetched", link: other.URL + "/article.html",
			sourcePath: "/feed.xml", wantBody: "列表里的摘要文字", wantRefused: 1},
		{name: "link redirecting to another loopback address is refused", link: src.URL + "/to-other",
			sourcePath: "/feed.xml", wantBody: "列表里的摘要文字", wantRefused: 1},
		{name: "link redirecting to cloud metadata is refused", link: src.URL + "/to-metadata",
			sourcePath: "/feed.xml", wantBody: "列表里的摘要文字", wantRefused: 1},
		{name: "admin-named host:port is fetched", link: src.URL + "/article.html",
			sourcePath: "/feed.xml", wantBody: "文章正文来自页面"},
		{name: "redirect within the admin-named host is followed", link: src.URL + "/article.html",
			sourcePath: "/moved-feed", wantBody: "文章正文来自页面"},
		{name: "allow_private reaches the other address", link: other.URL + "/article.html",
			sourcePath: "/feed.xml", allowPrivate: true, wantOther: 1, wantBody: "文章正文来自页面"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other.hits.Store(0)
			feedBody.Store(rssWithLink(tt.link))
			f := NewFetcher(FetchOptions{}, discardLogger())
			s := config.Source{ID: "s", URL: src.URL + tt.sourcePath, Timezone: "Asia/Shanghai",
				FullText: &config.FullText{Selector: ".TRS_Editor"}, AllowPrivate: tt.allowPrivate}
			res, err := f.Poll(t.Context(), s, Validators{}, nil)
			if err != nil {
				t.Fatalf("Poll: %v", err)
			}
			if got := other.hits.Load(); got != tt.wantOther {
				t.Errorf("requests reaching 127.0.0.2: %d, want %d", got, tt.wantOther)
			}
			if len(res.Items) != 1 {
				t.Fatalf("items: %d, want 1 (a refused link keeps its post)", len(res.Items))
			}
			if got := res.Items[0].ContentHTML + res.Items[0].Summary; !strings.Contains(got, tt.wantBody) {
				t.Errorf("post text %q, want it to contain %q", got, tt.wantBody)
			}
			if len(res.Refused) != tt.wantRefused {
				t.Fatalf("refused links %+v, want %d", res.Refused, tt.wantRefused)
			}
			for _, r := range res.Refused {
				if !strings.Contains(r.Reason, "refused to connect") || r.URL == "" {
					t.Errorf("refusal %+v: want a URL and a reason in plain words", r)
				}
			}
		})
	}

	t.Run("source redirecting to a private address fails the poll", func(t *testing.T) {
		other.hits.Store(0)
		f := NewFetcher(FetchOptions{}, discardLogger())
		s := config.Source{ID: "s", URL: src.URL + "/to-other", Timezone: "Asia/Shanghai"}
		_, err := f.Poll(t.Context(), s, Validators{}, nil)
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindForbidden || !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("Poll: %v, want a KindForbidden *Error", err)
		}
		if !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "redirected to") {
			t.Errorf("error %q: want the reason and the redirect target", err)
		}
		if got := other.hits.Load(); got != 0 {
			t.Errorf("requests reaching 127.0.0.2: %d, want 0", got)
		}
	})

	t.Run("a host name resolving to loopback is refused at connect time", func(t *testing.T) {
		other.hits.Store(0)
		_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
		feedBody.Store(rssWithLink("http://localhost:" + port + "/article.html"))
		f := NewFetcher(FetchOptions{}, discardLogger())
		s := config.Source{ID: "s", URL: src.URL + "/feed.xml", Timezone: "Asia/Shanghai",
			FullText: &config.FullText{Selector: ".TRS_Editor"}}
		res, err := f.Poll(t.Context(), s, Validators{}, nil)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(res.Refused) != 1 {
			t.Errorf("refused %+v, want the localhost link", res.Refused)
		}
	})

	t.Run("Get of an admin URL is allowed, its redirects are not", func(t *testing.T) {
		other.hits.Store(0)
		f := NewFetcher(FetchOptions{}, discardLogger())
		if _, err := f.Get(t.Context(), other.URL+"/article.html", Validators{}); err != nil {
			t.Fatalf("Get of the admin's own URL: %v", err)
		}
		if _, err := f.Get(t.Context(), src.URL+"/to-other", Validators{}); !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("Get redirected to another private host: %v, want ErrForbiddenAddress", err)
		}
		if got := other.hits.Load(); got != 1 {
			t.Errorf("requests reaching 127.0.0.2: %d, want 1 (the direct Get only)", got)
		}
	})
}
