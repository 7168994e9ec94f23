package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/transfeed/transfeed/model"
)

// sourceSelect reads a source with its item counts; its single parameter
// is the "last 24 h" cut-off hour (unix milliseconds / 3,600,000, see
// cutoffHour). Both counts are counters kept on write by triggers:
// ItemCount in source_stats, ItemsLast24h the sum of at most 25 hourly
// buckets of source_hours (posts first seen since the start of the hour
// 24 h ago), so neither grows with the source's history or a big import.
const sourceSelect = `SELECT s.id, s.url, s.etag, s.last_modified, s.last_poll_at, s.last_status, s.last_error,
	s.last_success_at, s.next_poll_at, s.consecutive_errors, s.failing_since, s.alerted_at,
	s.last_item_count, s.polled_once, s.list_shape, s.list_shape_was, s.shape_changed_at, COALESCE(st.item_count, 0),
	(SELECT COALESCE(SUM(h.n), 0) FROM source_hours h WHERE h.source_id = s.id AND h.hour >= ?),
	s.polls, s.article_fetches, s.article_failures, s.last_article_error, s.last_article_error_at
FROM sources s
LEFT JOIN source_stats st ON st.source_id = s.id`

// cutoffHour is the first hourly bucket counted in ItemsLast24h at now.
func cutoffHour(now time.Time) int64 { return now.Add(-24*time.Hour).UnixMilli() / 3600000 }

type rowScanner interface {
	Scan(dest ...any) error
}

func scanSource(sc rowScanner) (model.Source, error) {
	var (
		src                                                      model.Source
		lastPoll, lastSuccess, nextPoll, failingSince, alertedAt int64
		shapeChanged, articleErrAt                               int64
	)
	err := sc.Scan(&src.ID, &src.URL, &src.ETag, &src.LastModified, &lastPoll, &src.LastStatus, &src.LastError,
		&lastSuccess, &nextPoll, &src.ConsecutiveErrors, &failingSince, &alertedAt,
		&src.LastItemCount, &src.PolledOnce, &src.ListShape, &src.ListShapeWas, &shapeChanged, &src.ItemCount, &src.ItemsLast24h,
		&src.Polls, &src.ArticleFetches, &src.ArticleFailures, &src.LastArticleError, &articleErrAt)
	if err != nil {
		return model.Source{}, err
	}
	src.LastPollAt = fromMS(lastPoll)
	src.LastSuccessAt = fromMS(lastSuccess)
	src.NextPollAt = fromMS(nextPoll)
	src.FailingSince = fromMS(failingSince)
	src.AlertedAt = fromMS(alertedAt)
	src.ShapeChangedAt = fromMS(shapeChanged)
	src.LastArticleErrorAt = fromMS(articleErrAt)
	return src, nil
}

// SyncSources creates a row for every configured source that has none and
// updates the URL of those whose URL changed. It never deletes anything:
// a source removed from the config keeps its items.
func (s *Store) SyncSources(ctx context.Context, ids map[string]string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO sources (id, url) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET url = excluded.url WHERE sources.url <> excluded.url`))
		if err != nil {
			return fmt.Errorf("store: sync sources: %w", err)
		}
		defer stmt.Close()
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			if _, err := stmt.ExecContext(ctx, id, ids[id]); err != nil {
				return fmt.Errorf("store: sync source %q: %w", id, err)
			}
		}
		return nil
	})
}

// GetSource returns one source with its item counts (last 24 h by the wall
// clock). ErrNotFound when there is no such source.
func (s *Store) GetSource(ctx context.Context, id string) (model.Source, error) {
	st, err := s.readStmts.get(ctx, s.r, s.d.rebind(getSourceQuery))
	if err != nil {
		return model.Source{}, fmt.Errorf("store: get source %q: %w", id, err)
	}
	return s.sourceByStmt(ctx, st, id, s.now())
}

// getSourceQuery reads one source (cut-off hour, id).
const getSourceQuery = sourceSelect + ` WHERE s.id = ?`

// sourceByStmt runs getSourceQuery prepared as st.
func (s *Store) sourceByStmt(ctx context.Context, st *sql.Stmt, id string, now time.Time) (model.Source, error) {
	src, err := scanSource(st.QueryRowContext(ctx, cutoffHour(now), id))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Source{}, fmt.Errorf("store: source %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return model.Source{}, fmt.Errorf("store: get source %q: %w", id, err)
	}
	return src, nil
}

// ListSources returns every stored source ordered by id, with ItemCount and
// ItemsLast24h (first seen at or after now-24h).
func (s *Store) ListSources(ctx context.Context, now time.Time) ([]model.Source, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(sourceSelect+` ORDER BY s.id`), cutoffHour(now))
	if err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	defer rows.Close()
	var out []model.Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list sources: %w", err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	return out, nil
}

// RecordPoll records the outcome of one poll and returns the source's new
// state (item counts relative to r.At). The row is created when missing.
//
//   - "ok": errors reset (ConsecutiveErrors, LastError, FailingSince,
//     AlertedAt), LastSuccessAt = At, validators replaced, LastItemCount set,
//     PolledOnce (unless Backlog: then it stays as it was); ListShape replaced, and when it
//     differs from a stored non-empty one, ListShapeWas = the old one and ShapeChangedAt = At.
//   - "not_modified": a success that keeps validators and LastItemCount.
//   - "error": ConsecutiveErrors+1, LastError, FailingSince (when not already
//     failing); validators kept.
//
// Every status sets LastPollAt, LastStatus and NextPollAt and counts one
// more poll; a non-empty URL replaces the stored one. An "ok" poll adds its
// article fetches and failures to the source's totals and, when one failed,
// records ArticleError as the last article failure. With ReleaseFor set,
// that owner's poll lease is released in the same transaction, as
// ReleaseSource would.
func (s *Store) RecordPoll(ctx context.Context, r model.PollResult) (model.Source, error) {
	record, err := s.recordPoll(ctx, r)
	if err != nil {
		return model.Source{}, err
	}
	var src model.Source
	err = s.write(ctx, 0, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		src, err = record(ctx, tx)
		return err
	})
	if err != nil {
		return model.Source{}, err
	}
	return src, nil
}

// recordPoll checks r and prepares its statements (outside a transaction),
// and returns the write of RecordPoll for a transaction.
func (s *Store) recordPoll(ctx context.Context, r model.PollResult) (func(context.Context, *sql.Tx) (model.Source, error), error) {
	var (
		query string
		args  []any
	)
	at := ms(r.At)
	switch r.Status {
	case model.PollOK:
		query = `UPDATE sources SET url = COALESCE(NULLIF(?, ''), url), last_poll_at = ?, last_status = ?,
			next_poll_at = ?, last_success_at = ?, consecutive_errors = 0, failing_since = 0, alerted_at = 0,
			last_error = '', etag = ?, last_modified = ?, last_item_count = ?,
			polled_once = CASE WHEN ? THEN polled_once ELSE TRUE END,
			shape_changed_at = CASE WHEN list_shape <> '' AND ? <> '' AND list_shape <> ? THEN ? ELSE shape_changed_at END,
			list_shape_was = CASE WHEN list_shape <> '' AND ? <> '' AND list_shape <> ? THEN list_shape ELSE list_shape_was END,
			list_shape = ?, polls = polls + 1,
			article_fetches = article_fetches + ?, article_failures = article_failures + ?,
			last_article_error = CASE WHEN ? > 0 THEN ? ELSE last_article_error END,
			last_article_error_at = CASE WHEN ? > 0 THEN ? ELSE last_article_error_at END
			WHERE id = ?`
		args = []any{r.URL, at, r.Status, ms(r.NextPollAt), at, r.ETag, r.LastModified, r.ItemCount, r.Backlog,
			r.ListShape, r.ListShape, at, r.ListShape, r.ListShape, r.ListShape,
			r.ArticleFetches, r.ArticleFailures, r.ArticleFailures, r.ArticleError, r.ArticleFailures, at, r.SourceID}
	case model.PollNotModified:
		query = `UPDATE sources SET url = COALESCE(NULLIF(?, ''), url), last_poll_at = ?, last_status = ?,
			next_poll_at = ?, last_success_at = ?, consecutive_errors = 0, failing_since = 0, alerted_at = 0,
			last_error = '', polls = polls + 1
			WHERE id = ?`
		args = []any{r.URL, at, r.Status, ms(r.NextPollAt), at, r.SourceID}
	case model.PollError:
		query = `UPDATE sources SET url = COALESCE(NULLIF(?, ''), url), last_poll_at = ?, last_status = ?,
			next_poll_at = ?, consecutive_errors = consecutive_errors + 1, last_error = ?,
			failing_since = CASE WHEN failing_since = 0 THEN ? ELSE failing_since END, polls = polls + 1
			WHERE id = ?`
		args = []any{r.URL, at, r.Status, ms(r.NextPollAt), r.Error, at, r.SourceID}
	default:
		return nil, fmt.Errorf("store: record poll %q: unknown status %q", r.SourceID, r.Status)
	}
	if r.SourceID == "" {
		return nil, fmt.Errorf("store: record poll: empty source id")
	}
	queries := []string{recordPollInsertQuery, query, releaseSourceQuery, getSourceQuery}
	st, err := s.writeStmts(ctx, queries...)
	if err != nil {
		return nil, fmt.Errorf("store: record poll %q: %w", r.SourceID, err)
	}
	return func(ctx context.Context, tx *sql.Tx) (model.Source, error) {
		if _, err := tx.StmtContext(ctx, st[0]).ExecContext(ctx, r.SourceID, r.URL); err != nil {
			return model.Source{}, fmt.Errorf("store: record poll %q: %w", r.SourceID, err)
		}
		if _, err := tx.StmtContext(ctx, st[1]).ExecContext(ctx, args...); err != nil {
			return model.Source{}, fmt.Errorf("store: record poll %q: %w", r.SourceID, err)
		}
		if r.ReleaseFor != "" {
			if _, err := tx.StmtContext(ctx, st[2]).ExecContext(ctx, r.SourceID, r.ReleaseFor); err != nil {
				return model.Source{}, fmt.Errorf("store: record poll %q: release: %w", r.SourceID, err)
			}
		}
		return s.sourceByStmt(ctx, tx.StmtContext(ctx, st[3]), r.SourceID, r.At)
	}, nil
}

// recordPollInsertQuery creates the row of a source polled before it was
// synced (id, url).
const recordPollInsertQuery = `INSERT INTO sources (id, url) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`

// SetSourceAlerted records when admins were told about the source's current
// failure run. ErrNotFound when there is no such source.
func (s *Store) SetSourceAlerted(ctx context.Context, id string, at time.Time) error {
	return s.execOne(ctx, "set source alerted", `UPDATE sources SET alerted_at = ? WHERE id = ?`, ms(at), id)
}

// ClaimSource leases the source to owner until now+lease when nobody else
// holds an unexpired lease on it (the holder may renew its own lease), and
// reports whether owner now holds the lease. A source without a row (not
// synced yet) gets one.
func (s *Store) ClaimSource(ctx context.Context, id, owner string, now time.Time, lease time.Duration) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("store: claim source %q: empty owner", id)
	}
	if id == "" {
		return false, errors.New("store: claim source: empty source id")
	}
	st, err := s.writeStmts(ctx, claimSourceInsertQuery, claimSourceQuery)
	if err != nil {
		return false, fmt.Errorf("store: claim source %q: %w", id, err)
	}
	var ok bool
	err = s.write(ctx, 0, func(ctx context.Context, tx *sql.Tx) error {
		ok = false
		if _, err := tx.StmtContext(ctx, st[0]).ExecContext(ctx, id); err != nil {
			return fmt.Errorf("store: claim source %q: %w", id, err)
		}
		res, err := tx.StmtContext(ctx, st[1]).ExecContext(ctx, owner, ms(now.Add(lease)), id, ms(now), owner)
		if err != nil {
			return fmt.Errorf("store: claim source %q: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store: claim source %q: %w", id, err)
		}
		ok = n > 0
		return nil
	})
	return ok, err
}

// ClaimSource's statements: the row of a source not synced yet (id), and
// the lease (owner, until, id, now, owner).
const (
	claimSourceInsertQuery = `INSERT INTO sources (id) VALUES (?) ON CONFLICT (id) DO NOTHING`
	claimSourceQuery       = `UPDATE sources SET lease_owner = ?, lease_until = ?
			WHERE id = ? AND (lease_until <= ? OR lease_owner = ?)`
)

// releaseSourceQuery gives up owner's poll lease of a source (id, owner).
const releaseSourceQuery = `UPDATE sources SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`

// ReleaseSource ends owner's lease on the source. Releasing a lease held by
// someone else, or none, does nothing.
func (s *Store) ReleaseSource(ctx context.Context, id, owner string) error {
	st, err := s.writeStmts(ctx, releaseSourceQuery)
	if err != nil {
		return fmt.Errorf("store: release source %q: %w", id, err)
	}
	err = s.write(ctx, 0, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, st[0]).ExecContext(ctx, id, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release source %q: %w", id, err)
	}
	return nil
}
