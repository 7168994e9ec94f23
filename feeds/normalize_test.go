package feeds

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeToUTF8(t *testing.T) {
	const text = "肇庆市人民政府门户网站"
	filler := strings.Repeat("<!-- padding padding padding -->\n", 60) // > 1 KB before the meta tag
	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        string
	}{
		{"utf-8 as is", []byte("<p>" + text + "</p>"), "text/html", "<p>" + text + "</p>"},
		{"utf-8 BOM stripped", []byte("\xEF\xBB\xBF<p>" + text + "</p>"), "", "<p>" + text + "</p>"},
		{"charset from header", gbk(t, "<p>"+text+"</p>"), "text/html; charset=GBK", "<p>" + text + "</p>"},
		{"header says utf-8 but body is gbk", gbk(t, "<p>"+text+"</p>"), "text/html; charset=utf-8", "<p>" + text + "</p>"},
		{"charset from xml prolog, encoding removed", gbk(t, `<?xml version="1.0" encoding="gb2312"?><rss>`+text+`</rss>`), "text/xml",
			`<?xml version="1.0"?><rss>` + text + `</rss>`},
		{"utf-8 body with a wrong gbk prolog", []byte(`<?xml version="1.0" encoding="GBK" ?><rss>` + text + `</rss>`), "",
			`<?xml version="1.0" ?><rss>` + text + `</rss>`},
		{"meta charset after 1 KB", gbk(t, "<html><head>"+filler+`<meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>`+text), "text/html",
			"<html><head>" + filler + `<meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>` + text},
		{"html5 meta charset", gbk(t, `<meta charset="gbk"><p>`+text), "", `<meta charset="gbk"><p>` + text},
		{"no label: GB18030 assumed", gbk(t, "<p>"+text+"</p>"), "", "<p>" + text + "</p>"},
		{"gb18030 four-byte character", append(gbk(t, "<p>"), []byte{0x95, 0x32, 0x82, 0x36, '<', '/', 'p', '>'}...), "text/html; charset=gb2312", "<p>\U00020000</p>"},
		{"latin-1 header loses to the document's gb2312", gbk(t, `<meta charset="gb2312">`+text), "text/html; charset=ISO-8859-1", `<meta charset="gb2312">` + text},
		{"big5 label", []byte{0xA4, 0xA4, 0xA4, 0xE5}, "text/plain; charset=big5", "中文"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(DecodeToUTF8(tc.body, tc.contentType)); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2023, 6, 1, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 UTC; "" = not parsed
	}{
		{"2023-05-25 23:31:00", sh, "2023-05-25T15:31:00Z"},
		{"2023-05-25 23:31", sh, "2023-05-25T15:31:00Z"},
		{"2023-05-25T23:31:00", sh, "2023-05-25T15:31:00Z"},
		{"2023-05-25 23:31:00.000", sh, "2023-05-25T15:31:00Z"},
		{"2023年05月25日", sh, "2023-05-24T16:00:00Z"},
		{"2023年5月25日 23:31", sh, "2023-05-25T15:31:00Z"},
		{"2023年5月25日23时31分", sh, "2023-05-25T15:31:00Z"},
		{"发布时间：2023-05-25 23:31", sh, "2023-05-25T15:31:00Z"},
		{"来源：肇庆市政府  发布时间：2023-05-25 23:31  浏览次数：12", sh, "2023-05-25T15:31:00Z"},
		{"[2023-05-25]", sh, "2023-05-24T16:00:00Z"},
		{"2023/05/25", sh, "2023-05-24T16:00:00Z"},
		{"2023.05.25", sh, "2023-05-24T16:00:00Z"},
		{"2023-05-25", sh, "2023-05-24T16:00:00Z"},
		{"05-25", sh, "2023-05-24T16:00:00Z"},
		{"115.03.19", sh, "2026-03-18T16:00:00Z"}, // Minguo calendar (mnd.gov.tw lists)
		{"民國115年3月19日", sh, "2026-03-18T16:00:00Z"},
		{"民国99年12月31日", sh, "2010-12-30T16:00:00Z"},
		{"99.12.31", sh, ""}, // two digits without 民國: not read as Minguo
		{"12-30", sh, "2022-12-29T16:00:00Z"},
		{"Thu, 25 May 2023 23:31:00 CST", sh, "2023-05-25T15:31:00Z"},
		{"Thu, 25 May 2023 23:31:00 CST", ny, "2023-05-26T05:31:00Z"},
		{"Thu, 25 May 2023 23:31:00", sh, "2023-05-25T15:31:00Z"},
		{"Thu, 25 May 2023 23:31:00 GMT", sh, "2023-05-25T23:31:00Z"},
		{"Thu, 25 May 2023 23:31:00 +0800", ny, "2023-05-25T15:31:00Z"},
		{"Thu, 25 May 2023 15:31:00 +0000", sh, "2023-05-25T15:31:00Z"},
		{"25 May 2023 23:31:00 +0800", sh, "2023-05-25T15:31:00Z"},
		{"2023-05-25T23:31:00+08:00", ny, "2023-05-25T15:31:00Z"},
		{"2023-05-25T15:31:00Z", sh, "2023-05-25T15:31:00Z"},
		{"2023-05-25T15:31:00.123Z", sh, "2023-05-25T15:31:00.123Z"},
		{"2023-05-25 23:31:00 +0800", ny, "2023-05-25T15:31:00Z"},
		{"2023-05-25 23:31:00 CST", sh, "2023-05-25T15:31:00Z"},
		{"Thu, 25 May 2023 23:31:00 XYZ", sh, ""},
		{"", sh, ""},
		{"昨天", sh, ""},
		{"2023-02-31", sh, ""},
	}
	for _, tc := range tests {
		t.Run(tc.in+"@"+tc.loc.String(), func(t *testing.T) {
			got, ok := ParseDate(tc.in, tc.loc, now)
			if tc.want == "" {
				if ok {
					t.Errorf("parsed as %s, want failure", got)
				}
				return
			}
			if !ok {
				t.Fatalf("not parsed, want %s", tc.want)
			}
			if got.Location() != time.UTC || got.Format(time.RFC3339Nano) != tc.want {
				t.Errorf("got %s, want %s", got.Format(time.RFC3339Nano), tc.want)
			}
		})
	}
}

func TestCanonicalLinkAndKey(t *testing.T) {
	tests := []struct {
		name string
		a, b string // must canonicalise identically
		want string
	}{
		{"tracking params and order", "HTTP://WWW.Zhaoqing.gov.cn:80/xwzx/a.html?b=2&a=1&utm_source=rss&spm=1.2#comments",
			"http://www.zhaoqing.gov.cn/xwzx/a.html?a=1&b=2&from=timeline&isappinstalled=0",
			"http://www.zhaoqing.gov.cn/xwzx/a.html?a=1&b=2"},
		{"wechat keeps __biz mid idx sn", "http://mp.weixin.qq.com/s?__biz=MzA5&mid=26&idx=1&sn=abc&chksm=xx&scene=126&sessionid=1&key=k&ascene=1#rd",
			"https://mp.weixin.qq.com/s?sn=abc&idx=1&mid=26&__biz=MzA5&mpshare=1&srcid=0525&sharer_shareid=9&clicktime=1&enterid=2",
			"https://mp.weixin.qq.com/s?__biz=MzA5&idx=1&mid=26&sn=abc"},
		{"wechat short link", "https://mp.weixin.qq.com/s/AbCdEf123?scene=1", "https://mp.weixin.qq.com/s/AbCdEf123",
			"https://mp.weixin.qq.com/s/AbCdEf123"},
		{"hash route kept", "https://example.gov.cn/#/detail/12?utm_source=x", "https://example.gov.cn/#/detail/12?utm_source=x",
			"https://example.gov.cn/#/detail/12?utm_source=x"},
		{"empty path", "https://example.gov.cn", "https://EXAMPLE.gov.cn:443/", "https://example.gov.cn/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := CanonicalLink(tc.a), CanonicalLink(tc.b)
			if ca != tc.want || cb != tc.want {
				t.Errorf("CanonicalLink:\n %q → %q\n %q → %q\nwant %q", tc.a, ca, tc.b, cb, tc.want)
			}
			if ItemKey("", tc.a, "x", time.Time{}) != ItemKey("", tc.b, "y", time.Time{}) {
				t.Errorf("keys differ")
			}
			if ItemKey(tc.a, "", "", time.Time{}) != ItemKey(tc.b, "", "", time.Time{}) {
				t.Errorf("URL GUID keys differ")
			}
		})
	}
	pub := time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC)
	if ItemKey("g1", "https://a/1", "t", pub) == ItemKey("g2", "https://a/1", "t", pub) {
		t.Error("different GUIDs share a key")
	}
	if ItemKey("", "", "标题", pub) != ItemKey("", "", " 标题 ", pub.In(time.FixedZone("x", 3600))) {
		t.Error("title+date key not stable")
	}
	if ItemKey("", "", "标题", pub) == ItemKey("", "", "标题", pub.Add(time.Minute)) {
		t.Error("title+date key ignores the date")
	}
}

func TestNormalizeStableIdentity(t *testing.T) {
	n := NewNormalizer()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	src := config.Source{ID: "s"}
	now := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	a := n.Normalize(src, sh, RawItem{Link: "./202305/t20230525_1.html?utm_medium=rss", BaseURL: "http://www.zhaoqing.gov.cn/xwzx/", Title: "标题", ContentHTML: "<p>正文</p>"}, now)
	b := n.Normalize(src, sh, RawItem{Link: "http://www.zhaoqing.gov.cn/xwzx/202305/t20230525_1.html#top", BaseURL: "http://other/", Title: "标题（修改）", ContentHTML: "<p>正文已修改</p>"}, now)
	if a.Key != b.Key {
		t.Errorf("keys differ: %s vs %s", a.Key, b.Key)
	}
	if a.ContentHash == b.ContentHash {
		t.Error("changed body kept the content hash")
	}
	if k := n.Key(src, sh, RawItem{Link: "./202305/t20230525_1.html?utm_medium=rss", BaseURL: "http://www.zhaoqing.gov.cn/xwzx/"}, now); k != a.Key {
		t.Errorf("Normalizer.Key = %s, Normalize gave %s", k, a.Key)
	}
	c := n.Normalize(src, sh, RawItem{Title: "无链接", Published: "2023-05-25"}, now)
	if k := n.Key(src, sh, RawItem{Title: "无链接", Published: "2023-05-25"}, now); k != c.Key {
		t.Errorf("Normalizer.Key (title+date) = %s, Normalize gave %s", k, c.Key)
	}
}

func TestCleanHTML(t *testing.T) {
	n := NewNormalizer()
	base := mustURL(t, "https://www.example.gov.cn/news/2023/a.html")
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"section soup to paragraphs",
			`<section style="x"><section><span style="color:red"><span>第一段</span></span></section><section><font color="#333">第二段</font></section></section>`,
			`<p>第一段</p><p>第二段</p>`},
		{"br br splits, single br kept", `<div>一<br>二<br><br>三</div>`, `<p>一<br/>二</p><p>三</p>`},
		{"empty spans and paragraphs dropped", `<p><span> </span></p><p>&nbsp;</p><p><br></p><p>内容</p><p><span></span></p>`, `<p>内容</p>`},
		{"lazy image and relative urls", `<p><img data-src="//mmbiz.qpic.cn/x.jpg" src="data:image/gif;base64,R0l"><img data-original="../img/b.png"><a href="c.html">链接</a></p>`,
			`<p><img src="https://mmbiz.qpic.cn/x.jpg"/><img src="https://www.example.gov.cn/news/img/b.png"/><a href="https://www.example.gov.cn/news/2023/c.html" rel="nofollow noreferrer noopener" target="_blank">链接</a></p>`},
		{"tables lists headings kept", `<h2><span>标题</span></h2><ul><li><span>甲</span></li></ul><table><tbody><tr><td><p><span>乙</span></p></td></tr></tbody></table>`,
			`<h2>标题</h2><ul><li>甲</li></ul><table><tbody><tr><td><p>乙</p></td></tr></tbody></table>`},
		{"rsshub trailer removed", `<p>正文</p><p>📍发表于：广东</p><p><a href="https://mp.weixin.qq.com/s/x">🔗️ 阅读原文</a></p>`, `<p>正文</p>`},
		{"plain text description", "第一行\n\n第二行 & <更多>", `<p>第一行</p><p>第二行 &amp; &lt;更多&gt;</p>`},
		{"xss vectors", `<p onclick="x()">a<script>alert(1)</script></p><img src=x onerror=alert(2)><a href="javascript:alert(3)">b</a><iframe src="//e"></iframe><svg onload=alert(4)></svg><p style="color:red" class="c" data-x="1">c</p>`,
			`<p>a</p><p><img src="https://www.example.gov.cn/news/2023/x"/>b</p><p>c</p>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.clean(tc.in, base, "").html; got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSummaryAndTitle(t *testing.T) {
	long := strings.Repeat("肇庆市召开重点项目建设推进会。", 30)
	n := NewNormalizer()
	it := n.Normalize(config.Source{ID: "s"}, time.UTC, RawItem{Title: "  标题\n\t<b>加粗</b> &amp; 符号\x07 ", ContentHTML: "<p>" + long + "</p>"}, time.Now())
	if it.Title != "标题加粗 & 符号" { // the line break between Han characters is joined
		t.Errorf("title = %q", it.Title)
	}
	if r := []rune(it.Summary); len(r) > 200 || len(r) < 100 || r[len(r)-1] != '。' {
		t.Errorf("summary (%d runes) not cut at a sentence end within 200: %q", len(r), it.Summary)
	}
	en := strings.Repeat("The council met on Friday. ", 30)
	it = n.Normalize(config.Source{ID: "s"}, time.UTC, RawItem{Title: "t", Summary: en}, time.Now())
	if r := []rune(it.Summary); len(r) > 300 || !strings.HasSuffix(it.Summary, "Friday.") {
		t.Errorf("english summary (%d runes): %q", len(r), it.Summary)
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"许晓雄率队赴深圳开展招商考察活动", "zh"},
		{"肇庆市GDP增长5%", "zh"},
		{"肇庆 GDP grew 5% in Q1 according to the statistics bureau 统计局", "en"},
		{"Guangdong and Hong Kong sign a new trade pact", "en"},
		{"Zhaoqing 肇 opens new rail link to Guangzhou", "en"},
		{"12345 !!!", ""},
		{"", ""},
		{"Привет мир", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := DetectLanguage(tc.in); got != tc.want {
				t.Errorf("DetectLanguage(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.example.com/feed?key=abc&page=2", "https://api.example.com/feed?key=xxxxx&page=xxxxx"},
		{"https://rsshub.example/wechat/mp/1?code=s3cr3t", "https://rsshub.example/wechat/mp/1?code=xxxxx"},
		{"https://rsshub.example/x?s3cr3t", "https://rsshub.example/x?s3cr3t=xxxxx"},
		{"https://rsshub.example/x?a=%zz;b=s3cr3t", "https://rsshub.example/x?xxxxx"},
		{"https://rsshub.example/x#access_token=s3cr3t", "https://rsshub.example/x#xxxxx"},
		{"https://user@rsshub.example/x", "https://xxxxx@rsshub.example/x"},
		{"https://u:p@rsshub.example/wechat?access_token=t", "https://xxxxx@rsshub.example/wechat?access_token=xxxxx"},
		{"http://www.zhaoqing.gov.cn/rss.xml", "http://www.zhaoqing.gov.cn/rss.xml"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRuneHeadAndCuts(t *testing.T) {
	long := strings.Repeat("肇庆", 300) // 600 runes, 1,800 bytes
	for _, tc := range []struct {
		s    string
		n    int
		head string
		cut  bool
	}{
		{"", 3, "", false},
		{"abc", 3, "abc", false},
		{"abcd", 3, "abc", true},
		{"大湾区", 2, "大湾", true},
		{"大湾区", 3, "大湾区", false},
		{"a\xffb", 2, "a\xff", true}, // an invalid byte is one rune, as []rune counts it
		{"abc", 0, "", true},
	} {
		head, cut := model.RuneHead(tc.s, tc.n)
		if head != tc.head || cut != tc.cut {
			t.Errorf("RuneHead(%q, %d) = %q, %v; want %q, %v", tc.s, tc.n, head, cut, tc.head, tc.cut)
		}
	}
	// The cuts keep what converting the whole text to runes kept.
	for _, n := range []int{1, 199, 200, 599, 600, 601} {
		want := long
		if r := []rune(long); len(r) > n {
			want = string(r[:n]) + "…"
		}
		if got := cutRunes(long, n); got != want {
			t.Errorf("cutRunes(600 runes, %d) has %d runes, want %d", n, utf8.RuneCountInString(got), utf8.RuneCountInString(want))
		}
	}
	if got := capRunes(long, 600); got != long {
		t.Errorf("capRunes(600 runes, 600) cut the text")
	}
	if got := capRunes(long, 10); utf8.RuneCountInString(got) != 10 || !strings.HasSuffix(got, "…") {
		t.Errorf("capRunes(600 runes, 10) = %q", got)
	}
	if got := cutSummary(long); utf8.RuneCountInString(got) != 201 || !strings.HasSuffix(got, "…") {
		t.Errorf("cutSummary(600 runes of Chinese) = %d runes, want 200 and the ellipsis", utf8.RuneCountInString(got))
	}
	sentences := strings.Repeat("招商考察活动。", 40) // 280 runes, a sentence end every 7
	if got := cutSummary(sentences); !strings.HasSuffix(got, "。") || utf8.RuneCountInString(got) > 200 {
		t.Errorf("cutSummary cut inside a sentence: %q", got)
	}
}

// bidiRunes are the controls stripBidi removes, as strings.ContainsAny was
// asked about them before hasBidi.
const bidiRunes = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

func TestHasBidi(t *testing.T) {
	for _, s := range []string{
		"", "abc", "肇庆市人民政府", "“大湾区”……——", // E2 80 9C/9D/A6/94: E2 bytes, no control
		"a\u202eb", "\u2066肇庆\u2069", "\u202a", "\u2069", "x\u2065y", "x\u206ay", "x\u2029y", // U+2065, U+206A, U+2029: neighbours
		"end\xe2", "end\xe2\x80", "\xe2\x80\xaa", "\xe2\xe2\x80\xae", // cut and doubled lead bytes
	} {
		if got, want := hasBidi(s), strings.ContainsAny(s, bidiRunes); got != want {
			t.Errorf("hasBidi(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzHasBidi(f *testing.F) {
	for _, s := range []string{"", "a\u202eb", "“肇庆”", "\xe2\x80", "\u2069x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasBidi(s), strings.ContainsAny(s, bidiRunes); got != want {
			t.Errorf("hasBidi(%q) = %v, strings.ContainsAny says %v", s, got, want)
		}
	})
}

// TestTailJunkWords checks that every tail line tailJunkRe matches holds one
// of tailJunkWords (the filter isTailJunk asks first), on the lines the
// expression was written for.
func TestTailJunkWords(t *testing.T) {
	for _, line := range []string{
		"责任编辑：李琴雯", "【责编：刘会】", "编辑|张三", "校对：王五", "审核︱赵六", "值班编辑：陈七",
		"转播到腾讯微博", "精彩视频推荐", "这篇文章相关度高吗？", "未经授权，不得转载", "分享到：", "上一篇：肇庆召开会议", "下一篇:无",
	} {
		if !tailJunkRe.MatchString(line) {
			t.Errorf("tailJunkRe does not match %q: the list is out of date", line)
		}
		if !isTailJunk(line) {
			t.Errorf("isTailJunk(%q) = false", line)
		}
	}
	for _, line := range []string{"肇庆市召开招商引资工作会议", "编制规划", "2026年12月4日"} {
		if isTailJunk(line) {
			t.Errorf("isTailJunk(%q) = true", line)
		}
	}
}

func FuzzTailJunkWords(f *testing.F) {
	for _, s := range []string{"责任编辑：李琴雯", "未经授权，不得转载", "分享到", "肇庆"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tailJunkRe.MatchString(s) && !slices.ContainsFunc(tailJunkWords, func(w string) bool { return strings.Contains(s, w) }) {
			t.Errorf("tailJunkRe matches %q, which holds none of tailJunkWords", s)
		}
	})
}
