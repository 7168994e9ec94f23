// Package worker moves posts through their lifecycle: it polls sources on
// their schedules (robfig/cron), stores what they carry, translates what
// needs translating and hands ready posts to the Telegram outbox. Every stage
// is driven by state in the store, so a crash or restart at any point loses
// nothing and repeats nothing that already succeeded.
package worker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/translate"
)

// PollStore is what polling needs: sources' history, their poll leases,
// storing what a poll found, and the retention boundary below which it
// stores nothing.
type PollStore interface {
	SyncSources(ctx context.Context, ids map[string]string) error
	GetSource(ctx context.Context, id string) (model.Source, error)
	RecordPoll(ctx context.Context, r model.PollResult) (model.Source, error)
	SetSourceAlerted(ctx context.Context, id string, at time.Time) error
	ClaimSource(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (bool, error)
	ReleaseSource(ctx context.Context, id, owner string) error
	KnownKeys(ctx context.Context, sourceID string, keys []string) (map[string]string, error)
	StorePoll(ctx context.Context, sourceID string, items []model.Item, now time.Time, opt store.UpsertOptions,
		r model.PollResult) (store.UpsertResult, model.Source, error)
	SetRefusedLinks(ctx context.Context, sourceID string, r store.RefusedLinks) error
	RetentionBoundary(ctx context.Context, sourceID string, p store.Retention, now time.Time) (time.Time, error)
}

// TranslateStore is what the translation stage needs: claims of posts to
// translate, their outcome, and the provider's pause state.
type TranslateStore interface {
	ClaimItems(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Item, error)
	ReleaseItems(ctx context.Context, owner string, ids []int64) error
	MarkReady(ctx context.Context, id int64, t model.Translation, channels []string, now time.Time) error
	MarkTranslateFailed(ctx context.Context, id int64, t *model.Translation, reason string, next time.Time) error
	GetProviderState(ctx context.Context, provider string) (model.ProviderState, error)
	SetProviderState(ctx context.Context, st model.ProviderState) error
}

// RetentionStore is what the daily retention sweep needs.
type RetentionStore interface {
	Sweep(ctx context.Context, p store.Retention, now time.Time) (store.SweepResult, error)
	ClaimLeader(ctx context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error)
	ReleaseLeader(ctx context.Context, name, owner string) error
	GetMeta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Store is all three; *store.Store implements it.
type Store interface {
	PollStore
	TranslateStore
	RetentionStore
}

// Fetcher polls one source.
type Fetcher interface {
	Poll(ctx context.Context, src config.Source, v feeds.Validators, known func(key string) bool) (*feeds.PollResult, error)
}

// Engine translates one item.
type Engine interface {
	TranslateItem(ctx context.Context, it model.Item) (*translate.Result, error)
}

// Alerter tells the admins about something that needs them (nil: nobody is told).
type Alerter interface {
	AlertAdmins(ctx context.Context, text string) error
}

// Router picks the Telegram channels a ready item goes to.
type Router func(it model.Item) []string

// Deps are the worker's collaborators. Engine, Alerter and Route may be nil.
type Deps struct {
	Config  *config.Config
	Store   Store
	Fetcher Fetcher
	Engine  Engine
	// Provider is the translation provider's name (for its pause state).
	Provider string
	Alerter  Alerter
	Route    Router
	Logger   *slog.Logger
	Metrics  *Metrics
	// Owner names this instance in leases.
	Owner string
	// SourceOwner names this installation in source-poll leases (default
	// Owner). It should stay the same across restarts of one installation,
	// so that a process killed mid-poll does not keep a restarted one from
	// polling its sources: a poll done twice is harmless (items are unique),
	// unlike a Telegram message sent twice, which is why translation and
	// delivery leases use Owner.
	SourceOwner string
	// TranslateWorkers is how many posts are translated at once (default 1;
	// translation.concurrency). Above 1 the daily budget check and the send
	// are not one step, so posts in flight can overshoot the limit.
	TranslateWorkers int
	Now              func() time.Time
}

// Worker runs the pipeline stages.
type Worker struct {
	cfg      *config.Config
	st       Store
	fetcher  Fetcher
	engine   Engine
	provider string
	alerter  Alerter
	route    Router
	log      *slog.Logger
	m        *Metrics
	owner    string
	// sourceOwner names this installation in source-poll leases.
	sourceOwner string
	workers     int
	now         func() time.Time

	// wake nudges the translation loop when a poll stored something.
	wake chan struct{}
}

// New builds a Worker.
func New(d Deps) (*Worker, error) {
	if d.Config == nil || d.Store == nil || d.Fetcher == nil {
		return nil, errors.New("worker: config, store and fetcher are required")
	}
	w := &Worker{
		cfg: d.Config, st: d.Store, fetcher: d.Fetcher, engine: d.Engine, provider: d.Provider,
		alerter: d.Alerter, route: d.Route, log: d.Logger, m: d.Metrics, owner: d.Owner, sourceOwner: d.SourceOwner, workers: max(d.TranslateWorkers, 1), now: d.Now,
		wake: make(chan struct{}, 1),
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.owner == "" {
		w.owner = "transfeed"
	}
	if w.sourceOwner == "" {
		w.sourceOwner = w.owner
	}
	return w, nil
}

// Sync makes sure every configured source has a row in the store.
func (w *Worker) Sync(ctx context.Context) error {
	ids := make(map[string]string, len(w.cfg.Sources))
	for _, s := range w.cfg.Sources {
		ids[s.ID] = s.URL
	}
	if err := w.st.SyncSources(ctx, ids); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// PollReport is the outcome of one poll, as `once` prints it.
type PollReport struct {
	Source  string
	Status  model.PollStatus // PollOK | PollNotModified | PollError | PollSkipped
	Reason  string
	New     int
	Updated int
	Items   int
	Refused int // links the address guard did not fetch
	// Deferred are new posts left for the next poll (fetch.poll_timeout).
	Deferred int
	// Waiting is the number of new posts left for the next polls
	// (fetch.max_items_per_poll).
	Waiting int
	// TooOld counts the posts the source listed that were published before
	// the retention boundary: neither stored nor updated.
	TooOld int
}

func (r PollReport) String() string {
	switch r.Status {
	case model.PollOK:
		s := fmt.Sprintf("%-24s %-13s new=%d updated=%d items=%d", r.Source, r.Status, r.New, r.Updated, r.Items)
		if r.Waiting > 0 {
			s += fmt.Sprintf(" waiting=%d (fetch.max_items_per_poll; stored by the next polls)", r.Waiting)
		}
		if r.TooOld > 0 {
			s += fmt.Sprintf(" too_old=%d (older than retention keeps; not stored)", r.TooOld)
		}
		if r.Refused > 0 {
			s += fmt.Sprintf(" refused_links=%d (non-public addresses; see /status)", r.Refused)
		}
		if r.Deferred > 0 {
			s += fmt.Sprintf(" deferred=%d (fetch.poll_timeout passed; their pages are fetched next poll)", r.Deferred)
		}
		return s
	case model.PollNotModified:
		return fmt.Sprintf("%-24s %-13s new=0 updated=0", r.Source, r.Status)
	case model.PollSkipped:
		return fmt.Sprintf("%-24s %-13s %s", r.Source, r.Status, r.Reason)
	}
	return fmt.Sprintf("%-24s %-13s %s", r.Source, model.PollError, r.Reason)
}

// pollLease is how long a poll holds its source without renewing the
// lease; a running poll renews it every pollLease/3.
const pollLease = 90 * time.Second

// renewSource keeps this instance's lease on a source while its poll runs.
func (w *Worker) renewSource(ctx context.Context, id string) {
	t := time.NewTicker(pollLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := w.st.ClaimSource(ctx, id, w.sourceOwner, w.now(), pollLease); err != nil && ctx.Err() == nil {
				w.log.Warn("renewing source lease failed", slog.String("source", id), slog.Any("error", err))
			}
		}
	}
}

// maxBackoff caps the wait after consecutive failures: a failing source is
// retried at least this often, forever.
const maxBackoff = 6 * time.Hour

// backoff is the wait after n consecutive failures: 1m, 2m, 4m, … capped.
func backoff(n int, base time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	if base <= 0 {
		base = time.Minute
	}
	d := base
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// PollSource polls one source end to end: conditional fetch, parse,
// normalise, store; then records the outcome and alerts the admins once when
// the source has failed five polls in a row.
func (w *Worker) PollSource(ctx context.Context, src config.Source) PollReport {
	return w.pollSource(ctx, src, false, nil)
}

// pollSource polls src; with onlyIfDue it first checks, under the source's
// lease, that no other instance polled it meanwhile (the due check before
// the claim can be overtaken). fetched, when not nil, is called once the
// answer is fetched and parsed, with the number of posts to store, before
// the poll's write (see pollAll).
func (w *Worker) pollSource(ctx context.Context, src config.Source, onlyIfDue bool, fetched func(posts int)) PollReport {
	log := w.log.With(slog.String("source", src.ID))
	now := w.now()
	rep := PollReport{Source: src.ID}
	// One installation polls a source at a time: the lease is taken here,
	// renewed while the poll runs and released when it ends.
	claimed, err := w.st.ClaimSource(ctx, src.ID, w.sourceOwner, now, pollLease)
	if err != nil {
		rep.Status, rep.Reason = model.PollError, err.Error()
		return rep
	}
	if !claimed {
		rep.Status, rep.Reason = model.PollSkipped, "another instance is polling it"
		return rep
	}
	// A killed process holds its sources for at most pollLease, and a
	// restart of the same installation takes them over at once.
	renewCtx, stopRenew := context.WithCancel(ctx)
	var renew sync.WaitGroup
	renew.Go(func() { w.renewSource(renewCtx, src.ID) })
	released := false // by RecordPoll
	defer func() {
		stopRenew()
		renew.Wait()
		if released {
			return
		}
		// Released even when ctx is done: use a short context of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.st.ReleaseSource(rctx, src.ID, w.sourceOwner); err != nil {
			log.Warn("releasing source lease failed", slog.Any("error", err))
		}
	}()
	prev, err := w.st.GetSource(ctx, src.ID)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		rep.Status, rep.Reason = model.PollError, err.Error()
		return rep
	}
	if onlyIfDue && !due(prev, now) {
		rep.Status, rep.Reason = model.PollSkipped, "polled by another instance moments ago"
		return rep
	}
	v := feeds.Validators{ETag: prev.ETag, LastModified: prev.LastModified}
	if prev.URL != "" && prev.URL != src.URL {
		v = feeds.Validators{} // the admin changed the URL: validators belong to the old one
	}
	// Asked only by sources with full_text, for posts in the answer: one
	// indexed lookup each, never the source's whole history.
	known := func(k string) bool {
		m, err := w.st.KnownKeys(ctx, src.ID, []string{k})
		return err == nil && m[k] != ""
	}
	res, perr := w.fetcher.Poll(ctx, src, v, known)
	// What was fetched is stored even when shutdown begins now: the writes
	// get a short context of their own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	pr := model.PollResult{SourceID: src.ID, URL: src.URL, At: now, ETag: prev.ETag, LastModified: prev.LastModified}
	var (
		retryAfter time.Duration
		toStore    []model.Item // new and changed posts of an ok poll
	)
	switch {
	case perr != nil:
		if ctx.Err() != nil {
			// Shutting down: leave the source as it was; the next start polls it.
			rep.Status, rep.Reason = model.PollError, "interrupted by shutdown"
			return rep
		}
		pr.Status, pr.Error = model.PollError, perr.Error()
		var fe *feeds.Error
		if errors.As(perr, &fe) {
			retryAfter = fe.RetryAfter
		}
	case res.NotModified:
		pr.Status = model.PollNotModified
		pr.ItemCount = prev.LastItemCount
	case len(res.Items) == 0 && res.Deferred == 0 && prev.LastItemCount > 0:
		pr.Status = model.PollError
		pr.Error = fmt.Sprintf("the source returned no posts although it had %d last time: its selectors or route probably broke", prev.LastItemCount)
	default:
		if !prev.PolledOnce {
			rankBackfill(res.Items)
		}
		kept, tooOld, err := w.withinRetention(wctx, src.ID, res.Items, now)
		if err != nil {
			pr.Status, pr.Error = model.PollError, err.Error()
			break
		}
		items, backlog, err := w.newAndChanged(wctx, src.ID, kept)
		if err != nil {
			pr.Status, pr.Error = model.PollError, err.Error()
			break
		}
		pr.Status = model.PollOK
		w.recordRefused(wctx, log, src.ID, res.Refused, now)
		pr.ETag, pr.LastModified = res.Validators.ETag, res.Validators.LastModified
		if backlog > 0 {
			// More new posts wait: the next poll must fetch the whole answer
			// again, so no validator may turn it into a 304.
			pr.ETag, pr.LastModified, pr.Backlog = "", "", true
		}
		pr.ItemCount = len(res.Items) + res.Deferred
		pr.ListShape = res.Shape
		pr.ArticleFetches, pr.ArticleFailures, pr.ArticleError = res.ArticleFetches, res.ArticleFailures, res.ArticleError
		rep.Items, rep.Refused = len(res.Items), len(res.Refused)
		rep.Deferred = res.Deferred
		rep.Waiting = backlog
		rep.TooOld = tooOld
		toStore = items
	}
	if fetched != nil {
		fetched(len(toStore))
	}
	var st model.Source
	stored := false
	if len(toStore) > 0 {
		// The posts and the poll's record (which releases the lease) are
		// one write; when it fails, neither is stored and the failure is
		// recorded below instead.
		w.finishPoll(src, &pr, prev, now, retryAfter, stopRenew, &renew)
		var up store.UpsertResult
		up, st, err = w.st.StorePoll(wctx, src.ID, toStore, now, store.UpsertOptions{Ready: w.readyAtStore(src)}, pr)
		if err == nil {
			stored = true
			rep.New, rep.Updated = len(up.New), len(up.Updated)
			if rep.Waiting > 0 {
				log.Info("more new posts than fetch.max_items_per_poll; the rest come with the next polls",
					slog.Int("stored", len(up.New)), slog.Int("waiting", rep.Waiting))
			}
			if len(up.New)+len(up.Updated) > len(up.Ready) {
				w.Wake()
			}
		} else {
			pr = model.PollResult{SourceID: src.ID, URL: src.URL, At: now, ETag: prev.ETag, LastModified: prev.LastModified,
				Status: model.PollError, Error: err.Error()}
			rep.Items, rep.Refused, rep.Deferred, rep.Waiting, rep.TooOld = 0, 0, 0, 0, 0
		}
	}
	if !stored {
		w.finishPoll(src, &pr, prev, now, retryAfter, stopRenew, &renew)
		st, err = w.st.RecordPoll(wctx, pr)
	}
	released = err == nil && pr.ReleaseFor != ""
	if err != nil {
		log.Error("recording poll failed", slog.Any("error", err))
	}
	w.m.poll(src.ID, pr.Status, rep.New)
	switch pr.Status {
	case model.PollOK:
		rep.Status = model.PollOK
		log.Info("polled", slog.Int("new", rep.New), slog.Int("updated", rep.Updated), slog.Int("items", rep.Items))
		// A changed list shape alerts once; a page that flips between two
		// shapes alerts at most once a day.
		if err == nil && !st.ShapeChangedAt.IsZero() && st.ShapeChangedAt.Equal(pr.At) &&
			(prev.ShapeChangedAt.IsZero() || pr.At.Sub(prev.ShapeChangedAt) >= ShapeAlertEvery) {
			w.alertShape(ctx, src, st)
		}
	case model.PollNotModified:
		rep.Status = model.PollNotModified
		log.Debug(model.PollNotModified.String())
	default:
		rep.Status, rep.Reason = model.PollError, pr.Error
		log.Warn("poll failed", slog.String("reason", pr.Error), slog.Int("consecutive_errors", st.ConsecutiveErrors),
			slog.Time("next_poll", pr.NextPollAt))
		w.alertSource(ctx, src, st)
	}
	return rep
}

// finishPoll completes the record of a poll about to be written: its next
// poll time and, when it did not fail, the release of its lease (nothing
// more is written under the lease after a poll that did not fail, so the
// record releases it: one write instead of two). The lease renewal stops
// first.
func (w *Worker) finishPoll(src config.Source, pr *model.PollResult, prev model.Source, now time.Time, retryAfter time.Duration,
	stopRenew context.CancelFunc, renew *sync.WaitGroup) {
	errs := prev.ConsecutiveErrors
	if pr.Status == model.PollError {
		errs++
	} else {
		errs = 0
	}
	pr.NextPollAt = w.nextPoll(src, now, errs, retryAfter)
	pr.ReleaseFor = ""
	if pr.Status != model.PollError {
		stopRenew()
		renew.Wait()
		pr.ReleaseFor = w.sourceOwner
	}
}

// ShapeAlertEvery is the least time between two alerts about one source's
// list changing shape.
const ShapeAlertEvery = 24 * time.Hour

// maxRefusedExamples is how many refused links a source's status keeps.
const maxRefusedExamples = 5

// recordRefused logs the links the address guard refused in a poll and
// keeps them for /status. Their posts were stored with the feed's text.
func (w *Worker) recordRefused(ctx context.Context, log *slog.Logger, sourceID string, refused []feeds.RefusedLink, now time.Time) {
	if len(refused) == 0 {
		return
	}
	r := store.RefusedLinks{At: now, Count: len(refused)}
	for _, l := range refused[:min(len(refused), maxRefusedExamples)] {
		r.Examples = append(r.Examples, store.RefusedLink{URL: l.URL, Reason: l.Reason})
	}
	log.Warn("links to non-public addresses not fetched; their posts keep the feed's text",
		slog.Int("refused", len(refused)), slog.String("url", refused[0].URL), slog.String("reason", refused[0].Reason))
	if err := w.st.SetRefusedLinks(ctx, sourceID, r); err != nil {
		log.Warn("recording refused links failed", slog.Any("error", err))
	}
}

// AlertAfter is the number of consecutive failed polls that alerts the admins.
const AlertAfter = 5

func (w *Worker) alertSource(ctx context.Context, src config.Source, st model.Source) {
	if w.alerter == nil || st.ConsecutiveErrors < AlertAfter || !st.AlertedAt.IsZero() {
		return
	}
	since := st.FailingSince.In(model.China()).Format("2006-01-02 15:04 CST")
	msg := fmt.Sprintf("⚠️ Source %s (%s) has failed %d polls in a row since %s.\nLast error: %s",
		src.ID, src.Name, st.ConsecutiveErrors, since, st.LastError)
	if err := w.alerter.AlertAdmins(ctx, msg); err != nil {
		w.log.Warn("alerting admins failed", slog.String("source", src.ID), slog.Any("error", err))
		return
	}
	if err := w.st.SetSourceAlerted(ctx, src.ID, w.now()); err != nil {
		w.log.Warn("recording alert failed", slog.String("source", src.ID), slog.Any("error", err))
	}
}

// alertShape tells the admins that a source read without selectors found
// its list in a different shape (the page's layout changed: its posts may
// now be read from the wrong block).
func (w *Worker) alertShape(ctx context.Context, src config.Source, st model.Source) {
	w.log.Warn("list shape changed", slog.String("source", src.ID), slog.String("was", st.ListShapeWas), slog.String("now", st.ListShape))
	if w.alerter == nil {
		return
	}
	msg := fmt.Sprintf("⚠️ Source %s (%s): the page's list changed shape; check its posts on /status.\nWas: %s\nNow: %s\n"+
		"To pin it, run `transfeed discover %s` and paste the html: selectors.", src.ID, src.Name, st.ListShapeWas, st.ListShape, feeds.RedactURL(src.URL))
	if err := w.alerter.AlertAdmins(ctx, msg); err != nil {
		w.log.Warn("alerting admins failed", slog.String("source", src.ID), slog.Any("error", err))
	}
}

// nextPoll is when the source may be polled again: its next scheduled time,
// pushed back by exponential backoff after failures and by Retry-After.
func (w *Worker) nextPoll(src config.Source, now time.Time, errs int, retryAfter time.Duration) time.Time {
	next := now.Add(15 * time.Minute)
	interval := 15 * time.Minute
	if sch, err := config.ParseSchedule(src.Schedule); err == nil {
		next = sch.Next(now)
		interval = max(sch.Next(next).Sub(next), time.Minute)
	}
	if errs > 0 {
		// Back off from a fraction of the interval so a 15-minute source is
		// retried after 1–2 minutes first, then ever more slowly.
		if b := now.Add(backoff(errs, min(interval/8, 10*time.Minute))); b.After(next) || errs > 1 {
			next = b
		}
	}
	if ra := now.Add(retryAfter); retryAfter > 0 && ra.After(next) {
		next = ra
	}
	return next
}

// withinRetention drops the items published before the source's retention
// boundary (retention.max_age, retention.max_posts_per_source) and says how
// many it dropped. The sweep deletes such a post, so storing it would bring
// it back as new after every sweep, and push it to Telegram again; an edit
// of one would be translated again only to be deleted. Posts without a date
// are kept (they are dated by their first poll).
func (w *Worker) withinRetention(ctx context.Context, sourceID string, items []model.Item, now time.Time) ([]model.Item, int, error) {
	pol := w.retention()
	if !pol.Enabled() || len(items) == 0 {
		return items, 0, nil
	}
	boundary, err := w.st.RetentionBoundary(ctx, sourceID, pol, now)
	if err != nil || boundary.IsZero() {
		return items, 0, err
	}
	kept := make([]model.Item, 0, len(items))
	for _, it := range items {
		if !it.Published.IsZero() && it.Published.Before(boundary) {
			continue
		}
		kept = append(kept, it)
	}
	return kept, len(items) - len(kept), nil
}

// newAndChanged drops the items stored with the same content hash (nothing
// to do) and, when there are more new items than fetch.max_items_per_poll,
// keeps the newest that many (the changed ones are all kept). It returns
// what to store and how many new ones wait.
func (w *Worker) newAndChanged(ctx context.Context, sourceID string, items []model.Item) ([]model.Item, int, error) {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	known, err := w.st.KnownKeys(ctx, sourceID, keys)
	if err != nil {
		return nil, 0, err
	}
	var (
		out   = make([]model.Item, 0, len(items))
		fresh []int // indexes in out of new items
	)
	for _, it := range items {
		h, ok := known[it.Key]
		switch {
		case ok && h == it.ContentHash:
			continue
		case !ok:
			fresh = append(fresh, len(out))
		}
		out = append(out, it)
	}
	limit := w.cfg.Fetch.MaxItemsPerPoll
	if limit <= 0 || len(fresh) <= limit {
		return out, 0, nil
	}
	sort.SliceStable(fresh, func(a, b int) bool { return out[fresh[a]].Published.After(out[fresh[b]].Published) })
	drop := make(map[int]bool, len(fresh)-limit)
	for _, i := range fresh[limit:] {
		drop[i] = true
	}
	kept := out[:0:0]
	for i, it := range out {
		if !drop[i] {
			kept = append(kept, it)
		}
	}
	return kept, len(drop), nil
}

// readyAtStore is the store's UpsertOptions.Ready for src: posts that need
// no translation (or, with no provider, every post, marked untranslated)
// are stored ready with their deliveries in the poll's transaction, in
// bulk, instead of going through the claim loop one by one.
func (w *Worker) readyAtStore(src config.Source) func(model.Item) (model.Translation, []string, bool) {
	return func(it model.Item) (model.Translation, []string, bool) {
		var t model.Translation
		switch {
		case !translate.NeedsTranslation(src.Translate, it):
		case w.engine == nil:
			t.Untranslated = true
		default:
			return t, nil, false
		}
		it.Untranslated = t.Untranslated
		var channels []string
		if w.route != nil {
			channels = w.route(it)
		}
		return t, channels, true
	}
}

// rankBackfill ranks the posts of a source's first successful poll (0 =
// newest) for channels' backfill; later posts keep rank -1.
func rankBackfill(items []model.Item) {
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return items[idx[a]].Published.After(items[idx[b]].Published) })
	for rank, i := range idx {
		items[i].BackfillRank = rank
	}
}

// Wake nudges the translation loop.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// PollAll polls the given sources concurrently (the fetcher enforces the
// global and per-host limits) and returns the reports in the given order.
func (w *Worker) PollAll(ctx context.Context, srcs []config.Source) []PollReport {
	return w.pollAll(ctx, srcs, false)
}

func (w *Worker) pollAll(ctx context.Context, srcs []config.Source, onlyIfDue bool) []PollReport {
	// As many polls fetch at once as the fetcher may fetch at once. A poll
	// whose answer is parsed gives its fetch slot to the next source while
	// it waits for its write; as many may wait as fetch, holding at most
	// maxWaitingPosts posts between them (a poll waits for room in its
	// fetch slot). The waiting writes share the group commit's
	// transactions (on SQLite), so a cycle writes in fewer, larger ones,
	// while no more than twice fetch.concurrency sources are leased (a poll
	// holds its lease from its claim to its write).
	reps := make([]PollReport, len(srcs))
	n := max(w.cfg.Fetch.Concurrency, 1)
	fetching, writing := make(chan struct{}, n), make(chan struct{}, n)
	waitingPosts := semaphore.NewWeighted(maxWaitingPosts)
	var wg sync.WaitGroup
	for i, s := range srcs {
		select {
		case fetching <- struct{}{}:
		case <-ctx.Done():
			reps[i] = PollReport{Source: s.ID, Status: model.PollError, Reason: "interrupted by shutdown"}
			continue
		}
		wg.Go(func() {
			slot, held := fetching, int64(0)
			defer func() {
				<-slot
				waitingPosts.Release(held)
			}()
			reps[i] = w.pollSource(ctx, s, onlyIfDue, func(posts int) {
				// The write goes on when shutdown begins: so does this wait,
				// for the writes before it.
				held = int64(min(posts, maxWaitingPosts))
				_ = waitingPosts.Acquire(context.WithoutCancel(ctx), held)
				writing <- struct{}{}
				<-fetching
				slot = writing
			})
		})
	}
	wg.Wait()
	return reps
}

// maxWaitingPosts bounds the parsed posts of the polls waiting for their
// write (their memory): a 100,000-post import (100 per poll, fetch
// concurrency 16) peaked at 150 MB when sixteen such polls could wait, and
// at 131 MB when eight could; at ten posts a poll, as many wait as fetch.
const maxWaitingPosts = 800

// jitter spreads sources that share a schedule over a window (half the
// interval, at most five minutes), by a stable hash of the id, so that
// hundreds of sources on one schedule poll a few per second, not all at once.
func jitter(id string, interval time.Duration) time.Duration {
	window := min(interval/2, 5*time.Minute)
	if window <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(window))
}
