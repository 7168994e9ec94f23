package feeds

// Article pages: one extraction stage with an order of evidence per field.
// The first rule that yields a value wins, and Article records which rule
// it was (preview -json shows it).
//
//	date:   feed → list → page meta (PubDate, publishdate, pubdate,
//	        article:published_time, firstpublishedtime, …) → script
//	        variables (__$pubtime='…', publish_time, pubtime; WeChat var ct
//	        = unix time) → WeChat #publish_time/#post-date → the metadata
//	        table's 发布日期 → visible text (发布时间：2019年10月31日 23:00,
//	        来源：… 2023-05-25, full-width digits; 成文日期 is skipped) → a
//	        date element (<time datetime>, class publish…) → a date
//	        attribute (data-ptime, data-pubtime, …) → URL
//	        (t20230525_, /202305/25/, /2016/11/22/) → unknown. A reading
//	        without a time of day is refined by a later rule that gives the
//	        same day with a time. Unknown is stored as unknown
//	        (model.Item.DateUnknown), never as the fetch time.
//	title:  feed (a list title cut with "..."/"…" is replaced) → meta
//	        ArticleTitle → WeChat #activity-name → og:title (unless it is
//	        just the <title>) → the headline the <title> starts or ends
//	        with → the heading above the date line → the metadata table's
//	        标题 → <title> without the site name (…_财经_腾讯网,
//	        …--文化--人民网) → the body's first sentence with an ellipsis.
//	author: feed → WeChat account (var nickname, #js_name, #post-user) →
//	        meta author (not a number, not the site's own name) →
//	        ContentSource / source meta →
//	        发布机构/发文机关 → visible 来源：… (unless it is only 本站原创,
//	        转载, …) → visible 作者：….
//	body:   full_text.selector → readability (when the selector matches
//	        nothing and readability is on, or when no selector is set;
//	        WeChat: #js_content) → the feed's own content.
//	meta:   government document metadata (索引号, 发布机构, 发文字号, 成文日期,
//	        发布日期, 主题分类, …) read from label/value tables on the page.

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/transfeed/transfeed/config"
	"golang.org/x/net/html"
	"golang.org/x/text/width"
)

// Article is what one article page says about itself. Each *Rule field
// names the rule of evidence that gave the value ("" when none did).
type Article struct {
	URL string

	Title     string
	TitleRule string

	// Published is the page's date (zero when the page gives none);
	// PublishedHasTime reports whether the evidence had a time of day.
	Published        time.Time
	PublishedHasTime bool
	DateRule         string

	Author     string
	AuthorRule string

	HTML     string // the body, not yet cleaned
	BodyRule string

	// Meta is the government document metadata the page lists, keyed by
	// the page's own labels with spaces removed ("索引号", "发文字号").
	Meta map[string]string
}

// ErrNoArticle is returned when neither the selector nor readability found
// an article body.
var ErrNoArticle = errors.New("no article text found")

// ExtractArticle reads one article page (UTF-8 bytes). pageURL is its final
// URL; ft the source's full_text settings (nil: readability); loc the zone
// for dates without one.
func ExtractArticle(body []byte, pageURL string, ft *config.FullText, loc *time.Location) (Article, error) {
	if loc == nil {
		loc = time.UTC
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return Article{}, fmt.Errorf("feeds: article %s: %w", RedactURL(pageURL), err)
	}
	a := Article{URL: pageURL}
	wechat := isWeChat(pageURL, doc)

	a.Meta = pageMeta(doc)
	a.Title, a.TitleRule = pageTitle(doc, wechat, a.Meta)
	a.Published, a.PublishedHasTime, a.DateRule = pageDate(doc, pageURL, loc, a.Meta)
	a.Author, a.AuthorRule = pageAuthor(doc, body, wechat, a.Meta)

	// The body. Readability mutates the tree, so it runs last.
	if wechat {
		if s := doc.Find("#js_content").First(); s.Length() > 0 {
			h, err := s.Html()
			if err == nil && strings.TrimSpace(h) != "" {
				a.HTML, a.BodyRule = h, "wechat #js_content"
				return a, nil
			}
		}
	}
	useReadability := ft == nil || ft.Readability || strings.TrimSpace(ft.Selector) == ""
	if ft != nil && strings.TrimSpace(ft.Selector) != "" {
		sel, err := cascadia.Compile(ft.Selector)
		if err != nil {
			return Article{}, fmt.Errorf("feeds: full_text.selector: invalid CSS selector %q: %w", ft.Selector, err)
		}
		if s := doc.FindMatcher(sel).First(); s.Length() > 0 {
			h, err := s.Html()
			if err != nil {
				return Article{}, fmt.Errorf("feeds: article %s: %w", RedactURL(pageURL), err)
			}
			a.HTML, a.BodyRule = h, "selector "+ft.Selector
			return a, nil
		}
		if !useReadability {
			return a, fmt.Errorf("feeds: full_text.selector %q matched nothing on %s (page layout changed?): %w",
				ft.Selector, RedactURL(pageURL), ErrNoArticle)
		}
	}
	u, _ := url.Parse(pageURL)
	p := readability.NewParser()
	art, err := p.ParseAndMutate(doc.Nodes[0], u)
	if err != nil {
		return a, fmt.Errorf("feeds: readability on %s: %w", RedactURL(pageURL), err)
	}
	if art.Node == nil {
		return a, fmt.Errorf("feeds: readability on %s: %w", RedactURL(pageURL), ErrNoArticle)
	}
	var b strings.Builder
	if err := html.Render(&b, art.Node); err != nil {
		return a, fmt.Errorf("feeds: article %s: %w", RedactURL(pageURL), err)
	}
	a.HTML, a.BodyRule = b.String(), "readability"
	if ft != nil && strings.TrimSpace(ft.Selector) != "" {
		a.BodyRule = "readability (selector " + ft.Selector + " matched nothing)"
	}
	if a.Title == "" {
		if t := collapse(art.Title()); t != "" {
			a.Title, a.TitleRule = t, "readability title"
		}
	}
	if a.Published.IsZero() {
		if t, err := art.PublishedTime(); err == nil && !t.IsZero() {
			a.Published, a.PublishedHasTime, a.DateRule = t.UTC(), true, "readability date"
		}
	}
	// Readability's byline guess is not used: on Chinese pages it picks
	// column names and counters ("股市行情 总篇数919篇").
	return a, nil
}

func isWeChat(pageURL string, doc *goquery.Document) bool {
	if u, err := url.Parse(pageURL); err == nil && strings.EqualFold(u.Hostname(), "mp.weixin.qq.com") {
		return true
	}
	return doc.Find("#js_content").Length() > 0 && doc.Find("#js_name, #activity-name, .rich_media_title").Length() > 0
}

// metaValues maps lower-cased meta name/property → first non-empty content.
func metaValues(doc *goquery.Document) map[string]string {
	m := map[string]string{}
	doc.Find("meta[content]").Each(func(_ int, s *goquery.Selection) {
		c, _ := s.Attr("content")
		c = strings.TrimSpace(c)
		if c == "" {
			return
		}
		for _, k := range []string{"name", "property", "itemprop"} {
			if n, ok := s.Attr(k); ok {
				n = strings.ToLower(strings.TrimSpace(n))
				if _, seen := m[n]; !seen && n != "" {
					m[n] = c
				}
			}
		}
	})
	return m
}

// ---- title ----

var titleSepRe = regexp.MustCompile(`\s*(?:_|--|——|—|\s-\s|\||｜|::|－)\s*`)

func pageTitle(doc *goquery.Document, wechat bool, gov map[string]string) (string, string) {
	meta := metaValues(doc)
	docTitle := collapse(doc.Find("head title").First().Text())
	if docTitle == "" {
		docTitle = collapse(doc.Find("title").First().Text())
	}
	if t := collapse(meta["articletitle"]); t != "" {
		return t, "meta ArticleTitle"
	}
	if wechat {
		for _, sel := range []string{"#activity-name", ".rich_media_title"} {
			if t := collapse(doc.Find(sel).First().Text()); t != "" {
				return t, "wechat " + sel
			}
		}
	}
	og := collapse(meta["og:title"])
	if og != "" && og != docTitle {
		return og, "meta og:title"
	}
	// The headline the <title> starts with (the rest is the site name).
	best := ""
	doc.Find(`h1, h2, h3, [class*="title"], [class*="Title"], [id*="title"], [id*="Title"]`).EachWithBreak(func(i int, s *goquery.Selection) bool {
		if goquery.NodeName(s) == "title" || goquery.NodeName(s) == "meta" {
			return true
		}
		t := collapse(s.Text())
		if utf8.RuneCountInString(t) >= 4 && (strings.HasPrefix(docTitle, t) || strings.HasSuffix(docTitle, t)) && len(t) > len(best) {
			best = t
		}
		return i < 120
	})
	if best != "" {
		return best, "headline element"
	}
	if t := headlineBeforeByline(doc); t != "" {
		return t, "headline above the date line"
	}
	for _, k := range []string{"标题", "名称"} {
		if t := gov[k]; t != "" {
			return t, "metadata " + k
		}
	}
	if t := stripSiteSuffix(docTitle); t != "" {
		return t, "<title> without site name"
	}
	if og != "" {
		return stripSiteSuffix(og), "meta og:title"
	}
	return "", ""
}

// headlineBeforeByline finds the date/source line ("发布时间：2019-05-18
// 来源：…") and returns the heading just above it: pages whose <title> is
// only the column and site name still set the headline over the byline.
func headlineBeforeByline(doc *goquery.Document) string {
	// The innermost (shortest) element holding the date line.
	var line *goquery.Selection
	shortest := 121
	doc.Find("body div, body p, body span, body td, body li").Each(func(_ int, s *goquery.Selection) {
		t := collapse(s.Text())
		n := utf8.RuneCountInString(t)
		if n == 0 || n >= shortest {
			return
		}
		if labelDateRe.MatchString(width.Narrow.String(t)) || strings.Contains(t, "来源") && anyDateRe.MatchString(width.Narrow.String(t)) {
			line, shortest = s, n
		}
	})
	if line == nil {
		return ""
	}
	for s, depth := line, 0; s.Length() > 0 && depth < 3; s, depth = s.Parent(), depth+1 {
		prev := s.PrevAllFiltered("*")
		for i := 0; i < prev.Length() && i < 3; i++ {
			p := prev.Eq(i)
			name := goquery.NodeName(p)
			class, _ := p.Attr("class")
			heading := len(name) == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6' || strings.Contains(strings.ToLower(class), "title")
			t := collapse(p.Text())
			if n := utf8.RuneCountInString(t); heading && n >= 4 && n <= 100 {
				return t
			}
			if t != "" {
				break
			}
		}
	}
	return ""
}

// stripSiteSuffix removes trailing "_频道_网站", "--频道--网站", " - 网站",
// " | 网站" segments: short segments after the last separators.
func stripSiteSuffix(t string) string {
	t = strings.TrimSpace(t)
	for range 4 {
		locs := titleSepRe.FindAllStringIndex(t, -1)
		if len(locs) == 0 {
			break
		}
		last := locs[len(locs)-1]
		head, tail := strings.TrimSpace(t[:last[0]]), strings.TrimSpace(t[last[1]:])
		if utf8.RuneCountInString(head) < 2 {
			break
		}
		if utf8.RuneCountInString(tail) > 16 {
			break
		}
		t = head
	}
	return t
}

// ---- date ----

type dateEvidence struct {
	t       time.Time
	hasTime bool
	rule    string
}

var (
	scriptDateRes = []struct {
		re   *regexp.Regexp
		rule string
	}{
		{regexp.MustCompile(`__\$pubtime\s*=\s*["']([^"']{6,40})["']`), "script __$pubtime"},
		{regexp.MustCompile(`\b(?:publish_time|publishTime|pubtime|pubTime|pub_time|pubDate|publishDate)\s*[:=]\s*["']([^"']{6,40})["']`), "script publish time"},
	}
	wechatCtRe = regexp.MustCompile(`\bvar\s+ct\s*=\s*["']?(\d{9,11})["']?`)
	// Labelled dates in the visible text.
	labelDateRe = regexp.MustCompile(`(?:发布时间|发布日期|发稿时间|发表时间|发文日期|更新时间|时间|日期|发表于|Published)\s*[:：]?\s*(` + dateTextPattern + `)`)
	anyDateRe   = regexp.MustCompile(dateTextPattern)
	urlDateRes  = []*regexp.Regexp{
		regexp.MustCompile(`/t(20\d{2})(\d{2})(\d{2})_\d+`),
		regexp.MustCompile(`/(20\d{2})-?(\d{2})/(\d{2})/`),
		regexp.MustCompile(`/(20\d{2})/(\d{1,2})/(\d{1,2})/`),
		regexp.MustCompile(`/(20\d{2})(\d{2})(\d{2})/`),
	}
)

const dateTextPattern = `\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*[T\s]?\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?)?`

var metaDateKeys = []string{"pubdate", "publishdate", "publish_date", "article:published_time", "og:release_date",
	"firstpublishedtime", "datepublished", "dc.date.issued", "dc.date", "date"}

func hasTimeOfDay(s string) bool {
	return strings.ContainsAny(s, ":：时T") || len(s) > 16 && strings.Contains(s, " ")
}

func pageDate(doc *goquery.Document, pageURL string, loc *time.Location, gov map[string]string) (time.Time, bool, string) {
	var ev []dateEvidence
	add := func(raw, rule string) {
		raw = width.Narrow.String(raw)
		if t, ok := ParseDate(raw, loc, time.Time{}); ok {
			ev = append(ev, dateEvidence{t: t, hasTime: hasTimeOfDay(cleanDateText(raw)), rule: rule})
		}
	}
	meta := metaValues(doc)
	for _, k := range metaDateKeys {
		if v := meta[k]; v != "" {
			add(v, "meta "+k)
			break
		}
	}
	scripts := scriptText(doc)
	for _, s := range scriptDateRes {
		if m := s.re.FindStringSubmatch(scripts); m != nil {
			add(m[1], s.rule)
			break
		}
	}
	if m := wechatCtRe.FindStringSubmatch(scripts); m != nil {
		// A Unix time, read only within the years a date can have (cnDate's
		// 1970–2200): "var ct=7289700000" is no date.
		if sec, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			if t := time.Unix(sec, 0).UTC(); t.Year() >= 1970 && t.Year() <= 2200 {
				ev = append(ev, dateEvidence{t: t, hasTime: true, rule: "script var ct"})
			}
		}
	}
	// WeChat shows the day in #publish_time (older pages: #post-date).
	for _, sel := range []string{"#publish_time", "#post-date"} {
		if v := collapse(doc.Find(sel).First().Text()); v != "" {
			add(v, "wechat "+sel)
			break
		}
	}
	for _, k := range []string{"发布日期", "发文日期"} {
		if v := gov[k]; v != "" {
			add(v, "metadata "+k)
			break
		}
	}
	text := width.Narrow.String(visibleText(doc))
	if m := labelledDate(text); m != "" {
		add(m, "text label")
	} else if i := strings.Index(text, "来源"); i >= 0 {
		// "来源：… 2023-05-25" or "2017-03-10 09:58 来源：…": the date nearest
		// after the source label, else the nearest before it.
		if m := anyDateRe.FindString(text[i:min(len(text), i+120)]); m != "" {
			add(m, "text near 来源")
		} else if ms := anyDateRe.FindAllString(text[max(0, i-80):i], -1); len(ms) > 0 {
			add(ms[len(ms)-1], "text near 来源")
		}
	}
	// A date element: <time datetime>, or an element classed as the
	// publication time (PIXNET's <li class="publish">Dec 28 Sat 2013 00:28</li>).
	if v, ok := doc.Find("time[datetime]").First().Attr("datetime"); ok && strings.TrimSpace(v) != "" {
		add(v, "time element")
	} else {
		doc.Find(`[class*="publish"], [class*="pubtime"], [class*="pub-time"], [class*="post-date"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
			if goquery.NodeName(s) == "script" {
				return true
			}
			n := len(ev)
			add(collapse(s.Text()), "date element")
			return len(ev) == n
		})
	}
	// A date attribute on the article's container (网易: <div id="contain"
	// data-ptime="2019-05-17 20:02:46">).
	for _, a := range dateAttrs {
		if v, ok := doc.Find("[" + a + "]").First().Attr(a); ok && strings.TrimSpace(v) != "" {
			add(v, "date attribute "+a)
			break
		}
	}
	if t, ok := dateFromURL(pageURL, loc); ok {
		ev = append(ev, dateEvidence{t: t, rule: "url"})
	}
	if len(ev) == 0 {
		return time.Time{}, false, ""
	}
	first := ev[0]
	if !first.hasTime {
		day := first.t.In(loc).Format(time.DateOnly)
		for _, e := range ev[1:] {
			if e.hasTime && e.t.In(loc).Format(time.DateOnly) == day {
				return e.t, true, first.rule + " + time from " + e.rule
			}
		}
	}
	return first.t, first.hasTime, first.rule
}

// dateAttrs are attributes that carry the publication time of the element
// they sit on.
var dateAttrs = []string{"data-ptime", "data-pubtime", "data-publish-time", "data-publishtime", "data-pubdate", "data-published"}

// notPublication are the prefixes that make a "日期" label some other date
// than the publication (成文日期 is when the document was written).
var notPublication = []string{"成文", "生效", "实施", "废止", "印发", "有效", "截止", "出生", "开始", "结束", "报名", "考试"}

// labelledDate returns the first date in text after a publication label
// ("发布时间：", "日期：", …), skipping "成文日期：" and its kin.
func labelledDate(text string) string {
	for _, m := range labelDateRe.FindAllStringSubmatchIndex(text, -1) {
		before := text[max(0, m[0]-12):m[0]]
		skip := false
		for _, p := range notPublication {
			if strings.HasSuffix(before, p) {
				skip = true
				break
			}
		}
		if !skip {
			return text[m[2]:m[3]]
		}
	}
	return ""
}

// dateFromURL reads a date from an article link (TRS t20230525_, /202305/25/,
// /2023-05/25/, /2016/11/22/, /20230525/), midnight in loc.
func dateFromURL(link string, loc *time.Location) (time.Time, bool) {
	u, err := url.Parse(link)
	if err != nil {
		return time.Time{}, false
	}
	p := u.Path
	for _, re := range urlDateRes {
		m := re.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		if t, ok := cnDate([]string{"", strconv.Itoa(y), strconv.Itoa(mo), strconv.Itoa(d), "", "", ""}, loc); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

func scriptText(doc *goquery.Document) string {
	var b strings.Builder
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		b.WriteString(s.Text())
		b.WriteByte('\n')
	})
	return b.String()
}

// visibleText is the body's text without scripts, styles and comments,
// with a space at element boundaries.
func visibleText(doc *goquery.Document) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "noscript", "template", "head", "select", "option", "textarea":
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			b.WriteByte(' ')
		}
	}
	for _, n := range doc.Find("body").Nodes {
		walk(n)
	}
	return b.String()
}

// ---- author ----

var (
	nicknameRe = regexp.MustCompile(`\bvar\s+nickname\s*=\s*(?:htmlDecode\()?\s*["']([^"']+)["']`)
	sourceRe   = regexp.MustCompile(`(?:来源于|来源|信息来源|文章来源)\s*[:：]\s*([^\s\x{00a0}\x{3000}|｜/，,；;【】\[\]（）()]{2,30})`)
	writerRe   = regexp.MustCompile(`(?:^|[\s\x{00a0}\x{3000}])(?:作者|撰稿|撰文)\s*[:：]\s*([^\s\x{00a0}\x{3000}|｜/，,；;【】\[\]（）()]{2,30})`)
	digitsRe   = regexp.MustCompile(`^[\d\s\-_.]+$`)
)

// cleanSource drops the label and provenance words from a source value
// ("来源：人民网-文化频道 原创稿" → "人民网-文化频道").
func cleanSource(v string) string {
	v = collapse(v)
	for _, p := range []string{"来源于", "信息来源", "文章来源", "来源"} {
		if rest, ok := strings.CutPrefix(v, p); ok {
			v = strings.TrimSpace(strings.TrimLeft(rest, ":："))
			break
		}
	}
	for _, w := range []string{"原创稿", "原创", "转载", "综合"} {
		v = strings.TrimSpace(strings.TrimSuffix(v, " "+w))
	}
	return v
}

func usableAuthor(a string) bool {
	a = strings.TrimSpace(a)
	return a != "" && !digitsRe.MatchString(a) && !strings.Contains(a, "://") && utf8.RuneCountInString(a) <= 60
}

func pageAuthor(doc *goquery.Document, body []byte, wechat bool, gov map[string]string) (string, string) {
	if wechat {
		if m := nicknameRe.FindSubmatch(body); m != nil {
			if n := collapse(html.UnescapeString(string(m[1]))); usableAuthor(n) {
				return n, "wechat var nickname"
			}
		}
		for _, sel := range []string{"#js_name", "#post-user", ".profile_nickname"} {
			if n := collapse(doc.Find(sel).First().Text()); usableAuthor(n) {
				return n, "wechat " + sel
			}
		}
	}
	meta := metaValues(doc)
	sites := siteNames(doc, meta)
	for _, k := range []string{"author", "article:author", "og:article:author", "dc.creator"} {
		if v := collapse(meta[k]); usableAuthor(v) && !isSiteName(v, sites) {
			return v, "meta " + k
		}
	}
	for _, k := range []string{"contentsource", "source"} {
		if v := cleanSource(meta[k]); usableAuthor(v) {
			return v, "meta " + k
		}
	}
	for _, k := range []string{"发布机构", "发文机关", "发文单位", "信息来源"} {
		if v := gov[k]; usableAuthor(v) {
			return v, "metadata " + k
		}
	}
	text := width.Narrow.String(visibleText(doc))
	if m := sourceRe.FindStringSubmatch(text); m != nil {
		if v := strings.TrimRight(m[1], "：:"); usableAuthor(v) && !strings.ContainsFunc(v, unicode.IsDigit) && !provenanceWords[v] {
			return v, "text 来源"
		}
	}
	// "来源：本站原创 作者：医技药剂党支部": the source says only that the
	// site wrote it; the writer is named.
	if m := writerRe.FindStringSubmatch(text); m != nil {
		if v := strings.TrimRight(m[1], "：:"); usableAuthor(v) && !strings.ContainsFunc(v, unicode.IsDigit) && !provenanceWords[v] {
			return v, "text 作者"
		}
	}
	return "", ""
}

// siteNames are the names the page gives its site: og:site_name, the
// SiteName meta and the segments of the <title>'s site suffix
// ("…封闭！_网易订阅" → 网易订阅).
func siteNames(doc *goquery.Document, meta map[string]string) []string {
	var names []string
	for _, k := range []string{"og:site_name", "sitename", "application-name"} {
		if v := collapse(meta[k]); v != "" {
			names = append(names, v)
		}
	}
	t := collapse(doc.Find("title").First().Text())
	if head := stripSiteSuffix(t); len(head) < len(t) {
		for _, seg := range titleSepRe.Split(t[len(head):], -1) {
			if seg = strings.TrimSpace(seg); seg != "" {
				names = append(names, seg)
			}
		}
	}
	return names
}

// isSiteName reports whether a meta author is only the site's name (网易
// on 网易订阅's pages): the platform, not who wrote the post.
func isSiteName(a string, sites []string) bool {
	for _, s := range sites {
		if s == a || utf8.RuneCountInString(a) >= 2 && strings.HasPrefix(s, a) {
			return true
		}
	}
	return false
}

// provenanceWords are 来源 values that say how a post came to the site,
// not who wrote it.
var provenanceWords = map[string]bool{
	"本站原创": true, "本站": true, "本网": true, "本网原创": true, "原创": true, "转载": true, "网络": true, "综合": true,
}

// ---- government document metadata ----

// govLabels are the labels of 信息公开 metadata tables (spaces removed).
var govLabels = map[string]bool{
	"索引号": true, "发布机构": true, "发文机关": true, "发文单位": true, "发文字号": true, "文号": true,
	"成文日期": true, "发布日期": true, "发文日期": true, "印发日期": true, "主题分类": true, "体裁分类": true,
	"组配分类": true, "服务对象分类": true, "主题词": true, "关键词": true, "信息分类": true, "分类": true,
	"公开方式": true, "公开范围": true, "公开时限": true, "有效性": true, "时效": true, "生效日期": true,
	"废止日期": true, "实施日期": true, "信息来源": true, "所属机构": true, "文件编号": true,
	"名称": true, "标题": true, "统一编号": true, "统一登记号": true,
}

func normLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		if isSpaceLike(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(strings.TrimLeft(s, "【[（("), "：:】]）)")
}

// pageMeta reads label/value pairs from the page's metadata tables or
// lists: a cell (td, th, li, dt, span, b, strong, label) whose text is a known
// label is followed by the value's cell, or a cell holds "标签：值".
func pageMeta(doc *goquery.Document) map[string]string {
	out := map[string]string{}
	set := func(label, val string) {
		val = collapse(val)
		if val == "" || out[label] != "" || utf8.RuneCountInString(val) > 200 {
			return
		}
		out[label] = val
	}
	doc.Find("td, th, li, dt, dd, span, b, strong, label, p, div").Each(func(_ int, s *goquery.Selection) {
		if s.Children().Filter("td, th, li, div, p, table").Length() > 0 {
			return
		}
		raw := collapse(s.Text())
		if raw == "" || utf8.RuneCountInString(raw) > 220 {
			return
		}
		// "索 引 号：000014349/2019-00011" in one cell.
		if i := strings.IndexAny(raw, "：:"); i > 0 {
			label := normLabel(raw[:i])
			if govLabels[label] {
				rest := strings.TrimSpace(strings.TrimLeft(raw[i:], "：:"))
				// "索引号：… 发布机构：…" or "发布日期：2016-11-22 浏览次数：
				// 信息来源：省发改委" in one line: each value ends where the
				// next label starts, and the later labels are read too.
				var more string
				if j := nextLabelRe.FindStringIndex(rest); j != nil {
					rest, more = strings.TrimSpace(rest[:j[0]]), rest[j[0]:]
				}
				if rest == "" {
					rest = nextCellText(s)
				}
				set(label, rest)
				for more != "" {
					more = strings.TrimSpace(more)
					k := strings.IndexAny(more, "：:")
					if k <= 0 {
						break
					}
					l, v := normLabel(more[:k]), strings.TrimSpace(strings.TrimLeft(more[k:], "：:"))
					more = ""
					if j := nextLabelRe.FindStringIndex(v); j != nil {
						v, more = strings.TrimSpace(v[:j[0]]), v[j[0]:]
					}
					if govLabels[l] {
						set(l, v)
					}
				}
				return
			}
		}
		if label := normLabel(raw); govLabels[label] {
			set(label, nextCellText(s))
		}
	})
	// One label ("发布日期：…" under a headline) is not a metadata table,
	// nor is a byline of date and source ("发布日期：… 信息来源：…"): a
	// table has two labels besides 标题/名称, one of them a document's own
	// (索引号, 发布机构, 发文字号, 主题分类, …).
	n, own := 0, false
	for k := range out {
		switch k {
		case "标题", "名称":
		case "发布日期", "信息来源":
			n++
		default:
			n++
			own = true
		}
	}
	if n < 2 || !own {
		return nil
	}
	return out
}

// nextLabelRe finds the next "标签：" inside a value (a short run of Han
// characters or letters before a colon, after a space).
var nextLabelRe = regexp.MustCompile(`\s+[\p{Han}A-Za-z]{2,8}[：:]`)

// labelStartRe matches a cell that starts with a label ("信息来源：省发改委").
var labelStartRe = regexp.MustCompile(`^[\p{Han}A-Za-z ]{2,10}[：:]`)

// nextCellText is the text of the element after s (the value cell).
func nextCellText(s *goquery.Selection) string {
	for n := s.Get(0).NextSibling; n != nil; n = n.NextSibling {
		switch n.Type {
		case html.TextNode:
			if t := collapse(n.Data); t != "" {
				return t
			}
		case html.ElementNode:
			sel := goquery.NewDocumentFromNode(n).Selection
			t := collapse(sel.Text())
			if govLabels[normLabel(t)] || labelStartRe.MatchString(t) {
				return "" // the next cell is a label of its own: no value
			}
			return t
		}
	}
	return ""
}
