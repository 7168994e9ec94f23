package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSegment(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		blocks []Block
	}{
		{name: "empty", in: ""},
		{name: "paragraphs", in: "<p>第一段。</p>\n<p>第二段。</p>",
			blocks: []Block{{Text: "第一段。", Format: FormatText}, {Text: "第二段。", Format: FormatText}}},
		{name: "no markup", in: "纯文本内容", blocks: []Block{{Text: "纯文本内容", Format: FormatText}}},
		{name: "indent and entities", in: "<p>&nbsp;&nbsp;　　市长&amp;副市长 </p>",
			blocks: []Block{{Text: "市长&副市长", Format: FormatText}}},
		{name: "inline link is html", in: `<p>请点击<a href="/a?x=1&amp;y=2">这里</a>查看。</p>`,
			blocks: []Block{{Text: `请点击<a href="/a?x=1&amp;y=2">这里</a>查看。`, Format: FormatHTML}}},
		{name: "wrapping inline element stays out", in: `<p><span><strong>加粗的标题</strong></span></p>`,
			blocks: []Block{{Text: "加粗的标题", Format: FormatText}}},
		{name: "edge image stays out", in: `<p><img src="a.jpg" alt="图">图片说明文字<br/></p>`,
			blocks: []Block{{Text: "图片说明文字", Format: FormatText}}},
		{name: "br separates", in: "第一行<br>第二行<br/>第三行",
			blocks: []Block{{Text: "第一行", Format: FormatText}, {Text: "第二行", Format: FormatText}, {Text: "第三行", Format: FormatText}}},
		{name: "no Han is not sent", in: "<p>Photo: 2023</p><p>&nbsp;</p><p><img src=x></p><p>12,345</p>"},
		{name: "table cells and caption", in: "<table><caption>表一</caption><tr><th>项目</th><td>金额</td><td>100</td></tr></table>",
			blocks: []Block{{Text: "表一", Format: FormatText}, {Text: "项目", Format: FormatText}, {Text: "金额", Format: FormatText}}},
		{name: "nested lists", in: "<ul><li>外层<ul><li>内层</li></ul>尾部</li></ul>",
			blocks: []Block{{Text: "外层", Format: FormatText}, {Text: "内层", Format: FormatText}, {Text: "尾部", Format: FormatText}}},
		{name: "script and comments stay literal", in: "<p>正文</p><script>var a='中文';</script><!-- 注释 --><style>p{}</style>",
			blocks: []Block{{Text: "正文", Format: FormatText}}},
		{name: "attributes with Han are not text", in: `<p><img alt="肇庆" src="a.png"></p>`},
		{name: "unbalanced inline", in: "<p><b>开始</p><p>结束</i></p>",
			blocks: []Block{{Text: "开始", Format: FormatText}, {Text: "结束", Format: FormatText}}},
		{name: "link in the middle", in: `<li><a href="/1">第一条</a>和<a href="/2">第二条</a></li>`,
			blocks: []Block{{Text: `<a href="/1">第一条</a>和<a href="/2">第二条</a>`, Format: FormatHTML}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Segment(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.blocks, d.Blocks(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("blocks (-want +got):\n%s", diff)
			}
			got, err := d.Assemble(d.Texts())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.in {
				t.Errorf("round trip:\n got %q\nwant %q", got, tc.in)
			}
		})
	}
}

func TestAssemble(t *testing.T) {
	d, err := Segment(`<h1>标题</h1><p>　　正文<a href="/x">链接</a>。</p><p><img src="i.png"></p>`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Assemble([]string{"Title <&> 'x'", `Body <a href="/x">link</a>.`})
	if err != nil {
		t.Fatal(err)
	}
	want := `<h1>Title &lt;&amp;&gt; 'x'</h1><p>　　Body <a href="/x">link</a>.</p><p><img src="i.png"></p>`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if _, err := d.Assemble([]string{"one"}); err == nil {
		t.Error("wrong count accepted")
	}
}

func TestSegmentRejectsInvalidUTF8(t *testing.T) {
	if _, err := Segment("<p>\xff</p>"); err == nil || !strings.HasPrefix(err.Error(), "translate: ") {
		t.Errorf("err %v", err)
	}
}

func FuzzSegment(f *testing.F) {
	for _, s := range []string{
		"", "<p>第一段。</p><p>第二段</p>", "纯文本", "<p>&nbsp;　市长&amp;</p>",
		`<p>请<a href="/a">点击</a>这里<img src=x></p>`, "<ul><li>甲<li>乙</ul>", "<table><td>表</table>",
		"<script>中文</script><p>正文", "<!--中--><p>文</p>", "<b>未闭合", "<p>a</i>中</p>", "<![CDATA[中]]>",
		"<svg><text>中</text></svg>", "<plaintext>中文<p>", "<title>标题</title>", "&#22823;湾区", "中<br/>文<br>字",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Segment(s)
		if err != nil {
			return // invalid UTF-8 or a tokenizer gap: refused, never mangled
		}
		got, err := d.Assemble(d.Texts())
		if err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("round trip:\n got %q\nwant %q", got, s)
		}
		for _, b := range d.Blocks() {
			if !containsHan(htmlText(b.Text)) && b.Format == FormatHTML || b.Format == FormatText && !containsHan(b.Text) {
				t.Errorf("block without Han: %q", b.Text)
			}
		}
	})
}
