// Package openai translates through any OpenAI-compatible chat-completions
// server: OpenAI, DeepSeek, Qwen (DashScope compatible mode), Ollama, vLLM.
// A batch is one request: the system prompt states the rules (faithful
// translation, keep numbers, keep HTML, glossary terms, answer as JSON) and
// the user message holds the texts as a JSON array.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/internal/httpx"
)

// DefaultBaseURL is used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// Default limits. 6000 characters of Chinese fit the context of hosted
// models comfortably; a local Ollama with the default 4096-token context
// needs Config.MaxChars around 1500.
const (
	DefaultMaxTexts = 40
	DefaultMaxChars = 6000
)

// Config configures the provider.
type Config struct {
	// BaseURL is the API root including the version, e.g.
	// https://api.openai.com/v1, https://api.deepseek.com,
	// https://dashscope.aliyuncs.com/compatible-mode/v1,
	// http://localhost:11434/v1 (Ollama). Empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends no Authorization header.
	APIKey string
	// Model is required, e.g. gpt-4o-mini, deepseek-chat, qwen-plus.
	Model string
	// Temperature in [0, 2]; 0 is the most literal.
	Temperature float64
	// MaxTexts and MaxChars override the default per-request limits (0 = default).
	MaxTexts int
	MaxChars int
}

// Translator is an OpenAI-compatible translation provider. It is safe for
// concurrent use.
type Translator struct {
	endpoint    string
	key         string
	model       string
	temperature float64
	limits      translate.Limits
	client      *http.Client
	logger      *slog.Logger
	now         func() time.Time
}

// New validates cfg and returns a Translator. It does no network I/O.
func New(cfg Config, client *http.Client, logger *slog.Logger) (*Translator, error) {
	if client == nil {
		return nil, errors.New("openai: nil http client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, err := httpx.BaseURL("openai", cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	model := strings.TrimSpace(cfg.Model)
	if model == "" {
		return nil, errors.New("openai: model is required")
	}
	if cfg.Temperature < 0 || cfg.Temperature > 2 {
		return nil, fmt.Errorf("openai: temperature %g out of range [0, 2]", cfg.Temperature)
	}
	if cfg.MaxTexts < 0 || cfg.MaxChars < 0 {
		return nil, errors.New("openai: negative limits")
	}
	limits := translate.Limits{MaxTexts: DefaultMaxTexts, MaxChars: DefaultMaxChars}
	if cfg.MaxTexts > 0 {
		limits.MaxTexts = cfg.MaxTexts
	}
	if cfg.MaxChars > 0 {
		limits.MaxChars = cfg.MaxChars
	}
	t := &Translator{
		endpoint:    base + "/chat/completions",
		key:         cfg.APIKey,
		model:       model,
		temperature: cfg.Temperature,
		limits:      limits,
		client:      client,
		now:         time.Now,
	}
	t.logger = logger.With(slog.String("provider", t.Name()))
	return t, nil
}

// Name is "openai/" plus the model; it is part of translation-memory keys.
func (t *Translator) Name() string { return "openai/" + t.model }

// Limits returns the per-request limits.
func (t *Translator) Limits() translate.Limits { return t.limits }

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model          string         `json:"model"`
	Messages       []message      `json:"messages"`
	Temperature    float64        `json:"temperature"`
	Stream         bool           `json:"stream"`
	ResponseFormat responseFormat `json:"response_format"`
}

type responseFormat struct {
	Type string `json:"type"`
}

type chatResponse struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal string  `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Error json.RawMessage `json:"error"`
}

// chat sends one chat-completions request (a system and a user message,
// answered as a JSON object) and returns the status and the raw answer.
func (t *Translator) chat(ctx context.Context, system, user string) (int, []byte, error) {
	body, err := marshal(chatRequest{
		Model:          t.model,
		Messages:       []message{{Role: "system", Content: system}, {Role: "user", Content: user}},
		Temperature:    t.temperature,
		ResponseFormat: responseFormat{Type: "json_object"},
	})
	if err != nil {
		return 0, nil, t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("openai: encode request: %w", err))
	}
	header := make(http.Header)
	header.Set("Content-Type", "application/json")
	header.Set("Accept", "application/json")
	if t.key != "" {
		header.Set("Authorization", "Bearer "+t.key)
	}
	return httpx.Post(ctx, t.client, httpx.Request{Provider: "openai", URL: t.endpoint, Header: header, Body: body, Secret: t.key}, t.statusError)
}

// Translate translates req.Texts in one chat-completions request.
func (t *Translator) Translate(ctx context.Context, req translate.Request) ([]string, error) {
	if len(req.Texts) == 0 {
		return []string{}, nil
	}
	users, err := marshal(req.Texts)
	if err != nil {
		return nil, t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("openai: encode texts: %w", err))
	}
	code, raw, err := t.chat(ctx, systemPrompt(req), string(users))
	if err != nil {
		return nil, err
	}
	out, err := decodeResponse(raw, req.Texts, t.key)
	if err != nil {
		return nil, t.fail(translate.KindBadAnswer, code, 0, errors.New(httpx.Scrub(err.Error(), t.key)))
	}
	t.logger.DebugContext(ctx, "batch translated", slog.Int("texts", len(out)))
	return out, nil
}

// decodeResponse turns a 200 body into exactly len(src) translations.
// Excerpts of the body in errors have secret removed before they are cut.
func decodeResponse(raw []byte, src []string, secret string) ([]string, error) {
	raw = skipKeepAlive(raw)
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, fmt.Errorf("openai: response is not JSON: %w: %s", err, httpx.Snippet(raw, secret))
	}
	if len(cr.Choices) == 0 {
		if msg, _, _ := apiError(raw); msg != "" {
			return nil, fmt.Errorf("openai: no choices: %s", msg)
		}
		return nil, fmt.Errorf("openai: response has no choices: %s", httpx.Snippet(raw, secret))
	}
	ch := cr.Choices[0]
	switch ch.FinishReason {
	case "length":
		return nil, errors.New("openai: answer truncated (finish_reason length): send smaller batches")
	case "content_filter":
		return nil, errors.New("openai: answer withheld by the content filter")
	}
	if ch.Message.Content == nil || *ch.Message.Content == "" {
		if ch.Message.Refusal != "" {
			return nil, fmt.Errorf("openai: model refused: %s", httpx.Snippet([]byte(ch.Message.Refusal), secret))
		}
		return nil, errors.New("openai: empty answer")
	}
	out, err := parseAnswer(*ch.Message.Content, len(src), secret)
	if err != nil {
		return nil, err
	}
	for i, s := range out {
		if strings.TrimSpace(s) == "" && strings.TrimSpace(src[i]) != "" {
			return nil, fmt.Errorf("openai: translation %d is empty", i)
		}
	}
	return out, nil
}

// skipKeepAlive drops leading white space and SSE comment lines
// (": keep-alive") that DeepSeek sends while a request waits in its queue.
func skipKeepAlive(b []byte) []byte {
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 || b[0] != ':' {
			return b
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
}

// parseAnswer extracts exactly n strings from the model's answer. It accepts
// {"translations":[...]}, an object with a single array of strings, or a bare
// array, optionally inside a ``` fence, after a <think> block, or surrounded
// by prose.
func parseAnswer(content string, n int, secret string) ([]string, error) {
	s := strings.TrimSpace(content)
	if strings.HasPrefix(s, "<think>") {
		if i := strings.Index(s, "</think>"); i >= 0 {
			s = strings.TrimSpace(s[i+len("</think>"):])
		}
	}
	s = stripFence(s)
	if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
		i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}')
		if i < 0 || j < i {
			return nil, fmt.Errorf("openai: answer is not JSON: %s", httpx.Snippet([]byte(s), secret))
		}
		s = s[i : j+1]
	}
	var list []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return nil, fmt.Errorf("openai: answer is not a JSON array of strings: %w", err)
		}
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			return nil, fmt.Errorf("openai: answer is not a JSON object: %w: %s", err, httpx.Snippet([]byte(s), secret))
		}
		field, ok := obj["translations"]
		if !ok && len(obj) == 1 {
			for _, v := range obj {
				field = v
			}
		}
		if field == nil {
			return nil, errors.New(`openai: answer has no "translations" array`)
		}
		if err := json.Unmarshal(field, &list); err != nil {
			return nil, fmt.Errorf("openai: translations are not an array of strings: %w", err)
		}
	}
	if len(list) != n {
		return nil, fmt.Errorf("openai: answer has %d translations, want %d", len(list), n)
	}
	return list, nil
}

// stripFence removes a surrounding markdown code fence (```json … ```).
func stripFence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return strings.Trim(s, "`")
	}
	s = s[nl+1:]
	if i := strings.LastIndex(s, "```"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// systemPrompt states the translation rules for one batch.
func systemPrompt(req translate.Request) string {
	var b strings.Builder
	src, tgt := langName(req.Source, "Chinese"), langName(req.Target, "English")
	fmt.Fprintf(&b, "You are a professional translator of %s government news into %s.\n", src, tgt)
	fmt.Fprintf(&b, "The user message is a JSON array of %d %s texts. Translate each text into %s independently, faithfully and completely: no summaries, no omissions, no additions, no notes.\n", len(req.Texts), src, tgt)
	b.WriteString("Keep every number, date, amount, percentage and unit exactly as written.\n")
	if req.Format == translate.FormatHTML {
		b.WriteString("The texts are HTML fragments: keep every HTML tag and attribute exactly as it is, in the same place and order; translate only the text between tags.\n")
	} else {
		b.WriteString("The texts are plain text: answer in plain text, without markup.\n")
	}
	if len(req.Glossary) > 0 {
		b.WriteString("Always translate these terms exactly as given:\n")
		terms := make([]string, 0, len(req.Glossary))
		for k := range req.Glossary {
			terms = append(terms, k)
		}
		sort.Strings(terms)
		for _, k := range terms {
			fmt.Fprintf(&b, "- %s => %s\n", k, req.Glossary[k])
		}
	}
	fmt.Fprintf(&b, "Answer ONLY with a JSON object of the form {\"translations\": [...]} holding exactly %d strings, the translations in the same order as the input.", len(req.Texts))
	return b.String()
}

func langName(code, fallback string) string {
	switch strings.ToLower(code) {
	case "":
		return fallback
	case "zh", "zh-cn", "zh-hans", "zh-sg":
		return "Chinese"
	case "zh-tw", "zh-hk", "zh-hant":
		return "Traditional Chinese"
	case "en", "en-us", "en-gb":
		return "English"
	}
	return code
}

// marshal encodes JSON without escaping <, > and & (HTML stays readable for
// the model) and without the trailing newline.
func marshal(v any) ([]byte, error) {
	b, err := httpx.EncodeJSON(v)
	return bytes.TrimRight(b, "\n"), err
}

// apiError reads {"error":{"message","type","code"}} or {"error":"…"}.
func apiError(body []byte) (msg, typ, code string) {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(skipKeepAlive(body), &env) != nil {
		return "", "", ""
	}
	var s string
	if json.Unmarshal(env.Error, &s) == nil {
		return s, "", ""
	}
	var e struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(env.Error, &e) == nil {
		var cs string
		if json.Unmarshal(e.Code, &cs) != nil && len(e.Code) > 0 && string(e.Code) != "null" {
			cs = string(e.Code)
		}
		if e.Message == "" {
			e.Message = env.Message
		}
		return e.Message, e.Type, cs
	}
	return env.Message, "", ""
}

// statusError classifies a non-200 answer.
func (t *Translator) statusError(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	msg, typ, ecode := apiError(body)
	if msg == "" {
		msg = httpx.Snippet(body, t.key)
	}
	msg = httpx.Scrub(msg, t.key)
	after := retryAfter(resp.Header, t.now())
	var kind translate.ErrorKind
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		kind = translate.KindPermanent
	case code == http.StatusPaymentRequired:
		kind = translate.KindQuota
	case code == http.StatusTooManyRequests && (ecode == "insufficient_quota" || typ == "insufficient_quota"):
		kind = translate.KindQuota
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code == http.StatusConflict, code >= 500:
		kind = translate.KindRetryable
	default:
		kind = translate.KindPermanent
	}
	detail := typ
	if ecode != "" && ecode != typ {
		detail = strings.Trim(typ+" "+ecode, " ")
	}
	if detail != "" {
		msg = detail + ": " + msg
	}
	return t.fail(kind, code, after, fmt.Errorf("openai: server said: %s", msg))
}

func (t *Translator) fail(kind translate.ErrorKind, status int, after time.Duration, err error) error {
	return &translate.Error{Provider: t.Name(), Kind: kind, StatusCode: status, RetryAfter: after, Err: err}
}

// retryAfter reads Retry-After-Ms (milliseconds, OpenAI) and then
// Retry-After (seconds or an HTTP-date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return httpx.RetryAfter(h, now)
}
