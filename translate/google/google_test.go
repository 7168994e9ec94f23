package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

// A key with characters that URL-escaping changes, to check both forms.
const testKey = "AIzaSyTEST+key/with=chars"

func newTranslator(t *testing.T, srv *translatetest.Server) *Translator {
	t.Helper()
	tr, err := New(Config{BaseURL: srv.URL, APIKey: testKey}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTranslateSuccess(t *testing.T) {
	tests := []struct {
		name       string
		format     translate.Format
		fakeFormat string
		texts      []string
		want       []string
	}{
		{name: "text", format: translate.FormatText, fakeFormat: "text", texts: translatetest.SampleTexts(), want: translatetest.TranslateAll(translatetest.SampleTexts())},
		{name: "html", format: translate.FormatHTML, fakeFormat: "html", texts: []string{`<p class="x">肇庆</p>`}, want: []string{`<p class="x">Zhaoqing</p>`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := translatetest.NewGoogleServer(t, translatetest.Options{Key: testKey, Format: tc.fakeFormat})
			tr := newTranslator(t, srv)
			got, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Format: tc.format, Texts: tc.texts})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var body translateRequest
			if err := json.Unmarshal(srv.Bodies()[0], &body); err != nil {
				t.Fatal(err)
			}
			if body.Source != "zh-CN" || body.Target != "en" || body.Format != tc.fakeFormat {
				t.Errorf("source %q target %q format %q", body.Source, body.Target, body.Format)
			}
		})
	}
}

func googleErr(code int, status, message, reason string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"message":%q,"domain":"usageLimits","reason":%q}],"status":%q}}`,
		code, message, message, reason, status)
}

func TestTranslateErrors(t *testing.T) {
	tests := []translatetest.ErrorCase{
		{Name: "403 daily limit", Reply: translatetest.Reply{Status: 403, Body: googleErr(403, "PERMISSION_DENIED", "Daily Limit Exceeded", "dailyLimitExceeded")}, Kind: translate.KindQuota, Status: 403, Message: "Daily Limit Exceeded"},
		{Name: "429 per-day quota", Reply: translatetest.Reply{Status: 429, Body: googleErr(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'v2 and v3 general model characters' and limit 'v2 and v3 general model characters per day'", "rateLimitExceeded")}, Kind: translate.KindQuota, Status: 429, Message: "per day"},
		{Name: "403 user rate limit", Reply: translatetest.Reply{Status: 403, Body: googleErr(403, "PERMISSION_DENIED", "User Rate Limit Exceeded", "userRateLimitExceeded")}, Kind: translate.KindRetryable, Status: 403, Message: "User Rate Limit Exceeded"},
		{Name: "429 with Retry-After", Reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "30"}, Body: googleErr(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'characters' and limit 'characters per minute per user'", "rateLimitExceeded")}, Kind: translate.KindRetryable, Status: 429, After: 30 * time.Second, Message: "per minute"},
		{Name: "400 key invalid", Reply: translatetest.Reply{Status: 400, Body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","errors":[{"message":"API key not valid. Please pass a valid API key.","domain":"global","reason":"badRequest"}],"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`}, Kind: translate.KindPermanent, Status: 400, Message: "API key not valid"},
		{Name: "400 keyInvalid echoing key", Reply: translatetest.Reply{Status: 400, Body: googleErr(400, "INVALID_ARGUMENT", "Bad key "+testKey, "keyInvalid")}, Kind: translate.KindPermanent, Status: 400, Message: "keyInvalid"},
		{Name: "400 too many segments", Reply: translatetest.Reply{Status: 400, Body: googleErr(400, "INVALID_ARGUMENT", "Too many text segments", "invalid")}, Kind: translate.KindBadAnswer, Status: 400, Message: "Too many text segments"},
		{Name: "403 api disabled", Reply: translatetest.Reply{Status: 403, Body: googleErr(403, "PERMISSION_DENIED", "Cloud Translation API has not been used in project 1 before or it is disabled.", "accessNotConfigured")}, Kind: translate.KindPermanent, Status: 403, Message: "disabled"},
		{Name: "500", Reply: translatetest.Reply{Status: 500, Body: googleErr(500, "INTERNAL", "Internal error encountered.", "backendError")}, Kind: translate.KindRetryable, Status: 500, Message: "Internal error"},
		{Name: "503 with Retry-After", Reply: translatetest.Reply{Status: 503, Header: map[string]string{"Retry-After": "5"}, Body: googleErr(503, "UNAVAILABLE", "The service is currently unavailable.", "backendError")}, Kind: translate.KindRetryable, Status: 503, After: 5 * time.Second, Message: "unavailable"},
		{Name: "nginx 502 html", Reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"}, Kind: translate.KindRetryable, Status: 502, Message: "502 Bad Gateway"},
		{Name: "count mismatch", Reply: translatetest.Reply{Body: `{"data":{"translations":[{"translatedText":"a"},{"translatedText":"b"}]}}`}, Kind: translate.KindBadAnswer, Status: 200, Message: "2 translations, want 3"},
		{Name: "200 not json", Reply: translatetest.Reply{Body: "oops"}, Kind: translate.KindBadAnswer, Status: 200, Message: "oops"},
	}
	translatetest.RunErrorCases(t, "google", tests, func(t *testing.T, reply *translatetest.Reply) error {
		srv := translatetest.NewGoogleServer(t, translatetest.Options{Key: testKey, Reply: reply})
		tr := newTranslator(t, srv)
		_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: translatetest.SampleTexts()})
		return err
	}, testKey)
}

// leakyTransport fails with an error that quotes the request URL, as some
// proxies and transports do.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s", r.URL)
}

func TestTransportErrorsAreRedacted(t *testing.T) {
	closed := translatetest.NewGoogleServer(t, translatetest.Options{Key: testKey})
	closed.Close()
	slow := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slow:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(slow) })
	tests := []struct {
		name     string
		base     string
		client   *http.Client
		deadline bool
	}{
		{name: "connection refused", base: closed.URL, client: &http.Client{Timeout: 5 * time.Second}},
		{name: "transport quoting the url", base: "https://translation.example", client: &http.Client{Transport: leakyTransport{}}},
		{name: "context deadline", base: hang.URL, client: hang.Client(), deadline: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(Config{BaseURL: tc.base, APIKey: testKey}, tc.client, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			_, err = tr.Translate(ctx, translate.Request{Source: "zh", Target: "en", Texts: translatetest.SampleTexts()})
			translatetest.AssertRetryable(t, err, testKey)
			if tc.deadline && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%v does not wrap context.DeadlineExceeded", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		client  *http.Client
		wantErr string
		want    string
	}{
		{name: "default base", cfg: Config{APIKey: testKey}, client: http.DefaultClient, want: "https://translation.googleapis.com/language/translate/v2"},
		{name: "custom base", cfg: Config{APIKey: testKey, BaseURL: "http://127.0.0.1:9/"}, client: http.DefaultClient, want: "http://127.0.0.1:9/language/translate/v2"},
		{name: "no key", cfg: Config{}, client: http.DefaultClient, wantErr: "api key is required"},
		{name: "nil client", cfg: Config{APIKey: testKey}, wantErr: "nil http client"},
		{name: "base with key query", cfg: Config{APIKey: testKey, BaseURL: "https://x.example/?key=" + testKey}, client: http.DefaultClient, wantErr: "base url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, tc.client, nil)
			if translatetest.WantNewError(t, err, tc.wantErr, testKey) {
				return
			}
			if tr.endpoint != tc.want || tr.Name() != "google" || tr.Limits() != (translate.Limits{MaxTexts: 128, MaxBytes: 90_000, MaxChars: 5000}) {
				t.Errorf("endpoint %q name %q limits %+v", tr.endpoint, tr.Name(), tr.Limits())
			}
		})
	}
}
