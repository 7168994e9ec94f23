package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
)

// itemColumns is the column list scanItem reads, in order.
const itemColumns = `id, source_id, key, guid, link, title, summary, content_html, author, language, image_url,
	categories, published, first_seen, updated_at, content_hash, state, backfill_rank,
	title_en, summary_en, content_html_en, translated_by, translated_at, title_only, untranslated,
	translate_err, attempts, next_attempt_at, ready_at, date_unknown, meta`

// maxInList bounds the number of values bound into one IN (…) list.
const maxInList = 500

func scanItem(sc rowScanner) (model.Item, error) {
	var (
		it                                 model.Item
		cats, meta                         string
		published, firstSeen, updated      int64
		translatedAt, nextAttempt, readyAt int64
	)
	err := sc.Scan(&it.ID, &it.SourceID, &it.Key, &it.GUID, &it.Link, &it.Title, &it.Summary, &it.ContentHTML,
		&it.Author, &it.Language, &it.ImageURL, &cats, &published, &firstSeen, &updated, &it.ContentHash,
		&it.State, &it.BackfillRank, &it.TitleEN, &it.SummaryEN, &it.ContentHTMLEN, &it.TranslatedBy,
		&translatedAt, &it.TitleOnly, &it.Untranslated, &it.TranslateErr, &it.Attempts, &nextAttempt, &readyAt,
		&it.DateUnknown, &meta)
	if err != nil {
		return model.Item{}, err
	}
	if it.Categories, err = decodeCategories(cats); err != nil {
		return model.Item{}, fmt.Errorf("item %d: %w", it.ID, err)
	}
	if it.Meta, err = decodeMeta(meta); err != nil {
		return model.Item{}, fmt.Errorf("item %d: %w", it.ID, err)
	}
	it.Published = fromMS(published)
	if it.DateUnknown {
		// published holds the first-seen time only for ordering.
		it.Published = time.Time{}
	}
	it.FirstSeen = fromMS(firstSeen)
	it.UpdatedAt = fromMS(updated)
	it.TranslatedAt = fromMS(translatedAt)
	it.NextAttemptAt = fromMS(nextAttempt)
	it.ReadyAt = fromMS(readyAt)
	return it, nil
}

func scanItems(rows *sql.Rows) ([]model.Item, error) {
	defer rows.Close()
	var out []model.Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// encodeCategories stores categories as a JSON array ("[]" when none).
func encodeCategories(c []string) (string, error) {
	if len(c) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// encodeMeta stores metadata as a JSON object ("" when none).
func encodeMeta(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeMeta reads a JSON object of strings; "" gives nil.
func decodeMeta(s string) (map[string]string, error) {
	if s == "" || s == "{}" || s == "null" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	return m, nil
}

// decodeCategories reads a JSON array of strings; empty arrays give nil.
func decodeCategories(s string) ([]string, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var c []string
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	if len(c) == 0 {
		return nil, nil
	}
	return c, nil
}

type storedHash struct {
	id        int64
	hash      string
	published int64
	unknown   bool // date_unknown
}

// UpsertItems stores one poll's items for sourceID in one transaction.
// Items are matched on (source, Key). A new item is stored with StateNew,
// FirstSeen and UpdatedAt = now, its Published, or, when that is zero
// (DateUnknown), date_unknown set and the first-seen time in the published
// column so that it sorts by first-seen; and its BackfillRank. An item whose ContentHash differs from the stored one
// gets its original fields replaced (Published only when the new one is set),
// UpdatedAt = now, StateNew, Attempts 0 and no translation error or retry
// time, and no lease (a translation of the old original in progress
// elsewhere is refused by MarkReady with ErrStale, and the new one can be
// claimed at once); its translation slot stays until the next translation
// replaces it. Items with an equal hash are left alone and counted in Unchanged.
// Item.SourceID is ignored: every item is stored under sourceID.
func (s *Store) UpsertItems(ctx context.Context, sourceID string, items []model.Item, now time.Time) (UpsertResult, error) {
	var res UpsertResult
	if len(items) == 0 {
		return res, nil
	}
	if sourceID == "" {
		return res, errors.New("store: upsert items: empty source id")
	}
	for i := range items {
		if items[i].Key == "" {
			return res, fmt.Errorf("store: upsert items %q: item %d has no key", sourceID, i)
		}
	}
	nowMS := ms(now)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res = UpsertResult{}
		existing, err := s.itemHashes(ctx, tx, sourceID, items)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO items (source_id, key, guid, link, title, summary,
			content_html, author, language, image_url, categories, published, first_seen, updated_at, content_hash,
			state, backfill_rank, date_unknown, meta)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source_id, key) DO NOTHING
			RETURNING id`))
		if err != nil {
			return fmt.Errorf("store: upsert items %q: %w", sourceID, err)
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, s.d.rebind(`UPDATE items SET guid = ?, link = ?, title = ?, summary = ?,
			content_html = ?, author = ?, language = ?, image_url = ?, categories = ?,
			published = ?, date_unknown = ?, meta = ?,
			content_hash = ?, updated_at = ?, state = 'new', attempts = 0, translate_err = '', next_attempt_at = 0,
			lease_owner = '', lease_until = 0
			WHERE id = ?`))
		if err != nil {
			return fmt.Errorf("store: upsert items %q: %w", sourceID, err)
		}
		defer upd.Close()
		for _, it := range items {
			cats, err := encodeCategories(it.Categories)
			if err != nil {
				return fmt.Errorf("store: upsert items %q: key %q: %w", sourceID, it.Key, err)
			}
			meta, err := encodeMeta(it.Meta)
			if err != nil {
				return fmt.Errorf("store: upsert items %q: key %q: %w", sourceID, it.Key, err)
			}
			pub := ms(it.Published)
			if cur, ok := existing[it.Key]; ok {
				if cur.hash == it.ContentHash {
					res.Unchanged++
					continue
				}
				unknown := false
				if pub == 0 {
					// Keep the stored date (or the stored first-seen order).
					pub, unknown = cur.published, cur.unknown
				}
				_, err := upd.ExecContext(ctx, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML, it.Author,
					it.Language, it.ImageURL, cats, pub, unknown, meta, it.ContentHash, nowMS, cur.id)
				if err != nil {
					return fmt.Errorf("store: upsert items %q: update key %q: %w", sourceID, it.Key, err)
				}
				existing[it.Key] = storedHash{id: cur.id, hash: it.ContentHash, published: pub, unknown: unknown}
				res.Updated = appendUnique(res.Updated, cur.id)
				continue
			}
			unknown := pub == 0
			if unknown {
				pub = nowMS // the first-seen time, for ordering only
			}
			var id int64
			err = ins.QueryRowContext(ctx, sourceID, it.Key, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML,
				it.Author, it.Language, it.ImageURL, cats, pub, nowMS, nowMS, it.ContentHash, model.StateNew,
				it.BackfillRank, unknown, meta).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				// Another instance stored the key since we looked (PostgreSQL
				// only; SQLite's write lock excludes that). It is its item now.
				res.Unchanged++
				continue
			}
			if err != nil {
				return fmt.Errorf("store: upsert items %q: insert key %q: %w", sourceID, it.Key, err)
			}
			existing[it.Key] = storedHash{id: id, hash: it.ContentHash, published: pub, unknown: unknown}
			res.New = append(res.New, id)
		}
		return nil
	})
	if err != nil {
		return UpsertResult{}, err
	}
	return res, nil
}

func appendUnique(ids []int64, id int64) []int64 {
	for _, v := range ids {
		if v == id {
			return ids
		}
	}
	return append(ids, id)
}

// itemHashes returns id and content hash of the stored items among items' keys.
func (s *Store) itemHashes(ctx context.Context, tx *sql.Tx, sourceID string, items []model.Item) (map[string]storedHash, error) {
	out := make(map[string]storedHash, len(items))
	for start := 0; start < len(items); start += maxInList {
		chunk := items[start:min(start+maxInList, len(items))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, sourceID)
		for _, it := range chunk {
			args = append(args, it.Key)
		}
		rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT key, id, content_hash, published, date_unknown FROM items
			WHERE source_id = ? AND key IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: upsert items %q: %w", sourceID, err)
		}
		for rows.Next() {
			var (
				key string
				h   storedHash
			)
			if err := rows.Scan(&key, &h.id, &h.hash, &h.published, &h.unknown); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: upsert items %q: %w", sourceID, err)
			}
			out[key] = h
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: upsert items %q: %w", sourceID, err)
		}
	}
	return out, nil
}

// ItemKeys returns key → content hash of every stored item of the source.
func (s *Store) ItemKeys(ctx context.Context, sourceID string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT key, content_hash FROM items WHERE source_id = ?`), sourceID)
	if err != nil {
		return nil, fmt.Errorf("store: item keys %q: %w", sourceID, err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var k, h string
		if err := rows.Scan(&k, &h); err != nil {
			return nil, fmt.Errorf("store: item keys %q: %w", sourceID, err)
		}
		out[k] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: item keys %q: %w", sourceID, err)
	}
	return out, nil
}

// GetItem returns one item; ErrNotFound when there is none with that id.
func (s *Store) GetItem(ctx context.Context, id int64) (model.Item, error) {
	it, err := scanItem(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return model.Item{}, fmt.Errorf("store: item %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return model.Item{}, fmt.Errorf("store: get item %d: %w", id, err)
	}
	return it, nil
}

// stateCond is the condition on state for q.States. The known states are
// written as literals, so that the planner can use the partial indexes
// declared for them (a bound parameter cannot match "WHERE state =
// 'ready'"); anything else selects nothing.
func stateCond(states []model.State) string {
	var lits []string
	for _, st := range states {
		switch st {
		case model.StateNew, model.StateTranslating, model.StateReady:
			lits = append(lits, "'"+string(st)+"'")
		}
	}
	switch lits = slices.Compact(slices.Sorted(slices.Values(lits))); len(lits) {
	case 0:
		return "1 = 0"
	case 1:
		return "state = " + lits[0]
	}
	return "state IN (" + strings.Join(lits, ", ") + ")"
}

// itemWhere builds the WHERE clause (with leading " WHERE", or "") for q.
func itemWhere(q ItemQuery) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if len(q.SourceIDs) > 0 {
		conds = append(conds, `source_id IN (`+placeholders(len(q.SourceIDs))+`)`)
		for _, id := range q.SourceIDs {
			args = append(args, id)
		}
	}
	if len(q.States) > 0 {
		conds = append(conds, stateCond(q.States))
	}
	switch {
	case !q.Before.IsZero() && q.BeforeID > 0:
		// The range on published lets both engines seek the (published, id)
		// index to the cursor; the rest only filters the few at its time.
		conds = append(conds, `published <= ? AND (published < ? OR id < ?)`)
		args = append(args, ms(q.Before), ms(q.Before), q.BeforeID)
	case !q.Before.IsZero():
		conds = append(conds, `published < ?`)
		args = append(args, ms(q.Before))
	}
	if !q.Since.IsZero() {
		conds = append(conds, `published >= ?`)
		args = append(args, ms(q.Since))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListItems returns the items q selects, newest Published first (then
// highest id). Limit 0 means 50.
func (s *Store) ListItems(ctx context.Context, q ItemQuery) ([]model.Item, error) {
	where, args := itemWhere(q)
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit, max(q.Offset, 0))
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items`+where+
		` ORDER BY published DESC, id DESC LIMIT ? OFFSET ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	return items, nil
}

// CountItems counts the items q selects (Limit and Offset ignored).
func (s *Store) CountItems(ctx context.Context, q ItemQuery) (int, error) {
	where, args := itemWhere(q)
	var n int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM items`+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count items: %w", err)
	}
	return n, nil
}

// ItemsChangedSince returns the latest change that can alter a feed of the
// given sources (every source when empty): the latest ReadyAt of a ready
// item or UpdatedAt of any item (an item whose original changed leaves the
// feed until it is ready again). Zero when there are no items. Use it as
// the feed's cache key / Last-Modified.
func (s *Store) ItemsChangedSince(ctx context.Context, sourceIDs []string) (time.Time, error) {
	where, args := itemWhere(ItemQuery{SourceIDs: sourceIDs})
	var v int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(CASE WHEN state = 'ready' AND ready_at > updated_at
		THEN ready_at ELSE updated_at END), 0) FROM items`+where), args...).Scan(&v)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: items changed since: %w", err)
	}
	return fromMS(v), nil
}

// ClaimItems leases to owner, until now+lease, up to limit items that are
// StateNew, or StateTranslating with NextAttemptAt <= now, and that nobody
// holds an unexpired lease on; oldest first seen first. The state is left
// as it is (the caller sets it). Two claimers never get the same item while
// its lease runs.
func (s *Store) ClaimItems(ctx context.Context, owner string, now time.Time, limit int, lease time.Duration) ([]model.Item, error) {
	if owner == "" {
		return nil, errors.New("store: claim items: empty owner")
	}
	if limit <= 0 {
		return nil, nil
	}
	nowMS := ms(now)
	var items []model.Item
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE items SET lease_owner = ?, lease_until = ?
			WHERE id IN (
				SELECT id FROM items
				WHERE (state = 'new' OR (state = 'translating' AND next_attempt_at <= ?)) AND lease_until <= ?
				ORDER BY first_seen, id
				LIMIT ?`+s.d.skipLocked+`
			)
			RETURNING `+itemColumns),
			owner, ms(now.Add(lease)), nowMS, nowMS, limit)
		if err != nil {
			return fmt.Errorf("store: claim items: %w", err)
		}
		items, err = scanItems(rows)
		if err != nil {
			return fmt.Errorf("store: claim items: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortItemsByFirstSeen(items)
	return items, nil
}

// sortItemsByFirstSeen restores the claim order (RETURNING order is unspecified).
func sortItemsByFirstSeen(items []model.Item) {
	slices.SortFunc(items, func(a, b model.Item) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// SetItemState sets an item's state (StateNew, StateTranslating or
// StateReady). ErrNotFound when there is no such item.
func (s *Store) SetItemState(ctx context.Context, id int64, state model.State) error {
	if !state.Valid() {
		return fmt.Errorf("store: set item %d state: unknown state %q", id, state)
	}
	return s.execOne(ctx, fmt.Sprintf("set item %d state", id), `UPDATE items SET state = ? WHERE id = ?`, state, id)
}

// MarkReady stores the translation, sets StateReady and ReadyAt = now,
// clears the lease, the error and the retry time, and creates one pending
// delivery per channel (due now), all in one transaction. A delivery that
// already exists for (item, channel) is left alone, so an item translated
// again is not delivered twice. When t.OriginalHash is set and the item's
// content hash is no longer that (the original changed while it was being
// translated), nothing changes and ErrStale is returned: the item is back in
// StateNew, unleased, and is translated again. ErrNotFound when there is no
// such item.
func (s *Store) MarkReady(ctx context.Context, id int64, t model.Translation, channels []string, now time.Time) error {
	nowMS := ms(now)
	translatedAt := int64(0)
	if t.TranslatedBy != "" {
		translatedAt = nowMS
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		query := `UPDATE items SET title_en = ?, summary_en = ?, content_html_en = ?,
			translated_by = ?, translated_at = ?, title_only = ?, untranslated = ?, state = 'ready', ready_at = ?,
			translate_err = '', next_attempt_at = 0, lease_owner = '', lease_until = 0
			WHERE id = ?`
		args := []any{t.TitleEN, t.SummaryEN, t.ContentHTMLEN, t.TranslatedBy, translatedAt, t.TitleOnly, t.Untranslated,
			nowMS, id}
		if t.OriginalHash != "" {
			query += ` AND content_hash = ?`
			args = append(args, t.OriginalHash)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(query), args...)
		if err != nil {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		} else if n == 0 {
			var one int
			err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM items WHERE id = ?`), id).Scan(&one)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("store: mark item %d ready: %w", id, ErrNotFound)
			case err != nil:
				return fmt.Errorf("store: mark item %d ready: %w", id, err)
			}
			return fmt.Errorf("store: mark item %d ready: %w", id, ErrStale)
		}
		if len(channels) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO deliveries (item_id, channel, state, next_attempt_at, created_at)
			VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (item_id, channel) DO NOTHING`))
		if err != nil {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		}
		defer stmt.Close()
		for _, ch := range channels {
			if _, err := stmt.ExecContext(ctx, id, ch, nowMS, nowMS); err != nil {
				return fmt.Errorf("store: mark item %d ready: delivery to %q: %w", id, ch, err)
			}
		}
		return nil
	})
}

// MarkTranslateFailed records a failed translation: the reason, Attempts+1,
// NextAttemptAt = next, StateTranslating, lease cleared. A non-nil t (for
// example the title alone) is stored too; it stays invisible until the item
// is ready. ErrNotFound when there is no such item.
func (s *Store) MarkTranslateFailed(ctx context.Context, id int64, t *model.Translation, reason string, next time.Time) error {
	what := fmt.Sprintf("mark item %d translate failed", id)
	if t == nil {
		return s.execOne(ctx, what, `UPDATE items SET state = 'translating', attempts = attempts + 1,
			translate_err = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0 WHERE id = ?`,
			reason, ms(next), id)
	}
	return s.execOne(ctx, what, `UPDATE items SET state = 'translating', attempts = attempts + 1,
		translate_err = ?, next_attempt_at = ?, lease_owner = '', lease_until = 0,
		title_en = ?, summary_en = ?, content_html_en = ?, translated_by = ?, title_only = ?, untranslated = ?
		WHERE id = ?`,
		reason, ms(next), t.TitleEN, t.SummaryEN, t.ContentHTMLEN, t.TranslatedBy, t.TitleOnly, t.Untranslated, id)
}

// TranslationBacklog counts the items that are not ready yet.
func (s *Store) TranslationBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM items WHERE state <> 'ready'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: translation backlog: %w", err)
	}
	return n, nil
}

// ReleaseItems ends owner's translation leases on the given items, so that
// items claimed but not worked on (a clean stop, a reload) are due again at
// once. Leases held by someone else are left alone.
func (s *Store) ReleaseItems(ctx context.Context, owner string, ids []int64) error {
	for _, id := range ids {
		if _, err := s.exec(ctx, `UPDATE items SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`, id, owner); err != nil {
			return fmt.Errorf("store: release item %d: %w", id, err)
		}
	}
	return nil
}
