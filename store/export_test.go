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
	if q.Order == "" {
		q.Order = SearchByRank
	}
	query, args := s.searchQuery(q, cursor{id: 1 << 40}, 20)
	return s.explain(ctx, query, args)
}

func (s *Store) explain(ctx context.Context, query string, args []any) (string, error) {
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

// ListPlan returns the plan of ListItems' query for q (the single-query
// path: ORDER BY published DESC, id DESC LIMIT ? OFFSET ?).
func (s *Store) ListPlan(ctx context.Context, q ItemQuery) (string, error) {
	where, args := itemWhere(q)
	args = append(args, 31, 0)
	return s.explain(ctx, `SELECT `+itemColumns+` FROM items`+where+` ORDER BY published DESC, id DESC LIMIT ? OFFSET ?`, args)
}

// HasIndex reports whether the SQLite database has the named index.
func (s *Store) HasIndex(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n)
	return n > 0, err
}
