package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// RefusedLinks is the latest poll of a source in which the address guard
// refused links (article pages or redirects pointing at private
// addresses). It stays until a later poll refuses links again, so the
// status page keeps showing it after polls that fetched nothing new.
type RefusedLinks struct {
	At       time.Time     `json:"at"`
	Count    int           `json:"count"`
	Examples []RefusedLink `json:"examples"` // the first few, URLs redacted
}

// RefusedLink is one refused link and the guard's reason.
type RefusedLink struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

func refusedKey(sourceID string) string { return "refused_links/" + sourceID }

// SetRefusedLinks records the refused links of a source's latest poll.
func (s *Store) SetRefusedLinks(ctx context.Context, sourceID string, r RefusedLinks) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store: refused links %q: %w", sourceID, err)
	}
	return s.SetMeta(ctx, refusedKey(sourceID), string(b))
}

// GetRefusedLinks returns the last refused links of a source; the zero
// value when none were ever refused.
func (s *Store) GetRefusedLinks(ctx context.Context, sourceID string) (RefusedLinks, error) {
	v, err := s.GetMeta(ctx, refusedKey(sourceID))
	if err != nil || v == "" {
		return RefusedLinks{}, err
	}
	var r RefusedLinks
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return RefusedLinks{}, fmt.Errorf("store: refused links %q: %w", sourceID, err)
	}
	return r, nil
}

// ListRefusedLinks returns the last refused links of every source that
// ever had some, by source id: one query for the status page instead of
// one per source. (The meta table holds a few rows per source, never per
// post.)
func (s *Store) ListRefusedLinks(ctx context.Context) (map[string]RefusedLinks, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM meta WHERE key LIKE 'refused\_links/%' ESCAPE '\'`)
	if err != nil {
		return nil, fmt.Errorf("store: list refused links: %w", err)
	}
	defer rows.Close()
	out := map[string]RefusedLinks{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: list refused links: %w", err)
		}
		id := strings.TrimPrefix(k, refusedKey(""))
		var r RefusedLinks
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("store: refused links %q: %w", id, err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list refused links: %w", err)
	}
	return out, nil
}
