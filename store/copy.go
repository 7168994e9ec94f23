package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string
	Rows  int64
}

type copyColumn struct {
	name string
	kind byte // 't' text, 'i' integer, 'b' boolean
}

type copyTable struct {
	name   string
	order  string       // ORDER BY of the read: stable, parents before children
	cols   []copyColumn //
	serial bool         // has a generated "id" whose sequence follows the copied ids (PostgreSQL)
	leased bool         // has lease_owner / lease_until, cleared in the copy
}

func cols(spec string) []copyColumn {
	var out []copyColumn
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		out = append(out, copyColumn{name: name, kind: kind[0]})
	}
	return out
}

// copyTables lists, in insertion order (items before the deliveries that
// reference them), every table Copy moves. The leader leases are not
// copied: they belong to the processes of the old installation.
func copyTables() []copyTable {
	return []copyTable{
		{name: "sources", order: "id", leased: true, cols: cols(`id:t url:t etag:t last_modified:t last_poll_at:i
			last_status:t last_error:t last_success_at:i next_poll_at:i consecutive_errors:i failing_since:i
			alerted_at:i last_item_count:i polled_once:b lease_owner:t lease_until:i
			list_shape:t list_shape_was:t shape_changed_at:i polls:i article_fetches:i
			article_failures:i last_article_error:t last_article_error_at:i`)},
		{name: "items", order: "id", serial: true, leased: true, cols: cols(`id:i source_id:t key:t guid:t link:t
			title:t summary:t content_html:t author:t language:t image_url:t categories:t published:i first_seen:i
			updated_at:i content_hash:t state:t backfill_rank:i title_en:t summary_en:t content_html_en:t
			translated_by:t translated_at:i title_only:b untranslated:b translate_err:t attempts:i next_attempt_at:i
			ready_at:i lease_owner:t lease_until:i date_unknown:b meta:t media:t`)},
		{name: "summaries", order: "item_id, content_hash", cols: cols(`item_id:i content_hash:t summarizer:t summary:t
			rejected:t chars:i created_at:i`)},
		{name: "deliveries", order: "id", serial: true, leased: true, cols: cols(`id:i item_id:i channel:t state:t
			attempts:i next_attempt_at:i message_id:i error:t created_at:i sent_at:i lease_owner:t lease_until:i`)},
		{name: "channel_state", order: "channel", cols: cols(`channel:t chat_id:t paused:b paused_until:i reason:t alerted_at:i`)},
		{name: "provider_state", order: "provider", cols: cols(`provider:t paused_until:i reason:t alerted_at:i`)},
		{name: "translation_memory", order: "key", cols: cols(`key:t provider:t source:t target:t`)},
		{name: "translation_usage", order: "day, provider", cols: cols(`day:t provider:t chars:i requests:i`)},
		{name: "meta", order: "key", cols: cols(`key:t value:t`)},
		{name: "chat_pacing", order: "channel", cols: cols(`channel:t next_send_at:i`)},
		// Review and correction (0009). Admin sessions and login failures
		// belong to the old installation's browsers, like leases.
		{name: "human_tm", order: "key", cols: cols(`key:t source:t target:t editor:t updated_at:i`)},
		{name: "corrections", order: "id", serial: true, cols: cols(`id:i item_id:i field:t block:i source:t old_en:t
			new_en:t editor:t at:i`)},
		{name: "glossary_entries", order: "source", cols: cols(`source:t target:t added_by:t created_at:i`)},
		{name: "admin_audit", order: "id", serial: true, cols: cols(`id:i at:i actor:t action:t item_id:i detail:t`)},
		{name: "review_channels", order: "channel", cols: cols(`channel:t`)},
		{name: "reviews", order: "delivery_id", cols: cols(`delivery_id:i item_id:i channel:t state:t created_at:i prompted_at:i
			answered_at:i answered_by:t`)},
		{name: "delivery_edits", order: "delivery_id", leased: true, cols: cols(`delivery_id:i due_at:i attempts:i error:t lease_owner:t lease_until:i`)},
	}
}

// copyBatch is the number of rows per multi-row INSERT (items have 34
// columns: well within both engines' parameter limits).
const copyBatch = 200

// Copy moves a whole installation from src into dst, which may be another
// engine (the `migrate-store` command: SQLite to PostgreSQL): sources and
// their poll state, items with their translations, deliveries (sent, pending
// and failed, with Telegram's message ids), channel and provider state, the
// translation memory, usage, meta (the Telegram update offset) and chat
// pacing. Ids are kept, so links to /posts/<id> stay valid. Leases are
// cleared: the old processes are gone.
//
// dst must be empty: Copy refuses (and changes nothing) when any of those
// tables of dst has a row, so running it twice never duplicates or mixes
// data. It reads src in one snapshot and writes dst in one transaction, so
// a failure leaves dst empty and the copy can simply be run again. It
// returns the rows copied per table, after checking that dst now holds
// exactly as many as src.
func Copy(ctx context.Context, dst, src *Store) ([]TableCount, error) {
	if dst == src {
		return nil, errors.New("store: copy: source and target are the same store")
	}
	opts := &sql.TxOptions{}
	if src.d.name == DriverPostgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	rtx, err := src.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("store: copy: read source: %w", err)
	}
	defer func() { _ = rtx.Rollback() }()

	var counts []TableCount
	err = dst.inTx(ctx, func(wtx *sql.Tx) error {
		for _, tb := range copyTables() {
			var n int64
			if err := wtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tb.name).Scan(&n); err != nil {
				return fmt.Errorf("store: copy: check target: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("store: copy: the target database is not empty (table %s has %d rows); "+
					"copy only into a new, empty database: nothing was changed", tb.name, n)
			}
		}
		for _, tb := range copyTables() {
			n, err := copyTableRows(ctx, rtx, wtx, dst.d, tb)
			if err != nil {
				return err
			}
			var srcN, dstN int64
			if err := rtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tb.name).Scan(&srcN); err != nil {
				return fmt.Errorf("store: copy %s: count source: %w", tb.name, err)
			}
			if err := wtx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tb.name).Scan(&dstN); err != nil {
				return fmt.Errorf("store: copy %s: count target: %w", tb.name, err)
			}
			if srcN != n || dstN != n {
				return fmt.Errorf("store: copy %s: source has %d rows, copied %d, target has %d: nothing was changed", tb.name, srcN, n, dstN)
			}
			if tb.serial && dst.d.name == DriverPostgres {
				_, err := wtx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+tb.name+`', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM `+tb.name)
				if err != nil {
					return fmt.Errorf("store: copy %s: advance the id sequence: %w", tb.name, err)
				}
			}
			if tb.leased {
				if _, err := wtx.ExecContext(ctx, `UPDATE `+tb.name+` SET lease_owner = '', lease_until = 0 WHERE lease_until <> 0 OR lease_owner <> ''`); err != nil {
					return fmt.Errorf("store: copy %s: clear leases: %w", tb.name, err)
				}
			}
			counts = append(counts, TableCount{Table: tb.name, Rows: n})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The search index is not copied: the target's triggers queued every
	// post; index them now rather than at the target's next open.
	if err := dst.buildSearchIndex(ctx); err != nil {
		return nil, err
	}
	return counts, nil
}

func copyTableRows(ctx context.Context, rtx, wtx *sql.Tx, d dialect, tb copyTable) (int64, error) {
	names := make([]string, len(tb.cols))
	for i, c := range tb.cols {
		names[i] = c.name
	}
	list := strings.Join(names, ", ")
	rows, err := rtx.QueryContext(ctx, `SELECT `+list+` FROM `+tb.name+` ORDER BY `+tb.order)
	if err != nil {
		return 0, fmt.Errorf("store: copy %s: read: %w", tb.name, err)
	}
	defer rows.Close()
	var (
		total int64
		batch []any
		nrows int
	)
	flush := func() error {
		if nrows == 0 {
			return nil
		}
		row := "(" + placeholders(len(tb.cols)) + ")"
		q := `INSERT INTO ` + tb.name + ` (` + list + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", nrows), ", ")
		if _, err := wtx.ExecContext(ctx, d.rebind(q), batch...); err != nil {
			return fmt.Errorf("store: copy %s: write: %w", tb.name, err)
		}
		total += int64(nrows)
		batch, nrows = batch[:0], 0
		return nil
	}
	for rows.Next() {
		dest := make([]any, len(tb.cols))
		for i, c := range tb.cols {
			switch c.kind {
			case 'i':
				dest[i] = new(int64)
			case 'b':
				dest[i] = new(bool)
			default:
				dest[i] = new(string)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return 0, fmt.Errorf("store: copy %s: read: %w", tb.name, err)
		}
		for _, p := range dest {
			switch v := p.(type) {
			case *int64:
				batch = append(batch, *v)
			case *bool:
				batch = append(batch, *v)
			case *string:
				batch = append(batch, *v)
			}
		}
		nrows++
		if nrows == copyBatch {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: copy %s: read: %w", tb.name, err)
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return total, nil
}
