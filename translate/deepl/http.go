package deepl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxResponseBytes caps a response body; the answer for one batch is a few
// hundred kilobytes at most.
const maxResponseBytes = 4 << 20

var errTooLarge = errors.New("deepl: response body too large")

// readBody reads at most limit bytes; a longer body yields errTooLarge.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return b, err
	}
	if int64(len(b)) > limit {
		return b[:limit], errTooLarge
	}
	return b, nil
}

// drainClose reads a little of what is left (so the connection can be
// reused) and closes the body.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// retryAfter reads Retry-After (seconds or an HTTP-date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 1e9 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// snippet is a short single-line excerpt of a body for error messages.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, []byte("?")))), " ")
	const maxRunes = 200
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// scrub removes a secret (as is and URL-escaped) from a text.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	for _, f := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		s = strings.ReplaceAll(s, f, "REDACTED")
	}
	return s
}

// redactErr returns err with the query and user info dropped from a
// *url.Error's URL and the secret removed from the message, keeping
// context errors reachable through errors.Is.
func redactErr(err error, secret string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	if secret == "" || scrub(err.Error(), secret) == err.Error() {
		return err
	}
	msg := scrub(err.Error(), secret)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", msg, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", msg, context.Canceled)
	}
	return errors.New(msg)
}

func redactURL(raw string) string {
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
