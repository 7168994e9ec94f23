package feeds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// cleanBodies are post bodies to clean: the saved real pages' articles
// (and the whole pages, as a body no feed would send), every item of the
// saved feeds, and hand-made edge cases.
func cleanBodies(t testing.TB) map[string]string {
	t.Helper()
	bodies := map[string]string{
		"empty":              "",
		"plain text":         "第一行\n\n第二行 & <更多>",
		"unclosed inline":    `<p><b>粗<i>斜</p><p>下一段</b></i>`,
		"anchor without url": `<p><a name="x">锚</a> 与 <a href="https://e.gov.cn/">链接</a></p>`,
		"script and style":   `<p>a<script>alert(1)</script><style>p{}</style></p><noscript><p>b</p></noscript>`,
		"entity controls":    `<p>a&#x1b;b&#0;c</p><h1>标题</h1><h2>次级</h2>`,
		"nested tables":      `<table><tr><td><table><tr><td>甲</td></tr></table></td></tr></table><p>乙</p>`,
		"comment and cdata":  `<p>前<!-- 注释 --></p><![CDATA[ x ]]><p>后</p>`,
	}
	pages := loadRealPages(t)
	for _, p := range pages {
		raw, err := os.ReadFile(filepath.Join("testdata", "realpages", p.File))
		if err != nil {
			t.Fatal(err)
		}
		page := DecodeToUTF8(raw, p.ContentType)
		bodies[p.File+" (whole page)"] = string(page)
		if a, err := ExtractArticle(page, p.URL, &config.FullText{Selector: p.Selector, Readability: true}, model.China()); err == nil {
			bodies[p.File] = a.HTML
		}
	}
	feedsFiles, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	atoms, _ := filepath.Glob(filepath.Join("testdata", "*.atom"))
	for _, f := range append(feedsFiles, atoms...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		feed, err := gofeed.NewParser().ParseString(string(DecodeToUTF8(raw, "")))
		if err != nil {
			continue // truncated.xml and friends: not a feed gofeed reads
		}
		for i, it := range feed.Items {
			bodies[filepath.Base(f)+" item "+string(rune('a'+i%26))+it.GUID] = it.Content + it.Description
		}
	}
	return bodies
}

// TestCleanOnePassIsPerBlock: sanitising the kept blocks in one pass gives
// what sanitising each block on its own gives, on real bodies; and a body
// over limits.body_bytes is still cut between blocks.
func TestCleanOnePassIsPerBlock(t *testing.T) {
	base := mustURL(t, "https://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_1.html")
	for _, limits := range []Limits{{}, {BodyBytes: 2000}} {
		one := NewNormalizerWithLimits(limits)
		ref := NewNormalizerWithLimits(limits)
		ref.perBlock = true
		n := 0
		for name, body := range cleanBodies(t) {
			got, want := one.clean(body, base, ""), ref.clean(body, base, "")
			if got != want {
				t.Errorf("%s (body_bytes %d): one pass differs from block by block\n got  html %.300q\n want html %.300q\n got  text %.120q\n want text %.120q",
					name, limits.BodyBytes, got.html, want.html, got.text, want.text)
			}
			if strings.Contains(got.html, TruncatedNotice) {
				n++
			}
		}
		if limits.BodyBytes > 0 && n == 0 {
			t.Errorf("body_bytes %d: no body was cut, so the per-block path was not compared", limits.BodyBytes)
		}
	}
}

// FuzzCleanOnePass: for any body, the one-pass sanitising of clean agrees
// with sanitising block by block.
func FuzzCleanOnePass(f *testing.F) {
	for _, b := range cleanBodies(f) {
		if len(b) < 20000 {
			f.Add(b)
		}
	}
	base := mustURL(f, "https://www.zhaoqing.gov.cn/a/b.html")
	one := NewNormalizer()
	ref := NewNormalizer()
	ref.perBlock = true
	f.Fuzz(func(t *testing.T, body string) {
		if got, want := one.clean(body, base, "标题"), ref.clean(body, base, "标题"); got != want {
			t.Errorf("one pass differs from block by block for %q\n got  %q\n want %q", body, got.html, want.html)
		}
	})
}
