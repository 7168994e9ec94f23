// Command standin serves stand-ins for everything transfeed talks to — a
// farm of Chinese RSS sources, an OpenAI-compatible translation API and the
// Telegram Bot API — on one listener, with seeded fault injection and JSON
// counters at /stats, for whole-system tests. With -gen-config it prints a
// transfeed config pointing at a running stand-in instead.
//
// See internal/standin/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/transfeed/transfeed/internal/standin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: standin [flags]              serve the stand-ins\n       standin -gen-config [flags]  print a transfeed config for a running stand-in\n\nflags:\n")
		fs.PrintDefaults()
	}
	var o standin.Options
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on; the chosen one is printed as \"listening http://HOST:PORT\"")
	fs.IntVar(&o.Sources, "sources", 20, "number of sources /src/0.xml … /src/{N-1}.xml (also for -gen-config)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of every random choice")
	fs.IntVar(&o.InitialPost, "initial-posts", 5, "posts each source has at start")
	fs.DurationVar(&o.NewEvery, "new-every", time.Minute, "each source gains a post every D (0 = never)")
	fs.DurationVar(&o.PubLag, "pub-lag", 0, "posts' pubDate is D before they appear (posts reach retention.max_age sooner)")
	fs.IntVar(&o.FeedItems, "feed-items", 20, "newest posts in each feed")
	fs.Float64Var(&o.FailRate, "fail-rate", 0, "fraction of feed requests answering 500/502/503")
	fs.Float64Var(&o.TimeoutRate, "timeout-rate", 0, "fraction of feed requests that stall for -stall (then 504) unless the client hangs up")
	fs.DurationVar(&o.Stall, "stall", 40*time.Second, "how long a stalled feed request hangs")
	fs.Float64Var(&o.ChangeRate, "change-rate", 0, "fraction of feed requests that edit one of the feed's posts (same GUID, new body)")
	fs.BoolVar(&o.Static, "static", false, "content never changes: no new posts, no edits (for the 304 benchmark)")
	fs.IntVar(&o.GBKEvery, "gbk-every", 5, "every Nth source (n%N == N-1) is GB2312-encoded; -1 = none")
	fs.DurationVar(&o.TrLatency, "tr-latency", 0, "added latency of every translation answer")
	fs.Float64Var(&o.TrErrorRate, "tr-error-rate", 0, "fraction of translation requests answering 503 or 429 (Retry-After: 1)")
	fs.Float64Var(&o.SumInventRate, "sum-invent-rate", 0, "fraction of posts whose summary invents a number (chosen by a hash of the post)")
	fs.StringVar(&o.TgToken, "tg-token", "123:abc", "the bot token the Bot API stand-in accepts")
	fs.Float64Var(&o.Tg429Rate, "tg-429-rate", 0, "fraction of sends answering 429 with retry_after 1")
	fs.DurationVar(&o.TgDownFrom, "tg-down-from", 0, "Bot API answers 502 (nginx HTML) from this long after start …")
	fs.DurationVar(&o.TgDownFor, "tg-down-for", 0, "… for this long (0 = never down)")
	fs.DurationVar(&o.TgMinGap, "tg-min-gap", time.Second, "sends to one chat closer than 90% of this count as pacing violations")
	tgLog := fs.String("tg-log", "", "append every accepted Telegram message as a JSON line to FILE")
	verbose := fs.Bool("v", false, "log warnings (malformed requests) to stderr")

	gen := fs.Bool("gen-config", false, "print a transfeed config for a stand-in at -base and exit")
	base := fs.String("base", "", "-gen-config: URL of the running stand-in, e.g. http://127.0.0.1:41234")
	schedule := fs.String("schedule", "@every 1m", "-gen-config: defaults.schedule (at least @every 1m)")
	channels := fs.Int("channels", 3, "-gen-config: Telegram channels; source n goes to channel n % channels")
	dataDir := fs.String("data", "./data", "-gen-config: data_dir")
	listenHTTP := fs.String("listen-http", "127.0.0.1:8080", "-gen-config: server.listen of transfeed")
	baseURL := fs.String("base-url", "", "-gen-config: server.base_url (default http://{listen-http})")
	backfill := fs.Int("backfill", 0, "-gen-config: channels' backfill (posts of a source's first poll to push)")
	storageDSN := fs.String("storage-dsn", "", "-gen-config: a postgres:// DSN (default: SQLite in -data)")
	perHost := fs.Int("per-host", 8, "-gen-config: fetch.per_host")
	concurrency := fs.Int("concurrency", 16, "-gen-config: fetch.concurrency")
	logLevel := fs.String("log-level", "info", "-gen-config: log.level")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "standin: unexpected arguments %q\n", fs.Args())
		return 2
	}

	if *gen {
		err := standin.GenerateConfig(stdout, standin.ConfigOptions{
			Sources: o.Sources, Base: *base, Schedule: *schedule, Channels: *channels, DataDir: *dataDir,
			ListenHTTP: *listenHTTP, BaseURL: *baseURL, Backfill: *backfill, Token: o.TgToken,
			StorageDSN: *storageDSN, PerHost: *perHost, Concurrency: *concurrency, LogLevel: *logLevel,
		})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return 0
	}

	level := slog.LevelError
	if *verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *tgLog != "" {
		f, err := os.OpenFile(*tgLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "standin: %v\n", err)
			return 1
		}
		defer f.Close()
		var mu sync.Mutex
		o.TgLog = func(line []byte) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := f.Write(line); err != nil {
				logger.Error("standin: write -tg-log", slog.Any("error", err))
			}
		}
	}
	srv, err := standin.New(o, logger, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "standin: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr())
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync()
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "standin: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	<-errc
	return 0
}
