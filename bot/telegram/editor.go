package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/model"
)

// EditStore is what the Editor needs from the store (*store.Store
// implements it).
type EditStore interface {
	ClaimEdits(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error)
	MarkEdited(ctx context.Context, deliveryID int64, owner string) error
	MarkEditRetry(ctx context.Context, deliveryID int64, reason string, next time.Time) error
	GetItem(ctx context.Context, id int64) (model.Item, error)
	GetChannelState(ctx context.Context, channel string) (model.ChannelState, error)
	ReserveSend(ctx context.Context, channel string, now time.Time, minGap time.Duration) (bool, time.Duration, error)
}

// MessageEditor edits a sent message (*Client implements it).
type MessageEditor interface {
	EditMessage(ctx context.Context, chat string, messageID int64, text string, caption bool) error
}

// EditorOptions configures an Editor. Store, Client and Owner are required.
type EditorOptions struct {
	Store    EditStore
	Client   MessageEditor
	Owner    string // names this instance in edit leases
	Channels []bot.Channel
	Sources  map[string]Source
	BaseURL  string
	Pacing   Pacing
	Logger   *slog.Logger
	// PollEvery (default 2 s), Lease (default 2 min), Backoff (default 5 s).
	PollEvery, Lease, Backoff time.Duration
}

// pacingKey is the store's shared send-slot key of a chat: the same key
// the outbox (bot.Sender) takes for a send, so edits and sends share the
// chat's pace across instances.
func pacingKey(chat string) string { return "chat:" + chat }

// Editor keeps sent Telegram messages in step with their post's English:
// when a correction, a retranslation or an edited source changes it, the
// store queues an edit of every message already sent for the post
// (delivery_edits), and the Editor rewrites each with editMessageText or
// editMessageCaption (a post sent as text after a photo fallback is edited
// as text). Edits take the chat's shared send slot, paced like sends.
type Editor struct {
	opts     EditorOptions
	channels map[string]bot.Channel
}

// NewEditor builds an Editor; it does no I/O.
func NewEditor(opts EditorOptions) (*Editor, error) {
	if opts.Store == nil || opts.Client == nil || opts.Owner == "" {
		return nil, errors.New("telegram: editor: store, client and owner are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = 2 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	e := &Editor{opts: opts, channels: map[string]bot.Channel{}}
	for _, ch := range opts.Channels {
		e.channels[ch.Key] = ch
	}
	return e, nil
}

// Run edits due messages every PollEvery until ctx ends.
func (e *Editor) Run(ctx context.Context) error {
	t := time.NewTicker(e.opts.PollEvery)
	defer t.Stop()
	for {
		if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil {
			e.opts.Logger.Warn("message edits", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce edits the messages due now and returns how many it handled.
func (e *Editor) RunOnce(ctx context.Context) (int, error) {
	ds, err := e.opts.Store.ClaimEdits(ctx, e.opts.Owner, time.Now(), 50, e.opts.Lease)
	if err != nil {
		return 0, fmt.Errorf("telegram: claim edits: %w", err)
	}
	for i, d := range ds {
		if ctx.Err() != nil {
			return i, ctx.Err()
		}
		e.editOne(ctx, d)
	}
	return len(ds), nil
}

// gap is the chat's slowest pace (the one sends keep).
func (e *Editor) gap(chat string) time.Duration {
	var g time.Duration
	for _, r := range e.opts.Pacing.Rates(chat) {
		if r > 0 {
			g = max(g, time.Duration(float64(time.Second)/float64(r)))
		}
	}
	return g
}

func (e *Editor) editOne(ctx context.Context, d model.Delivery) {
	log := e.opts.Logger.With(slog.String("channel", d.Channel), slog.Int64("delivery", d.ID), slog.Int64("item", d.ItemID))
	st := e.opts.Store
	done := func(why string) {
		if why != "" {
			log.Info("message not edited: "+why, slog.Int64("message_id", d.MessageID))
		}
		if err := st.MarkEdited(ctx, d.ID, e.opts.Owner); err != nil && ctx.Err() == nil {
			log.Warn("record message edit", slog.Any("error", err))
		}
	}
	retry := func(reason string, after time.Duration) {
		if err := st.MarkEditRetry(ctx, d.ID, reason, time.Now().Add(after)); err != nil && ctx.Err() == nil {
			log.Warn("record message edit retry", slog.Any("error", err))
		}
	}
	ch, ok := e.channels[d.Channel]
	if !ok {
		done("the channel is no longer configured")
		return
	}
	state, err := st.GetChannelState(ctx, d.Channel)
	if err != nil {
		retry("store: "+err.Error(), e.opts.Backoff)
		return
	}
	it, err := st.GetItem(ctx, d.ItemID)
	if errors.Is(err, model.ErrNotFound) {
		done("the post no longer exists")
		return
	}
	if err != nil {
		retry("store: "+err.Error(), e.opts.Backoff)
		return
	}
	chat := ch.Address
	if state.ChatID != "" {
		chat = state.ChatID
	}
	src := e.opts.Sources[it.SourceID]
	msg := Format(it, src, ch, e.opts.BaseURL, ch.Photo)
	caption := msg.Photo != ""
	for attempt := range 2 {
		if err = e.reserve(ctx, chat); err != nil {
			retry(err.Error(), e.opts.Backoff)
			return
		}
		err = e.opts.Client.EditMessage(ctx, chat, d.MessageID, msg.Text, caption)
		if attempt == 0 && EditWrongKind(err) {
			caption = !caption // sent in the other form (a photo fallback)
			msg = Format(it, src, ch, e.opts.BaseURL, caption)
			continue
		}
		break
	}
	var ae *APIError
	switch {
	case err == nil, EditNotModified(err):
		done("")
	case EditGone(err):
		done(err.Error())
	case errors.As(err, &ae) && ae.Kind == KindRateLimited:
		retry(err.Error(), ae.RetryAfter)
	case errors.As(err, &ae) && (ae.Kind == KindChatGone || ae.Kind == KindBadRequest):
		done(err.Error())
	default:
		log.Warn("message edit failed; retrying", slog.Any("error", err))
		retry(err.Error(), e.opts.Backoff)
	}
}

// reserve waits for the chat's shared send slot, within the lease.
func (e *Editor) reserve(ctx context.Context, chat string) error {
	deadline := time.Now().Add(e.opts.Lease / 2)
	for {
		ok, wait, err := e.opts.Store.ReserveSend(ctx, pacingKey(chat), time.Now(), e.gap(chat))
		if err != nil {
			return fmt.Errorf("telegram: reserve the chat's send slot: %w", err)
		}
		if ok {
			return nil
		}
		if time.Now().Add(wait).After(deadline) {
			return errors.New("telegram: the chat's send slot stays busy")
		}
		if err := bot.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}
