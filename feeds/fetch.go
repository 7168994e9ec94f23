package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/transfeed/transfeed/config"
)

// FetchOptions is the politeness and safety policy of a Fetcher. Zero
// fields get the config defaults (config.DefaultUserAgent, …).
type FetchOptions struct {
	UserAgent    string
	Timeout      time.Duration // whole request including the body
	MaxBody      int64         // bytes, enforced after decompression
	PerHost      int           // concurrent requests per host (host:port)
	Concurrency  int           // concurrent requests overall
	MaxRedirects int
	Limits       Limits // caps on each post's fields
	// PollTimeout bounds one whole Poll (0: none): posts whose article pages
	// were not fetched by then are left out (PollResult.Deferred).
	PollTimeout time.Duration
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.UserAgent == "" {
		o.UserAgent = config.DefaultUserAgent
	}
	if o.Timeout <= 0 {
		o.Timeout = config.DefaultFetchTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = int64(config.DefaultMaxBody)
	}
	if o.PerHost <= 0 {
		o.PerHost = config.DefaultPerHost
	}
	if o.Concurrency <= 0 {
		o.Concurrency = config.DefaultConcurrency
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = config.DefaultMaxRedirects
	}
	return o
}

// Validators are the HTTP cache validators of the last successful fetch.
type Validators struct {
	ETag         string
	LastModified string
}

// Response is a fetched body. Body holds the raw (decompressed, not
// charset-decoded) bytes.
type Response struct {
	URL         string // final URL after redirects
	StatusCode  int
	Body        []byte
	ContentType string
	Validators  Validators // from this response; the request's when absent
	NotModified bool       // 304: Body is empty
}

// Fetcher fetches sources and article pages under one politeness policy:
// one shared *http.Client, a global concurrency limit and a per-host limit.
// It is safe for concurrent use.
type Fetcher struct {
	opts   FetchOptions
	client *http.Client
	logger *slog.Logger
	global chan struct{}

	mu    sync.Mutex
	hosts map[string]*hostSlot

	feedParser *gofeed.Parser
	norm       *Normalizer
	compute    chan struct{} // see computing
}

type hostSlot struct {
	sem  chan struct{}
	refs int
}

// NewFetcher builds a Fetcher and its HTTP client. It does no I/O.
func NewFetcher(opts FetchOptions, logger *slog.Logger) *Fetcher {
	opts = opts.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialTimeout := min(10*time.Second, opts.Timeout)
	open := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	guarded := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: guardControl}
	transport := newGuardTransport(func(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
		return &http.Transport{
			DialContext:           dial,
			TLSHandshakeTimeout:   dialTimeout,
			ResponseHeaderTimeout: opts.Timeout,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          max(100, opts.Concurrency*2),
			MaxIdleConnsPerHost:   opts.PerHost,
			ForceAttemptHTTP2:     true,
			DisableCompression:    true, // we ask for gzip and decompress under MaxBody ourselves
		}
	}, open, guarded)
	maxRedirects := opts.MaxRedirects
	client := &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return &redirectError{max: maxRedirects}
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("feeds: redirect to unsupported scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}
	fp := gofeed.NewParser()
	fp.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return &Fetcher{
		opts:       opts,
		client:     client,
		logger:     logger,
		global:     make(chan struct{}, opts.Concurrency),
		hosts:      make(map[string]*hostSlot),
		feedParser: fp,
		norm:       NewNormalizerWithLimits(opts.Limits),
		compute:    make(chan struct{}, max(runtime.GOMAXPROCS(0)-1, 1)),
	}
}

// computing runs fn, a poll's CPU-bound stretch with no I/O in it (parsing
// the feed, normalising its posts), on one of GOMAXPROCS-1 slots (at least
// one), so that however many polls run at once they leave a core to the
// rest of the process: SQLite's one writer, which every poll's posts wait
// for, ran about half of its turns' time without a core when sixteen polls
// parsed beside it (a cold import of 10,000 posts over 1,000 sources was 5 %
// slower without the slots).
func (f *Fetcher) computing(fn func()) {
	f.compute <- struct{}{}
	defer func() { <-f.compute }()
	fn()
}

// Options returns the effective options (defaults applied).
func (f *Fetcher) Options() FetchOptions { return f.opts }

// acquire takes a per-host slot, then a global slot, waiting in FIFO order
// (Go channel senders queue in order) until ctx is done. The returned
// release must be called exactly once.
func (f *Fetcher) acquire(ctx context.Context, host string) (release func(), err error) {
	f.mu.Lock()
	hs := f.hosts[host]
	if hs == nil {
		hs = &hostSlot{sem: make(chan struct{}, f.opts.PerHost)}
		f.hosts[host] = hs
	}
	hs.refs++
	f.mu.Unlock()

	dropRef := func() {
		f.mu.Lock()
		hs.refs--
		if hs.refs == 0 {
			delete(f.hosts, host)
		}
		f.mu.Unlock()
	}
	select {
	case hs.sem <- struct{}{}:
	case <-ctx.Done():
		dropRef()
		return nil, ctx.Err()
	}
	select {
	case f.global <- struct{}{}:
	case <-ctx.Done():
		<-hs.sem
		dropRef()
		return nil, ctx.Err()
	}
	return func() {
		<-f.global
		<-hs.sem
		dropRef()
	}, nil
}

// Get fetches rawURL with a conditional GET. A 304 gives NotModified and no
// body. Failures are *Error values (a cancelled ctx is returned as is).
func (f *Fetcher) Get(ctx context.Context, rawURL string, v Validators) (*Response, error) {
	safe := RedactURL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: KindNetwork, URL: safe, Err: err, msg: "invalid URL (want http:// or https://): " + safe}
	}
	pol := policyFrom(ctx)
	if pol == nil {
		// Called with a URL of the admin's own (no source policy): its
		// host:port is the admin-named one; redirects elsewhere are guarded.
		pol = &fetchPolicy{adminHost: hostPort(u)}
		ctx = withPolicy(ctx, pol)
	}
	release, err := f.acquire(ctx, strings.ToLower(u.Host))
	if err != nil {
		return nil, fmt.Errorf("feeds: waiting to fetch %s: %w", safe, err)
	}
	defer release()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Kind: KindNetwork, URL: safe, Err: err, msg: "invalid URL: " + safe}
	}
	req.Header.Set("User-Agent", f.opts.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.7, */*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}

	resp, err := f.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); errors.Is(ctxErr, context.Canceled) {
			return nil, fmt.Errorf("feeds: fetch %s: %w", safe, ctxErr)
		}
		fe := classifyTransportError(err, safe, f.opts.Timeout)
		if fe.Kind == KindForbidden {
			pol.refused.add(RefusedLink{URL: safe, Reason: fe.Error()})
		}
		return nil, fe
	}
	defer resp.Body.Close()

	out := &Response{
		URL:         resp.Request.URL.String(),
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Validators: Validators{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
		},
	}
	if resp.StatusCode == http.StatusNotModified {
		if out.Validators.ETag == "" {
			out.Validators.ETag = v.ETag
		}
		if out.Validators.LastModified == "" {
			out.Validators.LastModified = v.LastModified
		}
		out.NotModified = true
		return out, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var ra time.Duration
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			ra = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		_, _ = io.CopyN(io.Discard, resp.Body, 4096) // lets the connection be reused when short
		return nil, statusError(safe, resp.StatusCode, ra)
	}
	if resp.Header.Get("Expires") == "0" {
		// RFC 9111: an invalid Expires means "already expired"; servers that
		// send it usually send meaningless validators too (miniflux does the same).
		out.Validators = Validators{}
	}
	if resp.ContentLength > f.opts.MaxBody {
		return nil, tooLargeError(safe, f.opts.MaxBody)
	}

	var body io.Reader = resp.Body
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, &Error{Kind: KindParse, URL: safe, Err: err, msg: "the server sent a broken gzip stream: " + err.Error() + " (" + safe + ")"}
		}
		defer zr.Close()
		body = zr
	default:
		return nil, &Error{Kind: KindParse, URL: safe, msg: fmt.Sprintf("the server sent an unsupported compression %q (%s)", enc, safe)}
	}
	data, err := readCapped(body, f.opts.MaxBody)
	if errors.Is(err, ErrTooLarge) {
		return nil, tooLargeError(safe, f.opts.MaxBody)
	}
	if err != nil {
		if ctxErr := ctx.Err(); errors.Is(ctxErr, context.Canceled) {
			return nil, fmt.Errorf("feeds: fetch %s: %w", safe, ctxErr)
		}
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return nil, &Error{Kind: KindParse, URL: safe, Err: err, msg: "the server sent a broken gzip stream: " + err.Error() + " (" + safe + ")"}
		}
		return nil, classifyTransportError(err, safe, f.opts.Timeout)
	}
	out.Body = data
	return out, nil
}

// readCapped reads r to the end, refusing more than max bytes: it reads at
// most max+1 bytes, so a gzip bomb or an endless body costs at most max.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}
