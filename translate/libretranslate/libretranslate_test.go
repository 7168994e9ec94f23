package libretranslate

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

const testKey = "lt-key-1f2e3d4c"

func sampleTexts() []string {
	return []string{"肇庆市召开招商会议", "大湾区投资12.5亿元", "许晓雄出席"}
}

func newTranslator(t *testing.T, srv *translatetest.Server, key string) *Translator {
	t.Helper()
	tr, err := New(Config{BaseURL: srv.URL + "/", APIKey: key}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestTranslateSuccess(t *testing.T) {
	tests := []struct {
		name       string
		key        string
		format     translate.Format
		fakeFormat string
		source     string
		wantSource string
		texts      []string
		want       []string
	}{
		{name: "text with key", key: testKey, fakeFormat: "text", source: "zh", wantSource: "zh", texts: sampleTexts(), want: translatetest.TranslateAll(sampleTexts())},
		{name: "open server, no key", key: "", fakeFormat: "text", source: "zh-CN", wantSource: "zh", texts: sampleTexts(), want: translatetest.TranslateAll(sampleTexts())},
		{name: "html", key: testKey, format: translate.FormatHTML, fakeFormat: "html", source: "zh-Hans", wantSource: "zh", texts: []string{`<em>肇庆</em>`}, want: []string{`<em>Zhaoqing</em>`}},
		{name: "traditional", key: testKey, fakeFormat: "text", source: "zh-TW", wantSource: "zt", texts: []string{"肇庆"}, want: []string{"Zhaoqing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := translatetest.NewLibreTranslateServer(t, translatetest.Options{Key: tc.key, Format: tc.fakeFormat})
			tr := newTranslator(t, srv, tc.key)
			got, err := tr.Translate(context.Background(), translate.Request{Source: tc.source, Target: "en", Format: tc.format, Texts: tc.texts})
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
			if body.Source != tc.wantSource || body.Target != "en" {
				t.Errorf("source %q target %q, want %q en", body.Source, body.Target, tc.wantSource)
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
		{name: "400 exceeds text limit", reply: translatetest.Reply{Status: 400, Body: `{"error":"Invalid request: request (6000) exceeds text limit (5000)"}`}, kind: translate.KindBadAnswer, status: 400, message: "exceeds text limit"},
		{name: "400 unsupported language", reply: translatetest.Reply{Status: 400, Body: `{"error":"zz is not supported"}`}, kind: translate.KindPermanent, status: 400, message: "zz is not supported"},
		{name: "400 key required", reply: translatetest.Reply{Status: 400, Body: `{"error":"Visit https://portal.libretranslate.com to get an API key"}`}, kind: translate.KindPermanent, status: 400, message: "get an API key"},
		{name: "403 invalid key", reply: translatetest.Reply{Status: 403, Body: `{"error":"Invalid API key"}`}, kind: translate.KindPermanent, status: 403, message: "Invalid API key"},
		{name: "403 flood ban", reply: translatetest.Reply{Status: 403, Body: `{"error":"Too many request limits violations"}`}, kind: translate.KindRetryable, status: 403, message: "limits violations"},
		{name: "429 slowdown with Retry-After", reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "60"}, Body: `{"error":"Slowdown: 20 per 1 minute"}`}, kind: translate.KindRetryable, status: 429, after: time.Minute, message: "Slowdown"},
		{name: "500", reply: translatetest.Reply{Status: 500, Body: `{"error":"Cannot translate text: model crashed"}`}, kind: translate.KindRetryable, status: 500, message: "Cannot translate text"},
		{name: "nginx 502 html", reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"}, kind: translate.KindRetryable, status: 502, message: "502 Bad Gateway"},
		{name: "error echoing key", reply: translatetest.Reply{Status: 403, Body: `{"error":"Invalid API key ` + testKey + `"}`}, kind: translate.KindPermanent, status: 403, message: "Invalid API key"},
		{name: "count mismatch", reply: translatetest.Reply{Body: `{"translatedText":["a"]}`}, kind: translate.KindBadAnswer, status: 200, message: "1 translations, want 3"},
		{name: "string instead of array", reply: translatetest.Reply{Body: `{"translatedText":"a b c"}`}, kind: translate.KindBadAnswer, status: 200, message: "not an array"},
		{name: "200 not json", reply: translatetest.Reply{Body: "Internal Server Error"}, kind: translate.KindBadAnswer, status: 200, message: "Internal Server Error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := tc.reply
			srv := translatetest.NewLibreTranslateServer(t, translatetest.Options{Key: testKey, Reply: &reply})
			tr := newTranslator(t, srv, testKey)
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
			if te.StatusCode != tc.status || te.RetryAfter != tc.after || te.Provider != "libretranslate" {
				t.Errorf("status %d after %v provider %q, want %d %v libretranslate", te.StatusCode, te.RetryAfter, te.Provider, tc.status, tc.after)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := translatetest.NewLibreTranslateServer(t, translatetest.Options{Key: testKey})
	tr := newTranslator(t, srv, testKey)
	srv.Close()
	_, err := tr.Translate(context.Background(), translate.Request{Texts: sampleTexts()})
	if translate.KindOf(err) != translate.KindRetryable {
		t.Errorf("kind %v, want retryable: %v", translate.KindOf(err), err)
	}
	translatetest.AssertNoSecretLeak(t, err, testKey)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		client  *http.Client
		wantErr string
		limits  translate.Limits
	}{
		{name: "defaults", cfg: Config{BaseURL: "http://localhost:5000"}, client: http.DefaultClient, limits: translate.Limits{MaxTexts: 50, MaxChars: 5000}},
		{name: "overrides", cfg: Config{BaseURL: "http://localhost:5000", MaxTexts: 10, MaxChars: 2000}, client: http.DefaultClient, limits: translate.Limits{MaxTexts: 10, MaxChars: 2000}},
		{name: "no base", cfg: Config{}, client: http.DefaultClient, wantErr: "base url is required"},
		{name: "relative base", cfg: Config{BaseURL: "localhost:5000"}, client: http.DefaultClient, wantErr: "absolute"},
		{name: "nil client", cfg: Config{BaseURL: "http://localhost:5000"}, wantErr: "nil http client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, tc.client, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Limits() != tc.limits || tr.Name() != "libretranslate" {
				t.Errorf("limits %+v name %q", tr.Limits(), tr.Name())
			}
		})
	}
}
