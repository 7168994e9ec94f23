// Package telegram is transfeed's Telegram integration on
// github.com/go-telegram/bot.
//
//   - Client wraps the Bot API: no request in NewClient, Check for the
//     token, classified errors (*APIError), the token never in errors or
//     logs (Token redacts itself).
//   - Compose (and Format, its built-in form) renders an item as Telegram
//     HTML within Telegram's limits (only Telegram's tags; ≤ 4096 visible
//     characters, ≤ 1024 for a caption, counted in UTF-16 units), in the
//     channel's Style: its template (internal/tgtemplate), link preview and
//     summary (the Summarizer's, else the lead); one picture as a photo,
//     2–10 as an album, a labelled link for video and audio.
//   - Notifier is bot.Notifier for Telegram: an album, a photo or a text
//     message per post, and what each Bot API failure means for the outbox
//     (429, chat migration, pictures refused, kicked, chat not found…).
//   - Pacing is Telegram's send limits as bot.Options rates: 1 message/s per
//     chat, 20/min for groups and channels, 30/s overall.
//   - Admin answers /status, /sources, /poll, /pause, /resume and /retry to
//     telegram.admins only, long-polling from one instance at a time (a
//     leader lease in the store).
//
// bot/telegramtest is a strict fake Bot API for tests.
package telegram
