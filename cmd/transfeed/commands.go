package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds"
	"github.com/transfeed/transfeed/feeds/discover"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/server"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/provider"
	"github.com/transfeed/transfeed/worker"
)

// app is everything a command wired from the config.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	st       *store.Store
	reg      *prometheus.Registry
	fetcher  *feeds.Fetcher
	engine   *translate.Engine // nil: translation.provider none
	provider string
	tg       *telegram.Client // nil: Telegram disabled
	botM     *bot.Metrics
	w        *worker.Worker
}

// buildEngine builds the translation engine over mem (nil engine when the
// provider is none). The store also gives the engine the human
// translations (corrections), which win for any provider, and the glossary
// entries added from the admin pages, merged with the configured glossary.
func buildEngine(cfg *config.Config, mem *store.Store, logger *slog.Logger, m *translate.Metrics) (*translate.Engine, string, error) {
	tr, err := provider.New(cfg.Translation, translationClient(cfg), logger)
	if err != nil || tr == nil {
		return nil, "", err
	}
	g, err := translate.BuildGlossary(cfg.Translation.Glossary, cfg.GlossaryFilePath())
	if err != nil {
		return nil, "", err
	}
	var shared []string // a summarizer of its own spends the same daily limit
	if name := summarizerName(cfg); name != "" && name != tr.Name() {
		shared = []string{name}
	}
	eng, err := translate.NewEngine(translate.EngineConfig{
		SourceLang:      cfg.Translation.SourceLang,
		TargetLang:      cfg.Translation.TargetLang,
		Glossary:        g,
		DailyCharLimit:  cfg.Translation.DailyCharLimit,
		MaxCharsPerPost: cfg.Translation.MaxCharsPerPost,
		SharedBudget:    shared,
		Human:           mem,
		StoredGlossary:  mem,
	}, tr, mem, logger, m)
	if err != nil {
		return nil, "", err
	}
	return eng, tr.Name(), nil
}

// newApp opens the store and wires every part (daemon: the store's
// integrity is checked first). The caller closes a.st.
func newApp(ctx context.Context, cfg *config.Config, stderr io.Writer, daemon bool) (*app, error) {
	a := &app{cfg: cfg, log: newLogger(cfg, stderr), reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := openStore(ctx, cfg, a.log, daemon)
	if err != nil {
		return nil, err
	}
	a.st = st
	var review []string
	for _, ch := range cfg.Telegram.Channels {
		if ch.Review {
			review = append(review, ch.Key())
		}
	}
	if err := st.SyncReviewChannels(ctx, review); err != nil {
		st.Close()
		return nil, err
	}
	a.fetcher = newFetcher(cfg, a.log)
	a.engine, a.provider, err = buildEngine(cfg, st, a.log, translate.NewMetrics(a.reg))
	if err != nil {
		st.Close()
		return nil, err
	}
	var alerter worker.Alerter
	if cfg.Telegram.Token != "" {
		a.tg, err = newTelegram(cfg, a.log)
		if err != nil {
			st.Close()
			return nil, err
		}
		a.botM = bot.NewMetrics(a.reg)
		alerter = a.tg
	}
	deps := worker.Deps{
		Config: cfg, Store: st, Fetcher: a.fetcher, Provider: a.provider, Route: router(cfg),
		Logger: a.log, Metrics: worker.NewMetrics(a.reg), Owner: instanceName(),
		SourceOwner:      installationName(cfg),
		TranslateWorkers: cfg.Translation.Concurrency,
	}
	if a.engine != nil {
		deps.Engine = a.engine
	}
	if alerter != nil {
		deps.Alerter = alerter
	}
	a.w, err = worker.New(deps)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// enableAdmin turns on the admin pages (server.admin.password_file set).
func enableAdmin(srv *server.Server, a *app) error {
	g, err := translate.BuildGlossary(a.cfg.Translation.Glossary, a.cfg.GlossaryFilePath())
	if err != nil {
		return err
	}
	deps := server.AdminDeps{Store: a.st, ConfigGlossary: g.Entries(),
		SourceLang: a.cfg.Translation.SourceLang, TargetLang: a.cfg.Translation.TargetLang}
	if a.engine != nil {
		deps.Engine = a.engine
	}
	return srv.EnableAdmin(deps)
}

// installationName is the same for every process of one installation on
// one host (the config file's absolute path), and differs between instances
// that run with their own config files.
func installationName(cfg *config.Config) string {
	h, _ := os.Hostname()
	p, err := filepath.Abs(cfg.Path)
	if err != nil {
		p = cfg.Path
	}
	sum := sha256.Sum256([]byte(p))
	return fmt.Sprintf("%s-%x", h, sum[:6])
}

func instanceName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

func cmdOnce(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("once", stderr)
	var only multiFlag
	fs.Var(&only, "source", "poll only this source (repeatable)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for benchmarks)")
	traceFile := fs.String("trace", "", "write an execution trace of the whole run to this file (go tool trace; for benchmarks)")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	cfg, ok := loadConfig(configPath(*cfgFlag, getenv), stderr, getenv)
	if !ok {
		return exitInvalid
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: -cpuprofile: %v\n", err)
			return exitInvalid
		}
		defer stop()
	}
	if *traceFile != "" {
		stop, err := startTrace(*traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: -trace: %v\n", err)
			return exitInvalid
		}
		defer stop()
	}
	srcs := cfg.Sources
	if len(only) > 0 {
		srcs = nil
		for _, id := range only {
			s, ok := cfg.Source(id)
			if !ok {
				fmt.Fprintf(stderr, "transfeed: no source with id %q in the config\n", id)
				return exitInvalid
			}
			srcs = append(srcs, s)
		}
	}
	a, err := newApp(ctx, cfg, stderr, false)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	defer a.st.Close()
	if cfg.Storage.Driver != "postgres" {
		reclaimOrphans(ctx, a.st, instanceName(), processAlive, a.log)
	}
	if err := a.w.Sync(ctx); err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	for _, r := range a.w.PollAll(ctx, srcs) {
		fmt.Fprintln(stdout, r.String())
	}
	n, err := a.w.TranslateDue(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	if n > 0 {
		fmt.Fprintf(stdout, "translation stage: %d post(s) handled\n", n)
	}
	if a.tg != nil {
		if err := a.tg.Check(ctx); err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		sender, err := newSender(a)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		sent, err := sender.RunOnce(ctx)
		fmt.Fprintf(stdout, "telegram: %d message(s) sent\n", sent)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "transfeed: telegram: %v\n", err)
		}
		editor, err := newEditor(a)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		edited, err := editor.RunOnce(ctx)
		if edited > 0 {
			fmt.Fprintf(stdout, "telegram: %d sent message(s) brought up to date\n", edited)
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "transfeed: telegram: %v\n", err)
		}
	}
	return exitOK
}

func cmdItems(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("items", stderr)
	source := fs.String("source", "", "only this source")
	limit := fs.Int("limit", 50, "at most this many posts")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	cfg, ok := loadConfig(configPath(*cfgFlag, getenv), stderr, getenv)
	if !ok {
		return exitInvalid
	}
	logger := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, logger, false)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	defer st.Close()
	q := store.ItemQuery{Limit: *limit}
	if *source != "" {
		q.SourceIDs = []string{*source}
	}
	items, err := st.ListItems(ctx, q)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %v\n", err)
		return exitFailure
	}
	if *asJSON {
		if err := writeJSON(stdout, items); err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	writeText(stdout, items)
	return exitOK
}

func cmdPreview(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("preview", stderr)
	source := fs.String("source", "", "the source to preview (required)")
	doTranslate := fs.Bool("translate", false, "translate the posts too (sends text to the provider; stores nothing)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	limit := fs.Int("limit", 0, "show at most this many posts (0: all)")
	pageURL := fs.String("url", "", "discover this page and preview the source it proposes (instead of -source)")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	var cfg *config.Config
	var src config.Source
	if *pageURL != "" {
		if *source != "" {
			fmt.Fprintln(stderr, "transfeed: preview takes -source ID or -url URL, not both")
			return exitInvalid
		}
		u, err := parsePageURL(*pageURL)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: preview -url: %v\n", err)
			return exitInvalid
		}
		c, ok := optionalConfig(*cfgFlag, stderr, getenv)
		if !ok {
			return exitInvalid
		}
		if c == nil {
			c = &config.Config{}
		}
		cfg = c
		r, err := discover.Discover(feeds.WithAdminURL(ctx, u), fetcherGetter{discoveryFetcher(c, stderr)}, u, discover.Options{NoBody: true})
		if err != nil && !errors.Is(err, discover.ErrNothing) {
			fmt.Fprintf(stderr, "transfeed: discover %s: %v\n", feeds.RedactURL(u), err)
			return exitFailure
		}
		p, found := r.Proposal()
		if !found {
			printDiscovery(stderr, r)
			return exitFailure
		}
		src = p
		fmt.Fprintf(stdout, "# %s: type %s, url %s (from transfeed discover)\n", src.ID, src.Type, feeds.RedactURL(src.URL))
	} else {
		c, ok := loadConfig(configPath(*cfgFlag, getenv), stderr, getenv)
		if !ok {
			return exitInvalid
		}
		cfg = c
		s, ok := cfg.Source(*source)
		if !ok {
			fmt.Fprintf(stderr, "transfeed: preview needs -source ID naming a configured source, or -url URL (got %q)\n", *source)
			return exitInvalid
		}
		src = s
	}
	logger := newLogger(cfg, stderr)
	res, err := newFetcher(cfg, logger).Poll(ctx, src, feeds.Validators{}, nil)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed: %s: %v\n", src.ID, err)
		return exitFailure
	}
	items := res.Items
	now := time.Now()
	for i := range items {
		items[i].ID = int64(i + 1)
		items[i].State = model.StatePreview
		items[i].FirstSeen = now // an undated post stays undated: shown as "date unknown (first seen …)"
	}
	if *limit > 0 && len(items) > *limit {
		items = items[:*limit]
	}
	var pairs [][]translate.SegmentPair
	if *doTranslate {
		// A memory that lives only as long as the command: preview stores
		// nothing in the installation's database.
		mem, err := store.Open(ctx, store.Config{DSN: ":memory:"}, logger)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		defer mem.Close()
		eng, _, err := buildEngine(cfg, mem, logger, nil)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		if eng == nil {
			fmt.Fprintln(stderr, "transfeed: -translate needs translation.provider set in the config")
			return exitInvalid
		}
		for i, it := range items {
			if !translate.NeedsTranslation(src.Translate, it) {
				pairs = append(pairs, nil)
				continue
			}
			r, err := eng.TranslateItem(ctx, it)
			if r != nil {
				t := r.Translation
				items[i].TitleEN, items[i].SummaryEN, items[i].ContentHTMLEN, items[i].TranslatedBy = t.TitleEN, t.SummaryEN, t.ContentHTMLEN, t.TranslatedBy
				pairs = append(pairs, r.Segments)
			} else {
				pairs = append(pairs, nil)
			}
			if err != nil {
				items[i].TranslateErr = err.Error()
			}
		}
	}
	if *asJSON {
		if err := writeJSON(stdout, items); err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	loc := model.China()
	fmt.Fprintf(stdout, "%s: %d post(s)\n", src.ID, len(items))
	for i, it := range items {
		fmt.Fprintf(stdout, "\n[%d] %s\n    %s · %s · lang=%s\n", i+1, it.Title, model.DateLabel(it, loc), it.Link, it.Language)
		if it.Summary != "" {
			fmt.Fprintf(stdout, "    %s\n", it.Summary)
		}
		if i < len(pairs) && pairs[i] != nil {
			for _, p := range pairs[i] {
				mark := ""
				if p.FromMemory {
					mark = " (memory)"
				}
				fmt.Fprintf(stdout, "    ZH: %s\n    EN%s: %s\n", model.OneLine(p.Original), mark, model.OneLine(p.English))
			}
		}
		if it.TranslateErr != "" {
			fmt.Fprintf(stdout, "    translation failed: %s\n", it.TranslateErr)
		}
	}
	return exitOK
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("run", stderr)
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	path := configPath(*cfgFlag, getenv)
	cfg, ok := loadConfig(path, stderr, getenv)
	if !ok {
		return exitInvalid
	}
	// SIGHUP reloads the config: the new one is validated first; an invalid
	// config is refused and the running one goes on.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		next, err := runUntilReload(ctx, cfg, path, stderr, getenv, hup)
		if err != nil {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
			return exitFailure
		}
		if next == nil {
			return exitOK
		}
		cfg = next
	}
}

// runUntilReload runs the daemon on cfg until ctx ends (returns nil, nil) or
// a SIGHUP brings a valid new config (returns it after a clean stop).
func runUntilReload(ctx context.Context, cfg *config.Config, path string, stderr io.Writer, getenv getenvFunc, hup <-chan os.Signal) (*config.Config, error) {
	a, err := newApp(ctx, cfg, stderr, true)
	if err != nil {
		return nil, err
	}
	defer a.st.Close()
	if cfg.Storage.Driver != "postgres" {
		reclaimOrphans(ctx, a.st, instanceName(), processAlive, a.log)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- runDaemon(runCtx, a) }()
	var next *config.Config
	for {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("transfeed stopped", slog.Any("error", err))
				return nil, err
			}
			if next != nil {
				a.log.Info("restarting with the reloaded config", slog.String("config", path))
				return next, nil
			}
			a.log.Info("transfeed stopped cleanly")
			return nil, nil
		case <-hup:
			var buf strings.Builder
			c, ok := loadConfig(path, &buf, getenv)
			if !ok {
				a.log.Error("config reload refused; the running config stays", slog.String("config", path),
					slog.String("problems", strings.TrimSpace(buf.String())))
				continue
			}
			a.log.Info("config reloaded; stopping the running parts", slog.String("config", path))
			next = c
			stop()
		}
	}
}

// runDaemon runs every long-lived part until ctx ends, then waits for all of
// them. The first part to fail stops the others.
func runDaemon(ctx context.Context, a *app) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	srv, err := server.New(a.cfg, a.st, a.reg, a.log.With(slog.String("component", "server")))
	if err != nil {
		return err
	}
	if a.cfg.Server.Admin.Enabled() {
		if err := enableAdmin(srv, a); err != nil {
			return err
		}
	}
	tgHealth := &telegramHealth{}
	if a.tg != nil {
		srv.SetTelegramHealth(tgHealth)
	}
	errc := make(chan error, 4)
	parts := 0
	start := func(name string, f func(context.Context) error) {
		parts++
		go func() {
			err := f(ctx)
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w", name, err)
				cancel(err)
			}
			errc <- err
		}()
	}
	start("worker", a.w.Run)
	if a.cfg.Server.Listen != "" {
		start("server", srv.Run)
	}
	if a.tg != nil {
		// Telegram down at start (or after a reload) stops nothing: it is
		// retried in the background and reported on /status.
		start("telegram", func(ctx context.Context) error { return runTelegram(ctx, a, tgHealth) })
	}
	a.log.Info("transfeed running", slog.Int("sources", len(a.cfg.Sources)), slog.String("listen", a.cfg.Server.Listen),
		slog.String("translation", a.cfg.Translation.Provider), slog.Bool("telegram", a.tg != nil))
	var first error
	for range parts {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// startTrace starts an execution trace of the run into path; the
// function it returns stops it.
func startTrace(path string) (func(), error) { return startRecording(path, trace.Start, trace.Stop) }

// startCPUProfile starts a CPU profile of the run into path; the function it
// returns stops it.
func startCPUProfile(path string) (func(), error) {
	return startRecording(path, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// startRecording creates path and starts a runtime recording into it.
func startRecording(path string, start func(io.Writer) error, stop func()) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() {
		stop()
		f.Close()
	}, nil
}
