package store

import (
	"context"
	"encoding/json"
	"fmt"
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
