package bot

import (
	"regexp"
	"slices"
	"strings"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// ChannelKey is the key of a channel in the store (config.Channel.Key):
// the chat as written, plus "#<thread>" when a forum topic is set.
func ChannelKey(ch config.Channel) string { return ch.Key() }

// Route returns the keys of the channels an item goes to: those that take
// its source (config.ChannelSourceIDs: by id or tag; neither = every source), whose include patterns match (empty = all) and
// whose exclude patterns do not (exclude wins), tested on the English title
// and summary and the government metadata ("发文字号: 国发〔2018〕43号"); patterns are case-insensitive keywords or /regex/. An item
// found by its source's first poll (BackfillRank >= 0) goes only to channels
// with backfill > BackfillRank, and not at all when its date is unknown
// (DateUnknown). Call it with the translation filled in.
func Route(cfg *config.Config, it model.Item) []string {
	if cfg == nil {
		return nil
	}
	title, summary := it.Title, it.Summary
	if it.TranslatedBy != "" {
		title, summary = firstNonEmpty(it.TitleEN, it.Title), it.SummaryEN
	}
	text := title + "\n" + summary
	// Government document metadata can be filtered on too ("发文字号: 国发").
	for _, f := range model.MetaFields(it.Meta) {
		text += "\n" + f.Label + ": " + f.Value
	}
	lower := strings.ToLower(text)

	var keys []string
	for _, ch := range cfg.Telegram.Channels {
		if !slices.Contains(cfg.ChannelSourceIDs(ch), it.SourceID) {
			continue
		}
		if it.BackfillRank >= 0 && ch.Backfill <= it.BackfillRank {
			continue
		}
		// Found by the source's first poll without a date: nothing says it
		// is new, so it is not pushed as news.
		if it.BackfillRank >= 0 && it.DateUnknown {
			continue
		}
		if len(ch.Include) > 0 && !anyMatch(ch.Include, text, lower) {
			continue
		}
		if anyMatch(ch.Exclude, text, lower) {
			continue
		}
		key := ChannelKey(ch)
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// anyMatch reports whether one pattern matches: "/re/" is a regular
// expression (an invalid one is taken as a keyword), anything else a
// case-insensitive substring.
func anyMatch(patterns []string, text, lower string) bool {
	for _, p := range patterns {
		if p == "" {
			continue
		}
		if len(p) > 2 && strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
			if re, err := regexp.Compile(p[1 : len(p)-1]); err == nil {
				if re.MatchString(text) {
					return true
				}
				continue
			}
		}
		if strings.Contains(lower, strings.ToLower(p)) {
			return true
		}
	}
	return false
}
