package telegram

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/transfeed/transfeed/bot/telegramtest"
)

func TestCheck(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{})
	tests := []struct {
		name    string
		token   string
		wantErr string
	}{
		{"valid token", srv.Token(), ""},
		{"rejected token", "999:wrong-secret", "telegram: the bot token was rejected (401 Unauthorized)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewClient(ClientOptions{Token: Token(tt.token), APIURL: srv.URL(), Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			err = b.Check(t.Context())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if b.Username() != srv.BotUsername() {
					t.Errorf("Username = %q", b.Username())
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Check = %v, want %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrTokenRejected) {
				t.Errorf("errors.Is(err, ErrTokenRejected) = false")
			}
		})
	}
}

func TestNewClientMakesNoRequest(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	if _, err := NewClient(ClientOptions{Token: "1:x", APIURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if hit {
		t.Errorf("NewClient called the Bot API")
	}
	for _, bad := range []ClientOptions{{}, {Token: " "}, {Token: "1:x", APIURL: "ftp://x"}} {
		if _, err := NewClient(bad); err == nil {
			t.Errorf("NewClient(%+v) accepted bad options", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	b := &Client{token: "123:secret"}
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"429", &tgbot.TooManyRequestsError{Message: "too many requests, Too Many Requests: retry after 7", RetryAfter: 7}, KindRateLimited},
		{"migrate", &tgbot.MigrateError{Message: "bad request: upgraded", MigrateToChatID: -100}, KindMigrated},
		{"kicked", errors.Join(errors.New("x"), tgbot.ErrorForbidden), KindChatGone},
		{"chat not found", wrap(tgbot.ErrorBadRequest, "Bad Request: chat not found"), KindChatGone},
		{"thread not found", wrap(tgbot.ErrorBadRequest, "Bad Request: message thread not found"), KindChatGone},
		{"parse entities", wrap(tgbot.ErrorBadRequest, "Bad Request: can't parse entities: unsupported start tag"), KindBadRequest},
		{"unauthorized", wrap(tgbot.ErrorUnauthorized, "Unauthorized"), KindUnauthorized},
		{"nginx 502", errors.New("error decode response body for method sendMessage, <html>502</html>, invalid character '<'"), KindTransient},
		{"500", errors.New("error response from telegram for method sendMessage, 500 Internal Server Error"), KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae *APIError
			if !errors.As(b.classify("sendMessage", tt.err), &ae) {
				t.Fatalf("not an *APIError")
			}
			if ae.Kind != tt.want {
				t.Errorf("kind = %v, want %v (%s)", ae.Kind, tt.want, ae.Description)
			}
			if tt.want == KindRateLimited && ae.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v, want 7s", ae.RetryAfter)
			}
		})
	}
}

func wrap(sentinel error, desc string) error {
	return &redactedError{msg: sentinel.Error() + ", " + desc, err: sentinel}
}

// TestTokenNeverLeaks runs failing and succeeding calls with debug logging
// and checks that neither errors nor logs contain the token.
func TestTokenNeverLeaks(t *testing.T) {
	srv := telegramtest.New(t, telegramtest.Options{Token: "777000:super-secret-token"})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := ClientOptions{Token: Token(srv.Token()), APIURL: srv.URL(), Admins: []int64{1}, Logger: logger}
	logger.Info("client options", slog.Any("options", opts), slog.String("printed", fmt.Sprintf("%v %+v %#v", opts, opts, opts)))
	b, err := NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	errs = append(errs, b.Check(t.Context()))
	srv.DownNext(1)
	_, err = b.Send(t.Context(), "@chan_one", 0, Message{Text: "<b>hi</b>"})
	errs = append(errs, err)
	_, err = b.Send(t.Context(), "@chan_one", 0, Message{Text: "<p>bad</p>"})
	errs = append(errs, err)
	errs = append(errs, b.AlertAdmins(t.Context(), "hello"))
	closed, err := NewClient(ClientOptions{Token: Token(srv.Token()), APIURL: "http://127.0.0.1:1", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	errs = append(errs, closed.Check(t.Context()))
	nonNil := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		nonNil++
		if strings.Contains(err.Error(), "super-secret-token") {
			t.Errorf("error leaks the token: %v", err)
		}
	}
	if nonNil < 3 {
		t.Errorf("only %d calls failed; the test must exercise error paths", nonNil)
	}
	if strings.Contains(logs.String(), "super-secret-token") {
		t.Errorf("logs leak the token:\n%s", logs.String())
	}
}
