// Package gkmlpt reads Guangdong's standard government-information
// disclosure catalogue (政府信息公开目录平台, "gkmlpt"), which provincial,
// city and county sites and their departments serve under
// <site>[/<dept>]/gkmlpt/.
//
// The wire format is not documented by its vendor. What this package
// expects comes from public crawler code and one abridged report of a live
// answer (see the project's notes); every key is treated as optional:
// unknown keys are ignored, a missing title or link is a per-item error,
// and nothing here panics on a surprising answer.
//
//   - catalogue page …/gkmlpt/index (the column is in the URL fragment,
//     #<column_id>, never sent to the server); it embeds
//     `window._CONFIG = {…}` with `SID: '<digits>'` and `TREE: [...]`.
//   - list API GET …/gkmlpt/api/all/<column_id>?page=<n>&sid=<SID> → JSON
//     {total, articles: [{id, title, url|post_url, date, created_at,
//     create_time, display_publish_time, publisher, identifier,
//     document_number, …}]}.
package gkmlpt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Catalogue is one column of one site's catalogue.
type Catalogue struct {
	// Root is the catalogue's directory, ending in "/gkmlpt/".
	Root *url.URL
	// Column is the column id ("" when the URL names none).
	Column string
}

// ErrNotCatalogue means a URL is not a gkmlpt catalogue URL.
var ErrNotCatalogue = errors.New("gkmlpt: not a …/gkmlpt/ catalogue URL")

var columnRe = regexp.MustCompile(`^\d+$`)

// ParseURL reads a catalogue URL: …/gkmlpt/index#<column>, …/gkmlpt/mindex#<column>,
// …/gkmlpt/ or an API URL …/gkmlpt/api/all/<column>.
func ParseURL(raw string) (Catalogue, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Catalogue{}, ErrNotCatalogue
	}
	i := strings.Index(u.Path, "/gkmlpt/")
	if i < 0 {
		if strings.HasSuffix(u.Path, "/gkmlpt") {
			i = len(u.Path) - len("/gkmlpt")
		} else {
			return Catalogue{}, ErrNotCatalogue
		}
	}
	root := *u
	root.Path = u.Path[:i] + "/gkmlpt/"
	root.RawQuery, root.Fragment, root.RawPath = "", "", ""
	c := Catalogue{Root: &root}
	rest := strings.TrimPrefix(u.Path[i:], "/gkmlpt/")
	if col, ok := strings.CutPrefix(rest, "api/all/"); ok && columnRe.MatchString(strings.Trim(col, "/")) {
		c.Column = strings.Trim(col, "/")
	}
	if f := strings.TrimPrefix(u.Fragment, "/"); columnRe.MatchString(f) {
		c.Column = f
	}
	return c, nil
}

// IndexURL is the catalogue page (the one embedding the site's SID).
func (c Catalogue) IndexURL() string {
	u := *c.Root
	u.Path += "index"
	return u.String()
}

// ListURL is the list API for the column.
func (c Catalogue) ListURL(sid string, page int) string {
	u := *c.Root
	u.Path += "api/all/" + c.Column
	q := url.Values{}
	q.Set("page", strconv.Itoa(page))
	if sid != "" {
		q.Set("sid", sid)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// SourceURL is how a configured source names the column.
func (c Catalogue) SourceURL() string {
	return c.IndexURL() + "#" + c.Column
}

// Column is a node of the catalogue's TREE.
type Column struct {
	ID        string
	Name      string
	PostCount int
	JumpURL   string // link-only column: no list of its own
}

// Config is what the catalogue page embeds.
type Config struct {
	SID     string
	Columns []Column
}

var (
	configRe = regexp.MustCompile(`window\._CONFIG\s*=`)
	sidRe    = regexp.MustCompile(`["']?SID["']?\s*:\s*["']?(\d+)["']?`)
	// A TREE node as the page writes it: id first, then name (keys quoted
	// or not, values quoted with ' or ").
	nodeRe      = regexp.MustCompile(`["']?\bid["']?\s*:\s*["']?(\d+)["']?\s*,\s*["']?name["']?\s*:\s*["']([^"']*)["']`)
	postCountRe = regexp.MustCompile(`^[^{}]*?["']?post_count["']?\s*:\s*(\d+)`)
	jumpRe      = regexp.MustCompile(`^[^{}]*?["']?jump_url["']?\s*:\s*["']([^"']+)["']`)
)

// ParseConfig reads window._CONFIG from a catalogue page. ok is false when
// the page embeds no gkmlpt config.
func ParseConfig(page []byte) (Config, bool) {
	loc := configRe.FindIndex(page)
	if loc == nil {
		return Config{}, false
	}
	rest := page[loc[1]:]
	var c Config
	if m := sidRe.FindSubmatch(rest); m != nil {
		c.SID = string(m[1])
	}
	if i := bytes.Index(rest, []byte("TREE")); i >= 0 {
		tree := rest[i:]
		for _, m := range nodeRe.FindAllSubmatchIndex(tree, -1) {
			col := Column{ID: string(tree[m[2]:m[3]]), Name: string(tree[m[4]:m[5]])}
			after := tree[m[1]:]
			if pc := postCountRe.FindSubmatch(after); pc != nil {
				col.PostCount, _ = strconv.Atoi(string(pc[1]))
			}
			if j := jumpRe.FindSubmatch(after); j != nil {
				col.JumpURL = string(j[1])
			}
			c.Columns = append(c.Columns, col)
		}
	}
	return c, c.SID != "" || len(c.Columns) > 0
}

// Article is one document of a column list.
type Article struct {
	ID    string
	Title string
	URL   string // absolute
	// Published is the publication time; PublishedFrom names the API field
	// it came from (the crawlers disagree on which one is right).
	Published     time.Time
	PublishedFrom string
	// Document metadata, "" when the API did not send it.
	Identifier     string    // 索引号
	Publisher      string    // 发布机构
	DocumentNumber string    // 文号
	Written        time.Time // 成文日期: the list's `date` (a day)
	Abstract       string
	Keywords       string
}

// Meta is the article's document metadata under the labels the catalogue
// pages use.
func (a Article) Meta() map[string]string {
	m := map[string]string{}
	put := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			m[k] = v
		}
	}
	put("索引号", a.Identifier)
	put("发布机构", a.Publisher)
	put("文号", a.DocumentNumber)
	if !a.Written.IsZero() {
		put("成文日期", a.Written.Format("2006-01-02"))
	}
	return m
}

// List is one page of the list API.
type List struct {
	Total    int // 0 when the answer does not say
	Articles []Article
}

// flex accepts a JSON string or number (the API sends ids and times as either).
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
	case b[0] == '[' || b[0] == '{':
		*f = "" // not a scalar: ignore
	default:
		*f = flex(b)
	}
	return nil
}

type wireArticle struct {
	ID                 flex `json:"id"`
	Title              flex `json:"title"`
	URL                flex `json:"url"`
	PostURL            flex `json:"post_url"`
	Date               flex `json:"date"`
	CreatedAt          flex `json:"created_at"`
	CreateTime         flex `json:"create_time"`
	DisplayPublishTime flex `json:"display_publish_time"`
	Publisher          flex `json:"publisher"`
	Identifier         flex `json:"identifier"`
	DocumentNumber     flex `json:"document_number"`
	Abstract           flex `json:"abstract"`
	Keywords           flex `json:"keywords"`
}

type wireList struct {
	Total    flex              `json:"total"`
	Articles []json.RawMessage `json:"articles"`
}

// ParseList reads one answer of the list API. base resolves relative
// links; loc reads naive times (Asia/Shanghai). Articles that cannot be
// used (no title, no link) are skipped and reported in problems; err is
// set only when the answer is not a list at all.
func ParseList(body []byte, base *url.URL, loc *time.Location) (l List, problems []error, err error) {
	var w wireList
	if err := json.Unmarshal(body, &w); err != nil {
		return List{}, nil, fmt.Errorf("gkmlpt: list answer is not JSON: %w", err)
	}
	if w.Articles == nil {
		return List{}, nil, errors.New("gkmlpt: list answer has no \"articles\" (not a list column, or the API changed)")
	}
	l.Total, _ = strconv.Atoi(string(w.Total))
	for i, raw := range w.Articles {
		var wa wireArticle
		if err := json.Unmarshal(raw, &wa); err != nil {
			problems = append(problems, fmt.Errorf("gkmlpt: article %d: %w", i, err))
			continue
		}
		a := Article{
			ID: string(wa.ID), Title: strings.TrimSpace(string(wa.Title)),
			Identifier: string(wa.Identifier), Publisher: string(wa.Publisher), DocumentNumber: string(wa.DocumentNumber),
			Abstract: string(wa.Abstract), Keywords: string(wa.Keywords),
		}
		link := strings.TrimSpace(string(wa.URL))
		if link == "" {
			link = strings.TrimSpace(string(wa.PostURL))
		}
		if u, err := base.Parse(link); err == nil && link != "" {
			a.URL = u.String()
		}
		if a.Title == "" || a.URL == "" {
			problems = append(problems, fmt.Errorf("gkmlpt: article %d (id %s): no title or no url", i, wa.ID))
			continue
		}
		for _, f := range []struct {
			name string
			v    flex
		}{{"display_publish_time", wa.DisplayPublishTime}, {"create_time", wa.CreateTime}, {"created_at", wa.CreatedAt}, {"date", wa.Date}} {
			if t, ok := parseTime(string(f.v), loc); ok {
				a.Published, a.PublishedFrom = t, f.name
				break
			}
		}
		if t, ok := parseTime(string(wa.Date), loc); ok {
			a.Written = t.In(loc)
		}
		l.Articles = append(l.Articles, a)
	}
	return l, problems, nil
}

// parseTime reads epoch seconds (or milliseconds) or a naive
// "YYYY-MM-DD[ HH:MM:SS]" in loc.
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e12 {
			n /= 1000
		}
		if n < 315532800 { // before 1980: not a publication time
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/01/02 15:04:05", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var detailContentRe = regexp.MustCompile(`["']?content["']?\s*:\s*"`)

// ParseDetail reads the body HTML of an article page (…/gkmlpt/content/…/
// post_<id>.html): window._CONFIG's DETAIL carries it in a JSON string
// `content` (escaped as \u003C, \u0022, \/). ok is false when the page
// embeds no DETAIL body.
func ParseDetail(page []byte) (body string, ok bool) {
	i := bytes.Index(page, []byte("DETAIL"))
	if i < 0 {
		return "", false
	}
	rest := page[i:]
	loc := detailContentRe.FindIndex(rest)
	if loc == nil {
		return "", false
	}
	start := loc[1] - 1 // the opening quote
	// Find the closing quote of the JSON string literal.
	j := start + 1
	for j < len(rest) {
		switch rest[j] {
		case '\\':
			j += 2
			continue
		case '"':
			var s string
			if err := json.Unmarshal(rest[start:j+1], &s); err != nil {
				return "", false
			}
			return strings.TrimSpace(s), s != ""
		}
		j++
	}
	return "", false
}
