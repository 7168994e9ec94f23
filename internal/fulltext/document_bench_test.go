package fulltext

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkNewDocument is the import path's tokenising of one long post
// (English translation and Chinese original).
func BenchmarkNewDocument(b *testing.B) {
	raw, err := os.ReadFile("testdata/long_post.json")
	if err != nil {
		b.Fatal(err)
	}
	var post struct{ Titles, Bodies []string }
	if err := json.Unmarshal(raw, &post); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := NewDocument(post.Titles, post.Bodies); len(d.Body) == 0 {
			b.Fatal("no body terms")
		}
	}
}
