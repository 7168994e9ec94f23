package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// DefaultAPIURL is the public Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// ErrTokenRejected is returned by Check when Telegram refuses the token.
var ErrTokenRejected = errors.New("telegram: the bot token was rejected (401 Unauthorized)")

// Token is a bot token. It never prints itself: String, GoString and
// LogValue give "<secret>".
type Token string

// String redacts the token.
func (t Token) String() string {
	if t == "" {
		return ""
	}
	return "<secret>"
}

// GoString redacts the token in %#v.
func (t Token) GoString() string { return t.String() }

// LogValue redacts the token in slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// ClientOptions builds a Client. Token is required; zero values of the
// other fields take the defaults.
type ClientOptions struct {
	Token  Token
	APIURL string  // default DefaultAPIURL
	Admins []int64 // user ids told by AlertAdmins and answered by Admin
	// HTTPClient sends requests other than long polling. Default: 30 s timeout.
	HTTPClient *http.Client
	// PollClient serves getUpdates long polling; its timeout must exceed
	// PollTimeout. Default: PollTimeout + 15 s.
	PollClient *http.Client
	// PollTimeout is how long one getUpdates call may wait. Default 50 s.
	PollTimeout time.Duration
	Logger      *slog.Logger // nil: discard
}

// Client is transfeed's Telegram client: go-telegram/bot with our error
// classification, token redaction and slog logging. It does no network I/O
// until a method is called. Safe for concurrent use.
type Client struct {
	tg     *tgbot.Bot
	token  string
	apiURL string
	admins []int64
	opts   ClientOptions
	logger *slog.Logger

	mu       sync.Mutex
	username string // learnt by Check
}

// NewClient builds the client. No request is made.
func NewClient(opts ClientOptions) (*Client, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	token := strings.TrimSpace(string(opts.Token))
	if token == "" {
		return nil, errors.New("telegram: no bot token (telegram.token or telegram.token_file)")
	}
	apiURL := strings.TrimRight(opts.APIURL, "/")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram: api_url %q is not an http(s) URL", opts.APIURL)
	}
	if opts.PollTimeout <= 0 {
		opts.PollTimeout = 50 * time.Second
	}
	if opts.PollTimeout < 2*time.Second {
		opts.PollTimeout = 2 * time.Second // getUpdates timeout is PollTimeout-1s, in whole seconds
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.PollClient == nil {
		opts.PollClient = &http.Client{Timeout: opts.PollTimeout + 15*time.Second}
	}
	b := &Client{
		token:  token,
		apiURL: apiURL,
		admins: append([]int64(nil), opts.Admins...),
		opts:   opts,
		logger: logger,
	}
	tg, err := tgbot.New(token, b.libOptions(opts.PollTimeout, opts.HTTPClient)...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", b.redact(err))
	}
	b.tg = tg
	return b, nil
}

// libOptions are the go-telegram/bot options shared by the sending client
// and the long-polling client.
func (b *Client) libOptions(pollTimeout time.Duration, client *http.Client) []tgbot.Option {
	opts := []tgbot.Option{
		tgbot.WithSkipGetMe(),
		tgbot.WithServerURL(b.apiURL),
		tgbot.WithHTTPClient(pollTimeout, client),
		tgbot.WithErrorsHandler(func(err error) {
			b.logger.Warn("telegram client error", slog.Any("error", b.redact(err)))
		}),
		tgbot.WithDebugHandler(func(format string, args ...any) {
			b.logger.Debug("telegram client", slog.String("detail", b.redactString(fmt.Sprintf(format, args...))))
		}),
		tgbot.WithDefaultHandler(func(context.Context, *tgbot.Bot, *models.Update) {}),
	}
	if b.logger.Enabled(context.Background(), slog.LevelDebug) {
		opts = append(opts, tgbot.WithDebug())
	}
	return opts
}

// Check calls getMe once: it proves the token and the api_url work and
// learns the bot's username. A rejected token gives ErrTokenRejected.
func (b *Client) Check(ctx context.Context) error {
	me, err := b.tg.GetMe(ctx)
	if err != nil {
		switch {
		case errors.Is(err, tgbot.ErrorUnauthorized):
			return ErrTokenRejected
		case errors.Is(err, tgbot.ErrorNotFound):
			return fmt.Errorf("telegram: the bot token was rejected (404 Not Found: malformed token, or api_url %s is not a Bot API server)", b.apiURL)
		}
		return b.classify("getMe", err)
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	return nil
}

// Username is the bot's username learnt by Check ("" before).
func (b *Client) Username() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.username
}

// Send posts m to chat (an @username or a numeric id, as a string) in forum
// topic thread (0 = none): an album (sendMediaGroup) with m.Text as the
// first picture's caption when m.Album is set, a photo with m.Text as
// caption when m.Photo is set, else a text message with m's link preview.
// It returns Telegram's message id (an album's first). Errors are
// *APIError.
func (b *Client) Send(ctx context.Context, chat string, thread int, m Message) (int64, error) {
	chatID := chatParam(chat)
	switch {
	case len(m.Album) > 0:
		media := make([]models.InputMedia, len(m.Album))
		for i, u := range m.Album {
			p := &models.InputMediaPhoto{Media: u}
			if i == 0 {
				p.Caption, p.ParseMode = m.Text, models.ParseModeHTML
			}
			media[i] = p
		}
		msgs, err := b.tg.SendMediaGroup(ctx, &tgbot.SendMediaGroupParams{
			ChatID:          chatID,
			MessageThreadID: thread,
			Media:           media,
		})
		if err != nil {
			return 0, b.classify("sendMediaGroup", err)
		}
		if len(msgs) == 0 || msgs[0] == nil {
			return 0, &APIError{Method: "sendMediaGroup", Kind: KindTransient, Description: "no message in the answer"}
		}
		return int64(msgs[0].ID), nil
	case m.Photo != "":
		msg, err := b.tg.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID:          chatID,
			MessageThreadID: thread,
			Photo:           &models.InputFileString{Data: m.Photo},
			Caption:         m.Text,
			ParseMode:       models.ParseModeHTML,
		})
		if err != nil {
			return 0, b.classify("sendPhoto", err)
		}
		return int64(msg.ID), nil
	}
	params := &tgbot.SendMessageParams{
		ChatID:          chatID,
		MessageThreadID: thread,
		Text:            m.Text,
		ParseMode:       models.ParseModeHTML,
	}
	switch m.Preview {
	case PreviewOff:
		params.LinkPreviewOptions = &models.LinkPreviewOptions{IsDisabled: tgbot.True()}
	case PreviewPage:
		u := m.PreviewURL
		params.LinkPreviewOptions = &models.LinkPreviewOptions{URL: &u}
	}
	msg, err := b.tg.SendMessage(ctx, params)
	if err != nil {
		return 0, b.classify("sendMessage", err)
	}
	return int64(msg.ID), nil
}

// sendPlain sends text without parse mode, cut to Telegram's limit.
func (b *Client) sendPlain(ctx context.Context, chatID int64, text string) error {
	_, err := b.tg.SendMessage(ctx, &tgbot.SendMessageParams{
		ChatID: chatID,
		Text:   cutUnits(text, maxText),
	})
	if err != nil {
		return b.classify("sendMessage", err)
	}
	return nil
}

// AlertAdmins sends text (plain, not HTML) to every telegram.admins user.
// It tries every admin and joins the errors.
func (b *Client) AlertAdmins(ctx context.Context, text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("telegram: empty alert")
	}
	var errs []error
	for _, id := range b.admins {
		if err := b.sendPlain(ctx, id, text); err != nil {
			errs = append(errs, fmt.Errorf("telegram: alert admin %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// setCommands registers the admin commands shown in Telegram's menu.
func (b *Client) setCommands(ctx context.Context, cmds []models.BotCommand) error {
	if _, err := b.tg.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds}); err != nil {
		return fmt.Errorf("telegram: setMyCommands: %w", b.classify("setMyCommands", err))
	}
	return nil
}

// chatParam turns a configured chat into the chat_id parameter: numeric ids
// as int64, @usernames as strings.
func chatParam(chat string) any {
	if id, err := strconv.ParseInt(chat, 10, 64); err == nil {
		return id
	}
	return chat
}

// ErrorKind says what a failed Bot API call means for a delivery.
type ErrorKind int

const (
	// KindTransient: network error, 5xx, a body that is not JSON, anything
	// unknown. Retry later with backoff; never drop the delivery.
	KindTransient ErrorKind = iota
	// KindRateLimited: 429; wait exactly RetryAfter before the next request to that chat.
	KindRateLimited
	// KindChatGone: the bot was kicked, is not a member, lacks rights, or the
	// chat or topic does not exist. Pause the channel until an admin acts.
	KindChatGone
	// KindMigrated: the group became a supergroup with id MigrateTo.
	KindMigrated
	// KindBadRequest: Telegram refuses this message (e.g. can't parse entities).
	KindBadRequest
	// KindUnauthorized: the token was revoked. Retried: deliveries are kept.
	KindUnauthorized
)

func (k ErrorKind) String() string {
	switch k {
	case KindRateLimited:
		return "rate_limited"
	case KindChatGone:
		return "chat_gone"
	case KindMigrated:
		return "migrated"
	case KindBadRequest:
		return "bad_request"
	case KindUnauthorized:
		return "unauthorized"
	}
	return "transient"
}

// APIError is a classified Bot API failure. Its text never contains the token.
type APIError struct {
	Method      string
	Kind        ErrorKind
	RetryAfter  time.Duration // KindRateLimited
	MigrateTo   int64         // KindMigrated
	Description string        // Telegram's description, or the transport error
	Err         error         // the library's error (token redacted)
}

func (e *APIError) Error() string {
	return "telegram: " + e.Method + ": " + e.Description
}

func (e *APIError) Unwrap() error { return e.Err }

// classify turns a go-telegram/bot error into an *APIError.
func (b *Client) classify(method string, err error) error {
	if err == nil {
		return nil
	}
	err = b.redact(err)
	ae := &APIError{Method: method, Kind: KindTransient, Description: err.Error(), Err: err}
	var tooMany *tgbot.TooManyRequestsError
	var migrate *tgbot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		ae.Kind = KindRateLimited
		ae.RetryAfter = time.Duration(tooMany.RetryAfter) * time.Second
		if ae.RetryAfter <= 0 {
			ae.RetryAfter = 5 * time.Second
		}
		ae.Description = strings.TrimPrefix(tooMany.Message, tgbot.ErrorTooManyRequests.Error()+", ")
	case errors.As(err, &migrate):
		ae.Kind = KindMigrated
		ae.MigrateTo = int64(migrate.MigrateToChatID)
		ae.Description = migrate.Message
	case errors.Is(err, tgbot.ErrorForbidden):
		ae.Kind = KindChatGone
		ae.Description = description(err, tgbot.ErrorForbidden)
	case errors.Is(err, tgbot.ErrorBadRequest):
		ae.Description = description(err, tgbot.ErrorBadRequest)
		ae.Kind = KindBadRequest
		d := strings.ToLower(ae.Description)
		for _, gone := range []string{"chat not found", "message thread not found", "not enough rights", "need administrator rights", "have no rights to send", "chat_write_forbidden", "topic_closed", "bot is not a member"} {
			if strings.Contains(d, gone) {
				ae.Kind = KindChatGone
			}
		}
	case errors.Is(err, tgbot.ErrorUnauthorized):
		ae.Kind = KindUnauthorized
		ae.Description = "401 Unauthorized: the bot token was rejected"
	}
	return ae
}

// description strips the library's "sentinel, " prefix.
func description(err, sentinel error) string {
	return strings.TrimPrefix(err.Error(), sentinel.Error()+", ")
}

// redact hides the token in err's text while keeping errors.Is/As working.
func (b *Client) redact(err error) error {
	if err == nil {
		return nil
	}
	if s := err.Error(); s != b.redactString(s) {
		return &redactedError{msg: b.redactString(s), err: err}
	}
	return err
}

func (b *Client) redactString(s string) string {
	if b.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, b.token, "<token>")
	return strings.ReplaceAll(s, url.PathEscape(b.token), "<token>")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
