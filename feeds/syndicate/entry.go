// Package syndicate renders transfeed's output feeds (RSS 2.0, Atom 1.0,
// JSON Feed 1.1) with gorilla/feeds, patching its format structs where they
// fall short (see REFERENCE.md §4): stable ids, RSS atom:link self, source and
// dc:creator, Atom published, self link, feed id and updated, JSON items
// always present, feed_url and language.
//
// Entry values are built from store items by a Builder, which decides what
// every republished post carries: the English title and body, the original
// title and link, source and author, publish time and the machine-translation
// notice. EnglishOf and Notice are shared with the reading site and Telegram.
package syndicate

import (
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/transfeed/transfeed/model"
	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Channel describes one output feed.
type Channel struct {
	Title       string
	Description string
	Link        string // the site page of this feed (absolute)
	SelfURL     string // the feed's own URL (absolute)
	Language    string // "en"
	ID          string // stable feed id (Atom <id>); SelfURL when empty
	Updated     time.Time
}

// Entry is one post as republished.
type Entry struct {
	ID            string // stable id: tag:<host>,2026:posts/<item id>
	Link          string // our post page (absolute)
	OriginalLink  string // the post at its source
	Title         string // English (see EnglishOf)
	OriginalTitle string // original-language title; "" when the title was not translated
	Summary       string // plain text
	ContentHTML   string // sanitised body followed by the attribution block
	SourceName    string
	SourceURL     string    // the source's own URL (feed or list page)
	Author        string    // item author (account) when the source names one
	Published     time.Time // zero when the source gave no date
	DateLabel     string    // model.DateLabel: the date, or "date unknown (first seen …)"
	Meta          []model.MetaField
	Updated       time.Time
	ImageURL      string
	Categories    []string
	Translated    bool
	Notice        string // see Notice
}

// SourceInfo is what a Builder needs to know about an item's source.
type SourceInfo struct {
	ID   string
	Name string
	URL  string
}

// IDEpoch is the date in the tag: URIs of entry ids. It is part of every
// id ever published: never change it.
const IDEpoch = "2026"

// NewPolicy returns the render-time sanitiser: bluemonday's UGC policy with
// no-referrer links (images and links to mmbiz.qpic.cn and gov sites need no
// Referer) and target=_blank on absolute links. Build it once and share it;
// Sanitize is safe for concurrent use.
func NewPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// Builder turns store items into entries. It is safe for concurrent use.
type Builder struct {
	base   *url.URL
	host   string
	policy *bluemonday.Policy
	loc    *time.Location
}

// NewBuilder returns a Builder for a site at baseURL (absolute http(s) URL).
func NewBuilder(baseURL string, policy *bluemonday.Policy, loc *time.Location) (*Builder, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("syndicate: base url %q: want an absolute http(s) URL", baseURL)
	}
	if policy == nil {
		policy = NewPolicy()
	}
	if loc == nil {
		loc = model.China()
	}
	return &Builder{base: u, host: u.Hostname(), policy: policy, loc: loc}, nil
}

// FormatCST formats t as "2023-05-25 23:31 CST" in China Standard Time.
func FormatCST(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04") + " CST"
}

// URL returns the absolute URL of a site path ("/posts/1").
func (b *Builder) URL(path string) string { return b.base.String() + path }

// PostPath is the site path of an item's page.
func PostPath(id int64) string { return "/posts/" + strconv.FormatInt(id, 10) }

// EntryID is the stable id of an item in every feed format.
func (b *Builder) EntryID(id int64) string {
	return "tag:" + b.host + "," + IDEpoch + ":posts/" + strconv.FormatInt(id, 10)
}

// FeedID is the stable id of an output feed (a site path such as "/feeds/zhaoqing").
func (b *Builder) FeedID(path string) string {
	return "tag:" + b.host + "," + IDEpoch + ":" + strings.TrimPrefix(path, "/")
}

// Sanitize cleans an HTML fragment with the render policy.
func (b *Builder) Sanitize(fragment string) string { return b.policy.Sanitize(fragment) }

// Entry builds the republished form of a ready item. With bilingual, each
// original block follows its translation (see Bilingual).
func (b *Builder) Entry(it model.Item, src SourceInfo, bilingual bool) Entry {
	en := model.EnglishOf(it)
	body := en.HTML
	if en.Translated && bilingual {
		body = Bilingual(body, it.ContentHTML)
	}
	e := Entry{
		ID:            b.EntryID(it.ID),
		Link:          b.URL(PostPath(it.ID)),
		OriginalLink:  SafeURL(it.Link),
		Title:         en.Title,
		Summary:       en.Summary,
		SourceName:    src.Name,
		SourceURL:     SafeURL(src.URL),
		Author:        model.PlainText(it.Author, 0),
		Published:     it.Published,
		DateLabel:     model.DateLabel(it, b.loc),
		Meta:          model.MetaFields(it.Meta),
		Updated:       latest(it.Published, it.FirstSeen, it.UpdatedAt, it.ReadyAt),
		ImageURL:      SafeURL(it.ImageURL),
		Categories:    it.Categories,
		Translated:    en.Translated,
		Notice:        en.Notice,
		OriginalTitle: en.OriginalTitle,
	}
	if e.SourceName == "" {
		e.SourceName = it.SourceID
	}
	e.ContentHTML = b.policy.Sanitize(body) + b.policy.Sanitize(b.attribution(e, it))
	return e
}

// attribution is the block closing every republished body: notice, original
// title, source and author, publish time, original link.
func (b *Builder) attribution(e Entry, it model.Item) string {
	var s strings.Builder
	s.WriteString("<hr><p><em>")
	s.WriteString(html.EscapeString(e.Notice))
	s.WriteString("</em></p><p>")
	if e.OriginalTitle != "" {
		fmt.Fprintf(&s, "Original title: <span lang=\"%s\">%s</span><br>", html.EscapeString(langOr(it.Language, "zh")), html.EscapeString(e.OriginalTitle))
	}
	s.WriteString("Source: ")
	s.WriteString(html.EscapeString(e.SourceName))
	if e.Author != "" && e.Author != e.SourceName {
		s.WriteString(" — ")
		s.WriteString(html.EscapeString(e.Author))
	}
	s.WriteString("<br>Published: ")
	s.WriteString(html.EscapeString(e.DateLabel))
	for _, f := range e.Meta {
		s.WriteString("<br>")
		s.WriteString(html.EscapeString(f.String()))
	}
	if e.OriginalLink != "" {
		fmt.Fprintf(&s, "<br>Original: <a href=\"%s\">%s</a>", html.EscapeString(e.OriginalLink), html.EscapeString(e.OriginalLink))
	}
	s.WriteString("</p>")
	return s.String()
}

// SafeURL returns u when it is an absolute http(s) URL, else "".
func SafeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

func langOr(l, def string) string {
	if l == "" {
		return def
	}
	return l
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Bilingual interleaves a translation with its original: the top-level
// blocks of en and orig are paired by order, each original block following
// its translation inside <blockquote lang="zh">. When the block counts
// differ the whole original follows the whole translation.
func Bilingual(en, orig string) string {
	if strings.TrimSpace(orig) == "" {
		return en
	}
	eb, ob := Blocks(en), Blocks(orig)
	var s strings.Builder
	if len(eb) != len(ob) || len(eb) == 0 {
		s.WriteString(en)
		s.WriteString(`<blockquote lang="zh">`)
		s.WriteString(orig)
		s.WriteString(`</blockquote>`)
		return s.String()
	}
	for i := range eb {
		s.WriteString(eb[i])
		s.WriteString(`<blockquote lang="zh">`)
		s.WriteString(ob[i])
		s.WriteString(`</blockquote>`)
	}
	return s.String()
}

// Blocks splits an HTML fragment into its top-level blocks: each top-level
// element is a block, and each run of text and inline elements between
// them is one block. Blank runs are dropped.
func Blocks(fragment string) []string {
	ctx := &nethtml.Node{Type: nethtml.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := nethtml.ParseFragment(strings.NewReader(fragment), ctx)
	if err != nil {
		return []string{fragment}
	}
	var out []string
	var run strings.Builder
	flush := func() {
		if strings.TrimSpace(model.PlainText(run.String(), 0)) != "" || strings.Contains(run.String(), "<img") {
			out = append(out, run.String())
		}
		run.Reset()
	}
	for _, n := range nodes {
		if n.Type == nethtml.ElementNode && !inline(n.DataAtom) {
			flush()
			var s strings.Builder
			if err := nethtml.Render(&s, n); err == nil {
				out = append(out, s.String())
			}
			continue
		}
		if n.Type == nethtml.CommentNode {
			continue
		}
		_ = nethtml.Render(&run, n)
	}
	flush()
	return out
}

func inline(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Abbr, atom.B, atom.Bdi, atom.Bdo, atom.Br, atom.Cite, atom.Code, atom.Data, atom.Dfn,
		atom.Em, atom.I, atom.Img, atom.Kbd, atom.Mark, atom.Q, atom.S, atom.Samp, atom.Small, atom.Span,
		atom.Strong, atom.Sub, atom.Sup, atom.Time, atom.U, atom.Var, atom.Wbr, atom.Font, atom.Strike:
		return true
	}
	return false
}
