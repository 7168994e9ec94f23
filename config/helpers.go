package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/transfeed/transfeed/model"
)

// Source returns the source with the given id.
func (c *Config) Source(id string) (Source, bool) {
	for _, s := range c.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// FeedSourceIDs returns the ids of the sources a feed republishes: those it
// names plus those carrying any of its tags, in config order, each once.
func (c *Config) FeedSourceIDs(f Feed) []string {
	return c.selectSources(f.Sources, f.Tags, false)
}

// ChannelSourceIDs returns the ids of the sources a Telegram channel
// receives, by the same rule as FeedSourceIDs; a channel that names neither
// sources nor tags receives every source.
func (c *Config) ChannelSourceIDs(ch Channel) []string {
	return c.selectSources(ch.Sources, ch.Tags, true)
}

func (c *Config) selectSources(ids, tags []string, allWhenEmpty bool) []string {
	all := allWhenEmpty && len(ids) == 0 && len(tags) == 0
	var out []string
	for _, s := range c.Sources {
		if slices.Contains(out, s.ID) {
			continue
		}
		if all || slices.Contains(ids, s.ID) || slices.ContainsFunc(s.Tags, func(t string) bool { return slices.Contains(tags, t) }) {
			out = append(out, s.ID)
		}
	}
	return out
}

// SummarizerConfig is the engine that writes summary: llm summaries: the
// summarizer: block, else translation.openai when the translation provider
// is openai. ok is false when there is none.
func (c *Config) SummarizerConfig() (OpenAIConfig, bool) {
	if c.Summarizer != nil {
		return *c.Summarizer, true
	}
	if c.Translation.Provider == "openai" {
		return c.Translation.OpenAI, true
	}
	return OpenAIConfig{}, false
}

// Key identifies the channel in the store: the chat as written, plus
// "#<thread>" for a forum topic ("@zhaoqing_en", "-1001234567890#42").
func (ch Channel) Key() string {
	if ch.Thread != 0 {
		return ch.Chat + "#" + strconv.Itoa(ch.Thread)
	}
	return ch.Chat
}

// Location is the time zone for the source's zone-less dates: its timezone,
// loaded once by Load. Without one (a Source built by hand, or a host
// without tzdata) it falls back to Asia/Shanghai, which is UTC+8 all year.
func (s Source) Location() *time.Location {
	if s.loc != nil {
		return s.loc
	}
	if s.Timezone != "" {
		if loc, err := loadLocation(s.Timezone); err == nil {
			return loc
		}
	}
	loc, _ := loadLocation(DefaultTimezone)
	return loc
}

// GlossaryFilePath is translation.glossary_file resolved against the config
// file's directory and made absolute, or "" when not set.
func (c *Config) GlossaryFilePath() string {
	p := c.resolve(c.Translation.GlossaryFile)
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// loadLocation is time.LoadLocation, except that China Standard Time is
// known even on hosts without tzdata (model.LoadLocation).
func loadLocation(name string) (*time.Location, error) { return model.LoadLocation(name) }

// ParseSchedule parses a source's schedule exactly as validation does: a
// five-field cron spec (minute hour day-of-month month day-of-week), an
// optional "CRON_TZ=Zone " prefix, or a descriptor (@hourly, @daily,
// @every 15m). Intervals under one minute are refused, to stay polite to
// the sites polled.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := parseSchedule(spec)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return s, nil
}

func parseSchedule(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	expr := spec
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		_, rest, ok := strings.Cut(spec, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return nil, fmt.Errorf("schedule %q: a cron spec must follow the time zone", spec)
		}
		expr = strings.TrimSpace(rest)
	}
	if d, ok := strings.CutPrefix(expr, "@every"); ok {
		iv, perr := time.ParseDuration(strings.TrimSpace(d))
		if perr != nil {
			return nil, fmt.Errorf("schedule %q: invalid interval (use e.g. @every 15m)", spec)
		}
		if iv < time.Minute {
			return nil, fmt.Errorf("schedule %q: interval must be at least 1m", spec)
		}
	}
	// robfig/cron is unmaintained; make sure a parser bug cannot take the
	// process down.
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("schedule %q: cannot parse", spec)
		}
	}()
	p := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sched, err = p.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	// A spec naming a date that does not exist ("0 0 30 2 *") parses but
	// never fires: the cron library finds no time within five years.
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires (it names a date that does not exist, such as 30 February)", spec)
	}
	return sched, nil
}

// attrRE is an HTML attribute name, as it may follow "@" in a selector spec.
var attrRE = regexp.MustCompile(`^[A-Za-z_:][-A-Za-z0-9_:.]*$`)

// SplitSelector splits an html.* or full_text.selector value into the CSS
// selector and the attribute to read: "a@href" → ("a", "href"), "span" →
// ("span", ""), "@href" → ("", "href") meaning the attribute of the item
// element itself. Only a trailing "@name" is an attribute, so "@" inside an
// attribute-value selector (a[href*="@"]) is left alone.
func SplitSelector(spec string) (selector, attr string) {
	spec = strings.TrimSpace(spec)
	i := strings.LastIndexByte(spec, '@')
	if i < 0 || !attrRE.MatchString(spec[i+1:]) {
		return spec, ""
	}
	return strings.TrimSpace(spec[:i]), spec[i+1:]
}

// Filter is one channel include/exclude entry: a keyword, matched without
// regard to case, or a /regular expression/ (Go syntax; add (?i) to ignore
// case).
type Filter struct {
	Keyword string
	Regexp  *regexp.Regexp
}

// ParseFilter parses an include/exclude entry. An entry that starts and
// ends with "/" is a regular expression.
func ParseFilter(entry string) (Filter, error) {
	if strings.TrimSpace(entry) == "" {
		return Filter{}, errors.New("empty filter")
	}
	if len(entry) >= 2 && strings.HasPrefix(entry, "/") && strings.HasSuffix(entry, "/") {
		expr := entry[1 : len(entry)-1]
		if expr == "" {
			return Filter{}, errors.New("empty regular expression //")
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return Filter{}, fmt.Errorf("bad regular expression %s: %w", entry, err)
		}
		return Filter{Regexp: re}, nil
	}
	return Filter{Keyword: entry}, nil
}

// Match reports whether text contains the keyword (ignoring case) or
// matches the regular expression.
func (f Filter) Match(text string) bool {
	if f.Regexp != nil {
		return f.Regexp.MatchString(text)
	}
	return f.Keyword != "" && strings.Contains(strings.ToLower(text), strings.ToLower(f.Keyword))
}
