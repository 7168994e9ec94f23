package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/feeds/syndicate"
	"github.com/transfeed/transfeed/internal/fulltext"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// Search page sizes and snippet lengths.
const (
	searchPageSize    = 20
	searchFeedSize    = 50
	snippetRunes      = 220
	zhSnippetRunes    = 110 // a Han character carries about two English words
	searchCacheHeader = "public, max-age=60"
)

// searchView is what search.html shows.
type searchView struct {
	Query, Source, Feed, From, To, Sort string
	Sources, Feeds                      []option
	Hits                                []hitView
	Searched                            bool
	Error                               string
	Next, First                         string
	FeedLinks                           []alternate
}

type option struct {
	Value, Label string
	Selected     bool
}

type hitView struct {
	Href, Source, SourceHref, Time, Datetime, Lang string
	// Marked text (markFragments): escaped, matched words in <mark>.
	Title, OriginalTitle, Snippet, OriginalSnippet template.HTML
}

// markFragments is a snippet as HTML: each fragment's text escaped, the
// matched ones in <mark>. Written here rather than ranged over in the
// template, whose escaper, called through reflection per fragment, cost a
// results page more than its snippets did.
func markFragments(fs []fulltext.Fragment) template.HTML {
	var b strings.Builder
	for _, f := range fs {
		if f.Mark {
			b.WriteString("<mark>")
		}
		template.HTMLEscape(&b, []byte(f.Text))
		if f.Mark {
			b.WriteString("</mark>")
		}
	}
	return template.HTML(b.String())
}

// searchRequest is a parsed /search query string.
type searchRequest struct {
	q                            store.SearchQuery
	text, source, feed, from, to string
	sort                         string
	sourceIDs                    []string
	problem                      string // shown to the reader; the request is answered 400
	canonical                    url.Values
}

// parseSearch reads q, source, feed, from, to (YYYY-MM-DD, China time; to
// inclusive), sort (rank|date) and after.
func (s *Server) parseSearch(r *http.Request) searchRequest {
	v := r.URL.Query()
	sr := searchRequest{
		text: strings.TrimSpace(v.Get("q")), source: v.Get("source"), feed: v.Get("feed"),
		from: v.Get("from"), to: v.Get("to"), sort: v.Get("sort"), canonical: url.Values{},
	}
	fail := func(msg string) searchRequest { sr.problem = msg; return sr }
	if sr.text == "" {
		return sr
	}
	q, err := fulltext.Parse(sr.text)
	switch {
	case errors.Is(err, fulltext.ErrQueryTooLong):
		return fail(fmt.Sprintf("The query is too long (at most %d characters).", fulltext.MaxQueryRunes))
	case err != nil:
		return fail("The query has no words to search for.")
	}
	sr.q.Query = q.Expand(s.synonyms)
	sr.canonical.Set("q", sr.text)
	if sr.source != "" {
		if _, ok := s.bySrc[sr.source]; !ok {
			return fail("There is no source with that id.")
		}
		sr.sourceIDs = []string{sr.source}
		sr.canonical.Set("source", sr.source)
	}
	if sr.feed != "" {
		f, ok := s.byFeed[sr.feed]
		if !ok {
			return fail("There is no feed with that id.")
		}
		if sr.source != "" && !containsString(f.sourceIDs, sr.source) {
			sr.sourceIDs = []string{"\x00none"}
		} else if sr.source == "" {
			sr.sourceIDs = f.sourceIDs
		}
		sr.canonical.Set("feed", sr.feed)
	}
	sr.q.SourceIDs = sr.sourceIDs
	for _, d := range []struct {
		val  string
		name string
		dst  *time.Time
		add  int
	}{{sr.from, "from", &sr.q.From, 0}, {sr.to, "to", &sr.q.To, 1}} {
		if d.val == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.val, s.loc)
		if err != nil {
			return fail(fmt.Sprintf("The %s date must be written YYYY-MM-DD.", d.name))
		}
		*d.dst = t.AddDate(0, 0, d.add)
		sr.canonical.Set(d.name, d.val)
	}
	switch sr.sort {
	case "", store.SearchByRank:
		sr.sort = store.SearchByRank
	case store.SearchByDate:
		sr.canonical.Set("sort", sr.sort)
	default:
		return fail("Sort by rank or date.")
	}
	sr.q.Order = sr.sort
	sr.q.After = v.Get("after")
	return sr
}

func containsString(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	sr := s.parseSearch(r)
	ctx := r.Context()
	view := &searchView{Query: sr.text, Source: sr.source, Feed: sr.feed, From: sr.from, To: sr.to, Sort: sr.sort,
		Error: sr.problem}
	view.Sources = append(view.Sources, option{Value: "", Label: "All sources"})
	for _, f := range s.sources {
		view.Sources = append(view.Sources, option{Value: f.id, Label: s.source(f.id).Name, Selected: f.id == sr.source})
	}
	view.Feeds = append(view.Feeds, option{Value: "", Label: "All feeds"})
	for _, f := range s.feeds {
		view.Feeds = append(view.Feeds, option{Value: f.id, Label: f.title, Selected: f.id == sr.feed})
	}
	code := http.StatusOK
	var lastMod time.Time
	if sr.problem != "" {
		code = http.StatusBadRequest
	} else if len(sr.q.Query.Groups) > 0 {
		sr.q.Limit = searchPageSize
		res, err := s.st.Search(ctx, sr.q)
		if errors.Is(err, store.ErrBadCursor) {
			view.Error = "This page of results no longer exists; start again from the first."
			code = http.StatusBadRequest
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
		// The page's validators come from what it shows (a search costs
		// about what a page holds), so a 304 is exact and needs no render.
		val := s.resultValidators("/search?"+r.URL.RawQuery, res, searchCacheHeader)
		if code == http.StatusOK {
			if notModified(w, r, val) {
				return
			}
			// The same query with the same results is the same page: its
			// snippets and markup are made once (search pages have a cache
			// of their own, so queries cannot push feeds out of theirs).
			rd, err := s.searchPages.get("/search?"+r.URL.RawQuery, val.etag, func() (*rendered, error) {
				s.fillResults(view, sr, res)
				body, err := s.renderSearch(sr, view)
				if err != nil {
					return nil, err
				}
				return newRenderedLevel(body, gzip.BestSpeed, "text/html; charset=utf-8", searchCacheHeader, val.lastModified)
			})
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			w.Header().Set("Content-Security-Policy", cspHTML)
			rd.write(w, r, http.StatusOK)
			return
		}
		lastMod = val.lastModified
		s.fillResults(view, sr, res)
		w.Header().Set("ETag", val.etag)
	}
	body, err := s.renderSearch(sr, view)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// The form, an error or a page past the results: rendered per request
	// and not kept.
	cacheControl := searchCacheHeader
	if code != http.StatusOK {
		cacheControl = "no-store"
	}
	rd, err := newRenderedLevel(body, gzip.BestSpeed, "text/html; charset=utf-8", cacheControl, lastMod)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", cspHTML)
	rd.write(w, r, code)
}

// fillResults puts a page of results into the view: hits with their
// snippets, the next and first pages, the search feeds.
func (s *Server) fillResults(view *searchView, sr searchRequest, res store.SearchResult) {
	view.Searched = true
	sn := fulltext.NewSnippeter(sr.q.Query)
	for _, h := range res.Hits {
		view.Hits = append(view.Hits, s.hitView(h.Item, sn))
	}
	if res.Next != "" {
		next := cloneValues(sr.canonical)
		next.Set("after", res.Next)
		view.Next = "/search?" + next.Encode()
	}
	if sr.q.After != "" {
		view.First = "/search?" + sr.canonical.Encode()
	}
	for _, fm := range outFormats() {
		view.FeedLinks = append(view.FeedLinks, alternate{
			Type: strings.TrimSuffix(fm.contentType, "; charset=utf-8"), Title: "Search feed (" + formatName(fm.ext) + ")",
			Href: s.b.URL("/search." + fm.ext + "?" + sr.canonical.Encode()),
		})
	}
}

// renderSearch renders search.html for view.
func (s *Server) renderSearch(sr searchRequest, view *searchView) ([]byte, error) {
	d := s.basePage("Search — " + s.title)
	if sr.text != "" {
		d.Title = sr.text + " — Search — " + s.title
	}
	d.Search = view
	d.Alternates = view.FeedLinks
	var buf bytes.Buffer
	if err := s.tmpl["search"].Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("server: page search: %w", err)
	}
	return buf.Bytes(), nil
}

// formatName is a feed format as readers know it.
func formatName(ext string) string {
	switch ext {
	case "rss":
		return "RSS"
	case "atom":
		return "Atom"
	}
	return "JSON Feed"
}

// resultValidators derive a search response's ETag and Last-Modified from
// the posts it shows: which, in what order, and when each last changed.
func (s *Server) resultValidators(key string, res store.SearchResult, cacheControl string) validators {
	parts := []string{s.fingerprint, key, res.Next}
	var last time.Time
	for _, h := range res.Hits {
		it := h.Item
		changed := latestTime(it.UpdatedAt, it.ReadyAt, it.TranslatedAt)
		last = latestTime(last, changed)
		parts = append(parts, strconv.FormatInt(it.ID, 36)+"."+strconv.FormatInt(changed.UnixNano(), 36)+"."+it.ContentHash)
	}
	return validators{etag: makeETag(parts...), lastModified: last.UTC(), cacheControl: cacheControl}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// hitView is one result: titles and snippets of the English and the
// original, matched words marked.
func (s *Server) hitView(it model.Item, sn *fulltext.Snippeter) hitView {
	t := s.snippetTexts.get(it)
	src := s.source(it.SourceID)
	h := hitView{
		Href:     syndicate.PostPath(it.ID),
		Source:   src.Name,
		Time:     model.DateLabel(it, s.loc),
		Datetime: it.SortTime().In(s.loc).Format(time.RFC3339),
		Lang:     it.Language,
		Title:    markFragments(sn.Snippet(model.FirstNonEmpty(t.Title, model.Untitled), 300)),
		Snippet:  markFragments(sn.Snippet(t.Body, snippetRunes)),
	}
	if h.Lang == "" {
		h.Lang = "zh"
	}
	if t.OriginalTitle != "" {
		h.OriginalTitle = markFragments(sn.Snippet(t.OriginalTitle, 300))
	}
	if t.OriginalBody != "" {
		h.OriginalSnippet = markFragments(sn.Snippet(t.OriginalBody, zhSnippetRunes))
	}
	if _, ok := s.bySrc[it.SourceID]; ok {
		h.SourceHref = "/sources/" + it.SourceID
	}
	return h
}

// snippetScanRunes bounds the text a snippet is looked for in: the start of
// a long post is where its match usually is, and a page of 20 results is
// not worth turning whole bodies into text and tokenising them for.
const snippetScanRunes = 3000

// handleSearchFeed serves /search.rss, .atom and .json: the newest posts
// matching ?q= (with the page's filters), so a reader can subscribe to a query.
func (s *Server) handleSearchFeed(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fm, _ := formatOf(ext)
		sr := s.parseSearch(r)
		if sr.problem == "" && len(sr.q.Query.Groups) == 0 {
			sr.problem = "A search feed needs a query: ?q=words."
		}
		if sr.problem != "" {
			s.errorPage(w, r, http.StatusBadRequest, sr.problem)
			return
		}
		ctx := r.Context()
		self := "/search." + fm.ext + "?" + sr.canonical.Encode()
		sr.q.Order, sr.q.Limit, sr.q.After = store.SearchByDate, searchFeedSize, ""
		res, err := s.st.Search(ctx, sr.q)
		if err != nil {
			s.serverError(w, r, fmt.Errorf("server: search feed: %w", err))
			return
		}
		val := s.resultValidators(self, res, cacheFeeds)
		if notModified(w, r, val) {
			return
		}
		rd, err := s.cache.get(self, val.etag, func() (*rendered, error) {
			entries := make([]syndicate.Entry, 0, len(res.Hits))
			for _, h := range res.Hits {
				entries = append(entries, s.b.Entry(h.Item, s.source(h.Item.SourceID), false))
			}
			updated := val.lastModified
			if updated.IsZero() {
				updated = s.started
			}
			ch := syndicate.Channel{
				Title:       "“" + sr.text + "” — " + s.title,
				Description: "Newest posts matching “" + sr.text + "” on " + s.title + ".",
				Link:        s.b.URL("/search?" + sr.canonical.Encode()),
				SelfURL:     s.b.URL(self),
				Language:    "en",
				ID:          s.b.FeedID(self),
				Updated:     updated,
			}
			var buf bytes.Buffer
			if err := fm.render(&buf, ch, entries); err != nil {
				return nil, fmt.Errorf("server: render %s: %w", self, err)
			}
			return newRendered(buf.Bytes(), fm.contentType, cacheFeeds, val.lastModified)
		})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		rd.write(w, r, http.StatusOK)
	}
}
