package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrStale is returned by MarkReady when the item's original changed after
// the translation was made (Translation.OriginalHash no longer matches): the
// translation is discarded and the item, back in StateNew, is translated
// again.
var ErrStale = errors.New("store: the original changed since it was translated")

// ReserveSend reserves the next send slot of a Telegram chat for every
// instance sharing the database: when the chat's slot is free at now, it
// moves the slot to now+minGap and reports ok; otherwise it reports how long
// until the slot is free (wait > 0) and changes nothing. One atomic
// statement on both engines, so two instances never both get a slot closer
// than minGap. A uniform gap also bounds any window: a 3 s gap allows at
// most 20 messages a minute (Telegram's per-group rule).
func (s *Store) ReserveSend(ctx context.Context, channel string, now time.Time, minGap time.Duration) (bool, time.Duration, error) {
	if channel == "" {
		return false, 0, errors.New("store: reserve send: empty channel")
	}
	nowMS := ms(now)
	var (
		ok   bool
		wait time.Duration
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var next int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO chat_pacing (channel, next_send_at) VALUES (?, ?)
			ON CONFLICT (channel) DO UPDATE SET next_send_at = excluded.next_send_at
			WHERE chat_pacing.next_send_at <= ?
			RETURNING next_send_at`), channel, nowMS+minGap.Milliseconds(), nowMS).Scan(&next)
		if err == nil {
			ok, wait = true, 0
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: reserve send %q: %w", channel, err)
		}
		err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT next_send_at FROM chat_pacing WHERE channel = ?`), channel).Scan(&next)
		if err != nil {
			return fmt.Errorf("store: reserve send %q: %w", channel, err)
		}
		ok, wait = false, max(time.Duration(next-nowMS)*time.Millisecond, time.Millisecond)
		return nil
	})
	if err != nil {
		return false, 0, err
	}
	return ok, wait, nil
}

// ClaimLeader takes or renews the named lease for owner until now+lease
// when nobody else holds it unexpired, and reports whether owner holds it
// now. Use it for work only one instance may do (the admin long-poller):
// renew well within the lease, and stop the work when a renewal fails.
func (s *Store) ClaimLeader(ctx context.Context, name, owner string, now time.Time, lease time.Duration) (bool, error) {
	if name == "" || owner == "" {
		return false, errors.New("store: claim leader: empty name or owner")
	}
	var got string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO leases (name, owner, lease_until) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE leases.lease_until <= ? OR leases.owner = excluded.owner
			RETURNING owner`), name, owner, ms(now.Add(lease)), ms(now)).Scan(&got)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: claim leader %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return got == owner, nil
}

// ReleaseLeader ends owner's hold on the named lease so another instance
// can take it at once. Releasing a lease held by someone else does nothing.
func (s *Store) ReleaseLeader(ctx context.Context, name, owner string) error {
	_, err := s.exec(ctx, `UPDATE leases SET owner = '', lease_until = 0 WHERE name = ? AND owner = ?`, name, owner)
	if err != nil {
		return fmt.Errorf("store: release leader %q: %w", name, err)
	}
	return nil
}
