package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/transfeed/transfeed/model"
)

// heldMS is the next_attempt_at of a delivery held for review: never due.
const heldMS int64 = 253402300799000 // 9999-12-31T23:59:59Z

// ReviewAnswer is an admin's answer to a held post.
type ReviewAnswer int

// Answers.
const (
	AnswerApprove ReviewAnswer = iota + 1
	AnswerSkip
	AnswerRetranslate
)

// Review is one delivery held for an admin's approval.
type Review struct {
	DeliveryID int64
	ItemID     int64
	Channel    string
	State      model.ReviewState
	CreatedAt  time.Time
	PromptedAt time.Time // when the admins were asked (zero: not yet)
	AnsweredAt time.Time
	AnsweredBy string
}

const reviewColumns = `delivery_id, item_id, channel, state, created_at, prompted_at, answered_at, answered_by`

func scanReview(sc rowScanner) (Review, error) {
	var r Review
	var created, prompted, answered int64
	if err := sc.Scan(&r.DeliveryID, &r.ItemID, &r.Channel, &r.State, &created, &prompted, &answered, &r.AnsweredBy); err != nil {
		return Review{}, err
	}
	r.CreatedAt, r.PromptedAt, r.AnsweredAt = fromMS(created), fromMS(prompted), fromMS(answered)
	return r, nil
}

func scanReviews(rows *sql.Rows) ([]Review, error) {
	defer rows.Close()
	var out []Review
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SyncReviewChannels makes the set of review channels (channel keys with
// review: true) the given one. The config is the source of truth; every
// instance syncs the same set.
func (s *Store) SyncReviewChannels(ctx context.Context, channels []string) error {
	want := slices.Sorted(slices.Values(channels))
	want = slices.Compact(want)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT channel FROM review_channels ORDER BY channel`)
		if err != nil {
			return fmt.Errorf("store: sync review channels: %w", err)
		}
		var have []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return fmt.Errorf("store: sync review channels: %w", err)
			}
			have = append(have, c)
		}
		rows.Close()
		if slices.Equal(have, want) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM review_channels`); err != nil {
			return fmt.Errorf("store: sync review channels: %w", err)
		}
		for _, c := range want {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO review_channels (channel) VALUES (?)`), c); err != nil {
				return fmt.Errorf("store: sync review channels: %w", err)
			}
		}
		return nil
	})
}

// QueryDuePrompts selects the reviews whose admins are to be asked (every
// few seconds, on reviews_state; see TestCorrectionPlans). Argument: limit.
const QueryDuePrompts = `SELECT r.delivery_id FROM reviews r JOIN items i ON i.id = r.item_id
	WHERE r.state = 'waiting' AND r.prompted_at = 0 AND i.state = 'ready'
	ORDER BY r.created_at, r.delivery_id LIMIT ?`

// ClaimReviewPrompts returns up to limit waiting reviews of ready posts
// whose admins have not been asked yet, marking them asked at now in the
// same statement, so one instance asks once.
func (s *Store) ClaimReviewPrompts(ctx context.Context, now time.Time, limit int) ([]Review, error) {
	rows, err := s.w.QueryContext(ctx, s.d.rebind(`UPDATE reviews SET prompted_at = ?
		WHERE delivery_id IN (`+QueryDuePrompts+`)
		AND prompted_at = 0
		RETURNING `+reviewColumns), ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim review prompts: %w", err)
	}
	out, err := scanReviews(rows)
	if err != nil {
		return nil, fmt.Errorf("store: claim review prompts: %w", err)
	}
	slices.SortFunc(out, func(a, b Review) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// ResetReviewPrompt makes a waiting review due for asking again (the
// prompt could not be sent).
func (s *Store) ResetReviewPrompt(ctx context.Context, deliveryID int64) error {
	if _, err := s.exec(ctx, `UPDATE reviews SET prompted_at = 0 WHERE delivery_id = ? AND state = 'waiting'`, deliveryID); err != nil {
		return fmt.Errorf("store: reset review prompt %d: %w", deliveryID, err)
	}
	return nil
}

// ErrAnswered is returned by AnswerReview when the review was answered
// already (by another admin, instance or click); the Review returned says
// how.
var ErrAnswered = errors.New("store: the review was answered already")

// AnswerReview records an admin's answer to a waiting review, in one
// transaction whose first statement only changes a waiting row, so of two
// answers one wins (the other gets ErrAnswered with the winning review).
// Approve makes the delivery due now (the outbox sends it); Skip fails it
// for good ("skipped by an editor"; /retry leaves it alone); Retranslate
// sends the post back to the translation stage and asks the admins again
// once it is ready. ErrNotFound when there is no such review.
func (s *Store) AnswerReview(ctx context.Context, deliveryID int64, a ReviewAnswer, by string, now time.Time) (Review, error) {
	var out Review
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var q string
		var args []any
		switch a {
		case AnswerApprove, AnswerSkip:
			st := model.ReviewApproved
			if a == AnswerSkip {
				st = model.ReviewSkipped
			}
			q = `UPDATE reviews SET state = ?, answered_at = ?, answered_by = ? WHERE delivery_id = ? AND state = 'waiting' RETURNING ` + reviewColumns
			args = []any{st, ms(now), by, deliveryID}
		case AnswerRetranslate:
			q = `UPDATE reviews SET prompted_at = 0, answered_by = ? WHERE delivery_id = ? AND state = 'waiting' AND prompted_at <> 0 RETURNING ` + reviewColumns
			args = []any{by, deliveryID}
		default:
			return fmt.Errorf("store: answer review %d: unknown answer %d", deliveryID, a)
		}
		r, err := scanReview(tx.QueryRowContext(ctx, s.d.rebind(q), args...))
		if errors.Is(err, sql.ErrNoRows) {
			cur, gerr := scanReview(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+reviewColumns+` FROM reviews WHERE delivery_id = ?`), deliveryID))
			if errors.Is(gerr, sql.ErrNoRows) {
				return fmt.Errorf("store: answer review %d: %w", deliveryID, ErrNotFound)
			}
			if gerr != nil {
				return fmt.Errorf("store: answer review %d: %w", deliveryID, gerr)
			}
			out = cur
			return fmt.Errorf("store: answer review %d: %w", deliveryID, ErrAnswered)
		}
		if err != nil {
			return fmt.Errorf("store: answer review %d: %w", deliveryID, err)
		}
		out = r
		switch a {
		case AnswerApprove:
			_, err = tx.ExecContext(ctx, s.d.rebind(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending'`), ms(now), deliveryID)
		case AnswerSkip:
			_, err = tx.ExecContext(ctx, s.d.rebind(`UPDATE deliveries SET state = 'failed', error = ?, lease_owner = '', lease_until = 0
				WHERE id = ? AND state = 'pending'`), "skipped by an editor ("+by+")", deliveryID)
		case AnswerRetranslate:
			_, err = tx.ExecContext(ctx, s.d.rebind(`UPDATE items SET state = 'new', attempts = 0, next_attempt_at = 0,
				lease_owner = '', lease_until = 0 WHERE id = ?`), r.ItemID)
		}
		if err != nil {
			return fmt.Errorf("store: answer review %d: %w", deliveryID, err)
		}
		return nil
	})
	return out, err
}

// WaitingReviews returns up to limit reviews waiting for an answer, oldest
// first (/queue).
func (s *Store) WaitingReviews(ctx context.Context, limit int) ([]Review, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+reviewColumns+` FROM reviews WHERE state = 'waiting'
		ORDER BY created_at, delivery_id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: waiting reviews: %w", err)
	}
	out, err := scanReviews(rows)
	if err != nil {
		return nil, fmt.Errorf("store: waiting reviews: %w", err)
	}
	return out, nil
}
