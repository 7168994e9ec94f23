package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/transfeed/transfeed/store"
)

// Retention sweeps (retention.max_age, retention.max_posts_per_source,
// every retention.sweep_every).
const (
	// sweepCheck is how often, at most, the loop looks whether a sweep is
	// due (the time of the last sweep is in the store, so a restart does
	// not sweep again, and one instance of several sweeps); more often when
	// retention.sweep_every is shorter.
	sweepCheck = time.Hour
	// sweepLease is how long the instance sweeping holds the sweep.
	sweepLease = 30 * time.Minute
	// metaLastSweep is the meta key holding the last sweep's time (RFC 3339).
	metaLastSweep = "retention.last_sweep"
	leaseSweep    = "retention"
)

func (w *Worker) retention() store.Retention {
	return store.Retention{MaxAge: w.cfg.Retention.MaxAge, MaxPostsPerSource: w.cfg.Retention.MaxPostsPerSource}
}

// sweepEvery is retention.sweep_every (24 h when unset).
func (w *Worker) sweepEvery() time.Duration {
	if e := w.cfg.Retention.SweepEvery; e > 0 {
		return e
	}
	return 24 * time.Hour
}

// retentionLoop sweeps the store every retention.sweep_every while ctx
// lasts (nothing when retention keeps everything). The first check is a
// minute after start.
func (w *Worker) retentionLoop(ctx context.Context) {
	if !w.retention().Enabled() {
		return
	}
	check := min(sweepCheck, w.sweepEvery())
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := w.SweepIfDue(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("retention sweep failed; trying again later", slog.Any("error", err))
		}
		t.Reset(check)
	}
}

// SweepIfDue applies the retention policy when the last sweep (of any
// instance sharing the store) is retention.sweep_every old or more, under a leader lease
// so that two instances never sweep at once. It reports whether it swept.
func (w *Worker) SweepIfDue(ctx context.Context) (store.SweepResult, bool, error) {
	pol := w.retention()
	if !pol.Enabled() {
		return store.SweepResult{}, false, nil
	}
	now := w.now()
	last, err := w.st.GetMeta(ctx, metaLastSweep)
	if err != nil {
		return store.SweepResult{}, false, fmt.Errorf("worker: retention: %w", err)
	}
	if t, err := time.Parse(time.RFC3339, last); err == nil && now.Sub(t) < w.sweepEvery() {
		return store.SweepResult{}, false, nil
	}
	ok, err := w.st.ClaimLeader(ctx, leaseSweep, w.owner, now, sweepLease)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("worker: retention: %w", err)
		}
		return store.SweepResult{}, false, err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.st.ReleaseLeader(rctx, leaseSweep, w.owner); err != nil {
			w.log.Warn("releasing the retention lease failed", slog.Any("error", err))
		}
	}()
	start := time.Now()
	res, err := w.st.Sweep(ctx, pol, now)
	if err != nil {
		return res, true, fmt.Errorf("worker: retention: %w", err)
	}
	if err := w.st.SetMeta(ctx, metaLastSweep, now.UTC().Format(time.RFC3339Nano)); err != nil {
		return res, true, fmt.Errorf("worker: retention: %w", err)
	}
	w.log.Info("retention sweep", slog.Int64("posts_deleted", res.Items), slog.Int64("deliveries_deleted", res.Deliveries),
		slog.Int64("kept_for_pending_deliveries", res.Kept), slog.Int64("kept_not_ready", res.NotReady),
		slog.Duration("took", time.Since(start)))
	return res, true, nil
}
