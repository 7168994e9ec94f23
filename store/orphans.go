package store

import (
	"context"
	"fmt"
	"time"
)

// The claim holders' queries, one per partial index: a state IN (...) over
// items would be planned on no index and read every stored post. They read
// the leased rows (the backlog), and ClaimHolders keeps each owner once.
const (
	claimHoldersNewQuery        = `SELECT lease_owner FROM items WHERE state = 'new' AND lease_until > ?`
	claimHoldersRetryQuery      = `SELECT lease_owner FROM items WHERE state = 'translating' AND lease_until > ?`
	claimHoldersDeliveriesQuery = `SELECT lease_owner FROM deliveries WHERE state = 'pending' AND lease_until > ?`
)

// ClaimHolders returns the owners holding unexpired claims on posts to
// translate or deliveries to send at now. The queries read only posts
// waiting for translation and pending deliveries (state indexes), never
// the history.
func (s *Store) ClaimHolders(ctx context.Context, now time.Time) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, q := range []string{claimHoldersNewQuery, claimHoldersRetryQuery, claimHoldersDeliveriesQuery} {
		rows, err := s.r.QueryContext(ctx, s.d.rebind(q), ms(now))
		if err != nil {
			return nil, fmt.Errorf("store: claim holders: %w", err)
		}
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: claim holders: %w", err)
			}
			if o != "" && !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: claim holders: %w", err)
		}
	}
	return out, nil
}

// ReleaseOwner hands back every claim owner holds on posts to translate and
// pending deliveries, so they can be claimed again at once: for the claims
// of a process known to be gone. It returns how many were released.
func (s *Store) ReleaseOwner(ctx context.Context, owner string) (int64, error) {
	if owner == "" {
		return 0, fmt.Errorf("store: release owner: empty owner")
	}
	var n int64
	for _, q := range []string{
		`UPDATE items SET lease_owner = '', lease_until = 0 WHERE state IN ('new', 'translating') AND lease_owner = ?`,
		`UPDATE deliveries SET lease_owner = '', lease_until = 0 WHERE state = 'pending' AND lease_owner = ?`,
	} {
		res, err := s.exec(ctx, q, owner)
		if err != nil {
			return n, fmt.Errorf("store: release owner %q: %w", owner, err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
