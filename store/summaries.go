package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/transfeed/transfeed/model"
)

// GetSummary returns the stored summary of an item's version (its content
// hash), or ErrNotFound. It reads one row by primary key.
func (s *Store) GetSummary(ctx context.Context, itemID int64, contentHash string) (model.Summary, error) {
	sm := model.Summary{ItemID: itemID, ContentHash: contentHash}
	var created int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(summaryQuery), itemID, contentHash).
		Scan(&sm.Summarizer, &sm.Text, &sm.Rejected, &sm.Chars, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return model.Summary{}, fmt.Errorf("store: summary of item %d: %w", itemID, ErrNotFound)
	}
	if err != nil {
		return model.Summary{}, fmt.Errorf("store: summary of item %d: %w", itemID, err)
	}
	sm.CreatedAt = fromMS(created)
	return sm, nil
}

const summaryQuery = `SELECT summarizer, summary, rejected, chars, created_at FROM summaries WHERE item_id = ? AND content_hash = ?`

// PutSummary stores a summary unless one is already stored for the same
// item and content hash: the first one written wins (two instances that
// summarised the same post at once keep one), and PutSummary returns the
// summary now stored.
func (s *Store) PutSummary(ctx context.Context, sm model.Summary) (model.Summary, error) {
	if sm.ItemID <= 0 || sm.ContentHash == "" || sm.Summarizer == "" {
		return model.Summary{}, fmt.Errorf("store: put summary: item %d, hash %q, summarizer %q: all are required", sm.ItemID, sm.ContentHash, sm.Summarizer)
	}
	if (sm.Text == "") == (sm.Rejected == "") {
		return model.Summary{}, fmt.Errorf("store: put summary of item %d: exactly one of text and rejected must be set", sm.ItemID)
	}
	_, err := s.exec(ctx, `INSERT INTO summaries (item_id, content_hash, summarizer, summary, rejected, chars, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, content_hash) DO NOTHING`,
		sm.ItemID, sm.ContentHash, sm.Summarizer, sm.Text, sm.Rejected, sm.Chars, ms(sm.CreatedAt))
	if err != nil {
		return model.Summary{}, fmt.Errorf("store: put summary of item %d: %w", sm.ItemID, err)
	}
	return s.GetSummary(ctx, sm.ItemID, sm.ContentHash)
}
