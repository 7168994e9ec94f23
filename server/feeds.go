package server

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/transfeed/transfeed/internal/redact"

	"github.com/transfeed/transfeed/feeds/syndicate"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// defaultFeedLimit is the number of posts in a feed without a configured limit.
const defaultFeedLimit = 50

// Cache-Control values.
const (
	cacheFeeds = "public, max-age=300"
	cachePages = "public, max-age=60"
)

// outFeed is one republished feed: a configured feed or a single source.
type outFeed struct {
	kind        string // "feeds" | "sources"
	id          string
	path        string // "/feeds/zhaoqing"
	title       string
	description string
	sourceIDs   []string
	limit       int
	bilingual   bool
	// verKey is the key of the version memo (the source ids joined once).
	verKey string
	// keys are the render cache keys of the page (0) and of each format
	// (1 + its index in outFormats), and memo their validators for the
	// feed version they were made for: a request for an unchanged feed
	// builds no ETag.
	keys [1 + numFormats]string
	memo [1 + numFormats]atomic.Pointer[validatorMemo]
}

// validatorMemo is the validators of one response for one feed version.
type validatorMemo struct {
	v   feedVersion
	val validators
}

// init fills the keys derived from the feed's path and sources.
func (f *outFeed) init() {
	f.verKey = versionKey(f.sourceIDs)
	f.keys[0] = f.path
	for i, fm := range outFormats() {
		f.keys[1+i] = f.path + "." + fm.ext
	}
}

// versionKey is the version memo's key for a set of sources.
func versionKey(sourceIDs []string) string { return strings.Join(sourceIDs, "\x00") }

// feedValidators returns the validators of response slot (see
// outFeed.keys) of feed f (nil: the index) at version v, built once per
// version.
func (s *Server) feedValidators(f *outFeed, slot int, v feedVersion, cacheControl string) validators {
	memo, key := &s.indexMemo, "/"
	if f != nil {
		memo, key = &f.memo[slot], f.keys[slot]
	}
	if m := memo.Load(); m != nil && m.v == v && m.val.cacheControl == cacheControl {
		return m.val
	}
	val := validators{etag: makeETag(s.fingerprint, key, v.String()), lastModified: v.changed, cacheControl: cacheControl}
	val.hdr = val.headers()
	memo.Store(&validatorMemo{v: v, val: val})
	return val
}

// numFormats is len(outFormats()).
const numFormats = 3

// format is one output format of a feed.
type format struct {
	idx         int // position in outFormats
	ext         string
	contentType string
	render      func(io.Writer, syndicate.Channel, []syndicate.Entry) error
}

func outFormats() []format {
	return []format{
		{0, "rss", "application/rss+xml; charset=utf-8", syndicate.RSS},
		{1, "atom", "application/atom+xml; charset=utf-8", syndicate.Atom},
		{2, "json", "application/feed+json; charset=utf-8", syndicate.JSON},
	}
}

func formatOf(ext string) (format, bool) {
	for _, f := range outFormats() {
		if f.ext == ext {
			return f, true
		}
	}
	return format{}, false
}

// translating reports whether a translation provider is configured. When
// it is not, feeds and pages neither claim English nor machine translation.
func (s *Server) translating() bool {
	p := strings.TrimSpace(strings.ToLower(s.cfg.Translation.Provider))
	return p != "" && p != "none"
}

func (s *Server) buildFeeds() {
	s.byFeed = make(map[string]*outFeed)
	s.bySrc = make(map[string]*outFeed)
	s.srcInfo = make(map[string]syndicate.SourceInfo)
	for _, src := range s.cfg.Sources {
		name := src.Name
		if name == "" {
			name = src.ID
		}
		s.srcInfo[src.ID] = syndicate.SourceInfo{ID: src.ID, Name: name, URL: redact.URL(src.URL)}
		of := &outFeed{
			kind: "sources", id: src.ID, path: "/sources/" + src.ID,
			title:       name + " (in English)",
			description: "Posts from " + name + ", machine-translated into English.",
			sourceIDs:   []string{src.ID}, limit: defaultFeedLimit,
		}
		if !s.translating() {
			of.title, of.description = name, "Posts from "+name+", as published (translation is off)."
		}
		of.init()
		s.sources = append(s.sources, of)
		s.bySrc[src.ID] = of
	}
	for _, f := range s.cfg.Feeds {
		of := &outFeed{
			kind: "feeds", id: f.ID, path: "/feeds/" + f.ID,
			title: f.Title, description: f.Description,
			sourceIDs: s.cfg.FeedSourceIDs(f), limit: f.Limit, bilingual: f.Bilingual,
		}
		if of.title == "" {
			of.title = f.ID
		}
		if of.description == "" {
			of.description = of.title + ": posts machine-translated into English by " + s.title + "."
			if !s.translating() {
				of.description = of.title + ": posts as published, collected by " + s.title + " (translation is off)."
			}
		}
		if of.limit <= 0 {
			of.limit = defaultFeedLimit
		}
		of.init()
		s.feeds = append(s.feeds, of)
		s.byFeed[f.ID] = of
	}
}

// feedVersion is the version of a set of sources' ready posts, as the
// store keeps it on write.
type feedVersion struct {
	changed time.Time
	count   int
	version int64
}

// versionTTL is how long a feed's version is trusted before the store is
// asked again. A second keeps conditional requests (the bulk of a feed's
// traffic) off the database while a new post still shows within a second;
// feeds are served with a much longer max-age anyway.
const versionTTL = time.Second

type memoVersion struct {
	v  feedVersion
	at time.Time
}

// version returns the memoised version of the sources' feed, loading it
// when older than versionTTL. Concurrent loads of one feed's version are
// one load (single flight), so a burst of requests at the moment the memo
// expires asks the store once, not once per request.
func (s *Server) version(ctx context.Context, f *outFeed) (feedVersion, error) {
	var sourceIDs []string
	key := ""
	if f != nil {
		sourceIDs, key = f.sourceIDs, f.verKey
	}
	now := s.now()
	s.verMu.Lock()
	m, ok := s.versions[key]
	s.verMu.Unlock()
	if ok && s.versionTTL > 0 && now.Sub(m.at) < s.versionTTL {
		return m.v, nil
	}
	ch := s.verLoads.DoChan(key, func() (any, error) {
		// Detached from the first caller: the others wait for this answer.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		v, err := s.loadVersion(lctx, sourceIDs)
		if err != nil {
			return v, err
		}
		s.verMu.Lock()
		s.versions[key] = memoVersion{v: v, at: now}
		s.verMu.Unlock()
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return feedVersion{}, r.Err
		}
		return r.Val.(feedVersion), nil
	case <-ctx.Done():
		return feedVersion{}, fmt.Errorf("server: feed version: %w", ctx.Err())
	}
}

func (s *Server) loadVersion(ctx context.Context, sourceIDs []string) (feedVersion, error) {
	v, err := s.st.FeedVersion(ctx, sourceIDs)
	if err != nil {
		return feedVersion{}, fmt.Errorf("server: feed version: %w", err)
	}
	return feedVersion{changed: v.Changed.UTC(), count: v.Ready, version: v.Version}, nil
}

func (v feedVersion) String() string {
	return strconv.FormatInt(v.version, 36) + "." + strconv.FormatInt(v.changed.UnixNano(), 36) + "." + strconv.Itoa(v.count)
}

func (s *Server) handleFeed(w http.ResponseWriter, r *http.Request) {
	s.serveFeedOrPage(w, r, s.byFeed)
}

func (s *Server) handleSource(w http.ResponseWriter, r *http.Request) {
	s.serveFeedOrPage(w, r, s.bySrc)
}

// serveFeedOrPage serves /feeds/{id}.{rss,atom,json} and the page /feeds/{id}.
func (s *Server) serveFeedOrPage(w http.ResponseWriter, r *http.Request, set map[string]*outFeed) {
	file := r.PathValue("file")
	id, ext, hasExt := strings.Cut(file, ".")
	f, ok := set[id]
	if !ok {
		s.notFound(w, r)
		return
	}
	if !hasExt {
		s.servePostList(w, r, f)
		return
	}
	fm, ok := formatOf(ext)
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	v, err := s.version(ctx, f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	key := f.keys[1+fm.idx]
	val := s.feedValidators(f, 1+fm.idx, v, cacheFeeds)
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get(key, val.etag, func() (*rendered, error) {
		return s.renderFeed(ctx, f, fm, v)
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rd.write(w, r, http.StatusOK)
}

func (s *Server) renderFeed(ctx context.Context, f *outFeed, fm format, v feedVersion) (*rendered, error) {
	start := time.Now()
	items, err := s.st.ListItems(ctx, store.ItemQuery{SourceIDs: f.sourceIDs, States: []model.State{model.StateReady}, Limit: f.limit})
	if err != nil {
		return nil, fmt.Errorf("server: list items: %w", err)
	}
	entries := make([]syndicate.Entry, 0, len(items))
	for _, it := range items {
		entries = append(entries, s.b.Entry(it, s.source(it.SourceID), f.bilingual))
	}
	updated := v.changed
	if updated.IsZero() {
		updated = s.started
	}
	ch := syndicate.Channel{
		Title:       f.title,
		Description: f.description,
		Link:        s.b.URL(f.path),
		SelfURL:     s.b.URL(f.path + "." + fm.ext),
		Language:    s.feedLanguage(),
		ID:          s.b.FeedID(f.path),
		Updated:     updated,
	}
	var buf bytes.Buffer
	if err := fm.render(&buf, ch, entries); err != nil {
		return nil, fmt.Errorf("server: render %s.%s: %w", f.path, fm.ext, err)
	}
	rd, err := newRendered(buf.Bytes(), fm.contentType, cacheFeeds, v.changed)
	if err != nil {
		return nil, err
	}
	s.logger.Debug("feed rendered", slog.String("feed", f.path), slog.String("format", fm.ext),
		slog.Int("items", len(entries)), slog.Duration("took", time.Since(start)))
	return rd, nil
}

func (s *Server) source(id string) syndicate.SourceInfo {
	if si, ok := s.srcInfo[id]; ok {
		return si
	}
	return syndicate.SourceInfo{ID: id, Name: id}
}

// OPML 2.0 document listing every output feed.
type opml struct {
	XMLName xml.Name    `xml:"opml"`
	Version string      `xml:"version,attr"`
	Title   string      `xml:"head>title"`
	Body    []opmlGroup `xml:"body>outline"`
}

type opmlGroup struct {
	Text     string        `xml:"text,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

type opmlOutline struct {
	Type    string `xml:"type,attr"`
	Text    string `xml:"text,attr"`
	Title   string `xml:"title,attr"`
	XMLURL  string `xml:"xmlUrl,attr"`
	HTMLURL string `xml:"htmlUrl,attr"`
}

func (s *Server) handleOPML(w http.ResponseWriter, r *http.Request) {
	val := validators{etag: makeETag(s.fingerprint, "opml"), cacheControl: cacheFeeds}
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get("/feeds.opml", val.etag, func() (*rendered, error) {
		doc := opml{Version: "2.0", Title: s.title}
		for _, g := range []struct {
			name string
			fs   []*outFeed
		}{{"Feeds", s.feeds}, {"Sources", s.sources}} {
			grp := opmlGroup{Text: g.name}
			for _, f := range g.fs {
				grp.Outlines = append(grp.Outlines, opmlOutline{
					Type: "rss", Text: syndicate.CleanText(f.title), Title: syndicate.CleanText(f.title),
					XMLURL: s.b.URL(f.path + ".rss"), HTMLURL: s.b.URL(f.path),
				})
			}
			if len(grp.Outlines) > 0 {
				doc.Body = append(doc.Body, grp)
			}
		}
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		enc := xml.NewEncoder(&buf)
		enc.Indent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return nil, fmt.Errorf("server: opml: %w", err)
		}
		buf.WriteString("\n")
		return newRendered(buf.Bytes(), "text/x-opml; charset=utf-8", cacheFeeds, time.Time{})
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rd.write(w, r, http.StatusOK)
}

// feedLanguage is "en" when posts are translated, else none (the sources'
// own languages, which may differ from post to post).
func (s *Server) feedLanguage() string {
	if s.translating() {
		return "en"
	}
	return ""
}
