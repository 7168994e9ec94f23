package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/translate"
)

const testKey = "sk-secret+key/42"

// statusFor is a provider status mapping for the tests: every non-2xx
// answer is KindPermanent with the body as message.
func statusFor(t *testing.T) func(*http.Response, []byte) error {
	return func(resp *http.Response, body []byte) error {
		t.Helper()
		return Fail("test", translate.KindPermanent, resp.StatusCode, RetryAfter(resp.Header, time.Now()), fmt.Errorf("test: server said: %s", Snippet(body, "")))
	}
}

func TestPost(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		wantKind translate.ErrorKind // 0: success
		wantCode int
		wantMsg  string
		wantBody string
		after    time.Duration
	}{
		{name: "200", status: 200, body: `{"ok":true}`, wantCode: 200, wantBody: `{"ok":true}`},
		{name: "204 empty", status: 204, wantCode: 204, wantBody: ""},
		{name: "429 to status", status: 429, header: map[string]string{"Retry-After": "3"}, body: "slow down", wantKind: translate.KindPermanent, wantCode: 429, wantMsg: "test: server said: slow down", after: 3 * time.Second},
		{name: "500 empty body", status: 500, wantKind: translate.KindPermanent, wantCode: 500, wantMsg: "(empty body)"},
		{name: "200 too large", status: 200, body: strings.Repeat("x", MaxResponseBytes+1), wantKind: translate.KindBadAnswer, wantCode: 200, wantMsg: "test: response body too large"},
		{name: "200 at limit", status: 200, body: strings.Repeat("y", MaxResponseBytes), wantCode: 200, wantBody: strings.Repeat("y", MaxResponseBytes)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					t.Errorf("method %s, want POST", r.Method)
				}
				if got := r.Header.Get("Content-Type"); got != "application/json" {
					t.Errorf("content type %q", got)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
					t.Errorf("authorization %q", got)
				}
				if b, _ := io.ReadAll(r.Body); string(b) != `{"q":1}` {
					t.Errorf("body %q", b)
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			h := make(http.Header)
			h.Set("Content-Type", "application/json")
			h.Set("Authorization", "Bearer "+testKey)
			code, body, err := Post(context.Background(), srv.Client(), Request{Provider: "test", URL: srv.URL, Header: h, Body: []byte(`{"q":1}`), Secret: testKey}, statusFor(t))
			if code != tc.wantCode {
				t.Errorf("code %d, want %d", code, tc.wantCode)
			}
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if string(body) != tc.wantBody {
					t.Errorf("body of %d bytes, want %d", len(body), len(tc.wantBody))
				}
				return
			}
			var te *translate.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not *translate.Error", err)
			}
			if te.Kind != tc.wantKind || te.StatusCode != tc.wantCode || te.RetryAfter != tc.after || te.Provider != "test" {
				t.Errorf("got %+v, want kind %v code %d after %v", te, tc.wantKind, tc.wantCode, tc.after)
			}
			if !strings.Contains(te.Err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", te.Err, tc.wantMsg)
			}
			if body != nil {
				t.Errorf("body returned with an error")
			}
		})
	}
}

func TestPostFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		url      string
		wantKind translate.ErrorKind
		wantMsg  string
		wantIs   error
	}{
		{name: "bad url", ctx: context.Background(), url: "http://[::1" + "?key=" + url.QueryEscape(testKey), wantKind: translate.KindPermanent, wantMsg: "test: build request:"},
		{name: "connection refused", ctx: context.Background(), url: closedURL + "/v2?key=" + url.QueryEscape(testKey), wantKind: translate.KindRetryable, wantMsg: "test: post:"},
		{name: "canceled", ctx: canceled, url: closedURL + "/v2?key=" + url.QueryEscape(testKey), wantKind: translate.KindRetryable, wantMsg: "test: post:", wantIs: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Timeout: 5 * time.Second}
			_, _, err := Post(tc.ctx, client, Request{Provider: "test", URL: tc.url, Secret: testKey}, func(*http.Response, []byte) error {
				t.Error("status called without an answer")
				return nil
			})
			if got := translate.KindOf(err); got != tc.wantKind {
				t.Errorf("kind %v, want %v (%v)", got, tc.wantKind, err)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			for _, f := range []string{testKey, url.QueryEscape(testKey), url.PathEscape(testKey)} {
				if strings.Contains(err.Error(), f) {
					t.Errorf("error %q leaks the key", err)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int64
		want    string
		wantErr error
	}{
		{name: "under", in: "abc", limit: 4, want: "abc"},
		{name: "at", in: "abcd", limit: 4, want: "abcd"},
		{name: "over", in: "abcde", limit: 4, want: "abcd", wantErr: ErrTooLarge},
		{name: "empty", in: "", limit: 4, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadBody(strings.NewReader(tc.in), tc.limit)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

type countingBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { b.closed = true; return nil }

func TestDrainClose(t *testing.T) {
	tests := []struct {
		name string
		size int
		want int
	}{
		{name: "small", size: 10, want: 10},
		{name: "capped", size: drainBytes * 3, want: drainBytes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &countingBody{r: bytes.NewReader(make([]byte, tc.size))}
			DrainClose(b)
			if b.read != tc.want || !b.closed {
				t.Errorf("read %d closed %v, want %d true", b.read, b.closed, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "absent", want: 0},
		{name: "seconds", value: "12", want: 12 * time.Second},
		{name: "fraction", value: " 1.5 ", want: 1500 * time.Millisecond},
		{name: "negative", value: "-3", want: 0},
		{name: "absurd", value: "1e12", want: 0},
		{name: "date", value: "Sat, 01 Mar 2025 12:00:30 GMT", want: 30 * time.Second},
		{name: "past date", value: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0},
		{name: "garbage", value: "soon", want: 0},
		{name: "nan", value: "NaN", want: 0},
		{name: "date far ahead", value: "Mon, 01 May 7000 00:00:00 GMT", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := make(http.Header)
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			if got := RetryAfter(h, now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "12", "1.5", "-1", "1e9", "NaN", "Inf", "Sat, 01 Mar 2025 12:00:30 GMT", "SAt, 01 MAY 7000 0:00:00 GMT", "Monday"} {
		f.Add(s)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		h := make(http.Header)
		h.Set("Retry-After", v)
		if d := RetryAfter(h, now); d < 0 || d > maxRetryAfter {
			t.Errorf("RetryAfter(%q) = %v", v, d)
		}
	})
}

func TestEncodeJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{name: "html kept", in: map[string]string{"q": "<p>a & b</p>"}, want: `{"q":"<p>a & b</p>"}` + "\n"},
		{name: "chinese", in: []string{"肇庆"}, want: `["肇庆"]` + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeJSON(tc.in)
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := EncodeJSON(func() {}); err == nil {
		t.Error("no error for an unencodable value")
	}
}

func TestHTTPURL(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{in: "https://api.deepl.com", ok: true},
		{in: "http://localhost:5000/v1?x=1", ok: true},
		{in: "ftp://x", ok: false},
		{in: "/relative", ok: false},
		{in: "https://", ok: false},
		{in: "http://[::1", ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, ok := HTTPURL(tc.in)
			if ok != tc.ok || (ok && u == nil) {
				t.Errorf("HTTPURL(%q) = %v, %v; want ok %v", tc.in, u, ok, tc.ok)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		secret string
		want   string
	}{
		{name: "empty", in: nil, want: "(empty body)"},
		{name: "spaces folded", in: []byte("  a\n\tb  c "), want: "a b c"},
		{name: "invalid utf8", in: []byte("a\xffb"), want: "a?b"},
		{name: "long", in: []byte(strings.Repeat("字", 250)), want: strings.Repeat("字", 200) + "…"},
		{name: "secret at the cut is redacted first", in: []byte(strings.Repeat("字", 195) + testKey + " tail"), secret: testKey,
			want: strings.Repeat("字", 195) + "REDAC…"},
		{name: "escaped secret", in: []byte("key=" + url.QueryEscape(testKey)), secret: testKey, want: "key=REDACTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Snippet(tc.in, tc.secret); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScrubAndRedact(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		wantIs error
	}{
		{name: "plain", err: errors.New("bad key " + testKey), want: "bad key REDACTED"},
		{name: "query escaped", err: errors.New("key=" + url.QueryEscape(testKey)), want: "key=REDACTED"},
		{name: "no secret", err: errors.New("boom"), want: "boom"},
		{name: "deadline", err: fmt.Errorf("wait %s: %w", testKey, context.DeadlineExceeded), want: "wait REDACTED: context deadline exceeded", wantIs: context.DeadlineExceeded},
		{name: "canceled", err: fmt.Errorf("stop %s: %w", testKey, context.Canceled), want: "stop REDACTED: context canceled", wantIs: context.Canceled},
		{name: "url error", err: &url.Error{Op: "Post", URL: "https://u:p@h/x?key=abc", Err: errors.New("refused")}, want: `Post "https://h/x?REDACTED": refused`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactErr(tc.err, testKey)
			if got.Error() != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if tc.wantIs != nil && !errors.Is(got, tc.wantIs) {
				t.Errorf("%v is not %v", got, tc.wantIs)
			}
		})
	}
	if got := Scrub("a "+testKey, ""); got != "a "+testKey {
		t.Errorf("empty secret changed the text: %q", got)
	}
	if got := RedactURL("%zz"); got != "(url redacted)" {
		t.Errorf("unparsable url: %q", got)
	}
}
