package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// cronLogger routes robfig/cron's logging to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, slog.Any("error", err))...)
}

// Run runs the scheduler and the translation loop until ctx ends. Each
// source fires on its own schedule, offset by a stable per-source jitter;
// SkipIfStillRunning wraps Recover (Recover innermost, see REFERENCE.md §5)
// so a panic never leaves a source skipped forever. A source in backoff
// (NextPollAt in the future) lets its scheduled runs pass. Run returns when
// every poll and translation in flight has finished.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.Sync(ctx); err != nil {
		return err
	}
	cl := cronLogger{w.log}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(cl),
		cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
	)
	var wg sync.WaitGroup
	for _, src := range w.cfg.Sources {
		sch, err := config.ParseSchedule(src.Schedule)
		if err != nil {
			return err // validated at load; cannot happen
		}
		first := sch.Next(time.Now())
		delay := jitter(src.ID, sch.Next(first).Sub(first))
		c.Schedule(sch, cron.FuncJob(func() {
			if !sleepCtx(ctx, delay) {
				return
			}
			w.pollIfDue(ctx, src)
		}))
	}
	// Poll at start whatever is due (never polled, or past its next poll),
	// so a restart does not wait a whole interval.
	wg.Go(func() {
		w.pollAll(ctx, w.cfg.Sources, true)
	})
	c.Start()
	wg.Go(func() { w.translateLoop(ctx) })
	wg.Go(func() { w.retentionLoop(ctx) })
	<-ctx.Done()
	<-c.Stop().Done()
	wg.Wait()
	return nil
}

// pollIfDue polls the source unless it is backing off or another instance
// has just polled it.
func (w *Worker) pollIfDue(ctx context.Context, src config.Source) {
	st, err := w.st.GetSource(ctx, src.ID)
	if err == nil && !due(st, w.now()) {
		return // cheap check first; pollSource checks again under the lease
	}
	w.pollSource(ctx, src, true, nil)
}

// due tells whether a source may be polled now: never polled, or past its
// next poll time (the schedule, pushed back by backoff and Retry-After).
func due(st model.Source, now time.Time) bool {
	return st.LastPollAt.IsZero() || !now.Before(st.NextPollAt.Add(-30*time.Second))
}

// PollNow polls one source at once (admin /poll) and describes the result.
func (w *Worker) PollNow(ctx context.Context, id string) (string, error) {
	src, ok := w.cfg.Source(id)
	if !ok {
		return "", &UnknownSourceError{ID: id}
	}
	rep := w.PollSource(ctx, src)
	return rep.String(), nil
}

// UnknownSourceError names a source id that is not in the config.
type UnknownSourceError struct{ ID string }

func (e *UnknownSourceError) Error() string { return "worker: no source with id " + e.ID }

func (w *Worker) translateLoop(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		if _, err := w.TranslateDue(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("translation stage failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
