package standin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/openai"
)

func TestSummaryRequests(t *testing.T) {
	req := translate.SummaryRequest{Title: "Zhaoqing signs 12 projects", Date: "2026-05-25",
		Text: "On May 25, Zhaoqing signed 12 projects. Investment is 3.2 billion yuan. Leaders attended."}
	for _, tc := range []struct {
		name    string
		rate    float64
		invents bool
	}{{"faithful", 0, false}, {"inventing", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, ts, _ := newTestServer(t, Options{SumInventRate: tc.rate})
			tr, err := openai.New(openai.Config{BaseURL: ts.URL + "/v1", APIKey: "k", Model: "standin"}, &http.Client{Timeout: 10 * time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.Summarize(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			bad := translate.InventedNumbers(got, req.Title, req.Text, req.Date)
			if (len(bad) > 0) != tc.invents {
				t.Errorf("summary %q: invented numbers %v, want invented %v", got, bad, tc.invents)
			}
			st := s.Stats().Translate
			wantChars := int64(len([]rune(req.Title)) + len([]rune(req.Text)) + len([]rune(req.Date)))
			if st.Summaries != 1 || st.SummaryChars != wantChars || st.Chars != 0 || st.Malformed != 0 {
				t.Errorf("stats %+v, want 1 summary of %d characters and no translation", st, wantChars)
			}
		})
	}
}

// TestMediaGroupWithRealClient: go-telegram/bot's sendMediaGroup is
// accepted within the limits (one message per item, the caption on the
// first) and refused outside them.
func TestMediaGroupWithRealClient(t *testing.T) {
	photo := func(i int, caption string) models.InputMedia {
		p := &models.InputMediaPhoto{Media: fmt.Sprintf("https://www.zhaoqing.gov.cn/img/%d.jpg", i)}
		if caption != "" {
			p.Caption, p.ParseMode = caption, models.ParseModeHTML
		}
		return p
	}
	album := func(n int, caption string) []models.InputMedia {
		var out []models.InputMedia
		for i := range n {
			c := ""
			if i == 0 {
				c = caption
			}
			out = append(out, photo(i, c))
		}
		return out
	}
	caption := `<b>Title</b>` + "\n" + `<a href="http://localhost:8080/posts/9">Read in English</a>`
	for _, tc := range []struct {
		name  string
		media []models.InputMedia
		ok    bool
	}{
		{"five", album(5, caption), true},
		{"ten", album(10, caption), true},
		{"eleven", album(11, caption), false},
		{"one", album(1, caption), false},
		{"caption too long", album(3, strings.Repeat("x", 1025)), false},
		{"caption bad html", album(3, "<p>x</p>"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ts, _ := newTestServer(t, Options{})
			b, err := tgbot.New("123:abc", tgbot.WithServerURL(ts.URL), tgbot.WithSkipGetMe())
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := b.SendMediaGroup(t.Context(), &tgbot.SendMediaGroupParams{ChatID: int64(-100123), Media: tc.media})
			if !tc.ok {
				if err == nil || !errors.Is(err, tgbot.ErrorBadRequest) {
					t.Fatalf("err = %v, want a bad request", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != len(tc.media) || msgs[0].Text == "" {
				t.Errorf("%d messages (first text %q), want %d", len(msgs), msgs[0].Text, len(tc.media))
			}
			m := s.Messages()
			if len(m) != 1 || m[0].Method != "sendMediaGroup" || m[0].Media != len(tc.media) || m[0].URL != "http://localhost:8080/posts/9" {
				t.Errorf("recorded %+v", m)
			}
		})
	}
}

func TestLinkPreviewOptions(t *testing.T) {
	s, ts, _ := newTestServer(t, Options{})
	b, err := tgbot.New("123:abc", tgbot.WithServerURL(ts.URL), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	url := "http://localhost:8080/posts/3"
	if _, err := b.SendMessage(t.Context(), &tgbot.SendMessageParams{ChatID: "@zhaoqing_en", Text: "<b>x</b>", ParseMode: models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{URL: &url}}); err != nil {
		t.Fatal(err)
	}
	both := true
	if _, err := b.SendMessage(t.Context(), &tgbot.SendMessageParams{ChatID: "@zhaoqing_en", Text: "y",
		LinkPreviewOptions: &models.LinkPreviewOptions{PreferSmallMedia: &both, PreferLargeMedia: &both}}); !errors.Is(err, tgbot.ErrorBadRequest) {
		t.Errorf("contradictory preview options: err = %v, want a bad request", err)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages accepted, want 1", n)
	}
}
