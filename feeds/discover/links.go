package discover

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
)

// FeedLink is a feed a page announces with <link rel="alternate">.
type FeedLink struct {
	URL   string
	Title string
	Type  string // the announced MIME type
}

var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true,
	"application/rdf+xml":   true,
	"text/xml":              true,
	"application/xml":       true,
}

// FeedLinks are the feeds doc announces, in page order, without duplicates.
func FeedLinks(doc *goquery.Document, base *url.URL) []FeedLink {
	var out []FeedLink
	seen := map[string]bool{}
	doc.Find("link[href]").Each(func(_ int, s *goquery.Selection) {
		rel := strings.ToLower(s.AttrOr("rel", ""))
		if !strings.Contains(" "+rel+" ", " alternate ") {
			return
		}
		typ := strings.ToLower(strings.TrimSpace(strings.Split(s.AttrOr("type", ""), ";")[0]))
		if !feedTypes[typ] {
			return
		}
		href := strings.TrimSpace(s.AttrOr("href", ""))
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || seen[u.String()] {
			return
		}
		seen[u.String()] = true
		out = append(out, FeedLink{URL: u.String(), Title: strings.TrimSpace(s.AttrOr("title", "")), Type: typ})
	})
	return out
}

// CommonFeedURLs are the places sites usually put a feed when the page
// announces none: beside the page (TRS columns publish rss.xml there), then
// at the site root.
func CommonFeedURLs(page *url.URL) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		u, err := page.Parse(ref)
		if err != nil || seen[u.String()] || u.String() == page.String() {
			return
		}
		seen[u.String()] = true
		out = append(out, u.String())
	}
	add("rss.xml")
	for _, p := range []string{"/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml"} {
		add(p)
	}
	return out
}

var (
	nextWords = []string{"下一页", "下页", "下一頁", "下頁", "后页", "後頁", "next", "next page", "next »", "›", "»", ">", "下1頁", "下1页"}
	// TRS WCM: createPageHTML(count, current, "index", "html");
	trsPagerRe = regexp.MustCompile(`createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']`)
	// The "page_div" variant: createPageHTML('page_div', count, current(1-based), 'name', 'ext', total);
	divPagerRe = regexp.MustCompile(`createPageHTML\(\s*["'][\w-]+["']\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']`)
	// var countPage = 25; var currentPage = 0; (index_N.html pagers)
	countPageRe   = regexp.MustCompile(`var\s+countPage\s*=\s*(\d+)`)
	currentPageRe = regexp.MustCompile(`var\s+currentPage\s*=\s*(\d+)`)
)

// NextPage is the URL of the page after this one in a paged list ("" when
// the page shows none, or only a JavaScript pager without a URL).
func NextPage(doc *goquery.Document, body []byte, base *url.URL) string {
	next := ""
	doc.Find("a[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		t := strings.ToLower(strings.Trim(collapse(s.Text()), " ›»>"))
		if t == "" {
			// Icon-only pagers name the link in rel, aria-label, title or class.
			for _, a := range []string{"aria-label", "title"} {
				t = strings.ToLower(strings.Trim(collapse(s.AttrOr(a, "")), " ›»>"))
				if t != "" {
					break
				}
			}
			if t == "" && (strings.Contains(" "+s.AttrOr("rel", "")+" ", " next ") || slices.Contains(strings.Fields(s.AttrOr("class", "")), "next")) {
				t = "next"
			}
		}
		if strings.Contains(s.AttrOr("class", ""), "disabled") {
			return true
		}
		for _, w := range nextWords {
			if t == w {
				href := strings.TrimSpace(s.AttrOr("href", ""))
				l := strings.ToLower(href)
				if href == "" || strings.HasPrefix(l, "javascript:") || strings.HasPrefix(href, "#") {
					return true
				}
				u, err := base.Parse(href)
				if err != nil || u.String() == base.String() {
					return true
				}
				next = u.String()
				return false
			}
		}
		return true
	})
	if next != "" {
		return next
	}
	script := string(body)
	if m := trsPagerRe.FindStringSubmatch(script); m != nil {
		count, _ := strconv.Atoi(m[1])
		cur, _ := strconv.Atoi(m[2])
		if cur+1 < count {
			return resolveSibling(base, fmt.Sprintf("%s_%d.%s", m[3], cur+1, m[4]))
		}
		return ""
	}
	if m := divPagerRe.FindStringSubmatch(script); m != nil {
		count, _ := strconv.Atoi(m[1])
		cur, _ := strconv.Atoi(m[2])
		if cur < count {
			return resolveSibling(base, fmt.Sprintf("%s_%d.%s", m[3], cur+1, m[4]))
		}
		return ""
	}
	if m := countPageRe.FindStringSubmatch(script); m != nil {
		count, _ := strconv.Atoi(m[1])
		cur := 0
		if c := currentPageRe.FindStringSubmatch(script); c != nil {
			cur, _ = strconv.Atoi(c[1])
		}
		if cur+1 < count {
			ext := path.Ext(base.Path)
			if ext == "" {
				ext = ".html"
			}
			return resolveSibling(base, fmt.Sprintf("index_%d%s", cur+1, ext))
		}
	}
	return ""
}

func resolveSibling(base *url.URL, name string) string {
	u, err := base.Parse(name)
	if err != nil {
		return ""
	}
	return u.String()
}
