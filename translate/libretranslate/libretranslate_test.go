package libretranslate

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

const testKey = "lt-key-1f2e3d4c"

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
		{name: "text with key", key: testKey, fakeFormat: "text", source: "zh", wantSource: "zh", texts: translatetest.SampleTexts(), want: translatetest.TranslateAll(translatetest.SampleTexts())},
		{name: "open server, no key", key: "", fakeFormat: "text", source: "zh-CN", wantSource: "zh", texts: translatetest.SampleTexts(), want: translatetest.TranslateAll(translatetest.SampleTexts())},
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
	tests := []translatetest.ErrorCase{
		{Name: "400 exceeds text limit", Reply: translatetest.Reply{Status: 400, Body: `{"error":"Invalid request: request (6000) exceeds text limit (5000)"}`}, Kind: translate.KindBadAnswer, Status: 400, Message: "exceeds text limit"},
		{Name: "400 unsupported language", Reply: translatetest.Reply{Status: 400, Body: `{"error":"zz is not supported"}`}, Kind: translate.KindPermanent, Status: 400, Message: "zz is not supported"},
		{Name: "400 key required", Reply: translatetest.Reply{Status: 400, Body: `{"error":"Visit https://portal.libretranslate.com to get an API key"}`}, Kind: translate.KindPermanent, Status: 400, Message: "get an API key"},
		{Name: "403 invalid key", Reply: translatetest.Reply{Status: 403, Body: `{"error":"Invalid API key"}`}, Kind: translate.KindPermanent, Status: 403, Message: "Invalid API key"},
		{Name: "403 flood ban", Reply: translatetest.Reply{Status: 403, Body: `{"error":"Too many request limits violations"}`}, Kind: translate.KindRetryable, Status: 403, Message: "limits violations"},
		{Name: "429 slowdown with Retry-After", Reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "60"}, Body: `{"error":"Slowdown: 20 per 1 minute"}`}, Kind: translate.KindRetryable, Status: 429, After: time.Minute, Message: "Slowdown"},
		{Name: "500", Reply: translatetest.Reply{Status: 500, Body: `{"error":"Cannot translate text: model crashed"}`}, Kind: translate.KindRetryable, Status: 500, Message: "Cannot translate text"},
		{Name: "nginx 502 html", Reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"}, Kind: translate.KindRetryable, Status: 502, Message: "502 Bad Gateway"},
		{Name: "error echoing key", Reply: translatetest.Reply{Status: 403, Body: `{"error":"Invalid API key ` + testKey + `"}`}, Kind: translate.KindPermanent, Status: 403, Message: "Invalid API key"},
		{Name: "count mismatch", Reply: translatetest.Reply{Body: `{"translatedText":["a"]}`}, Kind: translate.KindBadAnswer, Status: 200, Message: "1 translations, want 3"},
		{Name: "string instead of array", Reply: translatetest.Reply{Body: `{"translatedText":"a b c"}`}, Kind: translate.KindBadAnswer, Status: 200, Message: "not an array"},
		{Name: "200 not json", Reply: translatetest.Reply{Body: "Internal Server Error"}, Kind: translate.KindBadAnswer, Status: 200, Message: "Internal Server Error"},
	}
	translatetest.RunErrorCases(t, "libretranslate", tests, func(t *testing.T, reply *translatetest.Reply) error {
		srv := translatetest.NewLibreTranslateServer(t, translatetest.Options{Key: testKey, Reply: reply})
		tr := newTranslator(t, srv, testKey)
		_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: translatetest.SampleTexts()})
		return err
	}, testKey)
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := translatetest.NewLibreTranslateServer(t, translatetest.Options{Key: testKey})
	tr := newTranslator(t, srv, testKey)
	srv.Close()
	_, err := tr.Translate(context.Background(), translate.Request{Texts: translatetest.SampleTexts()})
	translatetest.AssertRetryable(t, err, testKey)
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
			if translatetest.WantNewError(t, err, tc.wantErr, testKey) {
				return
			}
			if tr.Limits() != tc.limits || tr.Name() != "libretranslate" {
				t.Errorf("limits %+v name %q", tr.Limits(), tr.Name())
			}
		})
	}
}
