package translatetest

import (
	"encoding/json"
	"strings"
	"unicode"
)

// SummaryInput is the user message of a summary request (translate/openai).
type SummaryInput struct {
	Title string `json:"title"`
	Date  string `json:"date"`
	Text  string `json:"text"`
}

// ParseSummaryInput reads a summary request's user message: a JSON object
// with a text or title. ok is false for anything else (a translation batch
// is a JSON array).
func ParseSummaryInput(content string) (SummaryInput, bool) {
	var in SummaryInput
	s := strings.TrimSpace(content)
	if !strings.HasPrefix(s, "{") || json.Unmarshal([]byte(s), &in) != nil {
		return SummaryInput{}, false
	}
	return in, strings.TrimSpace(in.Text) != "" || strings.TrimSpace(in.Title) != ""
}

// Summarize is the fake engine's summary: the first two sentences of the
// text (the title when the text has none), so every number in it is one of
// the post's. Deterministic.
func Summarize(in SummaryInput) string {
	var out []string
	rest := strings.Join(strings.Fields(in.Text), " ")
	for len(out) < 2 && rest != "" {
		end := sentenceEnd(rest)
		out = append(out, strings.TrimSpace(rest[:end]))
		rest = strings.TrimSpace(rest[end:])
	}
	if len(out) == 0 {
		return strings.TrimSpace(in.Title)
	}
	return strings.Join(out, " ")
}

// sentenceEnd is the byte offset just after the first sentence of s.
func sentenceEnd(s string) int {
	for i, r := range s {
		if r != '.' && r != '!' && r != '?' {
			continue
		}
		j := i + 1
		if j == len(s) {
			return j
		}
		next := []rune(s[j:])[0]
		if unicode.IsSpace(next) {
			return j
		}
	}
	return len(s)
}

// SummaryContent is the assistant content answering a summary request.
func SummaryContent(summary string) string {
	b, _ := json.Marshal(map[string]string{"summary": summary}) // only strings: cannot fail
	return string(b)
}
