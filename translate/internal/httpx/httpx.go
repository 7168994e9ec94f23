// Package httpx holds the HTTP plumbing the translation providers share:
// one POST with a capped, drained body; Retry-After; and keeping API keys
// out of error messages. What a status code means stays with each provider.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/translate"
)

// MaxResponseBytes caps a response body; the answer for one batch is a few
// hundred kilobytes at most.
const MaxResponseBytes = 4 << 20

// drainBytes is how much of an unread body is read before closing it, so
// that the connection can be reused.
const drainBytes = 64 << 10

// maxRetryAfter is the longest Retry-After believed; a longer one is
// ignored.
const maxRetryAfter = 1e9 * time.Second

// ErrTooLarge is returned by ReadBody for a body over its limit.
var ErrTooLarge = errors.New("httpx: response body too large")

// Request is one POST to a provider.
type Request struct {
	// Provider names the provider in translate.Error and prefixes every
	// error message ("deepl").
	Provider string
	URL      string
	Header   http.Header
	Body     []byte
	// Secret is removed from every error (as is and URL-escaped); a
	// *url.Error also loses its URL's query and user info.
	Secret string
}

// Post sends r with client and returns the status code and the body of a
// 2xx answer. Failures are *translate.Error: a request that cannot be
// built is KindPermanent, a transport or read failure KindRetryable, a
// body over MaxResponseBytes KindBadAnswer. A non-2xx answer is passed,
// with its body (up to MaxResponseBytes), to status, whose error Post
// returns as is.
func Post(ctx context.Context, client *http.Client, r Request, status func(*http.Response, []byte) error) (int, []byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, Fail(r.Provider, translate.KindPermanent, 0, 0, fmt.Errorf("%s: build request: %w", r.Provider, RedactErr(err, r.Secret)))
	}
	for k, vs := range r.Header {
		hreq.Header[k] = vs
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return 0, nil, Fail(r.Provider, translate.KindRetryable, 0, 0, fmt.Errorf("%s: post: %w", r.Provider, RedactErr(err, r.Secret)))
	}
	defer DrainClose(resp.Body)
	data, readErr := ReadBody(resp.Body, MaxResponseBytes)
	code := resp.StatusCode
	if code < 200 || code > 299 {
		return code, nil, status(resp, data)
	}
	switch {
	case errors.Is(readErr, ErrTooLarge):
		return code, nil, Fail(r.Provider, translate.KindBadAnswer, code, 0, fmt.Errorf("%s: response body too large", r.Provider))
	case readErr != nil:
		return code, nil, Fail(r.Provider, translate.KindRetryable, code, 0, fmt.Errorf("%s: read response: %w", r.Provider, RedactErr(readErr, r.Secret)))
	}
	return code, data, nil
}

// Fail builds a provider error.
func Fail(provider string, kind translate.ErrorKind, status int, after time.Duration, err error) error {
	return &translate.Error{Provider: provider, Kind: kind, StatusCode: status, RetryAfter: after, Err: err}
}

// ReadBody reads at most limit bytes; a longer body yields the first limit
// bytes and ErrTooLarge.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], ErrTooLarge
	}
	return b, nil
}

// DrainClose reads a little of what is left (so the connection can be
// reused) and closes the body.
func DrainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainBytes))
	_ = body.Close()
}

// RetryAfter reads Retry-After (seconds or an HTTP-date); 0 when absent,
// unreadable, negative, absurdly long or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if !(s >= 0 && s <= 1e9) { // also NaN

			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		if d := t.Sub(now); d <= maxRetryAfter {
			return d
		}
	}
	return 0
}

// EncodeJSON encodes v as JSON without escaping <, > and & (smaller bodies
// for HTML). Like json.Encoder, it ends the output with a newline.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// HTTPURL parses raw and reports whether it is an absolute http or https
// URL with a host.
func HTTPURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Snippet is a short single-line excerpt of a body for error messages.
// The secret is removed before the text is cut, so a secret straddling
// the cut cannot leave its first characters behind.
func Snippet(b []byte, secret string) string {
	s := Scrub(string(bytes.ToValidUTF8(b, []byte("?"))), secret)
	s = strings.Join(strings.Fields(s), " ")
	const maxRunes = 200
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// Scrub removes a secret (as is and URL-escaped) from a text.
func Scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	for _, f := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		s = strings.ReplaceAll(s, f, "REDACTED")
	}
	return s
}

// RedactErr returns err with the query and user info dropped from a
// *url.Error's URL and the secret removed from the message, keeping
// context errors reachable through errors.Is.
func RedactErr(err error, secret string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	if secret == "" || Scrub(err.Error(), secret) == err.Error() {
		return err
	}
	r := &redactedError{msg: Scrub(err.Error(), secret)}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		r.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		r.cause = context.Canceled
	}
	return r
}

// redactedError is an error message with the secret removed; it unwraps
// only to a context error, so that nothing reached through it still holds
// the secret.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// RedactURL drops the user info from raw and replaces its query with
// "REDACTED".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url redacted)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	return u.String()
}

// BaseURL checks a provider's configured base URL: trimmed, def when empty
// (an empty def makes it required), an absolute http(s) URL without a query
// or fragment. It returns the URL without a trailing slash; errors name the
// provider and never show URL credentials.
func BaseURL(provider, raw, def string) (string, error) {
	base := strings.TrimSpace(raw)
	if base == "" {
		base = def
	}
	if base == "" {
		return "", fmt.Errorf("%s: base url is required", provider)
	}
	if u, ok := HTTPURL(base); !ok || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s: base url %q: want an absolute http(s) URL without a query", provider, RedactURL(base))
	}
	return strings.TrimRight(base, "/"), nil
}
