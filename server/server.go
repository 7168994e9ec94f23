// Package server is transfeed's HTTP side: the output feeds (RSS, Atom, JSON
// Feed) of every configured feed and every source, the reading site, the
// status page, health and metrics.
//
// Feeds and pages are rendered once per change of their posts and kept in
// memory as plain and gzipped bytes; the version of a feed (the store's
// FeedVersion of its sources: counters kept on write, never a scan) is its
// ETag, so a conditional request is answered with 304 without rendering
// anything. One version load per feed runs at a time (single flight).
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transfeed/transfeed/internal/redact"

	"github.com/microcosm-cc/bluemonday"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/singleflight"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds/syndicate"
	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// ItemReader is what the feeds and the site read. *store.Store implements it.
type ItemReader interface {
	ListItems(ctx context.Context, q store.ItemQuery) ([]model.Item, error)
	GetItem(ctx context.Context, id int64) (model.Item, error)
	FeedVersion(ctx context.Context, sourceIDs []string) (store.FeedVersion, error)
	Search(ctx context.Context, q store.SearchQuery) (store.SearchResult, error)
}

// StatusReader is what /status and /healthz read. *store.Store implements it.
type StatusReader interface {
	Ping(ctx context.Context) error
	ListSources(ctx context.Context, now time.Time) ([]model.Source, error)
	TranslationBacklog(ctx context.Context) (int, error)
	GetUsage(ctx context.Context, day, provider string) (model.Usage, error)
	GetProviderState(ctx context.Context, provider string) (model.ProviderState, error)
	DeliveryBacklogs(ctx context.Context) ([]model.DeliveryBacklog, error)
	ListChannelStates(ctx context.Context) ([]model.ChannelState, error)
	ListRefusedLinks(ctx context.Context) (map[string]store.RefusedLinks, error)
}

// Store is everything the server reads. *store.Store implements it.
type Store interface {
	ItemReader
	StatusReader
}

// PageSize is the number of posts per site page.
const PageSize = 30

// renderVersion is part of every ETag: bump it when the rendered output
// changes for the same posts, so clients do not keep stale bytes.
const renderVersion = "1"

// Timeouts of the HTTP server.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 5 * time.Second
)

// Server serves transfeed's HTTP routes.
type Server struct {
	cfg    *config.Config
	st     Store
	logger *slog.Logger
	reg    *prometheus.Registry
	b      *syndicate.Builder
	policy *bluemonday.Policy
	loc    *time.Location
	title  string
	tmpl   map[string]*template.Template
	// synonyms expand search queries with the glossary's other language.
	synonyms *fulltext.Synonyms
	feeds    []*outFeed          // configured feeds, in config order
	sources  []*outFeed          // one per source, in config order
	byFeed   map[string]*outFeed // feed id → feed
	bySrc    map[string]*outFeed // source id → source feed
	srcInfo  map[string]syndicate.SourceInfo
	cache    *renderCache
	// searchPages keeps rendered search pages apart from cache, so that
	// many distinct queries cannot push the feeds out.
	searchPages *renderCache
	// snippetTexts keeps the text search results' snippets are cut from.
	snippetTexts *snippetTexts
	// telegram is the daemon's Telegram connection (nil: not reported).
	telegram TelegramHealth
	metrics  *httpMetrics
	// versions memoises feed versions for versionTTL (see version).
	verMu      sync.Mutex
	versions   map[string]memoVersion
	versionTTL time.Duration
	// statusTTL is how long a rendered /status is reused (0: never).
	statusTTL time.Duration
	// verLoads lets one version load per feed run at a time: requests
	// arriving meanwhile wait for its answer instead of asking the store too.
	verLoads singleflight.Group
	// indexMemo memoises the index page's validators (see feedValidators).
	indexMemo atomic.Pointer[validatorMemo]
	started   time.Time
	now       func() time.Time // the clock of /status
	// fingerprint covers the configuration that shapes rendered output.
	fingerprint string
	handler     http.Handler
	// admin is set by EnableAdmin; nil: no /admin routes.
	admin *admin
	// corr reads the correction history for the public pages; nil when
	// the store keeps none.
	corr CorrectionReader
}

// CorrectionReader is what the public pages read of corrections.
// *store.Store implements it.
type CorrectionReader interface {
	ListCorrections(ctx context.Context, itemID int64) ([]store.Correction, error)
	CorrectedItems(ctx context.Context, ids []int64) (map[int64]time.Time, error)
}

// New builds a Server. reg receives the HTTP metrics and is served on
// /metrics (nil: a private registry). It does no I/O.
func New(cfg *config.Config, st Store, reg *prometheus.Registry, logger *slog.Logger) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("server: nil config")
	}
	if st == nil {
		return nil, errors.New("server: nil store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	base := cfg.Server.BaseURL
	if base == "" {
		base = "http://localhost:8080"
	}
	policy := syndicate.NewPolicy()
	loc := model.China()
	b, err := syndicate.NewBuilder(base, policy, loc)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	// The glossary's pairs are search synonyms (大湾区 ↔ Greater Bay Area).
	gl, err := translate.BuildGlossary(cfg.Translation.Glossary, cfg.GlossaryFilePath())
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	m, err := newHTTPMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		st:           st,
		logger:       logger,
		reg:          reg,
		b:            b,
		policy:       policy,
		loc:          loc,
		title:        cfg.Server.Title,
		tmpl:         tmpl,
		synonyms:     fulltext.NewSynonyms(gl.Entries()),
		cache:        newRenderCache(maxCacheEntries, maxCacheBytes),
		searchPages:  newRenderCache(maxSearchPages, maxSearchBytes),
		snippetTexts: newSnippetTexts(maxSnippetTexts, maxSnippetTextBytes),
		versions:     map[string]memoVersion{},
		versionTTL:   versionTTL,
		statusTTL:    statusTTL,
		metrics:      m,
		started:      time.Now().UTC(),
		now:          time.Now,
	}
	if s.title == "" {
		s.title = "transfeed"
	}
	if cr, ok := st.(CorrectionReader); ok {
		s.corr = cr
	}
	s.buildFeeds()
	s.fingerprint = s.configFingerprint(base)
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's http.Handler (routes, metrics, security headers).
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on cfg.Server.Listen and serves until ctx is cancelled, then
// shuts down, giving in-flight requests 5 s.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.Server.Listen == "" {
		return errors.New("server: no listen address")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	s.logger.Info("http server listening", slog.String("addr", ln.Addr().String()), slog.String("base_url", s.b.URL("/")))
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down cleanly. It
// closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: serve: %w", err)
	}
	if shutErr != nil {
		return fmt.Errorf("server: shutdown: %w", shutErr)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /posts/{id}", s.handlePost)
	mux.HandleFunc("GET /feeds/{file}", s.handleFeed)
	mux.HandleFunc("GET /sources/{file}", s.handleSource)
	mux.HandleFunc("GET /feeds.opml", s.handleOPML)
	mux.HandleFunc("GET /search", s.handleSearch)
	for _, fm := range outFormats() {
		mux.HandleFunc("GET /search."+fm.ext, s.handleSearchFeed(fm.ext))
	}
	mux.HandleFunc("GET /archive/{year}/{month}", s.handleArchive)
	mux.HandleFunc("GET /status", s.handleStatus)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	s.adminRoutes(mux)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) })
	return s.metrics.wrap(securityHeaders(mux))
}

// securityHeaders sets the headers every response carries.
func securityHeaders(next http.Handler) http.Handler {
	// Values shared by every response (see renderedHeaders), keys canonical.
	nosniff, noReferrer := []string{"nosniff"}, []string{"no-referrer"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["Referrer-Policy"] = noReferrer
		next.ServeHTTP(w, r)
	})
}

// cspHTML is the Content-Security-Policy of every HTML page.
const cspHTML = "default-src 'none'; img-src * data:; style-src 'self'; base-uri 'none'; form-action 'self'"

func (s *Server) configFingerprint(base string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", renderVersion, base, s.title)
	for _, f := range append(append([]*outFeed(nil), s.feeds...), s.sources...) {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%t\x00%s\x00", f.path, f.title, f.description, f.limit, f.bilingual, strings.Join(f.sourceIDs, ","))
	}
	for _, src := range s.cfg.Sources {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", src.ID, src.Name, redact.URL(src.URL))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
