package openai

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

const testKey = "sk-test-9f8e7d6c5b4a"

func answer(tr []string) string {
	b, err := json.Marshal(map[string][]string{"translations": tr})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func newTranslator(t *testing.T, srv *translatetest.Server, key string) *Translator {
	t.Helper()
	tr, err := New(Config{BaseURL: srv.URL + "/v1", APIKey: key, Model: "test-model", Temperature: 0.2}, srv.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return tr
}

func TestTranslateSuccess(t *testing.T) {
	texts := translatetest.SampleTexts()
	want := translatetest.TranslateAll(texts)
	tests := []struct {
		name   string
		key    string
		format translate.Format
		texts  []string
		reply  *translatetest.Reply
		want   []string
	}{
		{name: "text batch", key: testKey, texts: texts, want: want},
		{name: "no key (ollama)", key: "", texts: texts, want: want},
		{
			name: "html keeps tags", key: testKey, format: translate.FormatHTML,
			texts: []string{`<a href="/x?a=1&b=2">肇庆</a>新闻`, "<b>招商</b>"},
			want:  []string{`<a href="/x?a=1&b=2">Zhaoqing</a> news`, "<b>investment promotion</b>"},
		},
		{
			name: "deepseek leading blank lines", key: testKey, texts: texts, want: want,
			reply: &translatetest.Reply{Body: "\n\n\n\n" + translatetest.ChatCompletion(answer(want), "stop")},
		},
		{
			name: "keep-alive comments", key: testKey, texts: texts, want: want,
			reply: &translatetest.Reply{Body: ": keep-alive\n\n: keep-alive\n" + translatetest.ChatCompletion(answer(want), "stop")},
		},
		{
			name: "markdown fenced json", key: testKey, texts: texts, want: want,
			reply: &translatetest.Reply{Body: translatetest.ChatCompletion("```json\n"+answer(want)+"\n```", "stop")},
		},
		{
			name: "prose around json", key: testKey, texts: texts, want: want,
			reply: &translatetest.Reply{Body: translatetest.ChatCompletion("Here you go:\n"+answer(want)+"\nDone.", "stop")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			format := "text"
			if tc.format == translate.FormatHTML {
				format = "html"
			}
			srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: tc.key, Model: "test-model", Format: format, Reply: tc.reply})
			tr := newTranslator(t, srv, tc.key)
			got, err := tr.Translate(context.Background(), translate.Request{
				Source: "zh", Target: "en", Format: tc.format, Texts: tc.texts,
				Glossary: map[string]string{"大湾区": "Greater Bay Area"},
			})
			if err != nil {
				t.Fatalf("Translate: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("translations (-want +got):\n%s", diff)
			}
			if n := srv.Requests(); n != 1 {
				t.Errorf("%d requests, want 1 per batch", n)
			}
		})
	}
}

func TestPrompt(t *testing.T) {
	texts := translatetest.SampleTexts()
	srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: testKey, Model: "test-model"})
	tr := newTranslator(t, srv, testKey)
	req := translate.Request{
		Source: "zh", Target: "en", Format: translate.FormatHTML, Texts: texts,
		Glossary: map[string]string{"大湾区": "Greater Bay Area", "肇庆": "Zhaoqing"},
	}
	if _, err := tr.Translate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body chatRequest
	if err := json.Unmarshal(srv.Bodies()[0], &body); err != nil {
		t.Fatal(err)
	}
	sys := body.Messages[0].Content
	for _, want := range []string{
		"Chinese government news into English", "Keep every number", "HTML tag and attribute",
		"- 大湾区 => Greater Bay Area\n- 肇庆 => Zhaoqing", `{"translations": [...]}`, "exactly 3 strings",
	} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, sys)
		}
	}
	if body.Temperature != 0.2 {
		t.Errorf("temperature %g, want 0.2", body.Temperature)
	}
	if strings.Contains(body.Messages[1].Content, `\u003c`) {
		t.Errorf("user message escapes HTML: %s", body.Messages[1].Content)
	}
}

func TestTranslateErrors(t *testing.T) {
	texts := translatetest.SampleTexts()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := translatetest.TranslateAll(texts)
	tests := []translatetest.ErrorCase{
		{
			Name:  "429 rate limit with Retry-After",
			Reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`},
			Kind:  translate.KindRetryable, Status: 429, After: 7 * time.Second, Message: "Rate limit reached",
		},
		{
			Name:  "429 with Retry-After-Ms",
			Reply: translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, Body: `{"error":{"message":"slow down","type":"tokens","code":"rate_limit_exceeded"}}`},
			Kind:  translate.KindRetryable, Status: 429, After: 1500 * time.Millisecond, Message: "slow down",
		},
		{
			Name:  "429 insufficient_quota",
			Reply: translatetest.Reply{Status: 429, Body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
			Kind:  translate.KindQuota, Status: 429, Message: "exceeded your current quota",
		},
		{
			Name:  "deepseek 402 insufficient balance",
			Reply: translatetest.Reply{Status: 402, Body: `{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}`},
			Kind:  translate.KindQuota, Status: 402, Message: "Insufficient Balance",
		},
		{
			Name:  "401 bad key echoed by server",
			Reply: translatetest.Reply{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key"}}`},
			Kind:  translate.KindPermanent, Status: 401, Message: "Incorrect API key provided",
		},
		{
			Name:  "403 unsupported region",
			Reply: translatetest.Reply{Status: 403, Body: `{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","type":"request_forbidden"}}`},
			Kind:  translate.KindPermanent, Status: 403, Message: "not supported",
		},
		{
			Name:  "400 bad request",
			Reply: translatetest.Reply{Status: 400, Body: `{"error":{"message":"model not found","type":"invalid_request_error","code":null}}`},
			Kind:  translate.KindPermanent, Status: 400, Message: "model not found",
		},
		{
			Name:  "404 error as plain string (ollama)",
			Reply: translatetest.Reply{Status: 404, Body: `{"error":"model \"qwen9\" not found, try pulling it first"}`},
			Kind:  translate.KindPermanent, Status: 404, Message: "try pulling it first",
		},
		{
			Name:  "408 timeout",
			Reply: translatetest.Reply{Status: 408, Body: `{"error":{"message":"request timeout"}}`},
			Kind:  translate.KindRetryable, Status: 408, Message: "request timeout",
		},
		{
			Name:  "409 conflict",
			Reply: translatetest.Reply{Status: 409, Body: `{"error":{"message":"conflict"}}`},
			Kind:  translate.KindRetryable, Status: 409, Message: "conflict",
		},
		{
			Name:  "500",
			Reply: translatetest.Reply{Status: 500, Body: `{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`},
			Kind:  translate.KindRetryable, Status: 500, Message: "server had an error",
		},
		{
			Name:  "503 overloaded with Retry-After date",
			Reply: translatetest.Reply{Status: 503, Header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, Body: `{"error":{"message":"Server overloaded"}}`},
			Kind:  translate.KindRetryable, Status: 503, After: 90 * time.Second, Message: "Server overloaded",
		},
		{
			Name:  "nginx 502 html",
			Reply: translatetest.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"},
			Kind:  translate.KindRetryable, Status: 502, Message: "502 Bad Gateway",
		},
		{
			Name:  "wrong count",
			Reply: translatetest.Reply{Body: translatetest.ChatCompletion(answer(ok[:2]), "stop")},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "2 translations, want 3",
		},
		{
			Name:  "content not json",
			Reply: translatetest.Reply{Body: translatetest.ChatCompletion("Zhaoqing held a meeting.", "stop")},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "not JSON",
		},
		{
			Name:  "truncated answer",
			Reply: translatetest.Reply{Body: translatetest.ChatCompletion(`{"translations":["Zhaoqing`, "length")},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "truncated",
		},
		{
			Name:  "empty translation",
			Reply: translatetest.Reply{Body: translatetest.ChatCompletion(answer([]string{ok[0], "", ok[2]}), "stop")},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "translation 1 is empty",
		},
		{
			Name:  "non-string translations",
			Reply: translatetest.Reply{Body: translatetest.ChatCompletion(`{"translations":[1,2,3]}`, "stop")},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "not an array of strings",
		},
		{
			Name:  "body not json",
			Reply: translatetest.Reply{Body: "upstream connect error"},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "upstream connect error",
		},
		{
			Name:  "no choices but error object",
			Reply: translatetest.Reply{Body: `{"error":{"message":"internal error"}}`},
			Kind:  translate.KindBadAnswer, Status: 200, Message: "internal error",
		},
	}
	translatetest.RunErrorCases(t, "openai/test-model", tests, func(t *testing.T, reply *translatetest.Reply) error {
		srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: testKey, Model: "test-model", Reply: reply})
		tr := newTranslator(t, srv, testKey)
		tr.now = func() time.Time { return now }
		_, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: texts})
		return err
	}, testKey)
}

func TestNetworkErrors(t *testing.T) {
	texts := translatetest.SampleTexts()
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		_, err := New(Config{BaseURL: base + "/v1?token=" + testKey, Model: "m"}, http.DefaultClient, nil)
		if err == nil {
			t.Fatal("base url with query accepted")
		}
		translatetest.AssertNoSecretLeak(t, err, testKey)
		tr, err := New(Config{BaseURL: base + "/v1", APIKey: testKey, Model: "m"}, &http.Client{Timeout: 5 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tr.Translate(context.Background(), translate.Request{Texts: texts})
		translatetest.AssertRetryable(t, err, testKey)
	})
	t.Run("context deadline", func(t *testing.T) {
		block := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(block)
		tr, err := New(Config{BaseURL: srv.URL, APIKey: testKey, Model: "m"}, srv.Client(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = tr.Translate(ctx, translate.Request{Texts: texts})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
		if translate.KindOf(err) != translate.KindRetryable {
			t.Errorf("kind %v, want retryable", translate.KindOf(err))
		}
	})
	t.Run("empty batch makes no request", func(t *testing.T) {
		srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: testKey})
		tr := newTranslator(t, srv, testKey)
		got, err := tr.Translate(context.Background(), translate.Request{})
		if err != nil || len(got) != 0 || srv.Requests() != 0 {
			t.Errorf("got %v, %v, %d requests", got, err, srv.Requests())
		}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		client  *http.Client
		wantErr string
		limits  translate.Limits
		nameOut string
	}{
		{name: "defaults", cfg: Config{Model: "gpt-4o-mini"}, client: http.DefaultClient, limits: translate.Limits{MaxTexts: 40, MaxChars: 6000}, nameOut: "openai/gpt-4o-mini"},
		{name: "ollama limits", cfg: Config{BaseURL: "http://localhost:11434/v1/", Model: "qwen2.5:7b", MaxChars: 1500}, client: http.DefaultClient, limits: translate.Limits{MaxTexts: 40, MaxChars: 1500}, nameOut: "openai/qwen2.5:7b"},
		{name: "no model", cfg: Config{}, client: http.DefaultClient, wantErr: "model is required"},
		{name: "nil client", cfg: Config{Model: "m"}, wantErr: "nil http client"},
		{name: "relative url", cfg: Config{BaseURL: "api.openai.com/v1", Model: "m"}, client: http.DefaultClient, wantErr: "absolute"},
		{name: "temperature", cfg: Config{Model: "m", Temperature: 3}, client: http.DefaultClient, wantErr: "temperature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, tc.client, nil)
			if translatetest.WantNewError(t, err, tc.wantErr, testKey) {
				return
			}
			if tr.Limits() != tc.limits {
				t.Errorf("limits %+v, want %+v", tr.Limits(), tc.limits)
			}
			if tr.Name() != tc.nameOut {
				t.Errorf("name %q, want %q", tr.Name(), tc.nameOut)
			}
			var _ translate.Translator = tr
		})
	}
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		name    string
		content string
		n       int
		want    []string
		wantErr bool
	}{
		{name: "object", content: `{"translations":["a","b"]}`, n: 2, want: []string{"a", "b"}},
		{name: "bare array", content: `["a","b"]`, n: 2, want: []string{"a", "b"}},
		{name: "other key", content: `{"result":["a"]}`, n: 1, want: []string{"a"}},
		{name: "fence without language", content: "```\n{\"translations\":[\"a\"]}\n```", n: 1, want: []string{"a"}},
		{name: "think block", content: "<think>hmm {}</think>\n{\"translations\":[\"a\"]}", n: 1, want: []string{"a"}},
		{name: "two keys without translations", content: `{"a":["x"],"b":["y"]}`, n: 1, wantErr: true},
		{name: "count", content: `{"translations":["a"]}`, n: 2, wantErr: true},
		{name: "garbage", content: `nope`, n: 1, wantErr: true},
		{name: "objects", content: `{"translations":[{"text":"a"}]}`, n: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAnswer(tc.content, tc.n, "")
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(`{"translations":["a","b"]}`, 2)
	f.Add("```json\n{\"translations\":[\"a\"]}\n```", 1)
	f.Add(`["x"]`, 1)
	f.Add("<think>", 0)
	f.Add("```", 0)
	f.Add(`{"t":[null]}`, 1)
	f.Fuzz(func(t *testing.T, content string, n int) {
		got, err := parseAnswer(content, n, "")
		if err == nil && len(got) != n {
			t.Errorf("parseAnswer returned %d strings, want %d", len(got), n)
		}
		if err != nil && got != nil {
			t.Errorf("parseAnswer returned strings with an error")
		}
	})
}

func BenchmarkDecodeResponse(b *testing.B) {
	src := make([]string, 40)
	tr := make([]string, 40)
	for i := range src {
		src[i] = strings.Repeat("肇庆市召开招商会议。", 15)
		tr[i] = translatetest.Translate(src[i])
	}
	body := []byte("\n\n" + translatetest.ChatCompletion("```json\n"+answer(tr)+"\n```", "stop"))
	for b.Loop() {
		if _, err := decodeResponse(body, src, ""); err != nil {
			b.Fatal(err)
		}
	}
}
