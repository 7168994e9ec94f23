// Package translate turns Chinese posts into English: the Translator
// interface every provider implements, segmentation of HTML into
// translatable blocks and back, glossary enforcement, translation memory,
// quality checks and the daily budget. Providers live in subpackages
// (translate/openai, translate/deepl, translate/google,
// translate/libretranslate) and depend only on this package.
package translate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Format says how the provider must treat the texts of a request.
type Format int

const (
	// FormatText: plain text; the answer must be plain text (not HTML-escaped).
	FormatText Format = iota
	// FormatHTML: inline HTML (a block's inner HTML); tags and attributes must come back unchanged.
	FormatHTML
)

// Request is one batch for a provider.
type Request struct {
	Source string // "zh"
	Target string // "en"
	Format Format
	Texts  []string // translated independently; the answer has the same length and order
	// Glossary holds the glossary entries that occur in Texts (source term → target).
	// Providers that can pass terms to the engine (an LLM prompt) should; the
	// engine enforces them afterwards whatever the provider does.
	Glossary map[string]string
}

// Limits are a provider's per-request limits. Zero means no limit.
type Limits struct {
	MaxTexts int // texts per request
	MaxBytes int // request body bytes (approximate: sum of UTF-8 text bytes plus overhead)
	MaxChars int // characters (code points) per request
}

// Translator is a machine-translation provider. Implementations are safe for
// concurrent use, do no retries themselves (the engine retries), and return
// *Error for every failure.
type Translator interface {
	Translate(ctx context.Context, req Request) ([]string, error)
	// Name identifies the provider and model, e.g. "openai/gpt-4o-mini",
	// "deepl", "google", "libretranslate". It is part of translation-memory keys.
	Name() string
	Limits() Limits
}

// ErrorKind classifies a provider failure.
type ErrorKind int

const (
	// KindRetryable: 429, 5xx, timeouts, network errors: retry with backoff (RetryAfter when the server said).
	KindRetryable ErrorKind = iota + 1
	// KindQuota: the account's quota or balance is used up (DeepL 456, OpenAI insufficient_quota,
	// DeepSeek 402, Google "Daily Limit Exceeded"): pause the provider until the next day.
	KindQuota
	// KindPermanent: bad key, bad request, unsupported language: retrying will not help.
	KindPermanent
	// KindBadAnswer: the provider answered 200 with something unusable (wrong count, empty, truncated).
	KindBadAnswer
)

func (k ErrorKind) String() string {
	switch k {
	case KindRetryable:
		return "temporary failure"
	case KindQuota:
		return "quota exhausted"
	case KindPermanent:
		return "permanent failure"
	case KindBadAnswer:
		return "unusable answer"
	}
	return "unknown failure"
}

// Error is a provider failure. Its message never contains an API key.
type Error struct {
	Provider   string
	Kind       ErrorKind
	StatusCode int           // HTTP status when there was one
	RetryAfter time.Duration // from Retry-After / Retry-After-Ms when given
	Err        error
}

func (e *Error) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("translate: %s: %s (HTTP %d): %v", e.Provider, e.Kind, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("translate: %s: %s: %v", e.Provider, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a provider error, KindRetryable for context
// deadline errors, and 0 for anything else.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindRetryable
	}
	return 0
}
