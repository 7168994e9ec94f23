package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/transfeed/transfeed/server"
)

// Retry delays of the Telegram check while Telegram is unreachable.
const (
	telegramRetryFirst = 5 * time.Second
	telegramRetryMax   = 5 * time.Minute
)

// telegramHealth is the daemon's Telegram connection, shown on /status.
type telegramHealth struct {
	mu sync.Mutex
	st server.TelegramState
}

// TelegramState implements server.TelegramHealth.
func (h *telegramHealth) TelegramState() server.TelegramState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}

func (h *telegramHealth) set(up bool, reason string, now, next time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.st.Checked || h.st.Up != up {
		h.st.Since = now
	}
	h.st = server.TelegramState{Up: up, Checked: true, Reason: reason, Since: h.st.Since, NextTry: next}
}

// runTelegram checks the bot (getMe) until Telegram answers, then runs the
// sender and, with admins configured, the admin loop. While Telegram is
// unreachable or rejects the token it is marked down on /status and checked
// again with backoff; everything else keeps running, and posts wait in the
// outbox. It returns when ctx ends or a loop fails.
func runTelegram(ctx context.Context, a *app, h *telegramHealth) error {
	log := a.log.With(slog.String("component", "telegram"))
	delay := telegramRetryFirst
	for {
		err := a.tg.Check(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		now := time.Now()
		if err == nil {
			h.set(true, "", now, time.Time{})
			log.Info("telegram connected", slog.String("bot", a.tg.Username()))
			break
		}
		h.set(false, err.Error(), now, now.Add(delay))
		log.Warn("telegram unreachable; retrying, everything else runs", slog.Any("error", err), slog.Duration("retry_in", delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, telegramRetryMax)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sender, err := newSender(a)
	if err != nil {
		return err
	}
	editor, err := newEditor(a)
	if err != nil {
		return err
	}
	var admin interface{ Run(context.Context) error }
	if len(a.cfg.Telegram.Admins) > 0 {
		if admin, err = newAdmin(a); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	run := func(f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel(err)
			}
		})
	}
	run(sender.Run)
	run(editor.Run)
	if reviewing(a.cfg) {
		run(newReviewer(a).Run)
	}
	if admin != nil {
		run(admin.Run)
	}
	wg.Wait()
	return first
}
