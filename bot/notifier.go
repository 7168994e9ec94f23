package bot

import (
	"context"
	"errors"
	"time"

	"github.com/transfeed/transfeed/model"
)

// Notifier delivers one post to one destination: one request, whose
// failure it classifies as an *Error. bot/telegram implements it for the
// Telegram Bot API.
type Notifier interface {
	// Notify sends p and returns the destination's id for the message.
	// A failure should be an *Error (anything else counts as KindTransient).
	Notify(ctx context.Context, p Post) (messageID int64, err error)
}

// Alerter tells the admins about something that needs them, here a channel
// the Sender paused.
type Alerter interface {
	AlertAdmins(ctx context.Context, text string) error
}

// Channel is one destination the Sender delivers to, as configured.
type Channel struct {
	// Key names the channel in the store (deliveries.channel and
	// channel_state.channel): for Telegram, the chat as written plus
	// "#<thread>" for a forum topic.
	Key string
	// Address is where the Notifier sends (Telegram: @username or chat id).
	Address string
	// Thread is a topic within the destination (Telegram forum topic; 0: none).
	Thread int
	// SummaryChars is the summary's length (0: the notifier's default).
	SummaryChars int
	// Photo: send the post's image with it when it has one.
	Photo bool
}

// Post is one attempt at one delivery, handed to a Notifier.
type Post struct {
	Channel Channel
	// Address is where to send: Channel.Address, or the new address the
	// destination moved to (KindMoved), as kept in ChannelState.ChatID.
	Address string
	Item    model.Item
	// Plain asks for the plain form of the message (no image): the
	// notifier refused the richer one with KindTryPlain.
	Plain bool
}

// Kind says what a failed Notify means for the delivery.
type Kind int

const (
	// KindTransient: network error, server error, anything unknown. The
	// delivery is retried with exponential backoff; it is never dropped.
	KindTransient Kind = iota
	// KindRateLimited: wait exactly Error.RetryAfter before the next message
	// to this destination (other destinations go on).
	KindRateLimited
	// KindPermanent: the destination refuses this message (a bad request).
	// The delivery fails with the reason; the channel goes on.
	KindPermanent
	// KindGone: the destination is gone or the bot lost access to it. The
	// delivery fails, the channel is paused and the admins are told once.
	KindGone
	// KindMoved: the destination has a new address (Error.MovedTo); the
	// post is sent there and the channel follows it.
	KindMoved
	// KindTryPlain: the destination refused the rich form (Telegram: the
	// photo); the post is sent again at once in its plain form.
	KindTryPlain
)

// String names the kind in logs.
func (k Kind) String() string {
	switch k {
	case KindRateLimited:
		return "rate_limited"
	case KindPermanent:
		return "permanent"
	case KindGone:
		return "gone"
	case KindMoved:
		return "moved"
	case KindTryPlain:
		return "try_plain"
	}
	return "transient"
}

// Error is a classified Notify failure.
type Error struct {
	Kind       Kind
	RetryAfter time.Duration // KindRateLimited
	MovedTo    string        // KindMoved: the new address
	Reason     string        // what the destination said; recorded with the delivery
	Err        error         // the underlying error
}

// Error gives the kind and what went wrong.
func (e *Error) Error() string {
	if e.Err != nil {
		return "bot: " + e.Kind.String() + ": " + e.Err.Error()
	}
	return "bot: " + e.Kind.String() + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// classify makes any Notify error an *Error (unclassified ones are transient).
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Reason == "" {
			c := *e
			c.Reason = err.Error()
			return &c
		}
		return e
	}
	return &Error{Kind: KindTransient, Reason: err.Error(), Err: err}
}
