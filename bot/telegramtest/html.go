package telegramtest

import "github.com/transfeed/transfeed/internal/tghtml"

// Telegram's limits, counted on the visible text (after entity parsing).
const (
	MaxTextLen    = tghtml.MaxTextLen    // sendMessage.text
	MaxCaptionLen = tghtml.MaxCaptionLen // sendPhoto.caption, sendMediaGroup captions
)

// ErrParse is wrapped by every error ParseHTML returns.
var ErrParse = tghtml.ErrParse

// ParseHTML parses s as Telegram HTML (parse_mode "HTML") the way the Bot API
// does, but stricter where Telegram is lenient (see tghtml.Parse, which the
// config loader and the notifier use too): it returns the visible text or an
// error for anything Telegram would refuse.
func ParseHTML(s string) (string, error) { return tghtml.Parse(s) }

// VisibleLen is the length Telegram checks against its limits: UTF-16 code
// units of the visible text (the safe reading of "characters").
func VisibleLen(visible string) int { return tghtml.VisibleLen(visible) }

// CheckMessage validates a message text (parseMode "HTML" or "") and its
// length: 1..MaxTextLen visible characters, not only whitespace.
func CheckMessage(text, parseMode string) error { return tghtml.CheckMessage(text, parseMode) }

// CheckCaption validates a photo caption: 0..MaxCaptionLen visible characters.
func CheckCaption(caption, parseMode string) error { return tghtml.CheckCaption(caption, parseMode) }
