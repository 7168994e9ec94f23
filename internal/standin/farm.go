package standin

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"html"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transfeed/transfeed/model"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// cst is China Standard Time, the zone the farm's pubDates are written in.

// farm serves the RSS sources.
type farm struct {
	s       *Server
	sources []*source

	polls, conditional, notModified atomic.Int64
	failures, stalls, edits, ok     atomic.Int64
	bytes                           atomic.Int64
}

// source is the mutable state of one source: edits and what was served.
type source struct {
	n      int
	offset time.Duration // first new post appears at start+offset

	mu          sync.Mutex
	revisions   map[int]int // post number → revision (0 = original)
	editVersion int
	lastEdit    time.Time
	firstServed map[int]time.Time // post number → first 200 answer carrying it
}

func newFarm(s *Server) *farm {
	f := &farm{s: s, sources: make([]*source, s.opts.Sources)}
	for n := range f.sources {
		src := &source{n: n, revisions: map[int]int{}, firstServed: map[int]time.Time{}}
		if s.opts.NewEvery > 0 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/%d", s.opts.Seed, n)
			src.offset = time.Duration(h.Sum64() % uint64(s.opts.NewEvery))
		}
		f.sources[n] = src
	}
	return f
}

// count is how many posts source src has published by t.
func (f *farm) count(src *source, t time.Time) int {
	o := f.s.opts
	n := o.InitialPost
	if o.Static || o.NewEvery <= 0 {
		return n
	}
	if since := t.Sub(f.s.start) - src.offset; since >= 0 {
		n += int(since/o.NewEvery) + 1
	}
	return n
}

// published is the pubDate of post k of src: when it appeared, less
// Options.PubLag.
func (f *farm) published(src *source, k int) time.Time {
	return f.appeared(src, k).Add(-f.s.opts.PubLag)
}

// appeared is when post k of src appeared.
func (f *farm) appeared(src *source, k int) time.Time {
	o := f.s.opts
	if k < o.InitialPost {
		return f.s.start.Add(-time.Duration(o.InitialPost-k) * time.Hour).Truncate(time.Second)
	}
	return f.s.start.Add(src.offset + time.Duration(k-o.InitialPost)*o.NewEvery)
}

func (f *farm) isGBK(n int) bool {
	e := f.s.opts.GBKEvery
	return e > 0 && n%e == e-1
}

// GUID is the stable GUID of post k of source n.
func GUID(n, k int) string { return fmt.Sprintf("src-%d-post-%d", n, k) }

func (f *farm) lookup(w http.ResponseWriter, raw string) (*source, bool) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n >= len(f.sources) || strconv.Itoa(n) != raw {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return nil, false
	}
	return f.sources[n], true
}

func (f *farm) serveFeed(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".xml")
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	src, ok := f.lookup(w, name)
	if !ok {
		return
	}
	f.polls.Add(1)
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		f.conditional.Add(1)
	}
	o := f.s.opts
	if f.s.chance(o.FailRate) {
		f.failures.Add(1)
		code := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[f.s.intn(3)]
		http.Error(w, http.StatusText(code), code)
		return
	}
	if f.s.chance(o.TimeoutRate) {
		f.stalls.Add(1)
		t := time.NewTimer(o.Stall)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		http.Error(w, http.StatusText(http.StatusGatewayTimeout), http.StatusGatewayTimeout)
		return
	}
	now := f.s.now()
	count := f.count(src, now)
	first := max(0, count-o.FeedItems)

	src.mu.Lock()
	if !o.Static && f.s.chance(o.ChangeRate) {
		k := first + f.s.intn(count-first)
		src.revisions[k]++
		src.editVersion++
		src.lastEdit = now
		f.edits.Add(1)
	}
	modified := f.published(src, count-1)
	if src.lastEdit.After(modified) {
		modified = src.lastEdit
	}
	etag := fmt.Sprintf(`"s%d-c%d-e%d"`, src.n, count, src.editVersion)
	revs := make([]int, count-first)
	for i := range revs {
		revs[i] = src.revisions[first+i]
	}
	src.mu.Unlock()

	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	if notModified(inm, ims, etag, modified) {
		f.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.render(src, "http://"+r.Host, first, count, revs, modified)
	if f.isGBK(src.n) {
		w.Header().Set("Content-Type", "text/xml")
	} else {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if _, err := w.Write(body); err != nil {
		return
	}
	f.ok.Add(1)
	f.bytes.Add(int64(len(body)))
	src.mu.Lock()
	for k := first; k < count; k++ {
		if _, seen := src.firstServed[k]; !seen {
			src.firstServed[k] = now
		}
	}
	src.mu.Unlock()
}

// notModified applies RFC 9110: If-None-Match wins over If-Modified-Since.
func notModified(inm, ims, etag string, modified time.Time) bool {
	if inm != "" {
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == etag || tag == "*" {
				return true
			}
		}
		return false
	}
	if ims == "" {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(t)
}

// render writes the RSS 2.0 document for posts [first, count), newest first.
func (f *farm) render(src *source, base string, first, count int, revs []int, modified time.Time) []byte {
	gbk := f.isGBK(src.n)
	var b bytes.Buffer
	b.Grow((count - first) * 3000)
	enc := "UTF-8"
	if gbk {
		enc = "gb2312"
	}
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"%s\"?>\n<rss version=\"2.0\">\n<channel>\n", enc)
	fmt.Fprintf(&b, "<title>%s</title>\n<link>%s/src/%d/</link>\n", xmlText(sourceName(src.n)), base, src.n)
	fmt.Fprintf(&b, "<description>%s</description>\n<language>zh-cn</language>\n", xmlText(sourceName(src.n)+"最新动态"))
	fmt.Fprintf(&b, "<lastBuildDate>%s</lastBuildDate>\n", modified.In(model.China()).Format(time.RFC1123Z))
	for k := count - 1; k >= first; k-- {
		p := f.post(src.n, k, revs[k-first], base)
		b.WriteString("<item>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n<link>%s</link>\n", xmlText(p.title), xmlText(p.link))
		fmt.Fprintf(&b, "<guid isPermaLink=\"false\">%s</guid>\n", GUID(src.n, k))
		fmt.Fprintf(&b, "<pubDate>%s</pubDate>\n", f.published(src, k).In(model.China()).Format(time.RFC1123Z))
		fmt.Fprintf(&b, "<description><![CDATA[%s]]></description>\n", p.body)
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel>\n</rss>\n")
	if !gbk {
		return b.Bytes()
	}
	out, err := encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder()).Bytes(b.Bytes())
	if err != nil { // cannot happen with ReplaceUnsupported; serve UTF-8 rather than nothing
		return b.Bytes()
	}
	return out
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *farm) servePost(w http.ResponseWriter, r *http.Request) {
	src, ok := f.lookup(w, r.PathValue("n"))
	if !ok {
		return
	}
	name, _ := strings.CutSuffix(r.PathValue("post"), ".html")
	kraw, ok := strings.CutPrefix(name, "post-")
	k, err := strconv.Atoi(kraw)
	if !ok || err != nil || k < 0 || k >= f.count(src, f.s.now()) {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	src.mu.Lock()
	rev := src.revisions[k]
	src.mu.Unlock()
	p := f.post(src.n, k, rev, "http://"+r.Host)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n<div class=\"TRS_Editor\">%s</div>\n<div class=\"footer\">%s</div></body></html>\n",
		html.EscapeString(p.title), html.EscapeString(p.title), p.body, html.EscapeString(sourceName(src.n)))
}

func serveImage(w http.ResponseWriter, _ *http.Request) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, color.RGBA{R: 200, G: 30, B: 30, A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(b.Bytes())
}

// post is one generated post.
type post struct {
	title, link, body string
}

// post generates post k of source n at revision rev; the same arguments
// always give the same post.
func (f *farm) post(n, k, rev int, base string) post {
	rng := rand.New(rand.NewPCG(f.s.opts.Seed^uint64(n)<<32^uint64(k), uint64(rev)+1))
	titles := titleTemplates()
	p := post{
		title: fmt.Sprintf("%s（%d-%d）", titles[rng.IntN(len(titles))], n, k),
		link:  fmt.Sprintf("%s/src/%d/post-%d.html", base, n, k),
	}
	var b strings.Builder
	target := 1000 + rng.IntN(2000)
	paras, boiler := paragraphTemplates(), boilerplate()
	withImage := rng.IntN(10) < 3
	for i := 0; b.Len() < target; i++ {
		var text string
		if rng.IntN(10) < 3 {
			text = boiler[rng.IntN(len(boiler))]
		} else {
			tpl := paras[rng.IntN(len(paras))]
			text = fmt.Sprintf(tpl, 1+rng.IntN(12), 1+rng.IntN(28), 1+rng.IntN(900), rng.IntN(10))
		}
		b.WriteString("<p>")
		b.WriteString(html.EscapeString(text))
		b.WriteString("</p>")
		if i == 1 && withImage {
			fmt.Fprintf(&b, `<p><img src="%s/img/%d-%d.png" alt="现场图片"/></p>`, base, n, k)
		}
	}
	if rev > 0 {
		fmt.Fprintf(&b, "<p>【更新】本文已于发布后修订，当前为第%d版。</p>", rev+1)
	}
	p.body = b.String()
	return p
}

func sourceName(n int) string {
	names := []string{"肇庆市人民政府", "肇庆市发展和改革局", "肇庆市商务局", "肇庆高新区管委会", "端州区人民政府", "四会市人民政府"}
	return fmt.Sprintf("%s（信息源%d）", names[n%len(names)], n)
}

func titleTemplates() []string {
	return []string{
		"肇庆市召开重点项目建设推进会",
		"市政府常务会议研究部署经济高质量发展工作",
		"肇庆新能源汽车产业项目集中签约",
		"关于印发肇庆市招商引资工作方案的通知",
		"市委书记调研大湾区产业合作项目",
		"肇庆市新闻发布会介绍全市投资情况",
		"广东省重点项目在肇庆开工建设",
		"我市企业参加粤港澳大湾区经贸合作洽谈会",
	}
}

// paragraphTemplates take (month, day, number, digit).
func paragraphTemplates() []string {
	return []string{
		"%d月%d日，肇庆市召开重点项目建设工作会议，市委书记出席会议并讲话，会议总结了第%d批项目进展情况，共有%d个问题需要协调。",
		"今年%d月至%d月，全市新能源汽车产业完成投资%d.%d亿元，同比增长明显，产业发展势头良好。",
		"会议指出，要坚持高质量发展，加快推进%d月%d日签约的%d个重点项目建设，确保%d项任务按期完成。",
		"据介绍，%d月%d日当天共有%d家企业签约落户，总投资额达%d亿元，涉及新能源、汽车和电子信息等产业。",
		"市长在调研时强调，各级政府要优化营商环境，%d月底前完成%d个审批事项改革，服务企业超过%d家，满意率达到9%d%%。",
		"广东省发展和改革委员会%d月%d日公布的数据显示，肇庆市地区生产总值达到%d.%d亿元。",
		"副市长主持召开招商引资工作会议，听取了%d月%d日以来%d个在谈项目的情况汇报，要求%d个部门密切合作。",
	}
}

// boilerplate paragraphs are shared by every source (footers, slogans).
func boilerplate() []string {
	return []string{
		"肇庆市人民政府主办",
		"欢迎更多企业到大湾区投资兴业。",
		"本网站所刊登的信息未经授权不得转载。",
		"主办单位：肇庆市人民政府办公室　承办单位：肇庆市政务服务数据管理局",
		"扫一扫在手机打开当前页",
	}
}
