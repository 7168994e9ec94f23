package gkmlpt

import (
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, root, column string
		err              bool
	}{
		{in: "http://www.zhaoqing.gov.cn/gkmlpt/index#5722", root: "http://www.zhaoqing.gov.cn/gkmlpt/", column: "5722"},
		{in: "http://www.zhaoqing.gov.cn/zqhjj/gkmlpt/index#2714", root: "http://www.zhaoqing.gov.cn/zqhjj/gkmlpt/", column: "2714"},
		{in: "https://www.gd.gov.cn/gkmlpt/mindex#/123", root: "https://www.gd.gov.cn/gkmlpt/", column: "123"},
		{in: "http://www.zhaoqing.gov.cn/gkmlpt/api/all/5722?page=1&sid=2", root: "http://www.zhaoqing.gov.cn/gkmlpt/", column: "5722"},
		{in: "http://www.zhaoqing.gov.cn/gkmlpt/", root: "http://www.zhaoqing.gov.cn/gkmlpt/"},
		{in: "http://www.zhaoqing.gov.cn/gkmlpt", root: "http://www.zhaoqing.gov.cn/gkmlpt/"},
		{in: "http://www.zhaoqing.gov.cn/xwzx/", err: true},
		{in: "ftp://x/gkmlpt/index#1", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseURL(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if tt.err {
				return
			}
			if c.Root.String() != tt.root || c.Column != tt.column {
				t.Errorf("got %s #%s, want %s #%s", c.Root, c.Column, tt.root, tt.column)
			}
		})
	}
	c, _ := ParseURL("http://www.zhaoqing.gov.cn/gkmlpt/index#5722")
	if got, want := c.ListURL("2", 1), "http://www.zhaoqing.gov.cn/gkmlpt/api/all/5722?page=1&sid=2"; got != want {
		t.Errorf("ListURL = %s, want %s", got, want)
	}
	if got, want := c.SourceURL(), "http://www.zhaoqing.gov.cn/gkmlpt/index#5722"; got != want {
		t.Errorf("SourceURL = %s, want %s", got, want)
	}
}

func TestParseConfig(t *testing.T) {
	page, err := os.ReadFile("testdata/index.html")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := ParseConfig(page)
	if !ok {
		t.Fatal("no config found")
	}
	want := Config{SID: "2", Columns: []Column{
		{ID: "5721", Name: "政策文件", PostCount: 214},
		{ID: "5722", Name: "市政府文件", PostCount: 120},
		{ID: "5723", Name: "市政府办公室文件", PostCount: 94},
		{ID: "5730", Name: "政府信息公开指南", JumpURL: "http://www.zhaoqing.gov.cn/xxgk/zn/"},
	}}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	if _, ok := ParseConfig([]byte("<html><script>var x = {SID: 1}</script></html>")); ok {
		t.Error("a page without window._CONFIG was read as a catalogue")
	}
}

func TestParseList(t *testing.T) {
	body, err := os.ReadFile("testdata/list.json")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	base, _ := url.Parse("http://www.zhaoqing.gov.cn/gkmlpt/api/all/5722?page=1&sid=2")
	l, problems, err := ParseList(body, base, loc)
	if err != nil {
		t.Fatal(err)
	}
	if l.Total != 3 || len(l.Articles) != 2 {
		t.Fatalf("total %d, %d articles; want 3 and 2", l.Total, len(l.Articles))
	}
	if len(problems) != 1 {
		t.Errorf("problems = %v, want one (the article without a title)", problems)
	}
	a := l.Articles[0]
	if a.PublishedFrom != "display_publish_time" || !a.Published.Equal(time.Date(2025, 12, 1, 20, 0, 0, 0, loc)) {
		t.Errorf("published %v from %s", a.Published.In(loc), a.PublishedFrom)
	}
	wantMeta := map[string]string{"索引号": "11441200MB2C91453G/2025-00271", "发布机构": "肇庆市人民政府", "文号": "肇府〔2025〕31号", "成文日期": "2025-12-01"}
	if d := cmp.Diff(wantMeta, a.Meta()); d != "" {
		t.Errorf("meta (-want +got):\n%s", d)
	}
	b := l.Articles[1]
	if b.ID != "3119502" || b.URL != "http://www.zhaoqing.gov.cn/gkmlpt/content/3/3119/post_3119502.html" {
		t.Errorf("second article %+v", b)
	}
	if b.PublishedFrom != "created_at" || !b.Published.Equal(time.Date(2025, 11, 28, 0, 0, 0, 0, loc)) {
		t.Errorf("second published %v from %s", b.Published.In(loc), b.PublishedFrom)
	}
	if _, ok := b.Meta()["文号"]; ok {
		t.Error("empty 文号 reported")
	}

	for name, bad := range map[string]string{"html": "<html>404</html>", "no articles": `{"classify": {"id": 1}}`} {
		if _, _, err := ParseList([]byte(bad), base, loc); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseList(f *testing.F) {
	body, _ := os.ReadFile("testdata/list.json")
	f.Add(body)
	f.Add([]byte(`{"articles":[{"id":[1],"title":{"a":1},"url":"::","date":"x"}]}`))
	loc := time.UTC
	base, _ := url.Parse("http://example.gov.cn/gkmlpt/api/all/1")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _, err := ParseList(b, base, loc)
		if err != nil {
			return
		}
		for _, a := range l.Articles {
			if a.Title == "" || a.URL == "" {
				t.Fatalf("article without title or url kept: %+v", a)
			}
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	page, _ := os.ReadFile("testdata/index.html")
	f.Add(page)
	f.Add([]byte("window._CONFIG = {TREE: [{id: 1, name: '"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := ParseConfig(b)
		if !ok && (c.SID != "" || len(c.Columns) > 0) {
			t.Fatal("config returned with ok=false")
		}
	})
}

func TestParseDetail(t *testing.T) {
	page, err := os.ReadFile("testdata/post.html")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := ParseDetail(page)
	want := `<p>各县（市、区）人民政府：</p><p>现将《规划》印发给你们，请认真组织实施。</p><p><a class="nfw-cms-attachment" href="/attachment/0/512/512345/3119861.pdf">规划文本.pdf</a></p>`
	if !ok || body != want {
		t.Errorf("ParseDetail = %q, %v; want %q", body, ok, want)
	}
	if _, ok := ParseDetail([]byte(`<html>DETAIL: {title: "x"}</html>`)); ok {
		t.Error("a DETAIL without content was read")
	}
}

func FuzzParseDetail(f *testing.F) {
	page, _ := os.ReadFile("testdata/post.html")
	f.Add(page)
	f.Add([]byte(`DETAIL: {content: "\u003Cp`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, ok := ParseDetail(b); ok && s == "" {
			t.Fatal("ok with an empty body")
		}
	})
}
