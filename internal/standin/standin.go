// Package standin is a stand-in for the outside world of transfeed, for
// whole-system tests (soak, multi-instance, kill -9, performance): one HTTP
// handler serving a farm of Chinese RSS sources (/src/{n}.xml), an
// OpenAI-compatible translation API (/v1/chat/completions) and the Telegram
// Bot API (/bot{token}/{method}), with faults injected from a seeded RNG and
// counters exposed as JSON at /stats. See README.md for the flags and the
// JSON fields.
package standin

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value of a rate disables that fault.
type Options struct {
	Seed uint64 // seeds every random choice (faults, bodies, schedule offsets)

	// Source farm.
	Sources     int           // number of sources, /src/0.xml … /src/{Sources-1}.xml
	InitialPost int           // posts each source has at start (0 = default 5)
	NewEvery    time.Duration // each source gains a post every NewEvery (0 = never)
	// PubLag is subtracted from every post's pubDate: a post appears in
	// its feed PubLag after the date it says it was published, so posts
	// reach an age limit (retention.max_age) minutes after they appear.
	PubLag      time.Duration
	FeedItems   int           // newest posts per feed (default 20)
	FailRate    float64       // fraction of feed requests answering 500/502/503
	TimeoutRate float64       // fraction of feed requests that stall for Stall
	Stall       time.Duration // default 40s
	ChangeRate  float64       // fraction of feed requests that edit an existing post's body
	Static      bool          // content never changes (no new posts, no edits)
	GBKEvery    int           // every GBKEvery-th source (n%GBKEvery == GBKEvery-1) is GB2312; default 5, <0 disables

	// Translation stand-in.
	TrLatency   time.Duration // added to every answer
	TrErrorRate float64       // fraction answering 503 or 429 (Retry-After: 1)
	// SumInventRate is the fraction of posts whose summary (a summary
	// request's answer) gets a number the post does not have, chosen by
	// a hash of the post, so the same post always gets the same answer.
	SumInventRate float64

	// Bot API stand-in.
	TgToken     string        // accepted token (default "123:abc"); others get 401
	Tg429Rate   float64       // fraction of sends answering 429 retry_after=1
	TgDownFrom  time.Duration // after start, answer 502 (nginx HTML) …
	TgDownFor   time.Duration // … for this long (0 = never down)
	TgMinGap    time.Duration // pacing: sends to one chat closer than this are violations (default 1s)
	TgLog       func(line []byte)
	TgMaxUpdate time.Duration // cap on a getUpdates long poll (default 60s)
}

func (o *Options) defaults() error {
	if o.Sources < 0 {
		return errors.New("standin: negative sources")
	}
	for _, r := range []float64{o.FailRate, o.TimeoutRate, o.ChangeRate, o.TrErrorRate, o.SumInventRate, o.Tg429Rate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("standin: rate %g out of [0, 1]", r)
		}
	}
	if o.InitialPost < 0 || o.FeedItems < 0 {
		return errors.New("standin: negative initial posts or feed items")
	}
	if o.PubLag < 0 {
		return errors.New("standin: negative pub lag")
	}
	if o.InitialPost == 0 {
		o.InitialPost = 5
	}
	if o.FeedItems <= 0 {
		o.FeedItems = 20
	}
	if o.Stall <= 0 {
		o.Stall = 40 * time.Second
	}
	if o.GBKEvery == 0 {
		o.GBKEvery = 5
	}
	if o.TgToken == "" {
		o.TgToken = "123:abc"
	}
	if o.TgMinGap <= 0 {
		o.TgMinGap = time.Second
	}
	if o.TgMaxUpdate <= 0 {
		o.TgMaxUpdate = 60 * time.Second
	}
	return nil
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	logger *slog.Logger
	now    func() time.Time
	start  time.Time
	mux    *http.ServeMux

	rngMu sync.Mutex
	rng   *rand.Rand

	farm *farm
	tr   *translator
	tg   *telegram
}

// New returns a Server whose clock starts now. now may be nil (time.Now).
func New(opts Options, logger *slog.Logger, now func() time.Time) (*Server, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{
		opts:   opts,
		logger: logger,
		now:    now,
		start:  now(),
		rng:    rand.New(rand.NewPCG(opts.Seed, 0x5eed)),
	}
	s.farm = newFarm(s)
	s.tr = &translator{s: s}
	s.tg = newTelegram(s)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /src/{file}", s.farm.serveFeed)
	mux.HandleFunc("GET /src/{n}/{post}", s.farm.servePost)
	mux.HandleFunc("GET /img/{name}", serveImage)
	mux.HandleFunc("POST /v1/chat/completions", s.tr.serve)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/bot") {
			s.tg.serve(w, r)
			return
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /stats", s.serveStats)
	mux.HandleFunc("GET /published", s.servePublished)
	mux.HandleFunc("GET /messages", s.serveMessages)
	s.mux = mux
	return s, nil
}

// Handler serves every role. Long requests (stalls, getUpdates) end when the
// request's context does, so give the http.Server a BaseContext that is
// cancelled on shutdown.
func (s *Server) Handler() http.Handler { return s.mux }

// chance reports true with probability p, from the seeded RNG.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

// intn returns a seeded random int in [0, n).
func (s *Server) intn(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}
