package translatetest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "words", in: "许晓雄在肇庆招商", want: "Xu Xiaoxiong in Zhaoqing investment promotion"},
		{name: "longest match", in: "肇庆市大湾区", want: "Zhaoqing City Dawan District"},
		{name: "digits", in: "投资12.5亿元", want: "investment 12.5 hundred million yuan"},
		{name: "date", in: "2026年3月5日", want: "2026 year 3 month 5 day"},
		{name: "punctuation", in: "肇庆，大湾区。", want: "Zhaoqing, Dawan District."},
		{name: "html tags kept", in: `<p class="a"><a href="/x?y=1&z=2">肇庆</a>招商</p>`, want: `<p class="a"><a href="/x?y=1&z=2">Zhaoqing</a> investment promotion</p>`},
		{name: "entities kept", in: "肇庆&amp;招商", want: "Zhaoqing&amp;investment promotion"},
		{name: "unknown han", in: "未", want: "u672a"},
		{name: "latin kept", in: "GDP增长", want: "GDP u589e u957f"},
		{name: "trailing newline kept", in: "肇庆\n", want: "Zhaoqing\n"},
		{name: "unclosed tag", in: "肇庆 <b", want: "Zhaoqing <b"},
		{name: "less-than sign", in: "<湾 3<5", want: "<u6e7e 3<5"},
		{name: "tag broken by another", in: "<b <i>肇庆</i>", want: "<b <i>Zhaoqing</i>"},
		{name: "empty", in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Translate(tc.in); got != tc.want {
				t.Errorf("Translate(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzTranslate(f *testing.F) {
	f.Add("许晓雄在肇庆招商")
	f.Add(`<a href="x">大湾区</a>`)
	f.Add("<")
	f.Add("2026年，")
	f.Fuzz(func(t *testing.T, s string) {
		out := Translate(s)
		for _, r := range out {
			if unicode.Is(unicode.Han, r) && !strings.Contains(s, "<") {
				t.Fatalf("Translate(%q) = %q keeps Han characters", s, out)
			}
		}
		if Translate(s) != out {
			t.Fatal("not deterministic")
		}
	})
}

// recorder is a testing.TB that records Errorf instead of failing, to
// check that the fakes reject malformed requests.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

func (r *recorder) messages() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func TestFakesRejectMalformedRequests(t *testing.T) {
	const key = "k-123"
	okChat := `{"model":"m","messages":[{"role":"system","content":"answer JSON"},{"role":"user","content":"[\"肇庆\"]"}],"temperature":0,"stream":false,"response_format":{"type":"json_object"}}`
	tests := []struct {
		name    string
		start   func(testing.TB, Options) *Server
		opts    Options
		method  string
		path    string
		query   string
		header  map[string]string
		body    string
		wantErr string // "" = the request is well-formed
	}{
		{name: "openai ok", start: NewOpenAIServer, opts: Options{Key: key}, path: "/v1/chat/completions", header: map[string]string{"Authorization": "Bearer " + key}, body: okChat},
		{name: "openai wrong method", start: NewOpenAIServer, opts: Options{Key: key}, method: http.MethodPut, path: "/v1/chat/completions", header: map[string]string{"Authorization": "Bearer " + key}, body: okChat, wantErr: "method PUT"},
		{name: "openai wrong path", start: NewOpenAIServer, opts: Options{Key: key}, path: "/chat/completions", header: map[string]string{"Authorization": "Bearer " + key}, body: okChat, wantErr: "path"},
		{name: "openai missing auth", start: NewOpenAIServer, opts: Options{Key: key}, path: "/v1/chat/completions", body: okChat, wantErr: "Authorization"},
		{name: "openai auth without key", start: NewOpenAIServer, path: "/v1/chat/completions", header: map[string]string{"Authorization": "Bearer x"}, body: okChat, wantErr: "no key is configured"},
		{name: "openai one message", start: NewOpenAIServer, path: "/v1/chat/completions", body: `{"model":"m","messages":[{"role":"user","content":"[\"a\"]"}],"temperature":0,"stream":false,"response_format":{"type":"json_object"}}`, wantErr: "[system, user]"},
		{name: "openai user not array", start: NewOpenAIServer, path: "/v1/chat/completions", body: strings.Replace(okChat, `"[\"肇庆\"]"`, `"肇庆"`, 1), wantErr: "JSON array"},
		{name: "openai stream missing", start: NewOpenAIServer, path: "/v1/chat/completions", body: strings.Replace(okChat, `"stream":false,`, "", 1), wantErr: "stream"},
		{name: "openai form body", start: NewOpenAIServer, path: "/v1/chat/completions", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "model=m", wantErr: "Content-Type"},
		{name: "deepl ok", start: NewDeepLServer, opts: Options{Key: key, Format: "text"}, path: "/v2/translate", header: map[string]string{"Authorization": "DeepL-Auth-Key " + key}, body: `{"text":["肇庆"],"source_lang":"ZH","target_lang":"EN-US"}`},
		{name: "deepl auth_key in body", start: NewDeepLServer, opts: Options{Key: key}, path: "/v2/translate", header: map[string]string{"Authorization": "DeepL-Auth-Key " + key}, body: `{"text":["肇庆"],"target_lang":"EN-US","auth_key":"k-123"}`, wantErr: "auth_key in the body"},
		{name: "deepl auth_key in query", start: NewDeepLServer, opts: Options{Key: key}, path: "/v2/translate", query: "auth_key=" + key, header: map[string]string{"Authorization": "DeepL-Auth-Key " + key}, body: `{"text":["肇庆"],"target_lang":"EN-US"}`, wantErr: "auth_key in the query"},
		{name: "deepl bearer", start: NewDeepLServer, opts: Options{Key: key}, path: "/v2/translate", header: map[string]string{"Authorization": "Bearer " + key}, body: `{"text":["肇庆"],"target_lang":"EN-US"}`, wantErr: "DeepL-Auth-Key"},
		{name: "deepl text not array", start: NewDeepLServer, opts: Options{Key: key}, path: "/v2/translate", header: map[string]string{"Authorization": "DeepL-Auth-Key " + key}, body: `{"text":"肇庆","target_lang":"EN-US"}`, wantErr: "not an array"},
		{name: "deepl html without tag_handling", start: NewDeepLServer, opts: Options{Key: key, Format: "html"}, path: "/v2/translate", header: map[string]string{"Authorization": "DeepL-Auth-Key " + key}, body: `{"text":["<b>肇庆</b>"],"target_lang":"EN-US"}`, wantErr: "want html"},
		{name: "google ok", start: NewGoogleServer, opts: Options{Key: key}, path: "/language/translate/v2", query: "key=" + key, body: `{"q":["肇庆"],"source":"zh-CN","target":"en","format":"text"}`},
		{name: "google format missing", start: NewGoogleServer, opts: Options{Key: key}, path: "/language/translate/v2", query: "key=" + key, body: `{"q":["肇庆"],"target":"en"}`, wantErr: `missing field "format"`},
		{name: "google key missing", start: NewGoogleServer, opts: Options{Key: key}, path: "/language/translate/v2", body: `{"q":["肇庆"],"target":"en","format":"text"}`, wantErr: "key"},
		{name: "google wrong format", start: NewGoogleServer, opts: Options{Key: key, Format: "text"}, path: "/language/translate/v2", query: "key=" + key, body: `{"q":["肇庆"],"target":"en","format":"html"}`, wantErr: `want "text"`},
		{name: "libre ok", start: NewLibreTranslateServer, path: "/translate", body: `{"q":["肇庆"],"source":"zh","target":"en","format":"text"}`},
		{name: "libre q not array", start: NewLibreTranslateServer, path: "/translate", body: `{"q":"肇庆","source":"zh","target":"en","format":"text"}`, wantErr: "not an array"},
		{name: "libre key missing", start: NewLibreTranslateServer, opts: Options{Key: key}, path: "/translate", body: `{"q":["肇庆"],"source":"zh","target":"en","format":"text"}`, wantErr: "api_key"},
		{name: "libre source missing", start: NewLibreTranslateServer, path: "/translate", body: `{"q":["肇庆"],"target":"en","format":"text"}`, wantErr: `missing field "source"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			srv := tc.start(rec, tc.opts)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			u := srv.URL + tc.path
			if tc.query != "" {
				u += "?" + tc.query
			}
			req, err := http.NewRequest(method, u, bytes.NewBufferString(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			msgs := rec.messages()
			switch {
			case tc.wantErr == "" && msgs != "":
				t.Errorf("well-formed request rejected: %s", msgs)
			case tc.wantErr == "" && resp.StatusCode != http.StatusOK:
				t.Errorf("status %d", resp.StatusCode)
			case tc.wantErr != "" && !strings.Contains(msgs, tc.wantErr):
				t.Errorf("malformed request not reported as %q; reported: %q", tc.wantErr, msgs)
			case tc.wantErr != "" && resp.StatusCode != http.StatusBadRequest:
				t.Errorf("status %d for a malformed request, want 400", resp.StatusCode)
			}
		})
	}
}

func TestAssertNoSecretLeak(t *testing.T) {
	const secret = "s3cr3t/+="
	tests := []struct {
		name string
		err  error
		leak bool
	}{
		{name: "nil", err: nil},
		{name: "clean", err: errors.New("request failed")},
		{name: "plain", err: errors.New("key " + secret), leak: true},
		{name: "query escaped", err: errors.New("GET /x?key=" + url.QueryEscape(secret)), leak: true},
		{name: "wrapped", err: fmt.Errorf("outer: %w", &url.Error{Op: "Post", URL: "https://x/?key=" + secret, Err: errors.New("refused")}), leak: true},
		{name: "joined", err: errors.Join(errors.New("a"), errors.New(secret)), leak: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			AssertNoSecretLeak(rec, tc.err, secret)
			msgs := rec.messages()
			if got := msgs != ""; got != tc.leak {
				t.Errorf("leak reported %v, want %v (%s)", got, tc.leak, msgs)
			}
			if strings.Contains(msgs, secret) {
				t.Errorf("the failure message itself shows the secret")
			}
		})
	}
}

func BenchmarkTranslate(b *testing.B) {
	s := strings.Repeat(`<p>许晓雄在肇庆市召开招商会议，大湾区投资12.5亿元。</p>`, 20)
	for b.Loop() {
		Translate(s)
	}
}
