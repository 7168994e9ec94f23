package translatetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Reply is a canned answer a fake server sends after it has checked the
// request.
type Reply struct {
	Status int               // 0 means 200
	Header map[string]string // e.g. {"Retry-After": "7"}
	Body   string
}

// Options configure a fake server.
type Options struct {
	// Key is the API key the client must send; "" means the client must
	// send none (Ollama, an open LibreTranslate).
	Key string
	// Model is the model an OpenAI-compatible client must ask for ("" = any).
	Model string
	// Format is the format the client must ask for: "text", "html" or ""
	// (not checked). DeepL: "html" means tag_handling=html, "text" means no
	// tag_handling.
	Format string
	// Reply, when set, is sent instead of a dictionary translation.
	Reply *Reply
}

// Server is a fake translation API. Close is done by t.Cleanup.
type Server struct {
	*httptest.Server

	mu     sync.Mutex
	bodies [][]byte
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// Bodies returns a copy of every request body received, in order.
func (s *Server) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.bodies))
	for i, b := range s.bodies {
		out[i] = bytes.Clone(b)
	}
	return out
}

func (s *Server) record(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, b)
}

// checker collects request problems; each one fails the test.
type checker struct {
	t      testing.TB
	name   string
	failed bool
}

func (c *checker) errorf(format string, args ...any) {
	c.t.Helper()
	c.failed = true
	c.t.Errorf("%s fake: malformed request: "+format, append([]any{c.name}, args...)...)
}

// start runs a fake whose handle func checks the request (method, path and
// JSON content type are checked here) and returns the dictionary answer.
func start(t testing.TB, name, path string, o Options, handle func(c *checker, r *http.Request, body []byte) any) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &checker{t: t, name: name}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			c.errorf("read body: %v", err)
		}
		s.record(body)
		if r.Method != http.MethodPost {
			c.errorf("method %s, want POST", r.Method)
		}
		if r.URL.Path != path {
			c.errorf("path %q, want %q", r.URL.Path, path)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			c.errorf("Content-Type %q, want application/json", r.Header.Get("Content-Type"))
		}
		answer := handle(c, r, body)
		if c.failed {
			http.Error(w, `{"error":"malformed request (see test log)"}`, http.StatusBadRequest)
			return
		}
		if o.Reply != nil {
			for k, v := range o.Reply.Header {
				w.Header().Set(k, v)
			}
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(cmpStatus(o.Reply.Status))
			_, _ = io.WriteString(w, o.Reply.Body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(answer); err != nil {
			t.Errorf("%s fake: encode answer: %v", name, err)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// decodeObject decodes a JSON object into raw fields, rejecting anything else.
func decodeObject(c *checker, body []byte) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		c.errorf("body is not a JSON object: %v: %.200s", err, body)
		return map[string]json.RawMessage{}
	}
	return m
}

// stringField returns a required (or optional) string field.
func stringField(c *checker, m map[string]json.RawMessage, key string, required bool) (string, bool) {
	raw, ok := m[key]
	if !ok {
		if required {
			c.errorf("missing field %q", key)
		}
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		c.errorf("field %q is not a string: %s", key, raw)
		return "", false
	}
	return s, true
}

// stringArray returns a required, non-empty array of strings.
func stringArray(c *checker, m map[string]json.RawMessage, key string) []string {
	raw, ok := m[key]
	if !ok {
		c.errorf("missing field %q", key)
		return nil
	}
	var a []string
	if err := json.Unmarshal(raw, &a); err != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		c.errorf("field %q is not an array of strings: %.200s", key, raw)
		return nil
	}
	if len(a) == 0 {
		c.errorf("field %q is empty", key)
	}
	return a
}

func checkFormat(c *checker, want, got string) {
	if got != "text" && got != "html" {
		c.errorf("format %q, want text or html", got)
	}
	if want != "" && got != want {
		c.errorf("format %q, want %q", got, want)
	}
}

// NewOpenAIServer is a fake OpenAI-compatible chat-completions server at
// URL+"/v1" (POST /v1/chat/completions). It checks the bearer key, model,
// stream:false, response_format json_object, temperature, and exactly two
// messages (system, then user holding a JSON array of strings), and answers
// {"translations":[...]} as the assistant content. A summary request (user
// message {"title","date","text"}) is answered {"summary": Summarize(...)}.
func NewOpenAIServer(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, "openai", "/v1/chat/completions", o, func(c *checker, r *http.Request, body []byte) any {
		auth := r.Header.Get("Authorization")
		switch {
		case o.Key == "" && auth != "":
			c.errorf("Authorization header sent although no key is configured")
		case o.Key != "" && auth != "Bearer "+o.Key:
			c.errorf("Authorization header is not %q", "Bearer <key>")
		}
		m := decodeObject(c, body)
		model, _ := stringField(c, m, "model", true)
		if model == "" || o.Model != "" && model != o.Model {
			c.errorf("model %q, want %q", model, o.Model)
		}
		if string(bytes.TrimSpace(m["stream"])) != "false" {
			c.errorf("stream %s, want false", m["stream"])
		}
		var rf struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(m["response_format"], &rf); err != nil || rf.Type != "json_object" {
			c.errorf("response_format %s, want {\"type\":\"json_object\"}", m["response_format"])
		}
		var temp *float64
		if err := json.Unmarshal(m["temperature"], &temp); err != nil || temp == nil || *temp < 0 || *temp > 2 {
			c.errorf("temperature %s, want a number in [0,2]", m["temperature"])
		}
		var msgs []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(m["messages"], &msgs); err != nil {
			c.errorf("messages %.200s: %v", m["messages"], err)
		}
		if len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Role != "user" {
			c.errorf("messages must be [system, user], got %d", len(msgs))
			return nil
		}
		if !strings.Contains(msgs[0].Content, "JSON") {
			c.errorf("system prompt does not mention JSON (required by json_object mode)")
		}
		if in, ok := ParseSummaryInput(msgs[1].Content); ok {
			if !strings.Contains(msgs[0].Content, `"summary"`) {
				c.errorf(`system prompt of a summary request does not ask for {"summary": ...}`)
			}
			return chatCompletion(model, SummaryContent(Summarize(in)), "stop")
		}
		var texts []string
		if err := json.Unmarshal([]byte(msgs[1].Content), &texts); err != nil || len(texts) == 0 {
			c.errorf("user message is neither a non-empty JSON array of strings nor a summary request: %.200s", msgs[1].Content)
		}
		content, err := json.Marshal(map[string][]string{"translations": TranslateAll(texts)})
		if err != nil {
			c.errorf("marshal: %v", err)
		}
		return chatCompletion(model, string(content), "stop")
	})
}

// ChatCompletion returns a chat-completions response body whose single
// choice has the given content and finish_reason, for canned replies.
func ChatCompletion(content, finishReason string) string {
	b, err := json.Marshal(chatCompletion("test-model", content, finishReason))
	if err != nil {
		panic(fmt.Sprintf("translatetest: %v", err)) // cannot happen: only strings
	}
	return string(b)
}

func chatCompletion(model, content, finish string) map[string]any {
	return map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 1767225600, "model": model,
		"choices": []map[string]any{{
			"index":         0,
			"message":       map[string]string{"role": "assistant", "content": content},
			"finish_reason": finish,
		}},
		"usage": map[string]int{"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
	}
}

// NewDeepLServer is a fake DeepL API v2 (POST /v2/translate, JSON). It checks
// the "DeepL-Auth-Key" header, refuses auth_key in the query or body (legacy
// auth, removed by DeepL), requires text (array) and target_lang, and only
// known fields.
func NewDeepLServer(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, "deepl", "/v2/translate", o, func(c *checker, r *http.Request, body []byte) any {
		if r.Header.Get("Authorization") != "DeepL-Auth-Key "+o.Key {
			c.errorf("Authorization header is not %q", "DeepL-Auth-Key <key>")
		}
		if r.URL.Query().Has("auth_key") {
			c.errorf("auth_key in the query (legacy authentication)")
		}
		m := decodeObject(c, body)
		if _, ok := m["auth_key"]; ok {
			c.errorf("auth_key in the body (legacy authentication)")
		}
		known := map[string]bool{
			"text": true, "source_lang": true, "target_lang": true, "tag_handling": true,
			"tag_handling_version": true, "split_sentences": true, "preserve_formatting": true,
			"formality": true, "context": true, "model_type": true, "glossary_id": true,
		}
		for k := range m {
			if !known[k] && k != "auth_key" {
				c.errorf("unknown field %q", k)
			}
		}
		texts := stringArray(c, m, "text")
		if tl, _ := stringField(c, m, "target_lang", true); tl == "" {
			c.errorf("empty target_lang")
		}
		stringField(c, m, "source_lang", false)
		th, has := stringField(c, m, "tag_handling", false)
		if has && th != "html" && th != "xml" {
			c.errorf("tag_handling %q", th)
		}
		switch o.Format {
		case "html":
			if th != "html" {
				c.errorf("tag_handling %q, want html", th)
			}
		case "text":
			if has {
				c.errorf("tag_handling %q sent for plain text", th)
			}
		}
		type tr struct {
			DetectedSourceLanguage string `json:"detected_source_language"`
			Text                   string `json:"text"`
		}
		out := make([]tr, len(texts))
		for i, s := range texts {
			out[i] = tr{"ZH", Translate(s)}
		}
		return map[string]any{"translations": out}
	})
}

// NewGoogleServer is a fake Google Cloud Translation v2 (POST
// /language/translate/v2?key=KEY, JSON). It requires q as an array, target,
// and format "text" or "html".
func NewGoogleServer(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, "google", "/language/translate/v2", o, func(c *checker, r *http.Request, body []byte) any {
		q := r.URL.Query()
		if len(q["key"]) != 1 || q.Get("key") != o.Key {
			c.errorf("query parameter key is not the API key")
		}
		if len(q) != 1 {
			c.errorf("unexpected query parameters besides key")
		}
		if r.Header.Get("Authorization") != "" {
			c.errorf("Authorization header sent with an API key")
		}
		m := decodeObject(c, body)
		texts := stringArray(c, m, "q")
		if tg, _ := stringField(c, m, "target", true); tg == "" {
			c.errorf("empty target")
		}
		stringField(c, m, "source", false)
		f, _ := stringField(c, m, "format", true)
		checkFormat(c, o.Format, f)
		type tr struct {
			TranslatedText string `json:"translatedText"`
		}
		out := make([]tr, len(texts))
		for i, s := range texts {
			out[i] = tr{Translate(s)}
		}
		return map[string]any{"data": map[string]any{"translations": out}}
	})
}

// NewLibreTranslateServer is a fake LibreTranslate (POST /translate, JSON).
// It requires q as an array of strings, source, target, format, and api_key
// exactly when Options.Key is set.
func NewLibreTranslateServer(t testing.TB, o Options) *Server {
	t.Helper()
	return start(t, "libretranslate", "/translate", o, func(c *checker, r *http.Request, body []byte) any {
		m := decodeObject(c, body)
		key, has := stringField(c, m, "api_key", false)
		switch {
		case o.Key == "" && has:
			c.errorf("api_key sent although no key is configured")
		case o.Key != "" && key != o.Key:
			c.errorf("api_key is not the configured key")
		}
		texts := stringArray(c, m, "q")
		if s, _ := stringField(c, m, "source", true); s == "" {
			c.errorf("empty source")
		}
		if s, _ := stringField(c, m, "target", true); s == "" {
			c.errorf("empty target")
		}
		f, _ := stringField(c, m, "format", true)
		checkFormat(c, o.Format, f)
		return map[string]any{"translatedText": TranslateAll(texts)}
	})
}
