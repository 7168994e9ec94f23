package discover

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// bigPage is a ~500 KB list page: the corpus pages' bodies one after the
// other, repeated, inside one document.
func bigPage(b *testing.B) []byte {
	var body bytes.Buffer
	body.WriteString("<html><head><title>big</title></head><body>")
	for body.Len() < 500_000 {
		for _, p := range corpus {
			_, _, page := loadCorpus(b, p)
			body.Write(page)
		}
	}
	body.WriteString("</body></html>")
	return body.Bytes()
}

// BenchmarkDetect500KB parses and detects one 500 KB page (the issue's
// budget: ≤ 50 ms of CPU). Run: go test -bench Detect500KB ./feeds/discover/
func BenchmarkDetect500KB(b *testing.B) {
	page := bigPage(b)
	base, _ := url.Parse("http://www.yichun.gov.cn/xxgk/zwdt/zwyw/")
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, n := cpuTime(b), 0
	for b.Loop() {
		n++
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
		if err != nil {
			b.Fatal(err)
		}
		if d := DetectList(doc, base, DetectOptions{}); d.List == nil {
			b.Fatal("no list")
		}
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
}
