package server

import (
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// benchSearchHits are n translated posts shaped like the search benchmark's
// (store/search_bench_test.go, scripts/search-bench.sh): a title and 8–17
// paragraphs in English and Chinese drawn from testdata/search-phrases.tsv.
// Every post has needle in its English or Chinese body.
func benchSearchHits(b *testing.B, n int, needle string) []store.SearchHit {
	b.Helper()
	raw, err := os.ReadFile("testdata/search-phrases.tsv")
	if err != nil {
		b.Fatal(err)
	}
	var phrases [][2]string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		en, zh, ok := strings.Cut(line, "\t")
		if !ok {
			b.Fatalf("testdata/search-phrases.tsv: no tab in %q", line)
		}
		phrases = append(phrases, [2]string{en, zh})
	}
	r := rand.New(rand.NewPCG(1, 2))
	var hits []store.SearchHit
	for i := 0; len(hits) < n; i++ {
		t := phrases[r.IntN(len(phrases))]
		var en, zh strings.Builder
		for range 8 + r.IntN(10) {
			p := phrases[r.IntN(len(phrases))]
			fmt.Fprintf(&en, "<p>%s It concerns item %d.</p>", p[0], r.IntN(100000))
			fmt.Fprintf(&zh, "<p>%s 第%d项。</p>", p[1], r.IntN(100000))
		}
		if !strings.Contains(strings.ToLower(en.String()), needle) && !strings.Contains(zh.String(), needle) {
			continue
		}
		at := testNow.Add(-time.Duration(i) * time.Hour)
		hits = append(hits, store.SearchHit{Item: model.Item{
			ID: int64(1000 + i), SourceID: "zhaoqing-news", Key: fmt.Sprint("b", i), State: model.StateReady,
			Title: strings.TrimSuffix(t[1], "。"), ContentHTML: zh.String(), Language: "zh",
			TitleEN: strings.TrimSuffix(t[0], "."), ContentHTMLEN: en.String(), TranslatedBy: "bench/model",
			Published: at, ReadyAt: at, TranslatedAt: at, ContentHash: "h",
		}})
	}
	return hits
}

// BenchmarkSearchResults is the CPU a page of 20 results costs the server
// beyond the store's search: the hits' views (titles and snippets in both
// languages) and the page's markup, for a query not asked before (the page
// cache is not used).
func BenchmarkSearchResults(b *testing.B) {
	s, _ := newTestServer(b)
	for _, q := range []struct{ text, needle string }{{"investment", "investment"}, {"bay area", "bay area"}, {"湾区", "湾区"}} {
		hits := benchSearchHits(b, searchPageSize, q.needle)
		for _, seen := range []bool{false, true} {
			name := q.text + "/new-posts"
			if seen {
				// Posts other searches have shown: their text is kept.
				name = q.text + "/seen-posts"
			}
			b.Run(name, func(b *testing.B) {
				sr := s.parseSearch(httptest.NewRequest("GET", "/search?q="+url.QueryEscape(q.text), nil))
				if sr.problem != "" {
					b.Fatal(sr.problem)
				}
				res := store.SearchResult{Hits: hits}
				marks := 0
				began := cpuTime(b)
				for b.Loop() {
					if !seen {
						s.snippetTexts = newSnippetTexts(maxSnippetTexts, maxSnippetTextBytes)
					}
					view := &searchView{Query: sr.text}
					s.fillResults(view, sr, res)
					body, err := s.renderSearch(sr, view)
					if err != nil {
						b.Fatal(err)
					}
					marks = strings.Count(string(body), "<mark>")
				}
				// The process's CPU time per page: wall time is the share of 2
				// cores the machine's other jobs leave.
				b.ReportMetric(float64(cpuTime(b)-began)/float64(b.N), "cpu-ns/op")
				if marks < searchPageSize {
					b.Fatalf("%d marks on a page of %d hits", marks, searchPageSize)
				}
			})
		}
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
