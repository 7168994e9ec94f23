package telegramtest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-telegram/bot/models"
)

// Edit is one message edit the server accepted (editMessageText or
// editMessageCaption).
type Edit struct {
	MessageID int
	Method    string // editMessageText | editMessageCaption (lower case)
	Chat      string
	Text      string // the new text or caption as sent
	Visible   string
	At        time.Time
}

// Edits returns the edits accepted for chat ("" = every chat), in order.
func (s *Server) Edits(chat string) []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Edit
	for _, e := range s.edits {
		if chat == "" || e.Chat == chat {
			out = append(out, e)
		}
	}
	return out
}

// Telegram's answers to edits that cannot be done.
const (
	descNotFound    = "Bad Request: message to edit not found"
	descNoText      = "Bad Request: there is no text in the message to edit"
	descNoCaption   = "Bad Request: there is no caption in the message to edit"
	descNotModified = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current content and reply markup of the message"
)

// edit serves editMessageText and editMessageCaption like Telegram: the
// message must exist in that chat and be of the right kind (text for
// editMessageText, a photo for editMessageCaption), the new text must be
// valid and different; edits are paced like sends (the chat's rules and
// MinInterval apply).
func (s *Server) edit(w http.ResponseWriter, r *http.Request, method string, down bool, now time.Time) {
	chat := r.FormValue("chat_id")
	if !s.chatID.MatchString(chat) {
		s.t.Errorf("telegramtest: %s: malformed chat_id %q", method, chat)
		s.writeError(w, apiError{code: 400, description: "Bad Request: chat not found"})
		return
	}
	id, err := strconv.Atoi(r.FormValue("message_id"))
	if err != nil || id <= 0 {
		s.t.Errorf("telegramtest: %s: malformed message_id %q", method, r.FormValue("message_id"))
		s.writeError(w, apiError{code: 400, description: "Bad Request: message identifier is not specified"})
		return
	}
	s.mu.Lock()
	rule := s.rule(chat)
	if rule.blockedTill.After(now) {
		s.t.Errorf("telegramtest: %s to %s at %s while its retry_after runs until %s",
			method, chat, now.Format("15:04:05.000"), rule.blockedTill.Format("15:04:05.000"))
	}
	if s.opts.MinInterval > 0 { // the same pace bucket as sends
		if rule.lastRequest.IsZero() {
			rule.credit = paceBurst
		} else {
			rule.credit = min(paceBurst, rule.credit+float64(now.Sub(rule.lastRequest))/float64(s.opts.MinInterval))
		}
		if rule.credit < 1 {
			s.t.Errorf("telegramtest: %s to %s %v after the previous request: faster than one per %v", method, chat, now.Sub(rule.lastRequest), s.opts.MinInterval)
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
	case len(rule.rateLimit) > 0:
		ra := rule.rateLimit[0]
		rule.rateLimit = rule.rateLimit[1:]
		rule.blockedTill = now.Add(time.Duration(ra) * time.Second)
		fail = &apiError{code: 429, description: "Too Many Requests: retry after " + strconv.Itoa(ra), retryAfter: ra}
	}
	idx := -1
	for i, m := range s.messages {
		if m.ID == id && m.Chat == chat {
			idx = i
		}
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
	if idx < 0 {
		s.writeError(w, apiError{code: 400, description: descNotFound})
		return
	}
	parseMode := r.FormValue("parse_mode")
	var text string
	s.mu.Lock()
	orig := s.messages[idx]
	s.mu.Unlock()
	if method == "editmessagetext" {
		if orig.Method == "sendphoto" {
			s.writeError(w, apiError{code: 400, description: descNoText})
			return
		}
		text = r.FormValue("text")
		err = CheckMessage(text, parseMode)
	} else {
		if orig.Method != "sendphoto" {
			s.writeError(w, apiError{code: 400, description: descNoCaption})
			return
		}
		text = r.FormValue("caption")
		err = CheckCaption(text, parseMode)
	}
	if err != nil {
		s.writeError(w, apiError{code: 400, description: "Bad Request: " + err.Error()})
		return
	}
	visible := text
	if parseMode == "HTML" {
		visible, _ = ParseHTML(text)
	}
	if visible == orig.Visible {
		s.writeError(w, apiError{code: 400, description: descNotModified})
		return
	}
	s.mu.Lock()
	s.messages[idx].Text, s.messages[idx].Visible, s.messages[idx].ParseMode = text, visible, parseMode
	s.edits = append(s.edits, Edit{MessageID: id, Method: method, Chat: chat, Text: text, Visible: visible, At: now})
	s.mu.Unlock()
	s.writeResult(w, models.Message{ID: id, Date: int(orig.At.Unix()), EditDate: int(now.Unix()), Text: visible})
}
