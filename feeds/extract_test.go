package feeds

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

const articleBody = `<div class="TRS_Editor"><p>第一段正文，说明本次活动的安排与要求，内容足够长以便正文提取算法识别为文章主体。</p>
<p>第二段正文，继续说明有关事项，各单位要认真贯彻落实，确保各项工作取得实效，按时报送工作进展情况。</p>
<p>第三段正文，联系人和联系电话如下，请各单位在规定时间内报送材料，逾期不再受理。</p></div>`

func page(head, body string) string {
	return "<!DOCTYPE html><html><head><meta charset=\"utf-8\">" + head + "</head><body>" + body + "</body></html>"
}

// TestExtractRules checks each rule of the order of evidence, and that an
// earlier rule wins over a later one.
func TestExtractRules(t *testing.T) {
	china := model.China()
	tests := []struct {
		name                  string
		url, html             string
		ft                    *config.FullText
		title, date, author   string // date in China time, "" = unknown
		titleRule, dateRule   string
		authorRule, bodyStart string
	}{
		{name: "meta PubDate wins over text and URL",
			url:  "http://www.gd.gov.cn/a/202305/t20230524_1.html",
			html: page(`<meta name="PubDate" content="2023-05-25 23:31"><title>通知_广东省人民政府门户网站</title>`, `<p>发布时间：2023-05-20 08:00</p>`+articleBody),
			date: "2023-05-25 23:31", dateRule: "meta pubdate", title: "通知", titleRule: "<title> without site name"},
		{name: "script __$pubtime",
			url:  "http://news.southcn.com/a/1.html",
			html: page(`<script>var __$pubtime = '2012-06-24 10:05';</script><title>标题一</title>`, articleBody),
			date: "2012-06-24 10:05", dateRule: "script __$pubtime"},
		{name: "visible text with full-width digits",
			url:  "http://www.example.gov.cn/a.html",
			html: page(`<title>标题二</title>`, `<div class="info">发布时间：２０１９年１０月３１日 ２３:００</div>`+articleBody),
			date: "2019-10-31 23:00", dateRule: "text label"},
		{name: "date next to 来源, 成文日期 skipped",
			url:  "http://www.example.gov.cn/b.html",
			html: page(`<title>标题三</title>`, `<p>成文日期：2023-05-01</p><p>来源：肇庆市人民政府 2023-05-25</p>`+articleBody),
			date: "2023-05-25 00:00", dateRule: "text near 来源", author: "肇庆市人民政府", authorRule: "text 来源"},
		{name: "URL t20230525_",
			url:  "http://www.zhaoqing.gov.cn/xwzx/202305/t20230525_123.html",
			html: page(`<title>标题四</title>`, articleBody), date: "2023-05-25 00:00", dateRule: "url"},
		{name: "URL /202305/25/",
			url:  "http://www.example.com.cn/news/202305/25/c_1.html",
			html: page(`<title>标题五</title>`, articleBody), date: "2023-05-25 00:00", dateRule: "url"},
		{name: "no date anywhere: unknown",
			url:  "http://www.example.gov.cn/c.html",
			html: page(`<title>标题六</title>`, articleBody), date: ""},
		{name: "date-only meta refined by a time in the text",
			url:  "http://www.example.com/d.html",
			html: page(`<meta name="publishdate" content="2017-03-10"><title>标题七</title>`, `<span>发稿时间：2017-03-10 08:42:00</span>`+articleBody),
			date: "2017-03-10 08:42", dateRule: "meta publishdate + time from text label"},
		{name: "WeChat var ct and nickname",
			url:   "https://mp.weixin.qq.com/s?__biz=MzA==&mid=1&idx=1&sn=x",
			html:  page(`<meta property="og:title" content="公众号文章"><meta name="author" content="张三">`, `<h1 id="activity-name">公众号文章</h1><a id="js_name">广东发布</a><div id="js_content">`+articleBody+`</div><script>var nickname = "广东发布"; var ct = "1685028660";</script>`),
			title: "公众号文章", titleRule: "wechat #activity-name", date: "2023-05-25 23:31", dateRule: "script var ct",
			author: "广东发布", authorRule: "wechat var nickname", bodyStart: "第一段正文"},
		{name: "numeric meta author ignored, ContentSource used",
			url:    "http://www.example.gov.cn/e.html",
			html:   page(`<meta name="author" content="104363"><meta name="ContentSource" content="市政府办公室"><title>标题八</title>`, articleBody),
			author: "市政府办公室", authorRule: "meta contentsource"},
		{name: "人民网 suffix removed",
			url:   "http://culture.people.com.cn/n1/2023/0525/c1013-1.html",
			html:  page(`<title>大赛 湖南省启动--文化--人民网</title>`, articleBody),
			title: "大赛 湖南省启动", titleRule: "<title> without site name"},
		{name: "headline that the <title> starts with",
			url:   "http://www.example.com/f.html",
			html:  page(`<title>腾讯发布新产品_财经_腾讯网</title>`, `<h1>腾讯网</h1><h1>腾讯发布新产品</h1>`+articleBody),
			title: "腾讯发布新产品", titleRule: "headline element"},
		{name: "date attribute gives the time (网易 data-ptime)",
			url:  "http://dy.163.com/v2/article/detail/X.html",
			html: page(`<title>标题十一_网易订阅</title>`, `<div id="contain" data-ptime="2019-05-17 20:02:46"><p class="time"><span>2019-05-17</span></p>`+articleBody+`</div>`),
			date: "2019-05-17 20:02", dateRule: "date attribute data-ptime"},
		{name: "meta author that is the site's name ignored, 来源 used",
			url:    "http://dy.163.com/v2/article/detail/Y.html",
			html:   page(`<meta name="author" content="网易"><title>标题十二_网易订阅</title>`, articleBody+`<p>来源：无锡交警</p>`),
			author: "无锡交警", authorRule: "text 来源"},
		{name: "来源 本站原创 is no author: 作者 used",
			url:    "http://www.example.com/i.html",
			html:   page(`<title>标题十三</title>`, `<div class="title_blow">来源：本站原创&nbsp;&nbsp;作者：医技药剂党支部<br>时间：2019年10月31日 23:00</div>`+articleBody),
			author: "医技药剂党支部", authorRule: "text 作者", date: "2019-10-31 23:00"},
		{name: "selector matches nothing: readability fallback",
			url:  "http://www.example.gov.cn/g.html",
			ft:   &config.FullText{Selector: "#no-such-body", Readability: true},
			html: page(`<title>标题九</title>`, articleBody), bodyStart: "第一段正文"},
		{name: "selector",
			url:  "http://www.example.gov.cn/h.html",
			ft:   &config.FullText{Selector: ".TRS_Editor"},
			html: page(`<title>标题十</title>`, `<div class="nav">首页 导航</div>`+articleBody), bodyStart: "第一段正文"},
	}
	n := NewNormalizer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ExtractArticle([]byte(tt.html), tt.url, tt.ft, china)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if !a.Published.IsZero() {
				got = a.Published.In(china).Format("2006-01-02 15:04")
			}
			if got != tt.date {
				t.Errorf("date %q (%s), want %q", got, a.DateRule, tt.date)
			}
			if tt.dateRule != "" && a.DateRule != tt.dateRule {
				t.Errorf("date rule %q, want %q", a.DateRule, tt.dateRule)
			}
			if tt.title != "" && (a.Title != tt.title || a.TitleRule != tt.titleRule) {
				t.Errorf("title %q (%s), want %q (%s)", a.Title, a.TitleRule, tt.title, tt.titleRule)
			}
			if tt.author != "" && (a.Author != tt.author || a.AuthorRule != tt.authorRule) {
				t.Errorf("author %q (%s), want %q (%s)", a.Author, a.AuthorRule, tt.author, tt.authorRule)
			}
			if tt.author == "" && tt.authorRule == "" && strings.Contains(tt.name, "numeric") {
				t.Errorf("bad test")
			}
			if tt.bodyStart != "" {
				it := n.Normalize(config.Source{ID: "s"}, china, RawItem{Link: tt.url, BaseURL: tt.url, ContentHTML: a.HTML}, time.Now())
				if text := plainText(it.ContentHTML); !strings.HasPrefix(text, tt.bodyStart) {
					t.Errorf("body (%s) starts %.40q, want %q", a.BodyRule, text, tt.bodyStart)
				}
			}
		})
	}
}

func TestExtractSelectorWithoutReadability(t *testing.T) {
	_, err := ExtractArticle([]byte(page("", articleBody)), "http://x.example/a", &config.FullText{Selector: "#missing"}, model.China())
	if !errors.Is(err, ErrNoArticle) || !strings.Contains(err.Error(), "#missing") {
		t.Fatalf("err = %v, want ErrNoArticle naming the selector", err)
	}
}

func TestGovMetaTable(t *testing.T) {
	html := page(`<title>关于印发某办法的通知</title>`, `<table class="xxgk"><tr><td>索 引 号：</td><td>11441200007/2023-00012</td><td>分　　类：</td><td>综合政务</td></tr>
<tr><td><b>发布机构：</b></td><td>肇庆市人民政府办公室</td><td>发文字号：</td><td>肇府办〔2023〕5号</td></tr>
<tr><td>成文日期：2023-05-20</td><td>发布日期：2023-05-25</td></tr></table>`+articleBody)
	a, err := ExtractArticle([]byte(html), "http://www.zhaoqing.gov.cn/gkmlpt/content/1/1/post_1.html", nil, model.China())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"索引号": "11441200007/2023-00012", "分类": "综合政务", "发布机构": "肇庆市人民政府办公室",
		"发文字号": "肇府办〔2023〕5号", "成文日期": "2023-05-20", "发布日期": "2023-05-25"}
	for k, v := range want {
		if a.Meta[k] != v {
			t.Errorf("meta[%s] = %q, want %q (all: %v)", k, a.Meta[k], v, a.Meta)
		}
	}
	if len(a.Meta) != len(want) {
		t.Errorf("meta has %d entries, want %d: %v", len(a.Meta), len(want), a.Meta)
	}
	if a.Author != "肇庆市人民政府办公室" || a.Published.In(model.China()).Format(time.DateOnly) != "2023-05-25" {
		t.Errorf("author %q date %v", a.Author, a.Published)
	}
	// One "发布日期：" line under a headline is not a metadata table.
	a, _ = ExtractArticle([]byte(page("", `<p>发布日期：2023-05-25</p>`+articleBody)), "http://x.example/a", nil, model.China())
	if a.Meta != nil {
		t.Errorf("single label gave meta %v", a.Meta)
	}
}

// TestCleanKeepsMeaning: spaces between Han characters kept, line breaks
// inside a paragraph joined, headings demoted, players replaced by a line
// linking the post, links kept byte for byte.
func TestCleanKeepsMeaning(t *testing.T) {
	n := NewNormalizer()
	src := config.Source{ID: "s"}
	link := "https://mp.weixin.qq.com/s?__biz=MzA5NjE4NTQ0Mg==&mid=1&idx=1&sn=ab"
	tests := []struct{ name, in, want string }{
		{"spaces between names kept", `<p>作者：李琴雯 刘会</p>`, `<p>作者：李琴雯 刘会</p>`},
		{"line break inside a paragraph joined", "<p>第一届大赛\n    湖南省赛区</p>", `<p>第一届大赛湖南省赛区</p>`},
		{"line break between Latin words kept as space", "<p>Hello\nworld</p>", "<p>Hello\nworld</p>"},
		{"headings demoted", `<h1>大标题</h1><h2>小标题</h2><p>正文</p>`, `<h2>大标题</h2><h3>小标题</h3><p>正文</p>`},
		{"video iframe", `<p>前</p><iframe class="video_iframe" data-src="https://v.qq.com/iframe/preview.html?vid=x"></iframe><p>后</p>`,
			`<p>前</p><p><a href="` + strings.ReplaceAll(link, "&", "&amp;") + `" rel="nofollow noreferrer noopener" target="_blank">Video in the original</a></p><p>后</p>`},
		{"mpvoice", `<p>前</p><mpvoice voice_encode_fileid="x" name="录音"></mpvoice>`,
			`<p>前</p><p><a href="` + strings.ReplaceAll(link, "&", "&amp;") + `" rel="nofollow noreferrer noopener" target="_blank">Audio in the original</a></p>`},
		{"links byte for byte", `<p><a href="https://example.gov.cn/a?z=1&amp;a=MzA==&amp;b=%E4%B8%AD">链接</a></p>`,
			`<p><a href="https://example.gov.cn/a?z=1&amp;a=MzA==&amp;b=%E4%B8%AD" rel="nofollow noreferrer noopener" target="_blank">链接</a></p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := n.Normalize(src, model.China(), RawItem{Link: link, ContentHTML: tt.in}, time.Now())
			if it.ContentHTML != tt.want {
				t.Errorf("got  %s\nwant %s", it.ContentHTML, tt.want)
			}
		})
	}
	it := n.Normalize(src, model.China(), RawItem{Link: link + "&chksm=zz&scene=27#rd", Title: "t"}, time.Now())
	if it.Link != link {
		t.Errorf("link %q, want %q (tracking removed, the rest as written)", it.Link, link)
	}
}

func TestTitleFallbacks(t *testing.T) {
	n := NewNormalizer()
	it := n.Normalize(config.Source{ID: "s"}, model.China(), RawItem{ContentHTML: "<p>市政府召开常务会议。会议研究了有关事项。</p>"}, time.Now())
	if it.Title != "市政府召开常务会议…" || it.Evidence["title"] != "first sentence of the body" {
		t.Errorf("title %q (%s)", it.Title, it.Evidence["title"])
	}
	r := RawItem{Title: "邯郸市人民政府办公室关于印发邯郸市支持重点行业和重点设施超低排放改造（深度治..."}
	r.mergeArticle(Article{Title: "邯郸市人民政府办公室关于印发邯郸市支持重点行业和重点设施超低排放改造（深度治理）若干措施的通知", TitleRule: "meta ArticleTitle"}, true)
	if !strings.HasSuffix(r.Title, "若干措施的通知") || r.Rules.Title != "page meta ArticleTitle" {
		t.Errorf("truncated list title not replaced: %q (%s)", r.Title, r.Rules.Title)
	}
	r = RawItem{Title: "列表里的完整标题"}
	r.mergeArticle(Article{Title: "页面标题"}, true)
	if r.Title != "列表里的完整标题" {
		t.Errorf("a whole list title was replaced: %q", r.Title)
	}
}

// TestBylineIsNotMetadata: a byline of date and source is no 信息公开
// table, and a value ends where the next label starts.
func TestBylineIsNotMetadata(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string
	}{
		{"byline", `<div class="small-title"><span>发布日期：2016-11-22</span><span>浏览次数： </span><span>信息来源：省发改委</span></div>`, nil},
		{"labels in one line", `<div class="xxgk"><p>索引号：11441200007/2023-00012 发布机构：肇庆市人民政府办公室</p><p>发文字号：肇府办〔2023〕5号</p></div>`,
			map[string]string{"索引号": "11441200007/2023-00012", "发布机构": "肇庆市人民政府办公室", "发文字号": "肇府办〔2023〕5号"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ExtractArticle([]byte(page(`<title>标题</title>`, tt.body+articleBody)), "http://www.example.gov.cn/a.html", nil, model.China())
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Meta) != len(tt.want) {
				t.Fatalf("meta %v, want %v", a.Meta, tt.want)
			}
			for k, v := range tt.want {
				if a.Meta[k] != v {
					t.Errorf("meta[%s] = %q, want %q", k, a.Meta[k], v)
				}
			}
		})
	}
}
