package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/transfeed/transfeed/model"
)

// TMGet looks segments up in the translation memory and returns key →
// translated text for the keys it holds.
func (s *Store) TMGet(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for start := 0; start < len(keys); start += maxInList {
		chunk := keys[start:min(start+maxInList, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT key, target FROM translation_memory WHERE key IN (`+
			placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: tm get: %w", err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: tm get: %w", err)
			}
			out[k] = v
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: tm get: %w", err)
		}
	}
	return out, nil
}

// TMPut stores segments in the translation memory, replacing any entry with
// the same key, and ends the reservations (TMReserve) of those keys, whoever
// holds them, in one transaction. Entries are written in key order, so
// concurrent writers never deadlock; for a key given twice the last entry
// wins.
func (s *Store) TMPut(ctx context.Context, entries []model.TMEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for _, e := range entries {
		if e.Key == "" {
			return errors.New("store: tm put: entry with empty key")
		}
	}
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b model.TMEntry) int { return strings.Compare(a.Key, b.Key) })
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO translation_memory (key, provider, source, target)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET provider = excluded.provider, source = excluded.source, target = excluded.target`))
		if err != nil {
			return fmt.Errorf("store: tm put: %w", err)
		}
		defer stmt.Close()
		done, err := tx.PrepareContext(ctx, s.d.rebind(`DELETE FROM tm_pending WHERE key = ?`))
		if err != nil {
			return fmt.Errorf("store: tm put: %w", err)
		}
		defer done.Close()
		for _, e := range sorted {
			if _, err := stmt.ExecContext(ctx, e.Key, e.Provider, e.Source, e.Target); err != nil {
				return fmt.Errorf("store: tm put: %w", err)
			}
			if _, err := done.ExecContext(ctx, e.Key); err != nil {
				return fmt.Errorf("store: tm put: %w", err)
			}
		}
		return nil
	})
}

// AddUsage adds characters and requests to a provider's count for day (UTC
// "2006-01-02"), atomically.
func (s *Store) AddUsage(ctx context.Context, day, provider string, chars, requests int64) error {
	_, err := s.exec(ctx, `INSERT INTO translation_usage (day, provider, chars, requests) VALUES (?, ?, ?, ?)
		ON CONFLICT (day, provider) DO UPDATE SET chars = translation_usage.chars + excluded.chars,
		requests = translation_usage.requests + excluded.requests`, day, provider, chars, requests)
	if err != nil {
		return fmt.Errorf("store: add usage: %w", err)
	}
	return nil
}

// GetUsage returns a provider's usage on day; zero counts when none.
func (s *Store) GetUsage(ctx context.Context, day, provider string) (model.Usage, error) {
	u := model.Usage{Day: day, Provider: provider}
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT chars, requests FROM translation_usage WHERE day = ? AND provider = ?`),
		day, provider).Scan(&u.Chars, &u.Requests)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return model.Usage{}, fmt.Errorf("store: get usage: %w", err)
	}
	return u, nil
}

// SetProviderState stores (inserts or replaces) a provider's pause state.
func (s *Store) SetProviderState(ctx context.Context, st model.ProviderState) error {
	if st.Provider == "" {
		return errors.New("store: set provider state: empty provider")
	}
	_, err := s.exec(ctx, `INSERT INTO provider_state (provider, paused_until, reason, alerted_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (provider) DO UPDATE SET paused_until = excluded.paused_until, reason = excluded.reason,
		alerted_at = excluded.alerted_at`,
		st.Provider, ms(st.PausedUntil), st.Reason, ms(st.AlertedAt))
	if err != nil {
		return fmt.Errorf("store: set provider state %q: %w", st.Provider, err)
	}
	return nil
}

// GetProviderState returns a provider's pause state; the zero state with
// Provider set when none is stored.
func (s *Store) GetProviderState(ctx context.Context, provider string) (model.ProviderState, error) {
	st := model.ProviderState{Provider: provider}
	var pausedUntil, alerted int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT paused_until, reason, alerted_at FROM provider_state WHERE provider = ?`),
		provider).Scan(&pausedUntil, &st.Reason, &alerted)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return model.ProviderState{}, fmt.Errorf("store: get provider state %q: %w", provider, err)
	}
	st.PausedUntil = fromMS(pausedUntil)
	st.AlertedAt = fromMS(alerted)
	return st, nil
}

// GetMeta returns the value stored under key; "" when none.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT value FROM meta WHERE key = ?`), key).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: get meta %q: %w", key, err)
	}
	return v, nil
}

// SetMeta stores value under key, replacing any previous value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: set meta %q: %w", key, err)
	}
	return nil
}
