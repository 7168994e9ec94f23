package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-telegram/bot/models"
)

// callback is one callback query the server pushed.
type callback struct {
	fromID   int64
	answered bool
	text     string
}

// checkInlineKeyboard reads a reply_markup as Telegram does for an inline
// keyboard: a JSON object with inline_keyboard, rows of buttons, each with
// a text and exactly one action; callback_data 1–64 bytes.
func checkInlineKeyboard(raw string) ([][]models.InlineKeyboardButton, error) {
	var m struct {
		InlineKeyboard [][]models.InlineKeyboardButton `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("can't parse reply keyboard markup JSON object")
	}
	if len(m.InlineKeyboard) == 0 {
		return nil, errors.New("inline keyboard expected")
	}
	for _, row := range m.InlineKeyboard {
		if len(row) == 0 || len(row) > 8 {
			return nil, errors.New("BUTTON_DATA_INVALID")
		}
		for _, b := range row {
			switch {
			case b.Text == "":
				return nil, errors.New("text buttons are unallowed in the inline keyboard")
			case b.URL == "" && (len(b.CallbackData) == 0 || len(b.CallbackData) > 64):
				return nil, errors.New("BUTTON_DATA_INVALID")
			}
		}
	}
	return m.InlineKeyboard, nil
}

// PushCallback queues an update in which user fromID pressed the inline
// button with data under message messageID of chat (the button must be
// there: anything else fails the test). It returns the callback query id.
func (s *Server) PushCallback(fromID int64, chat string, messageID int, data string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msg *Message
	for i := range s.messages {
		if s.messages[i].ID == messageID && s.messages[i].Chat == chat {
			msg = &s.messages[i]
		}
	}
	found := false
	if msg != nil {
		for _, row := range msg.Buttons {
			for _, b := range row {
				found = found || b.CallbackData == data
			}
		}
	}
	if !found {
		s.t.Errorf("telegramtest: PushCallback: message %d in %s has no button %q", messageID, chat, data)
		return ""
	}
	if s.callbacks == nil {
		s.callbacks = map[string]*callback{}
	}
	id := s.nextUpdate
	s.nextUpdate++
	qid := "cq" + strconv.FormatInt(id, 10)
	s.callbacks[qid] = &callback{fromID: fromID}
	chatID, _ := strconv.ParseInt(chat, 10, 64)
	s.updates = append(s.updates, models.Update{
		ID: id,
		CallbackQuery: &models.CallbackQuery{
			ID:   qid,
			From: models.User{ID: fromID, FirstName: "admin"},
			Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &models.Message{
				ID: msg.ID, Date: int(msg.At.Unix()), Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate}, Text: msg.Visible,
			}},
			ChatInstance: "ci-" + chat,
			Data:         data,
		},
	})
	close(s.updated)
	s.updated = make(chan struct{})
	return qid
}

// CallbackAnswer reports whether the bot answered callback query id, and
// the text it showed.
func (s *Server) CallbackAnswer(id string) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.callbacks[id]
	if c == nil {
		return false, ""
	}
	return c.answered, c.text
}

// answerCallback serves answerCallbackQuery: the id must be one pushed and
// not answered yet (Telegram: "query is too old … or query ID is invalid").
func (s *Server) answerCallback(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("callback_query_id")
	s.mu.Lock()
	c := s.callbacks[id]
	ok := c != nil && !c.answered
	if ok {
		c.answered, c.text = true, r.FormValue("text")
	}
	s.mu.Unlock()
	if !ok {
		s.writeError(w, apiError{code: 400, description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
		return
	}
	if len([]rune(r.FormValue("text"))) > 200 {
		s.t.Errorf("telegramtest: answerCallbackQuery text longer than 200 characters")
	}
	s.writeResult(w, true)
}
