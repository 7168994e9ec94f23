package tgtemplate

import (
	"errors"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/internal/tghtml"
)

const good = `<b>{{.Title}}</b>
<i>{{.Source}} · {{.TimeText}}</i>
{{if .OriginalTitle}}{{.OriginalTitle}}
{{end}}
{{.Summary}}

{{link .ReadURL .ReadLabel}}{{if .Link}} · {{link .Link "Original"}}{{end}}
{{join " " .Tags}}`

func TestParseAndCheck(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantLine int    // 0: no error
		wantMsg  string // part of the message
	}{
		{name: "good", text: good},
		{name: "time format", text: `{{.Title}} {{.Time.Format "Jan 2"}}`},
		{name: "cut", text: `<b>{{cut 10 .Title}}</b>`},
		{name: "metadata", text: `<b>{{.Title}}</b>{{with index .Meta "发文字号"}} ({{.}}){{end}}{{range $k, $v := .Meta}}
{{$k}}: {{$v}}{{end}}`},
		{name: "syntax error line 3", text: "<b>{{.Title}}</b>\n{{.Source}}\n{{if .Link}}x", wantLine: 3, wantMsg: "unexpected EOF"},
		{name: "unknown field", text: "<b>{{.Title}}</b>\n\n{{.Headline}}", wantLine: 3, wantMsg: "can't evaluate field Headline"},
		{name: "unknown function", text: "{{shout .Title}}", wantLine: 1, wantMsg: `function "shout" not defined`},
		{name: "tag telegram refuses", text: "<p>{{.Title}}</p>", wantMsg: `unsupported start tag "p"`},
		{name: "unclosed tag", text: "<b>{{.Title}}", wantMsg: "can't find end tag"},
		{name: "unclosed only without original", text: "{{if .OriginalTitle}}<i>{{.OriginalTitle}}</i>{{else}}<i>{{end}}{{.Title}}", wantMsg: "empty optional fields renders as invalid"},
		{name: "empty", text: "  \n", wantMsg: "empty"},
		{name: "renders nothing", text: "{{if false}}x{{end}}", wantMsg: "empty message"},
		{name: "too long by itself", text: strings.Repeat("x", 5000) + "{{.Title}}", wantMsg: "limit is 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse(tc.text)
			if err == nil {
				err = tpl.Check(tghtml.MaxTextLen)
			}
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if te.Line != tc.wantLine || !strings.Contains(te.Msg, tc.wantMsg) {
				t.Errorf("error line %d %q, want line %d containing %q", te.Line, te.Msg, tc.wantLine, tc.wantMsg)
			}
		})
	}
}

// TestFit: a rendering over the limit has its summary shortened, and what
// is still too long is cut, always as valid Telegram HTML within the limit.
func TestFit(t *testing.T) {
	tpl, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	long := Sample()
	long.Summary = strings.Repeat("Word &amp; word. ", 400)
	hugeTitle := Sample()
	hugeTitle.Title = strings.Repeat("T", 5000)
	for _, tc := range []struct {
		name  string
		p     Post
		limit int
	}{
		{"fits", Sample(), tghtml.MaxTextLen},
		{"long summary, message", long, tghtml.MaxTextLen},
		{"long summary, caption", long, tghtml.MaxCaptionLen},
		{"title alone too long", hugeTitle, tghtml.MaxCaptionLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tpl.Fit(tc.p, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			vis, err := tghtml.Parse(out)
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			if n := tghtml.VisibleLen(vis); n > tc.limit {
				t.Errorf("%d visible units > %d", n, tc.limit)
			}
			if !strings.Contains(vis, "Read in English") && tc.name != "title alone too long" {
				t.Errorf("the links were cut instead of the summary:\n%s", vis)
			}
		})
	}
}
