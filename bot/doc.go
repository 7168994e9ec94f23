// Package bot pushes summaries of ready posts to Telegram channels and
// answers admin commands, on github.com/go-telegram/bot.
//
//   - Format renders an item as Telegram HTML within Telegram's limits.
//   - Route chooses the channels an item goes to.
//   - Sender works through the durable delivery outbox with per-chat pacing,
//     429/backoff handling and pausing of channels the bot lost (see its doc
//     comment and README.md for the delivery guarantee).
//   - Admin answers /status, /sources, /poll, /pause, /resume and /retry to
//     the configured admins only.
//   - Bot wraps the Bot API client: no request in NewBot, Check for the token,
//     classified errors (*APIError), the token never in errors or logs.
package bot
