package main

// End-to-end test of summary: llm through the real command line against
// the stand-in (internal/standin): its feeds, its OpenAI-compatible engine
// (translations and summaries; a share of the summaries invent a number)
// and its Bot API (which checks every message as strictly as Telegram).

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/internal/standin"
	"github.com/transfeed/transfeed/store"
)

// standinConfig starts a stand-in and writes a config for it: sources
// sources with posts posts each, one channel taking them all (every post
// pushed), with the channel keys given appended.
func standinConfig(t *testing.T, o standin.Options, channelKeys string) (*standin.Server, string, string) {
	t.Helper()
	o.GBKEvery = -1
	s, err := standin.New(o, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	var b bytes.Buffer
	if err := standin.GenerateConfig(&b, standin.ConfigOptions{Sources: o.Sources, Base: ts.URL, Channels: 1,
		DataDir: filepath.Join(dir, "data"), Backfill: 100, LogLevel: "warn", BaseURL: "http://127.0.0.1:18080"}); err != nil {
		t.Fatal(err)
	}
	cfg := b.String() + channelKeys
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, path, filepath.Join(dir, "data", "transfeed.db")
}

func TestLLMSummariesOnTheStandIn(t *testing.T) {
	s, cfg, db := standinConfig(t, standin.Options{Sources: 2, InitialPost: 3, SumInventRate: 0.34},
		"      summary: llm\n")
	mustRun(t, "once", "-config", cfg)

	st := s.Stats()
	msgs := s.Messages()
	const posts = 6
	if len(msgs) != posts || st.Telegram.Rejected != 0 || st.Telegram.Malformed != 0 {
		t.Fatalf("%d messages (%d rejected, %d malformed by the strict Bot API), want %d accepted", len(msgs), st.Telegram.Rejected, st.Telegram.Malformed, posts)
	}
	tr := st.Translate
	if tr.Summaries != posts || tr.SummaryChars == 0 {
		t.Errorf("%d summary requests (%d characters), want one per post: %d", tr.Summaries, tr.SummaryChars, posts)
	}
	if tr.SummaryInvent == 0 || tr.SummaryInvent == posts {
		t.Fatalf("the stand-in invented a number in %d of %d summaries; the test needs some of each", tr.SummaryInvent, posts)
	}
	summarised := 0
	for _, m := range msgs {
		if strings.Contains(m.Text, "987654") {
			t.Errorf("a message shows the invented number:\n%s", m.Text)
		}
		if strings.Contains(m.Text, standin.SummaryMark) {
			summarised++
		}
	}
	if want := posts - int(tr.SummaryInvent); summarised != want {
		t.Errorf("%d messages carry the summary, want %d (the %d others the lead)", summarised, want, tr.SummaryInvent)
	}

	// A second poll (a new process: the restart) sends nothing for them.
	mustRun(t, "once", "-config", cfg)
	if again := s.Stats().Translate; again.Summaries != tr.Summaries || again.SummaryChars != tr.SummaryChars {
		t.Errorf("second once: %d summary requests, %d characters; want none more", again.Summaries-tr.Summaries, again.SummaryChars-tr.SummaryChars)
	}

	// What the summaries cost is in the day's usage, with the translations.
	sto, err := store.Open(t.Context(), store.Config{DSN: db}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sto.Close()
	u, err := sto.GetUsage(t.Context(), time.Now().UTC().Format(time.DateOnly), "openai/standin")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first once: %d messages, %d summary requests (%d characters, %d with an invented number), %d translation characters; second once: %d more summary characters; usage today %d characters",
		len(msgs), tr.Summaries, tr.SummaryChars, tr.SummaryInvent, tr.Chars, s.Stats().Translate.SummaryChars-tr.SummaryChars, u.Chars)
	if u.Chars != tr.Chars+tr.SummaryChars {
		t.Errorf("usage %d characters, want translations %d + summaries %d", u.Chars, tr.Chars, tr.SummaryChars)
	}
}

// TestValidateReportsTemplateAndSummaryProblems: a template's mistake is
// reported at its line in the file, and summary: llm without an engine is
// an error, not a silent fallback.
func TestValidateReportsTemplateAndSummaryProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "channels.yaml")
	cfg := `sources:
  - id: news
    url: http://example.org/rss.xml
telegram:
  token: "123:abc"
  channels:
    - chat: "@zhaoqing_en"
      summary: llm
      template: |
        <b>{{.Title}}</b>
        {{.Summary}}
        {{link .ReadURL .ReadLabl}}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "validate", "-config", path)
	if code != 2 {
		t.Fatalf("validate exit %d, want 2\n%s", code, errOut)
	}
	for _, want := range []string{
		path + ":8: telegram.channels[0].summary: llm needs an OpenAI-compatible engine",
		path + ":12: telegram.channels[0].template: line 3 of the template: <.ReadLabl>: can't evaluate field ReadLabl",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("validate output lacks %q:\n%s", want, errOut)
		}
	}
}
