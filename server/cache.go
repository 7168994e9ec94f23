package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The render cache (feeds, list pages, posts) is bounded by entries and by
// bytes (both encodings counted); a body larger than a sixteenth of
// maxCacheBytes is rendered for each request and never kept.
const (
	maxCacheEntries = 2048
	maxCacheBytes   = 64 << 20
	// Search pages: a cache of their own (see Server.searchPages).
	maxSearchPages = 512
	maxSearchBytes = 16 << 20
)

// rendered is one cached response body in both encodings.
type rendered struct {
	etag         string
	lastModified time.Time // zero: no Last-Modified
	contentType  string
	cacheControl string
	plain        []byte
	gz           []byte
	plainLen     string // Content-Length values, formatted once
	gzLen        string
	// hdr holds the header values of a response, built once per entry so
	// that serving it allocates none.
	hdr renderedHeaders
}

// renderedHeaders are header value slices shared by every response of one
// entry. Each has len == cap, so a later Header.Add copies instead of
// writing into the shared array; nothing else modifies a value in place.
type renderedHeaders struct {
	contentType, cacheControl, etag, lastModified, plainLen, gzLen []string
}

// Header values that never change.
var (
	hdrVaryAE = []string{"Accept-Encoding"}
	hdrGzip   = []string{"gzip"}
)

// headerValue is a one-value header slice, or nil for "".
func headerValue(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// setETag sets the entry's ETag and its header value.
func (r *rendered) setETag(etag string) {
	r.etag = etag
	r.hdr.etag = headerValue(etag)
}

// renderCache holds rendered bodies by key; concurrent misses on one key
// render once.
type renderCache struct {
	mu       sync.Mutex
	max      int   // entries
	maxBytes int64 // sum of entries' sizes
	bytes    int64
	entries  map[string]*rendered
	inflight map[string]*call
}

// size is what an entry costs the cache.
func (r *rendered) size() int64 { return int64(len(r.plain) + len(r.gz) + 256) }

type call struct {
	done chan struct{}
	r    *rendered
	err  error
}

func newRenderCache(max int, maxBytes int64) *renderCache {
	return &renderCache{max: max, maxBytes: maxBytes, entries: make(map[string]*rendered), inflight: make(map[string]*call)}
}

// get returns the entry for key when its etag matches, else renders it with
// fn (once, however many callers ask at the same time) and keeps it.
func (c *renderCache) get(key, etag string, fn func() (*rendered, error)) (*rendered, error) {
	c.mu.Lock()
	if r, ok := c.entries[key]; ok && r.etag == etag {
		c.mu.Unlock()
		return r, nil
	}
	ik := key + "\x00" + etag
	if cl, ok := c.inflight[ik]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.r, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[ik] = cl
	c.mu.Unlock()

	cl.r, cl.err = fn()
	if cl.err == nil {
		cl.r.setETag(etag)
	}

	c.mu.Lock()
	delete(c.inflight, ik)
	if cl.err == nil {
		c.put(key, cl.r)
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.r, cl.err
}

// put keeps r under key, evicting arbitrary entries until both bounds
// hold. Called with c.mu held.
func (c *renderCache) put(key string, r *rendered) {
	if old, ok := c.entries[key]; ok {
		c.bytes -= old.size()
		delete(c.entries, key)
	}
	size := r.size()
	if size > c.maxBytes/16 {
		return
	}
	for k, e := range c.entries {
		if len(c.entries) < c.max && c.bytes+size <= c.maxBytes {
			break
		}
		c.bytes -= e.size()
		delete(c.entries, k)
	}
	c.entries[key] = r
	c.bytes += size
}

// newRendered compresses body and fills the header values.
func newRendered(body []byte, contentType, cacheControl string, lastModified time.Time) (*rendered, error) {
	return newRenderedLevel(body, gzip.BestCompression, contentType, cacheControl, lastModified)
}

// newRenderedLevel is newRendered with a gzip level: pages kept for a
// second are not worth the best compression's time.
func newRenderedLevel(body []byte, level int, contentType, cacheControl string, lastModified time.Time) (*rendered, error) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, level)
	if err != nil {
		return nil, fmt.Errorf("server: gzip: %w", err)
	}
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("server: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("server: gzip: %w", err)
	}
	rd := &rendered{
		lastModified: lastModified,
		contentType:  contentType,
		cacheControl: cacheControl,
		plain:        body,
		gz:           gz.Bytes(),
		plainLen:     strconv.Itoa(len(body)),
		gzLen:        strconv.Itoa(gz.Len()),
	}
	rd.hdr = renderedHeaders{
		contentType:  headerValue(contentType),
		cacheControl: headerValue(cacheControl),
		lastModified: headerValue(httpTime(lastModified)),
		plainLen:     headerValue(rd.plainLen),
		gzLen:        headerValue(rd.gzLen),
	}
	return rd, nil
}

// httpTime is t as an HTTP date, or "" for the zero time.
func httpTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

// makeETag derives a weak ETag (valid for both encodings) from the parts
// that determine a response.
func makeETag(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

// validators are what a conditional request is checked against.
type validators struct {
	etag         string
	lastModified time.Time
	cacheControl string
	// hdr, when set, holds the 304's header values built in advance (see
	// Server.feedValidators); nil: built for this response.
	hdr *validatorHeaders
}

// validatorHeaders are the header values of a 304, shared like
// renderedHeaders.
type validatorHeaders struct {
	etag, lastModified, cacheControl []string
}

func (v validators) headers() *validatorHeaders {
	if v.hdr != nil {
		return v.hdr
	}
	return &validatorHeaders{
		etag:         headerValue(v.etag),
		lastModified: headerValue(httpTime(v.lastModified)),
		cacheControl: headerValue(v.cacheControl),
	}
}

// notModified answers a conditional request with 304 when the client's copy
// is current (RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since).
func notModified(w http.ResponseWriter, r *http.Request, v validators) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if !etagMatch(inm, v.etag) {
			return false
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && !v.lastModified.IsZero() {
		t, err := http.ParseTime(ims)
		if err != nil || v.lastModified.Truncate(time.Second).After(t) {
			return false
		}
	} else {
		return false
	}
	// Canonical keys assigned directly: Header.Set would canonicalise
	// each key and allocate each value again.
	h := w.Header()
	vh := v.headers()
	h["Etag"] = vh.etag
	if vh.lastModified != nil {
		h["Last-Modified"] = vh.lastModified
	}
	h["Cache-Control"] = vh.cacheControl
	h["Vary"] = hdrVaryAE
	w.WriteHeader(http.StatusNotModified)
	return true
}

// etagMatch is the weak comparison of If-None-Match.
func etagMatch(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for part := range strings.SplitSeq(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || strings.TrimPrefix(p, "W/") == want {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, ae := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(ae, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
				continue
			}
			q := strings.ReplaceAll(params, " ", "")
			if strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q="), "0.") == "" {
				return false
			}
			return true
		}
	}
	return false
}

// write sends a cached body, gzipped when the client accepts it.
func (rd *rendered) write(w http.ResponseWriter, r *http.Request, status int) {
	h := w.Header()
	h["Content-Type"] = rd.hdr.contentType
	h["Cache-Control"] = rd.hdr.cacheControl
	h["Vary"] = hdrVaryAE
	if rd.hdr.etag != nil {
		h["Etag"] = rd.hdr.etag
	}
	if rd.hdr.lastModified != nil {
		h["Last-Modified"] = rd.hdr.lastModified
	}
	body := rd.plain
	if acceptsGzip(r) {
		h["Content-Encoding"] = hdrGzip
		h["Content-Length"] = rd.hdr.gzLen
		body = rd.gz
	} else {
		h["Content-Length"] = rd.hdr.plainLen
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
