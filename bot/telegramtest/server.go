// Package telegramtest is a strict stand-in for the Telegram Bot API on
// loopback, for tests. It parses multipart/form-data exactly as
// github.com/go-telegram/bot sends it, routes /bot<token>/<method>, refuses
// what Telegram refuses (bad HTML, texts over 4096 and captions over 1024
// visible characters, empty texts, albums outside 2–10 items, malformed
// link_preview_options), and can be told to answer 429 with
// retry_after, 502 with an HTML body, "bot was kicked", or
// migrate_to_chat_id. It fails the test on a malformed request, on any
// request to a chat while its retry_after runs, and on requests to one chat
// faster than one per Options.MinInterval (see there).
package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/transfeed/transfeed/internal/tghtml"
)

// Options configures a Server.
// paceBurst is how many requests a chat's pace bucket holds (see
// Options.MinInterval).
const paceBurst = 2

type Options struct {
	Token string // default "123456:test-token"
	// MinInterval is the pace a chat's requests must keep: they are
	// checked as they arrive against a bucket that earns one request per
	// MinInterval and holds at most two, so a sender that sends faster
	// fails the test, while a single gap shortened in transit (the
	// previous request delayed by a busy machine, as a network would) does
	// not. 0 disables the check.
	MinInterval time.Duration
	// BotUsername is what getMe answers (default "transfeed_test_bot").
	BotUsername string
}

// Message is one message the server accepted.
type Message struct {
	ID        int
	Method    string // sendMessage | sendPhoto | sendMediaGroup
	Chat      string // chat_id as sent
	Thread    int
	Text      string // text or caption as sent (Telegram HTML when ParseMode is "HTML"); an album's: its first item's
	ParseMode string
	Visible   string // visible text after entity parsing
	Photo     string
	// Media are an album's items (sendMediaGroup), in order.
	Media []tghtml.InputMedia
	// LinkPreview is sendMessage's link_preview_options (zero when none).
	LinkPreview tghtml.LinkPreview
	// Previewed says whether link_preview_options was sent at all.
	Previewed bool
	At        time.Time
	// Buttons are the inline keyboard's callback buttons, row by row
	// (sendMessage with reply_markup).
	Buttons [][]models.InlineKeyboardButton
}

type chatRule struct {
	rateLimit   []int  // retry_after for the next requests, in order
	forbidden   string // description of a permanent 403 ("" = none)
	badRequest  string // description of a permanent 400
	migrateTo   int64
	lastRequest time.Time
	credit      float64 // requests the pace allows now (MinInterval bucket, at most paceBurst)
	blockedTill time.Time
	requests    int
}

// Server is the fake Bot API.
type Server struct {
	t    testing.TB
	opts Options
	srv  *httptest.Server

	mu         sync.Mutex
	chats      map[string]*chatRule
	messages   []Message
	edits      []Edit
	callbacks  map[string]*callback
	nextID     int
	downUntil  time.Time
	downNext   int
	photoFail  string
	rejected   []string // what the server refused with 400, "method: description"
	requests   map[string]int
	commands   []models.BotCommand
	updates    []models.Update
	nextUpdate int64
	offset     int64 // highest offset getUpdates was called with
	updated    chan struct{}

	chatID  *regexp.Regexp
	command *regexp.Regexp
}

// New starts a server on loopback; it is closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = "123456:test-token"
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "transfeed_test_bot"
	}
	s := &Server{
		t:          t,
		opts:       opts,
		chats:      map[string]*chatRule{},
		requests:   map[string]int{},
		nextID:     1,
		nextUpdate: 1,
		updated:    make(chan struct{}),
		chatID:     regexp.MustCompile(`^(-?[0-9]{1,16}|@[A-Za-z][A-Za-z0-9_]{3,31})$`),
		command:    regexp.MustCompile(`^[a-z0-9_]{1,32}$`),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to give the bot (telegram.api_url).
func (s *Server) URL() string { return s.srv.URL }

// SentAtHeader carries the client's send time (Unix nanoseconds), set by
// the transport of Client. The pacing checks use it when present, so that
// the server's own scheduling delays (a loaded CI machine) are not taken
// for the client sending too fast.
const SentAtHeader = "X-Telegramtest-Sent-At"

// Client returns an HTTP client for the bot that stamps each request with
// the time it starts (SentAtHeader).
func (s *Server) Client() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: stamp{next: http.DefaultTransport}}
}

type stamp struct{ next http.RoundTripper }

func (t stamp) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(SentAtHeader, strconv.FormatInt(time.Now().UnixNano(), 10))
	return t.next.RoundTrip(r)
}

// Token is the token the server accepts.
func (s *Server) Token() string { return s.opts.Token }

// BotUsername is the username getMe answers.
func (s *Server) BotUsername() string { return s.opts.BotUsername }

func (s *Server) rule(chat string) *chatRule {
	r, ok := s.chats[chat]
	if !ok {
		r = &chatRule{}
		s.chats[chat] = r
	}
	return r
}

// RateLimit makes the next request to chat answer 429 with retry_after seconds.
func (s *Server) RateLimit(chat string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rule(chat)
	r.rateLimit = append(r.rateLimit, retryAfter)
}

// Forbid makes every request to chat answer 403 with description, e.g.
// "Forbidden: bot was kicked from the channel chat".
func (s *Server) Forbid(chat, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule(chat).forbidden = description
}

// RejectChat makes every request to chat answer 400 with description, e.g.
// "Bad Request: chat not found".
func (s *Server) RejectChat(chat, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule(chat).badRequest = description
}

// Migrate makes every request to chat answer 400 with migrate_to_chat_id.
func (s *Server) Migrate(chat string, to int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule(chat).migrateTo = to
}

// Down makes every request answer 502 with an nginx HTML page for d.
func (s *Server) Down(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downUntil = time.Now().Add(d)
}

// DownNext makes the next n requests answer 502 with an nginx HTML page.
func (s *Server) DownNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downNext = n
}

// FailPhotos makes every sendPhoto answer 400 with description (e.g.
// "Bad Request: wrong file identifier/HTTP URL specified"); "" stops it.
func (s *Server) FailPhotos(description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.photoFail = description
}

// Messages returns the accepted messages to chat ("" = every chat), in order.
func (s *Server) Messages(chat string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if chat == "" || m.Chat == chat {
			out = append(out, m)
		}
	}
	return out
}

// Requests returns how many requests for method arrived (accepted or not).
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[strings.ToLower(method)]
}

// ChatRequests returns how many send requests for chat arrived (accepted or not).
func (s *Server) ChatRequests(chat string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.chats[chat]; ok {
		return r.requests
	}
	return 0
}

// Commands returns what the last setMyCommands set.
func (s *Server) Commands() []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// PushMessage queues an update with a private text message from user id
// fromID, for getUpdates. It returns the update id.
func (s *Server) PushMessage(fromID int64, text string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextUpdate
	s.nextUpdate++
	s.updates = append(s.updates, models.Update{
		ID: id,
		Message: &models.Message{
			ID:   int(id),
			From: &models.User{ID: fromID, FirstName: "user"},
			Date: int(time.Now().Unix()),
			Chat: models.Chat{ID: fromID, Type: models.ChatTypePrivate},
			Text: text,
		},
	})
	close(s.updated)
	s.updated = make(chan struct{})
	return id
}

// Confirmed reports whether getUpdates was called with an offset above id,
// i.e. the bot has taken the update.
func (s *Server) Confirmed(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset > id
}

type apiError struct {
	code        int
	description string
	retryAfter  int
	migrateTo   int64
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.t.Errorf("telegramtest: write response: %v", err)
	}
}

func (s *Server) writeError(w http.ResponseWriter, e apiError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.description}
	params := map[string]any{}
	if e.retryAfter > 0 {
		params["retry_after"] = e.retryAfter
	}
	if e.migrateTo != 0 {
		params["migrate_to_chat_id"] = e.migrateTo
	}
	if len(params) > 0 {
		body["parameters"] = params
	}
	s.writeJSON(w, e.code, body)
}

func (s *Server) writeResult(w http.ResponseWriter, result any) {
	s.writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"

// fieldsFor lists the fields each method may carry; anything else fails the test.
func fieldsFor(method string) ([]string, bool) {
	switch method {
	case "getme":
		return nil, true
	case "getupdates":
		return []string{"offset", "limit", "timeout", "allowed_updates"}, true
	case "setmycommands":
		return []string{"commands", "scope", "language_code"}, true
	case "sendmessage":
		return []string{"chat_id", "message_thread_id", "text", "parse_mode", "link_preview_options", "disable_notification", "reply_markup"}, true
	case "sendphoto":
		return []string{"chat_id", "message_thread_id", "photo", "caption", "parse_mode", "disable_notification"}, true
	case "sendmediagroup":
		return []string{"chat_id", "message_thread_id", "media", "disable_notification"}, true
	case "editmessagetext":
		return []string{"chat_id", "message_id", "text", "parse_mode", "link_preview_options"}, true
	case "editmessagecaption":
		return []string{"chat_id", "message_id", "caption", "parse_mode"}, true
	case "answercallbackquery":
		return []string{"callback_query_id", "text", "show_alert", "url", "cache_time"}, true
	}
	return nil, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if v := r.Header.Get(SentAtHeader); v != "" {
		if ns, err := strconv.ParseInt(v, 10, 64); err == nil {
			at = time.Unix(0, ns)
		}
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.opts.Token+"/")
	if !ok {
		if strings.HasPrefix(r.URL.Path, "/bot") {
			s.writeError(w, apiError{code: 401, description: "Unauthorized"})
			return
		}
		s.writeError(w, apiError{code: 404, description: "Not Found"})
		return
	}
	method = strings.ToLower(method)
	if r.Method != http.MethodPost {
		s.t.Errorf("telegramtest: %s %s: want POST", r.Method, method)
	}
	fields, known := fieldsFor(method)
	if !known {
		s.t.Errorf("telegramtest: unexpected method %q", method)
		s.writeError(w, apiError{code: 404, description: "Not Found: method not found"})
		return
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		s.t.Errorf("telegramtest: %s: Content-Type %q, want multipart/form-data", method, r.Header.Get("Content-Type"))
		s.writeError(w, apiError{code: 400, description: "Bad Request: bad content type"})
		return
	}
	if err := r.ParseMultipartForm(1 << 20); errors.Is(err, io.EOF) {
		// go-telegram/bot sends methods without parameters (getMe) as a
		// multipart body with no parts; Telegram takes it.
		r.MultipartForm = &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}
	} else if err != nil {
		s.t.Errorf("telegramtest: %s: malformed multipart body: %v", method, err)
		s.writeError(w, apiError{code: 400, description: "Bad Request: malformed body"})
		return
	}
	for k := range r.MultipartForm.Value {
		if !slices.Contains(fields, k) {
			s.t.Errorf("telegramtest: %s: unexpected field %q", method, k)
		}
	}
	if len(r.MultipartForm.File) > 0 {
		s.t.Errorf("telegramtest: %s: unexpected file upload", method)
	}

	s.mu.Lock()
	s.requests[method]++
	down := s.downNext > 0 || time.Now().Before(s.downUntil)
	if s.downNext > 0 {
		s.downNext--
	}
	s.mu.Unlock()

	switch method {
	case "getupdates":
		s.getUpdates(w, r, down)
		return
	case "getme":
		if down {
			s.write502(w)
			return
		}
		s.writeResult(w, models.User{ID: 123456, IsBot: true, FirstName: "transfeed", Username: s.opts.BotUsername})
	case "setmycommands":
		if down {
			s.write502(w)
			return
		}
		s.setMyCommands(w, r)
	case "sendmessage", "sendphoto", "sendmediagroup":
		s.send(w, r, method, down, at)
	case "editmessagetext", "editmessagecaption":
		s.edit(w, r, method, down, at)
	case "answercallbackquery":
		s.answerCallback(w, r)
	}
}

func (s *Server) write502(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(nginx502))
}

func (s *Server) setMyCommands(w http.ResponseWriter, r *http.Request) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(r.FormValue("commands")), &cmds); err != nil {
		s.t.Errorf("telegramtest: setMyCommands: commands is not a JSON array: %v", err)
		s.writeError(w, apiError{code: 400, description: "Bad Request: can't parse commands JSON object"})
		return
	}
	for _, c := range cmds {
		if !s.command.MatchString(c.Command) || c.Description == "" || len([]rune(c.Description)) > 256 {
			s.t.Errorf("telegramtest: setMyCommands: invalid command %+v", c)
			s.writeError(w, apiError{code: 400, description: "Bad Request: BOT_COMMAND_INVALID"})
			return
		}
	}
	s.mu.Lock()
	s.commands = cmds
	s.mu.Unlock()
	s.writeResult(w, true)
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, down bool) {
	offset, _ := strconv.ParseInt(r.FormValue("offset"), 10, 64)
	timeout, _ := strconv.Atoi(r.FormValue("timeout"))
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > s.offset {
			s.offset = offset
		}
		var out []models.Update
		for _, u := range s.updates {
			if u.ID >= offset && (u.CallbackQuery == nil || allowed(r.FormValue("allowed_updates"), "callback_query")) {
				out = append(out, u)
			}
		}
		wait := s.updated
		s.mu.Unlock()
		if down {
			s.write502(w)
			return
		}
		if len(out) > 0 || timeout <= 0 {
			s.writeResult(w, out)
			return
		}
		select {
		case <-wait:
		case <-deadline.C:
			s.writeResult(w, []models.Update{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request, method string, down bool, now time.Time) {
	chat := r.FormValue("chat_id")
	if !s.chatID.MatchString(chat) {
		s.t.Errorf("telegramtest: %s: malformed chat_id %q", method, chat)
		s.writeError(w, apiError{code: 400, description: "Bad Request: chat not found"})
		return
	}
	thread := 0
	if v := r.FormValue("message_thread_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			s.t.Errorf("telegramtest: %s: malformed message_thread_id %q", method, v)
		}
		thread = n
	}

	s.mu.Lock()
	rule := s.rule(chat)
	if rule.blockedTill.After(now) {
		s.t.Errorf("telegramtest: %s to %s at %s while its retry_after runs until %s",
			method, chat, now.Format("15:04:05.000"), rule.blockedTill.Format("15:04:05.000"))
	}
	if s.opts.MinInterval > 0 {
		if rule.lastRequest.IsZero() {
			rule.credit = paceBurst
		} else {
			rule.credit = min(paceBurst, rule.credit+float64(now.Sub(rule.lastRequest))/float64(s.opts.MinInterval))
		}
		if rule.credit < 1 {
			s.t.Errorf("telegramtest: %s to %s %v after the previous one: faster than one per %v", method, chat, now.Sub(rule.lastRequest), s.opts.MinInterval)
		} else {
			rule.credit--
		}
	}
	rule.lastRequest = now
	rule.requests++
	var fail *apiError
	switch {
	case down:
	case rule.forbidden != "":
		fail = &apiError{code: 403, description: rule.forbidden}
	case rule.badRequest != "":
		fail = &apiError{code: 400, description: rule.badRequest}
	case rule.migrateTo != 0:
		fail = &apiError{code: 400, description: "Bad Request: group chat was upgraded to a supergroup chat", migrateTo: rule.migrateTo}
	case len(rule.rateLimit) > 0:
		ra := rule.rateLimit[0]
		rule.rateLimit = rule.rateLimit[1:]
		rule.blockedTill = now.Add(time.Duration(ra) * time.Second)
		fail = &apiError{code: 429, description: fmt.Sprintf("Too Many Requests: retry after %d", ra), retryAfter: ra}
	case (method == "sendphoto" || method == "sendmediagroup") && s.photoFail != "":
		fail = &apiError{code: 400, description: s.photoFail}
	}
	s.mu.Unlock()
	if down {
		s.write502(w)
		return
	}
	if fail != nil {
		s.writeError(w, *fail)
		return
	}

	parseMode := r.FormValue("parse_mode")
	msg := Message{Method: method, Chat: chat, Thread: thread, ParseMode: parseMode, At: now}
	var err error
	switch method {
	case "sendphoto":
		msg.Photo = r.FormValue("photo")
		msg.Text = r.FormValue("caption")
		if msg.Photo == "" {
			s.reject(w, method, "there is no photo in the request")
			return
		}
		err = CheckCaption(msg.Text, parseMode)
	case "sendmediagroup":
		// No uploads are allowed (see serve), so attach:// names nothing.
		msg.Media, err = tghtml.CheckMediaGroup(r.FormValue("media"), nil)
		if err == nil {
			msg.Photo, msg.Text, msg.ParseMode = msg.Media[0].Media, msg.Media[0].Caption, msg.Media[0].ParseMode
			parseMode = msg.ParseMode
			for i, m := range msg.Media[1:] {
				if m.Caption != "" {
					s.t.Errorf("telegramtest: sendMediaGroup: item %d has a caption too; the album's caption goes on the first", i+1)
				}
			}
		}
	default:
		msg.Text = r.FormValue("text")
		err = CheckMessage(msg.Text, parseMode)
		if raw := r.FormValue("link_preview_options"); err == nil && raw != "" {
			msg.Previewed = true
			if msg.LinkPreview, err = tghtml.CheckLinkPreview(raw); err != nil {
				s.t.Errorf("telegramtest: sendMessage: %v", err)
			}
		}
		if err == nil && r.FormValue("reply_markup") != "" {
			msg.Buttons, err = checkInlineKeyboard(r.FormValue("reply_markup"))
		}
	}
	if err != nil {
		s.reject(w, method, err.Error())
		return
	}
	msg.Visible = msg.Text
	if parseMode == "HTML" {
		msg.Visible, _ = ParseHTML(msg.Text)
	}

	s.mu.Lock()
	msg.ID = s.nextID
	s.nextID += max(1, len(msg.Media))
	s.messages = append(s.messages, msg)
	s.mu.Unlock()

	chatID, err := strconv.ParseInt(chat, 10, 64)
	chatType := models.ChatTypePrivate
	if err != nil || chatID < 0 {
		chatType = models.ChatTypeChannel
	}
	if err != nil {
		chatID = -1001000000000 - int64(len(chat))
	}
	res := models.Message{
		ID:              msg.ID,
		MessageThreadID: thread,
		Date:            int(now.Unix()),
		Chat:            models.Chat{ID: chatID, Type: chatType},
		Text:            msg.Visible,
	}
	if len(msg.Media) == 0 {
		s.writeResult(w, res)
		return
	}
	album := make([]models.Message, len(msg.Media))
	for i := range album {
		album[i] = res
		album[i].ID = msg.ID + i
		album[i].MediaGroupID = "album-" + strconv.Itoa(msg.ID)
		album[i].Text = ""
		album[i].Photo = []models.PhotoSize{{FileID: "photo-" + strconv.Itoa(msg.ID+i), Width: 800, Height: 600}}
	}
	album[0].Caption = msg.Visible
	s.writeResult(w, album)
}

// reject answers 400 Bad Request with description, as Telegram does, and
// records it (Rejections).
func (s *Server) reject(w http.ResponseWriter, method, description string) {
	s.mu.Lock()
	s.rejected = append(s.rejected, method+": "+description)
	s.mu.Unlock()
	s.writeError(w, apiError{code: 400, description: "Bad Request: " + description})
}

// Rejections lists what the server refused as Telegram would (bad HTML,
// over-long texts, albums outside the limits), "method: description".
// Chat rules set by the test (RejectChat, FailPhotos) are not counted.
func (s *Server) Rejections() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// allowed reports whether allowed_updates (a JSON array; empty: the default
// set, which has messages and callback queries) lets kind through.
func allowed(raw, kind string) bool {
	if raw == "" {
		return true
	}
	var kinds []string
	if err := json.Unmarshal([]byte(raw), &kinds); err != nil || len(kinds) == 0 {
		return true
	}
	return slices.Contains(kinds, kind)
}
