package store_test

import (
	"strings"
	"testing"

	"github.com/transfeed/transfeed/store"
)

// TestSummaryLookupPlan: the summary cache is read for every delivery to a
// summary: llm channel, so its lookup must be an index lookup on both
// engines, never a scan of every summary ever written.
func TestSummaryLookupPlan(t *testing.T) {
	engines := []struct {
		name string
		open func(testing.TB) *store.Store
		want []string // one of these in the plan
	}{
		{"sqlite", func(t testing.TB) *store.Store { return openSQLite(t) }, []string{"USING PRIMARY KEY", "USING INDEX sqlite_autoindex_summaries", "USING COVERING INDEX"}},
		{"postgres", func(t testing.TB) *store.Store { return openPostgres(t) }, []string{"Index Scan using summaries_pkey", "Index Only Scan using summaries_pkey"}},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t)
			plan, err := s.ExplainPlan(t.Context(), store.SummaryQuery, int64(1), "h")
			if err != nil {
				t.Fatal(err)
			}
			ok := false
			for _, w := range e.want {
				ok = ok || strings.Contains(plan, w)
			}
			if !ok || strings.Contains(plan, "SCAN summaries") || strings.Contains(plan, "Seq Scan") {
				t.Errorf("summary lookup is not an index lookup:\n%s", plan)
			}
		})
	}
}
