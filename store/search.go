package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
)

// Search order.
const (
	// SearchByRank: posts whose title has every word of the query first,
	// then the posts that have them in the body; newest stored first
	// within each. The same order on both engines.
	SearchByRank = "rank"
	// SearchByDate: newest stored first (post id order: a source's
	// first-poll backfill comes in at the time it was stored).
	SearchByDate = "date"
)

// SearchQuery is one search of the ready posts.
type SearchQuery struct {
	Query     fulltext.Query
	SourceIDs []string  // empty: every source
	From, To  time.Time // Published in [From, To); zero: open
	Order     string    // SearchByRank (default) | SearchByDate
	Limit     int       // 0: 20
	// After is the Next of the previous page ("" for the first).
	After string

	window int64 // PostgreSQL: searchWindow unless set (tests)
}

// SearchHit is one found post.
type SearchHit struct {
	Item model.Item
	// Score is 2 for a post whose title has every word of the query, 1
	// for one that has them in its body.
	Score float64
}

// SearchResult is one page of results.
type SearchResult struct {
	Hits []SearchHit
	// Next is the cursor of the following page ("" when this is the last):
	// the last hit's (tier, id), never an offset.
	Next string
}

// ErrBadCursor is returned for an After that no page of this search gave.
var ErrBadCursor = errors.New("store: search: bad page cursor")

// Result tiers of SearchByRank, best first; their number is the hit's score.
const (
	tierTitle = 2
	tierBody  = 1
)

// cursor is a decoded SearchQuery.After: the last hit of a page.
type cursor struct {
	tier int
	id   int64
}

func encodeCursor(order string, c cursor) string {
	if order == SearchByDate {
		return "d" + strconv.FormatInt(c.id, 10)
	}
	return "r" + strconv.Itoa(c.tier) + "_" + strconv.FormatInt(c.id, 10)
}

func decodeCursor(order, s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	var err error
	switch {
	case order == SearchByDate && s[0] == 'd':
		c.id, err = strconv.ParseInt(s[1:], 10, 64)
	case order == SearchByRank && s[0] == 'r':
		tier, id, ok := strings.Cut(s[1:], "_")
		if !ok || (tier != "1" && tier != "2") {
			return cursor{}, ErrBadCursor
		}
		c.tier = int(tier[0] - '0')
		c.id, err = strconv.ParseInt(id, 10, 64)
	default:
		return cursor{}, ErrBadCursor
	}
	if err != nil || c.id <= 0 {
		return cursor{}, ErrBadCursor
	}
	return c, nil
}

// Search finds the ready posts that contain every group of q.Query in their
// English or original title or body, one page at a time. Each page reads
// the index in post id order and stops at the page's end, so a search
// costs about what its page holds whatever the number of matches (filters
// that reject most matches cost in proportion to what they reject). The
// same store gives the same pages on SQLite and PostgreSQL.
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
	r := &searchRun{q: q, items: map[int64]model.Item{}, window: q.window}
	if s.d.name == DriverPostgres {
		if r.pg, err = s.resolvePostgres(ctx, q.Query); err != nil {
			return SearchResult{}, err
		}
		if r.pg.none {
			return SearchResult{}, nil
		}
		r.check = q.Query.NeedsPositions()
	}
	var cands []cursor
	if q.Order == SearchByDate {
		if cands, err = s.searchTier(ctx, r, 0, cur.id, limit+1); err != nil {
			return SearchResult{}, err
		}
	} else {
		if cur.tier != tierBody {
			if cands, err = s.searchTier(ctx, r, tierTitle, cur.id, limit+1); err != nil {
				return SearchResult{}, err
			}
		}
		if len(cands) <= limit {
			after := int64(0)
			if cur.tier == tierBody {
				after = cur.id
			}
			more, err := s.searchTier(ctx, r, tierBody, after, limit+1-len(cands))
			if err != nil {
				return SearchResult{}, err
			}
			cands = append(cands, more...)
		}
	}
	var res SearchResult
	more := len(cands) > limit
	cands = cands[:min(len(cands), limit)]
	if len(cands) == 0 {
		return res, nil
	}
	var missing []int64
	for _, c := range cands {
		if _, ok := r.items[c.id]; !ok {
			missing = append(missing, c.id)
		}
	}
	if len(missing) > 0 {
		items, err := s.itemsByID(ctx, missing)
		if err != nil {
			return SearchResult{}, err
		}
		maps.Copy(r.items, items)
	}
	for _, c := range cands {
		if it, ok := r.items[c.id]; ok && it.State == model.StateReady {
			res.Hits = append(res.Hits, SearchHit{Item: it, Score: float64(max(c.tier, tierBody))})
		}
	}
	if more {
		res.Next = encodeCursor(q.Order, cands[len(cands)-1])
	}
	return res, nil
}

// searchRun is one Search: its query and, on PostgreSQL, the query's term
// conditions and the posts already read to check their phrases.
type searchRun struct {
	q     SearchQuery
	pg    pgSearch
	check bool // PostgreSQL: candidates' phrases are checked on their text
	items map[int64]model.Item
	// PostgreSQL: 1 + the highest indexed id (read once) and the ordered
	// read's span (searchWindow; tests make it small).
	top, window int64
}

// maxCheckBatch bounds the candidates read at once for a phrase check.
const maxCheckBatch = 400

// searchTier reads, newest stored first, up to limit ids of ready posts
// that pass the filters, have an id below before (when set) and match: in
// the title alone (tierTitle), not all in the title (tierBody), or
// anywhere (0). When r.check is set, the index gives candidates (every
// term present), read in growing batches until limit of them pass the
// phrase check of their text.
func (s *Store) searchTier(ctx context.Context, r *searchRun, tier int, before int64, limit int) ([]cursor, error) {
	var out []cursor
	batch := limit
	for {
		ids, err := s.searchIDs(ctx, r, tier, before, batch)
		if err != nil {
			return nil, err
		}
		if !r.check {
			for _, id := range ids {
				out = append(out, cursor{tier: tier, id: id})
			}
			return out, nil
		}
		if len(ids) == 0 {
			return out, nil
		}
		items, err := s.itemsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			it, ok := items[id]
			if !ok || it.State != model.StateReady {
				continue
			}
			d := searchDocument(it)
			switch tier {
			case tierTitle:
				ok = d.MatchTitle(r.q.Query)
			case tierBody:
				ok = !d.MatchTitle(r.q.Query) && d.Match(r.q.Query)
			default:
				ok = d.Match(r.q.Query)
			}
			if !ok {
				continue
			}
			r.items[id] = it
			if out = append(out, cursor{tier: tier, id: id}); len(out) == limit {
				return out, nil
			}
		}
		if len(ids) < batch {
			return out, nil
		}
		before = ids[len(ids)-1]
		batch = min(2*batch, maxCheckBatch)
	}
}

// searchWindow is the span of post ids PostgreSQL's search reads first, in
// id order (see searchIDs).
const searchWindow = 4000

// searchIDs runs searchQuery. On PostgreSQL it does not let the planner
// choose between reading item_search in id order and filtering (cheap for
// a common term, a full scan for one the table statistics do not know: a
// rare word, a word no title has) and its GIN index (cheap for a rare
// term, every match read and sorted for a common one): it reads the newest
// searchWindow ids in id order, which holds the page of any term that
// about one post in 200 has, and only when that is not enough asks the GIN
// index for the older ones, which are then fewer than about limit times
// the posts over searchWindow (a few thousand at 1,000,000 posts). Reading
// a window of the key by the GIN index instead (a BitmapAnd) costs the
// decoding of the term's whole posting list each time: slower, measured.
func (s *Store) searchIDs(ctx context.Context, r *searchRun, tier int, before int64, limit int) ([]int64, error) {
	if s.d.name != DriverPostgres {
		return s.searchRange(ctx, r, tier, idRange{before: before}, limit)
	}
	hi := before
	if hi <= 0 {
		if r.top == 0 {
			if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(item_id), 0) + 1 FROM item_search`).Scan(&r.top); err != nil {
				return nil, fmt.Errorf("store: search: %w", err)
			}
		}
		hi = r.top
	}
	window := r.window
	if window <= 0 {
		window = searchWindow
	}
	lo := max(hi-window, 0)
	ids, err := s.searchRange(ctx, r, tier, idRange{from: lo, before: hi}, limit)
	if err != nil || len(ids) >= limit || lo == 0 {
		return ids, err
	}
	// The body tier's read by the GIN index flags the posts with every
	// group in the title (on the few rows its LIMIT keeps) instead of
	// filtering them out, which would read the title row of every match:
	// the flagged ones are dropped here and the read goes on past them.
	rg := idRange{before: lo, byIndex: true, flagTitle: tier == tierBody && !r.check && r.pg.title != "FALSE"}
	for batch := limit - len(ids); len(ids) < limit; batch = min(2*batch, maxCheckBatch) {
		more, read, err := s.searchRangeRead(ctx, r, tier, rg, batch)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more[:min(len(more), limit-len(ids))]...)
		if !rg.flagTitle || read.rows < batch {
			break
		}
		rg.before = read.last
	}
	return ids, nil
}

// idRange bounds a search read to ids in [from, before) (0: open). byIndex
// makes PostgreSQL find the matches by the GIN index, then sort them;
// flagTitle (with byIndex, body tier) makes it read every match and flag
// those with every group in the title rather than filter them out.
type idRange struct {
	from, before int64
	byIndex      bool
	flagTitle    bool
}

// rangeRead is what one searchRange read: its rows (flagged ones too) and
// the last row's id.
type rangeRead struct {
	rows int
	last int64
}

// searchRange runs searchQuery.
func (s *Store) searchRange(ctx context.Context, r *searchRun, tier int, rg idRange, limit int) ([]int64, error) {
	ids, _, err := s.searchRangeRead(ctx, r, tier, rg, limit)
	return ids, err
}

// searchRangeRead is searchRange, which also reports what it read: the
// ids of flagged rows (rg.flagTitle) are not returned.
func (s *Store) searchRangeRead(ctx context.Context, r *searchRun, tier int, rg idRange, limit int) ([]int64, rangeRead, error) {
	var read rangeRead
	query, args := s.searchQuery(r, tier, rg, limit)
	if s.d.name == DriverPostgres {
		// The query's text holds its term ids: a prepared statement
		// would serve it once.
		args = append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, read, fmt.Errorf("store: search: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var (
			id      int64
			inTitle bool
		)
		dest := []any{&id}
		if rg.flagTitle {
			dest = append(dest, &inTitle)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, read, fmt.Errorf("store: search: %w", err)
		}
		read.rows++
		read.last = id
		if !inTitle {
			out = append(out, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, read, fmt.Errorf("store: search: %w", err)
	}
	return out, read, nil
}

// searchQuery is searchRange's query. It reads the full-text index (SQLite:
// the FTS5 table in rowid order; PostgreSQL: item_search, or
// item_search_title for the title tier, in id order, or by its GIN index
// when rg.byIndex) and stops at its LIMIT.
func (s *Store) searchQuery(r *searchRun, tier int, rg idRange, limit int) (string, []any) {
	var (
		b     strings.Builder
		args  []any
		rowid = "items_fts.rowid"
		q     = r.q
	)
	if s.d.name == DriverPostgres {
		// item_search and item_search_title hold the ready posts only
		// (every write transaction brings them up to date before it
		// commits): items is joined for the filters alone, and Search
		// drops a post that is not ready. The title tier reads the narrow
		// item_search_title alone (0012).
		table, alias := "item_search x", "x"
		if tier == tierTitle {
			table, alias = "item_search_title t", "t"
		}
		rowid = alias + ".item_id"
		b.WriteString(`SELECT ` + rowid)
		if rg.flagTitle {
			// In the select list, the planner evaluates it on the rows
			// the LIMIT keeps only (after the sort).
			b.WriteString(`, COALESCE((SELECT (` + r.pg.title +
				`) FROM item_search_title t WHERE t.item_id = x.item_id), FALSE)`)
		}
		b.WriteString(` FROM ` + table)
		if len(q.SourceIDs) > 0 || !q.From.IsZero() || !q.To.IsZero() {
			b.WriteString(` JOIN items i ON i.id = ` + rowid)
		}
		b.WriteString(` WHERE `)
		switch {
		case tier == tierTitle:
			b.WriteString(r.pg.title)
		case tier == tierBody && !r.check && r.pg.title != "FALSE" && !rg.flagTitle:
			// A subquery per candidate (the title row by its key), never
			// a join the planner could turn into a read of every title.
			b.WriteString(r.pg.all + ` AND NOT COALESCE((SELECT (` + r.pg.title +
				`) FROM item_search_title t WHERE t.item_id = x.item_id), FALSE)`)
		default:
			b.WriteString(r.pg.all)
		}
	} else {
		m := q.Query.FTS5()
		switch tier {
		case tierTitle:
			m = q.Query.FTS5Title()
		case tierBody:
			m = q.Query.FTS5Body()
		}
		b.WriteString(`SELECT items_fts.rowid FROM items_fts JOIN items i ON i.id = items_fts.rowid
			WHERE items_fts MATCH ? AND i.state = 'ready'`)
		args = append(args, m)
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
	if rg.before > 0 {
		b.WriteString(` AND ` + rowid + ` < ?`)
		args = append(args, rg.before)
	}
	if rg.from > 0 {
		b.WriteString(` AND ` + rowid + ` >= ?`)
		args = append(args, rg.from)
	}
	if rg.byIndex {
		// Not the order of the primary key: the planner cannot walk it.
		b.WriteString(` ORDER BY ` + rowid + ` + 0 DESC LIMIT ?`)
	} else {
		b.WriteString(` ORDER BY ` + rowid + ` DESC LIMIT ?`)
	}
	args = append(args, limit)
	return b.String(), args
}

// itemsByID reads the posts of ids.
func (s *Store) itemsByID(ctx context.Context, ids []int64) (map[int64]model.Item, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items WHERE id IN (`+
		placeholders(len(ids))+`)`), args...)
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
func SearchTextOf(it model.Item) SearchText { return searchTextOf(it, 0) }

// SnippetTextOf is SearchTextOf with each body cut to its first maxRunes
// runes (model.PlainText's cut, "…" ending a cut body): the text a result's
// snippets are looked for in, without turning whole bodies into text.
func SnippetTextOf(it model.Item, maxRunes int) SearchText { return searchTextOf(it, maxRunes) }

func searchTextOf(it model.Item, maxRunes int) SearchText {
	// EnglishText, not EnglishOf: a summary derived from the body would be
	// the body read a second time, for nothing.
	en := model.EnglishText(it)
	title := en.Title
	if it.Untranslated {
		title = model.OneLine(it.Title)
	}
	if title == model.Untitled {
		title = ""
	}
	plain := model.PlainText(en.HTML, maxRunes)
	body := plain
	if body == "" {
		body = en.Summary
	}
	t := SearchText{Title: title, Body: body}
	if orig := model.OneLine(it.Title); orig != title {
		t.OriginalTitle = orig
	}
	// An untranslated post's English body is its own: read it once.
	origBody := plain
	if en.HTML != it.ContentHTML {
		origBody = model.PlainText(it.ContentHTML, maxRunes)
	}
	if origBody == "" {
		origBody = model.OneLine(it.Summary)
	}
	// Cut bodies compare as the whole ones do but for two different texts
	// alike in their first maxRunes runes (then the snippet shows one).
	if origBody != body {
		t.OriginalBody = origBody
	}
	return t
}

func searchDocument(it model.Item) fulltext.Document {
	t := SearchTextOf(it)
	return fulltext.NewDocument([]string{t.Title, t.OriginalTitle}, []string{t.Body, t.OriginalBody})
}

// ftsStatements are the SQLite index step's statements, prepared once on
// the write connection when the store opens (they were parsed again for
// every post indexed).
type ftsStatements struct {
	del, ins *sql.Stmt
}

func (s *Store) prepareFTS(ctx context.Context) error {
	if s.d.name != DriverSQLite {
		return nil
	}
	var err error
	if s.fts.del, err = s.stmts.get(ctx, s.w, `DELETE FROM items_fts WHERE rowid = ?`); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	if s.fts.ins, err = s.stmts.get(ctx, s.w, `INSERT INTO items_fts (rowid, title, body) VALUES (?, ?, ?)`); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	return nil
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
	// PostgreSQL indexes the whole batch at once: the vocabulary gets one
	// sorted insert per transaction, so that two writers adding the same
	// new terms never wait on each other in a cycle.
	chunk := maxInList
	if s.d.name == DriverPostgres {
		chunk = len(ids)
	}
	for start := 0; start < len(ids); start += chunk {
		if err := s.indexPosts(ctx, tx, ids[start:min(start+chunk, len(ids))]); err != nil {
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
	if s.d.name == DriverPostgres {
		if err := s.indexPostsPostgres(ctx, tx, ids, ready); err != nil {
			return err
		}
	} else {
		del := tx.StmtContext(ctx, s.fts.del)
		ins := tx.StmtContext(ctx, s.fts.ins)
		for _, id := range ids {
			// FTS5 has no upsert: a row is replaced by delete and insert.
			if _, err := del.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("store: search index: post %d: %w", id, err)
			}
			it, ok := ready[id]
			if !ok {
				continue
			}
			row := s.indexDocument(it).fts // precomputed by UpsertItemsWith when it can
			if _, err := ins.ExecContext(ctx, id, row.title, row.body); err != nil {
				return fmt.Errorf("store: search index: post %d: %w", id, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM search_queue WHERE item_id IN (`+
		placeholders(len(ids))+`)`), args...); err != nil {
		return fmt.Errorf("store: search index: %w", err)
	}
	return nil
}

// buildSearchIndex indexes every queued post, flushBatch posts per
// transaction, so that a store migrated to 0007 with a year of posts is
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
