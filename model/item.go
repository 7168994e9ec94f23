package model

import (
	"errors"
	"time"
)

// Item is one post: the normalised original, its place in the lifecycle and
// its translation slot. feeds fills the original fields; the store adds ids,
// times and state; the translation stage fills the English.
type Item struct {
	ID          int64
	SourceID    string
	Key         string // stable identity within the source (source id + GUID, else link, else title+date)
	GUID        string
	Link        string // absolute, tracking parameters removed
	Title       string // plain text
	Summary     string // plain text
	ContentHTML string // sanitised HTML, absolute URLs
	Author      string
	Language    string // "zh", "en", … (detected); "" unknown
	ImageURL    string // first image, absolute
	Categories  []string
	Published   time.Time // UTC; zero when the source gives no date (DateUnknown; sorted by first-seen)
	// DateUnknown: neither feed, list nor page gave a date. Published is
	// zero; the store sorts the post by FirstSeen and shows "date unknown".
	DateUnknown bool
	FirstSeen   time.Time
	UpdatedAt   time.Time // last change of the original
	ContentHash string    // hash of title + content, for change detection
	// Meta is government document metadata (索引号, 发文字号, 成文日期, …),
	// keyed by the page's own labels; nil when the page has none.
	Meta map[string]string
	// Evidence names, per field ("title", "date", "author", "body"), the
	// rule that gave it (feeds' order of evidence). Not stored.
	Evidence map[string]string
	// Media is MediaVideo or MediaAudio when the original has video or
	// audio, which the sanitised body does not keep ("" otherwise).
	Media string

	State State
	// BackfillRank is the item's rank (0 = newest) among the posts found by
	// the first successful poll of its source; -1 for posts found later.
	BackfillRank int

	// Translation slot.
	TitleEN       string
	SummaryEN     string
	ContentHTMLEN string
	TranslatedBy  string // "provider/model", "" when not translated
	TranslatedAt  time.Time
	TitleOnly     bool   // only the title is translated (budget reached); body waits
	Untranslated  bool   // published as original because translation failed past hold_for (on_failure: original)
	TranslateErr  string // last translation failure, in plain words
	Attempts      int    // translation attempts so far
	NextAttemptAt time.Time
	ReadyAt       time.Time
}

// Values of Item.Media.
const (
	MediaVideo = "video"
	MediaAudio = "audio"
)

// Translation is what the translation stage stores for an item.
type Translation struct {
	TitleEN       string
	SummaryEN     string
	ContentHTMLEN string
	TranslatedBy  string
	TitleOnly     bool
	Untranslated  bool
	// OriginalHash is the ContentHash of the original that was translated.
	// When set, the store applies the translation only while the item still
	// has that hash. It is not stored.
	OriginalHash string
}

// TMEntry is one translation-memory segment.
type TMEntry struct {
	Key      string // hash of provider, model, languages, text and glossary terms it contains
	Provider string
	Source   string
	Target   string
}

// Usage is characters and requests sent to a provider on one day (UTC date "2006-01-02").
type Usage struct {
	Day      string
	Provider string
	Chars    int64
	Requests int64
}

// ProviderState is the pause state of a translation provider.
type ProviderState struct {
	Provider    string
	PausedUntil time.Time
	Reason      string
	AlertedAt   time.Time
}

// Source is what happened to one configured source. The config says what
// a source is; this is its history: validators, last poll, failure run.
type Source struct {
	ID                string
	URL               string
	ETag              string
	LastModified      string
	LastPollAt        time.Time // zero: never polled
	LastStatus        PollStatus
	LastError         string // plain-words reason of the last failure
	LastSuccessAt     time.Time
	NextPollAt        time.Time // earliest time the scheduler may poll again (backoff, Retry-After)
	ConsecutiveErrors int
	FailingSince      time.Time // first failure of the current failure run; zero when healthy
	AlertedAt         time.Time // when admins were told about the current failure run
	LastItemCount     int       // items the last successful parse returned
	ItemCount         int       // items stored for this source
	ItemsLast24h      int       // items first seen in the last 24 h (whole hours: since the start of the hour 24 h ago)
	PolledOnce        bool      // a successful poll has happened (first-poll backfill rule)
	// ListShape is the fingerprint of the selectors a type: html source
	// without selectors found on its page at the last successful poll;
	// ListShapeWas and ShapeChangedAt record the last change of it.
	ListShape      string
	ListShapeWas   string
	ShapeChangedAt time.Time
	Polls          int64 // polls recorded, whatever their outcome
	// Article pages fetched for full text, and how many of those failed
	// (the post kept its list summary), with the last failure.
	ArticleFetches     int64
	ArticleFailures    int64
	LastArticleError   string
	LastArticleErrorAt time.Time
}

// PollResult records the outcome of one poll.
type PollResult struct {
	SourceID     string
	URL          string
	At           time.Time
	Status       PollStatus // PollOK | PollNotModified | PollError
	Error        string     // when Status is PollError
	ETag         string     // new validators (ok only; kept as they were otherwise)
	LastModified string
	ItemCount    int    // items parsed (ok only)
	ListShape    string // ok only: the detected list's shape ("" when the source has selectors)
	// Article pages fetched for full text during the poll and how many
	// failed, with the reason of the last failure (ok only).
	ArticleFetches, ArticleFailures int
	ArticleError                    string
	NextPollAt                      time.Time // computed by the caller (schedule, backoff, Retry-After)
	// Backlog (ok only): the poll stored only part of the new posts
	// (fetch.max_items_per_poll). A source still in its first poll stays
	// there (PolledOnce unchanged), so the rest count as backfill too.
	Backlog bool
	// ReleaseFor, when set, releases the source's poll lease held by this
	// owner in the same write (a poll's last write: one write transaction
	// fewer per poll).
	ReleaseFor string
}

// Delivery is one (item, channel) row of the Telegram outbox.
type Delivery struct {
	ID            int64
	ItemID        int64
	Channel       string // channel key from config (the chat as written, plus "#thread" when set)
	State         DeliveryState
	Attempts      int
	NextAttemptAt time.Time
	MessageID     int64
	Error         string
	CreatedAt     time.Time
	SentAt        time.Time
	LeaseOwner    string
	LeaseUntil    time.Time
}

// ChannelState is the pause state of a Telegram channel.
type ChannelState struct {
	Channel     string
	ChatID      string // current chat id (follows a group migrated to a supergroup)
	Paused      bool
	PausedUntil time.Time // rate-limit pause (retry_after); zero when none
	Reason      string
	AlertedAt   time.Time
}

// DeliveryBacklog counts deliveries per state for one channel.
type DeliveryBacklog struct {
	Channel string
	Pending int
	Sent    int
	Failed  int
}

// ErrNotFound is returned when a post, source or delivery asked for by id
// does not exist.
var ErrNotFound = errors.New("not found")

// SortTime places a post in time: its date, or when it was first seen
// when the source gave none (DateUnknown).
func (it Item) SortTime() time.Time {
	if it.Published.IsZero() {
		return it.FirstSeen
	}
	return it.Published
}

// DateLabel is a post's date as every surface shows it, in loc (China time
// for CST): "2023-05-25 23:31 CST", or "date unknown (first seen
// 2023-05-25 23:31 CST)" when the source gave none. It never presents the
// fetch time as the date.
func DateLabel(it Item, loc *time.Location) string {
	if loc == nil {
		loc = China()
	}
	if !it.Published.IsZero() {
		return it.Published.In(loc).Format("2006-01-02 15:04") + " CST"
	}
	if it.FirstSeen.IsZero() {
		return "date unknown"
	}
	return "date unknown (first seen " + it.FirstSeen.In(loc).Format("2006-01-02 15:04") + " CST)"
}

// Summary is what the summarizer wrote for one version (content hash) of a
// post, for Telegram channels with summary: llm. A summary that failed its
// checks keeps the reason in Rejected and no Text, so it is never paid for
// again; the channel then shows the lead.
type Summary struct {
	ItemID      int64
	ContentHash string
	Summarizer  string // provider/model that wrote it
	Text        string // plain text; "" when Rejected
	Rejected    string // why the summary was not used, in plain words
	Chars       int64  // characters sent to the summarizer for it
	CreatedAt   time.Time
}
