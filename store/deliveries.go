package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/transfeed/transfeed/model"
)

const deliveryColumns = `id, item_id, channel, state, attempts, next_attempt_at, message_id, error, created_at,
	sent_at, lease_owner, lease_until`

func scanDelivery(sc rowScanner) (model.Delivery, error) {
	var (
		d                                      model.Delivery
		nextAttempt, created, sent, leaseUntil int64
	)
	err := sc.Scan(&d.ID, &d.ItemID, &d.Channel, &d.State, &d.Attempts, &nextAttempt, &d.MessageID, &d.Error,
		&created, &sent, &d.LeaseOwner, &leaseUntil)
	if err != nil {
		return model.Delivery{}, err
	}
	d.NextAttemptAt = fromMS(nextAttempt)
	d.CreatedAt = fromMS(created)
	d.SentAt = fromMS(sent)
	d.LeaseUntil = fromMS(leaseUntil)
	return d, nil
}

// claimDeliveriesQuery picks the deliveries ClaimDeliveries leases
// (parameters: now, now, now, limit), on the (state, created_at, id) index.
const claimDeliveriesQuery = `SELECT d.id FROM deliveries d
	WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ?
	AND NOT EXISTS (
		SELECT 1 FROM channel_state c
		WHERE c.channel = d.channel AND (c.paused = TRUE OR c.paused_until > ?)
	)
	ORDER BY d.created_at, d.id
	LIMIT ?`

// ClaimDeliveries leases to owner, until now+lease, up to limit pending
// deliveries that are due (NextAttemptAt <= now), not leased by anyone else,
// and whose channel is not paused (no channel_state row, or Paused false and
// PausedUntil <= now); oldest first (CreatedAt, then id). Two claimers never
// get the same delivery while its lease runs; a sent or failed delivery is
// never returned.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error) {
	if owner == "" {
		return nil, errors.New("store: claim deliveries: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMS := ms(now)
	var out []model.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE deliveries SET lease_owner = ?, lease_until = ?
			WHERE id IN (
				`+claimDeliveriesQuery+s.d.skipLocked+`
			)
			RETURNING `+deliveryColumns),
			owner, ms(now.Add(lease)), nowMS, nowMS, nowMS, limit)
		if err != nil {
			return fmt.Errorf("store: claim deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return fmt.Errorf("store: claim deliveries: %w", err)
			}
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: claim deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b model.Delivery) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// MarkDelivered marks a delivery sent with Telegram's message id, clearing
// its lease and error. ErrNotFound when there is no such delivery.
func (s *Store) MarkDelivered(ctx context.Context, id int64, messageID int64, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("mark delivery %d delivered", id),
		`UPDATE deliveries SET state = 'sent', message_id = ?, sent_at = ?, error = '', lease_owner = '', lease_until = 0
		WHERE id = ?`, messageID, ms(at), id)
}

// MarkDeliveryRetry records a failed attempt that will be retried at next:
// Attempts+1, the reason, lease cleared; the state is left as it is.
// ErrNotFound when there is no such delivery.
func (s *Store) MarkDeliveryRetry(ctx context.Context, id int64, reason string, next time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("mark delivery %d retry", id),
		`UPDATE deliveries SET attempts = attempts + 1, error = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ?`, reason, ms(next), id)
}

// ReleaseDelivery hands a claimed delivery back without counting an
// attempt: lease cleared, due again at next; Attempts and Error are left as
// they are. For deliveries the sender claimed but did not try (pacing,
// shutdown, another delivery's 429). A sent or failed delivery keeps its
// state and due time. ErrNotFound when there is no such delivery.
func (s *Store) ReleaseDelivery(ctx context.Context, id int64, next time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("release delivery %d", id),
		`UPDATE deliveries SET next_attempt_at = CASE WHEN state = 'pending' THEN ? ELSE next_attempt_at END,
		lease_owner = '', lease_until = 0 WHERE id = ?`, ms(next), id)
}

// MarkDeliveryFailed marks a delivery permanently failed (Attempts+1, the
// reason, lease cleared). A sent delivery stays sent. ErrNotFound when there
// is no such delivery.
func (s *Store) MarkDeliveryFailed(ctx context.Context, id int64, reason string) error {
	what := fmt.Sprintf("mark delivery %d failed", id)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var state model.DeliveryState
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT state FROM deliveries WHERE id = ?`), id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: %s: %w", what, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		if state == model.DeliverySent {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.d.rebind(`UPDATE deliveries SET state = 'failed', attempts = attempts + 1, error = ?,
			lease_owner = '', lease_until = 0 WHERE id = ?`), reason, id)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}

// RetryFailedDeliveries puts the failed deliveries of channel ("" = every
// channel) back to pending, due at once, with Attempts 0 and no error. It
// returns how many it requeued.
func (s *Store) RetryFailedDeliveries(ctx context.Context, channel string) (int, error) {
	query := `UPDATE deliveries SET state = 'pending', attempts = 0, error = '', next_attempt_at = 0,
		lease_owner = '', lease_until = 0 WHERE state = 'failed'
		AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.delivery_id = deliveries.id AND r.state = 'skipped')`
	var args []any
	if channel != "" {
		query += ` AND channel = ?`
		args = append(args, channel)
	}
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: retry failed deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: retry failed deliveries: %w", err)
	}
	return int(n), nil
}

// deliveryBacklogsQuery reads the per-channel counters kept on write by
// triggers on deliveries (migration 0006).
const deliveryBacklogsQuery = `SELECT channel, pending, sent, failed FROM delivery_counts
	WHERE pending <> 0 OR sent <> 0 OR failed <> 0 ORDER BY channel`

// DeliveryBacklogs counts deliveries per state for every channel that has
// any, ordered by channel.
func (s *Store) DeliveryBacklogs(ctx context.Context) ([]model.DeliveryBacklog, error) {
	rows, err := s.r.QueryContext(ctx, deliveryBacklogsQuery)
	if err != nil {
		return nil, fmt.Errorf("store: delivery backlogs: %w", err)
	}
	defer rows.Close()
	var out []model.DeliveryBacklog
	for rows.Next() {
		var b model.DeliveryBacklog
		if err := rows.Scan(&b.Channel, &b.Pending, &b.Sent, &b.Failed); err != nil {
			return nil, fmt.Errorf("store: delivery backlogs: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delivery backlogs: %w", err)
	}
	return out, nil
}

const channelStateColumns = `channel, chat_id, paused, paused_until, reason, alerted_at`

func scanChannelState(sc rowScanner) (model.ChannelState, error) {
	var (
		st                 model.ChannelState
		pausedUntil, alert int64
	)
	if err := sc.Scan(&st.Channel, &st.ChatID, &st.Paused, &pausedUntil, &st.Reason, &alert); err != nil {
		return model.ChannelState{}, err
	}
	st.PausedUntil = fromMS(pausedUntil)
	st.AlertedAt = fromMS(alert)
	return st, nil
}

// GetChannelState returns a channel's pause state; the zero state (not
// paused) with Channel set when none is stored.
func (s *Store) GetChannelState(ctx context.Context, channel string) (model.ChannelState, error) {
	st, err := scanChannelState(s.r.QueryRowContext(ctx,
		s.d.rebind(`SELECT `+channelStateColumns+` FROM channel_state WHERE channel = ?`), channel))
	if errors.Is(err, sql.ErrNoRows) {
		return model.ChannelState{Channel: channel}, nil
	}
	if err != nil {
		return model.ChannelState{}, fmt.Errorf("store: get channel state %q: %w", channel, err)
	}
	return st, nil
}

// SetChannelState stores (inserts or replaces) a channel's state.
func (s *Store) SetChannelState(ctx context.Context, st model.ChannelState) error {
	if st.Channel == "" {
		return errors.New("store: set channel state: empty channel")
	}
	_, err := s.exec(ctx, `INSERT INTO channel_state (channel, chat_id, paused, paused_until, reason, alerted_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (channel) DO UPDATE SET chat_id = excluded.chat_id, paused = excluded.paused,
		paused_until = excluded.paused_until, reason = excluded.reason, alerted_at = excluded.alerted_at`,
		st.Channel, st.ChatID, st.Paused, ms(st.PausedUntil), st.Reason, ms(st.AlertedAt))
	if err != nil {
		return fmt.Errorf("store: set channel state %q: %w", st.Channel, err)
	}
	return nil
}

// ListChannelStates returns every stored channel state, ordered by channel.
func (s *Store) ListChannelStates(ctx context.Context) ([]model.ChannelState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+channelStateColumns+` FROM channel_state ORDER BY channel`)
	if err != nil {
		return nil, fmt.Errorf("store: list channel states: %w", err)
	}
	defer rows.Close()
	var out []model.ChannelState
	for rows.Next() {
		st, err := scanChannelState(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list channel states: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list channel states: %w", err)
	}
	return out, nil
}
