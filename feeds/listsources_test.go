package feeds

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
)

// corpusServer serves saved pages of feeds/discover/testdata/corpus at the
// paths their links expect; rewrite edits a body before it is served.
func corpusServer(t *testing.T, routes map[string]string, rewrite func(path string, body []byte) []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("fixture %s: %v", file, err)
			http.Error(w, "fixture missing", http.StatusInternalServerError)
			return
		}
		if rewrite != nil {
			body = rewrite(r.URL.Path, body)
		}
		switch {
		case strings.HasSuffix(file, ".json"):
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		default:
			w.Header().Set("Content-Type", "text/html")
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func corpusFile(name string) string { return filepath.Join("discover", "testdata", "corpus", name) }

// A type: html source without selectors reads the same posts as discover,
// records the list's shape, and on a first import follows the next pages.
func TestPollHTMLWithoutSelectors(t *testing.T) {
	page2 := func(path string, body []byte) []byte {
		if path != "/xxgk/zwdt/zwyw/index_1.html" {
			return body
		}
		// The second page of the column: older posts, and no third page.
		body = bytes.ReplaceAll(body, []byte("t201710"), []byte("t201709"))
		return bytes.ReplaceAll(body, []byte(`createPageHTML(50, 0, "index", "html")`), []byte(`createPageHTML(2, 1, "index", "html")`))
	}
	srv := corpusServer(t, map[string]string{
		"/xxgk/zwdt/zwyw/":             corpusFile("yichun_zwyw.html"),
		"/xxgk/zwdt/zwyw/index_1.html": corpusFile("yichun_zwyw.html"),
	}, page2)
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	src := config.Source{ID: "yichun", URL: srv.URL + "/xxgk/zwdt/zwyw/", Type: "html"}

	res, err := f.Poll(context.Background(), src, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 40 {
		t.Fatalf("first import read %d posts, want 40 (two pages of 20)", len(res.Items))
	}
	if res.Shape == "" || res.Selectors == nil || res.Selectors.Date != "td:nth-of-type(2)" {
		t.Errorf("shape %q, selectors %+v", res.Shape, res.Selectors)
	}
	first := res.Items[0]
	if first.Title != "我市在广州举行生态招商推介会" || !strings.HasSuffix(first.Link, "/zwyw/201710/t20171015_521060.html") {
		t.Errorf("first post %q %s", first.Title, first.Link)
	}
	if got := first.Published.In(chinaForTest(t)).Format("2006-01-02"); got != "2017-10-14" {
		t.Errorf("first post dated %s, want 2017-10-14", got)
	}
	for _, it := range res.Items {
		if !strings.Contains(it.Link, "/zwyw/2017") {
			t.Errorf("not a post of the column: %q %s", it.Title, it.Link)
		}
	}

	// A later poll that knows the first page's posts reads one page.
	known := map[string]bool{}
	for _, it := range res.Items[:20] {
		known[it.Key] = true
	}
	res2, err := f.Poll(context.Background(), src, Validators{}, func(k string) bool { return known[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Items) != 20 || res2.Shape != res.Shape {
		t.Errorf("second poll: %d posts, shape %q (was %q)", len(res2.Items), res2.Shape, res.Shape)
	}
}

func TestPollHTMLWithoutSelectorsNothingFound(t *testing.T) {
	srv := corpusServer(t, map[string]string{"/": corpusFile("netease_forum_head.html")}, nil)
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	_, err := f.Poll(context.Background(), config.Source{ID: "x", URL: srv.URL + "/", Type: "html"}, Validators{}, nil)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindParse || !strings.Contains(err.Error(), "transfeed discover") {
		t.Fatalf("err = %v, want a parse error pointing at discover", err)
	}
}

func TestPollGkmlpt(t *testing.T) {
	var srvURL string
	var srv *httptest.Server
	srv = corpusServer(t, map[string]string{
		"/gkmlpt/index":                            filepath.Join("gkmlpt", "testdata", "index.html"),
		"/gkmlpt/api/all/5722":                     filepath.Join("gkmlpt", "testdata", "list.json"),
		"/gkmlpt/content/3/3119/post_3119861.html": filepath.Join("gkmlpt", "testdata", "post.html"),
	}, func(path string, body []byte) []byte {
		return bytes.ReplaceAll(body, []byte("http://www.zhaoqing.gov.cn"), []byte(srvURL))
	})
	srvURL = srv.URL
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	src := config.Source{ID: "zq-szfwj", URL: srv.URL + "/gkmlpt/index#5722", Type: "gkmlpt"}
	res, err := f.Poll(context.Background(), src, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 2 {
		t.Fatalf("%d posts, want 2 (the third has no title)", len(res.Items))
	}
	a := res.Items[0]
	loc := chinaForTest(t)
	if a.Title != "肇庆市人民政府关于印发肇庆市国土空间总体规划（2021—2035年）的通知" || !a.Published.Equal(time.Date(2025, 12, 1, 20, 0, 0, 0, loc)) {
		t.Errorf("first post %q at %v", a.Title, a.Published.In(loc))
	}
	for _, want := range []string{"索引号", "11441200MB2C91453G/2025-00271", "肇府〔2025〕31号", "现将《规划》印发给你们"} {
		if !strings.Contains(a.ContentHTML, want) {
			t.Errorf("body lacks %q:\n%s", want, a.ContentHTML)
		}
	}
	b := res.Items[1]
	if !strings.Contains(b.ContentHTML, "<th>发布机构</th><td>肇庆市人民政府办公室</td>") || !strings.Contains(b.Summary, "肇庆市人民政府办公室") {
		t.Errorf("second post lacks its metadata: summary %q, body %q", b.Summary, b.ContentHTML)
	}
	if !strings.HasSuffix(b.Link, "/gkmlpt/content/3/3119/post_3119502.html") {
		t.Errorf("second post link %s", b.Link)
	}
	// The metadata is also the post's Meta (post page, feeds, items -json).
	if a.Meta["文号"] != "肇府〔2025〕31号" || b.Meta["发布机构"] != "肇庆市人民政府办公室" {
		t.Errorf("meta: first %v, second %v", a.Meta, b.Meta)
	}
}

func chinaForTest(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The selectors discover prints read, through a type: html source, the
// same posts discover showed (every corpus page).
func TestDetectedSelectorsReadTheSamePosts(t *testing.T) {
	files, err := filepath.Glob(corpusFile("*.html"))
	if err != nil || len(files) < 9 {
		t.Fatalf("corpus: %v, %d files", err, len(files))
	}
	for _, file := range files {
		if strings.Contains(file, "netease_forum_head") || strings.Contains(file, "jslinks") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			body := DecodeToUTF8(raw, "text/html")
			base := "http://www.example.gov.cn/col/list/index.html"
			list, err := detectList(body, base)
			if err != nil {
				t.Fatal(err)
			}
			raws, err := parseHTMLList(body, base, &list.Selectors)
			if err != nil {
				t.Fatal(err)
			}
			if len(raws) != len(list.Posts) {
				t.Fatalf("type html read %d posts, discover showed %d (selectors %+v)", len(raws), len(list.Posts), list.Selectors)
			}
			for i, r := range raws {
				p := list.Posts[i]
				u, _ := url.Parse(r.BaseURL)
				if r.Title != p.Title || resolveURL(u, r.Link) != p.Link || r.Published != p.Date {
					t.Errorf("post %d: type html read %q %s %q; discover showed %q %s %q", i, r.Title, resolveURL(u, r.Link), r.Published, p.Title, p.Link, p.Date)
				}
			}
		})
	}
}

// A first import of a gkmlpt column reads its next pages until a 404.
func TestPollGkmlptFirstImportPages(t *testing.T) {
	list, err := os.ReadFile(filepath.Join("gkmlpt", "testdata", "list.json"))
	if err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join("gkmlpt", "testdata", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gkmlpt/index":
			_, _ = w.Write(index)
		case "/gkmlpt/api/all/5722":
			page := r.URL.Query().Get("page")
			pages = append(pages, page)
			if r.URL.Query().Get("sid") != "2" {
				t.Errorf("list asked without the catalogue's SID: %s", r.URL)
			}
			body := bytes.Replace(list, []byte(`"total": 3`), []byte(`"total": 250`), 1)
			switch page {
			case "1":
			case "2": // older documents
				body = bytes.ReplaceAll(body, []byte("3119"), []byte("2119"))
			default:
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := NewFetcher(FetchOptions{Timeout: 5 * time.Second}, discardLogger())
	res, err := f.Poll(context.Background(), config.Source{ID: "zq", URL: srv.URL + "/gkmlpt/index#5722", Type: "gkmlpt"}, Validators{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 4 || strings.Join(pages, ",") != "1,2,3" {
		t.Errorf("%d posts from pages %v; want 4 from pages 1,2,3 (3 answers 404)", len(res.Items), pages)
	}
	// A later poll that knows the posts reads page 1 only.
	pages = nil
	if _, err := f.Poll(context.Background(), config.Source{ID: "zq", URL: srv.URL + "/gkmlpt/index#5722", Type: "gkmlpt"}, Validators{},
		func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(pages, ",") != "1" {
		t.Errorf("later poll read pages %v, want 1", pages)
	}
}
