package discover

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/google/go-cmp/cmp"
)

func TestNextPageCorpus(t *testing.T) {
	for _, p := range corpus {
		t.Run(p.file, func(t *testing.T) {
			doc, base, body := loadCorpus(t, p)
			if got := NextPage(doc, body, base); got != p.next {
				t.Errorf("NextPage = %q, want %q", got, p.next)
			}
		})
	}
}

func TestNextPagePagers(t *testing.T) {
	base, _ := url.Parse("http://www.example.gov.cn/xwzx/tzgg/index.html")
	tests := map[string]struct{ body, want string }{
		"trs first page":   {`<script>createPageHTML(5, 0, "index", "html");</script>`, "http://www.example.gov.cn/xwzx/tzgg/index_1.html"},
		"trs last page":    {`<script>createPageHTML(5, 4, "index", "html");</script>`, ""},
		"page_div variant": {`<script>createPageHTML('page_div',10, 1,'xlist','shtml',189);</script>`, "http://www.example.gov.cn/xwzx/tzgg/xlist_2.shtml"},
		"countPage":        {`<script>var currentPage = 0;var countPage = 3//共多少页</script>`, "http://www.example.gov.cn/xwzx/tzgg/index_1.html"},
		"javascript link":  {`<a href="javascript:toPage(2)">下一页</a>`, ""},
		"plain link":       {`<a href="index_1.html"> 下一页 </a>`, "http://www.example.gov.cn/xwzx/tzgg/index_1.html"},
		"none":             {`<p>nothing</p>`, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			doc := mustDoc(t, tt.body)
			if got := NextPage(doc, []byte(tt.body), base); got != tt.want {
				t.Errorf("NextPage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFeedLinks(t *testing.T) {
	doc, base, _ := loadCorpus(t, corpusPage{file: "netease_forum_head.html", base: "https://n.netease.com/forum-9-1.html"})
	want := []FeedLink{{URL: "https://n.netease.com/forum.php?mod=rss&fid=9&auth=0", Type: "application/rss+xml",
		Title: "《逆水寒》官方论坛 - 《逆水寒》官网论坛 -会呼吸的江湖 – 网易旗舰级武侠游戏！"}}
	if d := cmp.Diff(want, FeedLinks(doc, base)); d != "" {
		t.Errorf("feeds (-want +got):\n%s", d)
	}
	for _, p := range corpus {
		doc, base, _ := loadCorpus(t, p)
		if f := FeedLinks(doc, base); len(f) != 0 {
			t.Errorf("%s: feeds %v on a page that announces none", p.file, f)
		}
	}
}

func TestCommonFeedURLs(t *testing.T) {
	u, _ := url.Parse("http://www.zhaoqing.gov.cn/xwzx/zqyw/index.html")
	got := CommonFeedURLs(u)
	want := []string{"http://www.zhaoqing.gov.cn/xwzx/zqyw/rss.xml", "http://www.zhaoqing.gov.cn/feed", "http://www.zhaoqing.gov.cn/rss",
		"http://www.zhaoqing.gov.cn/rss.xml", "http://www.zhaoqing.gov.cn/feed.xml", "http://www.zhaoqing.gov.cn/atom.xml", "http://www.zhaoqing.gov.cn/index.xml"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestSuggestID(t *testing.T) {
	tests := map[string]string{
		"http://www.yichun.gov.cn/xxgk/zwdt/zwyw/":        "yichun-zwyw",
		"http://www.zhaoqing.gov.cn/gkmlpt/index#5722":    "zhaoqing-gkmlpt-5722",
		"https://www.dfa66.com/dfaets/news/announcement/": "dfa66-announcement",
		"http://hdzfxxgk.hd.gov.cn/":                      "hd",
	}
	for in, want := range tests {
		if got := SuggestID(in); got != want {
			t.Errorf("SuggestID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeScriptedLinks(t *testing.T) {
	doc, base, _ := loadCorpus(t, corpusPage{file: "foresttrip_notice_jslinks.html", base: "https://www.foresttrip.go.kr/pot/cc/nm/selectNticBbrssListView.do"})
	r := &Report{Detection: DetectList(doc, base, DetectOptions{})}
	saw := strings.Join(describePage(doc, r), "\n")
	if !strings.Contains(saw, "lead nowhere by themselves") || !strings.Contains(saw, "fn_goDtlView('261671')") {
		t.Errorf("saw:\n%s", saw)
	}
}

// FuzzDetectList: any page is read without a panic, and whatever list is
// proposed has links and selectors that compile.
func FuzzDetectList(f *testing.F) {
	for _, p := range corpus[:4] {
		_, _, body := loadCorpus(f, p)
		f.Add(body)
	}
	f.Add([]byte(`<ul><li><a href="/a/1.html">第一条新闻标题</a><span>2023-05-25</span></li><li><a href="/a/2.html">第二条新闻标题</a><span>2023-05-24</span></li><li><a href="/a/3.html">第三条新闻标题</a><span>2023-05-23</span></li></ul>`))
	base, _ := url.Parse("http://www.example.gov.cn/list/")
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		det := DetectList(doc, base, DetectOptions{})
		_ = NextPage(doc, b, base)
		if det.List == nil {
			return
		}
		for _, sel := range []string{det.List.Selectors.Item} {
			if _, err := cascadia.Compile(sel); err != nil {
				t.Fatalf("item selector %q does not compile: %v", sel, err)
			}
		}
		for _, p := range det.List.Posts {
			if p.Link == "" {
				t.Fatalf("post without a link: %+v", p)
			}
		}
	})
}

// A page that embeds the catalogue (not under /gkmlpt/) is recognised too.
func TestDiscoverEmbeddedCatalogue(t *testing.T) {
	page := []byte(`<html><head><script src="/zqhjj/gkmlpt/static/js/app.js"></script><script>
window._CONFIG = { SID: '7', TREE: [{id: 2714, name: '通知公告', post_count: 31}] };
</script></head><body><div id="app"></div></body></html>`)
	g := mapGetter{"http://www.zhaoqing.gov.cn/zqhjj/xxgk/": page}
	r, err := Discover(t.Context(), g, "http://www.zhaoqing.gov.cn/zqhjj/xxgk/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindGkmlpt || r.GkmlptSID != "7" || r.Catalogue.Root.String() != "http://www.zhaoqing.gov.cn/zqhjj/gkmlpt/" || len(r.Columns) != 1 {
		t.Errorf("report %+v", r)
	}
}

// mapGetter serves pages from memory (unit tests of the report logic; the
// HTTP path is tested through the command with httptest servers).
type mapGetter map[string][]byte

func (m mapGetter) GetPage(_ context.Context, u string) (*Page, error) {
	b, ok := m[u]
	if !ok {
		return nil, errors.New("404 " + u)
	}
	return &Page{URL: u, ContentType: "text/html", Body: b}, nil
}

func TestExpandDatastore(t *testing.T) {
	// The shape Hanweb column pages use (a hand-made page: no saved Hanweb
	// page was found; see testdata/corpus/README.md).
	page := `<html><body><div class="nav"><a href="/col/col1/index.html">首页导航</a></div><div id="4136788"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&columnid=7&unitid=4136788"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2023/5/25/art_7_101.html" title="关于开展2023年度专项资金申报工作的通知">关于开展2023年度专项资金申报工作的通知</a><span>2023-05-25</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2023/5/24/art_7_100.html">市政府召开常务会议研究部署重点工作</a><span>2023-05-24</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2023/5/23/art_7_99.html">全市安全生产工作会议召开</a><span>2023-05-23</span></li>]]></record>
</recordset></datastore></script></div></body></html>`
	got := ExpandDatastore([]byte(page))
	if bytes.Contains(got, []byte("<datastore>")) || !bytes.Contains(got, []byte(`<div class="datastore"><li><a href="/art/2023/5/25/art_7_101.html"`)) {
		t.Fatalf("expanded:\n%s", got)
	}
	doc := mustDoc(t, string(got))
	base, _ := url.Parse("http://www.example.gov.cn/col/col7/index.html")
	det := DetectList(doc, base, DetectOptions{})
	if det.List == nil || len(det.List.Posts) != 3 || det.List.Posts[0].Date != "2023-05-25" {
		t.Fatalf("detection on the expanded page: %+v", det)
	}
	if same := ExpandDatastore([]byte("<html><p>x</p></html>")); string(same) != "<html><p>x</p></html>" {
		t.Error("a page without a datastore was changed")
	}
}

// A 政府信息公开目录 table: 索引号, title, 文号 and date in cells of one row
// (hand-made in the shape these catalogues use; no saved page of one was
// found).
func TestDetectDisclosureTable(t *testing.T) {
	row := func(idx, id, title, num, date string) string {
		return `<tr><td class="idx">11441200MB2C91453G/` + idx + `</td><td class="tit"><a href="./202305/t20230525_` + id + `.html" title="` + title + `">` + title + `</a></td><td>` + num + `</td><td>` + date + `</td></tr>`
	}
	page := `<html><body><div class="nav"><a href="/xxgk/">信息公开首页</a><a href="/xxgk/zcwj/">政策文件栏目</a><a href="/xxgk/ghjh/">规划计划栏目</a></div>
<table class="xxgk_list"><tr><th>索引号</th><th>标题</th><th>文号</th><th>成文日期</th></tr>` +
		row("2023-00271", "1001", "肇庆市人民政府关于印发肇庆市国土空间总体规划的通知", "肇府〔2023〕31号", "2023-05-25") +
		row("2023-00270", "1000", "肇庆市人民政府办公室关于做好防汛工作的通知", "肇府办函〔2023〕12号", "2023-05-24") +
		row("2023-00269", "999", "肇庆市人民政府关于公布市级行政许可事项清单的决定", "", "2023-05-20") +
		`</table></body></html>`
	doc := mustDoc(t, page)
	base, _ := url.Parse("http://www.zhaoqing.gov.cn/xxgk/zcwj/")
	det := DetectList(doc, base, DetectOptions{})
	if det.List == nil {
		t.Fatalf("no list: %+v", det.Candidates)
	}
	want := Post{Title: "肇庆市人民政府关于印发肇庆市国土空间总体规划的通知", Link: "http://www.zhaoqing.gov.cn/xxgk/zcwj/202305/t20230525_1001.html", Date: "2023-05-25"}
	if len(det.List.Posts) != 3 || det.List.Posts[0] != want {
		t.Errorf("posts %+v (selectors %+v)", det.List.Posts, det.List.Selectors)
	}
}
