package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImagesOf(t *testing.T) {
	tests := []struct {
		name string
		it   Item
		want []string
	}{
		{"none", Item{ContentHTML: "<p>text</p>"}, nil},
		{"image first, then the body's, each once", Item{
			ImageURL:    "https://www.gov.cn/a.jpg",
			ContentHTML: `<p><img src="https://www.gov.cn/b.jpg"><img src="https://www.gov.cn/a.jpg"></p><p><img src="http://www.gov.cn/c.png" alt="c"/></p>`,
		}, []string{"https://www.gov.cn/a.jpg", "https://www.gov.cn/b.jpg", "http://www.gov.cn/c.png"}},
		{"icons and relative or data sources skipped", Item{
			ContentHTML: `<img src="https://x.org/icon.gif" width="41" height="36"><img src="/rel.jpg"><img src="data:image/png;base64,AAAA"><img src="https://x.org/big.jpg" width="640">`,
		}, []string{"https://x.org/big.jpg"}},
		{"english body when the original has none", Item{ContentHTML: "<p>x</p>", ContentHTMLEN: `<p><img src="https://x.org/e.jpg"></p>`}, []string{"https://x.org/e.jpg"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ImagesOf(tc.it)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkImagesOf(b *testing.B) {
	var body string
	for i := range 200 {
		body += "<p>The municipal government announced new measures for enterprises and residents of the city.</p>"
		if i%20 == 0 {
			body += `<p><img src="https://www.gov.cn/img/` + string(rune('a'+i/20)) + `.jpg" width="640"></p>`
		}
	}
	it := Item{ImageURL: "https://www.gov.cn/lead.jpg", ContentHTML: body}
	b.ReportAllocs()
	for b.Loop() {
		if n := len(ImagesOf(it)); n != 11 {
			b.Fatalf("%d images", n)
		}
	}
}
