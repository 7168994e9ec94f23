package syndicate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"
)

// Namespaces used by the RSS output.
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsDC      = "http://purl.org/dc/elements/1.1/"
)

// rssRoot patches gorilla's RssFeedXml: atom and dc namespaces.
type rssRoot struct {
	XMLName   xml.Name    `xml:"rss"`
	Version   string      `xml:"version,attr"`
	ContentNS string      `xml:"xmlns:content,attr"`
	AtomNS    string      `xml:"xmlns:atom,attr"`
	DCNS      string      `xml:"xmlns:dc,attr"`
	Channel   *rssChannel `xml:"channel"`
}

// rssChannel adds atom:link rel="self" and our items to gorilla's channel.
type rssChannel struct {
	*feeds.RssFeed
	AtomLink *rssAtomLink
	Items    []*rssItem `xml:"item"`
}

type rssAtomLink struct {
	XMLName xml.Name `xml:"atom:link"`
	Href    string   `xml:"href,attr"`
	Rel     string   `xml:"rel,attr"`
	Type    string   `xml:"type,attr"`
}

// rssItem adds dc:creator, repeated categories and <source url> (gorilla
// writes source as bare text, which is invalid RSS).
type rssItem struct {
	*feeds.RssItem
	Categories []string `xml:"category"`
	Creator    string   `xml:"dc:creator,omitempty"`
	Source     *rssSource
}

type rssSource struct {
	XMLName xml.Name `xml:"source"`
	URL     string   `xml:"url,attr"`
	Name    string   `xml:",chardata"`
}

// atomFeed adds xml:lang, several links (alternate + self) and our entries.
type atomFeed struct {
	*feeds.AtomFeed
	Lang    string           `xml:"xml:lang,attr,omitempty"`
	Links   []feeds.AtomLink `xml:"link"`
	Entries []*atomEntry     `xml:"entry"`
}

// atomEntry replaces gorilla's single text category (invalid Atom) with term attributes.
type atomEntry struct {
	*feeds.AtomEntry
	Categories []atomCategory `xml:"category"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// jsonFeed makes items always present (the spec requires it; gorilla omits it when empty).
type jsonFeed struct {
	*feeds.JSONFeed
	Items []*feeds.JSONItem `json:"items"`
}

// epoch is the updated time of a feed that has never had a post.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// gorillaFeed builds the generic gorilla feed; control characters and
// invalid UTF-8 are removed from every field first.
func gorillaFeed(ch Channel, entries []Entry) (*feeds.Feed, Channel, []Entry) {
	ch = cleanChannel(ch)
	if ch.Updated.IsZero() {
		ch.Updated = epoch()
	}
	clean := make([]Entry, len(entries))
	f := &feeds.Feed{
		Title:       ch.Title,
		Link:        &feeds.Link{Href: ch.Link},
		Description: ch.Description,
		Author:      &feeds.Author{Name: ch.Title},
		Updated:     ch.Updated.UTC(),
		Id:          ch.ID,
		Items:       make([]*feeds.Item, 0, len(entries)),
	}
	for i, e := range entries {
		e = cleanEntry(e)
		clean[i] = e
		f.Items = append(f.Items, &feeds.Item{
			Title:       e.Title,
			Link:        &feeds.Link{Href: e.Link},
			Source:      &feeds.Link{Href: e.OriginalLink},
			Author:      &feeds.Author{Name: authorName(e)},
			Description: e.Summary,
			Id:          e.ID,
			IsPermaLink: "false",
			Created:     e.Published.UTC(),
			Updated:     e.Updated.UTC(),
			Content:     e.ContentHTML,
		})
	}
	return f, ch, clean
}

// metaCategories are government document metadata as RSS categories
// ("发文字号: 国发〔2019〕23号"): readers that do not know them ignore them.
func metaCategories(e Entry) []string {
	var out []string
	for _, f := range e.Meta {
		out = append(out, f.Label+": "+f.Value)
	}
	return out
}

func authorName(e Entry) string {
	if e.Author != "" && e.Author != e.SourceName {
		return e.Author + " (" + e.SourceName + ")"
	}
	return e.SourceName
}

func writeXML(w io.Writer, v any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// RSS writes an RSS 2.0 feed.
func RSS(w io.Writer, ch Channel, entries []Entry) error {
	f, ch, entries := gorillaFeed(ch, entries)
	c := (&feeds.Rss{Feed: f}).RssFeed()
	c.Language = ch.Language
	c.Generator = "transfeed"
	c.PubDate = ""
	c.ManagingEditor = "" // gorilla writes " (name)": not an e-mail address
	out := &rssChannel{
		RssFeed:  c,
		AtomLink: &rssAtomLink{Href: ch.SelfURL, Rel: "self", Type: "application/rss+xml"},
		Items:    make([]*rssItem, len(c.Items)),
	}
	for i, it := range c.Items {
		e := entries[i]
		it.Description = html.EscapeString(e.Summary) // plain text; readers treat description as HTML
		it.Author = ""                                // RSS <author> must be an e-mail address: dc:creator carries the name
		it.Source = ""
		if e.Published.IsZero() {
			it.PubDate = "" // date unknown: no pubDate rather than a fetch or update time
		}
		out.Items[i] = &rssItem{RssItem: it, Categories: append(slices.Clone(e.Categories), metaCategories(e)...), Creator: authorName(e)}
		if e.SourceURL != "" {
			out.Items[i].Source = &rssSource{URL: e.SourceURL, Name: e.SourceName}
		}
	}
	c.Items = nil
	root := &rssRoot{Version: "2.0", ContentNS: nsContent, AtomNS: nsAtom, DCNS: nsDC, Channel: out}
	if err := writeXML(w, root); err != nil {
		return fmt.Errorf("syndicate: rss: %w", err)
	}
	return nil
}

// Atom writes an Atom 1.0 feed.
func Atom(w io.Writer, ch Channel, entries []Entry) error {
	f, ch, entries := gorillaFeed(ch, entries)
	a := (&feeds.Atom{Feed: f}).AtomFeed()
	a.Id = ch.ID // gorilla uses the link as id and ignores Feed.Id
	if a.Id == "" {
		a.Id = ch.SelfURL
	}
	a.Updated = ch.Updated.UTC().Format(time.RFC3339)
	a.Link = nil
	out := &atomFeed{
		AtomFeed: a,
		Lang:     ch.Language,
		Links: []feeds.AtomLink{
			{Href: ch.Link, Rel: "alternate", Type: "text/html"},
			{Href: ch.SelfURL, Rel: "self", Type: "application/atom+xml"},
		},
		Entries: make([]*atomEntry, len(a.Entries)),
	}
	for i, ae := range a.Entries {
		e := entries[i]
		ae.Id = e.ID
		ae.Published = e.Published.UTC().Format(time.RFC3339)
		upd := e.Updated
		if upd.IsZero() {
			upd = e.Published
		}
		if upd.IsZero() {
			upd = epoch()
		}
		ae.Updated = upd.UTC().Format(time.RFC3339)
		if e.Published.IsZero() {
			ae.Published = "" // date unknown: atom:published is optional, atom:updated says when it changed
		}
		ae.Links = []feeds.AtomLink{{Href: e.Link, Rel: "alternate", Type: "text/html"}}
		if e.OriginalLink != "" {
			ae.Links = append(ae.Links, feeds.AtomLink{Href: e.OriginalLink, Rel: "related", Type: "text/html"})
		}
		if e.Summary == "" {
			ae.Summary = nil
		} else {
			ae.Summary.Type = "text"
		}
		ae.Category = ""
		cats := make([]atomCategory, 0, len(e.Categories))
		for _, c := range e.Categories {
			cats = append(cats, atomCategory{Term: c})
		}
		out.Entries[i] = &atomEntry{AtomEntry: ae, Categories: cats}
	}
	a.Entries = nil
	if err := writeXML(w, out); err != nil {
		return fmt.Errorf("syndicate: atom: %w", err)
	}
	return nil
}

// JSON writes a JSON Feed 1.1.
func JSON(w io.Writer, ch Channel, entries []Entry) error {
	f, ch, entries := gorillaFeed(ch, entries)
	jf := (&feeds.JSON{Feed: f}).JSONFeed()
	jf.Language = ch.Language
	jf.FeedUrl = ch.SelfURL
	jf.HomePageUrl = ch.Link
	out := &jsonFeed{JSONFeed: jf, Items: make([]*feeds.JSONItem, len(jf.Items))}
	for i, it := range jf.Items {
		e := entries[i]
		it.ExternalUrl = e.OriginalLink
		it.Image = e.ImageURL
		it.Tags = e.Categories
		it.Author = nil // deprecated in 1.1; authors is enough
		out.Items[i] = it
	}
	jf.Items = nil
	jf.Author = nil
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("syndicate: json: %w", err)
	}
	return nil
}

func cleanChannel(c Channel) Channel {
	c.Title = CleanText(c.Title)
	c.Description = CleanText(c.Description)
	c.Link = CleanText(c.Link)
	c.SelfURL = CleanText(c.SelfURL)
	c.Language = CleanText(c.Language)
	c.ID = CleanText(c.ID)
	return c
}

func cleanEntry(e Entry) Entry {
	e.ID = CleanText(e.ID)
	e.Link = CleanText(e.Link)
	e.OriginalLink = CleanText(e.OriginalLink)
	e.Title = CleanText(e.Title)
	e.OriginalTitle = CleanText(e.OriginalTitle)
	e.Summary = CleanText(e.Summary)
	e.ContentHTML = CleanText(e.ContentHTML)
	e.SourceName = CleanText(e.SourceName)
	e.SourceURL = CleanText(e.SourceURL)
	e.Author = CleanText(e.Author)
	e.ImageURL = CleanText(e.ImageURL)
	e.Notice = CleanText(e.Notice)
	if len(e.Categories) > 0 {
		cs := make([]string, 0, len(e.Categories))
		for _, c := range e.Categories {
			if c = CleanText(c); c != "" {
				cs = append(cs, c)
			}
		}
		e.Categories = cs
	}
	return e
}

// CleanText removes what XML 1.0 cannot carry (control characters other
// than tab, newline and carriage return; U+FFFE, U+FFFF; invalid UTF-8) and
// the C1 controls that XML discourages.
func CleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !xmlChar(r) }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, ""))
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0x7F && r <= 0x9F:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return r <= 0x10FFFF
}
