package standin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzNotModified(f *testing.F) {
	f.Add(`"s1-c5-e0"`, "", `"s1-c5-e0"`)
	f.Add(`W/"a", "b"`, "Thu, 26 Nov 2026 06:21:26 GMT", `"b"`)
	f.Add("", "Thu, 26 Nov 2026 06:21:26 GMT", `"x"`)
	f.Add("*", "garbage", `"x"`)
	modified := time.Date(2026, 11, 26, 6, 21, 26, 0, time.UTC)
	f.Fuzz(func(t *testing.T, inm, ims, etag string) {
		got := notModified(inm, ims, etag, modified)
		wellFormed := etag != "" && strings.TrimSpace(etag) == etag && !strings.Contains(etag, ",") && !strings.HasPrefix(etag, "W/")
		if inm == etag && wellFormed && !got {
			t.Errorf("If-None-Match %q equal to the ETag, not 304", inm)
		}
		if inm == "" && ims == "" && got {
			t.Error("304 for an unconditional request")
		}
	})
}

func FuzzChatRequest(f *testing.F) {
	f.Add(`{"model":"m","messages":[{"role":"system","content":"answer {\"translations\": [...]}"},{"role":"user","content":"[\"肇庆\"]"}],"temperature":0,"stream":false,"response_format":{"type":"json_object"}}`)
	f.Add(`{"model":"m","messages":[]}`)
	f.Add(`not json`)
	f.Add(`{"model":"m","messages":[{"role":"system","content":"answer {\"summary\": \"...\"}"},{"role":"user","content":"{\"title\":\"t\",\"text\":\"A. B.\"}"}],"temperature":0,"stream":false,"response_format":{"type":"json_object"}}`)
	f.Add(`{"model":"m","messages":[{"role":"system","content":"translations"},{"role":"user","content":"[]"}],"response_format":{"type":"json_object"}}`)
	tr := &translator{}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		texts, summary, err := tr.parse(req)
		if err == nil && len(texts) == 0 && summary == nil {
			t.Error("accepted a request without texts")
		}
		if summary != nil && summary.Text == "" && summary.Title == "" {
			t.Error("accepted a summary request without a post")
		}
	})
}
