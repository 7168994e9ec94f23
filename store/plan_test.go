package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/model"
)

// Every hot query (a request, a poll, a claim) must be planned on an index
// on both engines: no full scan of items or deliveries, no temporary sort of
// their rows. The tables are filled with planNItems rows spread like a real
// installation (100 sources, most posts ready, a backlog) so that the
// planner's choice is meaningful; PostgreSQL is ANALYZEd as autovacuum
// would. SQLite is left without ANALYZE statistics, as the daemon leaves it.
// TRANSFEED_PRINT_PLANS=1 go test -v -run HotQueryPlans ./store/ prints them.

const (
	planNItems   = 20000
	planNSources = 100
)

// hotQuery is one query of a hot path, built with the same helpers the
// store methods use.
type hotQuery struct {
	name  string
	query string
	args  []any
	// index the SQLite plan must name (PostgreSQL may pick another index,
	// but must pick one).
	index string
}

func hotQueries(d dialect) []hotQuery {
	now := int64(1700000000000 + planNItems*60000)
	src := func(i int) string { return fmt.Sprintf("src-%d", i) }
	var many []string
	for i := range perSourceMax + 8 {
		many = append(many, src(i))
	}
	ready := []model.State{model.StateReady}
	list := func(q ItemQuery) (string, []any) {
		if q.Limit == 0 {
			q.Limit = 100
		}
		return d.listQuery(q)
	}
	feedAllQ, feedAllA := list(ItemQuery{States: ready})
	feedManyQ, feedManyA := list(ItemQuery{States: ready, SourceIDs: many})
	feedOneQ, feedOneA := list(ItemQuery{States: ready, SourceIDs: []string{src(7)}})
	pageQ, pageA := list(ItemQuery{States: ready, Limit: 30, Offset: 60})
	keysQ, keysA := readyKeysQuery(src(7), ItemQuery{}, 100)
	versionArgs := make([]any, len(many))
	for i, id := range many {
		versionArgs[i] = id
	}
	return []hotQuery{
		{"get source (per poll)", sourceSelect + ` WHERE s.id = ?`, []any{(now - 86400000) / 3600000, src(7)}, "PRIMARY KEY"},
		{"list sources (/status)", sourceSelect + ` ORDER BY s.id`, []any{(now - 86400000) / 3600000}, "PRIMARY KEY"},
		{"known keys (per poll)", `SELECT key, content_hash FROM items WHERE source_id = ? AND key IN (?, ?, ?)`,
			[]any{src(7), "k7", "k107", "k207"}, "sqlite_autoindex_items_1"},
		{"feed of every source", feedAllQ, feedAllA, "items_ready_published"},
		{"feed of many sources", feedManyQ, feedManyA, "items_ready_published"},
		{"feed of one source", feedOneQ, feedOneA, "items_ready_source_published"},
		{"feed of a few sources, per source", keysQ, keysA, "items_ready_source_published"},
		{"site page 3", pageQ, pageA, "items_ready_published"},
		{"feed version", feedVersionQuery + ` WHERE source_id IN (` + placeholders(len(many)) + `)`, versionArgs, "source_stats"},
		{"claim new items", claimNewQuery, []any{now, 16}, "items_new_first_seen"},
		{"claim due retries", claimRetryQuery, []any{now, now, 16}, "items_retry_due"},
		{"claim holders at start: new posts", claimHoldersNewQuery, []any{now}, "items_new_first_seen"},
		{"claim holders at start: retries", claimHoldersRetryQuery, []any{now}, "items_retry_due"},
		{"claim holders at start: deliveries", claimHoldersDeliveriesQuery, []any{now}, "deliveries_state_created"},
		{"translation backlog (/status)", translationBacklogQuery, nil, "items_new_first_seen"},
		{"delivery backlogs (/status)", deliveryBacklogsQuery, nil, "delivery_counts"},
		{"claim deliveries", claimDeliveriesQuery, []any{now, now, now, 16}, "deliveries_state_created"},
		{"get item (/posts/{id})", `SELECT ` + itemColumns + ` FROM items WHERE id = ?`, []any{int64(42)}, "INTEGER PRIMARY KEY"},
		{"retention: a source's Nth newest post", retentionBoundaryQuery, []any{src(7), 99}, "items_source_published"},
		{"retention: a batch of a source's old posts", retentionAgeQuery, []any{src(7), now - 3600000*24*7, 100}, "items_ready_source_published"},
		{"retention: what a sweep kept", retentionKeptQuery, []any{src(7), now - 3600000*24*7}, "items_source_published"},
	}
}

// fillPlanData inserts planNItems items over planNSources sources (every
// 50th new, every 50th translating, the rest ready) and a delivery for
// every 10th item, in one statement each (recursive CTE on both engines).
func fillPlanData(ctx context.Context, t *testing.T, s *Store) {
	t.Helper()
	base := int64(1700000000000)
	_, err := s.w.ExecContext(ctx, s.d.rebind(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO items (source_id, key, title, content_html, published, first_seen, updated_at, content_hash,
			state, next_attempt_at, ready_at)
		SELECT 'src-' || (i % ?), 'k' || i, 'title ' || i, '<p>body</p>', CAST(? AS BIGINT) + i * 60000,
			CAST(? AS BIGINT) + i * 60000, CAST(? AS BIGINT) + i * 60000, 'h',
			CASE WHEN i % 50 = 0 THEN 'new' WHEN i % 50 = 1 THEN 'translating' ELSE 'ready' END,
			CASE WHEN i % 50 = 1 THEN CAST(? AS BIGINT) + i * 60000 ELSE 0 END,
			CASE WHEN i % 50 > 1 THEN CAST(? AS BIGINT) + i * 60000 ELSE 0 END
		FROM n`), planNItems, planNSources, base, base, base, base+3600000, base)
	if err != nil {
		t.Fatalf("fill items: %v", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO sources (id) SELECT DISTINCT source_id FROM items`)
	if err != nil {
		t.Fatalf("fill sources: %v", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO deliveries (item_id, channel, state, created_at)
		SELECT id, '@c' || (id % 3), CASE WHEN id % 100 = 0 THEN 'pending' ELSE 'sent' END, first_seen FROM items WHERE id % 10 = 0`)
	if err != nil {
		t.Fatalf("fill deliveries: %v", err)
	}
	if s.d.name == DriverPostgres {
		if _, err := s.w.ExecContext(ctx, `ANALYZE`); err != nil {
			t.Fatalf("analyze: %v", err)
		}
	}
}

func TestHotQueryPlansSQLite(t *testing.T) {
	s, err := Open(t.Context(), Config{DSN: t.TempDir() + "/plan.db"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	checkPlans(t, s)
}

func TestHotQueryPlansPostgres(t *testing.T) {
	s, err := Open(t.Context(), Config{Driver: DriverPostgres, DSN: planPostgresDSN(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	checkPlans(t, s)
}

// planPostgresDSN is storetest.PostgresDSN (which this package cannot
// import): a fresh schema on the server named by TRANSFEED_TEST_POSTGRES_DSN,
// dropped at the end; the test is skipped without one.
func planPostgresDSN(t *testing.T) string {
	const env = "TRANSFEED_TEST_POSTGRES_DSN"
	dsn := os.Getenv(env)
	if dsn == "" {
		t.Skipf("%s not set: skipping the PostgreSQL plans", env)
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Skipf("%s is not a postgres:// URL: skipping the PostgreSQL plans", env)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open postgres: invalid %s", env)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "transfeed_plan_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func checkPlans(t *testing.T, s *Store) {
	ctx := t.Context()
	fillPlanData(ctx, t, s)
	for _, hq := range hotQueries(s.d) {
		t.Run(hq.name, func(t *testing.T) {
			plan, err := s.queryPlan(ctx, hq.query, hq.args...)
			if err != nil {
				t.Fatalf("explain: %v\n%s", err, hq.query)
			}
			if os.Getenv("TRANSFEED_PRINT_PLANS") != "" {
				t.Logf("%s plan:\n%s", s.d.name, plan)
			}
			if problem := planProblem(s.d.name, plan, hq.index, hq.query); problem != "" {
				t.Errorf("%s\nquery:\n%s\nplan:\n%s", problem, hq.query, plan)
			}
		})
	}
}

// queryPlan returns the engine's plan of query as text, one node a line.
func (s *Store) queryPlan(ctx context.Context, query string, args ...any) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if s.d.name == DriverPostgres {
		prefix = "EXPLAIN "
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(prefix+query), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// SQLite: id, parent, notused, detail; PostgreSQL: one text column.
		fmt.Fprintf(&b, "%v\n", vals[len(vals)-1])
	}
	return b.String(), rows.Err()
}

// planProblem says what is wrong with a plan, or "".
//
// On SQLite a SEARCH is a bounded lookup; a SCAN of items or deliveries
// through an index reads that index from one end, which is fine only when
// the query stops at a LIMIT (an ordered feed, a claim) or the index holds
// only the translation backlog; a plain SCAN or a
// temporary B-tree is never fine. The plan must name the expected index.
func planProblem(driver, plan, index, query string) string {
	limited := strings.Contains(query, "LIMIT")
	lines := strings.Split(plan, "\n")
	for i, line := range lines {
		l := strings.TrimSpace(line)
		switch driver {
		case DriverSQLite:
			for _, tb := range []string{"items", "deliveries"} {
				if l == "SCAN "+tb || strings.HasPrefix(l, "SCAN "+tb+" ") && !strings.Contains(l, " USING ") {
					return "full scan of " + tb
				}
				if strings.HasPrefix(l, "SCAN "+tb+" USING ") && !limited && !scansBacklogOnly(l) {
					return "whole index of " + tb + " read by a query without LIMIT"
				}
			}
			if strings.Contains(l, "USE TEMP B-TREE") {
				return "temporary B-tree (sort or grouping of rows)"
			}
		case DriverPostgres:
			if strings.Contains(l, "Seq Scan on items") || strings.Contains(l, "Seq Scan on deliveries") {
				return "sequential scan"
			}
			node := strings.TrimPrefix(l, "->  ")
			if strings.HasPrefix(node, "Sort ") || strings.HasPrefix(node, "HashAggregate") ||
				strings.HasPrefix(node, "GroupAggregate") || strings.HasPrefix(node, "Incremental Sort") {
				// A sort or grouping of a few rows of small tables (sources,
				// counters) is fine; of posts or deliveries it is not.
				if tb := pgSubtreeReads(lines, i); tb != "" {
					return "sort or grouping of rows of " + tb
				}
			}
		}
	}
	if driver == DriverSQLite && !strings.Contains(plan, index) {
		return "plan does not use " + index
	}
	return ""
}

// scansBacklogOnly tells whether a SQLite SCAN line reads a partial index
// that holds only posts not ready yet (its size is the backlog, not the history).
func scansBacklogOnly(line string) bool {
	return strings.HasSuffix(line, " items_new_first_seen") || strings.HasSuffix(line, " items_retry_due")
}

// pgSubtreeReads returns "items" or "deliveries" when the plan node on
// line i reads that table below it (lines indented deeper), else "".
func pgSubtreeReads(lines []string, i int) string {
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	base := indent(lines[i])
	for _, l := range lines[i+1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if indent(l) <= base {
			break
		}
		for _, tb := range []string{"items", "deliveries"} {
			if strings.Contains(l, " on "+tb+" ") || strings.HasSuffix(l, " on "+tb) {
				return tb
			}
		}
	}
	return ""
}

// TestPlanCheckCatchesScans shows the check fails on the queries the store
// used before migration 0006 (an OR that defeats the claim index, a COUNT
// grouped over every post, the ready feed sorted on the state index).
func TestPlanCheckCatchesScans(t *testing.T) {
	s, err := Open(t.Context(), Config{DSN: t.TempDir() + "/plan.db"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fillPlanData(t.Context(), t, s)
	old := map[string]struct{ index, query string }{
		"claim with OR": {"items_new_first_seen", `SELECT id FROM items
			WHERE (state = 'new' OR (state = 'translating' AND next_attempt_at <= 5)) AND lease_until <= 5
			ORDER BY first_seen, id LIMIT 16`},
		"counts grouped over items": {"items_source_first_seen", `SELECT s.id, COALESCE(c.n, 0) FROM sources s LEFT JOIN (
			SELECT source_id, COUNT(*) AS n FROM items GROUP BY source_id) c ON c.source_id = s.id`},
		"ready feed with a bound state": {"items_ready_published", `SELECT id FROM items WHERE state IN ('ready', 'x')
			ORDER BY published DESC, id DESC LIMIT 100`},
		"backlog with <>": {"items_new_first_seen", `SELECT COUNT(*) FROM items WHERE state <> 'ready'`},
	}
	for name, q := range old {
		plan, err := s.queryPlan(t.Context(), q.query)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if problem := planProblem(DriverSQLite, plan, q.index, q.query); problem == "" {
			t.Errorf("%s: the check passed a bad plan:\n%s", name, plan)
		}
	}
	pg := map[string]string{
		"seq scan": "Limit  (cost=1.1..2.2 rows=100 width=8)\n  ->  Seq Scan on items  (cost=0.00..1.00 rows=1 width=8)\n",
		"sort of items": "Limit  (cost=1..2 rows=100 width=8)\n  ->  Sort  (cost=1..2 rows=9 width=8)\n" +
			"        Sort Key: published DESC\n        ->  Bitmap Heap Scan on items  (cost=1..2 rows=9 width=8)\n",
	}
	for name, plan := range pg {
		if planProblem(DriverPostgres, plan, "", "") == "" {
			t.Errorf("postgres %s: the check passed a bad plan:\n%s", name, plan)
		}
	}
	if p := planProblem(DriverPostgres, "Sort  (cost=1..2 rows=3 width=8)\n  ->  Seq Scan on delivery_counts  (cost=0..1 rows=3 width=8)\n", "", ""); p != "" {
		t.Errorf("postgres: a sort of the counters is fine, got %q", p)
	}
}
