package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/mmcdole/gofeed"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// PollResult is the outcome of one successful poll of a source.
type PollResult struct {
	NotModified bool
	Items       []model.Item // normalised, in source order, duplicates (same Key) removed
	Validators  Validators
	FinalURL    string
	// Shape and Selectors are set for a type: html source without
	// selectors: the fingerprint and the selectors of the list detected
	// on the page (a changed Shape means the page's layout changed).
	Shape     string
	Selectors *config.HTMLList
	// Article pages fetched for full text, how many failed (the post kept
	// its list summary) and the last failure's reason.
	ArticleFetches, ArticleFailures int
	ArticleError                    string
	// Refused are the links (article pages, redirects) the address guard
	// did not fetch; their posts keep the feed's own text.
	Refused []RefusedLink
	// Deferred is how many new posts were left for the next poll because
	// fetch.poll_timeout passed before their pages were fetched.
	Deferred int
}

// Poll fetches one source (conditional GET), decodes its charset, parses
// it (type feed: RSS/Atom/JSON Feed; type html: list page with the
// source's selectors), fetches the full text of posts whose key is not
// known(key) when the source asks for it, and normalises every post.
// known may be nil (every post is new). A failed article fetch keeps the
// post with its list summary. Errors are *Error values except for a
// cancelled ctx and configuration mistakes.
func (f *Fetcher) Poll(ctx context.Context, src config.Source, v Validators, known func(key string) bool) (*PollResult, error) {
	loc, err := SourceLocation(src)
	if err != nil {
		return nil, fmt.Errorf("feeds: source %s: time zone %q: %w", src.ID, src.Timezone, err)
	}
	if src.Type == "gkmlpt" {
		v = Validators{} // the catalogue page rarely changes; its list does
	}
	pol := &fetchPolicy{allowPrivate: src.AllowPrivate, refused: &refusals{}}
	if u, err := url.Parse(src.URL); err == nil {
		pol.adminHost = hostPort(u)
	}
	ctx = withPolicy(ctx, pol)
	parent := ctx
	if f.opts.PollTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.opts.PollTimeout)
		defer cancel()
	}
	resp, err := f.Get(ctx, src.URL, v)
	if err != nil {
		return nil, err
	}
	res := &PollResult{NotModified: resp.NotModified, Validators: resp.Validators, FinalURL: resp.URL}
	if resp.NotModified {
		return res, nil
	}
	body := DecodeToUTF8(resp.Body, resp.ContentType)

	var raws []RawItem
	switch src.Type {
	case "", "feed":
		f.computing(func() { raws, err = f.parseFeed(body, resp.ContentType, resp.URL) })
	case "html":
		raws, err = f.readHTMLList(ctx, src, loc, body, resp.URL, known, res)
	case "gkmlpt":
		raws, err = f.readGkmlpt(ctx, src, loc, body, known)
	default:
		return nil, fmt.Errorf("feeds: source %s: unknown type %q (want feed, html or gkmlpt)", src.ID, src.Type)
	}
	if err != nil {
		if _, ok := errors.AsType[*Error](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("feeds: source %s: %w", src.ID, err)
	}

	now := time.Now()
	if src.FullText != nil && src.Type != "gkmlpt" { // gkmlpt bodies come with the catalogue's post pages
		before := make([]string, len(raws))
		for i := range raws {
			before[i] = raws[i].ContentHTML
		}
		res.ArticleFetches = f.fillFullText(ctx, src, loc, raws, known, now)
		if err := parent.Err(); err != nil {
			return nil, fmt.Errorf("feeds: source %s: %w", src.ID, err)
		}
		if ctx.Err() != nil {
			raws, res.Deferred = f.deferUnfetched(src, loc, raws, before, known, now)
			f.logger.WarnContext(parent, "feeds: poll deadline reached; posts whose pages were not fetched are left for the next poll",
				slog.String("source", src.ID), slog.Duration("poll_timeout", f.opts.PollTimeout), slog.Int("deferred", res.Deferred))
		}
		for _, r := range raws {
			if r.FetchErr != "" {
				res.ArticleFailures++
				res.ArticleError = r.FetchErr
			}
		}
	}
	f.computing(func() { res.Items = f.normalizeAll(src, loc, raws, now) })
	res.Refused = pol.refused.list()
	return res, nil
}

// deferUnfetched drops the new posts whose article page was not fetched
// (their body is still what the list gave, before[i]) after the poll
// deadline: not stored now, they are new again at the next poll, which
// fetches their pages then.
func (f *Fetcher) deferUnfetched(src config.Source, loc *time.Location, raws []RawItem, before []string, known func(string) bool, now time.Time) ([]RawItem, int) {
	kept := raws[:0:0]
	for i, r := range raws {
		base, _ := url.Parse(r.BaseURL)
		link := resolveURL(base, r.Link)
		isNew := known == nil || !known(f.norm.Key(src, loc, r, now))
		if isNew && r.ContentHTML == before[i] && (strings.HasPrefix(link, "http://") || strings.HasPrefix(link, "https://")) {
			continue
		}
		kept = append(kept, r)
	}
	return kept, len(raws) - len(kept)
}

func (f *Fetcher) normalizeAll(src config.Source, loc *time.Location, raws []RawItem, now time.Time) []model.Item {
	items := make([]model.Item, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for _, r := range raws {
		if r.Published == "" && r.PublishedParsed.IsZero() {
			// The date in the link (./202305/t20230525_1.html, /2023-05/25/).
			base, _ := url.Parse(r.BaseURL)
			if t, ok := dateFromURL(resolveURL(base, r.Link), loc); ok {
				r.PublishedParsed = t
				r.Rules.Date = "url"
			}
		}
		it := f.norm.Normalize(src, loc, r, now)
		if seen[it.Key] {
			continue
		}
		seen[it.Key] = true
		items = append(items, it)
	}
	return items
}

// looksLikeHTML reports whether a body is an HTML page rather than a feed.
func looksLikeHTML(body []byte) bool {
	head := bytes.ToLower(body[:min(len(body), 1024)])
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head")) || bytes.Contains(head, []byte("<body"))
}

// parseFeed parses UTF-8 RSS/Atom/JSON Feed bytes into raw items.
func (f *Fetcher) parseFeed(body []byte, contentType, baseURL string) ([]RawItem, error) {
	safe := RedactURL(baseURL)
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, notFeedError(safe, "the server sent an empty answer")
	}
	body = dropInvalidXMLChars(body)
	if trimmed[0] == '<' && xmlTooDeep(body, maxXMLDepth) {
		return nil, parseError(safe, fmt.Errorf("elements are nested more than %d levels deep (a broken or hostile document)", maxXMLDepth))
	}
	feed, err := f.feedParser.Parse(bytes.NewReader(body))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			mt, _, _ := mime.ParseMediaType(contentType)
			if mt == "" {
				mt = "no content type"
			}
			if looksLikeHTML(body) {
				return nil, notFeedError(safe, "the server sent an HTML page ("+mt+")")
			}
			return nil, notFeedError(safe, "the answer is not RSS, Atom or JSON Feed ("+mt+")")
		}
		return nil, parseError(safe, err)
	}
	// The XML decoders are lenient: a feed cut off in transfer parses
	// "successfully" with the items read so far. Refuse it.
	if trimmed[0] == '<' && trimmed[len(trimmed)-1] != '>' {
		return nil, parseError(safe, errors.New("the document ends abruptly (truncated download?)"))
	}
	if trimmed[0] == '<' && !closesRoot(trimmed) {
		return nil, parseError(safe, errors.New("the document's root element is not closed (truncated download?)"))
	}
	raws := make([]RawItem, 0, len(feed.Items))
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		r := RawItem{
			GUID:        it.GUID,
			Link:        it.Link,
			BaseURL:     baseURL,
			Title:       it.Title,
			ContentHTML: it.Content,
			Summary:     it.Description,
			Published:   it.Published,
			Categories:  it.Categories,
		}
		if r.Link == "" && len(it.Links) > 0 {
			r.Link = it.Links[0]
		}
		if r.Published == "" {
			r.Published = it.Updated
		}
		switch {
		case it.PublishedParsed != nil:
			r.PublishedParsed = *it.PublishedParsed
		case it.UpdatedParsed != nil:
			r.PublishedParsed = *it.UpdatedParsed
		}
		if len(it.Authors) > 0 && it.Authors[0] != nil {
			r.Author = it.Authors[0].Name
			if r.Author == "" {
				r.Author = it.Authors[0].Email
			}
		} else if it.DublinCoreExt != nil && len(it.DublinCoreExt.Creator) > 0 {
			r.Author = it.DublinCoreExt.Creator[0]
		}
		if it.Image != nil {
			r.ImageURL = it.Image.URL
		}
		if r.ImageURL == "" {
			for _, e := range it.Enclosures {
				if e != nil && strings.HasPrefix(e.Type, "image/") {
					r.ImageURL = e.URL
					break
				}
			}
		}
		for _, e := range it.Enclosures {
			if e != nil && (strings.HasPrefix(e.Type, "video/") || strings.HasPrefix(e.Type, "audio/")) &&
				!strings.HasPrefix(r.MediaType, "video/") {
				r.MediaType = e.Type
			}
		}
		raws = append(raws, r)
	}
	return raws, nil
}

// closesRoot reports whether an XML document ends with the end tag of a
// feed root element (rss, feed, RDF), ignoring trailing comments.
func closesRoot(doc []byte) bool {
	tail := doc[max(0, len(doc)-512):]
	for bytes.HasSuffix(tail, []byte("-->")) {
		i := bytes.LastIndex(tail, []byte("<!--"))
		if i < 0 {
			break
		}
		tail = bytes.TrimSpace(tail[:i])
	}
	i := bytes.LastIndex(tail, []byte("</"))
	if i < 0 {
		return false
	}
	name := string(bytes.ToLower(bytes.TrimSpace(bytes.TrimSuffix(tail[i+2:], []byte(">")))))
	if j := strings.IndexByte(name, ':'); j >= 0 {
		name = name[j+1:]
	}
	return name == "rss" || name == "feed" || name == "rdf"
}

// listSelector is a compiled "selector@attribute" from an html source.
type listSelector struct {
	sel  cascadia.Selector // nil: the item element itself
	attr string            // "": text
}

var attrNameRe = regexp.MustCompile(`^[A-Za-z_:][-A-Za-z0-9_:.]*$`)

func compileListSelector(spec, defaultAttr string) (listSelector, error) {
	spec = strings.TrimSpace(spec)
	ls := listSelector{attr: defaultAttr}
	if i := strings.LastIndexByte(spec, '@'); i >= 0 && attrNameRe.MatchString(spec[i+1:]) {
		ls.attr = spec[i+1:]
		spec = strings.TrimSpace(spec[:i])
	}
	if spec == "" {
		return ls, nil
	}
	sel, err := cascadia.Compile(spec)
	if err != nil {
		return ls, fmt.Errorf("invalid CSS selector %q: %w", spec, err)
	}
	ls.sel = sel
	return ls, nil
}

func (ls listSelector) value(item *goquery.Selection) (string, *goquery.Selection) {
	s := item
	if ls.sel != nil {
		s = item.FindMatcher(ls.sel).First()
	}
	if s.Length() == 0 {
		return "", s
	}
	if ls.attr != "" {
		v, _ := s.Attr(ls.attr)
		return strings.TrimSpace(v), s
	}
	return collapse(s.Text()), s
}

// parseHTMLList extracts posts from a UTF-8 list page.
func parseHTMLList(body []byte, baseURL string, h *config.HTMLList) ([]RawItem, error) {
	if h == nil || strings.TrimSpace(h.Item) == "" {
		return nil, errors.New("html source needs html.item (a CSS selector for one post in the list)")
	}
	itemSel, err := cascadia.Compile(h.Item)
	if err != nil {
		return nil, fmt.Errorf("html.item: invalid CSS selector %q: %w", h.Item, err)
	}
	titleSpec := h.Title
	if titleSpec == "" {
		titleSpec = "a"
	}
	linkSpec := h.Link
	if linkSpec == "" {
		linkSpec = "a@href"
	}
	title, err := compileListSelector(titleSpec, "")
	if err != nil {
		return nil, fmt.Errorf("html.title: %w", err)
	}
	link, err := compileListSelector(linkSpec, "href")
	if err != nil {
		return nil, fmt.Errorf("html.link: %w", err)
	}
	var date, summary listSelector
	hasDate, hasSummary := h.Date != "", h.Summary != ""
	if hasDate {
		if date, err = compileListSelector(h.Date, ""); err != nil {
			return nil, fmt.Errorf("html.date: %w", err)
		}
	}
	if hasSummary {
		if summary, err = compileListSelector(h.Summary, ""); err != nil {
			return nil, fmt.Errorf("html.summary: %w", err)
		}
	}

	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, parseError(RedactURL(baseURL), err)
	}
	base := baseURL
	if b, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if bu, err := url.Parse(baseURL); err == nil {
			if r, err := bu.Parse(strings.TrimSpace(b)); err == nil {
				base = r.String()
			}
		}
	}
	var raws []RawItem
	doc.FindMatcher(itemSel).Each(func(_ int, s *goquery.Selection) {
		t, tsel := title.value(s)
		// Lists cut long titles ("…") and keep the full one in title="".
		if full, ok := tsel.Attr("title"); ok && title.attr == "" && collapse(full) != "" &&
			(t == "" || strings.HasSuffix(t, "..") || strings.HasSuffix(t, "…")) {
			t = collapse(full)
		}
		l, _ := link.value(s)
		if l == "" && t == "" {
			return
		}
		if strings.HasPrefix(strings.ToLower(l), "javascript:") || l == "#" {
			l = ""
		}
		r := RawItem{Title: t, Link: l, BaseURL: base}
		if hasDate {
			r.Published, _ = date.value(s)
		}
		if hasSummary {
			r.Summary, _ = summary.value(s)
		}
		raws = append(raws, r)
	})
	return raws, nil
}

// fillFullText fetches the pages of new posts and puts their bodies (and
// missing titles/dates) into raws. Failures are logged and leave the post
// as the list described it (RawItem.FetchErr says why). It returns the
// number of pages it tried.
func (f *Fetcher) fillFullText(ctx context.Context, src config.Source, loc *time.Location, raws []RawItem, known func(string) bool, now time.Time) int {
	var todo []int
	for i := range raws {
		base, _ := url.Parse(raws[i].BaseURL)
		link := resolveURL(base, raws[i].Link)
		if !strings.HasPrefix(link, "http://") && !strings.HasPrefix(link, "https://") {
			continue
		}
		if known != nil && known(f.norm.Key(src, loc, raws[i], now)) {
			continue
		}
		raws[i].Link = link
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return 0
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(len(todo), f.opts.PerHost*2, f.opts.Concurrency) {
		wg.Go(func() {
			for i := range jobs {
				f.fillOne(ctx, src, loc, &raws[i])
			}
		})
	}
	func() {
		defer close(jobs)
		for _, i := range todo {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	return len(todo)
}

func (f *Fetcher) fillOne(ctx context.Context, src config.Source, loc *time.Location, r *RawItem) {
	a, err := f.fetchArticle(ctx, r.Link, src.FullText, loc)
	if err != nil {
		if ctx.Err() == nil {
			f.logger.WarnContext(ctx, "feeds: full text not fetched; keeping the list summary",
				slog.String("source", src.ID), slog.String("url", RedactURL(r.Link)), slog.Any("error", err))
			r.FetchErr = err.Error()
		}
		// The page's title and date are still better than none.
		r.mergeArticle(a, false)
		return
	}
	r.mergeArticle(a, true)
}

// mergeArticle puts what the article page says into r, in the order of
// evidence of ExtractArticle's doc: the feed's or list's values win, except
// a truncated list title and a list date without a time of day when the
// page gives the same day with a time.
func (r *RawItem) mergeArticle(a Article, body bool) {
	if body && a.HTML != "" {
		r.ContentHTML = a.HTML
		r.BaseURL = a.URL
		r.Rules.Body = a.BodyRule
	}
	if a.Title != "" && (r.Title == "" || isTruncatedTitle(r.Title, a.Title)) {
		r.Title = a.Title
		r.Rules.Title = "page " + a.TitleRule
	}
	if !a.Published.IsZero() {
		listHasTime := r.Published != "" && hasTimeOfDay(cleanDateText(r.Published))
		noListDate := r.Published == "" && r.PublishedParsed.IsZero()
		if noListDate || (r.Published != "" && !listHasTime && a.PublishedHasTime) {
			r.Published = a.Published.UTC().Format(time.RFC3339)
			r.PublishedParsed = time.Time{}
			r.Rules.Date = "page " + a.DateRule
		}
	}
	if r.Author == "" && a.Author != "" {
		r.Author = a.Author
		r.Rules.Author = "page " + a.AuthorRule
	}
	if len(a.Meta) > 0 && r.Meta == nil {
		r.Meta = a.Meta
	}
}

// isTruncatedTitle reports whether a list title is a cut version of the
// page's full title ("…关于印发邯郸市支持重点行业和重点设施超低排放改造（深度治...").
func isTruncatedTitle(list, full string) bool {
	list = strings.TrimSpace(list)
	cut, ok := strings.CutSuffix(list, "...")
	if !ok {
		cut, ok = strings.CutSuffix(list, "…")
	}
	if !ok {
		return false
	}
	cut = strings.TrimRight(cut, ". ")
	return cut == "" || strings.HasPrefix(collapse(full), collapse(cut)) || len([]rune(full)) > len([]rune(cut))
}

// fetchArticle fetches one post's page and extracts it. On a body failure
// the Article still carries the page's title, date and author.
func (f *Fetcher) fetchArticle(ctx context.Context, link string, ft *config.FullText, loc *time.Location) (Article, error) {
	resp, err := f.Get(ctx, link, Validators{})
	if err != nil {
		return Article{}, err
	}
	body := DecodeToUTF8(resp.Body, resp.ContentType)
	return ExtractArticle(body, resp.URL, ft, loc)
}
