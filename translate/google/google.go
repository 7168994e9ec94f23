// Package google translates through Google Cloud Translation v2 (Basic):
// POST {base}/language/translate/v2?key=KEY with a JSON body. The key
// travels in the URL, so every transport error is redacted before it is
// wrapped.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/internal/httpx"
)

// DefaultBaseURL is used when Config.BaseURL is empty.
const DefaultBaseURL = "https://translation.googleapis.com"

// Limits: 128 segments per request (hard), request bodies under 100K bytes
// (hard; 90,000 leaves room for JSON overhead), 5,000 code points
// recommended.
const (
	MaxTexts = 128
	MaxBytes = 90_000
	MaxChars = 5000
)

// Config configures the provider.
type Config struct {
	BaseURL string // empty: DefaultBaseURL
	APIKey  string // required
}

// Translator is the Google provider. It is safe for concurrent use.
type Translator struct {
	endpoint string // without the key
	key      string
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
}

// New validates cfg and returns a Translator. It does no network I/O.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Translator, error) {
	if client == nil {
		return nil, errors.New("google: nil http client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	key := strings.TrimSpace(cfg.APIKey)
	if key == "" {
		return nil, errors.New("google: api key is required")
	}
	base, err := httpx.BaseURL("google", cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	return &Translator{
		endpoint: base + "/language/translate/v2",
		key:      key,
		client:   client,
		logger:   logger.With(slog.String("provider", "google")),
		now:      time.Now,
	}, nil
}

// Name is "google".
func (t *Translator) Name() string { return "google" }

// Limits returns Cloud Translation v2's per-request limits.
func (t *Translator) Limits() translate.Limits {
	return translate.Limits{MaxTexts: MaxTexts, MaxBytes: MaxBytes, MaxChars: MaxChars}
}

type translateRequest struct {
	Q      []string `json:"q"`
	Source string   `json:"source,omitempty"`
	Target string   `json:"target"`
	Format string   `json:"format"`
}

type translateResponse struct {
	Data struct {
		Translations []struct {
			TranslatedText string `json:"translatedText"`
		} `json:"translations"`
	} `json:"data"`
}

// Translate translates req.Texts in one request. FormatText is sent as
// format "text" so that answers are not HTML-escaped.
func (t *Translator) Translate(ctx context.Context, req translate.Request) ([]string, error) {
	if len(req.Texts) == 0 {
		return []string{}, nil
	}
	body := translateRequest{Q: req.Texts, Source: googleLang(req.Source), Target: googleLang(req.Target), Format: "text"}
	if body.Target == "" {
		body.Target = "en"
	}
	if req.Format == translate.FormatHTML {
		body.Format = "html"
	}
	raw, err := httpx.EncodeJSON(body)
	if err != nil {
		return nil, t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("google: encode request: %w", err))
	}
	header := make(http.Header)
	header.Set("Content-Type", "application/json; charset=utf-8")
	header.Set("Accept", "application/json")
	code, data, err := httpx.Post(ctx, t.client, httpx.Request{Provider: "google", URL: t.endpoint + "?key=" + url.QueryEscape(t.key), Header: header, Body: raw, Secret: t.key}, t.statusError)
	if err != nil {
		return nil, err
	}
	var tr translateResponse
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("google: response is not JSON: %w: %s", err, httpx.Snippet(data, t.key)))
	}
	if n := len(tr.Data.Translations); n != len(req.Texts) {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("google: answer has %d translations, want %d", n, len(req.Texts)))
	}
	out := make([]string, len(req.Texts))
	for i, x := range tr.Data.Translations {
		out[i] = x.TranslatedText
	}
	t.logger.DebugContext(ctx, "batch translated", slog.Int("texts", len(out)))
	return out, nil
}

// googleLang maps BCP 47 tags to Google's codes: plain "zh" is Simplified
// Chinese, "zh-CN"; Traditional variants become "zh-TW".
func googleLang(tag string) string {
	switch t := strings.ToLower(strings.TrimSpace(tag)); t {
	case "zh", "zh-cn", "zh-hans", "zh-sg":
		return "zh-CN"
	case "zh-tw", "zh-hk", "zh-hant":
		return "zh-TW"
	default:
		return strings.TrimSpace(tag)
	}
}

// googleError is the standard Google API error body.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Message string `json:"message"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

// statusError classifies a non-2xx answer.
func (t *Translator) statusError(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	var ge googleError
	msg := httpx.Snippet(body, t.key)
	var reasons []string
	if json.Unmarshal(body, &ge) == nil && ge.Error.Message != "" {
		msg = httpx.Snippet([]byte(ge.Error.Message), t.key)
		for _, e := range ge.Error.Errors {
			if e.Reason != "" {
				reasons = append(reasons, e.Reason)
			}
		}
		for _, d := range ge.Error.Details {
			if d.Reason != "" {
				reasons = append(reasons, d.Reason)
			}
		}
	}
	has := func(rs ...string) bool {
		for _, r := range rs {
			for _, x := range reasons {
				if strings.EqualFold(x, r) {
					return true
				}
			}
		}
		return false
	}
	lower := strings.ToLower(msg)
	daily := has("dailyLimitExceeded") || strings.Contains(lower, "daily limit exceeded") ||
		strings.Contains(lower, "quota") && strings.Contains(lower, "per day")
	var kind translate.ErrorKind
	switch {
	case daily && (code == http.StatusForbidden || code == http.StatusTooManyRequests):
		kind = translate.KindQuota
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		kind = translate.KindRetryable
	case code == http.StatusForbidden && (has("rateLimitExceeded", "userRateLimitExceeded") ||
		strings.Contains(lower, "rate limit exceeded")):
		kind = translate.KindRetryable
	case code == http.StatusBadRequest && (strings.Contains(lower, "too many text segments") ||
		strings.Contains(lower, "too long") || strings.Contains(lower, "payload size exceeds")):
		// Not permanent for the texts themselves: a smaller batch can pass.
		kind = translate.KindBadAnswer
	case code == http.StatusRequestEntityTooLarge:
		kind = translate.KindBadAnswer
	default: // 400 keyInvalid / "API key not valid", 401, other 403s, 404…
		kind = translate.KindPermanent
	}
	if len(reasons) > 0 {
		msg += " (" + strings.Join(reasons, ", ") + ")"
	}
	return t.fail(kind, code, httpx.RetryAfter(resp.Header, t.now()), fmt.Errorf("google: server said: %s", httpx.Scrub(msg, t.key)))
}

func (t *Translator) fail(kind translate.ErrorKind, status int, after time.Duration, err error) error {
	return &translate.Error{Provider: "google", Kind: kind, StatusCode: status, RetryAfter: after, Err: err}
}
