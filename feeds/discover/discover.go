package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds/gkmlpt"
	"github.com/transfeed/transfeed/model"
)

// Page is a fetched document, decoded to UTF-8.
type Page struct {
	URL         string // final URL after redirects
	ContentType string
	Body        []byte
}

// Getter fetches one URL (the caller's HTTP policy: timeouts, size caps,
// politeness). Body must be UTF-8.
type Getter interface {
	GetPage(ctx context.Context, url string) (*Page, error)
}

// Kind is what discovery proposes.
type Kind string

// Kinds of proposed source (the values of a source's `type:` key).
const (
	KindNone   Kind = ""
	KindFeed   Kind = "feed"
	KindHTML   Kind = "html"
	KindGkmlpt Kind = "gkmlpt"
)

// Body is how the first post's article body would be read.
type Body struct {
	URL         string // the post's page
	Selector    string // CSS selector of the body ("" with Readability)
	Readability bool
	Chars       int    // text length read
	Err         string // why the post's page could not be read
}

// Report is everything Discover found about a page.
type Report struct {
	URL   string // as asked
	Final string // after redirects
	Title string // the page's <title>
	Kind  Kind

	Feeds      []FeedLink // verified feeds (announced, then probed)
	FeedItems  int        // posts in Feeds[0]
	Detection  Detection  // the list detection (List nil when none)
	Next       string     // the next page of a paged list
	Catalogue  *gkmlpt.Catalogue
	Columns    []gkmlpt.Column // the catalogue's columns (when the URL names none)
	GkmlptSID  string
	GkmlptList []gkmlpt.Article
	Body       *Body

	// Saw is a plain-words account of the page when nothing list-like was
	// found.
	Saw []string
}

// Options tune Discover. The zero value is the default.
type Options struct {
	Detect DetectOptions
	// NoProbe skips probing the common feed paths (done when the page
	// announces no feed and shows no list).
	NoProbe bool
	// NoBody skips fetching the first post's page.
	NoBody bool
}

// ErrNothing means the page holds no feed, no catalogue and nothing list-like.
var ErrNothing = errors.New("discover: nothing list-like on the page")

// Discover fetches pageURL and finds what a source for it should read.
// It returns ErrNothing (with the report filled with what it saw) when it
// found nothing to propose.
func Discover(ctx context.Context, g Getter, pageURL string, opts Options) (*Report, error) {
	r := &Report{URL: pageURL}
	if c, err := gkmlpt.ParseURL(pageURL); err == nil {
		return r, discoverGkmlpt(ctx, g, r, c)
	}
	p, err := g.GetPage(ctx, pageURL)
	if err != nil {
		return r, err
	}
	r.Final = p.URL
	base, err := url.Parse(p.URL)
	if err != nil {
		return r, fmt.Errorf("discover: the final page URL cannot be read: %w", err)
	}
	// The URL may itself be a feed.
	if !looksLikeHTML(p.Body) {
		if n, ok := parseFeed(p.Body); ok {
			r.Kind, r.FeedItems = KindFeed, n
			r.Feeds = []FeedLink{{URL: p.URL, Type: p.ContentType}}
			return r, nil
		}
	}
	p.Body = ExpandDatastore(p.Body)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body))
	if err != nil {
		return r, fmt.Errorf("discover: the page cannot be parsed: %w", err)
	}
	r.Title = collapse(doc.Find("title").First().Text())
	if cfg, ok := gkmlpt.ParseConfig(p.Body); ok && cfg.SID != "" {
		// A catalogue page, or a page embedding the catalogue (the column
		// is then chosen among cfg.Columns).
		c, err := gkmlpt.ParseURL(p.URL)
		if err != nil {
			if m := gkmlptRootRe.Find(p.Body); m != nil {
				if u, err := base.Parse(string(m)); err == nil {
					c, err = gkmlpt.ParseURL(u.String())
				}
			}
		}
		if c.Root != nil {
			r.Catalogue, r.GkmlptSID, r.Columns = &c, cfg.SID, cfg.Columns
			r.Kind = KindGkmlpt
			return r, nil
		}
	}
	// Announced feeds win over scraping.
	for _, fl := range FeedLinks(doc, base) {
		if fp, err := g.GetPage(ctx, fl.URL); err == nil {
			if n, ok := parseFeed(fp.Body); ok {
				if len(r.Feeds) == 0 {
					r.FeedItems = n
				}
				r.Feeds = append(r.Feeds, fl)
			}
		} else if ctx.Err() != nil {
			return r, ctx.Err()
		}
	}
	r.Detection = DetectList(doc, base, opts.Detect)
	r.Next = NextPage(doc, p.Body, base)
	switch {
	case len(r.Feeds) > 0:
		r.Kind = KindFeed
	case r.Detection.List != nil:
		r.Kind = KindHTML
	}
	if r.Kind == KindNone && !opts.NoProbe {
		for _, u := range CommonFeedURLs(base) {
			fp, err := g.GetPage(ctx, u)
			if err != nil {
				if ctx.Err() != nil {
					return r, ctx.Err()
				}
				continue
			}
			if n, ok := parseFeed(fp.Body); ok {
				r.Kind, r.FeedItems = KindFeed, n
				r.Feeds = []FeedLink{{URL: fp.URL, Type: fp.ContentType}}
				break
			}
		}
	}
	if r.Kind == KindHTML && !opts.NoBody && len(r.Detection.List.Posts) > 0 {
		r.Body = guessBody(ctx, g, r.Detection.List.Posts[0].Link)
	}
	if r.Kind == KindNone {
		r.Saw = describePage(doc, r)
		return r, ErrNothing
	}
	return r, nil
}

func discoverGkmlpt(ctx context.Context, g Getter, r *Report, c gkmlpt.Catalogue) error {
	r.Catalogue, r.Kind = &c, KindGkmlpt
	p, err := g.GetPage(ctx, c.IndexURL())
	if err != nil {
		return err
	}
	r.Final = p.URL
	cfg, ok := gkmlpt.ParseConfig(p.Body)
	if !ok {
		r.Saw = append(r.Saw, "the catalogue page "+c.IndexURL()+" embeds no window._CONFIG (SID, TREE)")
	}
	r.GkmlptSID, r.Columns = cfg.SID, cfg.Columns
	if c.Column == "" {
		return nil
	}
	lp, err := g.GetPage(ctx, c.ListURL(cfg.SID, 1))
	if err != nil {
		return err
	}
	base, _ := url.Parse(lp.URL)
	l, problems, err := gkmlpt.ParseList(lp.Body, base, model.China())
	if err != nil {
		return err
	}
	for _, p := range problems {
		r.Saw = append(r.Saw, p.Error())
	}
	r.GkmlptList = l.Articles
	return nil
}

// gkmlptRootRe finds the catalogue's directory in a page that embeds it.
var gkmlptRootRe = regexp.MustCompile(`(?:https?://[\w.:-]+)?/[\w/.-]*?gkmlpt/`)

var htmlStartRe = regexp.MustCompile(`(?is)^\s*(?:\x{feff})?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|script|link|table)`)

func looksLikeHTML(b []byte) bool {
	return htmlStartRe.Match(b[:min(len(b), 2048)])
}

// parseFeed reports whether b is an RSS, Atom or JSON feed, and its size.
func parseFeed(b []byte) (int, bool) {
	if looksLikeHTML(b) {
		return 0, false
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(b))
	if err != nil || f == nil {
		return 0, false
	}
	return len(f.Items), true
}

// bodySelectors are article containers of the CMSs we meet, best first.
var bodySelectors = []string{
	".TRS_Editor", ".trs_editor_view", ".TRS_UEDITOR", "#zoom", "#Zoom", "td#td_DocContent", "#UCAP-CONTENT",
	".zfxxgk_zw_content", ".article-content", "#js_content", ".article_content", ".content-text",
	"#content", ".content", "article",
}

func guessBody(ctx context.Context, g Getter, link string) *Body {
	b := &Body{URL: link}
	if strings.HasSuffix(strings.ToLower(path.Ext(strings.Split(link, "?")[0])), "pdf") {
		b.Err = "the first post is a PDF; its list title and date are all a source gets"
		return b
	}
	p, err := g.GetPage(ctx, link)
	if err != nil {
		b.Err = err.Error()
		return b
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body))
	if err != nil {
		b.Err = err.Error()
		return b
	}
	for _, sel := range bodySelectors {
		s := doc.Find(sel).First()
		if s.Length() == 0 {
			continue
		}
		if n := utf8.RuneCountInString(collapse(s.Text())); n >= 30 {
			b.Selector, b.Chars = sel, n
			return b
		}
	}
	b.Readability = true
	return b
}

// describePage says what a page without a list holds.
func describePage(doc *goquery.Document, r *Report) []string {
	var saw []string
	links := doc.Find("a[href]").Length()
	saw = append(saw, fmt.Sprintf("%d links, %d of them usable as a post's link (a real address and a title of 4 or more characters)", links, r.Detection.Anchors))
	if doc.Find("script").Length() > 0 && links < 10 {
		saw = append(saw, "few links and some scripts: the list is probably drawn by JavaScript (look for the JSON request it makes)")
	}
	scripted := doc.Find("a[onclick]").FilterFunction(func(_ int, a *goquery.Selection) bool {
		h := strings.ToLower(strings.TrimSpace(a.AttrOr("href", "")))
		return h == "" || strings.HasPrefix(h, "#") || strings.HasPrefix(h, "javascript:")
	})
	if n := scripted.Length(); n >= 3 {
		// The example is a link of the most used handler (the list's).
		count := map[string]int{}
		fn := func(a *goquery.Selection) string {
			if m := onclickFnRe.FindStringSubmatch(a.AttrOr("onclick", "")); m != nil {
				return m[1]
			}
			return ""
		}
		scripted.Each(func(_ int, a *goquery.Selection) { count[fn(a)]++ })
		best, bestN := "", 0
		for k, v := range count {
			if k != "" && (v > bestN || (v == bestN && k < best)) {
				best, bestN = k, v
			}
		}
		example := scripted.FilterFunction(func(_ int, a *goquery.Selection) bool { return fn(a) == best }).First()
		saw = append(saw, fmt.Sprintf("%d links lead nowhere by themselves (href=\"#…\" or javascript: with an onclick handler, e.g. %q on %q): the posts open through JavaScript, so selectors cannot read their addresses",
			n, collapse(example.AttrOr("onclick", "")), collapse(example.Text())))
	}
	if n := doc.Find(`script[type="text/xml"]`).Length(); n > 0 {
		saw = append(saw, fmt.Sprintf("%d <script type=\"text/xml\"> blocks (Hanweb/jpage lists load their rows from dataproxy.jsp)", n))
	}
	for i, c := range r.Detection.Candidates {
		if i == 3 {
			break
		}
		saw = append(saw, fmt.Sprintf("repeated block %s: %d items, %d dated — %s", c.Selector, c.Items, c.Dated, c.Why))
	}
	if len(r.Detection.Candidates) == 0 {
		saw = append(saw, "no repeated block of links")
	}
	return saw
}

// Proposal is the source block Discover proposes.
func (r *Report) Proposal() (config.Source, bool) {
	src := config.Source{Name: r.Title}
	switch r.Kind {
	case KindFeed:
		src.URL, src.Type = r.Feeds[0].URL, "feed"
		if r.Feeds[0].Title != "" {
			src.Name = r.Feeds[0].Title
		}
	case KindHTML:
		src.URL, src.Type = r.URL, "html"
		sel := r.Detection.List.Selectors
		src.HTML = &sel
		if r.Body != nil && r.Body.Err == "" {
			src.FullText = &config.FullText{Selector: r.Body.Selector, Readability: r.Body.Readability}
		}
	case KindGkmlpt:
		if r.Catalogue == nil || r.Catalogue.Column == "" {
			return src, false
		}
		src.URL, src.Type = r.Catalogue.SourceURL(), "gkmlpt"
		for _, c := range r.Columns {
			if c.ID == r.Catalogue.Column && c.Name != "" {
				src.Name = c.Name
			}
		}
	default:
		return src, false
	}
	src.ID = SuggestID(src.URL)
	if src.Name == "" {
		src.Name = src.ID
	}
	return src, true
}

var (
	idJunk      = regexp.MustCompile(`[^a-z0-9]+`)
	onclickFnRe = regexp.MustCompile(`^\s*(?:javascript:)?\s*([\w.$]+)\s*\(`)
)

// SuggestID makes a source id ([a-z0-9-]+) from a URL: the site's name and
// the column's last path segment.
func SuggestID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "source"
	}
	site := strings.Split(registrable(u), ".")[0]
	if net.ParseIP(u.Hostname()) != nil {
		site = ""
	}
	var seg string
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.ToLower(parts[i])
		p = strings.TrimSuffix(p, path.Ext(p))
		if p != "" && p != "index" && p != "list" && p != "default" && p != "mindex" {
			seg = p
			break
		}
	}
	if f := u.Fragment; f != "" {
		seg += "-" + f
	}
	id := strings.Trim(idJunk.ReplaceAllString(strings.ToLower(site+"-"+seg), "-"), "-")
	if id == "" {
		return "source"
	}
	return id
}
