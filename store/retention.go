package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Retention is what a sweep keeps. Zero values keep everything.
type Retention struct {
	// MaxAge deletes posts published before now-MaxAge (0: any age is kept).
	MaxAge time.Duration
	// MaxPostsPerSource keeps each source's newest this many posts by
	// Published (0: all). Posts published at the same instant as the last
	// one kept are kept too.
	MaxPostsPerSource int
	// Batch is the most posts deleted in one transaction (default 500), so
	// a sweep never holds the write lock for long.
	Batch int
}

// Enabled tells whether the policy deletes anything at all.
func (r Retention) Enabled() bool { return r.MaxAge > 0 || r.MaxPostsPerSource > 0 }

// SweepResult counts what a sweep deleted.
type SweepResult struct {
	Items      int64
	Deliveries int64
	// Kept counts ready posts past the limits kept because a delivery of
	// theirs is still pending (they go in a later sweep, once sent or failed).
	Kept int64
	// NotReady counts posts past the limits kept because they are not
	// ready yet (new, or still being translated): a sweep deletes only
	// posts that are ready, so none is lost between its poll and its
	// publication; they go in a later sweep.
	NotReady int64
}

// Retention queries, each on an index of the source's posts by Published
// and bounded by its LIMIT or by what a sweep keeps (see plan_test.go).
const (
	// retentionBoundaryQuery: Published of a source's Nth newest post
	// (parameters: source, N-1).
	retentionBoundaryQuery = `SELECT published FROM items WHERE source_id = ?
		ORDER BY published DESC, id DESC LIMIT 1 OFFSET ?`
	// retentionAgeQuery: a batch of a source's ready posts published
	// before a cut-off, none with a pending delivery (parameters: source,
	// cut-off, batch), on the ready partial index. In no particular order:
	// all of them go, and sorting them would cost the whole remainder on
	// every batch. The always true "channel >= ''" makes SQLite look
	// deliveries up by item (its (item_id, channel) index), not every
	// pending one by state.
	retentionAgeQuery = `SELECT id FROM items WHERE source_id = ? AND state = 'ready' AND published < ?
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.item_id = items.id
			AND d.channel >= '' AND d.state = 'pending')
		LIMIT ?`
	// retentionKeptQuery: after a sweep of a source, its posts before the
	// cut-off that are not ready, and those ready (kept for a pending
	// delivery). Only what the sweep kept is left to count.
	retentionKeptQuery = `SELECT COALESCE(SUM(CASE WHEN state = 'ready' THEN 0 ELSE 1 END), 0),
		COALESCE(SUM(CASE WHEN state = 'ready' THEN 1 ELSE 0 END), 0)
		FROM items WHERE source_id = ? AND published < ?`
)

// RetentionBoundary is the Published before which p deletes a source's
// posts at now: the later of now-MaxAge and the Published of the source's
// MaxPostsPerSource-th newest post. The zero time when p deletes none of
// them. A poll stores no post published before it: the next sweep would
// delete it, and the poll after that store it again as new.
func (s *Store) RetentionBoundary(ctx context.Context, sourceID string, p Retention, now time.Time) (time.Time, error) {
	cutoff, err := s.retentionCutoff(ctx, sourceID, p, now)
	if err != nil || cutoff == 0 {
		return time.Time{}, err
	}
	return fromMS(cutoff), nil
}

// retentionCutoff is RetentionBoundary in milliseconds (0: none).
func (s *Store) retentionCutoff(ctx context.Context, sourceID string, p Retention, now time.Time) (int64, error) {
	cutoff := int64(0)
	if p.MaxAge > 0 {
		cutoff = ms(now.Add(-p.MaxAge))
	}
	if p.MaxPostsPerSource > 0 {
		var boundary int64
		err := s.r.QueryRowContext(ctx, s.d.rebind(retentionBoundaryQuery), sourceID, p.MaxPostsPerSource-1).Scan(&boundary)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// Fewer posts than the limit.
		case err != nil:
			return 0, fmt.Errorf("store: retention boundary of %q: %w", sourceID, err)
		default:
			cutoff = max(cutoff, boundary)
		}
	}
	return cutoff, nil
}

// Sweep applies the retention policy to every source that has posts: for
// each, it deletes (in batches of p.Batch, one transaction each) the posts
// older than MaxAge and those beyond the newest MaxPostsPerSource, with
// their sent and failed deliveries. Only ready posts are deleted: a post
// still new or being translated, and a post with a delivery still pending,
// is never deleted (both are counted, and go in a later sweep). The translation memory is not touched (a post fetched
// again costs nothing to translate). On SQLite, freed pages are then given
// back to the file system (incremental vacuum; databases created before
// migration 0006 reuse them instead). A cancelled ctx stops between
// batches; what was deleted stays deleted.
func (s *Store) Sweep(ctx context.Context, p Retention, now time.Time) (SweepResult, error) {
	var total SweepResult
	if !p.Enabled() {
		return total, nil
	}
	if p.Batch <= 0 {
		p.Batch = 500
	}
	var sources []string
	rows, err := s.r.QueryContext(ctx, `SELECT source_id FROM source_stats WHERE item_count > 0 ORDER BY source_id`)
	if err != nil {
		return total, fmt.Errorf("store: sweep: %w", err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return total, fmt.Errorf("store: sweep: %w", err)
		}
		sources = append(sources, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return total, fmt.Errorf("store: sweep: %w", err)
	}
	for _, src := range sources {
		r, err := s.sweepSource(ctx, src, p, now)
		total.Items += r.Items
		total.Deliveries += r.Deliveries
		total.Kept += r.Kept
		total.NotReady += r.NotReady
		if err != nil {
			return total, err
		}
	}
	if s.d.name == DriverSQLite && total.Items > 0 {
		if _, err := s.w.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return total, fmt.Errorf("store: sweep: incremental vacuum: %w", err)
		}
	}
	return total, nil
}

// sweepSource is Sweep for one source.
func (s *Store) sweepSource(ctx context.Context, sourceID string, p Retention, now time.Time) (SweepResult, error) {
	var res SweepResult
	cutoff, err := s.retentionCutoff(ctx, sourceID, p, now)
	if err != nil {
		return res, fmt.Errorf("store: sweep: %w", err)
	}
	if cutoff == 0 {
		return res, nil
	}
	for ctx.Err() == nil {
		n, d, err := s.sweepBatch(ctx, sourceID, cutoff, p.Batch)
		res.Items += n
		res.Deliveries += d
		if err != nil {
			return res, err
		}
		if n < int64(p.Batch) {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("store: sweep %q: %w", sourceID, err)
	}
	if err := s.r.QueryRowContext(ctx, s.d.rebind(retentionKeptQuery), sourceID, cutoff).Scan(&res.NotReady, &res.Kept); err != nil {
		return res, fmt.Errorf("store: sweep %q: %w", sourceID, err)
	}
	return res, nil
}

// sweepBatch deletes up to batch of the source's ready posts published
// before cutoff, and their deliveries, in one transaction.
func (s *Store) sweepBatch(ctx context.Context, sourceID string, cutoff int64, batch int) (items, deliveries int64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		items, deliveries = 0, 0
		if err := s.lockSourceStats(ctx, tx, sourceID); err != nil {
			return fmt.Errorf("store: sweep %q: %w", sourceID, err)
		}
		rows, err := tx.QueryContext(ctx, s.d.rebind(retentionAgeQuery+s.d.skipLocked), sourceID, cutoff, batch)
		if err != nil {
			return fmt.Errorf("store: sweep %q: %w", sourceID, err)
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: sweep %q: %w", sourceID, err)
			}
			ids = append(ids, id)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("store: sweep %q: %w", sourceID, err)
		}
		if len(ids) == 0 {
			return nil
		}
		in := `(` + placeholders(len(ids)) + `)`
		r, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM deliveries WHERE item_id IN `+in+` AND state <> 'pending'`), ids...)
		if err != nil {
			return fmt.Errorf("store: sweep %q: deliveries: %w", sourceID, err)
		}
		deliveries, _ = r.RowsAffected()
		// A delivery that became pending since the read keeps its post, and
		// so does a post sent back to translation since (PostgreSQL: another
		// transaction may have changed it between the two statements).
		r, err = tx.ExecContext(ctx, s.d.rebind(`DELETE FROM items WHERE id IN `+in+` AND state = 'ready'
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.item_id = items.id)`), ids...)
		if err != nil {
			return fmt.Errorf("store: sweep %q: items: %w", sourceID, err)
		}
		items, _ = r.RowsAffected()
		return nil
	})
	return items, deliveries, err
}
