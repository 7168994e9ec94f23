package telegram

import (
	"context"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Button is one inline keyboard button: its label and callback data.
type Button struct {
	Text, Data string
}

// SendWithButtons sends an HTML message with one row of inline buttons to
// a private chat and returns its message id. Errors are *APIError.
func (b *Client) SendWithButtons(ctx context.Context, chatID int64, text string, buttons []Button) (int64, error) {
	row := make([]models.InlineKeyboardButton, len(buttons))
	for i, bt := range buttons {
		row[i] = models.InlineKeyboardButton{Text: bt.Text, CallbackData: bt.Data}
	}
	msg, err := b.tg.SendMessage(ctx, &tgbot.SendMessageParams{
		ChatID:      chatID,
		Text:        text,
		ParseMode:   models.ParseModeHTML,
		ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}},
	})
	if err != nil {
		return 0, b.classify("sendMessage", err)
	}
	return int64(msg.ID), nil
}

// AnswerCallback answers a callback query (the button press) with a short
// notice shown to the user.
func (b *Client) AnswerCallback(ctx context.Context, id, text string) error {
	_, err := b.tg.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text})
	return b.classify("answerCallbackQuery", err)
}
