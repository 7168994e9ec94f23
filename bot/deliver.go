package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/transfeed/transfeed/model"
)

// step is where one delivery stands after a stage of deliver.
type step int

const (
	// settled: recorded, put back for later, or left to its lease when the
	// outcome of a cancelled request is unknown. The lane is done with it.
	settled step = iota
	// abandoned: ctx was cancelled before anything was sent; the caller
	// hands the delivery back to the store.
	abandoned
	// again: send once more (plain form, or the destination's new address).
	again
)

// maxAttempts bounds the requests for one delivery: a plain-form retry and
// a move may each need one more.
const maxAttempts = 4

// deliver sends one delivery and records the outcome. It returns false
// only when ctx was cancelled before anything was sent: the caller then
// hands the delivery back to the store.
func (s *Sender) deliver(ctx context.Context, l *lane, j *job) bool {
	p, st := s.prepare(ctx, l, j)
	for range maxAttempts {
		if st != again {
			return st != abandoned
		}
		st = s.attempt(ctx, l, j, &p)
	}
	if st != again {
		return st != abandoned
	}
	s.retryLater(ctx, l, j, "too many redirections (plain form, moved destination)")
	return true
}

// prepare reads the channel's state and the post. It hands the delivery
// back while the channel is paused, waits out a retry_after or backoff the
// lease covers (and hands it back otherwise), and fails a delivery whose
// post is gone.
func (s *Sender) prepare(ctx context.Context, l *lane, j *job) (Post, step) {
	d := j.d
	log := s.logger.With(slog.String("channel", l.key), slog.Int64("delivery", d.ID), slog.Int64("item", d.ItemID))
	state, err := s.st.GetChannelState(ctx, l.key)
	if err != nil {
		if ctx.Err() != nil {
			return Post{}, abandoned
		}
		log.Warn("read channel state", slog.Any("error", err))
		s.retryLater(ctx, l, j, "store: "+err.Error())
		return Post{}, settled
	}
	if state.Paused {
		// Paused by an admin or a lost destination: hand it back; the store
		// keeps it pending and does not offer it until it is resumed.
		s.release(ctx, j, time.Now())
		return Post{}, settled
	}
	if wait := maxTime(state.PausedUntil, l.backoffUntil); time.Until(wait) > 0 {
		if !s.leaseCovers(j, wait) {
			s.release(ctx, j, wait)
			return Post{}, settled
		}
		if Sleep(ctx, time.Until(wait)) != nil {
			return Post{}, abandoned
		}
	}
	it, err := s.st.GetItem(ctx, d.ItemID)
	if errors.Is(err, model.ErrNotFound) {
		s.fail(ctx, l, d, "the item no longer exists")
		return Post{}, settled
	}
	if err != nil {
		if ctx.Err() != nil {
			return Post{}, abandoned
		}
		log.Warn("read item", slog.Any("error", err))
		s.retryLater(ctx, l, j, "store: "+err.Error())
		return Post{}, settled
	}
	p := Post{Channel: l.ch, Address: l.ch.Address, Item: it}
	if state.ChatID != "" {
		p.Address = state.ChatID
	}
	return p, again
}

// attempt paces, takes the destination's shared send slot, checks the
// lease, hands p to the Notifier and records what came of it.
func (s *Sender) attempt(ctx context.Context, l *lane, j *job, p *Post) step {
	d := j.d
	log := s.logger.With(slog.String("channel", l.key), slog.Int64("delivery", d.ID), slog.Int64("item", d.ItemID))
	if err := s.pace(ctx, l); err != nil {
		return abandoned
	}
	reserved, err := s.reserveSlot(ctx, l, j, p.Address)
	if err != nil {
		if ctx.Err() != nil {
			return abandoned
		}
		log.Warn("reserve the destination's send slot", slog.Any("error", err))
		s.retryLater(ctx, l, j, err.Error())
		return settled
	}
	if !reserved {
		return settled // handed back: other instances keep the destination busy beyond the lease
	}
	if until, ok := s.leaseOK(j); !ok {
		log.Debug("lease too short to send; handed back")
		s.noteDeferred(until)
		s.release(ctx, j, time.Now())
		return settled
	}
	msgID, err := s.notifier.Notify(ctx, *p)
	if err == nil {
		now := time.Now()
		s.record(ctx, "mark sent", d.ID, func(ctx context.Context) error {
			return s.st.MarkDelivered(ctx, d.ID, msgID, now)
		})
		s.sent.Add(1)
		s.metrics.incSent(l.key)
		l.failures, l.backoffUntil = 0, time.Time{}
		log.Debug("delivered", slog.Int64("message_id", msgID))
		return settled
	}
	return s.failed(ctx, l, j, p, classify(err), log)
}

// failed acts on a classified Notify failure.
func (s *Sender) failed(ctx context.Context, l *lane, j *job, p *Post, e *Error, log *slog.Logger) step {
	d := j.d
	if ctx.Err() != nil && e.Kind == KindTransient {
		return settled // shutting down mid-request: the outcome is unknown; the lease runs out and it is sent again
	}
	switch e.Kind {
	case KindTryPlain:
		if p.Plain {
			s.fail(ctx, l, d, e.Reason)
			return settled
		}
		log.Info("rich form refused; sending the plain form", slog.String("reason", e.Reason))
		p.Plain = true
		return again
	case KindPermanent:
		s.fail(ctx, l, d, e.Reason)
		return settled
	case KindMoved:
		if e.MovedTo == "" || e.MovedTo == p.Address {
			break // nowhere new to go: retried like a transient failure
		}
		log.Info("destination moved", slog.String("address", p.Address), slog.String("new_address", e.MovedTo))
		p.Address = e.MovedTo
		s.updateState(ctx, l.key, func(st *model.ChannelState) { st.ChatID = e.MovedTo })
		return again
	case KindRateLimited:
		until := time.Now().Add(e.RetryAfter)
		log.Warn("rate limited; pausing the channel", slog.Duration("retry_after", e.RetryAfter))
		s.metrics.incRateLimited(l.key)
		s.metrics.incRetried(l.key)
		s.updateState(ctx, l.key, func(st *model.ChannelState) { st.PausedUntil = until })
		s.noteDeferred(until)
		s.done(j)
		s.record(ctx, "retry", d.ID, func(ctx context.Context) error {
			return s.st.MarkDeliveryRetry(ctx, d.ID, e.Reason, until)
		})
		s.releaseLane(ctx, l, until)
		return settled
	case KindGone:
		s.fail(ctx, l, d, e.Reason)
		s.pauseChannel(ctx, l, e.Reason)
		return settled
	}
	log.Warn("send failed; will retry", slog.String("kind", e.Kind.String()), slog.Any("error", e))
	s.retryLater(ctx, l, j, e.Reason)
	return settled
}

// record runs a store update that must happen even when ctx is being
// cancelled (it records what the destination already did), with a few
// retries.
func (s *Sender) record(ctx context.Context, what string, id int64, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for attempt := range 3 {
		if err = f(ctx); err == nil {
			return
		}
		if Sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond) != nil {
			break
		}
	}
	s.logger.Error("record delivery outcome", slog.String("what", what), slog.Int64("delivery", id), slog.Any("error", err))
}

// pace waits for the global limiter, then for the lane's own limiters
// (reserved last, so waiting for the global one does not eat into the
// lane's gap). The gap is also measured from the previous actual send, so a send
// that started late does not let the next one follow it too closely.
func (s *Sender) pace(ctx context.Context, l *lane) error {
	if err := s.global.Wait(ctx); err != nil {
		return err
	}
	now := time.Now()
	var delay time.Duration
	for _, lim := range l.limits {
		delay = max(delay, lim.ReserveN(now, 1).DelayFrom(now))
	}
	if !l.lastSent.IsZero() {
		delay = max(delay, l.lastSent.Add(l.every).Sub(now))
	}
	if err := Sleep(ctx, delay); err != nil {
		return err
	}
	l.lastSent = time.Now()
	return nil
}

// pacingKeyPrefix marks a destination's row in the store's shared pacing
// table ("chat:" since the rows were Telegram chats; kept so instances of
// both versions share the slots).
const pacingKeyPrefix = "chat:"

// slotSlack is how late, at most, a send may start in its slot: a store
// that answered ReserveSend slower than this (a busy database) has used up
// so much of the slot that another instance's next send, due when the slot
// ends, would follow this one too closely. Such a slot is let lapse once
// and a fresh one taken.
func slotSlack(every time.Duration) time.Duration { return max(every/8, 25*time.Millisecond) }

// reserveSlot takes the destination's send slot in the store, which every
// instance sharing the database uses, so its pace holds across instances
// (the in-process limiters of pace keep it within this one). The gap is the
// lane's slowest pace (Telegram: 1 s a private chat, 3 s a group: 20 a
// minute). While another instance holds the slot it waits, as long as j's
// lease covers the wait; otherwise it hands j back, due when the slot
// frees, and reports false. It is keyed by address, not channel, so two
// topics of one chat share the chat's pace.
func (s *Sender) reserveSlot(ctx context.Context, l *lane, j *job, address string) (bool, error) {
	lapsed := false
	for {
		asked := time.Now()
		ok, wait, err := s.st.ReserveSend(ctx, pacingKeyPrefix+address, asked, l.every)
		if err != nil {
			return false, fmt.Errorf("bot: %w", err)
		}
		if ok {
			late := time.Since(asked)
			if late <= slotSlack(l.every) || lapsed {
				l.lastSent = time.Now()
				return true, nil
			}
			lapsed = true
			wait = l.every - late // the slot is ours until then; let it lapse
		}
		next := time.Now().Add(wait)
		if !s.leaseCovers(j, next) {
			s.noteDeferred(next)
			s.release(ctx, j, next)
			return false, nil
		}
		if err := Sleep(ctx, wait); err != nil {
			return false, err
		}
	}
}

// release hands a claimed delivery back untried, due at next. The job
// leaves the in-flight set first (see done).
func (s *Sender) release(ctx context.Context, j *job, next time.Time) {
	s.done(j)
	s.record(ctx, "release", j.d.ID, func(ctx context.Context) error {
		return s.st.ReleaseDelivery(ctx, j.d.ID, next)
	})
}

// retryLater backs the lane off exponentially and puts the delivery back.
// The job leaves the in-flight set first (see done).
func (s *Sender) retryLater(ctx context.Context, l *lane, j *job, reason string) {
	d := j.d
	l.failures++
	delay := s.opts.BackoffMin << min(l.failures-1, 16)
	if delay > s.opts.BackoffMax || delay <= 0 {
		delay = s.opts.BackoffMax
	}
	next := time.Now().Add(delay)
	l.backoffUntil = next
	s.metrics.incRetried(l.key)
	s.done(j)
	s.record(ctx, "retry", d.ID, func(ctx context.Context) error {
		return s.st.MarkDeliveryRetry(ctx, d.ID, reason, next)
	})
}

func (s *Sender) fail(ctx context.Context, l *lane, d model.Delivery, reason string) {
	s.logger.Warn("delivery failed", slog.String("channel", l.key), slog.Int64("delivery", d.ID), slog.String("reason", reason))
	s.metrics.incFailed(l.key)
	s.record(ctx, "mark failed", d.ID, func(ctx context.Context) error {
		return s.st.MarkDeliveryFailed(ctx, d.ID, reason)
	})
}

// pauseChannel pauses a channel whose destination is gone, and tells the
// admins once per pause (AlertedAt; resuming clears it).
func (s *Sender) pauseChannel(ctx context.Context, l *lane, reason string) {
	s.updateState(ctx, l.key, func(st *model.ChannelState) {
		st.Paused = true
		st.Reason = reason
		if st.AlertedAt.IsZero() && s.alerter != nil {
			text := fmt.Sprintf("transfeed: channel %s is paused: %s\nFix the bot's access, then send /resume %s (and /retry to resend the failed post).", l.key, reason, l.key)
			if err := s.alerter.AlertAdmins(context.WithoutCancel(ctx), text); err != nil {
				s.logger.Warn("alert admins", slog.Any("error", err))
			} else {
				st.AlertedAt = time.Now()
			}
		}
	})
	s.logger.Error("channel paused", slog.String("channel", l.key), slog.String("reason", reason))
	s.releaseLane(ctx, l, time.Now())
}

// releaseLane empties the lane's queue, handing the deliveries back to the
// store due at next without counting an attempt (they were not tried); a
// paused channel's are not offered until /resume.
func (s *Sender) releaseLane(ctx context.Context, l *lane, next time.Time) {
	s.mu.Lock()
	jobs := l.queue
	l.queue = nil
	s.mu.Unlock()
	for _, j := range jobs {
		s.release(ctx, j, next)
	}
}

// updateState applies f to the channel's stored state.
func (s *Sender) updateState(ctx context.Context, key string, f func(*model.ChannelState)) {
	s.record(ctx, "channel state", 0, func(ctx context.Context) error {
		st, err := s.st.GetChannelState(ctx, key)
		if err != nil {
			return err
		}
		st.Channel = key
		f(&st)
		return s.st.SetChannelState(ctx, st)
	})
}

func (s *Sender) noteDeferred(t time.Time) {
	if time.Until(t) > onceMaxWait {
		return
	}
	s.mu.Lock()
	s.deferredUntil = maxTime(s.deferredUntil, t)
	s.mu.Unlock()
}

// leaseCovers reports whether j's lease lasts past t plus the margin.
func (s *Sender) leaseCovers(j *job, t time.Time) bool {
	s.mu.Lock()
	until := j.d.LeaseUntil
	s.mu.Unlock()
	return until.Sub(t) >= s.opts.LeaseMargin
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Sleep waits d or until ctx is done (ctx.Err() then).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
