// Package libretranslate translates through a LibreTranslate server: POST
// {base}/translate with a JSON body whose q is an array (one request per
// batch) and api_key in the body when the server needs one.
package libretranslate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/internal/httpx"
)

// Default limits. Servers set their own (--char-limit per text,
// --batch-limit per request; both unlimited by default); Config overrides.
const (
	DefaultMaxTexts = 50
	DefaultMaxChars = 5000
)

// Config configures the provider.
type Config struct {
	BaseURL string // required, e.g. http://localhost:5000
	APIKey  string // optional; sent as api_key in the body when set
	// MaxTexts and MaxChars override the default limits (0 = default), for
	// servers started with other --batch-limit / --char-limit values.
	MaxTexts int
	MaxChars int
}

// Translator is the LibreTranslate provider. It is safe for concurrent use.
type Translator struct {
	endpoint string
	key      string
	limits   translate.Limits
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
}

// New validates cfg and returns a Translator. It does no network I/O.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Translator, error) {
	if client == nil {
		return nil, errors.New("libretranslate: nil http client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, err := httpx.BaseURL("libretranslate", cfg.BaseURL, "")
	if err != nil {
		return nil, err
	}
	if cfg.MaxTexts < 0 || cfg.MaxChars < 0 {
		return nil, errors.New("libretranslate: negative limits")
	}
	limits := translate.Limits{MaxTexts: DefaultMaxTexts, MaxChars: DefaultMaxChars}
	if cfg.MaxTexts > 0 {
		limits.MaxTexts = cfg.MaxTexts
	}
	if cfg.MaxChars > 0 {
		limits.MaxChars = cfg.MaxChars
	}
	return &Translator{
		endpoint: base + "/translate",
		key:      strings.TrimSpace(cfg.APIKey),
		limits:   limits,
		client:   client,
		logger:   logger.With(slog.String("provider", "libretranslate")),
		now:      time.Now,
	}, nil
}

// Name is "libretranslate".
func (t *Translator) Name() string { return "libretranslate" }

// Limits returns the per-request limits.
func (t *Translator) Limits() translate.Limits { return t.limits }

type translateRequest struct {
	Q      []string `json:"q"`
	Source string   `json:"source"`
	Target string   `json:"target"`
	Format string   `json:"format"`
	APIKey string   `json:"api_key,omitempty"`
}

// Translate translates req.Texts in one request.
func (t *Translator) Translate(ctx context.Context, req translate.Request) ([]string, error) {
	if len(req.Texts) == 0 {
		return []string{}, nil
	}
	body := translateRequest{
		Q:      req.Texts,
		Source: libreLang(req.Source, "zh"),
		Target: libreLang(req.Target, "en"),
		Format: "text",
		APIKey: t.key,
	}
	if req.Format == translate.FormatHTML {
		body.Format = "html"
	}
	raw, err := httpx.EncodeJSON(body)
	if err != nil {
		return nil, t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("libretranslate: encode request: %w", err))
	}
	header := make(http.Header)
	header.Set("Content-Type", "application/json")
	header.Set("Accept", "application/json")
	code, data, err := httpx.Post(ctx, t.client, httpx.Request{Provider: "libretranslate", URL: t.endpoint, Header: header, Body: raw, Secret: t.key}, t.statusError)
	if err != nil {
		return nil, err
	}
	var tr struct {
		TranslatedText json.RawMessage `json:"translatedText"`
	}
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("libretranslate: response is not JSON: %w: %s", err, httpx.Snippet(data, t.key)))
	}
	var out []string
	if err := json.Unmarshal(tr.TranslatedText, &out); err != nil {
		// An old server answers a batch with one string: unusable.
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("libretranslate: translatedText is not an array of strings (server too old for batches?): %s", httpx.Snippet(tr.TranslatedText, t.key)))
	}
	if len(out) != len(req.Texts) {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("libretranslate: answer has %d translations, want %d", len(out), len(req.Texts)))
	}
	t.logger.DebugContext(ctx, "batch translated", slog.Int("texts", len(out)))
	return out, nil
}

// libreLang maps a BCP 47 tag to LibreTranslate's codes: Simplified Chinese
// is "zh" (alias of "zh-Hans" on newer servers, the only code on older
// ones), Traditional "zt".
func libreLang(tag, fallback string) string {
	switch t := strings.ToLower(strings.TrimSpace(tag)); t {
	case "":
		return fallback
	case "zh", "zh-cn", "zh-hans", "zh-sg":
		return "zh"
	case "zh-tw", "zh-hk", "zh-hant", "zt":
		return "zt"
	default:
		base, _, _ := strings.Cut(t, "-")
		return base
	}
}

// statusError classifies a non-2xx answer ({"error": "..."}).
func (t *Translator) statusError(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	var e struct {
		Error string `json:"error"`
	}
	msg := httpx.Snippet(body, t.key)
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = httpx.Snippet([]byte(e.Error), t.key)
	}
	lower := strings.ToLower(msg)
	var kind translate.ErrorKind
	switch {
	case code == http.StatusBadRequest && strings.Contains(lower, "exceeds text limit"):
		// Not permanent for the texts themselves: a smaller batch can pass.
		kind = translate.KindBadAnswer
	case code == http.StatusForbidden && strings.Contains(lower, "too many request limits violations"):
		kind = translate.KindRetryable // flood ban: lifted after a while
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		kind = translate.KindRetryable
	case code == http.StatusRequestEntityTooLarge:
		kind = translate.KindBadAnswer
	default: // 400 bad parameters / key required, 403 "Invalid API key", 404…
		kind = translate.KindPermanent
	}
	return t.fail(kind, code, httpx.RetryAfter(resp.Header, t.now()), fmt.Errorf("libretranslate: server said: %s", httpx.Scrub(msg, t.key)))
}

func (t *Translator) fail(kind translate.ErrorKind, status int, after time.Duration, err error) error {
	return &translate.Error{Provider: "libretranslate", Kind: kind, StatusCode: status, RetryAfter: after, Err: err}
}
