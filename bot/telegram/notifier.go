package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/model"
)

// Source is what a message shows of a post's source.
type Source struct {
	ID   string
	Name string   // shown under the title (default: the id)
	Tags []string // shown as hashtags
}

// Summarizer writes the short summary a channel with Style.Summarize shows
// ("" when it has none: the lead is shown). It must not fail or block for
// long: it is asked during the delivery, under its lease.
type Summarizer interface {
	SummaryText(ctx context.Context, it model.Item) string
}

// NotifierOptions builds a Notifier. Client is required.
type NotifierOptions struct {
	Client *Client
	// BaseURL is the reading site, for the "Read in English" link ("": no link).
	BaseURL string
	// Sources are the configured sources, by id.
	Sources map[string]Source
	// Styles are the channels' templates, previews and summary modes, by
	// channel key (bot.Channel.Key); a channel without one has the zero
	// Style: built-in format, no preview, the lead.
	Styles map[string]Style
	// Summaries writes the summaries of Style.Summarize channels; nil: the
	// lead everywhere.
	Summaries Summarizer
	Logger    *slog.Logger // nil: discard
}

// Notifier sends posts to Telegram chats: bot.Notifier for the Telegram Bot
// API. A post goes as a photo with a caption when its channel takes photos
// and it has an image, else as a text message (Format).
type Notifier struct {
	c       *Client
	baseURL string
	sources map[string]Source
	styles  map[string]Style
	sum     Summarizer
	logger  *slog.Logger
}

var _ bot.Notifier = (*Notifier)(nil)

// NewNotifier builds the notifier. It does no I/O.
func NewNotifier(opts NotifierOptions) (*Notifier, error) {
	if opts.Client == nil {
		return nil, errors.New("telegram: notifier without a client")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{c: opts.Client, baseURL: opts.BaseURL, sources: opts.Sources, styles: opts.Styles,
		sum: opts.Summaries, logger: opts.Logger}, nil
}

// Notify formats p and sends it to p.Address (in forum topic
// p.Channel.Thread) with one request. Its errors are *bot.Error wrapping
// the *APIError: 429 is KindRateLimited with Telegram's retry_after;
// migrate_to_chat_id is KindMoved to the supergroup's id; a bad request to
// sendPhoto or sendMediaGroup is KindTryPlain (Telegram could not fetch or
// take the pictures: the post is sent again as text); another bad request is KindPermanent;
// kicked, not a member, no rights, chat or topic not found are KindGone;
// anything else (5xx, an HTML error page, the network, 401) is
// KindTransient.
func (n *Notifier) Notify(ctx context.Context, p bot.Post) (int64, error) {
	src, ok := n.sources[p.Item.SourceID]
	if !ok {
		src = Source{ID: p.Item.SourceID}
	}
	st := n.styles[p.Channel.Key]
	summary := ""
	if st.Summarize && n.sum != nil {
		summary = n.sum.SummaryText(ctx, p.Item)
	}
	msg := Compose(p.Item, src, p.Channel, st, n.baseURL, summary, p.Channel.Photo && !p.Plain)
	if msg.TemplateErr != nil {
		n.logger.Warn("channel template failed; built-in format sent", slog.String("channel", p.Channel.Key),
			slog.Int64("item_id", p.Item.ID), slog.Any("error", msg.TemplateErr))
	}
	id, err := n.c.Send(ctx, p.Address, p.Channel.Thread, msg)
	if err != nil {
		return 0, outboxError(err, msg.Photo != "" || len(msg.Album) > 0)
	}
	return id, nil
}

// outboxError tells the outbox what a failed send means.
func outboxError(err error, photo bool) *bot.Error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return &bot.Error{Kind: bot.KindTransient, Reason: err.Error(), Err: err}
	}
	e := &bot.Error{Kind: bot.KindTransient, Reason: ae.Description, Err: ae}
	switch ae.Kind {
	case KindBadRequest:
		e.Kind = bot.KindPermanent
		if photo {
			e.Kind = bot.KindTryPlain
		}
	case KindMigrated:
		e.Kind, e.MovedTo = bot.KindMoved, strconv.FormatInt(ae.MigrateTo, 10)
	case KindRateLimited:
		e.Kind, e.RetryAfter = bot.KindRateLimited, ae.RetryAfter
	case KindChatGone:
		e.Kind = bot.KindGone
	}
	return e
}

// Pacing is Telegram's published send limits; zero fields take them.
type Pacing struct {
	Chat   rate.Limit // per chat; default 1 message/s
	Group  rate.Limit // per group or channel, on top of Chat; default 20/min
	Global rate.Limit // all chats together; default 30 messages/s
}

func (p Pacing) withDefaults() Pacing {
	if p.Chat <= 0 {
		p.Chat = 1
	}
	if p.Group <= 0 {
		p.Group = rate.Every(time.Minute / 20)
	}
	if p.Global <= 0 {
		p.Global = 30
	}
	return p
}

// Rates are the limits one chat keeps (bot.Options.Rates): Chat, plus
// Group for groups and channels (@usernames and negative ids).
func (p Pacing) Rates(chat string) []rate.Limit {
	p = p.withDefaults()
	if isGroupChat(chat) {
		return []rate.Limit{p.Chat, p.Group}
	}
	return []rate.Limit{p.Chat}
}

// GlobalRate is the limit over all chats (bot.Options.GlobalRate).
func (p Pacing) GlobalRate() rate.Limit { return p.withDefaults().Global }

// isGroupChat: @usernames and negative ids are groups or channels (20/min);
// positive ids are private chats (1/s only).
func isGroupChat(chat string) bool {
	return strings.HasPrefix(chat, "@") || strings.HasPrefix(chat, "-")
}
