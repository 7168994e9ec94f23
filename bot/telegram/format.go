package telegram

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/internal/tghtml"
	"github.com/transfeed/transfeed/internal/tgtemplate"
	"github.com/transfeed/transfeed/model"
)

// Telegram's limits on visible text (after entity parsing), counted here in
// UTF-16 code units, the safe reading of "characters".
const (
	maxText    = 4096
	maxCaption = 1024

	defaultSummaryChars = 600
	maxTitleUnits       = 256
	maxSourceUnits      = 128
	maxTags             = 10
	maxTagUnits         = 32
	maxAlbum            = 10 // sendMediaGroup takes 2-10 items
)

// Message is one formatted post.
type Message struct {
	Text  string // Telegram HTML; the caption when Photo or Album is set
	Photo string // URL of the one picture to send with sendPhoto, or ""
	// Album holds 2–10 picture URLs sent as one album (sendMediaGroup),
	// Text as the caption of the first.
	Album []string
	// Preview is the link preview of a text message: PreviewDefault sends
	// no link_preview_options (Telegram previews the first link),
	// PreviewOff none, PreviewPage PreviewURL.
	Preview    Preview
	PreviewURL string
	// TemplateErr is why the channel's template could not be used (the
	// built-in format was); nil otherwise.
	TemplateErr error
}

// Preview is a text message's link preview.
type Preview int

// Link previews.
const (
	PreviewDefault Preview = iota
	PreviewOff
	PreviewPage
)

// Style is how a channel's messages look beyond bot.Channel: its template,
// its link preview and whether it shows the summarizer's summary.
type Style struct {
	// Template replaces the built-in format (nil: built-in).
	Template *tgtemplate.Template
	// PreviewPost previews the post's English page; false: no preview.
	PreviewPost bool
	// Summarize: the message shows the summary the notifier's Summarizer
	// writes (the lead when it has none).
	Summarize bool
}

// Format renders an item as a Telegram HTML post for channel ch in the
// built-in format with the lead as summary (Compose with the zero Style).
func Format(it model.Item, src Source, ch bot.Channel, baseURL string, photo bool) Message {
	return Compose(it, src, ch, Style{}, baseURL, "", photo)
}

// Compose renders an item as a Telegram post for channel ch: the English
// title in bold; the source name and the time in China Standard Time; a
// summary — summary when it is not "", else the lead: the leading
// paragraph(s) of the English body cut at a sentence end to
// ch.SummaryChars; "Read in English" ({baseURL}/posts/{id}) and "Original"
// links; a labelled link to the original when the post has video or audio;
// the original Chinese title; hashtags from the source's tags — or the
// same fields through st.Template. With photo and pictures, the message is
// a caption of at most 1024 characters (the summary is shortened to fit)
// on one photo (Photo) or an album of up to ten (Album; more pictures are
// counted, with a link to the original); otherwise Text has at most 4096.
// Untranslated items are marked "[untranslated]".
func Compose(it model.Item, src Source, ch bot.Channel, st Style, baseURL, summary string, photo bool) Message {
	// Invalid UTF-8 would be counted one way here and another by Telegram.
	for _, f := range []*string{&it.Title, &it.Summary, &it.ContentHTML, &it.TitleEN, &it.SummaryEN, &it.ContentHTMLEN, &it.Link, &src.Name, &summary} {
		*f = strings.ToValidUTF8(*f, "\uFFFD")
	}
	en := model.EnglishOf(it)
	title, lead, body, translated := oneLine(en.Title), en.Summary, en.HTML, en.Translated
	head := post{
		title:  cutUnits(title, maxTitleUnits),
		source: cutUnits(oneLine(model.FirstNonEmpty(src.Name, src.ID, it.SourceID)), maxSourceUnits),
	}
	var when time.Time
	if t := firstTime(it.Published, it.FirstSeen); !t.IsZero() {
		when = t.In(model.China())
		head.when = model.DateLabel(it, model.China())
	}
	if base := strings.TrimRight(baseURL, "/"); it.ID > 0 && isWebURL(base) {
		head.readURL = base + "/posts/" + strconv.FormatInt(it.ID, 10)
		head.readLabel = "Read in English"
		if !translated && it.Language != "en" {
			head.readLabel = "Read online"
		}
	}
	if isWebURL(it.Link) {
		head.origURL = it.Link
	}
	if orig := oneLine(en.OriginalTitle); orig != "" {
		head.origTitle = cutUnits(orig, maxTitleUnits)
	}
	head.tags = hashtags(src.Tags)
	if head.origURL != "" {
		switch it.Media {
		case model.MediaVideo:
			head.media = "Video in the original"
		case model.MediaAudio:
			head.media = "Audio in the original"
		}
	}

	var images []string
	if photo {
		for _, u := range model.ImagesOf(it) {
			if isWebURL(u) {
				images = append(images, u)
			}
		}
	}
	if len(images) > maxAlbum {
		if head.origURL != "" {
			head.more = len(images) - maxAlbum
		}
		images = images[:maxAlbum]
	}

	limit := ch.SummaryChars
	if limit <= 0 {
		limit = defaultSummaryChars
	}
	// The summary source: the summarizer's text, else the body's lead.
	sumBody, sumText := body, lead
	if s := strings.TrimSpace(summary); s != "" {
		sumBody, sumText = "", s
	}
	msg := Message{}
	size := maxText // the limit of the message: a text, or a caption
	if len(images) > 0 {
		if fixed := head.render(""); fixed.units <= maxCaption {
			size = maxCaption
			if len(images) == 1 {
				msg.Photo = images[0]
			} else {
				msg.Album = images
			}
		}
	}
	if msg.Photo == "" && msg.Album == nil {
		head.more = 0
		msg.Preview = PreviewOff
		if st.PreviewPost && head.readURL != "" {
			msg.Preview, msg.PreviewURL = PreviewPage, head.readURL
		}
	}
	fixed := head.render("")
	room := min(limit, size-fixed.units-2)
	if st.Template != nil {
		leadText := summarize(paragraphs(body, lead, limit), limit)
		p := tgtemplate.Post{
			Title: tghtml.Escape(head.title), OriginalTitle: tghtml.Escape(head.origTitle),
			Summary: tghtml.Escape(summarize(paragraphs(sumBody, sumText, limit), limit)), Lead: tghtml.Escape(leadText),
			Source: tghtml.Escape(head.source), SourceID: tghtml.Escape(it.SourceID), Time: when, TimeText: head.when,
			ReadURL: tghtml.Escape(head.readURL), ReadLabel: tghtml.Escape(head.readLabel), Link: tghtml.Escape(head.origURL),
			Author: tghtml.Escape(oneLine(it.Author)), Language: tghtml.Escape(it.Language), Translated: translated,
			Notice: tghtml.Escape(en.Notice), Media: it.Media, Images: len(msg.Album),
		}
		if msg.Photo != "" {
			p.Images = 1
		}
		for _, t := range head.tags {
			p.Tags = append(p.Tags, tghtml.Escape(t))
		}
		for k, v := range it.Meta {
			if k, v = oneLine(k), oneLine(v); k != "" && v != "" {
				if p.Meta == nil {
					p.Meta = map[string]string{}
				}
				p.Meta[tghtml.Escape(k)] = tghtml.Escape(v)
			}
		}
		for _, c := range it.Categories {
			if c = oneLine(c); c != "" {
				p.Categories = append(p.Categories, tghtml.Escape(c))
			}
		}
		text, err := st.Template.Fit(p, size)
		if err == nil {
			msg.Text = text
			return msg
		}
		msg.TemplateErr = err
	}
	msg.Text = fit(head, sumBody, sumText, room, size)
	return msg
}

// fit renders the message with the longest summary of at most room units
// that keeps the whole message within max units. The summary's own count
// can differ from the rendered one by a unit or two (a cut ellipsis,
// separators), so the rendered length has the last word.
func fit(head post, body, summary string, room, max int) string {
	for room > 0 {
		r := head.render(summarize(paragraphs(body, summary, room), room))
		if r.units <= max {
			return r.html
		}
		room -= r.units - max
	}
	return head.render("").html
}

// post holds the parts of a message other than the summary.
type post struct {
	title, source, when         string
	readURL, readLabel, origURL string
	origTitle                   string
	tags                        []string
	media                       string // label of the link to the original's video or audio
	more                        int    // pictures beyond the album, on the original
}

type rendered struct {
	html  string
	units int // visible length in UTF-16 code units
}

// render assembles the message. The visible length is counted as the text
// is written, so it is exact for what Telegram will see.
func (p post) render(summary string) rendered {
	var w htmlWriter
	w.b.Grow(256 + len(summary)*5/4)
	w.raw("<b>")
	w.text(p.title)
	w.raw("</b>")
	w.text("\n")
	w.raw("<i>")
	w.text(p.source)
	if p.when != "" {
		w.text(" · " + p.when)
	}
	w.raw("</i>")
	if summary != "" {
		w.text("\n\n")
		w.text(summary)
	}
	if p.readURL != "" || p.origURL != "" {
		w.text("\n\n")
		if p.readURL != "" {
			w.link(p.readURL, p.readLabel)
		}
		if p.origURL != "" {
			if p.readURL != "" {
				w.text(" · ")
			}
			w.link(p.origURL, "Original")
		}
	}
	if p.media != "" || p.more > 0 {
		w.text("\n")
		if p.media != "" {
			w.text("▶ ")
			w.link(p.origURL, p.media)
		}
		if p.more > 0 {
			if p.media != "" {
				w.text(" · ")
			}
			label := strconv.Itoa(p.more) + " more pictures on the original site"
			if p.more == 1 {
				label = "1 more picture on the original site"
			}
			w.link(p.origURL, label)
		}
	}
	if p.origTitle != "" {
		w.text("\n")
		w.text(p.origTitle)
	}
	if len(p.tags) > 0 {
		w.text("\n")
		w.text(strings.Join(p.tags, " "))
	}
	return rendered{html: w.b.String(), units: w.units}
}

type htmlWriter struct {
	b     strings.Builder
	units int
}

func (w *htmlWriter) raw(s string) { w.b.WriteString(s) }

// text writes visible text, escaping the three characters Telegram parses.
func (w *htmlWriter) text(s string) {
	for _, r := range s {
		switch r {
		case '<':
			w.b.WriteString("&lt;")
		case '>':
			w.b.WriteString("&gt;")
		case '&':
			w.b.WriteString("&amp;")
		default:
			w.b.WriteRune(r)
		}
		w.units += tghtml.RuneUnits(r)
	}
}

func (w *htmlWriter) link(href, label string) {
	w.raw(`<a href="`)
	w.raw(tghtml.Escape(href))
	w.raw(`">`)
	w.text(label)
	w.raw("</a>")
}

// isWebURL accepts absolute http(s) URLs Telegram will take as a link.
func isWebURL(s string) bool {
	if s == "" || len(s) > 2048 || strings.ContainsAny(s, " \t\r\n<>\"") || !utf8.ValidString(s) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// clean makes s valid UTF-8 without control characters other than '\n'.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	ok := true
	for _, r := range s {
		if r != '\n' && (unicode.IsControl(r) || r == '\uFEFF' || r == 0x2028 || r == 0x2029) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r == '\t' || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		if unicode.IsControl(r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
}

// oneLine cleans s and collapses all white space to single spaces.
func oneLine(s string) string {
	return model.OneLine(clean(s))
}

// hashtags turns source tags into "#tag", keeping letters, digits and '_'.
func hashtags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		var b strings.Builder
		for _, r := range clean(t) {
			if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' {
				b.WriteRune(r)
			}
		}
		tag := cutRunesUnits(b.String(), maxTagUnits)
		if tag == "" || seen[strings.ToLower(tag)] {
			continue
		}
		seen[strings.ToLower(tag)] = true
		out = append(out, "#"+tag)
		if len(out) == maxTags {
			break
		}
	}
	return out
}

// cutRunesUnits returns the longest prefix of s with at most max UTF-16 units.
func cutRunesUnits(s string, max int) string {
	n := 0
	for i, r := range s {
		n += tghtml.RuneUnits(r)
		if n > max {
			return s[:i]
		}
	}
	return s
}

// cutUnits shortens s to at most max UTF-16 units, at a word boundary when
// there is one in the second half, ending with "…".
func cutUnits(s string, max int) string {
	if tghtml.VisibleLen(s) <= max {
		return s
	}
	if max <= 1 {
		return cutRunesUnits("…", max)
	}
	prefix := cutRunesUnits(s, max-1)
	if i := strings.LastIndexFunc(prefix, unicode.IsSpace); i > len(prefix)/2 {
		prefix = prefix[:i]
	}
	prefix = strings.TrimRightFunc(prefix, func(r rune) bool {
		return unicode.IsSpace(r) || r == ',' || r == ';' || r == ':' || r == '，' || r == '、'
	})
	return prefix + "…"
}

// paragraphs returns the leading paragraphs of body (HTML) — or of summary
// (plain text) when the body has none — with entities decoded and white
// space collapsed. It stops once it has more than enough text for want units.
func paragraphs(body, summary string, want int) []string {
	var out []string
	if strings.TrimSpace(body) != "" {
		out = htmlParagraphs(body, want)
	}
	if len(out) == 0 && strings.TrimSpace(summary) != "" {
		for _, p := range strings.Split(clean(summary), "\n") {
			if p = oneLine(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// htmlParagraphs splits HTML into text paragraphs at block elements and <br>.
func htmlParagraphs(body string, want int) []string {
	var (
		out   []string
		cur   strings.Builder
		total int
		skip  int // depth inside script/style/etc.
	)
	flush := func() bool {
		if p := oneLine(cur.String()); p != "" {
			out = append(out, p)
			total += tghtml.VisibleLen(p) + 2
		}
		cur.Reset()
		return total > want
	}
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			flush()
			return out
		case html.TextToken:
			if skip == 0 {
				cur.Write(z.Text()) // entities decoded (&nbsp; → U+00A0)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title, atom.Svg, atom.Math:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			}
			if isBlock(a) {
				if flush() {
					return out
				}
			} else if a == atom.Img || a == atom.Td || a == atom.Th {
				cur.WriteByte(' ')
			}
		}
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Tr, atom.Table, atom.Blockquote, atom.Section, atom.Article,
		atom.Header, atom.Footer, atom.Figure, atom.Figcaption, atom.Pre, atom.Hr, atom.Dl,
		atom.Dt, atom.Dd, atom.Aside, atom.Main, atom.Nav, atom.Center, atom.Body:
		return true
	}
	return false
}

// summarize joins whole paragraphs while they fit in limit units, then
// whole sentences of the next one. When not even the first sentence fits, it
// cuts the first paragraph at a word boundary with "…".
func summarize(paras []string, limit int) string {
	var b strings.Builder
	used := 0
	for _, p := range paras {
		sep := 0
		if used > 0 {
			sep = 2
		}
		room := limit - used - sep
		if room <= 0 {
			break
		}
		n := tghtml.VisibleLen(p)
		if n <= room {
			if sep > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(p)
			used += sep + n
			continue
		}
		part := sentences(p, room)
		if part == "" && used == 0 {
			part = cutUnits(p, room)
		}
		if part != "" {
			if sep > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(part)
		}
		break
	}
	return b.String()
}

// sentences returns the longest run of whole sentences at the start of p
// within room units ("" when the first sentence is longer).
func sentences(p string, room int) string {
	end, n := 0, 0
	rs := []rune(p)
	for i, r := range rs {
		n += tghtml.RuneUnits(r)
		if n > room {
			break
		}
		if !isSentenceEnd(r) {
			continue
		}
		j, nj := i+1, n
		for j < len(rs) && isCloser(rs[j]) {
			nj += tghtml.RuneUnits(rs[j])
			j++
		}
		cjk := r == '。' || r == '！' || r == '？'
		if (j == len(rs) || unicode.IsSpace(rs[j]) || cjk) && nj <= room {
			end = j
		}
	}
	return strings.TrimSpace(string(rs[:end]))
}

func isSentenceEnd(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？':
		return true
	}
	return false
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '”', '’', '」', '』', '）', '.', '!', '?':
		return true
	}
	return false
}
