package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
)

// This file holds review and correction (migration 0009): admin sessions,
// the login rate limit, the audit log, human translations, the correction
// history and the glossary entries added from the admin pages.

// Queries on a request's path, each planned on an index on both engines
// (see TestCorrectionPlans).
const (
	// QueryAdminSession runs on every admin request (primary key).
	QueryAdminSession = `SELECT token_hash, csrf, client, created_at, expires_at
		FROM admin_sessions WHERE token_hash = ? AND expires_at > ?`
	// QueryListCorrections runs on every public post page (corrections_item).
	QueryListCorrections = `SELECT id, item_id, field, block, source, old_en, new_en, editor, at
		FROM corrections WHERE item_id = ? ORDER BY id`
	// QueryAuditOfItem runs on every admin post page (admin_audit_item).
	QueryAuditOfItem = `SELECT id, at, actor, action, item_id, detail FROM admin_audit WHERE item_id = ? ORDER BY id DESC LIMIT ?`
)

// QueryCorrectedItems runs on every list page, for its n posts (corrections_item).
func QueryCorrectedItems(n int) string {
	return `SELECT item_id, MAX(at) FROM corrections WHERE item_id IN (` + placeholders(n) + `) GROUP BY item_id`
}

// QueryHumanTM runs on every translation, for its n segments (primary key).
func QueryHumanTM(n int) string {
	return `SELECT key, target FROM human_tm WHERE key IN (` + placeholders(n) + `)`
}

// AdminSession is one signed-in admin browser. The cookie holds a random
// token; the store keeps only its SHA-256 (TokenHash), so a copy of the
// database opens no session.
type AdminSession struct {
	TokenHash string
	CSRF      string // the session's anti-forgery token, echoed by every form
	Client    string // remote address at sign-in (shown in the audit log)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateAdminSession stores a new session.
func (s *Store) CreateAdminSession(ctx context.Context, a AdminSession) error {
	if a.TokenHash == "" || a.CSRF == "" {
		return errors.New("store: create admin session: empty token")
	}
	_, err := s.exec(ctx, `INSERT INTO admin_sessions (token_hash, csrf, client, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		a.TokenHash, a.CSRF, a.Client, ms(a.CreatedAt), ms(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create admin session: %w", err)
	}
	return nil
}

// GetAdminSession returns the session whose token hashes to tokenHash while
// it has not expired at now; ErrNotFound otherwise.
func (s *Store) GetAdminSession(ctx context.Context, tokenHash string, now time.Time) (AdminSession, error) {
	var a AdminSession
	var created, expires int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(QueryAdminSession), tokenHash, ms(now)).
		Scan(&a.TokenHash, &a.CSRF, &a.Client, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return AdminSession{}, fmt.Errorf("store: admin session: %w", ErrNotFound)
	}
	if err != nil {
		return AdminSession{}, fmt.Errorf("store: admin session: %w", err)
	}
	a.CreatedAt, a.ExpiresAt = fromMS(created), fromMS(expires)
	return a, nil
}

// DeleteAdminSession ends a session (sign-out). No error when there is none.
func (s *Store) DeleteAdminSession(ctx context.Context, tokenHash string) error {
	if _, err := s.exec(ctx, `DELETE FROM admin_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete admin session: %w", err)
	}
	return nil
}

// DeleteExpiredAdminSessions removes the sessions expired at now.
func (s *Store) DeleteExpiredAdminSessions(ctx context.Context, now time.Time) error {
	if _, err := s.exec(ctx, `DELETE FROM admin_sessions WHERE expires_at <= ?`, ms(now)); err != nil {
		return fmt.Errorf("store: delete expired admin sessions: %w", err)
	}
	return nil
}

// LoginPolicy is the sign-in rate limit: after Free wrong passwords from one
// client within Window, each further wrong one locks the client out for
// Base·2^(n-Free), at most Max.
type LoginPolicy struct {
	Free   int
	Window time.Duration
	Base   time.Duration
	Max    time.Duration
}

// LoginLockedUntil reports until when client may not try a password (zero:
// it may now).
func (s *Store) LoginLockedUntil(ctx context.Context, client string, now time.Time) (time.Time, error) {
	var until int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT locked_until FROM admin_login_failures WHERE client = ?`), client).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: login lock: %w", err)
	}
	if until <= ms(now) {
		return time.Time{}, nil
	}
	return fromMS(until), nil
}

// RecordLoginFailure counts one wrong password from client at now and
// returns the failures in the current window and until when the client is
// locked out (zero while within p.Free). Shared by every instance: the
// count is one atomic upsert, so concurrent failures are all counted.
func (s *Store) RecordLoginFailure(ctx context.Context, client string, now time.Time, p LoginPolicy) (int, time.Time, error) {
	nowMS, window := ms(now), p.Window.Milliseconds()
	var n int
	err := s.w.QueryRowContext(ctx, s.d.rebind(`INSERT INTO admin_login_failures (client, failures, window_start, locked_until)
		VALUES (?, 1, ?, 0)
		ON CONFLICT (client) DO UPDATE SET
			failures = CASE WHEN ? - admin_login_failures.window_start > ? THEN 1 ELSE admin_login_failures.failures + 1 END,
			window_start = CASE WHEN ? - admin_login_failures.window_start > ? THEN ? ELSE admin_login_failures.window_start END
		RETURNING failures`), client, nowMS, nowMS, window, nowMS, window, nowMS).Scan(&n)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: record login failure: %w", err)
	}
	if n <= p.Free {
		return n, time.Time{}, nil
	}
	d := p.Base << min(n-p.Free-1, 20)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	locked := now.Add(d)
	if _, err := s.exec(ctx, `UPDATE admin_login_failures SET locked_until = ? WHERE client = ? AND locked_until < ?`,
		ms(locked), client, ms(locked)); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: record login failure: %w", err)
	}
	return n, locked, nil
}

// ClearLoginFailures forgets client's wrong passwords (after a good one).
func (s *Store) ClearLoginFailures(ctx context.Context, client string) error {
	if _, err := s.exec(ctx, `DELETE FROM admin_login_failures WHERE client = ?`, client); err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}

// AuditEntry is one line of the admin audit log: who did what, when.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string // "editor" plus the session's client address
	Action string // "sign-in", "correct", "glossary-add", "glossary-delete", "retranslate", …
	ItemID int64  // 0 when not about one post
	Detail string
}

// AddAudit appends to the audit log.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	return addAudit(ctx, s, s.w, e)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func addAudit(ctx context.Context, s *Store, x execer, e AuditEntry) error {
	_, err := x.ExecContext(ctx, s.d.rebind(`INSERT INTO admin_audit (at, actor, action, item_id, detail) VALUES (?, ?, ?, ?, ?)`),
		ms(e.At), e.Actor, e.Action, e.ItemID, e.Detail)
	if err != nil {
		return fmt.Errorf("store: add audit: %w", err)
	}
	return nil
}

// ListAudit returns the newest limit audit entries (of one post when
// itemID > 0), newest first.
func (s *Store) ListAudit(ctx context.Context, itemID int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT id, at, actor, action, item_id, detail FROM admin_audit ORDER BY id DESC LIMIT ?`
	args := []any{limit}
	if itemID > 0 {
		q = QueryAuditOfItem
		args = []any{itemID, limit}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ItemID, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: list audit: %w", err)
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list audit: %w", err)
	}
	return out, nil
}

// HumanTMGet looks segments up among the human translations and returns
// key → English for the keys it holds. Human keys name no provider (see
// translate.HumanKey), so a correction wins whatever translates next.
func (s *Store) HumanTMGet(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string)
	for start := 0; start < len(keys); start += maxInList {
		chunk := keys[start:min(start+maxInList, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		if err := func() error {
			rows, err := s.r.QueryContext(ctx, s.d.rebind(QueryHumanTM(len(chunk))), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				out[k] = v
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("store: human tm get: %w", err)
		}
	}
	return out, nil
}

// Correction is one block of a post whose English a person changed.
type Correction struct {
	ID     int64
	ItemID int64
	Field  string // "title", "summary" or "content"
	Block  int    // content block index (0 for title and summary)
	Source string // the original text of the block
	OldEN  string
	NewEN  string
	Editor string
	At     time.Time
}

// HumanEntry is one human translation: Key from translate.HumanKey.
type HumanEntry struct {
	Key    string
	Source string
	Target string
}

// ItemCorrection is everything one save of the correction page writes.
type ItemCorrection struct {
	// OriginalHash is the ContentHash the editor saw; when the original
	// changed since, nothing is written and ErrStale is returned.
	OriginalHash  string
	TitleEN       string
	SummaryEN     string
	ContentHTMLEN string
	Changes       []Correction
	Human         []HumanEntry
	Editor        string
	At            time.Time
}

// CorrectItem stores a post's English as corrected by a person, in one
// transaction: the item's English fields, with translated_at and ready_at
// set to c.At (the post's `updated` in every feed moves, its id stays, and
// the feed versions change); one corrections row per change; the human
// translations (replacing earlier ones of the same key); one audit row.
// Every message already sent for the post is queued for an edit
// (delivery_edits). Only a ready post can be corrected: ErrNotFound otherwise, ErrStale when
// its original changed since the editor saw it.
func (s *Store) CorrectItem(ctx context.Context, id int64, c ItemCorrection) error {
	if len(c.Changes) == 0 {
		return nil
	}
	at := ms(c.At)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var hash string
		var state model.State
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT content_hash, state FROM items WHERE id = ?`), id).Scan(&hash, &state)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && state != model.StateReady) {
			return fmt.Errorf("store: correct item %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: correct item %d: %w", id, err)
		}
		if c.OriginalHash != "" && hash != c.OriginalHash {
			return fmt.Errorf("store: correct item %d: %w", id, ErrStale)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE items SET title_en = ?, summary_en = ?, content_html_en = ?,
			translated_at = ?, ready_at = ? WHERE id = ?`), c.TitleEN, c.SummaryEN, c.ContentHTMLEN, at, at, id); err != nil {
			return fmt.Errorf("store: correct item %d: %w", id, err)
		}
		for _, ch := range c.Changes {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO corrections (item_id, field, block, source, old_en, new_en, editor, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), id, ch.Field, ch.Block, ch.Source, ch.OldEN, ch.NewEN, c.Editor, at); err != nil {
				return fmt.Errorf("store: correct item %d: %w", id, err)
			}
		}
		human := slices.Clone(c.Human)
		slices.SortStableFunc(human, func(a, b HumanEntry) int { return strings.Compare(a.Key, b.Key) })
		for _, h := range human {
			if h.Key == "" {
				return fmt.Errorf("store: correct item %d: human entry with empty key", id)
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO human_tm (key, source, target, editor, updated_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET source = excluded.source, target = excluded.target,
				editor = excluded.editor, updated_at = excluded.updated_at`), h.Key, h.Source, h.Target, c.Editor, at); err != nil {
				return fmt.Errorf("store: correct item %d: human tm: %w", id, err)
			}
		}
		if err := s.queueEdits(ctx, tx, id, c.At); err != nil {
			return err
		}
		return addAudit(ctx, s, tx, AuditEntry{At: c.At, Actor: c.Editor, Action: "correct", ItemID: id,
			Detail: fmt.Sprintf("%d block(s) corrected", len(c.Changes))})
	})
}

// ListCorrections returns a post's correction history, oldest first.
func (s *Store) ListCorrections(ctx context.Context, itemID int64) ([]Correction, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(QueryListCorrections), itemID)
	if err != nil {
		return nil, fmt.Errorf("store: list corrections: %w", err)
	}
	defer rows.Close()
	var out []Correction
	for rows.Next() {
		var c Correction
		var at int64
		if err := rows.Scan(&c.ID, &c.ItemID, &c.Field, &c.Block, &c.Source, &c.OldEN, &c.NewEN, &c.Editor, &at); err != nil {
			return nil, fmt.Errorf("store: list corrections: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list corrections: %w", err)
	}
	return out, nil
}

// CorrectedItems returns, for those of ids that a person corrected, the
// time of the last correction (one indexed lookup per chunk of ids: the
// cost follows the page shown, not the history).
func (s *Store) CorrectedItems(ctx context.Context, ids []int64) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	for start := 0; start < len(ids); start += maxInList {
		chunk := ids[start:min(start+maxInList, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := func() error {
			rows, err := s.r.QueryContext(ctx, s.d.rebind(QueryCorrectedItems(len(chunk))), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, at int64
				if err := rows.Scan(&id, &at); err != nil {
					return err
				}
				out[id] = fromMS(at)
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("store: corrected items: %w", err)
		}
	}
	return out, nil
}

// GlossaryEntry is a glossary term added from the admin pages.
type GlossaryEntry struct {
	Source    string
	Target    string
	AddedBy   string
	CreatedAt time.Time
}

// PutGlossaryEntry adds or replaces a stored glossary entry.
func (s *Store) PutGlossaryEntry(ctx context.Context, e GlossaryEntry) error {
	if strings.TrimSpace(e.Source) == "" || strings.TrimSpace(e.Target) == "" {
		return errors.New("store: put glossary entry: empty term or translation")
	}
	_, err := s.exec(ctx, `INSERT INTO glossary_entries (source, target, added_by, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET target = excluded.target, added_by = excluded.added_by, created_at = excluded.created_at`,
		e.Source, e.Target, e.AddedBy, ms(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: put glossary entry: %w", err)
	}
	return nil
}

// DeleteGlossaryEntry removes a stored glossary entry (none: no error).
func (s *Store) DeleteGlossaryEntry(ctx context.Context, source string) error {
	if _, err := s.exec(ctx, `DELETE FROM glossary_entries WHERE source = ?`, source); err != nil {
		return fmt.Errorf("store: delete glossary entry: %w", err)
	}
	return nil
}

// GlossaryEntries returns every stored glossary entry, by term. The table
// is small (what editors typed), so it is read whole.
func (s *Store) GlossaryEntries(ctx context.Context) ([]GlossaryEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT source, target, added_by, created_at FROM glossary_entries ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("store: glossary entries: %w", err)
	}
	defer rows.Close()
	var out []GlossaryEntry
	for rows.Next() {
		var e GlossaryEntry
		var at int64
		if err := rows.Scan(&e.Source, &e.Target, &e.AddedBy, &at); err != nil {
			return nil, fmt.Errorf("store: glossary entries: %w", err)
		}
		e.CreatedAt = fromMS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: glossary entries: %w", err)
	}
	return out, nil
}

// GlossaryMap is GlossaryEntries as term → translation (what
// translate.Engine merges with the YAML glossary).
func (s *Store) GlossaryMap(ctx context.Context) (map[string]string, error) {
	es, err := s.GlossaryEntries(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(es))
	for _, e := range es {
		m[e.Source] = e.Target
	}
	return m, nil
}
