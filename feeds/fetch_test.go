package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
)

const miniFeed = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><link>https://example.gov.cn/</link>
<item><title>第一条新闻</title><link>https://example.gov.cn/a/1.html</link><pubDate>2023-05-25 23:31:00</pubDate></item></channel></rss>`

func TestConditionalGet(t *testing.T) {
	const etag = `"v1"`
	const lastMod = "Thu, 25 May 2023 15:31:00 GMT"
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if n == 1 {
			if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
				t.Errorf("first request carries validators: %v", r.Header)
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Last-Modified", lastMod)
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = io.WriteString(w, miniFeed)
			return
		}
		if got := r.Header.Get("If-None-Match"); got != etag {
			t.Errorf("If-None-Match = %q, want %q", got, etag)
		}
		if got := r.Header.Get("If-Modified-Since"); got != lastMod {
			t.Errorf("If-Modified-Since = %q, want %q", got, lastMod)
		}
		w.WriteHeader(http.StatusNotModified)
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	src := config.Source{ID: "s", URL: srv.URL}
	first, err := f.Poll(context.Background(), src, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || len(first.Items) != 1 {
		t.Fatalf("first poll: NotModified=%v items=%d", first.NotModified, len(first.Items))
	}
	if first.Validators != (Validators{ETag: etag, LastModified: lastMod}) {
		t.Fatalf("validators = %+v", first.Validators)
	}
	second, err := f.Poll(context.Background(), src, first.Validators, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || len(second.Items) != 0 {
		t.Errorf("second poll: NotModified=%v items=%d, want 304 and nothing parsed", second.NotModified, len(second.Items))
	}
	if second.Validators != first.Validators {
		t.Errorf("304 lost the validators: %+v", second.Validators)
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGetBodies(t *testing.T) {
	const maxBody = 1 << 20
	feedGz := gzipBytes(t, []byte(miniFeed))
	bomb := gzipBytes(t, bytes.Repeat([]byte{' '}, 20<<20)) // 20 MB of spaces: ~20 KB compressed
	var bigWritten atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gzip":
			if r.Header.Get("Accept-Encoding") != "gzip" {
				t.Errorf("Accept-Encoding = %q, want gzip", r.Header.Get("Accept-Encoding"))
			}
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(feedGz)
		case "/bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
			_, _ = w.Write(bomb)
		case "/big-declared":
			w.Header().Set("Content-Length", strconv.Itoa(60<<20))
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			// Never write the body: the client must refuse on the header alone.
			<-r.Context().Done()
		case "/big-chunked":
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for range (60 << 20) / len(chunk) {
				n, err := w.Write(chunk)
				bigWritten.Add(int64(n))
				if err != nil {
					return
				}
			}
		}
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 10 * time.Second, MaxBody: maxBody}, discardLogger())

	t.Run("gzip decoded", func(t *testing.T) {
		resp, err := f.Get(context.Background(), srv.URL+"/gzip", Validators{})
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != miniFeed {
			t.Errorf("body = %q", resp.Body)
		}
	})
	for _, path := range []string{"/bomb", "/big-declared", "/big-chunked"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Get(context.Background(), srv.URL+path, Validators{})
			fe, ok := errors.AsType[*Error](err)
			if !ok || fe.Kind != KindTooLarge || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want KindTooLarge", err)
			}
			if want := "response larger than 1 MiB limit"; !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		})
	}
	// The chunked server keeps writing until the connection is closed;
	// what it managed to write must stay far below 60 MB.
	if n := bigWritten.Load(); n > 16<<20 {
		t.Errorf("server wrote %d bytes before the client gave up; want the body abandoned near %d", n, maxBody)
	}
}

func TestGetErrors(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop2", http.StatusFound)
	})
	mux.HandleFunc("/loop2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = io.WriteString(w, "<rss>")
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	f := NewFetcher(FetchOptions{Timeout: 200 * time.Millisecond, MaxRedirects: 3}, discardLogger())
	tests := []struct {
		url        string
		kind       ErrorKind
		status     int
		retryAfter time.Duration
		msg        string
	}{
		{url: srv.URL + "/loop", kind: KindRedirects, msg: "too many redirects (redirect loop?)"},
		{url: srv.URL + "/500", kind: KindHTTPStatus, status: 500, msg: "HTTP 500 Internal Server Error from " + srv.URL + "/500"},
		{url: srv.URL + "/stall", kind: KindTimeout, msg: "timed out after 200ms fetching " + srv.URL + "/stall"},
		{url: srv.URL + "/stall-body", kind: KindTimeout, msg: "timed out after 200ms"},
		{url: srv.URL + "/429", kind: KindHTTPStatus, status: 429, retryAfter: 2 * time.Minute, msg: "retry after 2m0s"},
		{url: srv.URL + "/503", kind: KindHTTPStatus, status: 503, retryAfter: time.Hour, msg: "HTTP 503 Service Unavailable"},
		{url: closedURL + "/x", kind: KindNetwork, msg: "connection refused"},
		{url: srv.URL + "/500?api_key=TOPSECRET&token=T0K", kind: KindHTTPStatus, status: 500, msg: "api_key=xxxxx"},
		{url: "http://user:PA55@" + strings.TrimPrefix(srv.URL, "http://") + "/500", kind: KindHTTPStatus, status: 500, msg: "xxxxx@"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			_, err := f.Get(context.Background(), tc.url, Validators{})
			fe, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if fe.Kind != tc.kind || fe.StatusCode != tc.status {
				t.Errorf("kind %v status %d, want %v %d (%v)", fe.Kind, fe.StatusCode, tc.kind, tc.status, err)
			}
			if tc.retryAfter != 0 && (fe.RetryAfter < tc.retryAfter-2*time.Second || fe.RetryAfter > tc.retryAfter) {
				t.Errorf("RetryAfter = %s, want %s", fe.RetryAfter, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
			for _, secret := range []string{"TOPSECRET", "T0K", "PA55"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", fe), secret) {
					t.Errorf("secret %q leaked: %v", secret, err)
				}
			}
		})
	}
}

func TestGetCancelled(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 10 * time.Second}, discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		<-arrived
		cancel()
	})
	_, err := f.Get(ctx, srv.URL, Validators{})
	wg.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// concurrencyServer blocks every request until released and records the
// peak number of requests in flight, overall and per server.
type concurrencyServer struct {
	mu      sync.Mutex
	cur     map[string]int
	peak    map[string]int
	total   int
	peakAll int
	arrived chan struct{}
	release chan struct{}
}

func (c *concurrencyServer) handler(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.cur[name]++
		c.total++
		c.peak[name] = max(c.peak[name], c.cur[name])
		c.peakAll = max(c.peakAll, c.total)
		c.mu.Unlock()
		c.arrived <- struct{}{}
		<-c.release
		c.mu.Lock()
		c.cur[name]--
		c.total--
		c.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
	}
}

func TestConcurrencyLimits(t *testing.T) {
	const perHost, global, hosts, perServer = 2, 3, 3, 4
	cs := &concurrencyServer{cur: map[string]int{}, peak: map[string]int{}, arrived: make(chan struct{}, 100), release: make(chan struct{})}
	var urls []string
	for i := range hosts {
		srv := httptest.NewServer(cs.handler(strconv.Itoa(i)))
		defer srv.Close()
		for range perServer {
			urls = append(urls, srv.URL)
		}
	}
	f := NewFetcher(FetchOptions{Timeout: 10 * time.Second, PerHost: perHost, Concurrency: global}, discardLogger())
	var wg sync.WaitGroup
	errs := make(chan error, len(urls))
	for _, u := range urls {
		wg.Go(func() {
			resp, err := f.Get(context.Background(), u, Validators{ETag: `"x"`})
			if err == nil && !resp.NotModified {
				err = errors.New("want 304")
			}
			errs <- err
		})
	}
	// Keep as many requests in flight as the fetcher allows, then release
	// one at a time, so the peak is observed under full pressure. When no
	// further request arrives shortly, the limits are holding the rest back.
	arrived, released := 0, 0
	for released < len(urls) {
		if arrived < len(urls) {
			select {
			case <-cs.arrived:
				arrived++
				continue
			case <-time.After(50 * time.Millisecond):
			}
		}
		if released < arrived {
			cs.release <- struct{}{}
			released++
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if cs.peakAll > global {
		t.Errorf("peak concurrent requests %d, want ≤ %d", cs.peakAll, global)
	}
	for name, p := range cs.peak {
		if p > perHost {
			t.Errorf("server %s: peak %d concurrent requests, want ≤ %d", name, p, perHost)
		}
	}
	f.mu.Lock()
	if len(f.hosts) != 0 {
		t.Errorf("host slots leaked: %d", len(f.hosts))
	}
	f.mu.Unlock()
}

func TestAcquireHonoursContext(t *testing.T) {
	f := NewFetcher(FetchOptions{PerHost: 1, Concurrency: 1}, discardLogger())
	release, err := f.acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.acquire(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("per-host wait: err = %v, want Canceled", err)
	}
	if _, err := f.acquire(ctx, "b"); !errors.Is(err, context.Canceled) {
		t.Errorf("global wait: err = %v, want Canceled", err)
	}
	release()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hosts) != 0 {
		t.Errorf("host slots leaked: %v", f.hosts)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2023, 5, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"Thu, 25 May 2023 12:10:00 GMT", 10 * time.Minute},
		{"Thu, 25 May 2023 11:10:00 GMT", 0},
		{"soon", 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
