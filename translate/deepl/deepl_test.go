package deepl

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

const testKey = "0a1b2c3d-4e5f-6789-abcd-ef0123456789:fx"

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
			name: "text", format: translate.FormatText, fakeFormat: "text", texts: translatetest.SampleTexts(),
			target: "en", wantTarget: "EN-US", want: translatetest.TranslateAll(translatetest.SampleTexts()),
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
	tests := []translatetest.ErrorCase{
		{Name: "456 quota", Reply: translatetest.Reply{Status: 456, Body: `{"message":"Quota exceeded"}`}, Kind: translate.KindQuota, Status: 456, Message: "Quota exceeded"},
		{Name: "429 with Retry-After", Reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "12"}, Body: `{"message":"Too many requests"}`}, Kind: translate.KindRetryable, Status: 429, After: 12 * time.Second, Message: "Too many requests"},
		{Name: "429 without Retry-After", Reply: translatetest.Reply{Status: 429, Body: `{"message":"Too many requests"}`}, Kind: translate.KindRetryable, Status: 429, Message: "Too many requests"},
		{Name: "529", Reply: translatetest.Reply{Status: 529, Body: `{"message":"Too many requests, DeepL servers are currently experiencing high load"}`}, Kind: translate.KindRetryable, Status: 529, Message: "high load"},
		{Name: "500", Reply: translatetest.Reply{Status: 500, Body: `{"message":"Internal server error"}`}, Kind: translate.KindRetryable, Status: 500, Message: "Internal server error"},
		{Name: "503", Reply: translatetest.Reply{Status: 503, Body: `{"message":"Service unavailable"}`}, Kind: translate.KindRetryable, Status: 503, Message: "Service unavailable"},
		{Name: "504", Reply: translatetest.Reply{Status: 504, Body: ""}, Kind: translate.KindRetryable, Status: 504, Message: "(empty body)"},
		{Name: "nginx 502 html", Reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"}, Kind: translate.KindRetryable, Status: 502, Message: "502 Bad Gateway"},
		{Name: "403 bad key", Reply: translatetest.Reply{Status: 403, Body: `{"message":"Wrong endpoint. Use https://api-free.deepl.com"}`}, Kind: translate.KindPermanent, Status: 403, Message: "bad or missing API key: Wrong endpoint"},
		{Name: "403 legacy auth echoing key", Reply: translatetest.Reply{Status: 403, Body: `{"message":"Legacy authentication method 'form body' is no longer supported","detail":"auth_key=` + testKey + `"}`}, Kind: translate.KindPermanent, Status: 403, Message: "Legacy authentication"},
		{Name: "413 too large", Reply: translatetest.Reply{Status: 413, Body: `{"message":"Request Entity Too Large"}`}, Kind: translate.KindBadAnswer, Status: 413, Message: "too large"},
		{Name: "400 bad request", Reply: translatetest.Reply{Status: 400, Body: `{"message":"Value for 'target_lang' not supported."}`}, Kind: translate.KindPermanent, Status: 400, Message: "target_lang"},
		{Name: "count mismatch", Reply: translatetest.Reply{Body: `{"translations":[{"detected_source_language":"ZH","text":"Zhaoqing"}]}`}, Kind: translate.KindBadAnswer, Status: 200, Message: "1 translations, want 3"},
		{Name: "200 not json", Reply: translatetest.Reply{Body: `<html>captive portal</html>`}, Kind: translate.KindBadAnswer, Status: 200, Message: "captive portal"},
	}
	translatetest.RunErrorCases(t, "deepl", tests, func(t *testing.T, reply *translatetest.Reply) error {
		srv := translatetest.NewDeepLServer(t, translatetest.Options{Key: testKey, Reply: reply})
		tr := newTranslator(t, srv)
		_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: translatetest.SampleTexts()})
		return err
	}, testKey)
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
			if translatetest.WantNewError(t, err, tc.wantErr, testKey) {
				return
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
	_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: translatetest.SampleTexts()})
	translatetest.AssertRetryable(t, err, testKey)
}
