package bot

import (
	"regexp"
	"slices"
	"strings"

	"github.com/transfeed/transfeed/model"
)

// Rule is one channel's routing rules.
type Rule struct {
	Channel string // the channel's key (Channel.Key)
	// Sources are the ids of the sources the channel takes (the config's
	// sources and tags, resolved; every source when it names neither).
	Sources []string
	// Include and Exclude are case-insensitive keywords or /regex/ tested
	// on the English title and summary: an item goes to the channel when an
	// include matches (no include: every item) and no exclude does.
	Include, Exclude []string
	// Backfill is how many of a source's first-poll items go to the channel
	// (newest first; 0: none).
	Backfill int
}

// Route returns the keys of the channels an item goes to: those whose rule
// takes its source, whose include patterns match (empty = all) and whose
// exclude patterns do not (exclude wins), tested on the English title and
// summary and the government metadata ("发文字号: 国发〔2018〕43号");
// patterns are case-insensitive keywords or /regex/. An item found by its
// source's first poll (BackfillRank >= 0) goes only to channels with
// Backfill > BackfillRank, and not at all when its date is unknown
// (DateUnknown). Call it with the translation filled in.
func Route(rules []Rule, it model.Item) []string {
	title, summary := it.Title, it.Summary
	if it.TranslatedBy != "" {
		title, summary = it.TitleEN, it.SummaryEN
		if strings.TrimSpace(title) == "" {
			title = it.Title
		}
	}
	text := title + "\n" + summary
	// Government document metadata can be filtered on too ("发文字号: 国发").
	for _, f := range model.MetaFields(it.Meta) {
		text += "\n" + f.Label + ": " + f.Value
	}
	lower := strings.ToLower(text)

	var keys []string
	for _, r := range rules {
		if !slices.Contains(r.Sources, it.SourceID) {
			continue
		}
		if it.BackfillRank >= 0 && r.Backfill <= it.BackfillRank {
			continue
		}
		// Found by the source's first poll without a date: nothing says it
		// is new, so it is not pushed as news.
		if it.BackfillRank >= 0 && it.DateUnknown {
			continue
		}
		if len(r.Include) > 0 && !anyMatch(r.Include, text, lower) {
			continue
		}
		if anyMatch(r.Exclude, text, lower) {
			continue
		}
		if !slices.Contains(keys, r.Channel) {
			keys = append(keys, r.Channel)
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
