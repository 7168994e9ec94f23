package discover

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html/charset"
)

// corpusPage is one saved page of testdata/corpus and what the page itself
// shows (see testdata/corpus/README.md for origins).
type corpusPage struct {
	file string
	base string // the page's URL (from the page or inferred from its links)
	// post matches the links of the page's posts (and of nothing else on
	// the page: navigation, footer, side lists).
	post *regexp.Regexp
	// want is the number of posts the page shows.
	want int
	// dated: the page shows a date beside every post.
	dated bool
	// firstTitle, firstLink, firstDate describe the first post.
	firstTitle, firstLink, firstDate string
	// next is the page's "next page" URL ("" when the pager is JavaScript).
	next string
	// scripted: the posts open through JavaScript (onclick), so the right
	// outcome is no list (and an explanation), never links that go nowhere.
	scripted bool
}

var corpus = []corpusPage{
	{
		file: "foresttrip_notice_jslinks.html", base: "https://www.foresttrip.go.kr/pot/cc/nm/selectNticBbrssListView.do?hmpgId=0113",
		post: regexp.MustCompile(`twbbsId=\d+`), want: 10, dated: true, scripted: true,
	},
	{
		file: "pku_dean_notice_list.html", base: "https://dean.pku.edu.cn/web/notice.php",
		post: regexp.MustCompile(`/web/notice_details\.php\?id=\d+$`), want: 15, dated: true,
		firstTitle: "2026年6月13日全国大学英语四、六级考试考前通知", firstLink: "https://dean.pku.edu.cn/web/notice_details.php?id=746", firstDate: "2026-06-03",
		next: "https://dean.pku.edu.cn/web/notice.php?type=0&page=2",
	},
	{
		file: "pku_dean_index.html", base: "https://dean.pku.edu.cn/index.php",
		post: regexp.MustCompile(`/web/notice_details\.php\?id=\d+$`), want: 6, dated: true, // the dated 通知公告 block; 新闻资讯 shows 3 undated stories
		firstTitle: "25-26学年第2学期大学英语期末考试考场安排", firstLink: "https://dean.pku.edu.cn/web/notice_details.php?id=745", firstDate: "2026.06.02",
	},
	{
		file: "ptt_beauty_list.html", base: "https://www.ptt.cc/bbs/Beauty/index2219.html",
		post: regexp.MustCompile(`/bbs/Beauty/M\.\d+\.A\.[0-9A-F]{3}\.html$`), want: 17, dated: true, // 20 rows, 3 deleted posts without a link
		firstTitle: "[正妹] 橋本環奈", firstLink: "https://www.ptt.cc/bbs/Beauty/M.1499790734.A.833.html", firstDate: "7/12",
		next: "https://www.ptt.cc/bbs/Beauty/index2220.html",
	},
	{
		file: "mnd_plaactlist.html", base: "https://www.mnd.gov.tw/news/plaactlist",
		post: regexp.MustCompile(`^https://www\.mnd\.gov\.tw/news/plaact/\d+$`), want: 9, dated: true,
		firstTitle: "中共解放軍臺海周邊海、空域動態", firstLink: "https://www.mnd.gov.tw/news/plaact/86346", firstDate: "115.03.19",
		next: "https://www.mnd.gov.tw/news/plaactlist/2",
	},
	{
		file: "yichun_zwyw.html", base: "http://www.yichun.gov.cn/xxgk/zwdt/zwyw/",
		post: regexp.MustCompile(`/zwyw/201710/t201710\d\d_\d+\.html$`), want: 20, dated: true,
		firstTitle: "我市在广州举行生态招商推介会", firstLink: "http://www.yichun.gov.cn/xxgk/zwdt/zwyw/201710/t20171015_521060.html", firstDate: "2017-10-14",
		next: "http://www.yichun.gov.cn/xxgk/zwdt/zwyw/index_1.html",
	},
	{
		file: "stats_zxfb_fragment.html", base: "http://www.stats.gov.cn/tjsj/zxfb/",
		post: regexp.MustCompile(`/t20(19|20)\d{4}_\d+\.html$`), want: 20, dated: true,
		firstTitle: "解读：2019年12月份CPI涨幅稳定 PPI降幅收窄", firstLink: "http://www.stats.gov.cn/tjsj/sjjd/202001/t20200109_1721987.html", firstDate: "2020-01-09",
		next: "http://www.stats.gov.cn/tjsj/zxfb/index_1.html",
	},
	{
		file: "handan_xxgk.html", base: "http://hdzfxxgk.hd.gov.cn/",
		post: regexp.MustCompile(`/t2020\d{4}_\d+\.html$`), want: 23, dated: true, // 25 rows, 23 distinct documents
		firstTitle: "邯郸市教育局关于印发《全市教育系统安全专项整治三年行动实施方案》的通知", firstLink: "http://hdzfxxgk.hd.gov.cn/gszbm/auto23716/202008/t20200802_1352104.html", firstDate: "2020-08-02",
	},
	{
		file: "rtfund_xxpl_gbk.html", base: "http://www.rtfund.com/main/gyrt/xxpl/index.shtml",
		post: regexp.MustCompile(`/main/a/2020\d{4}/\d+\.shtml$`), want: 15, dated: true,
		firstTitle: "融通关于旗下部分开放式基金新增华瑞保险销售有限公司为销售机构并参加其费率优惠活动的公告", firstLink: "http://www.rtfund.com/main/a/20200709/12323944.shtml", firstDate: "2020-07-09",
	},
	{
		file: "dfa66_announcement.html", base: "https://www.dfa66.com/dfaets/news/infodisclosure/announcement/index.html",
		post: regexp.MustCompile(`/dfaets/contents/20\d\d/\d+/\d+-[0-9a-f]+\.html$`), want: 10, dated: true,
		firstTitle: "东方阿尔法优势产业混合型发起式证券投资基金可投资于科创板股票的公告", firstLink: "https://www.dfa66.com/dfaets/contents/2020/7/2-b51327b18dff4d8aa163774fcd9240e6.html", firstDate: "2020-07-02",
		next: "https://www.dfa66.com/dfaets/news/infodisclosure/announcement/index2.html",
	},
	{
		file: "hrfund_announcement.html", base: "http://www.hr-fund.com.cn/news/information_2.html",
		post: regexp.MustCompile(`/Upload/File/2020\d\d/\d+_\d+\.pdf$`), want: 10, dated: true,
		firstTitle: "华融基金管理有限公司关于旗下基金参加南京苏宁基金销售有限公司申购补差费费率优惠活动的公告", firstLink: "http://www.hr-fund.com.cn/Upload/File/202004/20200429175329_3226.pdf", firstDate: "2020-04-30",
		next: "http://www.hr-fund.com.cn/news/information_3.html",
	},
	{
		file: "hsqhfunds_announcement.html", base: "https://www.hsqhfunds.com/front/left_100186.jhtml",
		post: regexp.MustCompile(`/upload/user/1/2020-\d+-\d+/\d+\.pdf$`), want: 20, dated: true,
		firstTitle: "恒生前海沪深港通细分行业龙头指数证券投资基金开放日常申购、赎回、转换及定投业务的...", firstLink: "https://www.hsqhfunds.com/upload/user/1/2020-7-2/195400974278.pdf", firstDate: "2020-07-02",
	},
}

func loadCorpus(t testing.TB, p corpusPage) (*goquery.Document, *url.URL, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus", p.file))
	if err != nil {
		t.Fatal(err)
	}
	r, err := charset.NewReader(bytes.NewReader(raw), "text/html")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(p.base)
	if err != nil {
		t.Fatal(err)
	}
	return doc, base, body
}

// pageScore is how well a detection matches the page.
type pageScore struct {
	found, real, unique, missed int
	dates                       int
	ok                          bool
}

func scorePage(p corpusPage, det Detection) pageScore {
	var s pageScore
	if det.List == nil {
		s.missed = p.want
		return s
	}
	seen := map[string]bool{}
	for _, post := range det.List.Posts {
		s.found++
		if p.post.MatchString(post.Link) {
			s.real++
			seen[post.Link] = true
		}
		if post.Date != "" {
			s.dates++
		}
	}
	s.unique = len(seen)
	s.missed = max(0, p.want-s.unique)
	// The bar: the items are the page's posts (≥ 90% of them, no
	// navigation or footer links), with dates where the page shows them.
	s.ok = s.found > 0 && s.real == s.found && s.unique*10 >= p.want*9 && (!p.dated || s.dates*10 >= s.found*9)
	return s
}

func TestCorpusDetection(t *testing.T) {
	okPages := 0
	for _, p := range corpus {
		t.Run(p.file, func(t *testing.T) {
			doc, base, _ := loadCorpus(t, p)
			det := DetectList(doc, base, DetectOptions{})
			s := scorePage(p, det)
			if p.scripted {
				if det.List != nil {
					t.Errorf("a list of links that go nowhere was proposed: %+v", det.List.Selectors)
				}
				return
			}
			if det.List == nil {
				t.Fatalf("no list found; candidates: %+v", det.Candidates)
			}
			t.Logf("selectors %+v: %d posts, %d real, %d dated", det.List.Selectors, s.found, s.real, s.dates)
			if !s.ok {
				for i, post := range det.List.Posts {
					t.Logf("  [%d] %q %s %q", i, post.Title, post.Link, post.Date)
				}
				t.Errorf("want %d posts matching %s (dated=%v); got %d posts, %d real, %d dated", p.want, p.post, p.dated, s.found, s.real, s.dates)
				return
			}
			okPages++
			first := det.List.Posts[0]
			if first.Title != p.firstTitle || first.Link != p.firstLink || first.Date != p.firstDate {
				t.Errorf("first post = %q %s %q, want %q %s %q", first.Title, first.Link, first.Date, p.firstTitle, p.firstLink, p.firstDate)
			}
		})
	}
	t.Logf("corpus: %d/%d pages detected correctly", okPages, len(corpus))
}

// TestCorpusAccuracyReport prints the per-page figures (go test -run
// CorpusAccuracy -v ./feeds/discover/).
func TestCorpusAccuracyReport(t *testing.T) {
	var pages, okPages, real, realRows, want, found int
	for _, p := range corpus {
		doc, base, _ := loadCorpus(t, p)
		s := scorePage(p, DetectList(doc, base, DetectOptions{}))
		pages++
		if s.ok {
			okPages++
		}
		real += s.unique
		realRows += s.real
		want += p.want
		found += s.found
		t.Log(fmt.Sprintf("%-28s posts %2d/%2d found %2d dated %2d ok=%v", p.file, s.unique, p.want, s.found, s.dates, s.ok))
	}
	t.Logf("pages right: %d/%d; posts found %d of %d (precision %.1f%%, recall %.1f%%)",
		okPages, pages, real, want, 100*float64(realRows)/float64(max(found, 1)), 100*float64(real)/float64(max(want, 1)))
}
