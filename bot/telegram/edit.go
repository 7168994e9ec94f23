package telegram

import (
	"context"
	"errors"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// EditMessage replaces the text (caption false: editMessageText) or the
// caption (caption true: editMessageCaption) of a message the bot sent to
// chat. Errors are *APIError; EditNotModified, EditWrongKind and EditGone
// classify the answers particular to edits.
func (b *Client) EditMessage(ctx context.Context, chat string, messageID int64, text string, caption bool) error {
	chatID := chatParam(chat)
	if caption {
		_, err := b.tg.EditMessageCaption(ctx, &tgbot.EditMessageCaptionParams{
			ChatID: chatID, MessageID: int(messageID), Caption: text, ParseMode: models.ParseModeHTML,
		})
		return b.classify("editMessageCaption", err)
	}
	_, err := b.tg.EditMessageText(ctx, &tgbot.EditMessageTextParams{
		ChatID: chatID, MessageID: int(messageID), Text: text, ParseMode: models.ParseModeHTML,
	})
	return b.classify("editMessageText", err)
}

func editDescription(err error) string {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Kind != KindBadRequest {
		return ""
	}
	return strings.ToLower(ae.Description)
}

// EditNotModified: the message already says exactly that (nothing to do).
func EditNotModified(err error) bool {
	return strings.Contains(editDescription(err), "message is not modified")
}

// EditWrongKind: the message is a photo and the text was edited, or the
// other way round (sent with the other form, e.g. after a photo fallback).
func EditWrongKind(err error) bool {
	d := editDescription(err)
	return strings.Contains(d, "there is no text in the message to edit") ||
		strings.Contains(d, "there is no caption in the message to edit")
}

// EditGone: the message can no longer be edited (deleted, or too old).
func EditGone(err error) bool {
	d := editDescription(err)
	return strings.Contains(d, "message to edit not found") || strings.Contains(d, "message can't be edited")
}
