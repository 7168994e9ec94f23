package deepl

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

const testKey = "0a1b2c3d-4e5f-6789-abcd-ef0123456789:fx"

func sampleTexts() []string {
	return []string{"肇庆市召开招商会议", "大湾区投资12.5亿元", "许晓雄出席"}
}

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
		target     string
		wantTarget string
		want       []string
	}{
		{
			name: "text", format: translate.FormatText, fakeFormat: "text", texts: sampleTexts(),
			target: "en", wantTarget: "EN-US", want: translatetest.TranslateAll(sampleTexts()),
		},
		{
			name: "html", format: translate.FormatHTML, fakeFormat: "html",
			texts: []string{`<a href="/a?x=1&y=2">肇庆</a>`}, target: "en-GB", wantTarget: "EN-GB",
			want: []string{`<a href="/a?x=1&y=2">Zhaoqing</a>`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := translatetest.NewDeepLServer(t, translatetest.Options{Key: testKey, Format: tc.fakeFormat})
			tr := newTranslator(t, srv)
			got, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: tc.target, Format: tc.format, Texts: tc.texts})
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
			if body.SourceLang != "ZH" || body.TargetLang != tc.wantTarget {
				t.Errorf("source_lang %q target_lang %q, want ZH %s", body.SourceLang, body.TargetLang, tc.wantTarget)
			}
			if srv.Requests() != 1 {
				t.Errorf("%d requests, want 1", srv.Requests())
			}
		})
	}
}

func TestTranslateErrors(t *testing.T) {
	tests := []struct {
		name    string
		reply   translatetest.Reply
		kind    translate.ErrorKind
		status  int
		after   time.Duration
		message string
	}{
		{name: "456 quota", reply: translatetest.Reply{Status: 456, Body: `{"message":"Quota exceeded"}`}, kind: translate.KindQuota, status: 456, message: "Quota exceeded"},
		{name: "429 with Retry-After", reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "12"}, Body: `{"message":"Too many requests"}`}, kind: translate.KindRetryable, status: 429, after: 12 * time.Second, message: "Too many requests"},
		{name: "429 without Retry-After", reply: translatetest.Reply{Status: 429, Body: `{"message":"Too many requests"}`}, kind: translate.KindRetryable, status: 429, message: "Too many requests"},
		{name: "529", reply: translatetest.Reply{Status: 529, Body: `{"message":"Too many requests, DeepL servers are currently experiencing high load"}`}, kind: translate.KindRetryable, status: 529, message: "high load"},
		{name: "500", reply: translatetest.Reply{Status: 500, Body: `{"message":"Internal server error"}`}, kind: translate.KindRetryable, status: 500, message: "Internal server error"},
		{name: "503", reply: translatetest.Reply{Status: 503, Body: `{"message":"Service unavailable"}`}, kind: translate.KindRetryable, status: 503, message: "Service unavailable"},
		{name: "504", reply: translatetest.Reply{Status: 504, Body: ""}, kind: translate.KindRetryable, status: 504, message: "(empty body)"},
		{name: "nginx 502 html", reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"}, kind: translate.KindRetryable, status: 502, message: "502 Bad Gateway"},
		{name: "403 bad key", reply: translatetest.Reply{Status: 403, Body: `{"message":"Wrong endpoint. Use https://api-free.deepl.com"}`}, kind: translate.KindPermanent, status: 403, message: "bad or missing API key: Wrong endpoint"},
		{name: "403 legacy auth echoing key", reply: translatetest.Reply{Status: 403, Body: `{"message":"Legacy authentication method 'form body' is no longer supported","detail":"auth_key=` + testKey + `"}`}, kind: translate.KindPermanent, status: 403, message: "Legacy authentication"},
		{name: "413 too large", reply: translatetest.Reply{Status: 413, Body: `{"message":"Request Entity Too Large"}`}, kind: translate.KindBadAnswer, status: 413, message: "too large"},
		{name: "400 bad request", reply: translatetest.Reply{Status: 400, Body: `{"message":"Value for 'target_lang' not supported."}`}, kind: translate.KindPermanent, status: 400, message: "target_lang"},
		{name: "count mismatch", reply: translatetest.Reply{Body: `{"translations":[{"detected_source_language":"ZH","text":"Zhaoqing"}]}`}, kind: translate.KindBadAnswer, status: 200, message: "1 translations, want 3"},
		{name: "200 not json", reply: translatetest.Reply{Body: `<html>captive portal</html>`}, kind: translate.KindBadAnswer, status: 200, message: "captive portal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := tc.reply
			srv := translatetest.NewDeepLServer(t, translatetest.Options{Key: testKey, Reply: &reply})
			tr := newTranslator(t, srv)
			_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: sampleTexts()})
			if err == nil {
				t.Fatal("no error")
			}
			translatetest.AssertNoSecretLeak(t, err, testKey)
			if got := translate.KindOf(err); got != tc.kind {
				t.Errorf("kind %v, want %v (%v)", got, tc.kind, err)
			}
			var te *translate.Error
			if !errors.As(err, &te) {
				t.Fatalf("%T is not *translate.Error", err)
			}
			if te.StatusCode != tc.status || te.RetryAfter != tc.after || te.Provider != "deepl" {
				t.Errorf("status %d after %v provider %q, want %d %v deepl", te.StatusCode, te.RetryAfter, te.Provider, tc.status, tc.after)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestHostChoice(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "free key", cfg: Config{APIKey: "abc:fx"}, want: "https://api-free.deepl.com/v2/translate"},
		{name: "pro key", cfg: Config{APIKey: "abc"}, want: "https://api.deepl.com/v2/translate"},
		{name: "key containing fx elsewhere", cfg: Config{APIKey: "fx:abc"}, want: "https://api.deepl.com/v2/translate"},
		{name: "explicit base wins", cfg: Config{APIKey: "abc:fx", BaseURL: "https://deepl.example.org/"}, want: "https://deepl.example.org/v2/translate"},
		{name: "base with /v2", cfg: Config{APIKey: "abc", BaseURL: "https://api.deepl.com/v2"}, want: "https://api.deepl.com/v2/translate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, http.DefaultClient, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tr.endpoint != tc.want {
				t.Errorf("endpoint %q, want %q", tr.endpoint, tc.want)
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
	}{
		{name: "no key", cfg: Config{}, client: http.DefaultClient, wantErr: "api key is required"},
		{name: "nil client", cfg: Config{APIKey: "k"}, wantErr: "nil http client"},
		{name: "bad url", cfg: Config{APIKey: testKey, BaseURL: "ftp://x"}, client: http.DefaultClient, wantErr: "base url"},
		{name: "ok", cfg: Config{APIKey: testKey}, client: http.DefaultClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, tc.client, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				translatetest.AssertNoSecretLeak(t, err, testKey)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Name() != "deepl" || tr.Limits() != (translate.Limits{MaxTexts: 50, MaxBytes: 128 * 1024}) {
				t.Errorf("name %q limits %+v", tr.Name(), tr.Limits())
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := translatetest.NewDeepLServer(t, translatetest.Options{Key: testKey})
	tr := newTranslator(t, srv)
	srv.Close()
	_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: sampleTexts()})
	if translate.KindOf(err) != translate.KindRetryable {
		t.Errorf("kind %v, want retryable: %v", translate.KindOf(err), err)
	}
	translatetest.AssertNoSecretLeak(t, err, testKey)
}
