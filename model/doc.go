// Package model is the post and its lifecycle: the types every stage of
// transfeed passes around (Item, Translation, Delivery, …), the typed states
// they move through, and the one rule for what English a post shows
// (EnglishOf). It imports nothing of the module, so translation providers,
// the Telegram notifier and the feed renderers can depend on it without
// linking the store's database drivers.
package model
