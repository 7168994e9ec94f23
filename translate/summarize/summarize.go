// Package summarize writes the short English summaries that Telegram
// channels with summary: llm show instead of the post's lead. A summary is
// asked of an OpenAI-compatible engine (translate.Summarizer) once per post
// and content hash and kept in the store, so an unchanged post is never
// summarised twice, across polls, restarts and instances; what it costs is
// counted in the translation's daily character budget. The glossary is
// enforced on it, and a summary with a number its post does not have is
// rejected (and the rejection kept, so it is not paid for again): the
// channel then shows the lead, as it does whenever no summary can be had.
package summarize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/translate"
)

// Defaults.
const (
	DefaultSentences = 3
	// DefaultMaxChars is the longest summary accepted, in characters; a
	// longer one is rejected (it is no longer a summary).
	DefaultMaxChars = 700
	// DefaultMaxInputChars caps the post text sent, in characters.
	DefaultMaxInputChars = 4000
	DefaultTimeout       = 60 * time.Second
)

// Store is what summaries need from the store (*store.Store implements it).
type Store interface {
	GetSummary(ctx context.Context, itemID int64, contentHash string) (model.Summary, error)
	// PutSummary stores a summary unless one is stored for the same item
	// and hash, and returns the one stored.
	PutSummary(ctx context.Context, sm model.Summary) (model.Summary, error)
	AddUsage(ctx context.Context, day, provider string, chars, requests int64) error
	GetUsage(ctx context.Context, day, provider string) (model.Usage, error)
}

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	Glossary *translate.Glossary
	// DailyCharLimit is translation.daily_char_limit: characters sent per
	// UTC day to the translation provider and the summarizer together; 0 =
	// no limit.
	DailyCharLimit int64
	// SharedBudget names the providers whose usage counts against the
	// limit besides the summarizer's own (the translation provider).
	SharedBudget  []string
	Sentences     int
	MaxChars      int
	MaxInputChars int
	Timeout       time.Duration // one summarizer request
	Now           func() time.Time
}

// Service hands out summaries: from the store, else from the summarizer.
// It is safe for concurrent use.
type Service struct {
	cfg    Config
	sum    translate.Summarizer
	st     Store
	logger *slog.Logger
}

// New builds a Service. It does no I/O.
func New(cfg Config, sum translate.Summarizer, st Store, logger *slog.Logger) (*Service, error) {
	if sum == nil || sum.Name() == "" {
		return nil, errors.New("summarize: no summarizer")
	}
	if st == nil {
		return nil, errors.New("summarize: no store")
	}
	if cfg.DailyCharLimit < 0 {
		return nil, fmt.Errorf("summarize: daily character limit %d is negative", cfg.DailyCharLimit)
	}
	if cfg.Sentences <= 0 {
		cfg.Sentences = DefaultSentences
	}
	if cfg.MaxChars <= 0 {
		cfg.MaxChars = DefaultMaxChars
	}
	if cfg.MaxInputChars <= 0 {
		cfg.MaxInputChars = DefaultMaxInputChars
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, sum: sum, st: st, logger: logger.With("summarizer", sum.Name())}, nil
}

// Name is the summarizer's provider/model.
func (s *Service) Name() string { return s.sum.Name() }

// Result is the summary of one post, or why there is none.
type Result struct {
	// Text is the summary (plain text); "" means: show the lead.
	Text string
	// Reason says, when Text is "", why ("number 7 is not in the post",
	// "daily character limit reached", …).
	Reason string
	// Cached: the answer (summary or rejection) came from the store.
	Cached bool
	// CharsSent is what this call sent to the summarizer (0 when cached).
	CharsSent int64
}

// Summary returns the post's summary. It never fails: a summary that
// cannot be had (post not translated, engine down, budget reached, store
// unreadable) gives a Result without Text and the reason, and the caller
// shows the lead; only a summary that was written and checked — or
// rejected by the checks — is stored, so a passing failure is tried again
// next time while a rejection is not paid for twice.
func (s *Service) Summary(ctx context.Context, it model.Item) Result {
	log := s.logger.With(slog.Int64("item_id", it.ID))
	en := model.EnglishOf(it)
	if !en.Translated && !isEnglishSource(it) {
		return Result{Reason: "the post is not translated"}
	}
	if it.ID <= 0 {
		return Result{Reason: "the post is not stored"}
	}
	hash := contentHash(it, en)
	switch sm, err := s.st.GetSummary(ctx, it.ID, hash); {
	case err == nil:
		return fromStored(sm)
	case !errors.Is(err, model.ErrNotFound):
		log.Warn("read stored summary", slog.Any("error", err))
		return Result{Reason: "the stored summary cannot be read"}
	}

	req := s.request(it, en)
	need := req.Chars()
	if s.cfg.DailyCharLimit > 0 {
		day := s.cfg.Now().UTC().Format(time.DateOnly)
		usage, err := translate.DayUsage(ctx, s.st, day, append([]string{s.sum.Name()}, s.cfg.SharedBudget...))
		if err != nil {
			log.Warn("read usage", slog.Any("error", err))
			return Result{Reason: "today's usage cannot be read"}
		}
		if usage.Chars+need > s.cfg.DailyCharLimit {
			log.Info("daily character limit reached: lead instead of a summary",
				"used_today", usage.Chars, "limit", s.cfg.DailyCharLimit, "needs", need)
			return Result{Reason: fmt.Sprintf("daily character limit reached (%d of %d used today; the summary needs %d)", usage.Chars, s.cfg.DailyCharLimit, need)}
		}
	}

	callCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	text, err := s.sum.Summarize(callCtx, req)
	cancel()
	if err != nil {
		s.addUsage(ctx, 0)
		log.Warn("summary failed: lead instead", slog.Any("error", err))
		return Result{Reason: "the summarizer failed: " + err.Error()}
	}
	s.addUsage(ctx, need)

	sm := model.Summary{ItemID: it.ID, ContentHash: hash, Summarizer: s.sum.Name(), Chars: need, CreatedAt: s.cfg.Now().UTC()}
	sm.Text, sm.Rejected = s.check(text, it, en, req)
	if sm.Rejected != "" {
		log.Info("summary rejected: lead instead", slog.String("reason", sm.Rejected))
	}
	stored, err := s.st.PutSummary(ctx, sm)
	if err != nil {
		log.Warn("store summary", slog.Any("error", err))
		stored = sm // used this once; asked again next time
	}
	res := fromStored(stored)
	res.Cached = false
	res.CharsSent = need
	return res
}

func fromStored(sm model.Summary) Result {
	if sm.Text == "" {
		return Result{Reason: sm.Rejected, Cached: true}
	}
	return Result{Text: sm.Text, Cached: true}
}

func (s *Service) addUsage(ctx context.Context, chars int64) {
	day := s.cfg.Now().UTC().Format(time.DateOnly)
	if err := s.st.AddUsage(context.WithoutCancel(ctx), day, s.sum.Name(), chars, 1); err != nil {
		s.logger.Warn("recording summary usage failed", slog.Any("error", err))
	}
}

// request builds what is sent: the English title, the English body as
// plain text (capped), the date in China time and the post's glossary terms.
func (s *Service) request(it model.Item, en model.English) translate.SummaryRequest {
	text := model.PlainText(en.HTML, s.cfg.MaxInputChars)
	if strings.TrimSpace(text) == "" {
		text = en.Summary
	}
	req := translate.SummaryRequest{
		Title:     en.Title,
		Text:      text,
		Sentences: s.cfg.Sentences,
		Glossary:  s.cfg.Glossary.TermsIn(it.Title + "\n" + model.PlainText(it.ContentHTML, 0)),
	}
	if t := firstTime(it.Published, it.FirstSeen); !t.IsZero() {
		req.Date = t.In(model.China()).Format(time.DateOnly)
	}
	return req
}

// check cleans the summary and applies the rules; it returns the summary to
// keep, or "" and why it is rejected.
func (s *Service) check(text string, it model.Item, en model.English, req translate.SummaryRequest) (string, string) {
	text = model.OneLine(strings.Trim(strings.TrimSpace(text), `"“”`))
	terms := s.cfg.Glossary.TermsIn(it.Title + "\n" + model.PlainText(it.ContentHTML, 0) + "\n" + text)
	text = s.cfg.Glossary.EnforceEnglish(text, terms)
	switch {
	case text == "":
		return "", "the summary is empty"
	case translate.ContainsHan(text):
		return "", "the summary has Chinese characters left"
	case utf8.RuneCountInString(text) > s.cfg.MaxChars:
		return "", fmt.Sprintf("the summary is longer than %d characters", s.cfg.MaxChars)
	}
	if bad := translate.InventedNumbers(text, en.Title, model.PlainText(en.HTML, 0), en.Summary,
		it.Title, model.PlainText(it.ContentHTML, 0), it.Summary, req.Date); len(bad) > 0 {
		return "", fmt.Sprintf("the summary has numbers that are not in the post: %s", strings.Join(bad, ", "))
	}
	return text, ""
}

func isEnglishSource(it model.Item) bool {
	return it.TranslatedBy == "" && !it.Untranslated && strings.HasPrefix(strings.ToLower(it.Language), "en")
}

// contentHash identifies the version of the post summarised: the original's
// content hash, else a hash of the English summarised.
func contentHash(it model.Item, en model.English) string {
	if it.ContentHash != "" {
		return it.ContentHash
	}
	h := sha256.Sum256([]byte(en.Title + "\x00" + en.HTML))
	return "en:" + hex.EncodeToString(h[:16])
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// SummaryText is Summary's text ("" when the lead is to be shown); it makes
// a Service the Telegram notifier's Summarizer.
func (s *Service) SummaryText(ctx context.Context, it model.Item) string {
	return s.Summary(ctx, it).Text
}
