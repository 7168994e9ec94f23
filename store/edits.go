package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/transfeed/transfeed/model"
)

// queueEdits marks every sent message of item for editing at now (table
// delivery_edits, migration 0009). It runs in the transaction that changes
// the item's English, so no change is ever left without its edits.
func (s *Store) queueEdits(ctx context.Context, tx *sql.Tx, itemID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO delivery_edits (delivery_id, due_at)
		SELECT id, ? FROM deliveries WHERE item_id = ? AND state = 'sent' AND message_id <> 0
		ON CONFLICT (delivery_id) DO UPDATE SET due_at = excluded.due_at, attempts = 0, error = '',
		lease_owner = '', lease_until = 0`), ms(now), itemID)
	if err != nil {
		return fmt.Errorf("store: queue message edits of item %d: %w", itemID, err)
	}
	return nil
}

// QueryDueEdits selects the edits due (every few seconds, on
// delivery_edits_due; see TestCorrectionPlans). Arguments: now, now, now, limit.
const QueryDueEdits = `SELECT e.delivery_id FROM delivery_edits e JOIN deliveries d ON d.id = e.delivery_id
	WHERE e.due_at <= ? AND e.lease_until <= ?
	AND NOT EXISTS (
		SELECT 1 FROM channel_state c
		WHERE c.channel = d.channel AND (c.paused = TRUE OR c.paused_until > ?)
	)
	ORDER BY e.due_at, e.delivery_id
	LIMIT ?`

// ClaimEdits leases to owner, until now+lease, up to limit sent deliveries
// whose message is due for an edit (due_at <= now, not leased by anyone
// else, channel not paused), oldest due first, and returns them.
func (s *Store) ClaimEdits(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Delivery, error) {
	if owner == "" {
		return nil, errors.New("store: claim edits: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMS := ms(now)
	var ids []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE delivery_edits SET lease_owner = ?, lease_until = ?
			WHERE delivery_id IN (`+QueryDueEdits+s.d.skipLocked+`)
			RETURNING delivery_id`), owner, ms(now.Add(lease)), nowMS, nowMS, nowMS, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim edits: %w", err)
	}
	out := make([]model.Delivery, 0, len(ids))
	for _, id := range ids {
		d, err := scanDelivery(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: claim edits: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// MarkEdited ends owner's edit of a delivery's message (done, or nothing
// to change). A row queued again while owner worked (a newer change of the
// English clears the lease) stays, so the newer text is sent too.
func (s *Store) MarkEdited(ctx context.Context, deliveryID int64, owner string) error {
	if _, err := s.exec(ctx, `DELETE FROM delivery_edits WHERE delivery_id = ? AND lease_owner = ?`, deliveryID, owner); err != nil {
		return fmt.Errorf("store: mark delivery %d edited: %w", deliveryID, err)
	}
	return nil
}

// MarkEditRetry records a failed edit, due again at next: Attempts+1, the
// reason, lease cleared.
func (s *Store) MarkEditRetry(ctx context.Context, deliveryID int64, reason string, next time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("mark delivery %d edit retry", deliveryID),
		`UPDATE delivery_edits SET attempts = attempts + 1, error = ?, due_at = ?, lease_owner = '', lease_until = 0
		WHERE delivery_id = ?`, reason, ms(next), deliveryID)
}

// PendingEdits counts the messages waiting for an edit.
func (s *Store) PendingEdits(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM delivery_edits`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: pending edits: %w", err)
	}
	return n, nil
}
