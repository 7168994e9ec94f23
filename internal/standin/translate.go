package standin

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/translate/translatetest"
)

// translator is the OpenAI-compatible chat-completions stand-in. It answers
// with translatetest.TranslateAll, the deterministic dictionary "engine".
type translator struct {
	s *Server

	requests, texts, chars, errors, malformed, ok atomic.Int64
	summaries, summaryChars, invented             atomic.Int64
	nextID                                        atomic.Int64
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature    *float64 `json:"temperature"`
	Stream         bool     `json:"stream"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

func openAIError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func (t *translator) serve(w http.ResponseWriter, r *http.Request) {
	t.requests.Add(1)
	texts, summary, err := t.parse(r)
	if err != nil {
		t.malformed.Add(1)
		t.s.logger.Warn("standin: malformed chat completion request", slog.Any("error", err))
		openAIError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	n := 0
	for _, s := range texts {
		n += utf8.RuneCountInString(s)
	}
	if summary != nil {
		n = utf8.RuneCountInString(summary.Title) + utf8.RuneCountInString(summary.Text) + utf8.RuneCountInString(summary.Date)
		t.summaries.Add(1)
		t.summaryChars.Add(int64(n))
	} else {
		t.texts.Add(int64(len(texts)))
		t.chars.Add(int64(n))
	}
	if d := t.s.opts.TrLatency; d > 0 {
		tm := time.NewTimer(d)
		select {
		case <-r.Context().Done():
			tm.Stop()
			return
		case <-tm.C:
		}
	}
	if t.s.chance(t.s.opts.TrErrorRate) {
		t.errors.Add(1)
		if t.s.intn(2) == 0 {
			w.Header().Set("Retry-After", "1")
			openAIError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s.")
			return
		}
		openAIError(w, http.StatusServiceUnavailable, "server_error", "The server is overloaded. Please retry.")
		return
	}
	var content []byte
	if summary != nil {
		content = []byte(translatetest.SummaryContent(t.summarize(*summary)))
	} else {
		content, err = json.Marshal(map[string][]string{"translations": translatetest.TranslateAll(texts)})
		if err != nil {
			openAIError(w, http.StatusInternalServerError, "server_error", "encode: "+err.Error())
			return
		}
	}
	id := t.nextID.Add(1)
	resp := map[string]any{
		"id":      fmt.Sprintf("chatcmpl-standin-%d", id),
		"object":  "chat.completion",
		"created": t.s.now().Unix(),
		"model":   "standin",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": string(content)},
			"finish_reason": "stop",
		}},
		"usage": map[string]int{"prompt_tokens": n, "completion_tokens": n, "total_tokens": 2 * n},
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(resp); err == nil {
		t.ok.Add(1)
	}
}

// SummaryMark starts every summary the stand-in writes, so a test can tell
// a summary from the lead it is made of.
const SummaryMark = "In brief:"

// summarize is the stand-in's summary: SummaryMark and translatetest.Summarize, with a
// number the post does not have for a fraction SumInventRate of posts
// (chosen by a hash of the text, so a post always gets the same answer).
func (t *translator) summarize(in translatetest.SummaryInput) string {
	out := SummaryMark + " " + translatetest.Summarize(in)
	if rate := t.s.opts.SumInventRate; rate > 0 {
		h := fnv.New32a()
		_, _ = h.Write([]byte(in.Title + "\x00" + in.Text))
		if float64(h.Sum32()%1000) < rate*1000 {
			t.invented.Add(1)
			out += " Officials expect 987654 visitors."
		}
	}
	return out
}

// parse checks the request the way translate/openai sends it and returns the
// texts of the user message (a JSON array of strings), or the post of a
// summary request (a JSON object {title, date, text}).
func (t *translator) parse(r *http.Request) ([]string, *translatetest.SummaryInput, error) {
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return nil, nil, fmt.Errorf("content type %q, want application/json", r.Header.Get("Content-Type"))
	}
	if auth := r.Header.Get("Authorization"); auth != "" && (!strings.HasPrefix(auth, "Bearer ") || strings.TrimSpace(auth[len("Bearer "):]) == "") {
		return nil, nil, fmt.Errorf("malformed Authorization header")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read body: %w", err)
	}
	var req chatRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, nil, fmt.Errorf("body is not a chat completion request: %w", err)
	}
	switch {
	case req.Model == "":
		return nil, nil, fmt.Errorf("model is required")
	case req.Stream:
		return nil, nil, fmt.Errorf("stream must be false")
	case req.ResponseFormat == nil || req.ResponseFormat.Type != "json_object":
		return nil, nil, fmt.Errorf(`response_format must be {"type":"json_object"}`)
	case len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user":
		return nil, nil, fmt.Errorf("want a system and a user message")
	}
	if in, ok := translatetest.ParseSummaryInput(req.Messages[1].Content); ok {
		if !strings.Contains(req.Messages[0].Content, `"summary"`) {
			return nil, nil, fmt.Errorf(`system prompt of a summary request does not ask for {"summary": ...}`)
		}
		return nil, &in, nil
	}
	if !strings.Contains(req.Messages[0].Content, "translations") {
		return nil, nil, fmt.Errorf(`system prompt does not ask for {"translations": [...]}`)
	}
	var texts []string
	if err := json.Unmarshal([]byte(req.Messages[1].Content), &texts); err != nil {
		return nil, nil, fmt.Errorf("user message is not a JSON array of strings: %w", err)
	}
	if len(texts) == 0 {
		return nil, nil, fmt.Errorf("no texts")
	}
	return texts, nil, nil
}
