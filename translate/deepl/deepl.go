// Package deepl translates through the DeepL API v2 (POST /v2/translate with
// a JSON body and the "DeepL-Auth-Key" header; the legacy auth_key
// parameter is never sent).
package deepl

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

// Hosts chosen from the key when Config.BaseURL is empty.
const (
	FreeBaseURL = "https://api-free.deepl.com"
	ProBaseURL  = "https://api.deepl.com"
)

// Limits from DeepL's documentation: 50 texts and 128 KiB of request body.
const (
	MaxTexts = 50
	MaxBytes = 128 * 1024
)

// Config configures the provider.
type Config struct {
	// BaseURL is the API host without /v2. Empty: FreeBaseURL for keys
	// ending in ":fx", else ProBaseURL.
	BaseURL string
	APIKey  string // required
}

// Translator is the DeepL provider. It is safe for concurrent use.
type Translator struct {
	endpoint string
	key      string
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
}

// New validates cfg and returns a Translator. It does no network I/O.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Translator, error) {
	if client == nil {
		return nil, errors.New("deepl: nil http client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	key := strings.TrimSpace(cfg.APIKey)
	if key == "" {
		return nil, errors.New("deepl: api key is required")
	}
	base, err := httpx.BaseURL("deepl", cfg.BaseURL, BaseURLForKey(key))
	if err != nil {
		return nil, err
	}
	return &Translator{
		endpoint: strings.TrimSuffix(base, "/v2") + "/v2/translate",
		key:      key,
		client:   client,
		logger:   logger.With(slog.String("provider", "deepl")),
		now:      time.Now,
	}, nil
}

// BaseURLForKey returns FreeBaseURL for a free-plan key (suffix ":fx") and
// ProBaseURL otherwise.
func BaseURLForKey(key string) string {
	if strings.HasSuffix(strings.TrimSpace(key), ":fx") {
		return FreeBaseURL
	}
	return ProBaseURL
}

// Name is "deepl".
func (t *Translator) Name() string { return "deepl" }

// Limits returns DeepL's per-request limits.
func (t *Translator) Limits() translate.Limits {
	return translate.Limits{MaxTexts: MaxTexts, MaxBytes: MaxBytes}
}

type translateRequest struct {
	Text        []string `json:"text"`
	SourceLang  string   `json:"source_lang,omitempty"`
	TargetLang  string   `json:"target_lang"`
	TagHandling string   `json:"tag_handling,omitempty"`
}

type translateResponse struct {
	Translations []struct {
		Text string `json:"text"`
	} `json:"translations"`
}

// Translate translates req.Texts in one request.
func (t *Translator) Translate(ctx context.Context, req translate.Request) ([]string, error) {
	if len(req.Texts) == 0 {
		return []string{}, nil
	}
	body := translateRequest{
		Text:       req.Texts,
		SourceLang: sourceLang(req.Source),
		TargetLang: targetLang(req.Target),
	}
	if req.Format == translate.FormatHTML {
		body.TagHandling = "html"
	}
	raw, err := httpx.EncodeJSON(body)
	if err != nil {
		return nil, t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("deepl: encode request: %w", err))
	}
	header := make(http.Header)
	header.Set("Content-Type", "application/json")
	header.Set("Accept", "application/json")
	header.Set("Authorization", "DeepL-Auth-Key "+t.key)
	code, data, err := httpx.Post(ctx, t.client, httpx.Request{Provider: "deepl", URL: t.endpoint, Header: header, Body: raw, Secret: t.key}, t.statusError)
	if err != nil {
		return nil, err
	}
	var tr translateResponse
	if err := json.Unmarshal(data, &tr); err != nil {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("deepl: response is not JSON: %w: %s", err, httpx.Snippet(data, t.key)))
	}
	if len(tr.Translations) != len(req.Texts) {
		return nil, t.fail(translate.KindBadAnswer, code, 0, fmt.Errorf("deepl: answer has %d translations, want %d", len(tr.Translations), len(req.Texts)))
	}
	out := make([]string, len(tr.Translations))
	for i, x := range tr.Translations {
		out[i] = x.Text
	}
	t.logger.DebugContext(ctx, "batch translated", slog.Int("texts", len(out)))
	return out, nil
}

// sourceLang maps a BCP 47 tag to DeepL's source code (no variants: "zh-CN"
// → "ZH"); empty lets DeepL detect the language.
func sourceLang(tag string) string {
	base, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	return strings.ToUpper(base)
}

// targetLang maps a BCP 47 tag to DeepL's target code. Plain "en" becomes
// "EN-US" (DeepL deprecates bare "EN"); Chinese becomes "ZH-HANS" or
// "ZH-HANT".
func targetLang(tag string) string {
	switch t := strings.ToLower(strings.TrimSpace(tag)); t {
	case "", "en", "en-us":
		return "EN-US"
	case "en-gb", "en-uk":
		return "EN-GB"
	case "zh", "zh-cn", "zh-hans", "zh-sg":
		return "ZH-HANS"
	case "zh-tw", "zh-hk", "zh-hant":
		return "ZH-HANT"
	case "pt":
		return "PT-PT"
	default:
		return strings.ToUpper(t)
	}
}

// statusError classifies a non-2xx answer. DeepL's error body is
// {"message": "...", "detail": "..."} (detail or code optional).
func (t *Translator) statusError(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	var e struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}
	msg := httpx.Snippet(body, t.key)
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		msg = httpx.Snippet([]byte(e.Message), t.key)
		if e.Detail != "" {
			msg += ": " + e.Detail
		}
	}
	var kind translate.ErrorKind
	switch {
	case code == 456:
		kind = translate.KindQuota
		msg = "quota exceeded: " + msg
	case code == http.StatusTooManyRequests, code == 529, code == http.StatusRequestTimeout, code >= 500:
		kind = translate.KindRetryable
	case code == http.StatusForbidden || code == http.StatusUnauthorized:
		kind = translate.KindPermanent
		msg = "bad or missing API key: " + msg
	case code == http.StatusRequestEntityTooLarge:
		// Not permanent for the texts themselves: a smaller batch can pass.
		kind = translate.KindBadAnswer
		msg = "request too large: " + msg
	default:
		kind = translate.KindPermanent
	}
	return t.fail(kind, code, httpx.RetryAfter(resp.Header, t.now()), fmt.Errorf("deepl: server said: %s", httpx.Scrub(msg, t.key)))
}

func (t *Translator) fail(kind translate.ErrorKind, status int, after time.Duration, err error) error {
	return &translate.Error{Provider: "deepl", Kind: kind, StatusCode: status, RetryAfter: after, Err: err}
}
