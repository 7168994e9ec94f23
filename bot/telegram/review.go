package telegram

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// The review queue (telegram.channels[].review): the store holds each
// delivery to such a channel until an admin answers; the Reviewer asks the
// admins in a private chat with Approve / Skip / Retranslate buttons, and
// the Admin poller takes the answers (callback queries) and /queue.

// ReviewStore is what the review queue needs from the store (*store.Store
// implements it).
type ReviewStore interface {
	ClaimReviewPrompts(ctx context.Context, now time.Time, limit int) ([]store.Review, error)
	ResetReviewPrompt(ctx context.Context, deliveryID int64) error
	AnswerReview(ctx context.Context, deliveryID int64, a store.ReviewAnswer, by string, now time.Time) (store.Review, error)
	WaitingReviews(ctx context.Context, limit int) ([]store.Review, error)
	GetItem(ctx context.Context, id int64) (model.Item, error)
}

// ReviewSender sends the prompts (*Bot implements it).
type ReviewSender interface {
	SendWithButtons(ctx context.Context, chatID int64, text string, buttons []Button) (int64, error)
}

// ReviewerOptions configures a Reviewer.
type ReviewerOptions struct {
	Admins    []int64
	Channels  []bot.Channel
	Sources   map[string]Source
	BaseURL   string
	PollEvery time.Duration // default 2 s
}

// Reviewer asks the admins about each held post once.
type Reviewer struct {
	st       ReviewStore
	api      ReviewSender
	opts     ReviewerOptions
	logger   *slog.Logger
	channels map[string]bot.Channel
	sources  map[string]Source
}

// NewReviewer builds a Reviewer.
func NewReviewer(st ReviewStore, api ReviewSender, opts ReviewerOptions, logger *slog.Logger) *Reviewer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = 2 * time.Second
	}
	r := &Reviewer{st: st, api: api, opts: opts, logger: logger, channels: map[string]bot.Channel{}, sources: opts.Sources}
	for _, ch := range opts.Channels {
		r.channels[ch.Key] = ch
	}
	return r
}

// Run asks about held posts every PollEvery until ctx ends.
func (r *Reviewer) Run(ctx context.Context) error {
	t := time.NewTicker(r.opts.PollEvery)
	defer t.Stop()
	for {
		if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.logger.Warn("review prompts", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// reviewCallback is the callback data of a review button: "rv:<a|s|r>:<delivery id>".
func reviewCallback(answer byte, deliveryID int64) string {
	return "rv:" + string(answer) + ":" + strconv.FormatInt(deliveryID, 10)
}

func parseReviewCallback(data string) (store.ReviewAnswer, int64, bool) {
	rest, ok := strings.CutPrefix(data, "rv:")
	if !ok || len(rest) < 3 || rest[1] != ':' {
		return 0, 0, false
	}
	id, err := strconv.ParseInt(rest[2:], 10, 64)
	if err != nil || id <= 0 {
		return 0, 0, false
	}
	switch rest[0] {
	case 'a':
		return store.AnswerApprove, id, true
	case 's':
		return store.AnswerSkip, id, true
	case 'r':
		return store.AnswerRetranslate, id, true
	}
	return 0, 0, false
}

// RunOnce asks the admins about the posts newly held, and returns how
// many it asked about. A prompt no admin received is asked again later.
func (r *Reviewer) RunOnce(ctx context.Context) (int, error) {
	rs, err := r.st.ClaimReviewPrompts(ctx, time.Now(), 20)
	if err != nil {
		return 0, fmt.Errorf("bot: %w", err)
	}
	for _, rv := range rs {
		if !r.prompt(ctx, rv) {
			if err := r.st.ResetReviewPrompt(context.WithoutCancel(ctx), rv.DeliveryID); err != nil {
				r.logger.Warn("reset review prompt", slog.Any("error", err))
			}
		}
	}
	return len(rs), nil
}

func (r *Reviewer) prompt(ctx context.Context, rv store.Review) bool {
	it, err := r.st.GetItem(ctx, rv.ItemID)
	if err != nil {
		r.logger.Warn("review prompt: read post", slog.Int64("item", rv.ItemID), slog.Any("error", err))
		return false
	}
	ch := r.channels[rv.Channel]
	ch.SummaryChars = min(max(ch.SummaryChars, 200), 1500)
	msg := Format(it, r.sources[it.SourceID], ch, r.opts.BaseURL, false)
	text := "<b>Review</b> for " + html.EscapeString(rv.Channel) + " (#" + strconv.FormatInt(rv.DeliveryID, 10) + "):\n\n" + msg.Text
	buttons := []Button{
		{Text: "Approve", Data: reviewCallback('a', rv.DeliveryID)},
		{Text: "Skip", Data: reviewCallback('s', rv.DeliveryID)},
		{Text: "Retranslate", Data: reviewCallback('r', rv.DeliveryID)},
	}
	sent := 0
	for _, admin := range r.opts.Admins {
		if _, err := r.api.SendWithButtons(ctx, admin, cutUnits(text, maxText), buttons); err != nil {
			r.logger.Warn("send review prompt", slog.Int64("admin", admin), slog.Any("error", err))
			continue
		}
		sent++
	}
	return sent > 0
}

// handleCallback takes an admin's button press on a review prompt.
func (a *Admin) handleCallback(ctx context.Context, cq *models.CallbackQuery) {
	if a.opts.Reviews == nil {
		return
	}
	if !slicesContains(a.api.admins, cq.From.ID) {
		a.logger.Debug("ignored a button press from a non-admin", slog.Int64("user_id", cq.From.ID))
		return
	}
	answer, id, ok := parseReviewCallback(cq.Data)
	if !ok {
		a.answerCallback(ctx, cq.ID, "Unknown button.")
		return
	}
	by := "admin " + strconv.FormatInt(cq.From.ID, 10)
	rv, err := a.opts.Reviews.AnswerReview(ctx, id, answer, by, time.Now())
	var reply string
	switch {
	case errors.Is(err, store.ErrAnswered):
		reply = "Already answered"
		if rv.AnsweredBy != "" {
			reply += ": " + string(rv.State) + " by " + rv.AnsweredBy
		}
		reply += "."
	case errors.Is(err, model.ErrNotFound):
		reply = "This post is no longer waiting."
	case err != nil:
		a.logger.Warn("answer review", slog.Int64("delivery", id), slog.Any("error", err))
		reply = "Failed; try again."
	case answer == store.AnswerApprove:
		reply = "Approved: it goes to " + rv.Channel + " now."
	case answer == store.AnswerSkip:
		reply = "Skipped: it will not be posted to " + rv.Channel + "."
	default:
		reply = "Sent back to translation; you will be asked again."
	}
	a.answerCallback(ctx, cq.ID, reply)
}

func (a *Admin) answerCallback(ctx context.Context, id, text string) {
	if err := a.api.AnswerCallback(ctx, id, text); err != nil {
		a.logger.Warn("answer callback query", slog.Any("error", err))
	}
}

// queue answers /queue: the posts waiting for review.
func (a *Admin) queue(ctx context.Context) (string, error) {
	if a.opts.Reviews == nil {
		return "No channel has review: true.", nil
	}
	rs, err := a.opts.Reviews.WaitingReviews(ctx, 30)
	if err != nil {
		return "", err
	}
	if len(rs) == 0 {
		return "Nothing waits for review.", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d post(s) wait for review:\n", len(rs))
	for _, rv := range rs {
		title := "(post gone)"
		if it, err := a.opts.Reviews.GetItem(ctx, rv.ItemID); err == nil {
			title = model.EnglishOf(it).Title
		}
		asked := "asked " + cst(rv.PromptedAt)
		if rv.PromptedAt.IsZero() {
			asked = "not asked yet (translating)"
		}
		fmt.Fprintf(&b, "#%d %s — %s (%s)\n", rv.DeliveryID, rv.Channel, title, asked)
	}
	return b.String(), nil
}

func slicesContains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
