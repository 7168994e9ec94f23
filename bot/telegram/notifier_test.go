package telegram

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/model"
)

// TestNotifyErrors sends one post per case to the fake Bot API and checks
// what the outbox is told.
func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*telegramtest.Server)
		image      bool
		plain      bool
		wantKind   bot.Kind
		wantReason string
		check      func(t *testing.T, e *bot.Error)
	}{
		{name: "429", setup: func(s *telegramtest.Server) { s.RateLimit("@chan", 7) }, wantKind: bot.KindRateLimited,
			check: func(t *testing.T, e *bot.Error) {
				if e.RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter = %v, want 7s", e.RetryAfter)
				}
			}},
		{name: "kicked", setup: func(s *telegramtest.Server) { s.Forbid("@chan", "Forbidden: bot was kicked from the channel chat") },
			wantKind: bot.KindGone, wantReason: "bot was kicked"},
		{name: "chat not found", setup: func(s *telegramtest.Server) { s.RejectChat("@chan", "Bad Request: chat not found") },
			wantKind: bot.KindGone, wantReason: "chat not found"},
		{name: "message refused", setup: func(s *telegramtest.Server) { s.RejectChat("@chan", "Bad Request: message is too long") },
			wantKind: bot.KindPermanent, wantReason: "message is too long"},
		{name: "migrated", setup: func(s *telegramtest.Server) { s.Migrate("@chan", -1002222) }, wantKind: bot.KindMoved,
			check: func(t *testing.T, e *bot.Error) {
				if e.MovedTo != "-1002222" {
					t.Errorf("MovedTo = %q, want -1002222", e.MovedTo)
				}
			}},
		{name: "photo refused", setup: func(s *telegramtest.Server) { s.FailPhotos("Bad Request: wrong file identifier/HTTP URL specified") },
			image: true, wantKind: bot.KindTryPlain, wantReason: "wrong file identifier"},
		{name: "502", setup: func(s *telegramtest.Server) { s.DownNext(1) }, wantKind: bot.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := telegramtest.New(t, telegramtest.Options{})
			n, err := NewNotifier(NotifierOptions{Client: newTestClient(t, srv), BaseURL: "https://example.org"})
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(srv)
			it := model.Item{ID: 1, SourceID: "s", Title: "Title", Language: "en", BackfillRank: -1}
			if tt.image {
				it.ImageURL = "https://img.example/1.jpg"
			}
			_, err = n.Notify(t.Context(), bot.Post{Channel: bot.Channel{Key: "@chan", Address: "@chan", Photo: true}, Address: "@chan", Item: it})
			var e *bot.Error
			if !errors.As(err, &e) {
				t.Fatalf("Notify = %v, want a *bot.Error", err)
			}
			if e.Kind != tt.wantKind || !strings.Contains(e.Reason, tt.wantReason) {
				t.Errorf("kind %v, reason %q; want %v, reason containing %q", e.Kind, e.Reason, tt.wantKind, tt.wantReason)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Errorf("the *APIError is not wrapped: %v", err)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// TestNotifySends checks the forms Notify sends: a photo with a caption,
// the plain form as text, to the address and thread given.
func TestNotifySends(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	n, err := NewNotifier(NotifierOptions{Client: newTestClient(t, srv), BaseURL: "https://example.org",
		Sources: map[string]Source{"s": {ID: "s", Name: "Source Name", Tags: []string{"tag"}}}})
	if err != nil {
		t.Fatal(err)
	}
	it := model.Item{ID: 5, SourceID: "s", Title: "Title", Language: "en", ImageURL: "https://img.example/5.jpg", BackfillRank: -1}
	ch := bot.Channel{Key: "@forum#4", Address: "@forum", Thread: 4, Photo: true}
	for _, plain := range []bool{false, true} {
		id, err := n.Notify(t.Context(), bot.Post{Channel: ch, Address: "-100777", Item: it, Plain: plain})
		if err != nil || id <= 0 {
			t.Fatalf("Notify(plain %v) = %d, %v", plain, id, err)
		}
	}
	msgs := srv.Messages("-100777")
	if len(msgs) != 2 {
		t.Fatalf("%d messages to the moved address, want 2", len(msgs))
	}
	got := []string{msgs[0].Method, msgs[1].Method}
	if diff := cmp.Diff([]string{"sendphoto", "sendmessage"}, got); diff != "" {
		t.Errorf("methods (-want +got):\n%s", diff)
	}
	for _, m := range msgs {
		if m.Thread != 4 || !strings.Contains(m.Text, "Source Name") || !strings.Contains(m.Text, "#tag") {
			t.Errorf("message %+v: want thread 4, the source's name and tags", m)
		}
	}
}

func TestPacing(t *testing.T) {
	tests := []struct {
		pacing Pacing
		chat   string
		want   []rate.Limit
	}{
		{Pacing{}, "555000", []rate.Limit{1}},
		{Pacing{}, "@channel", []rate.Limit{1, rate.Every(3 * time.Second)}},
		{Pacing{}, "-1001234", []rate.Limit{1, rate.Every(3 * time.Second)}},
		{Pacing{Chat: 50, Group: 40}, "@channel", []rate.Limit{50, 40}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.chat, tt.pacing), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.pacing.Rates(tt.chat)); diff != "" {
				t.Errorf("Rates (-want +got):\n%s", diff)
			}
		})
	}
	if got := (Pacing{}).GlobalRate(); got != 30 {
		t.Errorf("GlobalRate = %v, want 30", got)
	}
}

func TestTokenRedacts(t *testing.T) {
	tok := Token("777:hunter2")
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", slog.Any("token", tok))
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logs.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the token shows: %s", s)
		}
	}
}
