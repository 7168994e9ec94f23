package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
)

// itemColumns is the column list scanItem reads, in order.
const itemColumns = `id, source_id, key, guid, link, title, summary, content_html, author, language, image_url,
	categories, published, first_seen, updated_at, content_hash, state, backfill_rank,
	title_en, summary_en, content_html_en, translated_by, translated_at, title_only, untranslated,
	translate_err, attempts, next_attempt_at, ready_at, date_unknown, meta, media`

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
		&it.DateUnknown, &meta, &it.Media)
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
	return s.UpsertItemsWith(ctx, sourceID, items, now, UpsertOptions{})
}

// UpsertOptions changes what UpsertItemsWith does with new and changed items.
type UpsertOptions struct {
	// Ready, when set, is asked about every new or changed item (with its
	// stored fields, ID unset). When it answers ok the item is stored ready
	// at once, as MarkReady would (translation t, ReadyAt = now, one pending
	// delivery per channel), instead of StateNew: posts that need no
	// translation skip the claim loop, in bulk, in the poll's transaction.
	Ready func(it model.Item) (t model.Translation, channels []string, ok bool)
}

// UpsertItemsWith is UpsertItems with options.
//
// Each new or changed item is written once: a post that Ready accepts is
// inserted (or updated) ready, with its translation and ready_at, and its
// deliveries are added, in the same transaction; the others are stored
// StateNew. The statements are prepared once per Store and reused by every
// poll (see stmtCache).
func (s *Store) UpsertItemsWith(ctx context.Context, sourceID string, items []model.Item, now time.Time, opt UpsertOptions) (UpsertResult, error) {
	res, _, err := s.storePoll(ctx, sourceID, items, now, opt, nil)
	return res, err
}

// StorePoll is UpsertItemsWith followed by RecordPoll(r), in one write
// transaction: a poll's posts and its outcome are stored together, or
// (error) neither is. r.SourceID must be sourceID.
func (s *Store) StorePoll(ctx context.Context, sourceID string, items []model.Item, now time.Time, opt UpsertOptions,
	r model.PollResult) (UpsertResult, model.Source, error) {
	if r.SourceID != sourceID {
		return UpsertResult{}, model.Source{}, fmt.Errorf("store: store poll %q: the poll result is of source %q", sourceID, r.SourceID)
	}
	return s.storePoll(ctx, sourceID, items, now, opt, &r)
}

// storePoll is StorePoll; with r nil it only stores the items.
func (s *Store) storePoll(ctx context.Context, sourceID string, items []model.Item, now time.Time, opt UpsertOptions,
	r *model.PollResult) (UpsertResult, model.Source, error) {
	var (
		res UpsertResult
		src model.Source
	)
	if len(items) == 0 && r == nil {
		return res, src, nil
	}
	if sourceID == "" {
		return res, src, errors.New("store: upsert items: empty source id")
	}
	for i := range items {
		if items[i].Key == "" {
			return res, src, fmt.Errorf("store: upsert items %q: item %d has no key", sourceID, i)
		}
	}
	var record func(context.Context, *sql.Tx) (model.Source, error)
	if r != nil {
		var err error
		if record, err = s.recordPoll(ctx, *r); err != nil {
			return res, src, err
		}
	}
	var (
		prepared upsertStatements
		req      *upsertRequest
	)
	if len(items) > 0 {
		var err error
		if prepared, err = s.upsertStmts(ctx); err != nil {
			return res, src, fmt.Errorf("store: upsert items %q: %w", sourceID, err)
		}
		req = &upsertRequest{sourceID: sourceID, items: items, now: now, opt: opt}
		// Ready is asked, and the search index rows of the posts it accepts
		// are computed, here in the caller's goroutine, not under the write
		// lock; at most maxBatchItems posts' documents wait for it at once.
		if opt.Ready != nil {
			n := int64(min(len(items), maxBatchItems))
			if err := s.docs.ahead().Acquire(ctx, n); err != nil {
				return res, src, fmt.Errorf("store: upsert items %q: %w", sourceID, err)
			}
			defer s.docs.ahead().Release(n)
		}
		keys, err := s.askReady(ctx, req)
		if err != nil {
			return res, src, err
		}
		defer s.docs.forget(keys)
	}
	err := s.write(ctx, len(items), func(ctx context.Context, tx *sql.Tx) error {
		if req != nil {
			req.res = UpsertResult{}
			if err := s.upsertIn(ctx, tx, prepared.in(ctx, tx), req); err != nil {
				return err
			}
		}
		if record != nil {
			var err error
			src, err = record(ctx, tx)
			return err
		}
		return nil
	})
	if err != nil {
		return UpsertResult{}, model.Source{}, err
	}
	if req != nil {
		res = req.res
	}
	return res, src, nil
}

// upsertRequest is one call of UpsertItemsWith.
type upsertRequest struct {
	sourceID string
	items    []model.Item
	now      time.Time
	opt      UpsertOptions
	// answers are Ready's, asked before the transaction (by answerKey).
	answers map[string]readyAnswer

	res UpsertResult
}

// upsertIn writes req inside tx, setting req.res.
func (s *Store) upsertIn(ctx context.Context, tx *sql.Tx, st upsertStatements, req *upsertRequest) error {
	if err := s.lockSourceStats(ctx, tx, req.sourceID); err != nil {
		return fmt.Errorf("store: upsert items %q: %w", req.sourceID, err)
	}
	existing, err := s.itemHashes(ctx, tx, req.sourceID, req.items)
	if err != nil {
		return err
	}
	nowMS := ms(req.now)
	for _, it := range req.items {
		if err := s.upsertOne(ctx, st, req, it, existing, nowMS); err != nil {
			return err
		}
	}
	return nil
}

// upsertOne writes one item of UpsertItemsWith (at most one statement for
// the item, plus one per delivery) and records it in res and existing.
func (s *Store) upsertOne(ctx context.Context, st upsertStatements, req *upsertRequest, it model.Item, existing map[string]storedHash,
	nowMS int64) error {
	sourceID, ready, res := req.sourceID, req.opt.Ready, &req.res
	cur, known := existing[it.Key]
	if known && cur.hash == it.ContentHash {
		res.Unchanged++
		return nil
	}
	cats, err := encodeCategories(it.Categories)
	if err != nil {
		return fmt.Errorf("store: upsert items %q: key %q: %w", sourceID, it.Key, err)
	}
	meta, err := encodeMeta(it.Meta)
	if err != nil {
		return fmt.Errorf("store: upsert items %q: key %q: %w", sourceID, it.Key, err)
	}
	pub := ms(it.Published)
	unknown := pub == 0
	switch {
	case unknown && known:
		// Keep the stored date (or the stored first-seen order).
		pub, unknown = cur.published, cur.unknown
	case unknown:
		pub = nowMS // the first-seen time, for ordering only
	}
	// Ready is asked about the item as it is about to be stored (the
	// answer given before the transaction is used when it was asked about
	// the same).
	var (
		t        model.Translation
		channels []string
		isReady  bool
	)
	if a, ok := req.answers[answerKey(it.Key, it.ContentHash, pub)]; ok {
		t, channels, isReady = a.t, a.channels, a.ok
	} else if ready != nil {
		asked := it
		asked.SourceID, asked.State, asked.Published = sourceID, model.StateNew, fromMS(pub)
		t, channels, isReady = ready(asked)
	}
	translatedAt := int64(0)
	if t.TranslatedBy != "" {
		translatedAt = nowMS
	}
	var id int64
	switch {
	case known && isReady:
		_, err = st.updReady.ExecContext(ctx, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML, it.Author,
			it.Language, it.ImageURL, cats, pub, unknown, meta, it.Media, it.ContentHash, nowMS,
			t.TitleEN, t.SummaryEN, t.ContentHTMLEN, t.TranslatedBy, translatedAt, t.TitleOnly, t.Untranslated, nowMS, cur.id)
		id = cur.id
	case known:
		_, err = st.upd.ExecContext(ctx, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML, it.Author,
			it.Language, it.ImageURL, cats, pub, unknown, meta, it.Media, it.ContentHash, nowMS, cur.id)
		id = cur.id
	case isReady:
		err = st.insReady.QueryRowContext(ctx, sourceID, it.Key, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML,
			it.Author, it.Language, it.ImageURL, cats, pub, nowMS, nowMS, it.ContentHash, it.BackfillRank, unknown, meta, it.Media,
			t.TitleEN, t.SummaryEN, t.ContentHTMLEN, t.TranslatedBy, translatedAt, t.TitleOnly, t.Untranslated, nowMS).Scan(&id)
	default:
		err = st.ins.QueryRowContext(ctx, sourceID, it.Key, it.GUID, it.Link, it.Title, it.Summary, it.ContentHTML,
			it.Author, it.Language, it.ImageURL, cats, pub, nowMS, nowMS, it.ContentHash, model.StateNew,
			it.BackfillRank, unknown, meta, it.Media).Scan(&id)
	}
	if !known && errors.Is(err, sql.ErrNoRows) {
		// Another instance stored the key since we looked (PostgreSQL
		// only; SQLite's write lock excludes that). It is its item now.
		res.Unchanged++
		return nil
	}
	if err != nil {
		verb := "insert"
		if known {
			verb = "update"
		}
		return fmt.Errorf("store: upsert items %q: %s key %q: %w", sourceID, verb, it.Key, err)
	}
	existing[it.Key] = storedHash{id: id, hash: it.ContentHash, published: pub, unknown: unknown}
	if known {
		res.Updated = appendUnique(res.Updated, id)
	} else {
		res.New = append(res.New, id)
	}
	if !isReady {
		return nil
	}
	for _, ch := range channels {
		if _, err := st.delivery.ExecContext(ctx, id, ch, nowMS, nowMS); err != nil {
			return fmt.Errorf("store: upsert items %q: delivery of key %q to %q: %w", sourceID, it.Key, ch, err)
		}
	}
	res.Ready = appendUnique(res.Ready, id)
	return nil
}

func appendUnique(ids []int64, id int64) []int64 {
	for _, v := range ids {
		if v == id {
			return ids
		}
	}
	return append(ids, id)
}

// The statements of UpsertItemsWith.
const (
	upsertInsertQuery = `INSERT INTO items (source_id, key, guid, link, title, summary,
		content_html, author, language, image_url, categories, published, first_seen, updated_at, content_hash,
		state, backfill_rank, date_unknown, meta, media)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source_id, key) DO NOTHING
		RETURNING id`
	// upsertInsertReadyQuery stores a new post ready, as MarkReady would.
	upsertInsertReadyQuery = `INSERT INTO items (source_id, key, guid, link, title, summary,
		content_html, author, language, image_url, categories, published, first_seen, updated_at, content_hash,
		state, backfill_rank, date_unknown, meta, media,
		title_en, summary_en, content_html_en, translated_by, translated_at, title_only, untranslated, ready_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source_id, key) DO NOTHING
		RETURNING id`
	upsertUpdateQuery = `UPDATE items SET guid = ?, link = ?, title = ?, summary = ?,
		content_html = ?, author = ?, language = ?, image_url = ?, categories = ?,
		published = ?, date_unknown = ?, meta = ?, media = ?,
		content_hash = ?, updated_at = ?, state = 'new', attempts = 0, translate_err = '', next_attempt_at = 0,
		lease_owner = '', lease_until = 0
		WHERE id = ?`
	// upsertUpdateReadyQuery replaces a changed post's original and makes it
	// ready again with the given translation.
	upsertUpdateReadyQuery = `UPDATE items SET guid = ?, link = ?, title = ?, summary = ?,
		content_html = ?, author = ?, language = ?, image_url = ?, categories = ?,
		published = ?, date_unknown = ?, meta = ?, media = ?,
		content_hash = ?, updated_at = ?, state = 'ready', attempts = 0, translate_err = '', next_attempt_at = 0,
		lease_owner = '', lease_until = 0,
		title_en = ?, summary_en = ?, content_html_en = ?, translated_by = ?, translated_at = ?, title_only = ?,
		untranslated = ?, ready_at = ?
		WHERE id = ?`
	upsertDeliveryQuery = `INSERT INTO deliveries (item_id, channel, state, next_attempt_at, created_at)
		VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (item_id, channel) DO NOTHING`
)

// upsertStatements are UpsertItemsWith's statements.
type upsertStatements struct {
	ins, insReady, upd, updReady, delivery *sql.Stmt
}

// upsertStmts prepares UpsertItemsWith's statements on the write pool, once
// per Store; call it outside a transaction (on SQLite the transaction holds
// the only write connection).
func (s *Store) upsertStmts(ctx context.Context) (upsertStatements, error) {
	var (
		st  upsertStatements
		err error
	)
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.ins, upsertInsertQuery},
		{&st.insReady, upsertInsertReadyQuery},
		{&st.upd, upsertUpdateQuery},
		{&st.updReady, upsertUpdateReadyQuery},
		{&st.delivery, upsertDeliveryQuery},
	} {
		if *p.dst, err = s.stmts.get(ctx, s.w, s.d.rebind(p.query)); err != nil {
			return st, err
		}
	}
	return st, nil
}

// in binds the statements to tx.
func (st upsertStatements) in(ctx context.Context, tx *sql.Tx) upsertStatements {
	return upsertStatements{
		ins: tx.StmtContext(ctx, st.ins), insReady: tx.StmtContext(ctx, st.insReady), upd: tx.StmtContext(ctx, st.upd),
		updReady: tx.StmtContext(ctx, st.updReady), delivery: tx.StmtContext(ctx, st.delivery),
	}
}

// stmtCache holds statements prepared once on the write pool, so that the
// transactions that run them (one per poll) do not prepare them again:
// tx.StmtContext reuses a statement already prepared on the transaction's
// connection (SQLite has one; a PostgreSQL connection prepares it on its
// first use). Safe for concurrent use; the zero value is ready.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns query prepared on db, preparing it the first time. It needs
// a connection of db: call it outside a transaction of db.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// docCache holds the search documents of posts UpsertItemsWith is about to
// store ready, computed before its transaction (tokenising is most of the
// index step's cost, and would otherwise run under SQLite's write lock).
// indexPosts takes a post's document from here when the indexed fields of
// the stored post are exactly those it was computed from, and computes it
// itself otherwise. Safe for concurrent use; the zero value is ready.
type docCache struct {
	mu sync.Mutex
	m  map[string]cachedDoc // by source and key

	once sync.Once
	sem  *semaphore.Weighted // posts whose documents are computed ahead
}

// ahead bounds the posts whose documents are computed ahead of their write
// (their memory), maxBatchItems: a batch's worth.
func (c *docCache) ahead() *semaphore.Weighted {
	c.once.Do(func() { c.sem = semaphore.NewWeighted(maxBatchItems) })
	return c.sem
}

type cachedDoc struct {
	text searchFields
	doc  fulltext.Document // PostgreSQL: the terms, for item_search
	fts  ftsRow            // SQLite: the terms as items_fts takes them
}

// ftsRow is a search document's terms joined by spaces, the title and
// body columns of its items_fts row (FTS5's ascii tokenizer splits them
// again).
type ftsRow struct{ title, body string }

// newCachedDoc is it's search document in the form the store's index takes
// (on SQLite the joined row only: a term list of a long post is some
// thousand string headers more to keep while it waits for the writer).
func (s *Store) newCachedDoc(it model.Item) cachedDoc {
	d := cachedDoc{text: searchFieldsOf(it)}
	doc := searchDocument(it)
	if s.d.name == DriverSQLite {
		d.fts = ftsRow{title: strings.Join(doc.Title, " "), body: strings.Join(doc.Body, " ")}
	} else {
		d.doc = doc
	}
	return d
}

// searchFields are the fields of a post its search document is made of
// (SearchTextOf).
type searchFields struct {
	title, summary, html, titleEN, summaryEN, htmlEN, translatedBy string
	titleOnly, untranslated                                        bool
}

func searchFieldsOf(it model.Item) searchFields {
	return searchFields{title: it.Title, summary: it.Summary, html: it.ContentHTML, titleEN: it.TitleEN,
		summaryEN: it.SummaryEN, htmlEN: it.ContentHTMLEN, translatedBy: it.TranslatedBy,
		titleOnly: it.TitleOnly, untranslated: it.Untranslated}
}

func docKey(sourceID, key string) string { return sourceID + "\x00" + key }

// readyAnswer is what UpsertOptions.Ready answered about one item.
type readyAnswer struct {
	t        model.Translation
	channels []string
	ok       bool
}

// answerKey names the item Ready was asked about: its key, content and the
// Published it was asked with.
func answerKey(key, hash string, published int64) string {
	return key + "\x00" + hash + "\x00" + strconv.FormatInt(published, 10)
}

// askReady asks req's Ready, before the write transaction, about the items
// that are new or changed as the store reads now (the transaction reads
// again: an item another writer stored meanwhile is asked about there if
// need be), and computes the search documents of those it accepts. It
// returns their docCache keys.
func (s *Store) askReady(ctx context.Context, req *upsertRequest) ([]string, error) {
	if req.opt.Ready == nil {
		return nil, nil
	}
	stored, err := s.itemHashes(ctx, s.r, req.sourceID, req.items)
	if err != nil {
		return nil, err
	}
	nowMS := ms(req.now)
	req.answers = make(map[string]readyAnswer, len(req.items))
	docs := make(map[string]cachedDoc, len(req.items))
	for _, it := range req.items {
		cur, known := stored[it.Key]
		if known && cur.hash == it.ContentHash {
			continue
		}
		pub := ms(it.Published)
		switch {
		case pub == 0 && known:
			pub = cur.published
		case pub == 0:
			pub = nowMS
		}
		ak := answerKey(it.Key, it.ContentHash, pub)
		if _, dup := req.answers[ak]; dup {
			continue
		}
		asked := it
		asked.SourceID, asked.State, asked.Published = req.sourceID, model.StateNew, fromMS(pub)
		var a readyAnswer
		a.t, a.channels, a.ok = req.opt.Ready(asked)
		req.answers[ak] = a
		if !a.ok {
			continue
		}
		// The post as it will be stored, for its search document.
		p := it
		p.SourceID, p.State = req.sourceID, model.StateReady
		p.TitleEN, p.SummaryEN, p.ContentHTMLEN = a.t.TitleEN, a.t.SummaryEN, a.t.ContentHTMLEN
		p.TranslatedBy, p.TitleOnly, p.Untranslated = a.t.TranslatedBy, a.t.TitleOnly, a.t.Untranslated
		docs[docKey(req.sourceID, it.Key)] = s.newCachedDoc(p)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(docs))
	s.docs.mu.Lock()
	defer s.docs.mu.Unlock()
	if s.docs.m == nil {
		s.docs.m = make(map[string]cachedDoc, len(docs))
	}
	for k, d := range docs {
		s.docs.m[k] = d
		keys = append(keys, k)
	}
	return keys, nil
}

// forget drops the documents of keys that were not used.
func (c *docCache) forget(keys []string) {
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.m, k)
	}
}

// indexDocument is it's search document (with its items_fts row on
// SQLite): the one UpsertItemsWith computed, joined too, before the write
// transaction, when it was computed from exactly it's indexed fields, else
// a new one.
func (s *Store) indexDocument(it model.Item) cachedDoc {
	k := docKey(it.SourceID, it.Key)
	s.docs.mu.Lock()
	d, ok := s.docs.m[k]
	if ok {
		delete(s.docs.m, k)
	}
	s.docs.mu.Unlock()
	if ok && d.text == searchFieldsOf(it) {
		return d
	}
	return s.newCachedDoc(it)
}

// lockSourceStats takes, on PostgreSQL, the row lock of the source's
// counters before a transaction changes its items, so that every such
// transaction locks in the same order (counters, then items) and none
// deadlocks with another over the triggers' counter update. SQLite's write
// lock already serialises writers.
func (s *Store) lockSourceStats(ctx context.Context, tx *sql.Tx, sourceID string) error {
	if s.d.skipLocked == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO source_stats (source_id) VALUES (?)
		ON CONFLICT (source_id) DO UPDATE SET version = source_stats.version`), sourceID)
	return err
}

// lockItemSourceStats is lockSourceStats for the source of one item.
func (s *Store) lockItemSourceStats(ctx context.Context, tx *sql.Tx, id int64) error {
	if s.d.skipLocked == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.rebind(`SELECT 1 FROM source_stats
		WHERE source_id = (SELECT source_id FROM items WHERE id = ?) FOR UPDATE`), id)
	return err
}

// KnownKeys returns key → content hash of those of keys that the source has
// stored (one indexed lookup per key, in batches): a poll asks about what
// it fetched, never reads the source's whole history.
func (s *Store) KnownKeys(ctx context.Context, sourceID string, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for start := 0; start < len(keys); start += maxInList {
		chunk := keys[start:min(start+maxInList, len(keys))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, sourceID)
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT key, content_hash FROM items
			WHERE source_id = ? AND key IN (`+placeholders(len(chunk))+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: known keys %q: %w", sourceID, err)
		}
		for rows.Next() {
			var k, h string
			if err := rows.Scan(&k, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: known keys %q: %w", sourceID, err)
			}
			out[k] = h
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: known keys %q: %w", sourceID, err)
		}
	}
	return out, nil
}

// queryer is a *sql.Tx or a *sql.DB.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// itemHashes returns id and content hash of the stored items among items' keys.
func (s *Store) itemHashes(ctx context.Context, tx queryer, sourceID string, items []model.Item) (map[string]storedHash, error) {
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
	wc, wa := windowConds(q)
	conds, args = append(conds, wc...), append(args, wa...)
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListItems returns the items q selects, newest Published first (then
// highest id). Limit 0 means 50.
//
// Ready items of a few sources (a feed, a source's page) are read per
// source from the ready partial index, each bounded by Offset+Limit, and
// merged: the cost is O(sources × (Offset+Limit)), whatever the history.
// Ready items of every source or of many are read from the global ready
// index in order, so LIMIT 100 reads about 100 rows.
func (s *Store) ListItems(ctx context.Context, q ItemQuery) ([]model.Item, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	q.Limit, q.Offset = limit, max(q.Offset, 0)
	if onlyReady(q.States) && len(q.SourceIDs) > 1 && len(q.SourceIDs) <= perSourceMax {
		return s.listReadyPerSource(ctx, q)
	}
	query, args := s.d.listQuery(q)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	return items, nil
}

// listQuery is ListItems' single query for q (Limit and Offset set).
// Ready posts of many sources are read in order from the global ready
// index, filtering on the source: SQLite would otherwise read every ready
// post of those sources by source and sort them, so its source index is
// ruled out there ("+source_id").
func (d dialect) listQuery(q ItemQuery) (string, []any) {
	where, args := itemWhere(q)
	if d.name == DriverSQLite && onlyReady(q.States) && len(q.SourceIDs) > perSourceMax {
		where = strings.Replace(where, "source_id IN (", "+source_id IN (", 1)
	}
	return `SELECT ` + itemColumns + ` FROM items` + where + ` ORDER BY published DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset)
}

// perSourceMax is the most sources whose ready items ListItems reads per
// source; a feed of more sources is read from the global ready index.
const perSourceMax = 32

func onlyReady(states []model.State) bool {
	return len(states) == 1 && states[0] == model.StateReady
}

// listReadyPerSource reads the newest ready (published, id) of each source
// (covering partial index), keeps the requested window of the merge and
// then reads those rows whole.
func (s *Store) listReadyPerSource(ctx context.Context, q ItemQuery) ([]model.Item, error) {
	type key struct{ published, id int64 }
	var keys []key
	want := q.Offset + q.Limit
	for _, src := range slices.Compact(slices.Sorted(slices.Values(q.SourceIDs))) {
		query, args := readyKeysQuery(src, q, want)
		rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
		if err != nil {
			return nil, fmt.Errorf("store: list items: %w", err)
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.id, &k.published); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: list items: %w", err)
			}
			keys = append(keys, k)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: list items: %w", err)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(b.published, a.published), cmp.Compare(b.id, a.id))
	})
	if q.Offset >= len(keys) {
		return nil, nil
	}
	keys = keys[q.Offset:min(len(keys), want)]
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k.id
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+itemColumns+` FROM items WHERE id IN (`+
		placeholders(len(keys))+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list items: %w", err)
	}
	slices.SortFunc(items, func(a, b model.Item) int {
		return cmp.Or(b.Published.Compare(a.Published), cmp.Compare(b.ID, a.ID))
	})
	return items, nil
}

// readyKeysQuery selects the newest limit ready (id, published) of one
// source within q's window (keyset cursor Before+BeforeID, or Before alone;
// Since).
func readyKeysQuery(sourceID string, q ItemQuery, limit int) (string, []any) {
	query := `SELECT id, published FROM items WHERE state = 'ready' AND source_id = ?`
	args := []any{sourceID}
	wc, wa := windowConds(q)
	for _, c := range wc {
		query += ` AND ` + c
	}
	return query + ` ORDER BY published DESC, id DESC LIMIT ?`, append(append(args, wa...), limit)
}

// windowConds are the conditions of q's time window: the keyset cursor
// (Before+BeforeID: older than (published, id)), or Before alone, and Since.
func windowConds(q ItemQuery) ([]string, []any) {
	var (
		conds []string
		args  []any
	)
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
	return conds, args
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

// FeedVersion is the version of the ready posts of a set of sources, read
// from counters the store keeps on write (never a scan of the posts).
type FeedVersion struct {
	// Version grows with every change that can alter what the sources'
	// ready posts look like: a post becomes ready, a ready post changes,
	// leaves the ready state or is deleted.
	Version int64
	// Ready is the number of ready posts.
	Ready int
	// Changed is the latest ReadyAt/UpdatedAt of such a change (zero when none).
	Changed time.Time
}

// FeedVersion returns the version of the ready posts of the given sources
// (every source when empty). It reads one counter row per source.
func (s *Store) FeedVersion(ctx context.Context, sourceIDs []string) (FeedVersion, error) {
	query := feedVersionQuery
	var args []any
	if len(sourceIDs) > 0 {
		query += ` WHERE source_id IN (` + placeholders(len(sourceIDs)) + `)`
		for _, id := range sourceIDs {
			args = append(args, id)
		}
	}
	var (
		v       FeedVersion
		changed int64
	)
	if err := s.r.QueryRowContext(ctx, s.d.rebind(query), args...).Scan(&v.Version, &v.Ready, &changed); err != nil {
		return FeedVersion{}, fmt.Errorf("store: feed version: %w", err)
	}
	v.Changed = fromMS(changed)
	return v, nil
}

const feedVersionQuery = `SELECT COALESCE(SUM(version), 0), COALESCE(SUM(ready_count), 0), COALESCE(MAX(changed_at), 0)
	FROM source_stats`

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
//
// Its cost is O(limit), whatever the backlog: new items are read from
// their partial index in first-seen order, due retries from theirs in
// retry-time order (each up to limit), and the oldest first seen of both
// are leased.
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
		type cand struct{ id, firstSeen int64 }
		var cands []cand
		for _, q := range []struct {
			query string
			args  []any
		}{
			{claimNewQuery + s.d.skipLocked, []any{nowMS, limit}},
			{claimRetryQuery + s.d.skipLocked, []any{nowMS, nowMS, limit}},
		} {
			rows, err := tx.QueryContext(ctx, s.d.rebind(q.query), q.args...)
			if err != nil {
				return fmt.Errorf("store: claim items: %w", err)
			}
			for rows.Next() {
				var c cand
				if err := rows.Scan(&c.id, &c.firstSeen); err != nil {
					rows.Close()
					return fmt.Errorf("store: claim items: %w", err)
				}
				cands = append(cands, c)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("store: claim items: %w", err)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		slices.SortFunc(cands, func(a, b cand) int {
			return cmp.Or(cmp.Compare(a.firstSeen, b.firstSeen), cmp.Compare(a.id, b.id))
		})
		cands = cands[:min(len(cands), limit)]
		args := []any{owner, ms(now.Add(lease))}
		for _, c := range cands {
			args = append(args, c.id)
		}
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE items SET lease_owner = ?, lease_until = ?
			WHERE id IN (`+placeholders(len(cands))+`) RETURNING `+itemColumns), args...)
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

// The two halves of a claim, each planned on its partial index (see
// migration 0006) and bounded by its LIMIT.
const (
	claimNewQuery = `SELECT id, first_seen FROM items
		WHERE state = 'new' AND lease_until <= ?
		ORDER BY first_seen, id LIMIT ?`
	claimRetryQuery = `SELECT id, first_seen FROM items
		WHERE state = 'translating' AND next_attempt_at <= ? AND lease_until <= ?
		ORDER BY next_attempt_at, id LIMIT ?`
)

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
		if err := s.lockItemSourceStats(ctx, tx, id); err != nil {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		}
		var oldTitle, oldSummary, oldBody string
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT title_en, summary_en, content_html_en FROM items WHERE id = ?`), id).
			Scan(&oldTitle, &oldSummary, &oldBody)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		}
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
		// A post translated again to a different English: its sent
		// messages get the new text (an identical retranslation, e.g. after
		// a whitespace-only edit of the source, queues nothing).
		if oldTitle != t.TitleEN || oldSummary != t.SummaryEN || oldBody != t.ContentHTMLEN {
			if err := s.queueEdits(ctx, tx, id, now); err != nil {
				return err
			}
		}
		if len(channels) == 0 {
			return nil
		}
		// A delivery to a review channel is held (due never) until an
		// admin approves it; its review row is written here too.
		stmt, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO deliveries (item_id, channel, state, next_attempt_at, created_at)
			VALUES (?, ?, 'pending', CASE WHEN EXISTS (SELECT 1 FROM review_channels WHERE channel = ?) THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END, ?)
			ON CONFLICT (item_id, channel) DO NOTHING`))
		if err != nil {
			return fmt.Errorf("store: mark item %d ready: %w", id, err)
		}
		defer stmt.Close()
		for _, ch := range channels {
			if _, err := stmt.ExecContext(ctx, id, ch, ch, heldMS, nowMS, nowMS); err != nil {
				return fmt.Errorf("store: mark item %d ready: delivery to %q: %w", id, ch, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO reviews (delivery_id, item_id, channel, state, created_at)
			SELECT id, item_id, channel, 'waiting', ? FROM deliveries
			WHERE item_id = ? AND state = 'pending' AND next_attempt_at = ?
			ON CONFLICT (delivery_id) DO NOTHING`), nowMS, id, heldMS); err != nil {
			return fmt.Errorf("store: mark item %d ready: reviews: %w", id, err)
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

// translationBacklogQuery counts the items that are not ready on the two
// partial indexes of the claims: O(backlog), never O(history).
const translationBacklogQuery = `SELECT (SELECT COUNT(*) FROM items WHERE state = 'new') +
	(SELECT COUNT(*) FROM items WHERE state = 'translating')`

// TranslationBacklog counts the items that are not ready yet.
func (s *Store) TranslationBacklog(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, translationBacklogQuery).Scan(&n); err != nil {
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
