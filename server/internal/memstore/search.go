package memstore

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// Search implements server.Store over the same terms the store indexes
// (store.SearchTextOf, internal/fulltext): every group of the query, as
// consecutive terms, in the titles or bodies. Hits are newest (highest id)
// first in both orders; the score is the number of groups found in a title.
// The cursor is "m<id>".
func (s *Store) Search(ctx context.Context, q store.SearchQuery) (store.SearchResult, error) {
	if err := ctx.Err(); err != nil {
		return store.SearchResult{}, err
	}
	var after int64
	if q.After != "" {
		n, err := strconv.ParseInt(strings.TrimPrefix(q.After, "m"), 10, 64)
		if err != nil || !strings.HasPrefix(q.After, "m") {
			return store.SearchResult{}, store.ErrBadCursor
		}
		after = n
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	s.mu.Lock()
	s.count("Search")
	var hits []store.SearchHit
	for _, it := range s.items {
		if it.State != model.StateReady || (after > 0 && it.ID >= after) {
			continue
		}
		if len(q.SourceIDs) > 0 && !slices.Contains(q.SourceIDs, it.SourceID) {
			continue
		}
		if (!q.From.IsZero() && it.Published.Before(q.From)) || (!q.To.IsZero() && !it.Published.Before(q.To)) {
			continue
		}
		t := store.SearchTextOf(it)
		title := terms(t.Title + " " + t.OriginalTitle)
		all := append(slices.Clone(title), terms(t.Body+" "+t.OriginalBody)...)
		score, ok := 0.0, true
		for _, g := range q.Query.Groups {
			if !contains(all, g) {
				ok = false
				break
			}
			if contains(title, g) {
				score++
			}
		}
		if ok {
			hits = append(hits, store.SearchHit{Item: it, Score: score})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(hits, func(a, b store.SearchHit) int { return int(b.Item.ID - a.Item.ID) })
	var res store.SearchResult
	if len(hits) > limit {
		hits = hits[:limit]
		res.Next = "m" + strconv.FormatInt(hits[len(hits)-1].Item.ID, 10)
	}
	res.Hits = hits
	return res, nil
}

func terms(text string) []string {
	var out []string
	for _, t := range fulltext.Terms(text) {
		out = append(out, t.Text)
	}
	return out
}

// contains reports whether g's terms, or one of its alternatives, occur
// consecutively in ts.
func contains(ts []string, g fulltext.Group) bool {
	if phraseIn(ts, g.Terms, g.Prefix) {
		return true
	}
	for _, o := range g.Or {
		if phraseIn(ts, o, false) {
			return true
		}
	}
	return false
}

func phraseIn(ts, phrase []string, prefix bool) bool {
	for i := 0; i+len(phrase) <= len(ts); i++ {
		ok := true
		for j, t := range phrase {
			if ts[i+j] != t && !(prefix && strings.HasPrefix(ts[i+j], t)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
