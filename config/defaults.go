package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
)

// Default values (README.md, "Configuration reference").
const (
	DefaultDataDir         = "./data"
	DefaultListen          = "127.0.0.1:8080"
	DefaultBaseURL         = "http://localhost:8080"
	DefaultTitle           = "transfeed"
	DefaultUserAgent       = "transfeed/1.0 (+https://github.com/transfeed/transfeed)"
	DefaultFetchTimeout    = 30 * time.Second
	DefaultMaxBody         = ByteSize(10 * 1000 * 1000)
	DefaultPerHost         = 2
	DefaultConcurrency     = 8
	DefaultMaxRedirects    = 5
	DefaultPollTimeout     = 5 * time.Minute
	DefaultMaxItemsPoll    = 200
	DefaultSchedule        = "@every 15m"
	DefaultTimezone        = "Asia/Shanghai"
	DefaultOpenAIBaseURL   = "https://api.openai.com/v1"
	DefaultOpenAIModel     = "gpt-4o-mini"
	DefaultGoogleBaseURL   = "https://translation.googleapis.com"
	DefaultLibreBaseURL    = "http://localhost:5000"
	DefaultHoldFor         = 6 * time.Hour
	DefaultTranslateLimit  = 60 * time.Second
	DefaultTelegramAPIURL  = "https://api.telegram.org"
	DefaultFeedLimit       = 50
	DefaultSummaryChars    = 600
	DefaultTitleCap        = 1000
	DefaultSummaryCap      = 2000
	DefaultBodyCap         = ByteSize(512 * 1000)
	DefaultTagsCap         = 50
	DefaultMaxCharsPerPost = 30000
	DefaultSweepEvery      = 24 * time.Hour
)

// applyDefaults fills every key that was left out. Strings default when
// empty; numbers and durations only when the key is absent, so that an
// explicit 0 is validated rather than silently replaced.
func (l *loader) applyDefaults(c *Config) {
	str := func(p *string, def string) {
		if strings.TrimSpace(*p) == "" {
			*p = def
		}
	}
	num := func(path string, p *int, def int) {
		if !l.has(path) {
			*p = def
		}
	}
	dur := func(path string, p *time.Duration, def time.Duration) {
		if !l.has(path) {
			*p = def
		}
	}

	str(&c.DataDir, DefaultDataDir)
	str(&c.Storage.Driver, "sqlite")
	if c.Storage.Driver == "sqlite" && c.Storage.DSN == "" && c.Storage.DSNFile == "" {
		c.Storage.DSN = Secret(filepath.Join(c.DataDir, "transfeed.db"))
	}
	str(&c.Log.Level, "info")
	str(&c.Log.Format, "text")

	if !l.has("server.listen") {
		c.Server.Listen = DefaultListen // an explicit "" disables the server
	}
	str(&c.Server.BaseURL, DefaultBaseURL)
	c.Server.BaseURL = strings.TrimRight(c.Server.BaseURL, "/")
	str(&c.Server.Title, DefaultTitle)

	str(&c.Fetch.UserAgent, DefaultUserAgent)
	dur("fetch.timeout", &c.Fetch.Timeout, DefaultFetchTimeout)
	if !l.has("fetch.max_body") {
		c.Fetch.MaxBody = DefaultMaxBody
	}
	num("fetch.per_host", &c.Fetch.PerHost, DefaultPerHost)
	num("fetch.concurrency", &c.Fetch.Concurrency, DefaultConcurrency)
	num("fetch.max_redirects", &c.Fetch.MaxRedirects, DefaultMaxRedirects)
	dur("fetch.poll_timeout", &c.Fetch.PollTimeout, DefaultPollTimeout)
	num("fetch.max_items_per_poll", &c.Fetch.MaxItemsPerPoll, DefaultMaxItemsPoll)

	dur("retention.sweep_every", &c.Retention.SweepEvery, DefaultSweepEvery)

	num("limits.title_chars", &c.Limits.TitleChars, DefaultTitleCap)
	num("limits.summary_chars", &c.Limits.SummaryChars, DefaultSummaryCap)
	if !l.has("limits.body_bytes") {
		c.Limits.BodyBytes = DefaultBodyCap
	}
	num("limits.tags", &c.Limits.Tags, DefaultTagsCap)

	str(&c.Defaults.Schedule, DefaultSchedule)
	str(&c.Defaults.Timezone, DefaultTimezone)
	str(&c.Defaults.Translate, "auto")

	t := &c.Translation
	str(&t.Provider, "none")
	str(&t.SourceLang, "zh")
	str(&t.TargetLang, "en")
	str(&t.OpenAI.BaseURL, DefaultOpenAIBaseURL)
	str(&t.OpenAI.Model, DefaultOpenAIModel)
	str(&t.Google.BaseURL, DefaultGoogleBaseURL)
	str(&t.LibreTranslate.BaseURL, DefaultLibreBaseURL)
	for _, u := range []*string{&t.OpenAI.BaseURL, &t.DeepL.BaseURL, &t.Google.BaseURL, &t.LibreTranslate.BaseURL} {
		*u = strings.TrimRight(*u, "/")
	}
	if t.OnFailure == "" {
		t.OnFailure = model.OnFailureHold
	}
	dur("translation.hold_for", &t.HoldFor, DefaultHoldFor)
	dur("translation.timeout", &t.Timeout, DefaultTranslateLimit)
	num("translation.concurrency", &t.Concurrency, 1)
	num("translation.max_chars_per_post", &t.MaxCharsPerPost, DefaultMaxCharsPerPost)

	for i := range c.Sources {
		s := &c.Sources[i]
		str(&s.Type, "feed")
		str(&s.Name, s.ID)
		str(&s.Schedule, c.Defaults.Schedule)
		str(&s.Timezone, c.Defaults.Timezone)
		str(&s.Translate, c.Defaults.Translate)
	}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		str(&f.Title, f.ID)
		num(fmt.Sprintf("feeds[%d].limit", i), &f.Limit, DefaultFeedLimit)
	}

	if sm := c.Summarizer; sm != nil {
		str(&sm.BaseURL, DefaultOpenAIBaseURL)
		sm.BaseURL = strings.TrimRight(sm.BaseURL, "/")
		str(&sm.Model, DefaultOpenAIModel)
	}

	str(&c.Telegram.APIURL, DefaultTelegramAPIURL)
	c.Telegram.APIURL = strings.TrimRight(c.Telegram.APIURL, "/")
	for i := range c.Telegram.Channels {
		ch := &c.Telegram.Channels[i]
		num(fmt.Sprintf("telegram.channels[%d].summary_chars", i), &ch.SummaryChars, DefaultSummaryChars)
		if ch.Photo == nil {
			yes := true
			ch.Photo = &yes
		}
		str(&ch.Summary, SummaryLead)
		str(&ch.LinkPreview, LinkPreviewPost)
	}
}

// loadSecrets reads every *_file secret, relative to the config's directory.
func (l *loader) loadSecrets(c *Config) {
	t := &c.Translation
	summarizer := &OpenAIConfig{}
	if c.Summarizer != nil {
		summarizer = c.Summarizer
	}
	for _, s := range []struct {
		path  string
		value *Secret
		file  string
	}{
		{"summarizer.api_key", &summarizer.APIKey, summarizer.APIKeyFile},
		{"storage.dsn", &c.Storage.DSN, c.Storage.DSNFile},
		{"translation.openai.api_key", &t.OpenAI.APIKey, t.OpenAI.APIKeyFile},
		{"translation.deepl.api_key", &t.DeepL.APIKey, t.DeepL.APIKeyFile},
		{"translation.google.api_key", &t.Google.APIKey, t.Google.APIKeyFile},
		{"translation.libretranslate.api_key", &t.LibreTranslate.APIKey, t.LibreTranslate.APIKeyFile},
		{"telegram.token", &c.Telegram.Token, c.Telegram.TokenFile},
	} {
		if s.file == "" {
			continue
		}
		filePath := s.path + "_file"
		if *s.value != "" {
			l.add(filePath, "give either %s or %s, not both", lastKey(s.path), lastKey(filePath))
			continue
		}
		data, err := os.ReadFile(c.resolve(s.file))
		if err != nil {
			l.add(filePath, "cannot read the secret: %v", err)
			continue
		}
		if fi, err := os.Stat(c.resolve(s.file)); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o044 != 0 {
			l.warn(filePath, "the secret file %s can be read by other users (mode %04o); make it readable by its owner only (chmod 600)",
				s.file, fi.Mode().Perm())
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			l.add(filePath, "the file %s is empty", s.file)
			continue
		}
		*s.value = Secret(v)
	}
}

// loadAdminPassword reads server.admin.password_file: one argon2id
// ($argon2id$…) or bcrypt ($2a$/$2b$/$2y$…) hash. The full check of the
// hash is the server's; this one catches a plain password put there.
func (l *loader) loadAdminPassword(c *Config) {
	a := &c.Server.Admin
	if a.PasswordFile == "" {
		return
	}
	const key = "server.admin.password_file"
	data, err := os.ReadFile(c.resolve(a.PasswordFile))
	if err != nil {
		l.add(key, "cannot read the password hash: %v", err)
		return
	}
	v := strings.TrimSpace(string(data))
	switch {
	case v == "":
		l.add(key, "the file %s is empty", a.PasswordFile)
		return
	case strings.ContainsAny(v, "\r\n"):
		l.add(key, "the file %s must hold one line: the hash printed by `transfeed hash-password`", a.PasswordFile)
		return
	case !strings.HasPrefix(v, "$argon2id$") && !strings.HasPrefix(v, "$2a$") && !strings.HasPrefix(v, "$2b$") && !strings.HasPrefix(v, "$2y$"):
		// The content is not shown: it may be the password itself.
		l.add(key, "the file %s does not hold an argon2id or bcrypt hash (make one with `transfeed hash-password`)", a.PasswordFile)
		return
	}
	a.PasswordHash = Secret(v)
}

// resolve makes a path from the config file relative to its directory.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

func lastKey(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}
