package server

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/transfeed/transfeed/feeds/syndicate"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// errPageNotFound is returned by a render function for a page that does not exist.
var errPageNotFound = errors.New("server: page not found")

// pages are the page templates, each parsed with layout.html.
var pageNames = [...]string{"list", "post", "status", "error", "search"}

func parseTemplates() (map[string]*template.Template, error) {
	out := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(template.FuncMap{"datetime": datetimeAttr}).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("server: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// datetimeAttr writes a datetime attribute unescaped (html/template would
// write the "+" of "+08:00" as &#43;). Its argument is always a time we
// formatted, never outside text; anything else is dropped.
func datetimeAttr(v string) template.HTMLAttr {
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return ""
		}
	}
	return template.HTMLAttr(`datetime="` + v + `"`) //nolint:gosec // validated time
}

// alternate is a feed autodiscovery link.
type alternate struct {
	Type, Title, Href string
}

// TypeAttr is the type attribute, unescaped (html/template would write "+" as &#43;,
// which simple autodiscovery scanners do not decode). Type is one of our constants.
func (a alternate) TypeAttr() template.HTMLAttr {
	return template.HTMLAttr(`type="` + a.Type + `"`) //nolint:gosec // constant MIME types
}

type navLink struct {
	Title, Href string
}

// pageData is what every page template gets.
type pageData struct {
	SiteTitle   string
	Title       string
	Heading     string
	Description string
	Alternates  []alternate
	Nav         []navLink
	FeedLinks   []alternate // shown as links on list pages
	Days        []dayGroup
	Prev, Next  string
	Post        *postView
	Status      *statusView
	Search      *searchView
	Archive     *archiveNav
	Code        int
	Message     string
}

type dayGroup struct {
	Label    string
	Datetime string
	Posts    []postCard
}

type postCard struct {
	Href, Title, Source, SourceHref, Time, Datetime, Lead string
	Translated                                            bool
	ID                                                    int64
	Corrected                                             bool // an editor corrected its English
}

type postView struct {
	Title, OriginalTitle, Source, SourceHref, Author, Time, Datetime string
	Archive, ArchiveLabel, SourceArchive                             string
	OriginalLink, Notice, Lang                                       string
	Body, OriginalBody                                               template.HTML
	ShowOriginal, Translated                                         bool
	Meta                                                             []model.MetaField // government document metadata
	// Corrected is the time of the last correction by an editor ("" =
	// none); Corrections is the history, old → new, for transparency.
	Corrected, CorrectedDatetime string
	Corrections                  []historyRow
}

func (s *Server) basePage(title string) pageData {
	nav := make([]navLink, 0, len(s.feeds)+1)
	for _, f := range s.feeds {
		nav = append(nav, navLink{Title: f.title, Href: f.path})
	}
	return pageData{SiteTitle: s.title, Title: title, Nav: nav}
}

func (s *Server) alternates(f *outFeed) []alternate {
	return []alternate{
		{Type: "application/rss+xml", Title: f.title + " (RSS)", Href: s.b.URL(f.path + ".rss")},
		{Type: "application/atom+xml", Title: f.title + " (Atom)", Href: s.b.URL(f.path + ".atom")},
		{Type: "application/feed+json", Title: f.title + " (JSON Feed)", Href: s.b.URL(f.path + ".json")},
	}
}

// renderPage executes a page template into a cacheable response.
func (s *Server) renderPage(name string, d pageData, cacheControl string, lastModified time.Time) (*rendered, error) {
	var buf bytes.Buffer
	if err := s.tmpl[name].Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("server: page %s: %w", name, err)
	}
	return newRendered(buf.Bytes(), "text/html; charset=utf-8", cacheControl, lastModified)
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	s.servePostList(w, r, nil)
}

// servePostList serves the index (f nil) or the page of a feed or source,
// in keyset pages: "older" links carry the last post's (published, id) as
// ?before=, so any page costs what the first does. Old ?page=N links
// redirect to the keyset page that starts at the same post.
func (s *Server) servePostList(w http.ResponseWriter, r *http.Request, f *outFeed) {
	var sourceIDs []string
	p := "/"
	if f != nil {
		sourceIDs, p = f.sourceIDs, f.path
	}
	if s.legacyPageRedirect(w, r, p, sourceIDs) {
		return
	}
	cur, ok := parseBefore(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	v, err := s.version(ctx, f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	key := p
	var val validators
	if cur.id > 0 {
		// Deeper pages are many: their validators are not memoised.
		key += "?before=" + cur.String()
		val = validators{etag: makeETag(s.fingerprint, key, v.String()), lastModified: v.changed, cacheControl: cachePages}
	} else {
		val = s.feedValidators(f, 0, v, cachePages)
	}
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get(key, val.etag, func() (*rendered, error) {
		items, more, err := s.listPage(r, sourceIDs, cur, time.Time{}, time.Time{})
		if err != nil {
			return nil, err
		}
		if len(items) == 0 && cur.id > 0 {
			return nil, errPageNotFound
		}
		d := s.basePage(s.title)
		d.Heading = "Latest posts"
		d.Description = "Posts from official Chinese-language sources, machine-translated into English."
		if !s.translating() {
			d.Description = "Posts from official Chinese-language sources, as published (translation is off)."
		}
		archive := ""
		if f != nil {
			d.Title = f.title + " — " + s.title
			d.Heading = f.title
			d.Description = f.description
			d.Alternates = s.alternates(f)
			d.FeedLinks = d.Alternates
			if f.kind == "sources" {
				archive = "?source=" + url.QueryEscape(f.id)
			}
		} else {
			for _, of := range s.feeds {
				d.Alternates = append(d.Alternates, s.alternates(of)...)
			}
		}
		now := s.now().In(s.loc)
		d.Archive = &archiveNav{Prev: navLink{Title: "Archive: " + now.Format("January 2006"), Href: ArchivePath(now) + archive}}
		d.Days = s.groupByDay(items)
		if err := s.markCorrected(ctx, d.Days, items); err != nil {
			return nil, err
		}
		if cur.id > 0 {
			d.Prev = p
		}
		if more {
			d.Next = olderLink(p, nil, items)
		}
		return s.renderPage("list", d, cachePages, v.changed)
	})
	s.writeListPage(w, r, rd, err)
}

// writeListPage answers with a rendered list page, or with the page for
// the error that kept it from being rendered (404 for a page past the end).
func (s *Server) writeListPage(w http.ResponseWriter, r *http.Request, rd *rendered, err error) {
	if errors.Is(err, errPageNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", cspHTML)
	rd.write(w, r, http.StatusOK)
}

func (s *Server) groupByDay(items []model.Item) []dayGroup {
	var days []dayGroup
	for _, it := range items {
		t := it.SortTime().In(s.loc)
		label := t.Format("Monday, 2 January 2006")
		if len(days) == 0 || days[len(days)-1].Label != label {
			days = append(days, dayGroup{Label: label, Datetime: t.Format("2006-01-02")})
		}
		en := model.EnglishOf(it)
		src := s.source(it.SourceID)
		card := postCard{
			Href:       syndicate.PostPath(it.ID),
			Title:      en.Title,
			Source:     src.Name,
			Time:       model.DateLabel(it, s.loc),
			Datetime:   t.Format(time.RFC3339),
			Lead:       model.PlainText(en.Summary, model.SummaryRunes),
			Translated: en.Translated,
			ID:         it.ID,
		}
		if _, ok := s.bySrc[it.SourceID]; ok {
			card.SourceHref = "/sources/" + it.SourceID
		}
		days[len(days)-1].Posts = append(days[len(days)-1].Posts, card)
	}
	return days
}

func (s *Server) handlePost(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	it, err := s.st.GetItem(ctx, id)
	if errors.Is(err, model.ErrNotFound) || (err == nil && it.State != model.StateReady) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, fmt.Errorf("server: get item %d: %w", id, err))
		return
	}
	key := syndicate.PostPath(id)
	lastMod := latestTime(it.UpdatedAt, it.ReadyAt, it.TranslatedAt, it.Published).UTC()
	val := validators{
		etag: makeETag(s.fingerprint, key, it.ContentHash, it.TranslatedBy, strconv.FormatInt(lastMod.UnixNano(), 36),
			strconv.FormatBool(it.Untranslated), strconv.FormatBool(it.TitleOnly)),
		lastModified: lastMod, cacheControl: cachePages,
	}
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get(key, val.etag, func() (*rendered, error) {
		var hist []store.Correction
		if s.corr != nil {
			var herr error
			if hist, herr = s.corr.ListCorrections(ctx, it.ID); herr != nil {
				return nil, fmt.Errorf("server: corrections of item %d: %w", it.ID, herr)
			}
		}
		return s.renderPost(it, hist, lastMod)
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", cspHTML)
	rd.write(w, r, http.StatusOK)
}

func (s *Server) renderPost(it model.Item, hist []store.Correction, lastMod time.Time) (*rendered, error) {
	en := model.EnglishOf(it)
	src := s.source(it.SourceID)
	t := it.SortTime().In(s.loc)
	pv := &postView{
		Title:        en.Title,
		Source:       src.Name,
		Author:       model.PlainText(it.Author, 0),
		Time:         model.DateLabel(it, s.loc),
		Meta:         model.MetaFields(it.Meta),
		Datetime:     t.Format(time.RFC3339),
		OriginalLink: syndicate.SafeURL(it.Link),
		Notice:       en.Notice,
		Lang:         it.Language,
		// Sanitised at ingestion; sanitised again here as defence in depth.
		Body:       template.HTML(s.policy.Sanitize(en.HTML)), //nolint:gosec // sanitised by bluemonday
		Translated: en.Translated,
	}
	if pv.Author == pv.Source {
		pv.Author = ""
	}
	if n := len(hist); n > 0 {
		last := hist[n-1].At.In(s.loc)
		pv.Corrected, pv.CorrectedDatetime = syndicate.FormatCST(hist[n-1].At, s.loc), last.Format(time.RFC3339)
		for _, c := range s.historyRows(hist) {
			c.Editor = "" // the public page says "an editor"; the audit log has more
			pv.Corrections = append(pv.Corrections, c)
		}
	}
	if pv.Lang == "" {
		pv.Lang = "zh"
	}
	pv.OriginalTitle = en.OriginalTitle
	pv.Archive, pv.ArchiveLabel = ArchivePath(t), t.Format("January 2006")
	if _, ok := s.bySrc[it.SourceID]; ok {
		pv.SourceArchive = pv.Archive + "?source=" + url.QueryEscape(it.SourceID)
	}
	// The original text is offered whenever the body shown is not the original.
	if en.Translated && it.ContentHTML != "" {
		pv.ShowOriginal = true
		pv.OriginalBody = template.HTML(s.policy.Sanitize(it.ContentHTML)) //nolint:gosec // sanitised by bluemonday
	}
	if of, ok := s.bySrc[it.SourceID]; ok {
		pv.SourceHref = of.path
	}
	d := s.basePage(pv.Title + " — " + s.title)
	d.Post = pv
	if of, ok := s.bySrc[it.SourceID]; ok {
		d.Alternates = s.alternates(of)
	}
	return s.renderPage("post", d, cachePages, lastMod)
}

// markCorrected marks the cards of posts an editor corrected.
func (s *Server) markCorrected(ctx context.Context, days []dayGroup, items []model.Item) error {
	if s.corr == nil || len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	corrected, err := s.corr.CorrectedItems(ctx, ids)
	if err != nil {
		return fmt.Errorf("server: corrected items: %w", err)
	}
	for d := range days {
		for p := range days[d].Posts {
			_, days[d].Posts[p].Corrected = corrected[days[d].Posts[p].ID]
		}
	}
	return nil
}

func latestTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := path.Clean("static/" + r.PathValue("file"))
	b, err := fs.ReadFile(staticFS, name)
	if err != nil {
		s.notFound(w, r)
		return
	}
	ct := "application/octet-stream"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	val := validators{etag: makeETag(renderVersion, name, string(b)), cacheControl: "public, max-age=86400"}
	if notModified(w, r, val) {
		return
	}
	rd, err := s.cache.get(name, val.etag, func() (*rendered, error) {
		return newRendered(b, ct, val.cacheControl, time.Time{})
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rd.write(w, r, http.StatusOK)
}

// notFound serves the 404 page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no page at this address.")
}

// serverError logs err and serves the 500 page (err is not shown: it may name internals).
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client went away; nothing to tell it.
		s.logger.Debug("request cancelled", slog.String("path", r.URL.Path), slog.Any("error", err))
		return
	}
	s.logger.Error("request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again later.")
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	d := s.basePage(http.StatusText(code) + " — " + s.title)
	d.Code = code
	d.Message = msg
	var buf bytes.Buffer
	if err := s.tmpl["error"].Execute(&buf, d); err != nil {
		s.logger.Error("error page failed", slog.Any("error", err))
		http.Error(w, http.StatusText(code), code)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", cspHTML)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
