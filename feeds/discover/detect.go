// Package discover reads a web page the way an admin would when adding a
// source: it finds the feeds the page announces, or the list of posts on it
// by its shape (a repeated block holding one link to an article on the same
// site, a short title and usually a date), and turns what it found into CSS
// selectors that the `type: html` source reads. It also recognises the
// Guangdong disclosure catalogue (gkmlpt) and the "next page" link of paged
// lists.
//
// Detection works on a parsed document only; fetching is the caller's job.
package discover

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/transfeed/transfeed/config"
)

// Post is one post of a detected list, as the page shows it.
type Post struct {
	Title string
	Link  string // absolute
	Date  string // as written on the page ("" when the page shows none)
}

// List is a detected list of posts.
type List struct {
	// Selectors are ready for a `type: html` source's html: block.
	Selectors config.HTMLList
	// Posts are the items the selectors read from the page, in page order.
	Posts []Post
	// Score ranks candidates; higher is more list-like.
	Score float64
	// Shape is a short fingerprint of the selectors: when a page's shape
	// changes, so does the fingerprint.
	Shape string
}

// Candidate is a repeated block the detector considered, for reporting
// what it saw when nothing qualified.
type Candidate struct {
	Selector string
	Items    int
	Dated    int
	Score    float64
	Why      string // why it lost or was refused ("" for the winner)
}

// DetectOptions tune list detection. The zero value is the default.
type DetectOptions struct {
	// MinItems is the fewest posts a list may have (default 3).
	MinItems int
}

// Detection is what DetectList found on a page.
type Detection struct {
	List       *List       // nil when nothing list-like was found
	Candidates []Candidate // best first, at most 8
	Anchors    int         // links looked at
}

const (
	maxAncestorDepth = 7
	maxCandidates    = 8
	maxMaterialise   = 6
	// maxRowText is the most text (bytes) a post's row holds.
	maxRowText = 4000
)

var (
	// dateRe finds a date as Chinese sites write them: 2023-05-25,
	// 2023/5/25, 2023.05.25, 2023年5月25日, [2018-1-24].
	// Taiwanese sites write years of the Minguo calendar (115.03.19).
	dateRe = regexp.MustCompile(`(?:(?:19|20)\d{2}|\b1[01]\d)\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?`)
	// shortDateRe is a month-day date (05-25, 5月25日) used by some lists.
	shortDateRe = regexp.MustCompile(`(?:^|[^\d])(\d{1,2})[-/月](\d{1,2})日?(?:\s+\d{1,2}:\d{2})?\s*$`)
	digitsRe    = regexp.MustCompile(`\d{4,}`)
	// articleExtRe is how article URLs end on the CMSs we meet.
	articleExtRe = regexp.MustCompile(`(?i)\.(s?html?|jhtml|jsp|aspx?|php|pdf|docx?|xlsx?|wps)$`)
	// boilerplateRe names containers that hold navigation, not posts.
	boilerplateRe = regexp.MustCompile(`(?i)(^|[-_ ])(nav|navs|navbar|menu|menus|footer|foot|header|head|top|topbar|bottom|breadcrumb|crumbs?|copyright|friend|yqlj|links?|sitemap|share|toolbar|login|search|tabs?|banner|slide|swiper|dh|daohang)([-_ ]|\d|$)`)
	// unstableClassRe marks classes that differ between siblings of one list.
	unstableClassRe = regexp.MustCompile(`(?i)^(on|active|cur|current|selected|hot|new|first|last|odd|even|top|clearfix|clear|cl|fl|fr|left|right|hide|show|z|y)$`)
	navWords        = []string{"首页", "更多", "返回", "上一页", "下一页", "尾页", "末页", "登录", "注册", "English", "RSS", "网站地图", "联系我们", ">>", "more"}
)

// DetectList finds the most list-like repeated block of doc. base is the
// page's URL (links are resolved against it, or against <base href>).
func DetectList(doc *goquery.Document, base *url.URL, opts DetectOptions) Detection {
	if opts.MinItems <= 0 {
		opts.MinItems = 3
	}
	if b, ok := doc.Find("base[href]").First().Attr("href"); ok && base != nil {
		if u, err := base.Parse(strings.TrimSpace(b)); err == nil {
			base = u
		}
	}
	d := &detector{base: base, site: registrable(base),
		postLikeMemo: map[*html.Node]bool{}, infoMemo: map[*html.Node]itemInfo{}}
	d.collect(doc)
	det := Detection{Anchors: len(d.anchors)}
	groups := d.group()
	type scored struct {
		g *group
		c Candidate
	}
	all := make([]scored, 0, len(groups))
	for _, g := range groups {
		all = append(all, scored{g, d.score(g, opts)})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].c.Score > all[j].c.Score })
	var lists []*List
	tried := 0
	for i := range all {
		c := &all[i].c
		if c.Why == "" && tried < maxMaterialise && len(lists) == 0 {
			tried++
			l, why := d.materialise(doc, all[i].g, opts)
			if l == nil {
				c.Why = why
			} else {
				l.Score = c.Score
				lists = append(lists, l)
				c.Selector = l.Selectors.Item
				c.Items = len(l.Posts)
			}
		} else if c.Why == "" && len(lists) == 0 {
			c.Why = "not tried (lower score)"
		}
		det.Candidates = append(det.Candidates, *c)
	}
	sort.SliceStable(det.Candidates, func(i, j int) bool { return det.Candidates[i].Score > det.Candidates[j].Score })
	if len(det.Candidates) > maxCandidates {
		det.Candidates = det.Candidates[:maxCandidates]
	}
	if len(lists) > 0 {
		sort.SliceStable(lists, func(i, j int) bool { return lists[i].Score > lists[j].Score })
		det.List = lists[0]
		for i := range det.Candidates {
			if det.Candidates[i].Why == "" && det.Candidates[i].Selector != det.List.Selectors.Item {
				det.Candidates[i].Why = fmt.Sprintf("lower score than %s", det.List.Selectors.Item)
			}
		}
	}
	return det
}

// anchor is one link of the page that could be a post's.
type anchor struct {
	node     *html.Node
	href     string // absolute
	title    string
	sameSite bool
}

type detector struct {
	base    *url.URL
	site    string
	anchors []*anchor
	byNode  map[*html.Node]*anchor
	// postLikeMemo remembers postLike per row (itemSelector asks again at
	// every level it climbs).
	postLikeMemo map[*html.Node]bool
	infoMemo     map[*html.Node]itemInfo
	byTag        map[string][]*html.Node // elements by tag name, in document order
}

// matchAll is the elements of the page matching a selector whose last step
// is tag: cheaper than walking the whole tree for every try.
func (d *detector) matchAll(tag string, m cascadia.Matcher) []*html.Node {
	var out []*html.Node
	for _, n := range d.byTag[tag] {
		if m.Match(n) {
			out = append(out, n)
		}
	}
	return out
}

func (d *detector) collect(doc *goquery.Document) {
	d.byNode = map[*html.Node]*anchor{}
	d.byTag = map[string][]*html.Node{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			d.byTag[n.Data] = append(d.byTag[n.Data], n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range doc.Nodes {
		walk(n)
	}
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		if insideTag(n, atom.Head) {
			return
		}
		href, ok := d.resolve(attr(n, "href"))
		if !ok {
			return
		}
		t := anchorTitle(n)
		if utf8.RuneCountInString(t) < 4 || isNavWord(t) {
			return
		}
		u, _ := url.Parse(href)
		a := &anchor{node: n, href: href, title: t, sameSite: u != nil && registrable(u) == d.site}
		d.anchors = append(d.anchors, a)
		d.byNode[n] = a
	})
}

func (d *detector) resolve(h string) (string, bool) {
	h = strings.TrimSpace(h)
	l := strings.ToLower(h)
	if h == "" || strings.HasPrefix(h, "#") || strings.HasPrefix(l, "javascript:") || strings.HasPrefix(l, "mailto:") || strings.HasPrefix(l, "tel:") {
		return "", false
	}
	if d.base == nil {
		return h, true
	}
	u, err := d.base.Parse(h)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	u.Fragment = ""
	return u.String(), true
}

// group is the children of one parent that share a tag and hold the page's
// candidate links: one candidate list.
type group struct {
	parent *html.Node
	tag    atom.Atom
	items  []*html.Node
	links  map[*html.Node][]*anchor
}

func (d *detector) group() []*group {
	type key struct {
		p   *html.Node
		tag atom.Atom
	}
	byKey := map[key]*group{}
	var order []*group
	for _, a := range d.anchors {
		n := a.node
		for depth := 0; depth < maxAncestorDepth && n.Parent != nil && n.Parent.Type == html.ElementNode; depth++ {
			p := n.Parent
			if p.DataAtom == atom.Body || p.DataAtom == atom.Html {
				break
			}
			k := key{p, n.DataAtom}
			g := byKey[k]
			if g == nil {
				g = &group{parent: p, tag: n.DataAtom, links: map[*html.Node][]*anchor{}}
				byKey[k] = g
				order = append(order, g)
			}
			if _, seen := g.links[n]; !seen {
				g.items = append(g.items, n)
			}
			g.links[n] = append(g.links[n], a)
			n = p
		}
	}
	out := order[:0]
	for _, g := range order {
		if len(g.items) >= 2 {
			out = append(out, g)
		}
	}
	return out
}

// itemInfo is what one item of a group looks like.
type itemInfo struct {
	main     *anchor
	date     string
	dateNode *html.Node
	links    int
}

func (d *detector) inspect(g *group, item *html.Node) itemInfo {
	if info, ok := d.infoMemo[item]; ok {
		return info
	}
	links := g.links[item]
	main := links[0]
	for _, a := range links[1:] {
		if utf8.RuneCountInString(a.title) > utf8.RuneCountInString(main.title) {
			main = a
		}
	}
	info := itemInfo{main: main, links: len(links)}
	info.date, info.dateNode = findDate(item, main.node)
	d.infoMemo[item] = info
	return info
}

func (d *detector) score(g *group, opts DetectOptions) Candidate {
	c := Candidate{Selector: describe(g.parent) + " > " + g.tag.String(), Items: len(g.items)}
	if len(g.items) < opts.MinItems {
		c.Why = fmt.Sprintf("only %d items", len(g.items))
		return c
	}
	var total, titleRunes float64
	links := map[string]bool{}
	dupes := 0
	for _, it := range g.items {
		info := d.inspect(g, it)
		s := 0.0
		tl := utf8.RuneCountInString(info.main.title)
		titleRunes += float64(tl)
		switch {
		case tl >= 8 && tl <= 80:
			s += 1
		case tl > 80:
			s += 0.6
		case tl >= 6:
			s += 0.6
		default:
			s += 0.2
		}
		if info.date != "" {
			s += 1
			c.Dated++
		}
		s += linkScore(info.main, d.base)
		if info.links > 3 {
			s *= 3 / float64(info.links)
		}
		if links[info.main.href] {
			dupes++
		}
		links[info.main.href] = true
		total += s
	}
	n := float64(len(g.items))
	avg := total / n
	avgTitle := titleRunes / n
	c.Score = avg * (1 + 0.6*log2(n))
	if avgTitle < 6 {
		c.Score *= 0.4
	}
	if dupes*3 > len(g.items) {
		c.Score *= 0.5
	}
	if inBoilerplate(g.parent) {
		c.Score *= 0.35
	}
	if avg < 1.2 {
		c.Why = "items do not look like posts (short titles, no dates, links to sections)"
	}
	return c
}

func linkScore(a *anchor, base *url.URL) float64 {
	if !a.sameSite {
		return -0.5
	}
	u, err := url.Parse(a.href)
	if err != nil {
		return 0
	}
	p := u.Path
	if base != nil && strings.TrimSuffix(u.Host+p, "/") == strings.TrimSuffix(base.Host+base.Path, "/") {
		return -0.5
	}
	s := 0.0
	if digitsRe.MatchString(p + "?" + u.RawQuery) {
		s += 0.5
	}
	if articleExtRe.MatchString(p) && !strings.HasSuffix(strings.ToLower(path.Base(p)), "index.html") {
		s += 0.3
	}
	if strings.HasSuffix(p, "/") || p == "" {
		s -= 0.3
	}
	return s
}

// materialise turns a group into selectors, applies them to the page and
// checks that they read the group's posts.
func (d *detector) materialise(doc *goquery.Document, g *group, opts DetectOptions) (*List, string) {
	infos := make([]itemInfo, len(g.items))
	for i, it := range g.items {
		infos[i] = d.inspect(g, it)
	}
	titleRel := majority(g.items, func(i int) string { return relPath(g.items[i], titleNode(infos[i].main.node)) })
	linkRel := majority(g.items, func(i int) string { return relPath(g.items[i], infos[i].main.node) })
	dateRel := majority(g.items, func(i int) string {
		n := infos[i].dateNode
		if n == nil || n == g.items[i] {
			return ""
		}
		return relPath(g.items[i], n)
	})
	itemSel, err := d.itemSelector(doc, g)
	if err != nil {
		return nil, err.Error()
	}
	sel := config.HTMLList{Item: itemSel, Title: titleRel, Link: linkRel + "@href", Date: dateRel}
	if sel.Title == "" {
		sel.Title = linkRel
	}
	if sel.Title == "a" {
		sel.Title = ""
	}
	if linkRel == "a" {
		sel.Link = ""
	}
	posts, junk := Apply(doc, d.base, sel)
	if junk > 0 && !strings.Contains(sel.Item, ":has(") {
		// Rows of the same shape without a post (pagers, separators):
		// keep only the rows that hold the title element.
		has := titleRel
		if has == "" {
			has = linkRel
		}
		sel.Item += ":has(" + has + ")"
		posts, _ = Apply(doc, d.base, sel)
	}
	if len(posts) < opts.MinItems {
		return nil, fmt.Sprintf("selectors read only %d posts", len(posts))
	}
	good := 0
	for _, p := range posts {
		if p.Link != "" && utf8.RuneCountInString(p.Title) >= 4 {
			good++
		}
	}
	if good*10 < len(posts)*8 {
		return nil, fmt.Sprintf("selectors read %d items, only %d with a title and a link", len(posts), good)
	}
	return &List{Selectors: sel, Posts: posts, Shape: Shape(sel)}, ""
}

// Shape is the fingerprint of a list's selectors (stable across polls of
// an unchanged page).
func Shape(h config.HTMLList) string {
	return strings.Join([]string{h.Item, h.Title, h.Link, h.Date}, " | ")
}

// itemSelector builds a selector that matches the group's items (and
// perhaps more rows of the same shape elsewhere on the page).
func (d *detector) itemSelector(doc *goquery.Document, g *group) (string, error) {
	child := segment(g.items)
	want := map[*html.Node]bool{}
	for _, it := range g.items {
		want[it] = true
	}
	ctx := []string{}
	p := g.parent
	dated := 0
	for _, it := range g.items {
		if d.inspect(g, it).date != "" {
			dated++
		}
	}
	dated = dated * 10 / len(g.items) // ≥ 8: the block's rows carry dates
	for level := 0; level < 6 && p != nil && p.Type == html.ElementNode; level++ {
		ctx = append([]string{segment([]*html.Node{p})}, ctx...)
		s := strings.Join(ctx, " > ") + " > " + child
		m, err := cascadia.Compile(s)
		if err != nil {
			return "", fmt.Errorf("selector %q: %w", s, err)
		}
		hits, extras := 0, 0
		for _, n := range d.matchAll(g.items[0].Data, m) {
			if want[n] {
				hits++
			} else if d.hasLink(n) && !d.postLike(n, dated) {
				extras++
			}
		}
		if hits == len(g.items) && extras == 0 {
			// Exact, or more rows of the same kind that are posts too.
			return s, nil
		}
		if strings.HasPrefix(ctx[0], "#") || p.DataAtom == atom.Body {
			break
		}
		p = p.Parent
	}
	// A positional path: the shortest tail of the path from the body that
	// matches the block exactly.
	var steps []string
	for n := g.parent; n != nil && n.Type == html.ElementNode && n.DataAtom != atom.Body && n.DataAtom != atom.Html; n = n.Parent {
		st := segment([]*html.Node{n})
		if !strings.HasPrefix(st, "#") {
			if k, total := nthOfType(n); total > 1 {
				st += fmt.Sprintf(":nth-of-type(%d)", k)
			}
		}
		steps = append([]string{st}, steps...)
	}
	for i := len(steps) - 1; i >= 0; i-- {
		s := strings.Join(append(slices.Clone(steps[i:]), child), " > ")
		m, err := cascadia.Compile(s)
		if err != nil {
			return "", fmt.Errorf("selector %q: %w", s, err)
		}
		hits, extras := 0, 0
		for _, n := range d.matchAll(g.items[0].Data, m) {
			if want[n] {
				hits++
			} else if d.hasLink(n) {
				extras++
			}
		}
		if hits == len(g.items) && extras == 0 {
			return s, nil
		}
	}
	return "", fmt.Errorf("no selector matches the block's items alone")
}

// hasLink reports whether n holds a link the detector looked at.
func (d *detector) hasLink(n *html.Node) bool {
	if d.byNode[n] != nil {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if d.hasLink(c) {
			return true
		}
	}
	return false
}

// postLike reports whether a row outside the detected block is a post too
// (a second list of the same shape on the page).
func (d *detector) postLike(n *html.Node, dated int) bool {
	if v, ok := d.postLikeMemo[n]; ok {
		return v
	}
	v := d.postLikeUncached(n, dated)
	d.postLikeMemo[n] = v
	return v
}

func (d *detector) postLikeUncached(n *html.Node, dated int) bool {
	var main *anchor
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if a := d.byNode[c]; a != nil && (main == nil || len(a.title) > len(main.title)) {
			main = a
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	if main == nil || utf8.RuneCountInString(main.title) < 6 || !main.sameSite {
		return false
	}
	if dated >= 8 {
		date, _ := findDate(n, main.node)
		return date != ""
	}
	return true
}

// segment is a selector step matching every node of ns: the tag, the
// classes they share, or the id of a single node.
func segment(ns []*html.Node) string {
	tag := ns[0].Data
	if len(ns) == 1 {
		if id := attr(ns[0], "id"); id != "" && stableName(id) && cssIdent(id) {
			return "#" + id
		}
	}
	var common []string
	for i, n := range ns {
		cls := classes(n)
		if i == 0 {
			common = cls
			continue
		}
		common = slices.DeleteFunc(common, func(c string) bool { return !slices.Contains(cls, c) })
	}
	s := tag
	for _, c := range common {
		if !unstableClassRe.MatchString(c) && cssIdent(c) {
			s += "." + c
		}
	}
	return s
}

// relPath is a selector for target as seen from item: tag(.class) steps
// joined by ">", with :nth-of-type where a step is ambiguous.
func relPath(item, target *html.Node) string {
	if target == nil || target == item {
		return ""
	}
	var steps []string
	for n := target; n != nil && n != item; n = n.Parent {
		st := n.Data
		for _, c := range classes(n) {
			if !unstableClassRe.MatchString(c) && cssIdent(c) {
				st += "." + c
				break
			}
		}
		if k, total := nthOfType(n); total > 1 && !strings.Contains(st, ".") {
			st += fmt.Sprintf(":nth-of-type(%d)", k)
		}
		steps = append([]string{st}, steps...)
		if n.Parent == nil {
			return ""
		}
	}
	// The first step alone is enough when it is unique in the item.
	if len(steps) > 1 {
		if m, err := cascadia.Compile(steps[len(steps)-1]); err == nil {
			if all := cascadia.QueryAll(item, m); len(all) == 1 && all[0] == target {
				return steps[len(steps)-1]
			}
		}
	}
	return strings.Join(steps, " > ")
}

func nthOfType(n *html.Node) (k, total int) {
	if n.Parent == nil {
		return 1, 1
	}
	for c := n.Parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == n.Data {
			total++
			if c == n {
				k = total
			}
		}
	}
	return k, total
}

// majority is the most frequent value of f over the items ("" loses ties).
func majority(items []*html.Node, f func(int) string) string {
	count := map[string]int{}
	best, bestN := "", 0
	for i := range items {
		v := f(i)
		count[v]++
		if count[v] > bestN || (count[v] == bestN && best == "" && v != "") {
			best, bestN = v, count[v]
		}
	}
	return best
}

// titleNode is the element holding an anchor's title: the anchor, or the
// child of it that holds the text when the anchor also holds the date.
func titleNode(a *html.Node) *html.Node {
	if !hasDate(text(a)) {
		return a
	}
	var best *html.Node
	bestLen := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			t := text(c)
			if !hasDate(t) {
				if l := utf8.RuneCountInString(t); l > bestLen {
					best, bestLen = c, l
				}
				continue
			}
			walk(c)
		}
	}
	walk(a)
	if best == nil {
		return a
	}
	return best
}

// findDate is the date written in item (outside the title when it can be)
// and the smallest element holding it.
func findDate(item, main *html.Node) (string, *html.Node) {
	if len(text(item)) > maxRowText {
		return "", nil // a section of the page, not a post's row
	}
	var found *html.Node
	var date string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && found == nil; c = c.NextSibling {
			if c.Type != html.ElementNode || c.DataAtom == atom.Script || c.DataAtom == atom.Style {
				continue
			}
			t := text(c)
			m := findDateIn(t)
			if m == "" {
				continue
			}
			// Descend to the smallest element that still holds the date.
			before := found
			walk(c)
			if found == before && utf8.RuneCountInString(t) <= utf8.RuneCountInString(m)+10 {
				found, date = c, strings.TrimSpace(m)
			}
		}
	}
	walk(item)
	if found != nil {
		return date, found
	}
	// A date in the item's own text (no element of its own), or a
	// month-day date.
	t := text(item)
	if m := findDateIn(t); m != "" {
		return strings.TrimSpace(m), item
	}
	if n := findShortDate(item, main); n != nil {
		return collapse(text(n)), n
	}
	return "", nil
}

// findShortDate is the first element outside the title whose whole text is
// a month-day date (7/12, 05-25, 5月25日 08:30).
func findShortDate(n, main *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || c == main || c.DataAtom == atom.Script {
			continue
		}
		t := collapse(text(c))
		if t == "" || utf8.RuneCountInString(t) > 30 {
			continue
		}
		if shortDateOnlyRe.MatchString(t) && !contains(c, main) {
			return c
		}
		if !contains(c, main) || c.FirstChild != nil {
			if d := findShortDate(c, main); d != nil {
				return d
			}
		}
	}
	return nil
}

var shortDateOnlyRe = regexp.MustCompile(`^\[?\(?(\d{1,2})[-/月](\d{1,2})日?(?:\s+\d{1,2}:\d{2})?\)?\]?$`)

// hasDate and findDateIn look for a full date; a text with fewer than five
// digits cannot hold one, which spares the regexp most of the page.
func hasDate(s string) bool { return enoughDigits(s) && dateRe.MatchString(s) }

func findDateIn(s string) string {
	if !enoughDigits(s) {
		return ""
	}
	return dateRe.FindString(s)
}

func enoughDigits(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if n++; n >= 5 {
				return true
			}
		}
	}
	return false
}

// Apply reads posts from doc with the selectors (the same reading as a
// `type: html` source). junk counts rows that matched the item selector
// but held neither a title nor a link.
func Apply(doc *goquery.Document, base *url.URL, h config.HTMLList) (posts []Post, junk int) {
	item, err := cascadia.Compile(h.Item)
	if err != nil {
		return nil, 0
	}
	title := compileRel(h.Title, "a")
	var link cascadia.Matcher // nil: the item itself ("@href")
	if h.Link != "@href" {
		link = compileRel(strings.TrimSuffix(h.Link, "@href"), "a")
	}
	var date cascadia.Matcher
	if h.Date != "" {
		date = compileRel(h.Date, "")
	}
	for _, n := range cascadia.QueryAll(doc.Nodes[0], item) {
		var p Post
		if t := first(n, title); t != nil {
			p.Title = collapse(text(t))
			if full := strings.TrimSpace(attr(t, "title")); full != "" && (p.Title == "" || strings.HasSuffix(p.Title, "..") || strings.HasSuffix(p.Title, "…")) {
				p.Title = collapse(full)
			}
		}
		if l := first(n, link); l != nil {
			if u, ok := (&detector{base: base}).resolve(attr(l, "href")); ok {
				p.Link = u
			}
		}
		if date != nil {
			if dn := first(n, date); dn != nil {
				p.Date = collapse(text(dn))
			}
		}
		if p.Link == "" || utf8.RuneCountInString(p.Title) < 2 || isNavWord(p.Title) {
			junk++
			if p.Link == "" && p.Title == "" {
				continue
			}
		}
		posts = append(posts, p)
	}
	return posts, junk
}

func compileRel(spec, def string) cascadia.Matcher {
	if spec == "" {
		spec = def
	}
	if spec == "" {
		return nil
	}
	m, err := cascadia.Compile(spec)
	if err != nil {
		return nil
	}
	return m
}

func first(n *html.Node, m cascadia.Matcher) *html.Node {
	if m == nil {
		return n
	}
	return cascadia.Query(n, m)
}

// --- small DOM helpers ---

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func classes(n *html.Node) []string {
	return strings.Fields(attr(n, "class"))
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
		case html.ElementNode:
			if n.DataAtom == atom.Script || n.DataAtom == atom.Style {
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func collapse(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u00a0' || r == '\u3000' }), " ")
}

func anchorTitle(a *html.Node) string {
	t := collapse(text(titleNode(a)))
	if full := collapse(attr(a, "title")); full != "" && (utf8.RuneCountInString(full) > utf8.RuneCountInString(t)) && (t == "" || strings.HasSuffix(t, "..") || strings.HasSuffix(t, "…") || strings.HasPrefix(full, strings.TrimRight(t, ".…"))) {
		return full
	}
	return t
}

func isNavWord(t string) bool {
	t = strings.TrimSpace(t)
	for _, w := range navWords {
		if strings.EqualFold(t, w) {
			return true
		}
	}
	return false
}

func insideTag(n *html.Node, a atom.Atom) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == a {
			return true
		}
	}
	return false
}

func contains(outer, n *html.Node) bool {
	for p := n; p != nil; p = p.Parent {
		if p == outer {
			return true
		}
	}
	return false
}

// inBoilerplate reports whether n sits in navigation, header or footer.
func inBoilerplate(n *html.Node) bool {
	for p := n; p != nil && p.Type == html.ElementNode; p = p.Parent {
		switch p.DataAtom {
		case atom.Nav, atom.Header, atom.Footer:
			return true
		case atom.Body:
			return false
		}
		if boilerplateRe.MatchString(attr(p, "id")) {
			return true
		}
		for _, c := range classes(p) {
			if boilerplateRe.MatchString(c) {
				return true
			}
		}
	}
	return false
}

func describe(n *html.Node) string {
	return segment([]*html.Node{n})
}

var identRe = regexp.MustCompile(`^-?[A-Za-z_][-A-Za-z0-9_]*$`)

func cssIdent(s string) bool { return identRe.MatchString(s) }

// stableName reports whether an id or class looks written by a person, not
// generated per page (long digit runs change from one build to the next).
func stableName(s string) bool { return !longDigitsRe.MatchString(s) }

var longDigitsRe = regexp.MustCompile(`\d{5,}`)

// registrable is the site part of a host: the last two labels, or three
// under a Chinese second-level domain (hd.gov.cn, sina.com.cn).
func registrable(u *url.URL) string {
	if u == nil {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	labels := strings.Split(h, ".")
	if len(labels) <= 2 {
		return h
	}
	n := 2
	if l := labels[len(labels)-2]; len(labels[len(labels)-1]) == 2 && (l == "gov" || l == "com" || l == "edu" || l == "org" || l == "net" || l == "ac") {
		n = 3
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

func log2(x float64) float64 {
	r := 0.0
	for x >= 2 {
		x /= 2
		r++
	}
	return r + (x - 1)
}
