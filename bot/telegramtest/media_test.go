package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func album(n int, caption string) []models.InputMedia {
	var out []models.InputMedia
	for i := range n {
		p := &models.InputMediaPhoto{Media: fmt.Sprintf("https://www.zhaoqing.gov.cn/img/%d.jpg", i)}
		if i == 0 {
			p.Caption, p.ParseMode = caption, models.ParseModeHTML
		}
		out = append(out, p)
	}
	return out
}

// TestMediaGroup: the fake takes albums of 2–10 pictures with a valid
// caption of at most 1024 characters on the first, answers one message per
// picture, and refuses the rest as Telegram does.
func TestMediaGroup(t *testing.T) {
	tests := []struct {
		name    string
		media   []models.InputMedia
		wantErr string
	}{
		{name: "five", media: album(5, "<b>Title</b>\n<a href=\"https://example.org/posts/1\">Read in English</a>")},
		{name: "ten", media: album(10, "<b>Title</b>")},
		{name: "eleven", media: album(11, "<b>Title</b>"), wantErr: "2-10 items"},
		{name: "one", media: album(1, "<b>Title</b>"), wantErr: "2-10 items"},
		{name: "caption 1025", media: album(3, strings.Repeat("x", 1025)), wantErr: "too long"},
		{name: "caption bad html", media: album(3, "<b>open"), wantErr: "can't find end tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(t, Options{})
			b, err := tgbot.New(s.Token(), tgbot.WithServerURL(s.URL()), tgbot.WithSkipGetMe(), tgbot.WithHTTPClient(0, s.Client()))
			if err != nil {
				t.Fatal(err)
			}
			msgs, err := b.SendMediaGroup(context.Background(), &tgbot.SendMediaGroupParams{ChatID: "@zhaoqing_en", Media: tc.media})
			if tc.wantErr != "" {
				if !errors.Is(err, tgbot.ErrorBadRequest) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a bad request saying %q", err, tc.wantErr)
				}
				if len(s.Rejections()) != 1 || len(s.Messages("@zhaoqing_en")) != 0 {
					t.Errorf("rejections %q, messages %d", s.Rejections(), len(s.Messages("@zhaoqing_en")))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != len(tc.media) || msgs[0].Caption == "" || msgs[0].MediaGroupID == "" {
				t.Fatalf("answer %d messages (caption %q)", len(msgs), msgs[0].Caption)
			}
			got := s.Messages("@zhaoqing_en")
			if len(got) != 1 || got[0].Method != "sendmediagroup" || len(got[0].Media) != len(tc.media) || got[0].Visible == "" {
				t.Errorf("recorded %+v", got)
			}
		})
	}
}

// TestLinkPreviewOptions: link_preview_options is recorded as sent.
func TestLinkPreviewOptions(t *testing.T) {
	s := New(t, Options{})
	b, err := tgbot.New(s.Token(), tgbot.WithServerURL(s.URL()), tgbot.WithSkipGetMe(), tgbot.WithHTTPClient(0, s.Client()))
	if err != nil {
		t.Fatal(err)
	}
	url, off := "https://example.org/posts/7", true
	for _, lp := range []*models.LinkPreviewOptions{{URL: &url}, {IsDisabled: &off}, nil} {
		if _, err := b.SendMessage(context.Background(), &tgbot.SendMessageParams{ChatID: int64(42), Text: "x", LinkPreviewOptions: lp}); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages("42")
	if len(got) != 3 || got[0].LinkPreview.URL != url || !got[1].LinkPreview.IsDisabled || got[2].Previewed {
		t.Errorf("recorded %+v", got)
	}
}
