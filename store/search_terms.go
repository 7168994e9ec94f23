package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
)

// PostgreSQL's search index (migrations 0010, 0012): item_search.terms is
// the set of a post's term ids (search_terms), item_search_title.terms the
// set of its title's, each in a GIN index. A query's groups become @> and
// && conditions on them; phrases are checked on the candidates' text in Go
// (fulltext.Document.Match).

// termIDs returns the ids of terms in the vocabulary, adding the missing
// ones (inside tx, in term order so that two writers never wait on each
// other in a cycle). Known terms are read first: an INSERT … ON CONFLICT
// takes a sequence number even for a term that exists.
func termIDs(ctx context.Context, tx *sql.Tx, terms []string) (map[string]int32, error) {
	ids := make(map[string]int32, len(terms))
	read := func(want []string) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, term FROM search_terms WHERE term = ANY($1)`, want)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id   int32
				term string
			)
			if err := rows.Scan(&id, &term); err != nil {
				return err
			}
			ids[term] = id
		}
		return rows.Err()
	}
	if err := read(terms); err != nil {
		return nil, fmt.Errorf("store: search terms: %w", err)
	}
	var missing []string
	for _, t := range terms {
		if _, ok := ids[t]; !ok {
			missing = append(missing, t)
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	slices.Sort(missing)
	if _, err := tx.ExecContext(ctx, `INSERT INTO search_terms (term) SELECT t FROM unnest($1::text[]) t ORDER BY t
		ON CONFLICT (term) DO NOTHING`, missing); err != nil {
		return nil, fmt.Errorf("store: search terms: add %d: %w", len(missing), err)
	}
	if err := read(missing); err != nil {
		return nil, fmt.Errorf("store: search terms: %w", err)
	}
	for _, t := range missing {
		if _, ok := ids[t]; !ok {
			return nil, fmt.Errorf("store: search terms: %q was not added", t)
		}
	}
	return ids, nil
}

// termSets are item_search.terms of doc (every term's id) and
// item_search_title.terms (its title terms' ids), sorted, each once.
func termSets(doc fulltext.Document, ids map[string]int32) (all, title []int32) {
	all = make([]int32, 0, len(doc.Title)+len(doc.Body))
	title = make([]int32, 0, len(doc.Title))
	for _, t := range doc.Title {
		title = append(title, ids[t])
	}
	all = append(all, title...)
	for _, t := range doc.Body {
		all = append(all, ids[t])
	}
	slices.Sort(all)
	slices.Sort(title)
	return slices.Compact(all), slices.Compact(title)
}

// indexPostsPostgres writes the item_search and item_search_title rows of
// the ready posts among ids and deletes those of the others.
func (s *Store) indexPostsPostgres(ctx context.Context, tx *sql.Tx, ids []int64, ready map[int64]model.Item) error {
	docs := make(map[int64]fulltext.Document, len(ready))
	seen := map[string]bool{}
	var terms []string
	for id, it := range ready {
		d := s.indexDocument(it).doc // precomputed by UpsertItemsWith when it can
		docs[id] = d
		for _, list := range [][]string{d.Title, d.Body} {
			for _, t := range list {
				if !seen[t] {
					seen[t] = true
					terms = append(terms, t)
				}
			}
		}
	}
	vocab, err := termIDs(ctx, tx, terms)
	if err != nil {
		return err
	}
	titled := map[int32]bool{}
	for _, d := range docs {
		for _, t := range d.Title {
			titled[vocab[t]] = true
		}
	}
	if err := markTitleTerms(ctx, tx, slices.Sorted(maps.Keys(titled))); err != nil {
		return err
	}
	for _, id := range ids {
		d, ok := docs[id]
		if !ok {
			for _, q := range []string{`DELETE FROM item_search WHERE item_id = $1`,
				`DELETE FROM item_search_title WHERE item_id = $1`} {
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return fmt.Errorf("store: search index: post %d: %w", id, err)
				}
			}
			continue
		}
		all, title := termSets(d, vocab)
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_search (item_id, terms) VALUES ($1, $2)
			ON CONFLICT (item_id) DO UPDATE SET terms = EXCLUDED.terms`, id, all); err != nil {
			return fmt.Errorf("store: search index: post %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO item_search_title (item_id, terms) VALUES ($1, $2)
			ON CONFLICT (item_id) DO UPDATE SET terms = EXCLUDED.terms`, id, title); err != nil {
			return fmt.Errorf("store: search index: post %d: %w", id, err)
		}
	}
	return nil
}

// markTitleTerms sets search_terms.in_title for the ids (sorted) that lack
// it: a term no title ever held is left out of a search's title
// conditions (resolvePostgres), which then need no read at all. The rows
// are locked in id order first, so two writers never wait on each other
// in a cycle; once a term is marked this reads it and writes nothing.
func markTitleTerms(ctx context.Context, tx *sql.Tx, ids []int32) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM search_terms WHERE id = ANY($1) AND NOT in_title
		ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return fmt.Errorf("store: search terms: title marks: %w", err)
	}
	var unmarked []int32
	for rows.Next() {
		var id int32
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("store: search terms: title marks: %w", err)
		}
		unmarked = append(unmarked, id)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("store: search terms: title marks: %w", err)
	}
	if len(unmarked) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE search_terms SET in_title = TRUE WHERE id = ANY($1)`, unmarked); err != nil {
		return fmt.Errorf("store: search terms: title marks: %w", err)
	}
	return nil
}

// pgSearch is a query resolved to term ids: the conditions of a post
// holding every group anywhere (all, on item_search x) and in its title
// (title, on item_search_title t).
type pgSearch struct {
	all, title string
	// none: a group has no alternative any post holds; nothing matches.
	none bool
}

// resolvePostgres maps q's terms to their ids (one read of the
// vocabulary) and builds its conditions. A term not in the vocabulary is
// in no post.
func (s *Store) resolvePostgres(ctx context.Context, q fulltext.Query) (pgSearch, error) {
	var (
		exact []string
		conds []string
		args  []any
	)
	for _, g := range q.Groups {
		for i, alt := range g.Alternatives() {
			if g.Prefix && i == 0 {
				lo, hi := fulltext.PrefixRange(alt[0])
				conds = append(conds, `(term >= ? AND term < ?)`)
				args = append(args, lo, hi)
				continue
			}
			exact = append(exact, alt...)
		}
	}
	query := `SELECT id, term, in_title FROM search_terms WHERE term = ANY(?)`
	args = append([]any{exact}, args...)
	for _, c := range conds {
		query += ` OR ` + c
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return pgSearch{}, fmt.Errorf("store: search: read terms: %w", err)
	}
	defer rows.Close()
	vocab := map[string]int32{}
	titled := map[string]bool{} // terms some title has held (markTitleTerms)
	for rows.Next() {
		var (
			id      int32
			term    string
			inTitle bool
		)
		if err := rows.Scan(&id, &term, &inTitle); err != nil {
			return pgSearch{}, fmt.Errorf("store: search: read terms: %w", err)
		}
		vocab[term] = id
		titled[term] = inTitle
	}
	if err := rows.Err(); err != nil {
		return pgSearch{}, fmt.Errorf("store: search: read terms: %w", err)
	}
	// col: x.terms (anywhere) or t.terms (in the title, where a term no
	// title has held is in no post).
	build := func(col string) (string, bool) {
		known := func(t string) (int32, bool) {
			id, ok := vocab[t]
			return id, ok && (col != "t.terms" || titled[t])
		}
		var (
			required []int32
			parts    []string
		)
		for _, g := range q.Groups {
			// Each alternative the vocabulary can satisfy: all of its ids
			// (a phrase), or any of them (a prefix).
			type alt struct {
				ids []int32
				any bool
			}
			var alts []alt
			for i, terms := range g.Alternatives() {
				var a alt
				if g.Prefix && i == 0 {
					a.any = true
					for t := range vocab {
						if id, ok := known(t); ok && strings.HasPrefix(t, terms[0]) {
							a.ids = append(a.ids, id)
						}
					}
				} else {
					for _, t := range terms {
						id, ok := known(t)
						if !ok {
							a.ids = nil
							break
						}
						a.ids = append(a.ids, id)
					}
				}
				if len(a.ids) > 0 {
					slices.Sort(a.ids)
					alts = append(alts, a)
				}
			}
			switch {
			case len(alts) == 0:
				return "", false
			case len(alts) == 1 && (!alts[0].any || len(alts[0].ids) == 1):
				required = append(required, alts[0].ids...)
				continue
			}
			var ors []string
			var single []int32
			for _, a := range alts {
				switch {
				case len(a.ids) == 1:
					single = append(single, a.ids[0])
				case a.any:
					ors = append(ors, col+` && `+intArray(a.ids))
				default:
					ors = append(ors, col+` @> `+intArray(a.ids))
				}
			}
			if len(single) > 0 {
				slices.Sort(single)
				ors = append(ors, col+` && `+intArray(single))
			}
			parts = append(parts, "("+strings.Join(ors, " OR ")+")")
		}
		if len(required) > 0 {
			slices.Sort(required)
			parts = append([]string{col + ` @> ` + intArray(slices.Compact(required))}, parts...)
		}
		return strings.Join(parts, " AND "), true
	}
	var out pgSearch
	var ok bool
	if out.all, ok = build("x.terms"); !ok {
		return pgSearch{none: true}, nil
	}
	if out.title, ok = build("t.terms"); !ok {
		// No post has every group in its title: "in the title" is false.
		out.title = "FALSE"
	}
	return out, nil
}

// intArray is ids as an int4[] literal. Integers only: safe to write into
// the query text, which lets the planner see them (a search's plan depends
// on how common its terms are).
func intArray(ids []int32) string {
	var b strings.Builder
	b.WriteString(`'{`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(id), 10))
	}
	b.WriteString(`}'::int4[]`)
	return b.String()
}
