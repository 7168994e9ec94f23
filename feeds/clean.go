package feeds

import (
	"html/template"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/transfeed/transfeed/model"
)

// What the de-cluttering pass does with each element.
type elemKind int

const (
	kindInline    elemKind = iota // kept inside the current paragraph (a, b, img, …)
	kindDrop                      // removed with its content (script, iframe, svg, …)
	kindContainer                 // paragraph boundary, content flattened (div, section, p, …)
	kindUnwrap                    // replaced by its content (span, font, unknown tags)
	kindBlock                     // kept as a block (table, ul, h2, …), inner soup cleaned
	kindBreak                     // br
	kindPart                      // li, td, tr, …: kept inside kept blocks
)

func classify(tag string) elemKind {
	switch tag {
	case "a", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "sub", "sup", "code",
		"img", "mark", "abbr", "q", "cite", "small", "big", "time", "kbd", "var", "tt", "bdi", "bdo":
		return kindInline
	case "script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet",
		"svg", "math", "form", "input", "button", "select", "textarea", "option", "template",
		"head", "title", "meta", "link", "base", "canvas", "audio", "video", "source", "track",
		"map", "area", "dialog", "mp-style-type", "mpprofile", "mp-common-profile", "mpvoice",
		"qqmusic", "mp-miniprogram", "xml", "mpvideo", "mp-common-mpaudio", "mp-common-videosnap":
		return kindDrop
	case "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "center",
		"body", "html", "details", "summary", "address", "fieldset", "legend", "caption":
		return kindContainer
	case "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre",
		"figure", "hr":
		return kindBlock
	case "br":
		return kindBreak
	case "li", "td", "th", "tr", "tbody", "thead", "tfoot", "dt", "dd", "figcaption", "col", "colgroup":
		return kindPart
	}
	return kindUnwrap
}

var markupRe = regexp.MustCompile(`<[A-Za-z/!?]|&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);`)

type cleaned struct {
	html  string // sanitised
	text  string // plain text, whitespace collapsed
	image string // first absolute image URL
	media string // model.MediaVideo or model.MediaAudio when a player was dropped
}

// clean turns a post body into sanitised, de-cluttered HTML.
func (n *Normalizer) clean(body string, base *url.URL, title string) cleaned {
	// Markup makes raw HTML longer than what is kept, but never more than
	// a few times for a real post: more is not even parsed.
	body = stripControl(headBytes(body, n.limits.BodyBytes*rawBodyFactor))
	if strings.TrimSpace(body) == "" {
		return cleaned{}
	}
	if !markupRe.MatchString(body) {
		return n.cleanPlain(body)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(body), ctx)
	if err != nil {
		return n.cleanPlain(plainText(body))
	}
	root := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	for _, c := range nodes {
		root.AppendChild(c)
	}
	f := flattener{base: base}
	f.walk(root)

	type block struct {
		n       *html.Node
		text    string
		img     string
		hasImg  bool
		heading bool
	}
	var blocks []block
	for _, b := range f.out {
		if b.DataAtom == atom.P {
			trimBreaks(b)
		}
		t := collapse(nodeText(b))
		hasImg, firstImg := findImage(b)
		if t == "" && !hasImg && b.DataAtom != atom.Hr {
			continue
		}
		if b.DataAtom == atom.P && isTrailer(t) {
			continue
		}
		blocks = append(blocks, block{n: b, text: t, img: firstImg, hasImg: hasImg, heading: isHeading(b.DataAtom)})
	}
	// A byline line before the article ("TNW中文站2016年10月14日07:17") and
	// page chrome after it ("[责任编辑：…]", "转播到腾讯微博") are not the article.
	edgeJunk := func(b block, junk func(string) bool) bool {
		if b.hasImg {
			return b.text == "" && onlyIcons(b.n) // a share or comment icon
		}
		return junk(b.text)
	}
	for len(blocks) > 0 && edgeJunk(blocks[0], func(t string) bool { return isLeadJunk(t) || title != "" && t == title }) {
		blocks = blocks[1:] // the headline repeated over the body is the post title, not the body
	}
	for len(blocks) > 0 && edgeJunk(blocks[len(blocks)-1], isTailJunk) {
		blocks = blocks[:len(blocks)-1]
	}
	// Headings inside the body rank below the post's title (h1).
	demote := false
	for _, b := range blocks {
		if b.n.DataAtom == atom.H1 {
			demote = true
		}
	}

	for _, b := range blocks {
		if demote && b.heading {
			demoteHeading(b.n)
		}
	}
	var out, text, rendered strings.Builder
	image := ""
	budget := n.limits.BodyBytes - len(TruncatedNotice)
	// The common case, a body within limits.body_bytes: the blocks are
	// rendered into one string and sanitised in one pass. Each block is a
	// whole element, so that gives what sanitising each on its own does
	// (TestCleanOnePassIsPerBlock), for one tokenizer instead of one per block.
	out.Grow(min(len(body), 2*n.limits.BodyBytes))
	for _, b := range blocks {
		_ = html.Render(&out, b.n)
	}
	// Entities such as &#x1b; decode to control characters: strip again.
	if h := stripControl(n.policy.Sanitize(out.String())); len(h) <= budget && !n.perBlock {
		for _, b := range blocks {
			if image == "" && b.img != "" {
				image = b.img
			}
			if text.Len() > 0 && b.text != "" {
				text.WriteByte(' ')
			}
			text.WriteString(b.text)
		}
		return cleaned{html: h, text: stripControl(text.String()), image: image, media: f.media}
	}
	out.Reset()
	out.Grow(min(len(body), n.limits.BodyBytes))
	for _, b := range blocks {
		// Too long: each block is sanitised on its own, so the body can be
		// cut between blocks at limits.body_bytes of the final HTML.
		rendered.Reset()
		_ = html.Render(&rendered, b.n)
		// Entities such as &#x1b; decode to control characters: strip again.
		h := stripControl(n.policy.Sanitize(rendered.String()))
		if out.Len()+len(h) > budget {
			if out.Len() == 0 && b.text != "" {
				// One block larger than the whole allowance: keep the head of
				// its text (escaping at most sextuples a byte: &#34;).
				t := strings.TrimSpace(headBytes(b.text, budget/6-8))
				var p strings.Builder
				p.WriteString("<p>")
				template.HTMLEscape(&p, []byte(t))
				p.WriteString("</p>")
				out.WriteString(p.String())
				text.WriteString(t)
			}
			out.WriteString(TruncatedNotice)
			break
		}
		out.WriteString(h)
		if image == "" && b.img != "" {
			image = b.img
		}
		if text.Len() > 0 && b.text != "" {
			text.WriteByte(' ')
		}
		text.WriteString(b.text)
	}
	return cleaned{html: out.String(), text: stripControl(text.String()), image: image, media: f.media}
}

// onlyIcons reports whether every image in n declares a size of at most
// 64×64 pixels (share buttons, comment icons).
func onlyIcons(n *html.Node) bool {
	found, small := false, true
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img {
			found = true
			w, errW := strconv.Atoi(strings.TrimSuffix(attr(n, "width"), "px"))
			h, errH := strconv.Atoi(strings.TrimSuffix(attr(n, "height"), "px"))
			if errW != nil || errH != nil || w > 64 || h > 64 {
				small = false
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return found && small
}

func isHeading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// demoteHeading turns h1 into h2, h2 into h3, … (h6 stays).
func demoteHeading(n *html.Node) {
	next := map[atom.Atom]atom.Atom{atom.H1: atom.H2, atom.H2: atom.H3, atom.H3: atom.H4, atom.H4: atom.H5, atom.H5: atom.H6}
	if a, ok := next[n.DataAtom]; ok {
		n.DataAtom, n.Data = a, a.String()
	}
}

var (
	leadDateRe = regexp.MustCompile(`^\S{0,20}\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?\s*\S{0,20}$`)
	tailJunkRe = regexp.MustCompile(`^(?:[\[【(（]\s*)?(?:责任编辑|责编|编辑|校对|审核|值班编辑)\s*[:：︱|]|^转播到腾讯微博$|^精彩视频推荐$|相关度高吗[？?]?$|未经授权[，,]\s*不得转载|^分享到[:：]?$|^(?:上一篇|下一篇)[:：]`)
)

// widgetWords are the labels of page widgets (galleries, likes, sharing,
// printing) that article extractors pick up at a body's edges.
var widgetWords = map[string]bool{
	"图集": true, "+1": true, "点赞": true, "分享": true, "分享到": true, "分享到：": true, "收藏": true,
	"打印": true, "打印本页": true, "关闭窗口": true, "【打印本页】【关闭窗口】": true, "【纠错】": true,
	"扫一扫在手机打开当前页": true, "转播到腾讯微博": true, "精彩视频推荐": true, "返回顶部": true,
}

var (
	countRe   = regexp.MustCompile(`^\d{1,6}$`)
	tagLineRe = regexp.MustCompile(`^[^。，！？；\s|]{1,12}(?:\|[^。，！？；\s|]{1,12}){2,}$`)
)

func isLeadJunk(t string) bool {
	if countRe.MatchString(t) {
		return true // a comment or view counter
	}
	if (strings.HasPrefix(t, "点击进入") || strings.HasPrefix(t, "点击查看") || strings.HasPrefix(t, "点击阅读")) && utf8.RuneCountInString(t) <= 30 {
		return true // a promotion link above the article
	}
	if utf8.RuneCountInString(t) <= 100 && bylineStartRe.MatchString(t) && len(bylineLabelRe.FindAllString(t, 3)) >= 2 {
		return true // "来源：本站原创 作者：… 时间：2019年10月31日 23:00 浏览：33"
	}
	return widgetWords[t] || utf8.RuneCountInString(t) <= 50 && leadDateRe.MatchString(t)
}

// A byline is a short line of labelled facts about the post: where it is
// from, who wrote it, when, how often it was read.
var (
	bylineLabels  = `(?:来源|信息来源|文章来源|作者|时间|发布时间|发布日期|日期|浏览|浏览次数|阅读|阅读次数|点击|点击数|编辑|责任编辑|发布者|字号)\s*[:：]`
	bylineLabelRe = regexp.MustCompile(bylineLabels)
	bylineStartRe = regexp.MustCompile(`^[\[【(（]?\s*` + bylineLabels)
)

// tailJunkWords are the words one of which every match of tailJunkRe
// holds: a paragraph with none of them is not asked the expression (its
// unanchored alternatives scan the whole paragraph, slowly).
var tailJunkWords = []string{"编", "校对", "审核", "转播到腾讯微博", "精彩视频推荐", "相关度高吗", "未经授权", "分享到", "上一篇", "下一篇"}

func isTailJunk(t string) bool {
	if tagLineRe.MatchString(t) || countRe.MatchString(t) {
		return true // "20190926|国贸|增长率|全球经济": the tag list
	}
	return widgetWords[t] || utf8.RuneCountInString(t) <= 80 &&
		slices.ContainsFunc(tailJunkWords, func(w string) bool { return strings.Contains(t, w) }) && tailJunkRe.MatchString(t)
}

// mediaLine is the paragraph that stands for a video or audio player the
// reader cannot play here: "Video in the original", linking the post.
func (f *flattener) mediaLine(label string) {
	switch {
	case strings.HasPrefix(label, "Video"):
		f.media = model.MediaVideo
	case f.media == "":
		f.media = model.MediaAudio
	}
	f.cur = nil
	p := &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P}
	a := &html.Node{Type: html.ElementNode, Data: "a", DataAtom: atom.A}
	if f.base != nil {
		a.Attr = []html.Attribute{{Key: "href", Val: f.base.String()}}
	}
	a.AppendChild(&html.Node{Type: html.TextNode, Data: label})
	p.AppendChild(a)
	f.out = append(f.out, p)
}

// mediaKind tells whether a dropped element is a video or audio player.
func mediaKind(n *html.Node) string {
	switch n.Data {
	case "video", "mpvideo", "mp-common-videosnap":
		return "Video in the original"
	case "audio", "mpvoice", "qqmusic", "mp-common-mpaudio":
		return "Audio in the original"
	case "iframe", "embed", "object":
		src := strings.ToLower(attr(n, "src") + " " + attr(n, "data-src") + " " + attr(n, "class") + " " + attr(n, "data"))
		for _, v := range []string{"v.qq.com", "video_iframe", "youku.com", "bilibili.com", "youtube.com", "ixigua.com", "iqiyi.com", "/video", "player"} {
			if strings.Contains(src, v) {
				return "Video in the original"
			}
		}
		for _, v := range []string{"music", "audio", "voice", "ximalaya"} {
			if strings.Contains(src, v) {
				return "Audio in the original"
			}
		}
	}
	return ""
}

// cleanPlain turns plain text into paragraphs (one per non-blank line).
func (n *Normalizer) cleanPlain(s string) cleaned {
	var out, p strings.Builder
	var parts []string
	budget := n.limits.BodyBytes - len(TruncatedNotice)
	for line := range strings.SplitSeq(s, "\n") {
		line = collapse(line)
		if line == "" {
			continue
		}
		p.Reset()
		p.WriteString("<p>")
		template.HTMLEscape(&p, []byte(line))
		p.WriteString("</p>")
		if out.Len()+p.Len() > budget {
			out.WriteString(TruncatedNotice)
			break
		}
		parts = append(parts, line)
		out.WriteString(p.String())
	}
	return cleaned{html: n.policy.Sanitize(out.String()), text: strings.Join(parts, " ")}
}

// isTrailer recognises RSSHub's appended "📍发表于…" and "阅读原文" paragraphs.
func isTrailer(t string) bool {
	if strings.HasPrefix(t, "📍发表于") || strings.HasPrefix(t, "📍 发表于") || strings.HasPrefix(t, "发表于：") {
		return true
	}
	return strings.Contains(t, "阅读原文") && utf8.RuneCountInString(t) <= 12
}

type flattener struct {
	base  *url.URL
	out   []*html.Node
	cur   *html.Node // paragraph being filled
	media string     // model.MediaVideo, else model.MediaAudio, when a player was dropped
}

func (f *flattener) para() *html.Node {
	if f.cur == nil {
		f.cur = &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P}
		f.out = append(f.out, f.cur)
	}
	return f.cur
}

func (f *flattener) walk(parent *html.Node) {
	for c := parent.FirstChild; c != nil; {
		next := c.NextSibling
		f.visit(c)
		c = next
	}
}

func (f *flattener) visit(c *html.Node) {
	switch c.Type {
	case html.TextNode:
		if isBlank(c.Data) {
			if f.cur != nil && f.cur.LastChild != nil {
				f.cur.AppendChild(&html.Node{Type: html.TextNode, Data: " "})
			}
			return
		}
		c.Data = joinLineBreaks(c.Data)
		c.Parent.RemoveChild(c)
		f.para().AppendChild(c)
	case html.ElementNode:
		switch classify(c.Data) {
		case kindDrop:
			if label := mediaKind(c); label != "" {
				f.mediaLine(label)
			}
		case kindBreak:
			f.lineBreak()
		case kindContainer, kindPart:
			f.cur = nil
			f.walk(c)
			f.cur = nil
		case kindUnwrap:
			f.walk(c)
		case kindBlock:
			f.cur = nil
			c.Parent.RemoveChild(c)
			f.tidy(c, false)
			f.out = append(f.out, c)
		case kindInline:
			c.Parent.RemoveChild(c)
			if c.DataAtom == atom.Img {
				if !f.fixImage(c) {
					return
				}
			} else {
				f.tidy(c, true)
			}
			f.para().AppendChild(c)
		}
	}
}

// lineBreak keeps a single <br>; a second one in a row ends the paragraph.
func (f *flattener) lineBreak() {
	if f.cur == nil {
		return
	}
	last := f.cur.LastChild
	for last != nil && last.Type == html.TextNode && isBlank(last.Data) {
		last = last.PrevSibling
	}
	if last == nil {
		return
	}
	if last.Type == html.ElementNode && last.DataAtom == atom.Br {
		for c := last; c != nil; {
			next := c.NextSibling
			f.cur.RemoveChild(c)
			c = next
		}
		f.cur = nil
		return
	}
	f.cur.AppendChild(&html.Node{Type: html.ElementNode, Data: "br", DataAtom: atom.Br})
}

// tidy cleans a kept subtree: drops dangerous or useless elements, unwraps
// span/font/section soup (and, inside inline elements, p and div), fixes
// lazy images and makes URLs absolute.
func (f *flattener) tidy(n *html.Node, inline bool) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case html.ElementNode:
			k := classify(c.Data)
			switch {
			case k == kindDrop:
				n.RemoveChild(c)
			case c.DataAtom == atom.Img:
				if !f.fixImage(c) {
					n.RemoveChild(c)
				}
			case k == kindUnwrap || c.DataAtom == atom.Section || c.DataAtom == atom.Article || c.DataAtom == atom.Center ||
				(inline && k == kindContainer):
				f.tidy(c, inline)
				for gc := c.FirstChild; gc != nil; {
					gnext := gc.NextSibling
					c.RemoveChild(gc)
					n.InsertBefore(gc, c)
					gc = gnext
				}
				n.RemoveChild(c)
			default:
				f.tidy(c, inline)
			}
		case html.CommentNode:
			n.RemoveChild(c)
		}
		c = next
	}
	if n.DataAtom == atom.A {
		setAttr(n, "href", resolveURL(f.base, attr(n, "href")))
	}
}

// fixImage copies a lazy-loading source into src and makes it absolute.
// It reports false when the image has no usable source.
func (f *flattener) fixImage(img *html.Node) bool {
	src := strings.TrimSpace(attr(img, "src"))
	for _, k := range []string{"data-src", "data-original", "data-actualsrc", "data-lazy-src", "data-url", "data-echo", "_src"} {
		if v := strings.TrimSpace(attr(img, k)); v != "" && !strings.HasPrefix(v, "data:") {
			src = v
			break
		}
	}
	if src == "" || strings.HasPrefix(src, "data:") {
		return false
	}
	setAttr(img, "src", resolveURL(f.base, src))
	return true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	if val != "" {
		n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
	}
}

func isBlank(s string) bool {
	for _, r := range s {
		if !isSpaceLike(r) {
			return false
		}
	}
	return true
}

// trimBreaks removes leading and trailing <br> and blank text from a paragraph.
func trimBreaks(p *html.Node) {
	for c := p.LastChild; c != nil && (c.DataAtom == atom.Br || c.Type == html.TextNode && isBlank(c.Data)); c = p.LastChild {
		p.RemoveChild(c)
	}
	for c := p.FirstChild; c != nil && (c.DataAtom == atom.Br || c.Type == html.TextNode && isBlank(c.Data)); c = p.FirstChild {
		p.RemoveChild(c)
	}
}

// nodeText is the text of a subtree, with spaces at element boundaries
// that separate words (cells, items, breaks).
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
		case html.ElementNode:
			if classify(n.Data) == kindDrop {
				return
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			switch n.DataAtom {
			case atom.Br, atom.Td, atom.Th, atom.Li, atom.P, atom.Div, atom.Tr, atom.Dd, atom.Dt,
				atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				b.WriteRune(blockSep)
			}
		}
	}
	walk(n)
	return b.String()
}

// findImage reports whether the subtree has an image, and the first
// absolute http(s) image URL.
func findImage(n *html.Node) (bool, string) {
	if n.Type == html.ElementNode && n.DataAtom == atom.Img {
		src := attr(n, "src")
		if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
			return true, src
		}
		return true, ""
	}
	found := false
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		ok, src := findImage(c)
		if src != "" {
			return true, src
		}
		found = found || ok
	}
	return found, ""
}
