package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
)

// Search order.
const (
	// SearchByRank: best match first (title matches weigh most), then newest.
	SearchByRank = "rank"
	// SearchByDate: newest stored first (post id order: a source's
	// first-poll backfill comes in at the time it was stored).
	SearchByDate = "date"
)

// SearchWindow is how many of the newest matches (after filters) a search
// ranks. Ranking is bounded by it, so a query matching half the archive
// costs what a rare one does; date order pages on past it without limit.
const SearchWindow = 1000

// SearchQuery is one search of the ready posts.
type SearchQuery struct {
	Query     fulltext.Query
	SourceIDs []string  // empty: every source
	From, To  time.Time // Published in [From, To); zero: open
	Order     string    // SearchByRank (default) | SearchByDate
	Limit     int       // 0: 20
	// After is the Next of the previous page ("" for the first).
	After string
}

// SearchHit is one found post.
type SearchHit struct {
	Item  model.Item
	Score float64 // higher is better; comparable within one engine only
}

// SearchResult is one page of results.
type SearchResult struct {
	Hits []SearchHit
	// Next is the cursor of the following page ("" when this is the last):
	// the last hit's (score, published, id), or its id by date; never an offset.
	Next string
}

// ErrBadCursor is returned for an After that no page of this search gave.
var ErrBadCursor = errors.New("store: search: bad page cursor")

type searchCand struct {
	id, published int64
	score         float64
}

// cursor is a decoded SearchQuery.After.
type cursor struct {
	score         float64
	published, id int64
}

func encodeCursor(order string, c searchCand) string {
	if order == SearchByDate {
		return "d" + strconv.FormatInt(c.id, 10)
	}
	return "r" + strconv.FormatFloat(c.score, 'g', -1, 64) + "_" + strconv.FormatInt(c.published, 10) + "_" +
		strconv.FormatInt(c.id, 10)
}

func decodeCursor(order, s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	var err error
	switch {
	case order == SearchByDate && s[0] == 'd':
		if c.id, err = strconv.ParseInt(s[1:], 10, 64); err != nil || c.id <= 0 {
			return cursor{}, ErrBadCursor
		}
		return c, nil
	case order == SearchByRank && s[0] == 'r':
		parts := strings.Split(s[1:], "_")
		if len(parts) != 3 {
			return cursor{}, ErrBadCursor
		}
		if c.score, err = strconv.ParseFloat(parts[0], 64); err != nil {
			return cursor{}, ErrBadCursor
		}
		if c.published, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
			return cursor{}, ErrBadCursor
		}
		if c.id, err = strconv.ParseInt(parts[2], 10, 64); err != nil || c.id <= 0 {
			return cursor{}, ErrBadCursor
		}
		return c, nil
	}
	return cursor{}, ErrBadCursor
}

// Search finds the ready posts that contain every group of q.Query in their
// English or original title or body, ranked (or newest first), one page at
// a time. The same store gives the same posts on SQLite and PostgreSQL; the
// order by rank may differ between engines where scores are close.
func (s *Store) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	if len(q.Query.Groups) == 0 {
		return SearchResult{}, fmt.Errorf("store: search: %w", fulltext.ErrEmptyQuery)
	}
	if q.Order == "" {
		q.Order = SearchByRank
	}
	if q.Order != SearchByRank && q.Order != SearchByDate {
		return SearchResult{}, fmt.Errorf("store: search: unknown order %q", q.Order)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	cur, err := decodeCursor(q.Order, q.After)
	if err != nil {
		return SearchResult{}, err
	}
	query, args := s.searchQuery(q, cur, limit)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return SearchResult{}, fmt.Errorf("store: search: %w", err)
	}
	var cands []searchCand
	for rows.Next() {
		var c searchCand
		if err := rows.Scan(&c.id, &c.published, &c.score); err != nil {
			rows.Close()
			return SearchResult{}, fmt.Errorf("store: search: %w", err)
		}
		cands = append(cands, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return SearchResult{}, fmt.Errorf("store: search: %w", err)
	}
	if q.Order == SearchByRank {
		slices.SortFunc(cands, func(a, b searchCand) int {
			return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.published, a.published), cmp.Compare(b.id, a.id))
		})
		if q.After != "" {
			// Keyset within the ranked window: everything after the cursor.
			i, _ := slices.BinarySearchFunc(cands, cur, func(c searchCand, k cursor) int {
				return cmp.Or(cmp.Compare(k.score, c.score), cmp.Compare(k.published, c.published), cmp.Compare(k.id, c.id))
			})
			for i < len(cands) && cands[i].id == cur.id {
				i++
			}
			cands = cands[i:]
		}
	}
	var res SearchResult
	more := len(cands) > limit
	cands = cands[:min(len(cands), limit)]
	if len(cands) == 0 {
		return res, nil
	}
	items, err := s.itemsByID(ctx, cands)
	if err != nil {
		return SearchResult{}, err
	}
	for _, c := range cands {
		if it, ok := items[c.id]; ok {
			res.Hits = append(res.Hits, SearchHit{Item: it, Score: c.score})
		}
	}
	if more {
		res.Next = encodeCursor(q.Order, cands[len(cands)-1])
	}
	return res, nil
}

// searchQuery is the candidate query: the newest SearchWindow matches that
// pass the filters, with their score (by date: the page after the cursor).
// Both read the index in post id order, newest stored first, so the cost
// is bounded by the window whatever the number of matches, and no sort of
// the matches is needed.
func (s *Store) searchQuery(q SearchQuery, cur cursor, pageSize int) (string, []any) {
	limit := SearchWindow
	if q.Order == SearchByDate {
		limit = pageSize + 1
	}
	var (
		b     strings.Builder
		args  []any
		rowid = "items_fts.rowid"
	)
	if s.d.name == DriverPostgres {
		rowid = "x.item_id"
		// ts_rank with weights {D, C, B, A}: a title match counts ten times a body match.
		b.WriteString(`SELECT i.id, i.published, ts_rank('{0.1, 0.2, 0.4, 1.0}', x.tsv, ?::tsquery) AS score
			FROM item_search x JOIN items i ON i.id = x.item_id
			WHERE x.tsv @@ ?::tsquery AND i.state = 'ready'`)
		tq := q.Query.TSQuery()
		args = append(args, tq, tq)
	} else {
		// bm25 is lower for better matches; a title match weighs ten body matches.
		b.WriteString(`SELECT i.id, i.published, -bm25(items_fts, 10.0, 1.0) AS score
			FROM items_fts JOIN items i ON i.id = items_fts.rowid
			WHERE items_fts MATCH ? AND i.state = 'ready'`)
		args = append(args, q.Query.FTS5())
	}
	if len(q.SourceIDs) > 0 {
		b.WriteString(` AND i.source_id IN (` + placeholders(len(q.SourceIDs)) + `)`)
		for _, id := range q.SourceIDs {
			args = append(args, id)
		}
	}
	if !q.From.IsZero() {
		b.WriteString(` AND i.published >= ?`)
		args = append(args, ms(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND i.published < ?`)
		args = append(args, ms(q.To))
	}
	if q.Order == SearchByDate && cur.id != 0 {
		b.WriteString(` AND ` + rowid + ` < ?`)
		args = append(args, cur.id)
	}
	b.WriteString(` ORDER BY ` + rowid + ` DESC LIMIT ?`)
	args = append(args, limit)
	return b.String(), args
}

// itemsByID reads the candidates' items.
func (s *Store) itemsByID(ctx context.Context, cands []searchCand) (map[int64]model.Item, error) {
	args := make([]any, len(cands))
	for i, c := range cands {
		args[i] = c.id
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items WHERE id IN (`+
		placeholders(len(cands))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	out := make(map[int64]model.Item, len(items))
	for _, it := range items {
		out[it.ID] = it
	}
	return out, nil
}

// SearchText is what the index holds of a post, as plain text: the English
// title and body as every surface shows them (model.EnglishOf) and the
// original title and body when they differ. The server cuts its snippets
// from the same text.
type SearchText struct {
	Title, Body                 string
	OriginalTitle, OriginalBody string
}

// SearchTextOf is the indexed text of it.
func SearchTextOf(it model.Item) SearchText {
	en := model.EnglishOf(it)
	title := en.Title
	if it.Untranslated {
		title = model.OneLine(it.Title)
	}
	if title == model.Untitled {
		title = ""
	}
	body := model.PlainText(en.HTML, 0)
	if body == "" {
		body = en.Summary
	}
	t := SearchText{Title: title, Body: body}
	if orig := model.OneLine(it.Title); orig != title {
		t.OriginalTitle = orig
	}
	origBody := model.PlainText(it.ContentHTML, 0)
	if origBody == "" {
		origBody = model.OneLine(it.Summary)
	}
	if origBody != body {
		t.OriginalBody = origBody
	}
	return t
}

func searchDocument(it model.Item) fulltext.Document {
	t := SearchTextOf(it)
	return fulltext.NewDocument([]string{t.Title, t.OriginalTitle}, []string{t.Body, t.OriginalBody})
}

// flushBatch bounds the posts one write transaction indexes.
const flushBatch = 1000

// flushSearch rebuilds the index rows of up to flushBatch queued posts
// inside tx (every write transaction calls it before committing) and
// reports how many it took. On PostgreSQL rows queued by a transaction
// still running elsewhere are skipped, not waited for: that transaction
// indexes them itself.
func (s *Store) flushSearch(ctx context.Context, tx *sql.Tx) (int, error) {
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT item_id FROM search_queue ORDER BY item_id LIMIT ?`+
		s.d.skipLocked), flushBatch)
	if err != nil {
		return 0, fmt.Errorf("store: search index: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: search index: %w", err)
		}
		ids = append(ids, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("store: search index: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	for start := 0; start < len(ids); start += maxInList {
		if err := s.indexPosts(ctx, tx, ids[start:min(start+maxInList, len(ids))]); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// indexPosts rebuilds the index rows of ids (a ready post gets its row,
// any other none) and takes them off the queue.
func (s *Store) indexPosts(ctx context.Context, tx *sql.Tx, ids []int64) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items WHERE id IN (`+
		placeholders(len(ids))+`)`), args...)
	if err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	ready := make(map[int64]model.Item, len(items))
	for _, it := range items {
		if it.State == model.StateReady {
			ready[it.ID] = it
		}
	}
	pg := s.d.name == DriverPostgres
	del := `DELETE FROM items_fts WHERE rowid = ?`
	put := `INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)`
	if pg {
		del = `DELETE FROM item_search WHERE item_id = ?`
		put = `INSERT INTO item_search (item_id, tsv) VALUES (?, ?::tsvector)
			ON CONFLICT (item_id) DO UPDATE SET tsv = EXCLUDED.tsv`
	}
	for _, id := range ids {
		it, ok := ready[id]
		if !pg || !ok {
			// FTS5 has no upsert: a row is replaced by delete and insert.
			if _, err := tx.ExecContext(ctx, s.d.rebind(del), id); err != nil {
				return fmt.Errorf("store: search index: post %d: %w", id, err)
			}
		}
		if !ok {
			continue
		}
		doc := searchDocument(it)
		var err error
		if pg {
			_, err = tx.ExecContext(ctx, s.d.rebind(put), id, doc.TSVector())
		} else {
			_, err = tx.ExecContext(ctx, s.d.rebind(put), id, strings.Join(doc.Title, " "), strings.Join(doc.Body, " "))
		}
		if err != nil {
			return fmt.Errorf("store: search index: post %d: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM search_queue WHERE item_id IN (`+
		placeholders(len(ids))+`)`), args...); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	return nil
}

// buildSearchIndex indexes every queued post, flushBatch posts per
// transaction, so that a store migrated to 0008 with a year of posts is
// indexed in steps that each commit (a stop half-way loses nothing: the
// rest stays queued and the next open goes on).
func (s *Store) buildSearchIndex(ctx context.Context) error {
	var total int
	start := time.Now()
	for {
		var n int
		err := s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = s.flushSearch(ctx, tx)
			return err
		})
		if err != nil {
			return err
		}
		total += n
		if n == 0 {
			break
		}
		if total%(20*flushBatch) == 0 {
			s.logger.Info("store: building the search index", "driver", s.d.name, "posts", total)
		}
	}
	if total > 0 {
		s.logger.Info("store: search index built", "driver", s.d.name, "posts", total,
			"took", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}
