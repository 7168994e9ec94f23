package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// archiveNav is the month navigation of an archive page.
type archiveNav struct {
	Label      string
	Prev, Next navLink
}

// cursor is an "older posts" keyset position: the last post shown.
type pageCursor struct {
	published time.Time
	id        int64
}

func (c pageCursor) String() string {
	return strconv.FormatInt(c.published.UnixMilli(), 10) + "_" + strconv.FormatInt(c.id, 10)
}

// parseBefore reads ?before=<published unix ms>_<id>; ok is false when it
// is present but malformed.
func parseBefore(r *http.Request) (pageCursor, bool) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return pageCursor{}, true
	}
	a, b, found := strings.Cut(v, "_")
	msec, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !found || err1 != nil || err2 != nil || id <= 0 || msec < 0 {
		return pageCursor{}, false
	}
	return pageCursor{published: time.UnixMilli(msec).UTC(), id: id}, true
}

// listPage reads one keyset page of ready posts: those older than cur
// (newest first), within [since, until) when set. more reports whether
// older posts follow.
func (s *Server) listPage(r *http.Request, sourceIDs []string, cur pageCursor, since, until time.Time) (items []model.Item, more bool, err error) {
	q := store.ItemQuery{SourceIDs: sourceIDs, States: []model.State{model.StateReady}, Limit: PageSize + 1, Since: since}
	switch {
	case cur.id > 0:
		q.Before, q.BeforeID = cur.published, cur.id
	case !until.IsZero():
		q.Before = until
	}
	items, err = s.st.ListItems(r.Context(), q)
	if err != nil {
		return nil, false, fmt.Errorf("server: list items: %w", err)
	}
	if len(items) > PageSize {
		return items[:PageSize], true, nil
	}
	return items, false, nil
}

// olderLink is the link to the page after items' last post.
func olderLink(base string, extra url.Values, items []model.Item) string {
	last := items[len(items)-1]
	v := cloneValues(extra)
	// SortTime: an undated post is stored (and ordered) at its first-seen time.
	v.Set("before", pageCursor{published: last.SortTime(), id: last.ID}.String())
	return base + "?" + v.Encode()
}

// legacyPageRedirect answers an old ?page=N link with a redirect to the
// keyset page that starts at the same post (one index-only lookup of where
// page N starts). It reports whether it answered.
func (s *Server) legacyPageRedirect(w http.ResponseWriter, r *http.Request, base string, sourceIDs []string) bool {
	p := r.URL.Query().Get("page")
	if p == "" {
		return false
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 100000 {
		s.notFound(w, r)
		return true
	}
	if n == 1 {
		http.Redirect(w, r, base, http.StatusMovedPermanently)
		return true
	}
	items, err := s.st.ListItems(r.Context(), store.ItemQuery{SourceIDs: sourceIDs, States: []model.State{model.StateReady},
		Limit: 1, Offset: (n-1)*PageSize - 1})
	if err != nil {
		s.serverError(w, r, err)
		return true
	}
	if len(items) == 0 {
		s.notFound(w, r)
		return true
	}
	http.Redirect(w, r, olderLink(base, nil, items), http.StatusMovedPermanently)
	return true
}

// handleArchive serves /archive/{yyyy}/{mm} (?source=ID for one source):
// the posts published in that month (China time), newest first, in keyset pages.
func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request) {
	year, err1 := strconv.Atoi(r.PathValue("year"))
	month, err2 := strconv.Atoi(r.PathValue("month"))
	if err1 != nil || err2 != nil || year < 1990 || year > 2200 || month < 1 || month > 12 ||
		len(r.PathValue("year")) != 4 || len(r.PathValue("month")) != 2 {
		s.notFound(w, r)
		return
	}
	cur, ok := parseBefore(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	var (
		sourceIDs []string
		src       = r.URL.Query().Get("source")
		extra     = url.Values{}
		f         *outFeed
	)
	if src != "" {
		if f, ok = s.bySrc[src]; !ok {
			s.notFound(w, r)
			return
		}
		sourceIDs = f.sourceIDs
		extra.Set("source", src)
	}
	start := time.Date(year, time.Month(month), 1, 0, 0, 0, 0, s.loc)
	end := start.AddDate(0, 1, 0)
	ctx := r.Context()
	v, err := s.version(ctx, f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	base := r.URL.Path
	key := base + "?" + r.URL.RawQuery
	val := validators{etag: makeETag(s.fingerprint, key, v.String()), lastModified: v.changed, cacheControl: cachePages}
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get(key, val.etag, func() (*rendered, error) {
		items, more, err := s.listPage(r, sourceIDs, cur, start.UTC(), end.UTC())
		if err != nil {
			return nil, err
		}
		if len(items) == 0 && cur.id > 0 {
			return nil, errPageNotFound
		}
		label := start.Format("January 2006")
		d := s.basePage(label + " — " + s.title)
		d.Heading = "Posts of " + label
		d.Description = "Everything published in " + label + " (China Standard Time), newest first."
		if f != nil {
			d.Heading = f.title + ": " + label
			d.Alternates = s.alternates(f)
		}
		d.Days = s.groupByDay(items)
		if more {
			d.Next = olderLink(base, extra, items)
		}
		if cur.id > 0 {
			d.Prev = base + queryString(extra)
		}
		prev, next := start.AddDate(0, -1, 0), end
		d.Archive = &archiveNav{
			Label: label,
			Prev:  navLink{Title: "← " + prev.Format("January 2006"), Href: ArchivePath(prev) + queryString(extra)},
		}
		if !next.After(s.now().In(s.loc)) {
			d.Archive.Next = navLink{Title: next.Format("January 2006") + " →", Href: ArchivePath(next) + queryString(extra)}
		}
		return s.renderPage("list", d, cachePages, v.changed)
	})
	s.writeListPage(w, r, rd, err)
}

func queryString(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// ArchivePath is the archive page of t's month (t in China time).
func ArchivePath(t time.Time) string {
	return fmt.Sprintf("/archive/%04d/%02d", t.Year(), int(t.Month()))
}
