package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/internal/httpx"
)

// summaryInput is the user message of a summary request.
type summaryInput struct {
	Title string `json:"title"`
	Date  string `json:"date,omitempty"`
	Text  string `json:"text"`
}

// Summarize asks the model for a short English summary of an English post
// (translate.Summarizer). The user message is a JSON object {title, date,
// text}; the answer must be a JSON object {"summary": "..."}. Failures are
// *translate.Error, classified as for Translate.
func (t *Translator) Summarize(ctx context.Context, req translate.SummaryRequest) (string, error) {
	if strings.TrimSpace(req.Text) == "" && strings.TrimSpace(req.Title) == "" {
		return "", t.fail(translate.KindPermanent, 0, 0, errors.New("openai: nothing to summarise"))
	}
	user, err := marshal(summaryInput{Title: req.Title, Date: req.Date, Text: req.Text})
	if err != nil {
		return "", t.fail(translate.KindPermanent, 0, 0, fmt.Errorf("openai: encode post: %w", err))
	}
	code, raw, err := t.chat(ctx, summaryPrompt(req), string(user))
	if err != nil {
		return "", err
	}
	out, err := decodeSummary(raw, t.key)
	if err != nil {
		return "", t.fail(translate.KindBadAnswer, code, 0, errors.New(httpx.Scrub(err.Error(), t.key)))
	}
	t.logger.DebugContext(ctx, "post summarised", slog.Int("chars", len(out)))
	return out, nil
}

// decodeSummary reads the summary out of a 200 body.
func decodeSummary(raw []byte, secret string) (string, error) {
	raw = skipKeepAlive(raw)
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		return "", fmt.Errorf("openai: response is not JSON: %w: %s", err, httpx.Snippet(raw, secret))
	}
	if len(cr.Choices) == 0 {
		return "", fmt.Errorf("openai: response has no choices: %s", httpx.Snippet(raw, secret))
	}
	ch := cr.Choices[0]
	switch ch.FinishReason {
	case "length":
		return "", errors.New("openai: summary truncated (finish_reason length)")
	case "content_filter":
		return "", errors.New("openai: summary withheld by the content filter")
	}
	if ch.Message.Content == nil || strings.TrimSpace(*ch.Message.Content) == "" {
		if ch.Message.Refusal != "" {
			return "", fmt.Errorf("openai: model refused: %s", httpx.Snippet([]byte(ch.Message.Refusal), secret))
		}
		return "", errors.New("openai: empty answer")
	}
	s := strings.TrimSpace(*ch.Message.Content)
	if strings.HasPrefix(s, "<think>") {
		if i := strings.Index(s, "</think>"); i >= 0 {
			s = strings.TrimSpace(s[i+len("</think>"):])
		}
	}
	s = stripFence(s)
	if i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}'); i >= 0 && j > i {
		s = s[i : j+1]
	} else {
		return "", fmt.Errorf("openai: answer is not a JSON object: %s", httpx.Snippet([]byte(s), secret))
	}
	var obj struct {
		Summary *string `json:"summary"`
	}
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return "", fmt.Errorf("openai: answer is not a JSON object: %w: %s", err, httpx.Snippet([]byte(s), secret))
	}
	if obj.Summary == nil {
		return "", errors.New(`openai: answer has no "summary" string`)
	}
	if strings.TrimSpace(*obj.Summary) == "" {
		return "", errors.New("openai: the summary is empty")
	}
	return strings.TrimSpace(*obj.Summary), nil
}

// summaryPrompt states the rules for one summary.
func summaryPrompt(req translate.SummaryRequest) string {
	n := req.Sentences
	if n < 1 {
		n = 3
	}
	var b strings.Builder
	b.WriteString("You summarise English translations of Chinese government news for readers of a news channel.\n")
	fmt.Fprintf(&b, "The user message is a JSON object with the post's title, date and text. Write a summary of at most %d short sentences in plain English: what was decided, announced or done, by whom, and what it means for people. Skip ceremonial boilerplate (\"thoroughly implement the spirit of\").\n", n)
	b.WriteString("Use only facts stated in the post. Every number in the summary must appear in the post exactly as written there; do not compute, round or invent numbers or dates.\n")
	b.WriteString("Plain text only: no markup, no lists, no quotes around the summary, no notes.\n")
	if len(req.Glossary) > 0 {
		b.WriteString("Write these terms exactly as given:\n")
		terms := make([]string, 0, len(req.Glossary))
		for k := range req.Glossary {
			terms = append(terms, k)
		}
		sort.Strings(terms)
		for _, k := range terms {
			fmt.Fprintf(&b, "- %s => %s\n", k, req.Glossary[k])
		}
	}
	b.WriteString(`Answer ONLY with a JSON object of the form {"summary": "..."}.`)
	return b.String()
}
