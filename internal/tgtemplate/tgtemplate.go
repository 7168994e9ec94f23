// Package tgtemplate renders Telegram posts from a channel's template:
// (Go text/template) over the fields of Post, documented in the README
// ("Message templates"). Field values are already escaped for Telegram
// HTML, so {{.Title}} is always safe; the template adds the markup (<b>,
// <i>, <a href>, <blockquote>). A template is checked when the config is
// loaded (Check: sample posts must render as valid Telegram HTML), and
// every rendering is checked again and cut to Telegram's limits (Fit).
package tgtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/transfeed/transfeed/internal/tghtml"
)

// Post is what a template sees. Every string is Telegram HTML text
// (escaped); Time is a time in China Standard Time.
type Post struct {
	Title         string    // English title
	OriginalTitle string    // original (Chinese) title; "" when Title is not a translation
	Summary       string    // the channel's summary: the LLM summary (summary: llm) or else the lead
	Lead          string    // the leading paragraphs of the English body, cut to summary_chars
	Source        string    // source name
	SourceID      string    // source id
	Time          time.Time // publication time in China Standard Time
	TimeText      string    // "2006-01-02 15:04 CST"
	ReadURL       string    // the post's English page ({server.base_url}/posts/{id}); "" without one
	ReadLabel     string    // "Read in English", or "Read online" for an untranslated post
	Link          string    // the original post
	Tags          []string  // hashtags from the source's tags ("#zhaoqing")
	Categories    []string  // the post's own categories, as the source gives them
	Author        string
	Language      string // language of the original ("zh")
	Translated    bool   // title and body are machine-translated
	Notice        string // "Machine-translated from Chinese by deepl."
	Media         string // "video" or "audio" when the post has some (not sent: link to the original); else ""
	Images        int    // pictures sent with the post
	// Meta is government document metadata (索引号, 发文字号, 成文日期, …)
	// keyed by the page's own labels: {{index .Meta "发文字号"}}; nil when
	// the page has none.
	Meta map[string]string
}

// Error is a template problem; Line is 1-based within the template text (0
// when unknown).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("template line %d: %s", e.Line, e.Msg)
	}
	return "template: " + e.Msg
}

// Template is a parsed channel template. Safe for concurrent use.
type Template struct {
	t *template.Template
}

const name = "message"

// funcs are the functions templates may call besides text/template's own.
func funcs() template.FuncMap {
	return template.FuncMap{
		// cut N TEXT shortens escaped text to N visible characters ("…" counted).
		"cut": func(n int, s string) string { return tghtml.Cut(s, n) },
		// join SEP LIST joins a list of strings (Tags, Categories).
		"join": func(sep string, list []string) string { return strings.Join(list, tghtml.Escape(sep)) },
		// link URL LABEL is <a href="URL">LABEL</a>, or LABEL alone without a URL.
		"link": func(url, label string) string {
			if url == "" {
				return label
			}
			return `<a href="` + url + `">` + label + `</a>`
		},
	}
}

// Parse parses a template. Errors are *Error with the template line.
func Parse(text string) (*Template, error) {
	if strings.TrimSpace(text) == "" {
		return nil, &Error{Msg: "the template is empty"}
	}
	t, err := template.New(name).Funcs(funcs()).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, templateError(err)
	}
	return &Template{t: t}, nil
}

var lineRE = regexp.MustCompile(`^template: ` + name + `:(\d+):(?:\d+:)?\s*(.*)$`)

// templateError turns a text/template error into an *Error.
func templateError(err error) *Error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		rest := m[2]
		// "executing "message" at <.Nope>: can't evaluate field Nope in type tgtemplate.Post"
		if i := strings.Index(rest, `executing "`+name+`" at `); i >= 0 {
			rest = rest[i+len(`executing "`+name+`" at `):]
		}
		rest = strings.ReplaceAll(rest, "tgtemplate.Post", "the post")
		return &Error{Line: n, Msg: rest}
	}
	return &Error{Msg: strings.TrimPrefix(msg, "template: ")}
}

// Render executes the template. The result is not checked; see Fit.
func (t *Template) Render(p Post) (string, error) {
	var b bytes.Buffer
	if err := t.t.Execute(&b, p); err != nil {
		var ee template.ExecError
		if errors.As(err, &ee) {
			return "", templateError(ee.Err)
		}
		return "", templateError(err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Fit renders p as Telegram HTML of at most max visible UTF-16 units: a
// rendering too long is rendered again with the summary shortened by the
// excess, and what is still too long is cut (tghtml.Cut), so the markup is
// never broken. It fails when the template cannot be executed or its
// output is not Telegram HTML (the caller then uses the default format).
func (t *Template) Fit(p Post, limit int) (string, error) {
	for range 3 {
		out, err := t.Render(p)
		if err != nil {
			return "", err
		}
		vis, err := tghtml.Parse(out)
		if err != nil {
			return "", &Error{Msg: "the output is not Telegram HTML: " + err.Error()}
		}
		if strings.TrimSpace(vis) == "" {
			return "", &Error{Msg: "the output is empty"}
		}
		n := tghtml.VisibleLen(vis)
		if n <= limit {
			return out, nil
		}
		sum := tghtml.Units(visible(p.Summary))
		if sum == 0 {
			return tghtml.Cut(out, limit), nil
		}
		p.Summary = tghtml.Cut(p.Summary, max(0, sum-(n-limit)))
		if p.Summary == "" {
			p.Lead = ""
		}
	}
	out, err := t.Render(p)
	if err != nil {
		return "", err
	}
	return tghtml.Cut(out, limit), nil
}

func visible(s string) string {
	v, err := tghtml.Parse(s)
	if err != nil {
		return s
	}
	return v
}

// Check renders two sample posts — every field filled in, and every
// optional field empty — and requires valid Telegram HTML that is not empty
// and whose own text (with an empty summary) leaves room within max, the
// limit of the message (4096, or 1024 for a caption).
func (t *Template) Check(limit int) error {
	for _, s := range []struct {
		what string
		p    Post
	}{{"the sample post", Sample()}, {"a post with empty optional fields", Sparse()}} {
		out, err := t.Render(s.p)
		if err != nil {
			return err
		}
		vis, err := tghtml.Parse(out)
		if err != nil {
			return &Error{Msg: fmt.Sprintf("%s renders as invalid Telegram HTML: %v", s.what, strings.TrimPrefix(err.Error(), tghtml.ErrParse.Error()+": "))}
		}
		if strings.TrimSpace(vis) == "" {
			return &Error{Msg: s.what + " renders as an empty message"}
		}
		empty := s.p
		empty.Summary, empty.Lead = "", ""
		if out, err := t.Render(empty); err == nil {
			if vis, err := tghtml.Parse(out); err == nil {
				if n := tghtml.VisibleLen(vis); n > limit {
					return &Error{Msg: fmt.Sprintf("without its summary %s already has %d characters; the limit is %d", s.what, n, limit)}
				}
			}
		}
	}
	return nil
}

// Sample is a complete post for checks and examples.
func Sample() Post {
	t := time.Date(2026, 5, 25, 10, 30, 0, 0, time.FixedZone("CST", 8*3600))
	return Post{
		Title:         "Zhaoqing signs 12 projects worth 3.2 billion yuan &amp; more",
		OriginalTitle: "肇庆签约12个项目，总投资32亿元",
		Summary:       "On May 25, Zhaoqing signed 12 projects worth 3.2 billion yuan. The projects cover new energy and advanced manufacturing.",
		Lead:          "On May 25, the city held a signing ceremony for key projects.",
		Source:        "Zhaoqing Government — News",
		SourceID:      "zhaoqing-news",
		Time:          t,
		TimeText:      t.Format("2006-01-02 15:04") + " CST",
		ReadURL:       "https://example.org/posts/1?utm=a&amp;b=1",
		ReadLabel:     "Read in English",
		Link:          "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_1.html",
		Tags:          []string{"#zhaoqing", "#investment"},
		Categories:    []string{"要闻"},
		Author:        "肇庆市人民政府办公室",
		Language:      "zh",
		Translated:    true,
		Notice:        "Machine-translated from Chinese by openai/gpt-4o-mini.",
		Media:         "video",
		Images:        3,
		Meta:          map[string]string{"索引号": "11441200007217066P/2026-00123", "发文字号": "肇府〔2026〕12号", "成文日期": "2026-05-20"},
	}
}

// Sparse is Sample with every optional field empty.
func Sparse() Post {
	p := Sample()
	p.OriginalTitle, p.Summary, p.Lead, p.ReadURL, p.Link, p.Author, p.Media = "", "", "", "", "", "", ""
	p.Tags, p.Categories, p.Images, p.Translated, p.Meta = nil, nil, 0, false, nil
	p.ReadLabel = "Read online"
	return p
}
