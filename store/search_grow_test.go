package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
)

// GrowForBench multiplies the posts of s by SQL copies until it holds n
// (the search benchmark at 1,000,000 posts: storing that many through the
// write path takes hours). Copy k of a post has the id id + k·(max id), key,
// GUID and link suffixed with ~k, and its dates shifted back by k times the
// span of the originals; its search index row is the original's (same
// text, same terms: item_search and item_search_title on PostgreSQL), copied in SQL too. Nothing else (deliveries,
// summaries) is copied. On PostgreSQL the GIN index is dropped during the
// copies and built again after, then the tables are vacuumed and analysed
// as autovacuum would; SQLite is left without statistics, as the daemon
// leaves it. For tests and benchmarks only.
func (s *Store) GrowForBench(ctx context.Context, n int, logf func(format string, args ...any)) error {
	var (
		count, maxID   int64
		minPub, maxPub int64
		pg             = s.d.name == DriverPostgres
		began          = time.Now()
		cols           []string
		exprs          []string
		shifted               = map[string]bool{"published": true, "first_seen": true, "updated_at": true, "translated_at": true, "ready_at": true}
		suffixed              = map[string]string{"key": "~", "guid": "~", "link": "#"}
		errPrefix      string = "store: grow for bench"
	)
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(MIN(published), 0),
		COALESCE(MAX(published), 0) FROM items`).Scan(&count, &maxID, &minPub, &maxPub); err != nil {
		return fmt.Errorf("%s: %w", errPrefix, err)
	}
	if count == 0 || int64(n) <= count {
		return nil
	}
	span := maxPub - minPub + 60000
	for _, tb := range copyTables() {
		if tb.name != "items" {
			continue
		}
		for _, c := range tb.cols {
			if c.name == "id" {
				continue
			}
			cols = append(cols, c.name)
			switch {
			case shifted[c.name]:
				exprs = append(exprs, fmt.Sprintf("CASE WHEN %[1]s = 0 THEN 0 ELSE %[1]s - $shift END", c.name))
			case suffixed[c.name] != "":
				exprs = append(exprs, fmt.Sprintf("%s || '%s' || $k", c.name, suffixed[c.name]))
			default:
				exprs = append(exprs, c.name)
			}
		}
	}
	docs := "grow_bench_docs"
	if !pg {
		// FTS5 is contentless: the originals' index text is made once in
		// Go and inserted for every copy.
		if err := s.growDocs(ctx, docs, maxID); err != nil {
			return err
		}
		defer func() { _, _ = s.w.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS `+docs) }()
	} else {
		for _, ix := range []string{"item_search_terms", "item_search_title_terms"} {
			if _, err := s.w.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix); err != nil {
				return fmt.Errorf("%s: drop the GIN index %s: %w", errPrefix, ix, err)
			}
		}
	}
	for k := int64(1); count < int64(n); k++ {
		m := min(int64(n)-count, maxID)
		sub := func(q string) string {
			q = strings.ReplaceAll(q, "$shift", fmt.Sprint(k*span))
			q = strings.ReplaceAll(q, "$k", fmt.Sprint(k))
			return strings.ReplaceAll(q, "$off", fmt.Sprint(k*maxID))
		}
		err := s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, sub(`INSERT INTO items (id, `+strings.Join(cols, ", ")+`)
				SELECT id + $off, `+strings.Join(exprs, ", ")+` FROM items WHERE id <= `+fmt.Sprint(maxID)+
				` ORDER BY id LIMIT `+fmt.Sprint(m)))
			if err != nil {
				return fmt.Errorf("%s: copy %d of the posts: %w", errPrefix, k, err)
			}
			added, _ := res.RowsAffected()
			count += added
			index := `INSERT INTO item_search (item_id, terms) SELECT x.item_id + $off, x.terms FROM item_search x
				JOIN items i ON i.id = x.item_id + $off WHERE x.item_id <= ` + fmt.Sprint(maxID)
			if !pg {
				index = `INSERT INTO items_fts (rowid, title, body) SELECT g.id + $off, g.title, g.body FROM ` + docs + ` g
					JOIN items i ON i.id = g.id + $off`
			}
			if _, err := tx.ExecContext(ctx, sub(index)); err != nil {
				return fmt.Errorf("%s: index copy %d: %w", errPrefix, k, err)
			}
			if pg {
				if _, err := tx.ExecContext(ctx, sub(`INSERT INTO item_search_title (item_id, terms)
					SELECT x.item_id + $off, x.terms FROM item_search_title x
					JOIN items i ON i.id = x.item_id + $off WHERE x.item_id <= `+fmt.Sprint(maxID))); err != nil {
					return fmt.Errorf("%s: title index copy %d: %w", errPrefix, k, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM search_queue WHERE item_id > `+fmt.Sprint(maxID)); err != nil {
				return fmt.Errorf("%s: %w", errPrefix, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		logf("grow: %d posts (copy %d) after %v", count, k, time.Since(began).Round(time.Second))
	}
	if !pg {
		_, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	}
	err := s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`SET LOCAL maintenance_work_mem = '512MB'`,
			`CREATE INDEX item_search_terms ON item_search USING GIN (terms) WITH (fastupdate = off)`,
			`CREATE INDEX item_search_title_terms ON item_search_title USING GIN (terms) WITH (fastupdate = off)`,
			`SELECT setval(pg_get_serial_sequence('items', 'id'), (SELECT MAX(id) FROM items))`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %s: %w", errPrefix, q, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range []string{"items", "item_search", "item_search_title", "search_terms", "search_queue"} {
		if _, err := s.w.ExecContext(ctx, `VACUUM ANALYZE `+t); err != nil {
			return fmt.Errorf("%s: vacuum %s: %w", errPrefix, t, err)
		}
	}
	logf("grow: index built, tables vacuumed after %v", time.Since(began).Round(time.Second))
	return nil
}

// growDocs fills table with the FTS5 text (title, body) of every ready
// post with an id up to maxID.
func (s *Store) growDocs(ctx context.Context, table string, maxID int64) error {
	if _, err := s.w.ExecContext(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE `+table+` (id INTEGER PRIMARY KEY, title TEXT, body TEXT)`); err != nil {
		return err
	}
	for after := int64(0); after < maxID; {
		rows, err := s.r.QueryContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id > ? AND id <= ? ORDER BY id LIMIT 1000`, after, maxID)
		if err != nil {
			return err
		}
		items, err := scanItems(rows)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			break
		}
		err = s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
			for _, it := range items {
				if it.State != model.StateReady {
					continue
				}
				d := searchDocument(it)
				if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id, title, body) VALUES (?, ?, ?)`,
					it.ID, strings.Join(d.Title, " "), strings.Join(d.Body, " ")); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: grow for bench: index text: %w", err)
		}
		after = items[len(items)-1].ID
	}
	return nil
}
