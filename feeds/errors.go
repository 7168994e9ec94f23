package feeds

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/transfeed/transfeed/internal/redact"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrorKind classifies a failed fetch or parse so the scheduler and the
// status page can react (retry later, alert, give up).
type ErrorKind int

// Error kinds.
const (
	KindNetwork    ErrorKind = iota // DNS, connection refused/reset, TLS
	KindHTTPStatus                  // the server answered with a non-2xx status
	KindTimeout                     // no complete answer within the timeout
	KindTooLarge                    // the body exceeded the size limit
	KindNotFeed                     // the answer is not RSS/Atom/JSON Feed (often an HTML page)
	KindParse                       // the feed or page could not be parsed
	KindRedirects                   // too many redirects
	KindForbidden                   // the address guard refused the destination (ErrForbiddenAddress)
)

// String names the kind in snake_case (for logs and metrics labels).
func (k ErrorKind) String() string {
	switch k {
	case KindNetwork:
		return "network"
	case KindHTTPStatus:
		return "http_status"
	case KindTimeout:
		return "timeout"
	case KindTooLarge:
		return "too_large"
	case KindNotFeed:
		return "not_feed"
	case KindParse:
		return "parse"
	case KindRedirects:
		return "redirects"
	case KindForbidden:
		return "forbidden_address"
	}
	return "unknown"
}

// ErrTooLarge is wrapped by every *Error of kind KindTooLarge.
var ErrTooLarge = errors.New("feeds: response too large")

// Error is a failed fetch or parse of one URL. Its message is written for
// an administrator, not a programmer ("HTTP 503 Service Unavailable from
// http://…"); URL never carries credentials or API keys.
type Error struct {
	Kind       ErrorKind
	URL        string        // redacted
	StatusCode int           // KindHTTPStatus only
	RetryAfter time.Duration // from Retry-After on 429/503; 0 when absent
	Err        error         // underlying cause, may be nil

	msg string
}

// Error returns the plain-words reason.
func (e *Error) Error() string {
	if e.msg != "" {
		return e.msg
	}
	if e.Err != nil {
		return e.Err.Error() + " (" + e.URL + ")"
	}
	return "fetch failed: " + e.URL
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether a later retry may succeed.
func (e *Error) Temporary() bool {
	switch e.Kind {
	case KindNetwork, KindTimeout:
		return true
	case KindHTTPStatus:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout || e.StatusCode >= 500
	}
	return false
}

func statusError(u string, code int, retryAfter time.Duration) *Error {
	text := http.StatusText(code)
	msg := fmt.Sprintf("HTTP %d %s from %s", code, text, u)
	if text == "" {
		msg = fmt.Sprintf("HTTP %d from %s", code, u)
	}
	switch code {
	case http.StatusForbidden:
		msg += " (access denied: the site may block foreign IPs or bots)"
	case http.StatusNotFound, http.StatusGone:
		msg += " (the address no longer exists; check the source URL)"
	}
	if retryAfter > 0 {
		msg += fmt.Sprintf("; the server asks to retry after %s", retryAfter)
	}
	return &Error{Kind: KindHTTPStatus, URL: u, StatusCode: code, RetryAfter: retryAfter, msg: msg}
}

func tooLargeError(u string, limit int64) *Error {
	return &Error{Kind: KindTooLarge, URL: u, Err: ErrTooLarge,
		msg: fmt.Sprintf("response larger than %s limit from %s", formatSize(limit), u)}
}

func notFeedError(u, why string) *Error {
	return &Error{Kind: KindNotFeed, URL: u, msg: "not a feed: " + why + " (" + u + ")"}
}

func parseError(u string, err error) *Error {
	return &Error{Kind: KindParse, URL: u, Err: err, msg: "feed could not be parsed: " + err.Error() + " (" + u + ")"}
}

// formatSize renders a byte count the way config sizes are written (10 MB).
func formatSize(n int64) string {
	switch {
	case n >= 1000*1000 && n%(1000*1000) == 0:
		return strconv.FormatInt(n/(1000*1000), 10) + " MB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1000 && n%1000 == 0:
		return strconv.FormatInt(n/1000, 10) + " KB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1000*1000), 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// redirectError is returned by CheckRedirect.
type redirectError struct{ max int }

func (e *redirectError) Error() string {
	return fmt.Sprintf("feeds: stopped after %d redirects", e.max)
}

// classifyTransportError turns an error from http.Client.Do or from reading
// a body into an *Error in plain words. The *url.Error layer is dropped
// because its message repeats the full (unredacted) URL.
func classifyTransportError(err error, u string, timeout time.Duration) *Error {
	var ue *url.Error
	hop := ""
	if errors.As(err, &ue) {
		hop = RedactURL(ue.URL)
		err = ue.Err
	}
	var re *redirectError
	if errors.As(err, &re) {
		return &Error{Kind: KindRedirects, URL: u, Err: err,
			msg: fmt.Sprintf("too many redirects (redirect loop?): gave up after %d redirects from %s", re.max, u)}
	}
	if ae, ok := errors.AsType[*AddressError](err); ok {
		where := u
		if hop != "" && hop != u {
			where = u + ", redirected to " + hop
		}
		return &Error{Kind: KindForbidden, URL: u, Err: err, msg: ae.Error() + " (" + where + ")"}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: KindTimeout, URL: u, Err: err,
			msg: fmt.Sprintf("timed out after %s fetching %s", timeout, u)}
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var why string
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			why = "host name not found (DNS): " + dnsErr.Name
		} else {
			why = "DNS lookup failed for " + dnsErr.Name
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		why = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		why = "connection reset by the server"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		why = "host unreachable"
	case errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalidErr), errors.As(err, &certErr):
		why = "the site's TLS certificate is not valid"
	case errors.As(err, &recErr):
		why = "TLS handshake failed (the server may not speak HTTPS)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		why = "the server closed the connection before the answer was complete"
	default:
		why = "network error: " + err.Error()
	}
	return &Error{Kind: KindNetwork, URL: u, Err: err, msg: why + " (" + u + ")"}
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(7*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d.Round(time.Second), 7*24*time.Hour)
		}
	}
	return 0
}

// RedactURL removes credentials from a URL for logs, errors, pages and
// feeds (see redact.URL).
func RedactURL(raw string) string { return redact.URL(raw) }
