package tghtml

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, visible string
		wantErr           bool
	}{
		{"plain", "hello", "hello", false},
		{"allowed tags", `<b>b</b><strong>s</strong><i>i</i><u>u</u><s>s</s><tg-spoiler>x</tg-spoiler><span class="tg-spoiler">y</span>`, "bsiusxy", false},
		{"link", `<a href="https://a.example/?a=1&amp;b=2">x</a>`, "x", false},
		{"pre code", `<pre><code class="language-go">x &lt; y</code></pre>`, "x < y", false},
		{"blockquote expandable", `<blockquote expandable>q</blockquote>`, "q", false},
		{"entities", "&lt;&gt;&amp;&quot;&#39;&#x4e2d;", `<>&"'中`, false},
		{"nested formatting", "<b><i>x</i></b>", "x", false},
		{"bold in link", `<a href="https://a.example/"><b>x</b></a>`, "x", false},
		{"unknown tag", "<p>x</p>", "", true},
		{"br", "a<br>b", "", true},
		{"unclosed", "<b>x", "", true},
		{"misnested", "<b><i>x</b></i>", "", true},
		{"nbsp", "a&nbsp;b", "", true},
		{"mdash", "a&mdash;b", "", true},
		{"raw ampersand", "a & b", "", true},
		{"raw lt", "a < b", "", true},
		{"raw gt", "a > b", "", true},
		{"link without href", "<a>x</a>", "", true},
		{"unknown attribute", `<b class="x">x</b>`, "", true},
		{"span without spoiler", `<span>x</span>`, "", true},
		{"nested link", `<a href="https://a/"><a href="https://b/">x</a></a>`, "", true},
		{"nested blockquote", `<blockquote><blockquote>x</blockquote></blockquote>`, "", true},
		{"bold in code", `<code><b>x</b></code>`, "", true},
		{"unquoted attribute", `<a href=https://a/>x</a>`, "", true},
		{"invalid utf8", "\xff", "", true},
		{"surrogate entity", "&#xD800;", "", true},
		{"zero entity", "&#0;", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.visible {
				t.Errorf("visible = %q, want %q", got, tt.visible)
			}
		})
	}
}

func TestCheckLimits(t *testing.T) {
	tests := []struct {
		name    string
		check   func(string, string) error
		text    string
		wantErr bool
	}{
		{"4096 visible with tags", CheckMessage, "<b>" + strings.Repeat("a", 4096) + "</b>", false},
		{"4097", CheckMessage, strings.Repeat("a", 4097), true},
		{"entities count once", CheckMessage, strings.Repeat("&amp;", 4096), false},
		{"astral counts two", CheckMessage, strings.Repeat("😀", 2049), true},
		{"empty", CheckMessage, "<b> </b>", true},
		{"caption 1024", CheckCaption, strings.Repeat("中", 1024), false},
		{"caption 1025", CheckCaption, strings.Repeat("中", 1025), true},
		{"empty caption", CheckCaption, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.check(tt.text, "HTML"); (err != nil) != tt.wantErr {
				t.Errorf("error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzParse: the parser never panics, and whatever it accepts has
// visible text no longer than the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"<b>x</b>", "<a href=\"x\">y</a>", "&amp;&#1;&#x10FFFF;", "<pre><code class=\"language-x\">", "<", "&", "<blockquote expandable>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err == nil && len(v) > len(s) {
			t.Errorf("visible text %q longer than input %q", v, s)
		}
	})
}
