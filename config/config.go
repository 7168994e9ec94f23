// Package config holds transfeed's YAML schema: decoding (strict), defaults,
// ${VAR} expansion, *_file secrets and validation that reports every problem
// with file:line.
package config

import (
	"time"

	"github.com/transfeed/transfeed/model"
)

// Config is the whole configuration file. See config.example.yaml and
// README.md ("Configuration reference") for the meaning of each key.
type Config struct {
	DataDir     string            `yaml:"data_dir"`
	Storage     StorageConfig     `yaml:"storage"`
	Log         LogConfig         `yaml:"log"`
	Server      ServerConfig      `yaml:"server"`
	Fetch       FetchConfig       `yaml:"fetch"`
	Limits      LimitsConfig      `yaml:"limits"`
	Defaults    DefaultsConfig    `yaml:"defaults"`
	Translation TranslationConfig `yaml:"translation"`
	Sources     []Source          `yaml:"sources"`
	Feeds       []Feed            `yaml:"feeds"`
	Telegram    TelegramConfig    `yaml:"telegram"`
	Retention   RetentionConfig   `yaml:"retention"`
	// Summarizer is the OpenAI-compatible engine that writes the summaries
	// of channels with summary: llm, when it is not the translation
	// provider (translation.provider: openai is used when this is absent).
	Summarizer *OpenAIConfig `yaml:"summarizer"`

	// Path is the file the config was loaded from ("" when read from a reader).
	Path string `yaml:"-"`

	// Warnings are things allowed but probably wrong (a secret file other
	// users can read), with file:line; the config is valid.
	Warnings []Problem `yaml:"-"`

	// dir is the directory relative paths (*_file, glossary_file) are resolved against.
	dir string
}

// StorageConfig selects the database.
type StorageConfig struct {
	Driver  string `yaml:"driver"` // sqlite (default) | postgres
	DSN     Secret `yaml:"dsn"`    // sqlite: file path (default <data_dir>/transfeed.db); postgres: postgres://…
	DSNFile string `yaml:"dsn_file"`
}

// LogConfig controls logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info (default) | warn | error
	Format string `yaml:"format"` // text (default) | json
}

// ServerConfig is the HTTP server.
type ServerConfig struct {
	Listen  string      `yaml:"listen"`   // default 127.0.0.1:8080; "" disables the server in `run`
	BaseURL string      `yaml:"base_url"` // absolute links in feeds and Telegram posts
	Title   string      `yaml:"title"`
	Admin   AdminConfig `yaml:"admin"`
}

// AdminConfig is the admin side of the site (/admin/…): review and
// correction pages. Off unless PasswordFile is set.
type AdminConfig struct {
	// PasswordFile holds the admin password's argon2id or bcrypt hash (as
	// printed by `transfeed hash-password`), never the password itself.
	PasswordFile string `yaml:"password_file"`
	// PasswordHash is the file's content, read by the loader.
	PasswordHash Secret `yaml:"-"`
}

// Enabled reports whether the admin pages are on.
func (a AdminConfig) Enabled() bool { return a.PasswordHash != "" }

// FetchConfig is the politeness and safety policy for every HTTP fetch of a source.
type FetchConfig struct {
	UserAgent    string        `yaml:"user_agent"`
	Timeout      time.Duration `yaml:"timeout"`       // whole request, default 30s
	MaxBody      ByteSize      `yaml:"max_body"`      // default 10MB, enforced after decompression
	PerHost      int           `yaml:"per_host"`      // concurrent requests per host, default 2
	Concurrency  int           `yaml:"concurrency"`   // concurrent requests overall, default 8
	MaxRedirects int           `yaml:"max_redirects"` // default 5
	// PollTimeout bounds one whole poll of a source (list or feed plus its
	// article pages); default 5m. Posts whose pages were not fetched in time
	// are left for the next poll.
	PollTimeout time.Duration `yaml:"poll_timeout"`
	// MaxItemsPerPoll is the most new posts one poll stores (newest
	// first); the rest are taken by the next polls. Default 200.
	MaxItemsPerPoll int `yaml:"max_items_per_poll"`
}

// RetentionConfig bounds what is kept. Zero values keep everything.
type RetentionConfig struct {
	// MaxAge deletes posts published longer ago than this (0: never).
	MaxAge time.Duration `yaml:"max_age"`
	// MaxPostsPerSource keeps only the newest this many posts of each
	// source (0: all).
	MaxPostsPerSource int `yaml:"max_posts_per_source"`
	// SweepEvery is how often the sweep runs (default 24h, at least 1m).
	SweepEvery time.Duration `yaml:"sweep_every"`
}

// LimitsConfig caps what one post may hold, whatever a source sends: a
// longer field is cut when the post is stored.
type LimitsConfig struct {
	TitleChars   int      `yaml:"title_chars"`   // default 1000
	SummaryChars int      `yaml:"summary_chars"` // default 2000
	BodyBytes    ByteSize `yaml:"body_bytes"`    // cleaned HTML, default 512KB; cut at a block boundary
	Tags         int      `yaml:"tags"`          // categories kept per post, default 50
}

// DefaultsConfig holds per-source defaults.
type DefaultsConfig struct {
	Schedule  string `yaml:"schedule"`  // default "@every 15m"
	Timezone  string `yaml:"timezone"`  // default Asia/Shanghai
	Translate string `yaml:"translate"` // auto (default) | always | never
}

// TranslationConfig selects and tunes the machine-translation provider.
type TranslationConfig struct {
	Provider       string               `yaml:"provider"` // none (default) | openai | deepl | google | libretranslate
	SourceLang     string               `yaml:"source_lang"`
	TargetLang     string               `yaml:"target_lang"`
	OpenAI         OpenAIConfig         `yaml:"openai"`
	DeepL          DeepLConfig          `yaml:"deepl"`
	Google         GoogleConfig         `yaml:"google"`
	LibreTranslate LibreTranslateConfig `yaml:"libretranslate"`
	Glossary       map[string]string    `yaml:"glossary"`
	GlossaryFile   string               `yaml:"glossary_file"` // TSV source<TAB>target, relative to the config file
	DailyCharLimit int64                `yaml:"daily_char_limit"`
	OnFailure      model.OnFailure      `yaml:"on_failure"` // hold (default) | original
	HoldFor        time.Duration        `yaml:"hold_for"`   // default 6h
	Timeout        time.Duration        `yaml:"timeout"`    // per provider request, default 60s
	// Concurrency is how many posts are translated at once (default 1).
	// Above 1, daily_char_limit may be overshot by the posts in flight.
	Concurrency int `yaml:"concurrency"`
	// MaxCharsPerPost caps the characters of one post sent for translation
	// (title, summary, then the body's leading paragraphs); a longer post is
	// marked "partially translated". Default 30000; 0 = no cap.
	MaxCharsPerPost int `yaml:"max_chars_per_post"`
}

// OpenAIConfig is any OpenAI-compatible chat-completions server.
type OpenAIConfig struct {
	BaseURL    string `yaml:"base_url"`
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	Model      string `yaml:"model"`
}

// DeepLConfig is DeepL API v2.
type DeepLConfig struct {
	BaseURL    string `yaml:"base_url"` // empty: api-free.deepl.com for keys ending ":fx", else api.deepl.com
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
}

// GoogleConfig is Google Cloud Translation v2 (basic).
type GoogleConfig struct {
	BaseURL    string `yaml:"base_url"`
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
}

// LibreTranslateConfig is a LibreTranslate server.
type LibreTranslateConfig struct {
	BaseURL    string `yaml:"base_url"`
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
}

// Source is one polled source.
type Source struct {
	ID        string    `yaml:"id"`
	Name      string    `yaml:"name"`
	URL       string    `yaml:"url"`
	Type      string    `yaml:"type"`      // feed (default) | html | gkmlpt
	Schedule  string    `yaml:"schedule"`  // cron spec or @every; default from defaults
	Timezone  string    `yaml:"timezone"`  // for zone-less dates; default from defaults
	Translate string    `yaml:"translate"` // auto | always | never; default from defaults
	Tags      []string  `yaml:"tags"`
	FullText  *FullText `yaml:"full_text"`
	HTML      *HTMLList `yaml:"html"` // type html: nil finds the list by its shape at every poll
	// AllowPrivate lets the source's links and redirects reach loopback,
	// private and link-local addresses (an intranet site). Without it only
	// the host:port written in URL may be such an address.
	AllowPrivate bool `yaml:"allow_private"`

	// Line is the line of the source's entry in the config file (for messages).
	Line int `yaml:"-"`

	// loc is Timezone loaded once by Load; see Location.
	loc *time.Location
}

// FullText asks for each new post's own page to be fetched and its body extracted.
type FullText struct {
	Selector    string `yaml:"selector"`    // CSS selector of the article body
	Readability bool   `yaml:"readability"` // use readability when no selector is given
}

// HTMLList describes a list page for type: html. Each value is a CSS
// selector, optionally followed by @attribute ("a@href").
type HTMLList struct {
	Item  string `yaml:"item"`
	Title string `yaml:"title"`
	Link  string `yaml:"link"`
	Date  string `yaml:"date"`
	// Summary is optional: a selector for a short text inside the item.
	Summary string `yaml:"summary"`
}

// Feed is one republished output feed.
type Feed struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Sources     []string `yaml:"sources"`
	Tags        []string `yaml:"tags"`
	Limit       int      `yaml:"limit"` // default 50
	Bilingual   bool     `yaml:"bilingual"`

	Line int `yaml:"-"`
}

// TelegramConfig is the Telegram bot. An empty token disables it.
type TelegramConfig struct {
	Token     Secret    `yaml:"token"`
	TokenFile string    `yaml:"token_file"`
	APIURL    string    `yaml:"api_url"` // default https://api.telegram.org
	Admins    []int64   `yaml:"admins"`
	Channels  []Channel `yaml:"channels"`
}

// Values of channels[].summary and channels[].link_preview.
const (
	SummaryLead     = "lead"
	SummaryLLM      = "llm"
	LinkPreviewOff  = "off"
	LinkPreviewPost = "post"
)

// Channel is one Telegram destination and its routing rules.
type Channel struct {
	Chat         string   `yaml:"chat"`   // @username or numeric id
	Thread       int      `yaml:"thread"` // forum topic id
	Sources      []string `yaml:"sources"`
	Tags         []string `yaml:"tags"`
	Include      []string `yaml:"include"` // keywords or /regex/ on English title+summary
	Exclude      []string `yaml:"exclude"`
	SummaryChars int      `yaml:"summary_chars"` // default 600
	Photo        *bool    `yaml:"photo"`         // default true
	Backfill     int      `yaml:"backfill"`
	// Summary is what a post's message says of its text: SummaryLead (the
	// leading paragraphs, default) or SummaryLLM (a 2–3 sentence summary
	// written by the summarizer, the lead when it has none).
	Summary string `yaml:"summary"`
	// Template is a Go text/template for the message (see the README,
	// "Message templates"); "" is the built-in format.
	Template string `yaml:"template"`
	// LinkPreview is LinkPreviewPost (preview the post's English page,
	// default) or LinkPreviewOff.
	LinkPreview string `yaml:"link_preview"`
	// TemplateLine is the config line where the template text starts.
	TemplateLine int `yaml:"-"`
	// Review holds each post until an admin approves it (Approve / Skip /
	// Retranslate buttons in a private chat with the bot).
	Review bool `yaml:"review"`

	Line int `yaml:"-"`
}
