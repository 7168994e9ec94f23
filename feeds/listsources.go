package feeds

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/feeds/discover"
	"github.com/transfeed/transfeed/feeds/gkmlpt"
)

// FirstImportMax is how many posts a first import of a paged list reads
// (following its "next page" links) when the config sets no
// fetch.max_items_per_poll.
const FirstImportMax = 200

// firstImportPages bounds the pages one poll follows.
const firstImportPages = 20

// readHTMLList reads a type: html source: with its configured selectors, or
// — when it has none — with the selectors detected from the page's shape
// (recorded in res.Shape). Hanweb's <datastore> rows are expanded into the
// page first. When every post of the page is new (a first
// import, or a long outage), the list's next pages are read too, up to
// FirstImportMax posts.
func (f *Fetcher) readHTMLList(ctx context.Context, src config.Source, loc *time.Location, body []byte, pageURL string, known func(string) bool, res *PollResult) ([]RawItem, error) {
	body = discover.ExpandDatastore(body) // Hanweb rows live in a script
	sel := src.HTML
	if sel == nil || strings.TrimSpace(sel.Item) == "" {
		det, err := detectList(body, pageURL)
		if err != nil {
			return nil, err
		}
		sel = &det.Selectors
		res.Shape, res.Selectors = det.Shape, sel
	}
	raws, err := parseHTMLList(body, pageURL, sel)
	if err != nil || len(raws) == 0 {
		return raws, err
	}
	if !allNew(f, src, loc, raws, known) {
		return raws, nil
	}
	visited := map[string]bool{pageURL: true}
	cur, curBody := pageURL, body
	for page := 1; page < firstImportPages && len(raws) < FirstImportMax; page++ {
		next := nextPage(curBody, cur)
		if next == "" || visited[next] {
			break
		}
		visited[next] = true
		resp, err := f.Get(ctx, next, Validators{})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f.logger.WarnContext(ctx, "feeds: next page not read; keeping the posts read so far",
				slog.String("source", src.ID), slog.String("url", RedactURL(next)), slog.Any("error", err))
			break
		}
		cur, curBody = resp.URL, discover.ExpandDatastore(DecodeToUTF8(resp.Body, resp.ContentType))
		more, err := parseHTMLList(curBody, cur, sel)
		if err != nil || len(more) == 0 {
			break
		}
		raws = append(raws, more...)
		if !allNew(f, src, loc, more, known) {
			break
		}
	}
	return raws[:min(len(raws), FirstImportMax)], nil
}

func allNew(f *Fetcher, src config.Source, loc *time.Location, raws []RawItem, known func(string) bool) bool {
	if known == nil {
		return true
	}
	now := time.Now()
	for _, r := range raws {
		if known(f.norm.Key(src, loc, r, now)) {
			return false
		}
	}
	return true
}

func nextPage(body []byte, pageURL string) string {
	base, err := url.Parse(pageURL)
	if err != nil {
		return ""
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	return discover.NextPage(doc, body, base)
}

// detectList finds the list of posts on a page by its shape.
func detectList(body []byte, pageURL string) (*discover.List, error) {
	safe := RedactURL(pageURL)
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, &Error{Kind: KindParse, URL: safe, Err: err, msg: "page URL could not be read: " + err.Error()}
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Kind: KindParse, URL: safe, Err: err, msg: "page could not be parsed: " + err.Error() + " (" + safe + ")"}
	}
	det := discover.DetectList(doc, base, discover.DetectOptions{})
	if det.List == nil {
		why := "no repeated block of links"
		if len(det.Candidates) > 0 {
			c := det.Candidates[0]
			why = fmt.Sprintf("best block %s (%d items): %s", c.Selector, c.Items, c.Why)
		}
		err := errors.New("no list of posts found by its shape")
		return nil, &Error{Kind: KindParse, URL: safe, Err: err,
			msg: err.Error() + " (" + why + "); run `transfeed discover " + safe + "` and give the source html: selectors (" + safe + ")"}
	}
	return det.List, nil
}

// readGkmlpt reads a type: gkmlpt source: body is the catalogue page (for
// the site's SID); the posts come from the list API, their bodies from
// each new post's page.
func (f *Fetcher) readGkmlpt(ctx context.Context, src config.Source, loc *time.Location, body []byte, known func(string) bool) ([]RawItem, error) {
	c, err := gkmlpt.ParseURL(src.URL)
	if err != nil || c.Column == "" {
		return nil, fmt.Errorf("url %s is not a …/gkmlpt/index#<column> URL", RedactURL(src.URL))
	}
	cfg, _ := gkmlpt.ParseConfig(body)
	listURL := c.ListURL(cfg.SID, 1)
	resp, err := f.Get(ctx, listURL, Validators{})
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(resp.URL)
	l, problems, err := gkmlpt.ParseList(resp.Body, base, loc)
	if err != nil {
		safe := RedactURL(resp.URL)
		return nil, &Error{Kind: KindParse, URL: safe, Err: err, msg: err.Error() + " (" + safe + ")"}
	}
	raws := gkmlptRaws(l.Articles, resp.URL, loc)
	// A first import reads the next pages of the column too. Sites differ:
	// some page by 100, some answer every page with the whole column, some
	// answer 404 after page 1 — a 404, an empty page or a repeated page ends
	// the reading.
	if allNew(f, src, loc, raws, known) && l.Total > len(l.Articles) {
		seen := map[string]bool{}
		for _, a := range l.Articles {
			seen[a.URL] = true
		}
		for page := 2; page <= firstImportPages && len(raws) < FirstImportMax; page++ {
			next, err := f.Get(ctx, c.ListURL(cfg.SID, page), Validators{})
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if fe, ok := errors.AsType[*Error](err); !ok || fe.StatusCode != 404 {
					f.logger.WarnContext(ctx, "feeds: gkmlpt page not read; keeping the posts read so far",
						slog.String("source", src.ID), slog.Int("page", page), slog.Any("error", err))
				}
				break
			}
			more, moreProblems, err := gkmlpt.ParseList(next.Body, base, loc)
			if err != nil || len(more.Articles) == 0 || seen[more.Articles[0].URL] {
				break
			}
			problems = append(problems, moreProblems...)
			for _, a := range more.Articles {
				seen[a.URL] = true
			}
			raws = append(raws, gkmlptRaws(more.Articles, next.URL, loc)...)
		}
		raws = raws[:min(len(raws), FirstImportMax)]
	}
	for _, p := range problems {
		f.logger.WarnContext(ctx, "feeds: gkmlpt article skipped", slog.String("source", src.ID), slog.Any("error", p))
	}
	// Which API field dated the posts (the crawlers disagree on the right one).
	from := map[string]int{}
	for _, a := range l.Articles {
		from[cmp.Or(a.PublishedFrom, "none")]++
	}
	f.logger.DebugContext(ctx, "feeds: gkmlpt publication dates", slog.String("source", src.ID), slog.Any("fields", from))
	if err := f.fillGkmlptBodies(ctx, src, loc, raws, known); err != nil {
		return nil, err
	}
	return raws, nil
}

// gkmlptRaws are the list API's articles as raw posts, with their document
// metadata above the body.
func gkmlptRaws(articles []gkmlpt.Article, listURL string, loc *time.Location) []RawItem {
	raws := make([]RawItem, 0, len(articles))
	for _, a := range articles {
		r := RawItem{GUID: "gkmlpt:" + a.ID, Link: a.URL, BaseURL: listURL, Title: a.Title, Summary: a.Abstract}
		if !a.Published.IsZero() {
			r.PublishedParsed = a.Published
			r.Published = a.Published.In(loc).Format(time.RFC3339)
		}
		if a.ID == "" {
			r.GUID = ""
		}
		meta := metaLine(a.Meta())
		if r.Summary == "" {
			r.Summary = meta
		}
		r.ContentHTML = metaHTML(a.Meta())
		r.Meta = a.Meta() // stored on the post too (Item.Meta): the post page, feeds and items -json show it
		raws = append(raws, r)
	}
	return raws
}

// fillGkmlptBodies reads the body of each new post from its page's
// embedded DETAIL; a page that cannot be read keeps the list's metadata.
func (f *Fetcher) fillGkmlptBodies(ctx context.Context, src config.Source, loc *time.Location, raws []RawItem, known func(string) bool) error {
	now := time.Now()
	for i := range raws {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if known != nil && known(f.norm.Key(src, loc, raws[i], now)) {
			continue
		}
		resp, err := f.Get(ctx, raws[i].Link, Validators{})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f.logger.WarnContext(ctx, "feeds: gkmlpt post page not read; keeping the list's metadata",
				slog.String("source", src.ID), slog.String("url", RedactURL(raws[i].Link)), slog.Any("error", err))
			continue
		}
		if b, ok := gkmlpt.ParseDetail(DecodeToUTF8(resp.Body, resp.ContentType)); ok {
			raws[i].ContentHTML += b
			raws[i].BaseURL = resp.URL
		}
	}
	return nil
}

var metaOrder = []string{"索引号", "发布机构", "文号", "成文日期"}

func metaKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for _, k := range metaOrder {
		if m[k] != "" {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(metaOrder, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// metaLine is document metadata as one plain line (索引号：…；发布机构：…).
func metaLine(m map[string]string) string {
	var parts []string
	for _, k := range metaKeys(m) {
		parts = append(parts, k+"："+m[k])
	}
	return strings.Join(parts, "；")
}

// metaHTML is document metadata as the catalogue pages show it, above the body.
func metaHTML(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<table>")
	for _, k := range metaKeys(m) {
		fmt.Fprintf(&b, "<tr><th>%s</th><td>%s</td></tr>", html.EscapeString(k), html.EscapeString(m[k]))
	}
	b.WriteString("</table>")
	return b.String()
}
