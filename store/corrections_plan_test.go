package store_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/store"
	"github.com/transfeed/transfeed/store/storetest"
)

// TestCorrectionPlans fails when a query of review and correction that runs
// on a request's path is not served by an index, on SQLite and (when
// configured) PostgreSQL.
func TestCorrectionPlans(t *testing.T) {
	engines := map[string]func(t testing.TB) *store.Store{"sqlite": openSQLite}
	if os.Getenv(storetest.PostgresEnv) != "" {
		engines["postgres"] = openPostgres
	}
	queries := []struct {
		name, query string
		args        []any
		scan        bool // a query known to scan: proves the check can fail
	}{
		{"control: by editor", `SELECT id FROM corrections WHERE editor = ?`, []any{"x"}, true},
		{"admin session", store.QueryAdminSession, []any{"h", int64(1)}, false},
		{"corrections of a post", store.QueryListCorrections, []any{int64(1)}, false},
		{"audit of a post", store.QueryAuditOfItem, []any{int64(1), 50}, false},
		{"corrected posts of a page", store.QueryCorrectedItems(3), []any{int64(1), int64(2), int64(3)}, false},
		{"human memory", store.QueryHumanTM(2), []any{"a", "b"}, false},
		{"due message edits", store.QueryDueEdits, []any{int64(1), int64(1), int64(1), 10}, false},
		{"due review prompts", store.QueryDuePrompts, []any{10}, false},
	}
	// A full scan: SQLite "SCAN t" without an index; PostgreSQL "Seq Scan".
	fullScan := regexp.MustCompile(`(?m)SCAN (admin_sessions|corrections|admin_audit|human_tm|delivery_edits|reviews)\b(\s*$| \(|\s+\d)|Seq Scan`)
	for name, open := range engines {
		s := open(t)
		for _, q := range queries {
			t.Run(name+"/"+q.name, func(t *testing.T) {
				plan, err := s.ExplainPlan(t.Context(), q.query, q.args...)
				if err != nil {
					t.Fatal(err)
				}
				indexed := !fullScan.MatchString(plan) && (strings.Contains(strings.ToLower(plan), "index") || strings.Contains(plan, "PRIMARY KEY"))
				if indexed == q.scan {
					t.Errorf("indexed = %t, want %t:\n%s", indexed, !q.scan, plan)
				}
			})
		}
	}
}
