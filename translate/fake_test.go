package translate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// fakeTranslator is an in-process engine: a dictionary of phrases (longest
// first), and every other Han character rendered as "w<hex>". It counts
// characters and requests, can fail its next calls with given errors, and
// can mangle its answers.
type fakeTranslator struct {
	t      testing.TB
	name   string
	limits Limits
	dict   map[string]string
	keys   []string

	mu       sync.Mutex
	fail     []error                               // returned by the next calls, in order
	mangle   func(call int, in, out string) string // may change an answer
	calls    int
	chars    int64
	requests []Request
}

func newFake(t testing.TB, name string, extra map[string]string) *fakeTranslator {
	dict := map[string]string{
		"大湾区": "Dawan District", // what a careless engine writes
		"市长":  "city chief",
		"会议":  "meeting",
		"，":   ", ",
		"。":   ". ",
		"、":   ", ",
		"年":   " year ",
		"月":   " month ",
		"日":   " day ",
	}
	for k, v := range extra {
		dict[k] = v
	}
	f := &fakeTranslator{t: t, name: name, dict: dict}
	for k := range dict {
		f.keys = append(f.keys, k)
	}
	slices.SortFunc(f.keys, func(a, b string) int { return len(b) - len(a) })
	return f
}

func (f *fakeTranslator) Name() string   { return f.name }
func (f *fakeTranslator) Limits() Limits { return f.limits }

func (f *fakeTranslator) Translate(ctx context.Context, req Request) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.requests = append(f.requests, Request{Source: req.Source, Target: req.Target, Format: req.Format,
		Texts: slices.Clone(req.Texts), Glossary: maps.Clone(req.Glossary)})
	// Fail the test on a malformed request, as a real server would refuse it.
	if req.Source != "zh" || req.Target != "en" {
		f.t.Errorf("fake: languages %q→%q", req.Source, req.Target)
	}
	if len(req.Texts) == 0 {
		f.t.Errorf("fake: empty request")
	}
	if f.limits.MaxTexts > 0 && len(req.Texts) > f.limits.MaxTexts {
		f.t.Errorf("fake: %d texts over the limit %d", len(req.Texts), f.limits.MaxTexts)
	}
	for _, s := range req.Texts {
		if strings.TrimSpace(s) == "" {
			f.t.Errorf("fake: blank text sent")
		}
		if !utf8.ValidString(s) {
			f.t.Errorf("fake: invalid UTF-8 sent: %q", s)
		}
	}
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return nil, err
	}
	out := make([]string, len(req.Texts))
	for i, s := range req.Texts {
		f.chars += int64(utf8.RuneCountInString(s))
		if req.Format == FormatHTML {
			out[i] = f.translateHTML(s)
		} else {
			out[i] = f.translateText(s)
		}
		if f.mangle != nil {
			out[i] = f.mangle(f.calls, s, out[i])
		}
	}
	return out, nil
}

func (f *fakeTranslator) translateHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt == html.TextToken {
			b.WriteString(html.EscapeString(f.translateText(string(z.Text()))))
			continue
		}
		b.Write(z.Raw())
	}
}

func (f *fakeTranslator) translateText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		for _, k := range f.keys {
			if strings.HasPrefix(s[i:], k) {
				b.WriteString(" " + f.dict[k] + " ")
				i += len(k)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Han, r) {
			fmt.Fprintf(&b, " w%x ", r)
		} else {
			b.WriteRune(r)
		}
		i += n
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func (f *fakeTranslator) stats() (calls int, chars int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.chars
}

func (f *fakeTranslator) sentTexts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.Texts...)
	}
	return out
}

func (f *fakeTranslator) failNext(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, errs...)
}

// sleepRecorder is the engine's Sleep hook: it records durations and does
// not sleep.
type sleepRecorder struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slept = append(s.slept, d)
	return ctx.Err()
}

func (s *sleepRecorder) durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.slept)
}
