package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// translateLease is how long a claimed item belongs to this instance.
const translateLease = 10 * time.Minute

// TranslateDue translates (or passes through) every item that is due, in
// batches, until none is left or ctx ends. It returns how many items it
// handled. Up to TranslateWorkers items are translated at once.
func (w *Worker) TranslateDue(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		items, err := w.st.ClaimItems(ctx, w.owner, w.now(), 16, translateLease)
		if err != nil {
			return total, fmt.Errorf("worker: claim items: %w", err)
		}
		if len(items) == 0 {
			return total, nil
		}
		n, err := w.translateBatch(ctx, items)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, ctx.Err()
}

// translateBatch works through claimed items with up to w.workers at once.
// Items not worked on (shutdown, a store error) are handed back.
func (w *Worker) translateBatch(ctx context.Context, items []model.Item) (int, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu      sync.Mutex
		handled = make([]bool, len(items))
		count   int
		wg      sync.WaitGroup
		next    = make(chan int)
	)
	for range min(w.workers, len(items)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue // shutting down: handed back below
				}
				err := w.translateOne(ctx, items[i])
				if errors.Is(err, errInterrupted) {
					continue // left as it was: handed back below
				}
				if err != nil {
					stop(err)
					continue
				}
				mu.Lock()
				handled[i] = true
				count++
				mu.Unlock()
			}
		})
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	var rest []model.Item
	for i, ok := range handled {
		if !ok {
			rest = append(rest, items[i])
		}
	}
	w.releaseItems(ctx, rest)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return count, err
	}
	return count, nil
}

// releaseItems hands back items claimed but not worked on (shutdown, a
// reload, a store error), so that they are due again at once instead of
// after translateLease.
func (w *Worker) releaseItems(ctx context.Context, items []model.Item) {
	if len(items) == 0 {
		return
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.st.ReleaseItems(rctx, w.owner, ids); err != nil {
		w.log.Warn("handing back claimed items failed; they are due again when their lease ends",
			slog.Int("items", len(ids)), slog.Any("error", err))
	}
}

// errInterrupted says translateOne left the item as it was because ctx ended.
var errInterrupted = errors.New("worker: interrupted")

// translateOne moves one item on: ready (translated, or passed through), or
// back to waiting with the reason on record. Only store errors are returned.
func (w *Worker) translateOne(ctx context.Context, it model.Item) error {
	log := w.log.With(slog.String("source", it.SourceID), slog.Int64("item", it.ID))
	src, ok := w.cfg.Source(it.SourceID)
	if !ok {
		// The source left the config: keep the item as it is, try again much later.
		return w.st.MarkTranslateFailed(ctx, it.ID, nil, "its source is no longer configured", w.now().Add(24*time.Hour))
	}
	now := w.now()
	if !translate.NeedsTranslation(src.Translate, it) {
		return w.ready(ctx, it, model.Translation{})
	}
	if w.engine == nil {
		// translation.provider: none — publish the original, clearly marked.
		return w.ready(ctx, it, model.Translation{Untranslated: true})
	}
	res, err := w.engine.TranslateItem(ctx, it)
	if err == nil {
		w.m.translated()
		return w.ready(ctx, it, res.Translation)
	}
	if ctx.Err() != nil {
		return errInterrupted // shutting down: the item is handed back as it was
	}
	reason := err.Error()
	var titleOnly *model.Translation
	next := now.Add(backoff(it.Attempts+1, time.Minute))
	var cerr *translate.CheckError
	switch {
	case errors.Is(err, translate.ErrBudget):
		// Titles were translated within the budget; bodies wait for tomorrow.
		if res != nil {
			t := res.Translation
			t.TitleOnly = true
			titleOnly = &t
		}
		next = nextUTCMidnight(now)
		reason = "daily character limit reached: the body waits until the limit resets (title translated)"
	case translate.KindOf(err) == translate.KindQuota:
		ps, _ := w.st.GetProviderState(ctx, w.provider)
		if ps.PausedUntil.After(now) {
			next = ps.PausedUntil
		} else {
			next = nextUTCMidnight(now)
		}
		w.alertQuota(ctx, ps, reason)
	case errors.As(err, &cerr):
		// The engine already retried the failing segment once.
	}
	// hold_for: after that long, on_failure decides.
	if now.Sub(it.FirstSeen) >= w.cfg.Translation.HoldFor && w.cfg.Translation.OnFailure == model.OnFailureOriginal {
		log.Warn("translation kept failing; publishing the original marked untranslated", slog.String("reason", reason))
		return w.ready(ctx, it, model.Translation{Untranslated: true})
	}
	// With on_failure: original the post must not wait past its hold_for
	// deadline, however long the provider is paused or the backoff runs.
	if deadline := it.FirstSeen.Add(w.cfg.Translation.HoldFor); w.cfg.Translation.OnFailure == model.OnFailureOriginal && next.After(deadline) && deadline.After(now) {
		next = deadline
	}
	w.m.translateFailed()
	log.Warn("translation failed; will retry", slog.String("reason", reason), slog.Time("next_attempt", next))
	if err := w.st.MarkTranslateFailed(ctx, it.ID, titleOnly, reason, next); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

func (w *Worker) ready(ctx context.Context, it model.Item, t model.Translation) error {
	it.TitleEN, it.SummaryEN, it.ContentHTMLEN = t.TitleEN, t.SummaryEN, t.ContentHTMLEN
	it.TranslatedBy, it.TitleOnly, it.Untranslated = t.TranslatedBy, t.TitleOnly, t.Untranslated
	var channels []string
	if w.route != nil {
		channels = w.route(it)
	}
	t.OriginalHash = it.ContentHash // refused (ErrStale) when the original changed meanwhile
	// The work is done: record it even if shutdown begins now.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := w.st.MarkReady(wctx, it.ID, t, channels, w.now())
	if errors.Is(err, store.ErrStale) {
		// The post changed while it was being translated: this translation is
		// of the old text. The item is back in StateNew and unleased; the next
		// claim translates the new text.
		w.log.Info("original changed during translation; translating it again",
			slog.String("source", it.SourceID), slog.Int64("item", it.ID))
		return nil
	}
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

func (w *Worker) alertQuota(ctx context.Context, ps model.ProviderState, reason string) {
	if w.alerter == nil || !ps.AlertedAt.IsZero() {
		return
	}
	msg := fmt.Sprintf("⚠️ Translation provider %s is paused: %s", w.provider, reason)
	if !ps.PausedUntil.IsZero() {
		msg += fmt.Sprintf("\nPosts wait until %s.", ps.PausedUntil.In(model.China()).Format("2006-01-02 15:04 CST"))
	}
	if err := w.alerter.AlertAdmins(ctx, msg); err != nil {
		w.log.Warn("alerting admins failed", slog.Any("error", err))
		return
	}
	ps.Provider = w.provider
	ps.AlertedAt = w.now()
	if err := w.st.SetProviderState(ctx, ps); err != nil {
		w.log.Warn("recording alert failed", slog.Any("error", err))
	}
}

func nextUTCMidnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
