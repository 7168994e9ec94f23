package translate

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Document is an HTML body split into translatable blocks. Everything that
// is not a block's translatable text (block tags, whitespace, images,
// comments, blocks without Chinese text) is kept as literal markup and is
// written back byte for byte by Assemble.
type Document struct {
	parts  []docPart
	blocks []docBlock
}

// Block is one translatable block of a Document.
type Block struct {
	// Text is the block's text. FormatText: plain text (entities decoded);
	// FormatHTML: the block's inner HTML with inline tags (<a>, <strong>, <img>, …).
	Text   string
	Format Format
}

type docPart struct {
	literal string
	block   int // index into blocks, or -1 for a literal
}

type docBlock struct {
	raw string // the original markup of the block's inner content
	Block
}

// isBlockTag: block tags separate segments: text on either side of one of these tags
// belongs to different blocks. <br> is one too: government and WeChat posts
// use it as a paragraph break far more often than as a line break inside a
// sentence.
func isBlockTag(name string) bool {
	switch name {
	case "address", "article", "aside", "blockquote", "body", "br", "caption", "center",
		"dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption",
		"figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header",
		"hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre",
		"section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
		"option", "select", "optgroup":
		return true
	}
	return false
}

// isRawTag: these elements hold raw text or foreign content (never translated, never segmented).
func isRawTag(name string) bool {
	switch name {
	case "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
		"noscript", "plaintext", "template", "svg", "math":
		return true
	}
	return false
}

// isVoidTag: these elements have no end tag.
func isVoidTag(name string) bool {
	switch name {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
		"source", "track", "wbr":
		return true
	}
	return false
}

type token struct {
	typ  html.TokenType
	raw  string
	name string // lower-case tag name for tag tokens
}

// Segment splits an HTML body into blocks (paragraphs, headings, list
// items, table cells, captions, text separated by <br>). Blocks without Han
// characters are not translatable and stay literal. Re-assembling with the
// original texts gives back the input byte for byte; no normalisation pass
// is applied.
func Segment(s string) (*Document, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("translate: segment: html is not valid UTF-8")
	}
	d := &Document{}
	z := html.NewTokenizer(strings.NewReader(s))
	var run []token
	var consumed int
	rawUntil := "" // inside a raw-text element: its name
	flush := func() {
		d.addRun(run)
		run = run[:0]
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := string(z.Raw())
		consumed += len(raw)
		tok := token{typ: tt, raw: raw}
		if tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken {
			name, _ := z.TagName()
			tok.name = strings.ToLower(string(name))
		}
		switch {
		case rawUntil != "":
			// Raw text and whatever follows up to the element's end tag.
			d.addLiteral(raw)
			if tt == html.EndTagToken && tok.name == rawUntil {
				rawUntil = ""
			}
		case tt == html.TextToken:
			run = append(run, tok)
		case tt == html.StartTagToken && isRawTag(tok.name):
			flush()
			d.addLiteral(raw)
			rawUntil = tok.name
		case (tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken) &&
			!isBlockTag(tok.name) && !isRawTag(tok.name):
			run = append(run, tok)
		default: // block tags, comments, doctype
			flush()
			d.addLiteral(raw)
		}
	}
	flush()
	if consumed != len(s) {
		// The tokenizer does not promise that its raw tokens cover the input
		// (it never failed to in fuzzing); refuse rather than lose markup.
		return nil, fmt.Errorf("translate: segment: tokenizer covered %d of %d bytes", consumed, len(s))
	}
	return d, nil
}

func (d *Document) addLiteral(s string) {
	if s == "" {
		return
	}
	if n := len(d.parts); n > 0 && d.parts[n-1].block < 0 {
		d.parts[n-1].literal += s
		return
	}
	d.parts = append(d.parts, docPart{literal: s, block: -1})
}

// addRun turns a run of text and inline tags into literal edges and, when
// it has Han text, one block.
func (d *Document) addRun(run []token) {
	if len(run) == 0 {
		return
	}
	lo, hi := trimRun(run)
	var pre, mid, post strings.Builder
	for _, t := range run[:lo] {
		pre.WriteString(t.raw)
	}
	for _, t := range run[lo:hi] {
		mid.WriteString(t.raw)
	}
	for _, t := range run[hi:] {
		post.WriteString(t.raw)
	}
	m := mid.String()
	lead, body, trail := splitSpace(m)
	hasTags := false
	for _, t := range run[lo:hi] {
		if t.typ != html.TextToken {
			hasTags = true
			break
		}
	}
	if !containsHan(htmlText(body)) {
		d.addLiteral(pre.String() + m + post.String())
		return
	}
	d.addLiteral(pre.String() + lead)
	b := docBlock{raw: body}
	if hasTags {
		b.Text, b.Format = body, FormatHTML
	} else {
		b.Text, b.Format = html.UnescapeString(body), FormatText
	}
	d.blocks = append(d.blocks, b)
	d.parts = append(d.parts, docPart{block: len(d.blocks) - 1})
	d.addLiteral(trail + post.String())
}

// trimRun moves markup at the edges of a run out of the block: whitespace
// text, void elements, stray end/start tags and an element that wraps the
// whole rest of the run (<span>…</span>).
func trimRun(run []token) (lo, hi int) {
	lo, hi = 0, len(run)
	for lo < hi {
		first, last := run[lo], run[hi-1]
		switch {
		case first.typ == html.TextToken && isBlankRaw(first.raw):
			lo++
		case last.typ == html.TextToken && isBlankRaw(last.raw):
			hi--
		case first.typ == html.SelfClosingTagToken || first.typ == html.EndTagToken ||
			(first.typ == html.StartTagToken && isVoidTag(first.name)):
			lo++
		case last.typ == html.SelfClosingTagToken || last.typ == html.StartTagToken:
			hi--
		case first.typ == html.StartTagToken && matchingEnd(run, lo, hi) < 0:
			lo++ // never closed in the run: it wraps the rest
		case last.typ == html.EndTagToken && matchingStart(run, lo, hi) < 0:
			hi-- // closes something opened before the run
		case first.typ == html.StartTagToken && last.typ == html.EndTagToken &&
			first.name == last.name && matchingEnd(run, lo, hi) == hi-1:
			lo++
			hi--
		default:
			return lo, hi
		}
	}
	return lo, hi
}

// matchingEnd returns the index of the end tag closing the start tag at lo,
// or -1.
func matchingEnd(run []token, lo, hi int) int {
	name := run[lo].name
	depth := 0
	for i := lo; i < hi; i++ {
		t := run[i]
		if t.name != name {
			continue
		}
		switch t.typ {
		case html.StartTagToken:
			depth++
		case html.EndTagToken:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// matchingStart returns the index of the start tag that the end tag at
// hi-1 closes, or -1.
func matchingStart(run []token, lo, hi int) int {
	name := run[hi-1].name
	depth := 0
	for i := hi - 1; i >= lo; i-- {
		t := run[i]
		if t.name != name {
			continue
		}
		switch t.typ {
		case html.EndTagToken:
			depth++
		case html.StartTagToken:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// spaceEntities are entities that render as white space; indentation in
// Chinese posts is often written with them.
func spaceEntities() []string {
	return []string{"&nbsp;", "&#160;", "&#xa0;", "&#xA0;", "&ensp;", "&emsp;", "&#12288;", "&#x3000;", "&thinsp;"}
}

func isBlankRaw(s string) bool {
	l, b, _ := splitSpace(s)
	return b == "" && l == s
}

// splitSpace splits raw HTML text into leading white space, body and
// trailing white space (white-space characters and white-space entities).
func splitSpace(s string) (lead, body, trail string) {
	i := 0
	for i < len(s) {
		if n := spacePrefix(s[i:]); n > 0 {
			i += n
			continue
		}
		break
	}
	j := len(s)
	for j > i {
		if n := spaceSuffix(s[i:j]); n > 0 {
			j -= n
			continue
		}
		break
	}
	return s[:i], s[i:j], s[j:]
}

func spacePrefix(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	if unicode.IsSpace(r) {
		return n
	}
	if r == '&' {
		for _, e := range spaceEntities() {
			if strings.HasPrefix(s, e) {
				return len(e)
			}
		}
	}
	return 0
}

func spaceSuffix(s string) int {
	r, n := utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(r) {
		return n
	}
	if r == ';' {
		for _, e := range spaceEntities() {
			if strings.HasSuffix(s, e) {
				return len(e)
			}
		}
	}
	return 0
}

// Texts returns the translatable blocks' texts, in document order.
func (d *Document) Texts() []string {
	out := make([]string, len(d.blocks))
	for i, b := range d.blocks {
		out[i] = b.Text
	}
	return out
}

// Blocks returns the translatable blocks with their formats, in document order.
func (d *Document) Blocks() []Block {
	out := make([]Block, len(d.blocks))
	for i, b := range d.blocks {
		out[i] = b.Block
	}
	return out
}

// Assemble writes the document back with each block's text replaced by
// texts[i]. A FormatText text is HTML-escaped; a FormatHTML text is inserted
// as it is (the engine has checked its markup). A text equal to the original
// block text gives back the original markup exactly.
func (d *Document) Assemble(texts []string) (string, error) {
	if len(texts) != len(d.blocks) {
		return "", fmt.Errorf("translate: assemble: %d texts for %d blocks", len(texts), len(d.blocks))
	}
	var b strings.Builder
	for _, p := range d.parts {
		if p.block < 0 {
			b.WriteString(p.literal)
			continue
		}
		blk := d.blocks[p.block]
		t := texts[p.block]
		switch {
		case t == blk.Text:
			b.WriteString(blk.raw)
		case blk.Format == FormatText:
			b.WriteString(escapeText(t))
		default:
			b.WriteString(t)
		}
	}
	return b.String(), nil
}

// escapeText escapes text for an HTML text node. Quotes need no escaping
// there, so English apostrophes stay readable.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// htmlText returns the text content of an HTML fragment (entities decoded,
// tags and attributes dropped).
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt == html.TextToken {
			b.Write(z.Text())
		}
	}
}
