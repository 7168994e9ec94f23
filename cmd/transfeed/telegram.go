package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegram"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/internal/tgtemplate"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/worker"
)

// The config's telegram section, as the values bot and bot/telegram take.

// botChannels are the configured channels as the outbox sees them.
func botChannels(cfg *config.Config) []bot.Channel {
	var out []bot.Channel
	for _, ch := range cfg.Telegram.Channels {
		out = append(out, bot.Channel{
			Key:          ch.Key(),
			Address:      ch.Chat,
			Thread:       ch.Thread,
			SummaryChars: ch.SummaryChars,
			Photo:        ch.Photo == nil || *ch.Photo,
		})
	}
	return out
}

// router routes ready items by the channels' rules (sources and tags
// resolved here, once).
func router(cfg *config.Config) worker.Router {
	var rules []bot.Rule
	for _, ch := range cfg.Telegram.Channels {
		rules = append(rules, bot.Rule{
			Channel:  ch.Key(),
			Sources:  cfg.ChannelSourceIDs(ch),
			Include:  ch.Include,
			Exclude:  ch.Exclude,
			Backfill: ch.Backfill,
		})
	}
	return func(it model.Item) []string { return bot.Route(rules, it) }
}

// newTelegram builds the Bot API client. It makes no request.
func newTelegram(cfg *config.Config, logger *slog.Logger) (*telegram.Client, error) {
	return telegram.NewClient(telegram.ClientOptions{
		Token:  telegram.Token(cfg.Telegram.Token.Reveal()),
		APIURL: cfg.Telegram.APIURL,
		Admins: cfg.Telegram.Admins,
		Logger: logger.With(slog.String("component", "telegram")),
	})
}

// newSender builds the outbox sender over the Telegram client, at
// Telegram's pace.
func newSender(a *app) (*bot.Sender, error) {
	sources := map[string]telegram.Source{}
	for _, s := range a.cfg.Sources {
		sources[s.ID] = telegram.Source{ID: s.ID, Name: s.Name, Tags: s.Tags}
	}
	styles, err := channelStyles(a.cfg)
	if err != nil {
		return nil, err
	}
	opts := telegram.NotifierOptions{Client: a.tg, BaseURL: a.cfg.Server.BaseURL, Sources: sources, Styles: styles,
		Logger: a.log.With(slog.String("component", "telegram"))}
	sum, err := buildSummaries(a.cfg, a.st, a.provider, translationClient(a.cfg), a.log)
	if err != nil {
		return nil, err
	}
	if sum != nil {
		opts.Summaries = sum
	}
	n, err := telegram.NewNotifier(opts)
	if err != nil {
		return nil, err
	}
	pace := telegram.Pacing{}
	return bot.New(bot.Options{
		Store: a.st, Notifier: n, Alerter: a.tg, Channels: botChannels(a.cfg),
		Logger: a.log, Metrics: a.botM, Owner: instanceName(),
		Rates: pace.Rates, GlobalRate: pace.GlobalRate(),
	})
}

// channelStyles are the channels' templates (checked by the config loader),
// link previews and summary modes, by channel key.
func channelStyles(cfg *config.Config) (map[string]telegram.Style, error) {
	out := map[string]telegram.Style{}
	for _, ch := range cfg.Telegram.Channels {
		st := telegram.Style{
			PreviewPost: ch.LinkPreview != config.LinkPreviewOff,
			Summarize:   ch.Summary == config.SummaryLLM,
		}
		if strings.TrimSpace(ch.Template) != "" {
			tpl, err := tgtemplate.Parse(ch.Template)
			if err != nil {
				return nil, fmt.Errorf("telegram channel %s: %w", ch.Key(), err)
			}
			st.Template = tpl
		}
		out[ch.Key()] = st
	}
	return out, nil
}

// newAdmin builds the admin commands over the Telegram client.
func newAdmin(a *app) (*telegram.Admin, error) {
	var ids []string
	for _, s := range a.cfg.Sources {
		ids = append(ids, s.ID)
	}
	opts := telegram.AdminOptions{
		Client: a.tg, Store: a.st, Channels: botChannels(a.cfg), Sources: ids,
		Poll: a.w.PollNow, Logger: a.log, Search: searcher(a.st), BaseURL: a.cfg.Server.BaseURL,
	}
	if reviewing(a.cfg) {
		opts.Reviews = a.st
	}
	return telegram.NewAdmin(opts)
}

// newEditor builds the loop that edits sent messages whose post's English
// changed (corrections, retranslations, edited sources), at the pace of
// sends.
func newEditor(a *app) (*telegram.Editor, error) {
	sources := map[string]telegram.Source{}
	for _, s := range a.cfg.Sources {
		sources[s.ID] = telegram.Source{ID: s.ID, Name: s.Name, Tags: s.Tags}
	}
	return telegram.NewEditor(telegram.EditorOptions{
		Store: a.st, Client: a.tg, Owner: instanceName(), Channels: botChannels(a.cfg), Sources: sources,
		BaseURL: a.cfg.Server.BaseURL, Logger: a.log.With(slog.String("component", "telegram editor")),
	})
}

// reviewing reports whether a channel holds its posts for review.
func reviewing(cfg *config.Config) bool {
	for _, ch := range cfg.Telegram.Channels {
		if ch.Review {
			return true
		}
	}
	return false
}

// newReviewer builds the loop that asks the admins about posts held for a
// review channel.
func newReviewer(a *app) *telegram.Reviewer {
	sources := map[string]telegram.Source{}
	for _, s := range a.cfg.Sources {
		sources[s.ID] = telegram.Source{ID: s.ID, Name: s.Name, Tags: s.Tags}
	}
	return telegram.NewReviewer(a.st, a.tg, telegram.ReviewerOptions{Admins: a.cfg.Telegram.Admins,
		Channels: botChannels(a.cfg), Sources: sources, BaseURL: a.cfg.Server.BaseURL},
		a.log.With(slog.String("component", "telegram review")))
}

// searcher answers the admins' /search from the store's search index.
func searcher(st *store.Store) func(ctx context.Context, words string, limit int) ([]model.Item, error) {
	return func(ctx context.Context, words string, limit int) ([]model.Item, error) {
		q, err := fulltext.Parse(words)
		if err != nil {
			return nil, err
		}
		res, err := st.Search(ctx, store.SearchQuery{Query: q, Limit: limit})
		if err != nil {
			return nil, err
		}
		items := make([]model.Item, 0, len(res.Hits))
		for _, h := range res.Hits {
			items = append(items, h.Item)
		}
		return items, nil
	}
}
