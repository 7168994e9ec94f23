package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SearchPlan returns the query plan of q's candidate query, one line per
// plan row. On PostgreSQL sequential scans are disabled for the EXPLAIN (a
// test store is too small for the planner to prefer an index otherwise).
func (s *Store) SearchPlan(ctx context.Context, q SearchQuery) (string, error) {
	return s.searchPlan(ctx, q, false, false)
}

// SearchTitlePlan is SearchPlan for the title tier of a ranked search (read
// by the GIN index when byIndex).
func (s *Store) SearchTitlePlan(ctx context.Context, q SearchQuery, byIndex bool) (string, error) {
	return s.searchPlan(ctx, q, byIndex, true)
}

// SearchIndexPlan is SearchPlan for PostgreSQL's read of the matches older
// than the first window, by the GIN index.
func (s *Store) SearchIndexPlan(ctx context.Context, q SearchQuery) (string, error) {
	return s.searchPlan(ctx, q, true, false)
}

// WithSearchWindow is q with PostgreSQL's ordered read limited to window
// ids (searchIDs).
func WithSearchWindow(q SearchQuery, window int64) SearchQuery {
	q.window = window
	return q
}

func (s *Store) searchPlan(ctx context.Context, q SearchQuery, byIndex, title bool) (string, error) {
	tier := 0
	switch {
	case title:
		tier = tierTitle
	case q.Order != SearchByDate:
		tier = tierBody
	}
	r := &searchRun{q: q}
	if s.d.name == DriverPostgres {
		var err error
		if r.pg, err = s.resolvePostgres(ctx, q.Query); err != nil {
			return "", err
		}
		r.check = q.Query.NeedsPositions()
	}
	rg := idRange{before: 1 << 40, byIndex: byIndex}
	rg.flagTitle = byIndex && tier == tierBody && !r.check && r.pg.title != "FALSE" && s.d.name == DriverPostgres
	query, args := s.searchQuery(r, tier, rg, 21)
	return s.explainPlan(ctx, query, args)
}

func (s *Store) explainPlan(ctx context.Context, query string, args []any) (string, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }()
	prefix := "EXPLAIN QUERY PLAN "
	if s.d.name == DriverPostgres {
		prefix = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return "", err
		}
	}
	rows, err := tx.QueryContext(ctx, prefix+s.d.rebind(query), args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// Exec runs a raw statement (tests delete posts the way retention will).
func (s *Store) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.w.ExecContext(ctx, s.d.rebind(query), args...)
}

// QueryInt runs a query of one integer (tests).
func (s *Store) QueryInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(query), args...).Scan(&n)
	return n, err
}

// ListPlan returns the plan of ListItems' query for q (the single-query
// path: ORDER BY published DESC, id DESC LIMIT ? OFFSET ?).
func (s *Store) ListPlan(ctx context.Context, q ItemQuery) (string, error) {
	where, args := itemWhere(q)
	args = append(args, 31, 0)
	return s.explainPlan(ctx, `SELECT `+itemColumns+` FROM items`+where+` ORDER BY published DESC, id DESC LIMIT ? OFFSET ?`, args)
}

// HasIndex reports whether the SQLite database has the named index.
func (s *Store) HasIndex(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

// SearchSizes returns the bytes of the whole database and of the search
// index (SQLite: the items_fts tables and search_queue, by dbstat;
// PostgreSQL: item_search and item_search_title with their indexes,
// search_terms and search_queue).
func (s *Store) SearchSizes(ctx context.Context) (all, index int64, err error) {
	q := `SELECT (SELECT SUM(pgsize) FROM dbstat),
		(SELECT SUM(pgsize) FROM dbstat WHERE name LIKE 'items_fts%' OR name LIKE '%search_queue%')`
	if s.d.name == DriverPostgres {
		q = `SELECT (SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')),
			pg_total_relation_size('item_search') + pg_total_relation_size('item_search_title') + pg_total_relation_size('search_queue') + pg_total_relation_size('search_terms')`
	}
	err = s.r.QueryRowContext(ctx, q).Scan(&all, &index)
	return all, index, err
}

// SummaryQuery is the hot-path query of GetSummary, for plan tests.
const SummaryQuery = summaryQuery

// ExplainPlan returns the engine's plan for query (rebound for the
// dialect), one line per plan row: EXPLAIN QUERY PLAN on SQLite; EXPLAIN
// with sequential scans disabled on PostgreSQL (see explainPlan).
func (s *Store) ExplainPlan(ctx context.Context, query string, args ...any) (string, error) {
	return s.explainPlan(ctx, s.d.rebind(query), args)
}
