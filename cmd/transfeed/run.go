package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// Build information, set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitInvalid = 2
)

const usage = `transfeed turns Chinese-language news into English feeds, a reading site and Telegram posts.

Usage: transfeed <command> [-config FILE] [flags]

Commands:
  run                          the daemon: scheduler, translation, delivery, HTTP server
  once [-source ID]...         one full cycle of every (or the named) source, then exit
  validate                     check the config; print every problem with file:line
  preview -source ID [-translate] [-json]
                               fetch and show one source's posts; stores and sends nothing
  preview -url URL [-translate] [-json]
                               discover URL, then show the posts its proposed source reads
  discover URL [-no-body]      find the feed of a page, or read its list of posts by shape;
                               print a ready source block (exit 1: nothing list-like)
  items [-source ID] [-limit N] [-json]
                               the stored posts, newest first
  migrate-store -from DRIVER:DSN -to DRIVER:DSN
                               copy the whole database into a new, empty one (e.g. SQLite to PostgreSQL)
  hash-password                read a password on stdin, print its hash for server.admin.password_file
  version                      version, commit, Go version

FILE defaults to $TRANSFEED_CONFIG, then config.yaml.
`

type getenvFunc func(string) (string, bool)

// run is main without the process: testable end to end. Standard input is
// empty (see runWithInput).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	return runWithInput(ctx, strings.NewReader(""), args, stdout, stderr, getenv)
}

// runWithInput is run with a standard input (read by hash-password).
func runWithInput(ctx context.Context, stdin io.Reader, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitInvalid
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "transfeed %s (commit %s, %s %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "validate":
		return cmdValidate(rest, stdout, stderr, getenv)
	case "once":
		return cmdOnce(ctx, rest, stdout, stderr, getenv)
	case "preview":
		return cmdPreview(ctx, rest, stdout, stderr, getenv)
	case "discover":
		return cmdDiscover(ctx, rest, stdout, stderr, getenv)
	case "items":
		return cmdItems(ctx, rest, stdout, stderr, getenv)
	case "run":
		return cmdRun(ctx, rest, stdout, stderr, getenv)
	case "migrate-store":
		return cmdMigrateStore(ctx, rest, stdout, stderr)
	case "hash-password":
		return cmdHashPassword(stdin, rest, stdout, stderr)
	}
	fmt.Fprintf(stderr, "transfeed: unknown command %q\n\n%s", cmd, usage)
	return exitInvalid
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (default $TRANSFEED_CONFIG, then config.yaml)")
	return fs, cfgPath
}

func configPath(flagValue string, getenv getenvFunc) string {
	if flagValue != "" {
		return flagValue
	}
	if v, ok := getenv("TRANSFEED_CONFIG"); ok && v != "" {
		return v
	}
	return "config.yaml"
}

// loadConfig loads and validates the config, printing problems. ok=false
// means the command must exit with exitInvalid.
func loadConfig(path string, stderr io.Writer, getenv getenvFunc) (*config.Config, bool) {
	cfg, err := config.Load(path, getenv)
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				fmt.Fprintln(stderr, p.String())
			}
			fmt.Fprintf(stderr, "transfeed: %s: %d problem(s); nothing was touched\n", path, len(ve.Problems))
		} else {
			fmt.Fprintf(stderr, "transfeed: %v\n", err)
		}
		return nil, false
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "%s (warning)\n", w.String())
	}
	return cfg, true
}

func cmdValidate(args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, cfgFlag := newFlagSet("validate", stderr)
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	path := configPath(*cfgFlag, getenv)
	cfg, ok := loadConfig(path, stderr, getenv)
	if !ok {
		return exitInvalid
	}
	tg := "disabled"
	if cfg.Telegram.Token != "" {
		tg = fmt.Sprintf("%d channel(s)", len(cfg.Telegram.Channels))
	}
	fmt.Fprintf(stdout, "%s: OK — %d source(s), %d feed(s), translation: %s, telegram: %s\n",
		path, len(cfg.Sources), len(cfg.Feeds), cfg.Translation.Provider, tg)
	return exitOK
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	switch cfg.Log.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured store; checkIntegrity reads the whole
// SQLite file first (the daemon's start, see store.Config.CheckIntegrity).
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, checkIntegrity bool) (*store.Store, error) {
	dsn := cfg.Storage.DSN.Reveal()
	if cfg.Storage.Driver != "postgres" {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	return store.Open(ctx, store.Config{Driver: cfg.Storage.Driver, DSN: dsn, CheckIntegrity: checkIntegrity}, logger)
}

func newFetcher(cfg *config.Config, logger *slog.Logger) *feeds.Fetcher {
	return feeds.NewFetcher(feeds.FetchOptions{
		UserAgent:    cfg.Fetch.UserAgent,
		Timeout:      cfg.Fetch.Timeout,
		MaxBody:      int64(cfg.Fetch.MaxBody),
		PerHost:      cfg.Fetch.PerHost,
		Concurrency:  cfg.Fetch.Concurrency,
		MaxRedirects: cfg.Fetch.MaxRedirects,
		PollTimeout:  cfg.Fetch.PollTimeout,
		Limits: feeds.Limits{
			TitleChars:   cfg.Limits.TitleChars,
			SummaryChars: cfg.Limits.SummaryChars,
			BodyBytes:    int(cfg.Limits.BodyBytes),
			Tags:         cfg.Limits.Tags,
		},
	}, logger)
}

// translationClient is the one HTTP client for translation providers.
func translationClient(cfg *config.Config) *http.Client {
	return &http.Client{
		Timeout: cfg.Translation.Timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: cfg.Translation.Timeout,
		},
	}
}

// itemJSON is the -json shape (scripts rely on these names; README.md, "Commands").
type itemJSON struct {
	ID            int64  `json:"id"`
	Source        string `json:"source"`
	GUID          string `json:"guid"`
	Link          string `json:"link"`
	Published     string `json:"published"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	ContentHTML   string `json:"content_html"`
	Language      string `json:"language"`
	State         string `json:"state"`
	TitleEN       string `json:"title_en"`
	SummaryEN     string `json:"summary_en"`
	ContentHTMLEN string `json:"content_html_en"`
	TranslatedBy  string `json:"translated_by"`
	Author        string `json:"author,omitempty"`
	// Meta is government document metadata: the page's own labels → values.
	Meta map[string]string `json:"meta,omitempty"`
	// DateUnknown: the source gave no date; published is empty and the post
	// is placed by first_seen.
	DateUnknown bool `json:"date_unknown,omitempty"`
	// Evidence names the rule that gave each field (preview only).
	Evidence     map[string]string `json:"evidence,omitempty"`
	ImageURL     string            `json:"image_url,omitempty"`
	Categories   []string          `json:"categories,omitempty"`
	FirstSeen    string            `json:"first_seen,omitempty"`
	TitleOnly    bool              `json:"title_only,omitempty"`
	Untranslated bool              `json:"untranslated,omitempty"`
	TranslateErr string            `json:"translate_error,omitempty"`
	// English is the post as feeds, the site and Telegram show it
	// (model.EnglishOf).
	English englishJSON `json:"english"`
}

type englishJSON struct {
	Title      string `json:"title"`
	Summary    string `json:"summary"`
	Translated bool   `json:"translated"`
	Notice     string `json:"notice"`
}

func toJSON(it model.Item) itemJSON {
	j := itemJSON{
		ID: it.ID, Source: it.SourceID, GUID: it.GUID, Link: it.Link, Title: it.Title, Summary: it.Summary,
		ContentHTML: it.ContentHTML, Language: it.Language, State: string(it.State), TitleEN: it.TitleEN,
		SummaryEN: it.SummaryEN, ContentHTMLEN: it.ContentHTMLEN, TranslatedBy: it.TranslatedBy,
		Author: it.Author, ImageURL: it.ImageURL, Categories: it.Categories, TitleOnly: it.TitleOnly,
		Untranslated: it.Untranslated, TranslateErr: it.TranslateErr,
		Meta: it.Meta, DateUnknown: it.DateUnknown, Evidence: it.Evidence,
	}
	en := model.EnglishOf(it)
	j.English = englishJSON{Title: en.Title, Summary: en.Summary, Translated: en.Translated, Notice: en.Notice}
	if !it.Published.IsZero() {
		j.Published = it.Published.UTC().Format(time.RFC3339)
	}
	if !it.FirstSeen.IsZero() {
		j.FirstSeen = it.FirstSeen.UTC().Format(time.RFC3339)
	}
	return j
}

func writeJSON(w io.Writer, items []model.Item) error {
	out := make([]itemJSON, 0, len(items))
	for _, it := range items {
		out = append(out, toJSON(it))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// writeText prints one post a line pair: id, time in China, state,
// source, the English title as every surface shows it (model.EnglishOf)
// with the original beside it, and the link.
func writeText(w io.Writer, items []model.Item) {
	loc := model.China()
	for _, it := range items {
		en := model.EnglishOf(it)
		title := en.Title
		if en.OriginalTitle != "" {
			title += "  —  " + en.OriginalTitle
		}
		fmt.Fprintf(w, "%-6d %s  %-10s %-18s %s\n       %s\n", it.ID, it.Published.In(loc).Format("2006-01-02 15:04 CST"),
			it.State, it.SourceID, title, it.Link)
	}
}
