package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// TMReserve reserves, for owner until now+lease, the translation-memory keys
// that are not in the memory yet and that nobody else holds unexpired, and
// returns the keys owner holds now (sorted, without duplicates). A key
// already in the memory is never returned: its translation is there to be
// read. Keys held by another owner are not returned until that owner stores
// them (TMPut), releases them (TMRelease) or its lease runs out.
//
// Several instances sharing the database call it before sending segments to
// a provider, so a segment two instances need at the same time is paid for
// once: the owner sends it, the others wait for it to appear in the memory.
//
// Each key is one atomic INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING
// on both engines, all in one transaction, in key order so that concurrent
// reservations never deadlock. On PostgreSQL a key stored by another
// transaction that commits while this one runs may still be returned: read
// the memory again after reserving (the engine does).
func (s *Store) TMReserve(ctx context.Context, keys []string, owner string, now time.Time, lease time.Duration) ([]string, error) {
	if owner == "" {
		return nil, errors.New("store: tm reserve: empty owner")
	}
	if lease <= 0 {
		return nil, fmt.Errorf("store: tm reserve: lease %s is not positive", lease)
	}
	keys = sortedKeys(keys)
	if len(keys) == 0 {
		return nil, nil
	}
	for _, k := range keys {
		if k == "" {
			return nil, errors.New("store: tm reserve: empty key")
		}
	}
	var owned []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO tm_pending (key, owner, lease_until)
			SELECT ?, ?, CAST(? AS BIGINT)
			WHERE NOT EXISTS (SELECT 1 FROM translation_memory WHERE key = ?)
			ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE tm_pending.lease_until <= ? OR tm_pending.owner = excluded.owner
			RETURNING key`))
		if err != nil {
			return fmt.Errorf("store: tm reserve: %w", err)
		}
		defer stmt.Close()
		until, nowMS := ms(now.Add(lease)), ms(now)
		for _, k := range keys {
			var got string
			err := stmt.QueryRowContext(ctx, k, owner, until, k, nowMS).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				continue // in the memory, or held by someone else
			}
			if err != nil {
				return fmt.Errorf("store: tm reserve: %w", err)
			}
			owned = append(owned, got)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return owned, nil
}

// TMRelease gives up owner's reservations of keys (those not stored with
// TMPut, which ends them by itself), so another instance can take them at
// once. Keys held by someone else are left alone.
func (s *Store) TMRelease(ctx context.Context, keys []string, owner string) error {
	keys = sortedKeys(keys)
	if len(keys) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// One key at a time, in key order, like TMReserve: no deadlock.
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`DELETE FROM tm_pending WHERE key = ? AND owner = ?`))
		if err != nil {
			return fmt.Errorf("store: tm release: %w", err)
		}
		defer stmt.Close()
		for _, k := range keys {
			if _, err := stmt.ExecContext(ctx, k, owner); err != nil {
				return fmt.Errorf("store: tm release: %w", err)
			}
		}
		return nil
	})
}

// sortedKeys returns the distinct keys in order (a new slice).
func sortedKeys(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	out := slices.Clone(keys)
	slices.Sort(out)
	return slices.Compact(out)
}
