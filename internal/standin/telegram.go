package standin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/transfeed/transfeed/bot/telegramtest"
	"github.com/transfeed/transfeed/internal/tghtml"
)

// telegram is the Bot API stand-in.
type telegram struct {
	s       *Server
	chatID  *regexp.Regexp
	command *regexp.Regexp
	postURL *regexp.Regexp

	mu         sync.Mutex
	chats      map[string]*ChatStats
	seen       map[string]map[string]int // chat → post URL → deliveries
	messages   []Delivered
	methods    map[string]int
	nextID     int
	duplicates int
	rejected   int
	malformed  int
	down       int
	conflicts  int
	poller     chan struct{} // closed to end the current getUpdates
	commands   int
}

type ChatStats struct {
	Messages             int `json:"messages"`
	Requests             int `json:"requests"`
	RateLimited          int `json:"rate_limited"`
	PacingViolations     int `json:"pacing_violations"`
	RetryAfterViolations int `json:"retry_after_violations"`
	Rejected             int `json:"rejected"`
	Duplicates           int `json:"duplicates"`

	lastRequest time.Time
	blockedTill time.Time
}

// Delivered is one message the Bot API stand-in accepted.
type Delivered struct {
	ID        int       `json:"message_id"`
	Chat      string    `json:"chat"`
	Thread    int       `json:"thread,omitempty"`
	Method    string    `json:"method"`          // sendMessage | sendPhoto | sendMediaGroup
	URL       string    `json:"url,omitempty"`   // the {base}/posts/{id} link found in the text
	Hash      string    `json:"sha256"`          // of the text (or caption)
	Text      string    `json:"text"`            // the visible text (or caption)
	Photo     string    `json:"photo,omitempty"` // sendPhoto's photo, sendMediaGroup's first
	Media     int       `json:"media,omitempty"` // sendMediaGroup's items
	Duplicate bool      `json:"duplicate"`       // URL already delivered to this chat
	At        time.Time `json:"time"`
}

func newTelegram(s *Server) *telegram {
	return &telegram{
		s:       s,
		chatID:  regexp.MustCompile(`^(-?[0-9]{1,16}|@[A-Za-z][A-Za-z0-9_]{3,31})$`),
		command: regexp.MustCompile(`^[a-z0-9_]{1,32}$`),
		postURL: regexp.MustCompile(`href="([^"]*/posts/[0-9]+)"`),
		chats:   map[string]*ChatStats{},
		seen:    map[string]map[string]int{},
		methods: map[string]int{},
		nextID:  1,
	}
}

func (t *telegram) chat(id string) *ChatStats {
	c, ok := t.chats[id]
	if !ok {
		c = &ChatStats{}
		t.chats[id] = c
	}
	return c
}

type tgError struct {
	code        int
	description string
	retryAfter  int
}

func writeTG(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeTGError(w http.ResponseWriter, e tgError) {
	body := map[string]any{"ok": false, "error_code": e.code, "description": e.description}
	if e.retryAfter > 0 {
		body["parameters"] = map[string]any{"retry_after": e.retryAfter}
	}
	writeTG(w, e.code, body)
}

func writeTGResult(w http.ResponseWriter, result any) {
	writeTG(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

// nginx502 is what Telegram's front end answers while the Bot API is down.
const nginx502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"

func write502(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, nginx502)
}

// isDown reports whether now falls in the -tg-down-from/-tg-down-for window.
func (t *telegram) isDown(now time.Time) bool {
	o := t.s.opts
	if o.TgDownFor <= 0 {
		return false
	}
	from := t.s.start.Add(o.TgDownFrom)
	return !now.Before(from) && now.Before(from.Add(o.TgDownFor))
}

func (t *telegram) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+t.s.opts.TgToken+"/")
	if !ok || method == "" || strings.Contains(method, "/") {
		if ok {
			writeTGError(w, tgError{code: 404, description: "Not Found"})
			return
		}
		writeTGError(w, tgError{code: 401, description: "Unauthorized"})
		return
	}
	method = strings.ToLower(method)
	if err := parseForm(r); err != nil {
		t.mu.Lock()
		t.malformed++
		t.mu.Unlock()
		t.s.logger.Warn("standin: malformed Bot API request", "method", method, "error", err)
		writeTGError(w, tgError{code: 400, description: "Bad Request: " + err.Error()})
		return
	}
	now := t.s.now()
	down := t.isDown(now)
	t.mu.Lock()
	t.methods[method]++
	if down {
		t.down++
	}
	t.mu.Unlock()

	switch method {
	case "getme", "deletewebhook", "setmycommands", "sendmessage", "sendphoto", "sendmediagroup", "getupdates":
	default:
		writeTGError(w, tgError{code: 404, description: "Not Found: method not found"})
		return
	}
	if down {
		write502(w)
		return
	}
	switch method {
	case "getme":
		writeTGResult(w, models.User{ID: 123, IsBot: true, FirstName: "transfeed", Username: "transfeed_standin_bot"})
	case "deletewebhook":
		writeTGResult(w, true)
	case "setmycommands":
		t.setMyCommands(w, r)
	case "getupdates":
		t.getUpdates(w, r)
	default:
		t.send(w, r, method, now)
	}
}

// parseForm reads multipart/form-data as go-telegram/bot sends it (a body
// with no parts for methods without parameters), or a urlencoded form.
func parseForm(r *http.Request) error {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return fmt.Errorf("method %s not allowed", r.Method)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method == http.MethodGet || r.Header.Get("Content-Type") == "" {
		return r.ParseForm()
	}
	if err != nil {
		return fmt.Errorf("bad content type: %w", err)
	}
	switch ct {
	case "multipart/form-data":
		err := r.ParseMultipartForm(1 << 20)
		if errors.Is(err, io.EOF) {
			r.MultipartForm = &multipart.Form{Value: map[string][]string{}, File: map[string][]*multipart.FileHeader{}}
			return nil
		}
		if err != nil {
			return fmt.Errorf("malformed multipart body: %w", err)
		}
		return nil
	case "application/x-www-form-urlencoded":
		return r.ParseForm()
	}
	return fmt.Errorf("unsupported content type %q", ct)
}

func (t *telegram) setMyCommands(w http.ResponseWriter, r *http.Request) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(r.FormValue("commands")), &cmds); err != nil {
		writeTGError(w, tgError{code: 400, description: "Bad Request: can't parse commands JSON object"})
		return
	}
	for _, c := range cmds {
		if !t.command.MatchString(c.Command) || c.Description == "" || len([]rune(c.Description)) > 256 {
			writeTGError(w, tgError{code: 400, description: "Bad Request: BOT_COMMAND_INVALID"})
			return
		}
	}
	t.mu.Lock()
	t.commands = len(cmds)
	t.mu.Unlock()
	writeTGResult(w, true)
}

// getUpdates long-polls: it answers [] when the request's timeout (capped at
// TgMaxUpdate) runs out or the request ends. A second concurrent poller ends
// the first with 409 Conflict, as Telegram does.
func (t *telegram) getUpdates(w http.ResponseWriter, r *http.Request) {
	timeout, _ := strconv.Atoi(r.FormValue("timeout"))
	wait := min(time.Duration(max(timeout, 0))*time.Second, t.s.opts.TgMaxUpdate)
	mine := make(chan struct{})
	t.mu.Lock()
	if t.poller != nil {
		close(t.poller)
		t.conflicts++
	}
	t.poller = mine
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.poller == mine {
			t.poller = nil
		}
		t.mu.Unlock()
	}()
	tm := time.NewTimer(wait)
	defer tm.Stop()
	select {
	case <-tm.C:
		writeTGResult(w, []models.Update{})
	case <-mine:
		writeTGError(w, tgError{code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})
	case <-r.Context().Done():
	}
}

func (t *telegram) send(w http.ResponseWriter, r *http.Request, method string, now time.Time) {
	chat := r.FormValue("chat_id")
	if !t.chatID.MatchString(chat) {
		t.mu.Lock()
		t.rejected++
		t.mu.Unlock()
		writeTGError(w, tgError{code: 400, description: "Bad Request: chat not found"})
		return
	}
	thread := 0
	if v := r.FormValue("message_thread_id"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeTGError(w, tgError{code: 400, description: "Bad Request: message thread not found"})
			return
		}
		thread = n
	}
	o := t.s.opts

	t.mu.Lock()
	c := t.chat(chat)
	c.Requests++
	if now.Before(c.blockedTill) {
		c.RetryAfterViolations++
		left := int(math.Ceil(c.blockedTill.Sub(now).Seconds()))
		t.mu.Unlock()
		writeTGError(w, tgError{code: 429, description: fmt.Sprintf("Too Many Requests: retry after %d", left), retryAfter: left})
		return
	}
	// 10% slack: the client's own pacing is measured at its end, ours here.
	if !c.lastRequest.IsZero() && now.Sub(c.lastRequest) < o.TgMinGap*9/10 {
		c.PacingViolations++
	}
	c.lastRequest = now
	if t.s.chance(o.Tg429Rate) {
		c.RateLimited++
		c.blockedTill = now.Add(time.Second)
		t.mu.Unlock()
		writeTGError(w, tgError{code: 429, description: "Too Many Requests: retry after 1", retryAfter: 1})
		return
	}
	t.mu.Unlock()

	parseMode := r.FormValue("parse_mode")
	d := Delivered{Chat: chat, Thread: thread, At: now, Method: "sendMessage"}
	var text string
	var err error
	switch method {
	case "sendphoto":
		d.Method = "sendPhoto"
		d.Photo = r.FormValue("photo")
		text = r.FormValue("caption")
		if d.Photo == "" {
			err = errors.New("there is no photo in the request")
		} else {
			err = telegramtest.CheckCaption(text, parseMode)
		}
	case "sendmediagroup":
		d.Method = "sendMediaGroup"
		files := map[string]bool{}
		if r.MultipartForm != nil {
			for name := range r.MultipartForm.File {
				files[name] = true
			}
		}
		var items []tghtml.InputMedia
		if items, err = tghtml.CheckMediaGroup(r.FormValue("media"), files); err == nil {
			d.Photo, d.Media = items[0].Media, len(items)
			text, parseMode = items[0].Caption, items[0].ParseMode
		}
	default:
		text = r.FormValue("text")
		err = telegramtest.CheckMessage(text, parseMode)
		if err == nil {
			_, err = tghtml.CheckLinkPreview(r.FormValue("link_preview_options"))
		}
	}
	if err != nil {
		t.mu.Lock()
		t.rejected++
		t.chat(chat).Rejected++
		t.mu.Unlock()
		writeTGError(w, tgError{code: 400, description: "Bad Request: " + err.Error()})
		return
	}
	sum := sha256.Sum256([]byte(text))
	d.Hash = hex.EncodeToString(sum[:])
	if m := t.postURL.FindStringSubmatch(text); m != nil {
		d.URL = m[1]
	}
	visible := text
	if parseMode == "HTML" {
		visible, _ = telegramtest.ParseHTML(text)
	}
	d.Text = visible

	t.mu.Lock()
	d.ID = t.nextID
	t.nextID += max(1, d.Media)
	c = t.chat(chat)
	c.Messages++
	if d.URL != "" {
		seen := t.seen[chat]
		if seen == nil {
			seen = map[string]int{}
			t.seen[chat] = seen
		}
		if seen[d.URL] > 0 {
			d.Duplicate = true
			t.duplicates++
			c.Duplicates++
		}
		seen[d.URL]++
	}
	t.messages = append(t.messages, d)
	if o.TgLog != nil {
		if line, err := json.Marshal(d); err == nil {
			o.TgLog(append(line, '\n'))
		}
	}
	t.mu.Unlock()

	chatID, perr := strconv.ParseInt(chat, 10, 64)
	chatType := models.ChatTypeChannel
	if perr == nil && chatID > 0 {
		chatType = models.ChatTypePrivate
	}
	if perr != nil {
		chatID = -1001000000000 - int64(len(chat))
	}
	msg := models.Message{
		ID:              d.ID,
		MessageThreadID: thread,
		Date:            int(now.Unix()),
		Chat:            models.Chat{ID: chatID, Type: chatType},
		Text:            visible,
	}
	if d.Media == 0 {
		writeTGResult(w, msg)
		return
	}
	// An album is one message per item, the caption on the first.
	album := make([]models.Message, d.Media)
	for i := range album {
		album[i] = msg
		album[i].ID = d.ID + i
		album[i].MediaGroupID = "album-" + strconv.Itoa(d.ID)
		if i > 0 {
			album[i].Text = ""
		}
	}
	writeTGResult(w, album)
}
