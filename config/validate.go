package config

import (
	"errors"
	"fmt"
	"github.com/transfeed/transfeed/feeds/gkmlpt"
	"github.com/transfeed/transfeed/internal/redact"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/transfeed/transfeed/internal/tghtml"
	"github.com/transfeed/transfeed/internal/tgtemplate"
	"github.com/transfeed/transfeed/model"
	"golang.org/x/text/language"
)

var (
	idRE       = regexp.MustCompile(`^[a-z0-9-]+$`)
	chatNameRE = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// validate checks the decoded, defaulted configuration and records every
// problem it finds. It also caches each source's time zone.
func (l *loader) validate(c *Config) {
	l.validateGeneral(c)
	l.validateTranslation(c)
	l.validateSummarizer(c)
	tags := l.validateSources(c)
	l.validateFeeds(c, tags)
	l.validateTelegram(c, tags)
}

func (l *loader) validateGeneral(c *Config) {
	oneOf(l, "storage.driver", c.Storage.Driver, "sqlite", "postgres")
	if c.Storage.Driver == "postgres" && c.Storage.DSN == "" {
		l.add("storage.driver", "postgres needs storage.dsn (postgres://user@host/db) or storage.dsn_file")
	}
	oneOf(l, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(l, "log.format", c.Log.Format, "text", "json")

	if c.Server.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Server.Listen); err != nil || port == "" {
			l.add("server.listen", "want host:port such as 127.0.0.1:8080, got %q", c.Server.Listen)
		}
	}
	l.checkURL("server.base_url", c.Server.BaseURL)

	if c.Fetch.Timeout <= 0 {
		l.add("fetch.timeout", "must be greater than 0")
	}
	if c.Fetch.PollTimeout < c.Fetch.Timeout && c.Fetch.Timeout > 0 {
		l.add("fetch.poll_timeout", "must be at least fetch.timeout (%s)", c.Fetch.Timeout)
	}
	if c.Translation.MaxCharsPerPost < 0 {
		l.add("translation.max_chars_per_post", "must not be negative (0 = no cap)")
	}
	if c.Fetch.MaxBody <= 0 {
		l.add("fetch.max_body", "must be greater than 0")
	}
	if c.Fetch.PerHost < 1 {
		l.add("fetch.per_host", "must be at least 1")
	}
	if c.Fetch.Concurrency < 1 {
		l.add("fetch.concurrency", "must be at least 1")
	}
	for _, lim := range []struct {
		path  string
		value int64
		min   int64
	}{
		{"limits.title_chars", int64(c.Limits.TitleChars), 10},
		{"limits.summary_chars", int64(c.Limits.SummaryChars), 10},
		{"limits.body_bytes", int64(c.Limits.BodyBytes), 1000},
		{"limits.tags", int64(c.Limits.Tags), 1},
	} {
		if lim.value < lim.min {
			l.add(lim.path, "must be at least %d", lim.min)
		}
	}
	if c.Fetch.MaxRedirects < 0 {
		l.add("fetch.max_redirects", "must not be negative")
	}
	if c.Fetch.MaxItemsPerPoll < 1 {
		l.add("fetch.max_items_per_poll", "must be at least 1")
	}
	if a := c.Retention.MaxAge; a != 0 && a < time.Hour {
		l.add("retention.max_age", "must be at least 1h, or 0 to keep posts of any age (got %s)", a)
	}
	if c.Retention.MaxPostsPerSource < 0 {
		l.add("retention.max_posts_per_source", "must not be negative (0 keeps every post)")
	}
	if e := c.Retention.SweepEvery; e < time.Minute {
		l.add("retention.sweep_every", "must be at least 1m (got %s)", e)
	}

	if _, err := parseSchedule(c.Defaults.Schedule); err != nil {
		l.add("defaults.schedule", "%v", err)
	}
	if _, err := loadLocation(c.Defaults.Timezone); err != nil {
		l.add("defaults.timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai)", c.Defaults.Timezone)
	}
	oneOf(l, "defaults.translate", c.Defaults.Translate, "auto", "always", "never")
}

func (l *loader) validateTranslation(c *Config) {
	t := c.Translation
	oneOf(l, "translation.provider", t.Provider, "none", "openai", "deepl", "google", "libretranslate")
	for _, f := range []struct{ path, tag string }{
		{"translation.source_lang", t.SourceLang},
		{"translation.target_lang", t.TargetLang},
	} {
		if _, err := language.Parse(f.tag); err != nil {
			l.add(f.path, "not a language tag: %q (use e.g. zh or en)", f.tag)
		}
	}
	for _, f := range []struct{ path, url string }{
		{"translation.openai.base_url", t.OpenAI.BaseURL},
		{"translation.deepl.base_url", t.DeepL.BaseURL},
		{"translation.google.base_url", t.Google.BaseURL},
		{"translation.libretranslate.base_url", t.LibreTranslate.BaseURL},
	} {
		if f.url != "" {
			l.checkURL(f.path, f.url)
		}
	}
	needKey := func(key Secret, env string) {
		if key == "" {
			l.add("translation.provider", "%[1]s needs translation.%[1]s.api_key (for example \"${%[2]s}\") or api_key_file; it is empty", t.Provider, env)
		}
	}
	switch t.Provider {
	case "openai":
		if u, err := url.Parse(t.OpenAI.BaseURL); err == nil && u.Hostname() == "api.openai.com" {
			needKey(t.OpenAI.APIKey, "OPENAI_API_KEY")
		}
		if strings.TrimSpace(t.OpenAI.Model) == "" {
			l.add("translation.openai.model", "required for provider openai")
		}
	case "deepl":
		needKey(t.DeepL.APIKey, "DEEPL_API_KEY")
	case "google":
		needKey(t.Google.APIKey, "GOOGLE_API_KEY")
	}
	for _, src := range slices.Sorted(maps.Keys(t.Glossary)) {
		if strings.TrimSpace(t.Glossary[src]) == "" {
			l.add("translation.glossary."+src, "the translation of %q is empty", src)
		}
	}
	if t.GlossaryFile != "" {
		if st, err := os.Stat(c.resolve(t.GlossaryFile)); errors.Is(err, fs.ErrNotExist) {
			l.add("translation.glossary_file", "%s does not exist (paths are relative to the config file)", c.resolve(t.GlossaryFile))
		} else if err != nil {
			l.add("translation.glossary_file", "%v", err)
		} else if !st.Mode().IsRegular() {
			l.add("translation.glossary_file", "%s is not a regular file", t.GlossaryFile)
		}
	}
	if t.DailyCharLimit < 0 {
		l.add("translation.daily_char_limit", "must not be negative (0 means no limit)")
	}
	oneOf(l, "translation.on_failure", string(t.OnFailure), string(model.OnFailureHold), string(model.OnFailureOriginal))
	if t.HoldFor <= 0 {
		l.add("translation.hold_for", "must be greater than 0")
	}
	if t.Timeout <= 0 {
		l.add("translation.timeout", "must be greater than 0")
	}
	if t.Concurrency < 1 || t.Concurrency > 32 {
		l.add("translation.concurrency", "must be between 1 and 32")
	}
}

// validateSources checks every source and returns the set of tags in use.
func (l *loader) validateSources(c *Config) map[string]bool {
	if len(c.Sources) == 0 {
		l.add("sources", "no sources configured; add at least one under sources:")
	}
	tags := map[string]bool{}
	ids := map[string]int{}
	for i := range c.Sources {
		s := &c.Sources[i]
		p := fmt.Sprintf("sources[%d]", i)
		l.checkID(p, s.ID, ids, s.Line)
		if s.URL == "" {
			l.add(p+".url", "required")
		} else {
			l.checkURL(p+".url", s.URL)
		}
		oneOf(l, p+".type", s.Type, "feed", "html", "gkmlpt")
		switch {
		case s.Type == "html" && s.HTML == nil:
			// No selectors: the list is found by its shape at every poll
			// (see `transfeed discover`).
		case s.Type == "gkmlpt":
			if c, err := gkmlpt.ParseURL(s.URL); s.URL != "" && (err != nil || c.Column == "") {
				l.add(p+".url", "type gkmlpt needs the catalogue URL of one column, …/gkmlpt/index#<column id> (open the catalogue, click the column, copy the address; `transfeed discover URL` lists the columns)")
			}
			if s.HTML != nil {
				l.add(p+".html", "only used with type: html (this source is type %s)", s.Type)
			}
			if s.FullText != nil {
				l.add(p+".full_text", "not used with type gkmlpt: the body comes from each post's catalogue page")
			}
		case s.Type == "html":
			h := s.HTML
			for _, f := range []struct{ key, sel string }{{"item", h.Item}, {"title", h.Title}, {"link", h.Link}} {
				if strings.TrimSpace(f.sel) == "" {
					l.add(p+".html", "%s selector required for type html", f.key)
				}
			}
			for _, f := range []struct{ key, sel string }{{"item", h.Item}, {"title", h.Title}, {"link", h.Link}, {"date", h.Date}, {"summary", h.Summary}} {
				l.checkSelector(p+".html."+f.key, f.sel)
			}
		case s.HTML != nil:
			l.add(p+".html", "only used with type: html (this source is type %s)", s.Type)
		}
		if ft := s.FullText; ft != nil {
			if strings.TrimSpace(ft.Selector) == "" && !ft.Readability {
				l.add(p+".full_text", "set selector, or readability: true")
			}
			l.checkSelector(p+".full_text.selector", ft.Selector)
		}
		if l.has(p + ".schedule") {
			if _, err := parseSchedule(s.Schedule); err != nil {
				l.add(p+".schedule", "%v", err)
			}
		}
		loc, err := loadLocation(s.Timezone)
		if err != nil && l.has(p+".timezone") {
			l.add(p+".timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai)", s.Timezone)
		}
		s.loc = loc
		if l.has(p + ".translate") {
			oneOf(l, p+".translate", s.Translate, "auto", "always", "never")
		}
		for j, tag := range s.Tags {
			if strings.TrimSpace(tag) == "" {
				l.add(fmt.Sprintf("%s.tags[%d]", p, j), "empty tag")
			}
			tags[tag] = true
		}
	}
	return tags
}

func (l *loader) validateFeeds(c *Config, tags map[string]bool) {
	ids := map[string]int{}
	for i, f := range c.Feeds {
		p := fmt.Sprintf("feeds[%d]", i)
		l.checkID(p, f.ID, ids, f.Line)
		if len(f.Sources) == 0 && len(f.Tags) == 0 {
			l.add(p, "selects nothing: give sources and/or tags")
		}
		l.checkRefs(c, p, f.Sources, f.Tags, tags)
		if f.Limit < 1 {
			l.add(p+".limit", "must be at least 1")
		}
	}
}

func (l *loader) validateTelegram(c *Config, tags map[string]bool) {
	tg := c.Telegram
	if tg.Token == "" {
		if len(tg.Channels) > 0 {
			l.add("telegram.channels", "channels need telegram.token (or token_file); it is empty")
		}
		if len(tg.Admins) > 0 {
			l.add("telegram.admins", "admins need telegram.token (or token_file); it is empty")
		}
	}
	l.checkURL("telegram.api_url", tg.APIURL)
	for i, a := range tg.Admins {
		if a <= 0 {
			l.add(fmt.Sprintf("telegram.admins[%d]", i), "a Telegram user id is a positive number")
		}
	}
	keys := map[string]int{}
	for i, ch := range tg.Channels {
		p := fmt.Sprintf("telegram.channels[%d]", i)
		switch {
		case ch.Chat == "":
			l.add(p+".chat", "required (@channelname or a numeric chat id)")
		case strings.HasPrefix(ch.Chat, "@"):
			if !chatNameRE.MatchString(ch.Chat) {
				l.add(p+".chat", "%q is not a Telegram username (@ then 5-32 letters, digits or _)", ch.Chat)
			}
		default:
			if id, err := strconv.ParseInt(ch.Chat, 10, 64); err != nil || id == 0 {
				l.add(p+".chat", "%q is neither @username nor a numeric chat id", ch.Chat)
			}
		}
		if ch.Chat != "" {
			if first, dup := keys[ch.Key()]; dup {
				l.add(p, "same chat and thread as the channel at line %d", first)
			} else {
				keys[ch.Key()] = ch.Line
			}
		}
		if ch.Review && len(tg.Admins) == 0 {
			l.add(p+".review", "review needs telegram.admins: someone must approve the posts")
		}
		if ch.Thread < 0 {
			l.add(p+".thread", "must not be negative")
		}
		l.checkRefs(c, p, ch.Sources, ch.Tags, tags)
		for _, list := range []struct {
			key     string
			entries []string
		}{{"include", ch.Include}, {"exclude", ch.Exclude}} {
			for j, e := range list.entries {
				if _, err := ParseFilter(e); err != nil {
					l.add(fmt.Sprintf("%s.%s[%d]", p, list.key, j), "%v", err)
				}
			}
		}
		if ch.SummaryChars < 50 || ch.SummaryChars > 3500 {
			l.add(p+".summary_chars", "must be between 50 and 3500, got %d", ch.SummaryChars)
		}
		if ch.Backfill < 0 {
			l.add(p+".backfill", "must not be negative")
		}
		oneOf(l, p+".summary", ch.Summary, SummaryLead, SummaryLLM)
		if _, ok := c.SummarizerConfig(); ch.Summary == SummaryLLM && !ok {
			l.add(p+".summary", "llm needs an OpenAI-compatible engine: set translation.provider: openai, or add a summarizer: block (base_url, api_key, model)")
		}
		oneOf(l, p+".link_preview", ch.LinkPreview, LinkPreviewOff, LinkPreviewPost)
		if l.has(p + ".template") {
			l.checkTemplate(p+".template", ch)
		}
	}
}

// checkTemplate parses a channel template and renders sample posts with
// it; a problem is reported at its line in the file.
func (l *loader) checkTemplate(path string, ch Channel) {
	tpl, err := tgtemplate.Parse(ch.Template)
	if err == nil {
		err = tpl.Check(tghtml.MaxTextLen)
	}
	if err == nil {
		return
	}
	line, msg := l.line(path), err.Error()
	var te *tgtemplate.Error
	if errors.As(err, &te) {
		msg = te.Msg
		if te.Line > 0 && ch.TemplateLine > 0 {
			// "unexpected EOF" comes after the last line.
			te.Line = min(te.Line, strings.Count(strings.TrimRight(ch.Template, "\n"), "\n")+1)
			line = ch.TemplateLine + te.Line - 1
			msg = fmt.Sprintf("line %d of the template: %s", te.Line, te.Msg)
		}
	}
	l.addAt(line, path, "%s", msg)
}

func (l *loader) validateSummarizer(c *Config) {
	sm := c.Summarizer
	if sm == nil {
		return
	}
	l.checkURL("summarizer.base_url", sm.BaseURL)
	if strings.TrimSpace(sm.Model) == "" {
		l.add("summarizer.model", "required")
	}
	if u, err := url.Parse(sm.BaseURL); err == nil && u.Hostname() == "api.openai.com" && sm.APIKey == "" {
		l.add("summarizer", "api.openai.com needs summarizer.api_key (for example \"${OPENAI_API_KEY}\") or api_key_file; it is empty")
	}
}

// checkID checks a source or feed id: present, [a-z0-9-]+, unique.
func (l *loader) checkID(p, id string, seen map[string]int, line int) {
	switch {
	case id == "":
		l.add(p+".id", "required")
	case !idRE.MatchString(id):
		l.add(p+".id", "%q may contain only a-z, 0-9 and - (it is used in URLs)", id)
	default:
		if first, dup := seen[id]; dup {
			l.add(p+".id", "%q is already used at line %d", id, first)
			return
		}
		seen[id] = line
	}
}

// checkRefs checks that a feed's or channel's sources and tags exist.
func (l *loader) checkRefs(c *Config, p string, sources, tags []string, known map[string]bool) {
	for j, id := range sources {
		if _, ok := c.Source(id); !ok {
			l.add(fmt.Sprintf("%s.sources[%d]", p, j), "unknown source %q", id)
		}
	}
	for j, tag := range tags {
		if !known[tag] {
			l.add(fmt.Sprintf("%s.tags[%d]", p, j), "no source has the tag %q", tag)
		}
	}
}

func (l *loader) checkSelector(path, spec string) {
	if strings.TrimSpace(spec) == "" {
		return
	}
	sel, _ := SplitSelector(spec)
	if _, err := cascadia.Compile(sel); err != nil {
		l.add(path, "bad CSS selector %q: %v", sel, err)
	}
}

// checkURL requires an absolute http or https URL. Credentials in the URL
// are redacted from the message.
func (l *loader) checkURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		l.add(path, "not a valid URL")
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.add(path, "want an absolute http:// or https:// URL, got %q", redact.URL(raw))
	}
}

func oneOf(l *loader, path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.add(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}
