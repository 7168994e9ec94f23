package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/transfeed/transfeed/model"
)

// Options builds a Sender. Store, Notifier and Owner are required; zero
// values of the other fields take the defaults.
type Options struct {
	Store    Store
	Notifier Notifier
	// Alerter is told once when a channel is paused (nil: nobody is told).
	Alerter Alerter
	// Channels are the configured destinations; a delivery for any other
	// key fails ("no longer in the configuration").
	Channels []Channel
	Logger   *slog.Logger // nil: discard
	Metrics  *Metrics     // nil: not counted
	// Owner names this instance in delivery leases (e.g. hostname+pid).
	Owner string

	// Rates gives the send rates one destination keeps, each on top of the
	// others (bot/telegram: 1/s per chat, plus 20/min for groups and
	// channels). It is asked once per channel, with its configured address.
	// Default: one message a second.
	Rates func(address string) []rate.Limit
	// GlobalRate limits all destinations together (bot/telegram: 30/s).
	// Default: no limit.
	GlobalRate rate.Limit

	Lease time.Duration // how long a claimed delivery is ours; default 2 min
	// LeaseMargin: a delivery is sent only while at least this much of its
	// lease is left (longer than one request can take); default 35 s.
	LeaseMargin time.Duration
	Batch       int           // deliveries claimed at a time; default 50
	PollEvery   time.Duration // how often Run looks for due deliveries; default 2 s
	BackoffMin  time.Duration // first delay after a transient failure; default 2 s
	BackoffMax  time.Duration // cap of the exponential backoff; default 1 min
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Rates == nil {
		o.Rates = func(string) []rate.Limit { return []rate.Limit{1} }
	}
	if o.GlobalRate <= 0 {
		o.GlobalRate = rate.Inf
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
// the store (a lease, so two instances never send the same one), hands each
// to the Notifier at the destination's pace, and records the outcome.
//
// Delivery guarantee: a delivery is marked sent, with the destination's
// message id, right after the Notifier reports it accepted, so a restart
// never resends a recorded delivery; one that was not recorded stays
// pending (or returns to pending when its lease runs out) and is sent
// later, so none is lost. A crash — or a store failure, or a request that
// times out after the destination accepted it — between the answer and the
// record can cause at most one duplicate of that one message. This is the
// usual at-least-once outbox: exactly-once is impossible without an
// idempotency key, which the Telegram Bot API lacks.
//
// Several instances may share one database: the claim leases keep each
// delivery to one of them, and every send first takes the destination's
// slot in the store (ReserveSend), so its pace (Telegram: 1 s apart, 20 a
// minute for groups) holds across instances, not just within one.
//
// Each channel has its own lane (goroutine, queue and limiters), so a
// channel that is rate-limited (retry_after, kept in
// ChannelState.PausedUntil), backing off, or gone does not hold up the
// others.
type Sender struct {
	st       Store
	notifier Notifier
	alerter  Alerter
	logger   *slog.Logger
	metrics  *Metrics
	owner    string
	opts     Options

	lanes  map[string]*lane
	global *rate.Limiter

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
	key    string
	ch     Channel
	limits []*rate.Limiter // every one is kept
	every  time.Duration   // slowest pace between two messages
	cap    int             // deliveries sendable within one lease
	wake   chan struct{}

	queue []*job // guarded by Sender.mu

	// owned by the lane goroutine
	failures     int
	backoffUntil time.Time
	lastSent     time.Time
}

// New builds a Sender. It does no I/O.
func New(opts Options) (*Sender, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("bot: no store")
	case opts.Notifier == nil:
		return nil, errors.New("bot: no notifier")
	case opts.Owner == "":
		return nil, errors.New("bot: no owner name for the delivery leases")
	}
	opts = opts.withDefaults()
	s := &Sender{
		st:       opts.Store,
		notifier: opts.Notifier,
		alerter:  opts.Alerter,
		logger:   opts.Logger,
		metrics:  opts.Metrics,
		owner:    opts.Owner,
		opts:     opts,
		lanes:    map[string]*lane{},
		global:   rate.NewLimiter(opts.GlobalRate, 1),
		inflight: map[int64]*job{},
		idle:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	for _, ch := range opts.Channels {
		if ch.Key == "" || ch.Address == "" {
			return nil, fmt.Errorf("bot: channel %q: a key and an address are required", ch.Key)
		}
		if _, dup := s.lanes[ch.Key]; dup {
			continue
		}
		l := &lane{key: ch.Key, ch: ch, wake: make(chan struct{}, 1)}
		for _, r := range opts.Rates(ch.Address) {
			if r > 0 {
				l.limits = append(l.limits, rate.NewLimiter(r, 1))
				l.every = max(l.every, interval(r))
			}
		}
		l.cap = 1 << 30
		if l.every > 0 {
			l.cap = max(1, int((opts.Lease-opts.LeaseMargin)/l.every))
		}
		s.lanes[ch.Key] = l
	}
	return s, nil
}

func interval(r rate.Limit) time.Duration {
	if r == rate.Inf || r <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / float64(r))
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
		if err := Sleep(runCtx, wait); err != nil {
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

// done removes a job from the in-flight set. A job handed back to pending
// (retry, release) leaves it before the store hears of it: once the store
// clears the lease, a claim may return the delivery, and it must then be
// queued afresh, not taken for the job that is finishing (a claim that finds
// a delivery in flight only renews its lease). Calling done again for the
// same job, or for a job that was replaced, does nothing.
func (s *Sender) done(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.inflight[j.d.ID]; !ok || cur != j {
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
		s.done(j)
		if err := s.st.ReleaseDelivery(ctx, j.d.ID, now); err != nil {
			s.logger.Warn("release delivery", slog.Int64("delivery", j.d.ID), slog.Any("error", err))
		}
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
