package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// Options tunes the Sender. Zero values take the defaults, which follow
// Telegram's published limits; tests shorten them.
type Options struct {
	ChatRate   rate.Limit    // per chat; default 1 message/s
	GroupRate  rate.Limit    // per group or channel, on top of ChatRate; default 20/min
	GlobalRate rate.Limit    // all chats together; default 30 messages/s
	Lease      time.Duration // how long a claimed delivery is ours; default 2 min
	// LeaseMargin: a delivery is sent only while at least this much of its
	// lease is left (longer than one request can take); default 35 s.
	LeaseMargin time.Duration
	Batch       int           // deliveries claimed at a time; default 50
	PollEvery   time.Duration // how often Run looks for due deliveries; default 2 s
	BackoffMin  time.Duration // first delay after a transient failure; default 2 s
	BackoffMax  time.Duration // cap of the exponential backoff; default 1 min
}

func (o Options) withDefaults() Options {
	if o.ChatRate <= 0 {
		o.ChatRate = 1
	}
	if o.GroupRate <= 0 {
		o.GroupRate = rate.Every(time.Minute / 20)
	}
	if o.GlobalRate <= 0 {
		o.GlobalRate = 30
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.LeaseMargin <= 0 {
		o.LeaseMargin = 35 * time.Second
	}
	if o.LeaseMargin >= o.Lease {
		o.LeaseMargin = o.Lease / 2
	}
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 2 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 2 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = time.Minute
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	return o
}

// onceMaxWait is the longest retry_after RunOnce waits out before returning.
const onceMaxWait = 5 * time.Minute

// Sender works through the delivery outbox: it claims due deliveries from
// the store (a lease, so two instances never send the same one), sends each
// to its channel at Telegram's pace, and records the outcome.
//
// Delivery guarantee: a delivery is marked sent, with Telegram's message id,
// right after Telegram accepts it, so a restart never resends a recorded
// delivery; one that was not recorded stays pending (or returns to pending
// when its lease runs out) and is sent later, so none is lost. A crash — or
// a store failure, or a request that times out after Telegram accepted it —
// between Telegram's answer and the record can cause at most one duplicate
// of that one message. This is the usual at-least-once outbox: exactly-once
// is impossible without an idempotency key, which the Bot API lacks.
//
// Several instances may share one database: the claim leases keep each
// delivery to one of them, and every send first takes the chat's slot in the
// store (ReserveSend), so a chat's pace (1 s apart, 20 a minute for groups)
// holds across instances, not just within one.
//
// Each channel has its own lane (goroutine, queue and limiters), so a chat
// that is rate-limited (429 retry_after, kept in ChannelState.PausedUntil),
// backing off, or gone does not hold up the others.
type Sender struct {
	cfg     *config.Config
	st      SenderStore
	api     *Bot
	logger  *slog.Logger
	metrics *Metrics
	owner   string
	opts    Options

	sources map[string]config.Source
	lanes   map[string]*lane
	global  *rate.Limiter

	mu            sync.Mutex
	inflight      map[int64]*job // delivery id → queued or being sent
	pending       int            // len(inflight)
	idle          chan struct{}  // closed when pending drops to 0
	kick          chan struct{}  // a lane ran dry
	deferredUntil time.Time      // latest time RunOnce should wait for

	sent atomic.Int64
}

type job struct {
	d model.Delivery
}

// lane is one channel's queue and pacing.
type lane struct {
	key   string
	ch    config.Channel
	chat  *rate.Limiter
	group *rate.Limiter // nil for private chats
	every time.Duration // slowest pace between two messages
	cap   int           // deliveries sendable within one lease
	wake  chan struct{}

	queue []*job // guarded by Sender.mu

	// owned by the lane goroutine
	failures     int
	backoffUntil time.Time
	lastSent     time.Time
}

// NewSender builds a Sender with the default Options.
func NewSender(cfg *config.Config, st SenderStore, api *Bot, logger *slog.Logger, m *Metrics, owner string) *Sender {
	return NewSenderWithOptions(cfg, st, api, logger, m, owner, Options{})
}

// NewSenderWithOptions builds a Sender; zero Options fields take defaults.
// owner names this instance in delivery leases (e.g. hostname+pid).
func NewSenderWithOptions(cfg *config.Config, st SenderStore, api *Bot, logger *slog.Logger, m *Metrics, owner string, opts Options) *Sender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	s := &Sender{
		cfg:      cfg,
		st:       st,
		api:      api,
		logger:   logger,
		metrics:  m,
		owner:    owner,
		opts:     opts,
		sources:  map[string]config.Source{},
		lanes:    map[string]*lane{},
		global:   rate.NewLimiter(opts.GlobalRate, 1),
		inflight: map[int64]*job{},
		idle:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	for _, src := range cfg.Sources {
		s.sources[src.ID] = src
	}
	for _, ch := range cfg.Telegram.Channels {
		key := ChannelKey(ch)
		if _, dup := s.lanes[key]; dup {
			continue
		}
		l := &lane{
			key:  key,
			ch:   ch,
			chat: rate.NewLimiter(opts.ChatRate, 1),
			wake: make(chan struct{}, 1),
		}
		l.every = interval(opts.ChatRate)
		if isGroupChat(ch.Chat) {
			l.group = rate.NewLimiter(opts.GroupRate, 1)
			l.every = max(l.every, interval(opts.GroupRate))
		}
		l.cap = 1 << 30
		if l.every > 0 {
			l.cap = max(1, int((opts.Lease-opts.LeaseMargin)/l.every))
		}
		s.lanes[key] = l
	}
	return s
}

func interval(r rate.Limit) time.Duration {
	if r == rate.Inf || r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / float64(r))
}

// isGroupChat: @usernames and negative ids are groups or channels (20/min);
// positive ids are private chats (1/s only).
func isGroupChat(chat string) bool {
	return strings.HasPrefix(chat, "@") || strings.HasPrefix(chat, "-")
}

// Run sends due deliveries until ctx is cancelled, then returns nil.
// Deliveries queued but not sent are handed back to the store. Run and
// RunOnce must not run at the same time on one Sender.
func (s *Sender) Run(ctx context.Context) error {
	ctx, stop := s.startLanes(ctx)
	defer stop()
	t := time.NewTicker(s.opts.PollEvery)
	defer t.Stop()
	for {
		if _, err := s.claim(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("claim deliveries", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

// RunOnce sends every delivery due now and returns how many it sent. It
// waits out pacing (and a retry_after of up to 5 minutes), so it may take a
// while; deliveries that fail transiently stay pending for the next run.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	start := s.sent.Load()
	runCtx, stop := s.startLanes(ctx)
	defer stop()
	s.mu.Lock()
	s.deferredUntil = time.Time{}
	s.mu.Unlock()
	for {
		n, err := s.claim(runCtx)
		if err != nil {
			return int(s.sent.Load() - start), err
		}
		if err := s.waitIdle(runCtx); err != nil {
			return int(s.sent.Load() - start), err
		}
		if n > 0 {
			continue
		}
		s.mu.Lock()
		wait := time.Until(s.deferredUntil)
		s.mu.Unlock()
		if wait <= 0 {
			return int(s.sent.Load() - start), nil
		}
		if err := sleep(runCtx, wait); err != nil {
			return int(s.sent.Load() - start), err
		}
	}
}

// startLanes starts one goroutine per channel; stop cancels and waits for
// them, then releases what they did not send.
func (s *Sender) startLanes(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	for _, l := range s.lanes {
		wg.Go(func() { s.runLane(ctx, l) })
	}
	return ctx, func() {
		cancel()
		wg.Wait()
		s.releaseQueued(context.WithoutCancel(parent))
	}
}

// claim leases due deliveries and queues them on their lanes. It returns
// how many it claimed.
func (s *Sender) claim(ctx context.Context) (int, error) {
	now := time.Now()
	ds, err := s.st.ClaimDeliveries(ctx, s.owner, now, s.opts.Batch, s.opts.Lease)
	if err != nil {
		return 0, fmt.Errorf("bot: %w", err)
	}
	for _, d := range ds {
		l, ok := s.lanes[d.Channel]
		if !ok {
			reason := fmt.Sprintf("channel %q is no longer in the configuration", d.Channel)
			if err := s.st.MarkDeliveryFailed(ctx, d.ID, reason); err != nil {
				s.logger.Warn("mark delivery failed", slog.Int64("delivery", d.ID), slog.Any("error", err))
			}
			s.metrics.incFailed(d.Channel)
			continue
		}
		s.mu.Lock()
		if j, ok := s.inflight[d.ID]; ok {
			j.d.LeaseUntil = d.LeaseUntil // claimed again: the lease is renewed
			s.mu.Unlock()
			continue
		}
		if pos := len(l.queue); pos >= l.cap {
			// More than this lane can send within the lease: hand it back for
			// when the lane will have room, so other channels' deliveries
			// (further down the outbox) are claimed meanwhile.
			next := now.Add(time.Duration(pos) * l.every)
			s.deferredUntil = maxTime(s.deferredUntil, next)
			s.mu.Unlock()
			if err := s.st.ReleaseDelivery(ctx, d.ID, next); err != nil {
				s.logger.Warn("defer delivery", slog.Int64("delivery", d.ID), slog.Any("error", err))
			}
			continue
		}
		j := &job{d: d}
		s.inflight[d.ID] = j
		if s.pending == 0 {
			s.idle = make(chan struct{})
		}
		s.pending++
		l.queue = append(l.queue, j)
		s.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return len(ds), nil
}

// waitIdle waits until no delivery is queued or being sent.
func (s *Sender) waitIdle(ctx context.Context) error {
	s.mu.Lock()
	if s.pending == 0 {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// done removes a job from the in-flight set.
func (s *Sender) done(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inflight[j.d.ID]; !ok {
		return
	}
	delete(s.inflight, j.d.ID)
	s.pending--
	if s.pending == 0 {
		close(s.idle)
	}
}

// releaseQueued hands queued deliveries back to the store at shutdown so a
// restart need not wait for their leases to run out.
func (s *Sender) releaseQueued(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s.mu.Lock()
	var jobs []*job
	for _, l := range s.lanes {
		jobs = append(jobs, l.queue...)
		l.queue = nil
	}
	s.mu.Unlock()
	now := time.Now()
	for _, j := range jobs {
		if err := s.st.ReleaseDelivery(ctx, j.d.ID, now); err != nil {
			s.logger.Warn("release delivery", slog.Int64("delivery", j.d.ID), slog.Any("error", err))
		}
		s.done(j)
	}
}

func (s *Sender) runLane(ctx context.Context, l *lane) {
	for {
		s.mu.Lock()
		var j *job
		if len(l.queue) > 0 {
			j = l.queue[0]
			l.queue = l.queue[1:]
		}
		empty := len(l.queue) == 0
		s.mu.Unlock()
		if j == nil {
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
				continue
			}
		}
		if s.deliver(ctx, l, j) {
			s.done(j)
		} else {
			s.mu.Lock()
			l.queue = append([]*job{j}, l.queue...) // released at shutdown
			s.mu.Unlock()
			return
		}
		if empty {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	}
}

// leaseOK reports whether j may still be sent under its lease, and when
// the lease ends.
func (s *Sender) leaseOK(j *job) (time.Time, bool) {
	s.mu.Lock()
	until := j.d.LeaseUntil
	s.mu.Unlock()
	return until, time.Until(until) >= s.opts.LeaseMargin
}

// record runs a store update that must happen even when ctx is being
// cancelled (it records what Telegram already did), with a few retries.
func (s *Sender) record(ctx context.Context, what string, id int64, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for attempt := range 3 {
		if err = f(ctx); err == nil {
			return
		}
		if sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond) != nil {
			break
		}
	}
	s.logger.Error("record delivery outcome", slog.String("what", what), slog.Int64("delivery", id), slog.Any("error", err))
}

// deliver sends one delivery and records the outcome. It returns false
// only when ctx was cancelled before anything was sent: the caller then
// hands the delivery back to the store. Otherwise the delivery is settled
// (recorded, put back for later, or left to its lease when the outcome of a
// cancelled request is unknown).
func (s *Sender) deliver(ctx context.Context, l *lane, j *job) bool {
	d := j.d
	log := s.logger.With(slog.String("channel", l.key), slog.Int64("delivery", d.ID), slog.Int64("item", d.ItemID))

	state, err := s.st.GetChannelState(ctx, l.key)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		log.Warn("read channel state", slog.Any("error", err))
		s.retryLater(ctx, l, d, "store: "+err.Error())
		return true
	}
	if state.Paused {
		// Paused by an admin or a permanent error: hand it back; the store
		// keeps it pending and does not offer it until /resume.
		s.record(ctx, "release", d.ID, func(ctx context.Context) error {
			return s.st.ReleaseDelivery(ctx, d.ID, time.Now())
		})
		return true
	}
	wait := maxTime(state.PausedUntil, l.backoffUntil)
	if time.Until(wait) > 0 {
		if !s.leaseCovers(j, wait) {
			s.record(ctx, "release", d.ID, func(ctx context.Context) error {
				return s.st.ReleaseDelivery(ctx, d.ID, wait)
			})
			return true
		}
		if sleep(ctx, time.Until(wait)) != nil {
			return false
		}
	}
	it, err := s.st.GetItem(ctx, d.ItemID)
	if errors.Is(err, model.ErrNotFound) {
		s.fail(ctx, l, d, "the item no longer exists")
		return true
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		log.Warn("read item", slog.Any("error", err))
		s.retryLater(ctx, l, d, "store: "+err.Error())
		return true
	}
	chat := l.ch.Chat
	if state.ChatID != "" {
		chat = state.ChatID
	}
	photo := l.ch.Photo == nil || *l.ch.Photo
	msg := Format(it, s.sources[it.SourceID], l.ch, s.cfg.Server.BaseURL, photo)

	for range 4 { // a photo fallback and a migration may each need one more request
		if err := s.pace(ctx, l); err != nil {
			return false
		}
		reserved, err := s.reserveSlot(ctx, l, j, chat)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			log.Warn("reserve the chat's send slot", slog.Any("error", err))
			s.retryLater(ctx, l, d, err.Error())
			return true
		}
		if !reserved {
			return true // handed back: other instances keep the chat busy beyond the lease
		}
		if until, ok := s.leaseOK(j); !ok {
			log.Debug("lease too short to send; handed back")
			s.record(ctx, "release", d.ID, func(ctx context.Context) error {
				return s.st.ReleaseDelivery(ctx, d.ID, time.Now())
			})
			s.noteDeferred(until)
			return true
		}
		msgID, err := s.api.Send(ctx, chat, l.ch.Thread, msg)
		if err == nil {
			now := time.Now()
			s.record(ctx, "mark sent", d.ID, func(ctx context.Context) error {
				return s.st.MarkDelivered(ctx, d.ID, msgID, now)
			})
			s.sent.Add(1)
			s.metrics.incSent(l.key)
			l.failures, l.backoffUntil = 0, time.Time{}
			log.Debug("delivered", slog.Int64("message_id", msgID))
			return true
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = &APIError{Kind: KindTransient, Description: err.Error(), Err: err}
		}
		if ctx.Err() != nil && ae.Kind == KindTransient {
			return true // shutting down mid-request: the outcome is unknown; the lease runs out and it is sent again
		}
		switch ae.Kind {
		case KindBadRequest:
			if msg.Photo != "" {
				log.Info("photo refused; sending text instead", slog.String("reason", ae.Description))
				msg = Format(it, s.sources[it.SourceID], l.ch, s.cfg.Server.BaseURL, false)
				continue
			}
			s.fail(ctx, l, d, ae.Description)
			return true
		case KindMigrated:
			newChat := strconv.FormatInt(ae.MigrateTo, 10)
			log.Info("group migrated to a supergroup", slog.String("chat", chat), slog.String("new_chat", newChat))
			chat = newChat
			s.updateState(ctx, l.key, func(st *model.ChannelState) { st.ChatID = newChat })
			continue
		case KindRateLimited:
			until := time.Now().Add(ae.RetryAfter)
			log.Warn("telegram rate limit; pausing the chat", slog.Duration("retry_after", ae.RetryAfter))
			s.metrics.incRateLimited(l.key)
			s.metrics.incRetried(l.key)
			s.updateState(ctx, l.key, func(st *model.ChannelState) { st.PausedUntil = until })
			s.record(ctx, "retry", d.ID, func(ctx context.Context) error {
				return s.st.MarkDeliveryRetry(ctx, d.ID, ae.Description, until)
			})
			s.noteDeferred(until)
			s.releaseLane(ctx, l, until)
			return true
		case KindChatGone:
			s.fail(ctx, l, d, ae.Description)
			s.pauseChannel(ctx, l, ae.Description)
			return true
		default:
			log.Warn("send failed; will retry", slog.String("kind", ae.Kind.String()), slog.Any("error", ae))
			s.retryLater(ctx, l, d, ae.Description)
			return true
		}
	}
	s.retryLater(ctx, l, d, "too many redirections (photo fallback, migration)")
	return true
}

// pace waits for the global limiter, then for the chat's own limiters
// (reserved last, so waiting for the others does not eat into the chat's
// gap). The gap is also measured from the previous actual send, so a send
// that started late does not let the next one follow it too closely.
func (s *Sender) pace(ctx context.Context, l *lane) error {
	if err := s.global.Wait(ctx); err != nil {
		return err
	}
	now := time.Now()
	delay := l.chat.ReserveN(now, 1).DelayFrom(now)
	if l.group != nil {
		delay = max(delay, l.group.ReserveN(now, 1).DelayFrom(now))
	}
	if !l.lastSent.IsZero() {
		delay = max(delay, l.lastSent.Add(l.every).Sub(now))
	}
	if err := sleep(ctx, delay); err != nil {
		return err
	}
	l.lastSent = time.Now()
	return nil
}

// pacingKeyPrefix marks a chat's row in the store's shared pacing table.
const pacingKeyPrefix = "chat:"

// reserveSlot takes the chat's send slot in the store, which every instance
// sharing the database uses, so the chat's pace holds across instances (the
// in-process limiters of pace keep it within this one). The gap is the
// lane's slowest pace (1 s a private chat, 3 s a group: 20 a minute). While
// another instance holds the slot it waits, as long as j's lease covers the
// wait; otherwise it hands j back, due when the slot frees, and reports
// false. It is keyed by chat, not channel, so two topics of one chat share
// the chat's pace.
func (s *Sender) reserveSlot(ctx context.Context, l *lane, j *job, chat string) (bool, error) {
	for {
		ok, wait, err := s.st.ReserveSend(ctx, pacingKeyPrefix+chat, time.Now(), l.every)
		if err != nil {
			return false, fmt.Errorf("bot: %w", err)
		}
		if ok {
			l.lastSent = time.Now()
			return true, nil
		}
		next := time.Now().Add(wait)
		if !s.leaseCovers(j, next) {
			s.record(ctx, "release", j.d.ID, func(ctx context.Context) error {
				return s.st.ReleaseDelivery(ctx, j.d.ID, next)
			})
			s.noteDeferred(next)
			return false, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return false, err
		}
	}
}

// retryLater backs the lane off exponentially and puts the delivery back.
func (s *Sender) retryLater(ctx context.Context, l *lane, d model.Delivery, reason string) {
	l.failures++
	delay := s.opts.BackoffMin << min(l.failures-1, 16)
	if delay > s.opts.BackoffMax || delay <= 0 {
		delay = s.opts.BackoffMax
	}
	next := time.Now().Add(delay)
	l.backoffUntil = next
	s.metrics.incRetried(l.key)
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

// pauseChannel pauses a channel Telegram will not take posts for, and tells
// the admins once per pause (AlertedAt; /resume clears it).
func (s *Sender) pauseChannel(ctx context.Context, l *lane, reason string) {
	s.updateState(ctx, l.key, func(st *model.ChannelState) {
		st.Paused = true
		st.Reason = reason
		if st.AlertedAt.IsZero() {
			text := fmt.Sprintf("transfeed: Telegram channel %s is paused: %s\nFix the bot's access, then send /resume %s (and /retry to resend the failed post).", l.key, reason, l.key)
			if err := s.api.AlertAdmins(context.WithoutCancel(ctx), text); err != nil {
				s.logger.Warn("alert admins", slog.Any("error", err))
			} else {
				st.AlertedAt = time.Now()
			}
		}
	})
	s.logger.Error("telegram channel paused", slog.String("channel", l.key), slog.String("reason", reason))
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
		s.record(ctx, "release", j.d.ID, func(ctx context.Context) error {
			return s.st.ReleaseDelivery(ctx, j.d.ID, next)
		})
		s.done(j)
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

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
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
