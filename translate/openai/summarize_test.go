package openai

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

func summaryRequest() translate.SummaryRequest {
	return translate.SummaryRequest{
		Title:     "Zhaoqing signs 12 projects",
		Date:      "2026-05-25",
		Text:      "On May 25, Zhaoqing signed 12 projects. Total investment is 3.2 billion yuan. City leaders attended.",
		Sentences: 3,
		Glossary:  map[string]string{"大湾区": "Greater Bay Area"},
	}
}

func TestSummarize(t *testing.T) {
	in := translatetest.SummaryInput{Title: summaryRequest().Title, Text: summaryRequest().Text}
	want := translatetest.Summarize(in)
	tests := []struct {
		name    string
		reply   *translatetest.Reply
		want    string
		wantErr translate.ErrorKind
	}{
		{name: "fake engine", want: want},
		{name: "fenced", reply: &translatetest.Reply{Body: translatetest.ChatCompletion("```json\n"+translatetest.SummaryContent("A. B.")+"\n```", "stop")}, want: "A. B."},
		{name: "think block", reply: &translatetest.Reply{Body: translatetest.ChatCompletion("<think>hmm</think>"+translatetest.SummaryContent("A."), "stop")}, want: "A."},
		{name: "no summary field", reply: &translatetest.Reply{Body: translatetest.ChatCompletion(`{"translations":["x"]}`, "stop")}, wantErr: translate.KindBadAnswer},
		{name: "empty summary", reply: &translatetest.Reply{Body: translatetest.ChatCompletion(`{"summary":"  "}`, "stop")}, wantErr: translate.KindBadAnswer},
		{name: "prose", reply: &translatetest.Reply{Body: translatetest.ChatCompletion("Sure, here is a summary.", "stop")}, wantErr: translate.KindBadAnswer},
		{name: "truncated", reply: &translatetest.Reply{Body: translatetest.ChatCompletion(translatetest.SummaryContent("A"), "length")}, wantErr: translate.KindBadAnswer},
		{name: "rate limited", reply: &translatetest.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}, Body: `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`}, wantErr: translate.KindRetryable},
		{name: "bad key echoed", reply: &translatetest.Reply{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: ` + testKey + `","type":"invalid_request_error"}}`}, wantErr: translate.KindPermanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: testKey, Model: "test-model", Reply: tc.reply})
			tr := newTranslator(t, srv, testKey)
			got, err := tr.Summarize(context.Background(), summaryRequest())
			if tc.wantErr != 0 {
				if translate.KindOf(err) != tc.wantErr {
					t.Fatalf("err = %v (kind %v), want kind %v", err, translate.KindOf(err), tc.wantErr)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error leaks the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Summarize: %v", err)
			}
			if got != tc.want {
				t.Errorf("summary %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSummaryWire checks the request itself: one chat completion whose
// user message is the post as a JSON object and whose system prompt holds
// the rules and the glossary.
func TestSummaryWire(t *testing.T) {
	srv := translatetest.NewOpenAIServer(t, translatetest.Options{Key: testKey, Model: "test-model"})
	tr := newTranslator(t, srv, testKey)
	if _, err := tr.Summarize(context.Background(), summaryRequest()); err != nil {
		t.Fatal(err)
	}
	bodies := srv.Bodies()
	if len(bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(bodies))
	}
	var req struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	if err := json.Unmarshal(bodies[0], &req); err != nil {
		t.Fatal(err)
	}
	sys, user := req.Messages[0].Content, req.Messages[1].Content
	for _, want := range []string{"at most 3", "Every number", "大湾区 => Greater Bay Area", `{"summary": "..."}`} {
		if !strings.Contains(sys, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, sys)
		}
	}
	in, ok := translatetest.ParseSummaryInput(user)
	if !ok || in.Title != summaryRequest().Title || in.Date != "2026-05-25" || in.Text != summaryRequest().Text {
		t.Errorf("user message %q", user)
	}
	if _, err := tr.Summarize(context.Background(), translate.SummaryRequest{}); translate.KindOf(err) != translate.KindPermanent {
		t.Errorf("empty post: err = %v, want a permanent error", err)
	}
}
