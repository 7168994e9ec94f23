// Package bot is the delivery outbox: it pushes ready posts to their
// channels through a Notifier, whatever the network. bot/telegram is the
// Telegram notifier, its Bot API client and admin commands.
//
//   - Route chooses the channels an item goes to (Rule: sources, include,
//     exclude, backfill).
//   - Sender (New) works through the store's deliveries: claims with leases,
//     one lane per channel with its own pacing (Options.Rates, GlobalRate,
//     and a send slot in the store shared by every instance), exponential
//     backoff, retry_after, following a moved destination, retrying the plain
//     form of a refused post, pausing a lost channel and telling the admins
//     once (Alerter). See its doc comment and README.md for the delivery
//     guarantee.
//   - Notifier sends one post with one request and classifies a failure as
//     an *Error (Kind: transient, rate-limited, permanent, gone, moved,
//     try-plain).
//   - Store, and its five small views, are what the Sender calls on the
//     store.
//
// Nothing here knows Telegram or the config file: cmd/transfeed builds the
// Options from the config.
package bot
