package standin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkFeed304 is one conditional poll of a static 1,000-source farm
// answered 304, as in transfeed's 304 benchmark.
func BenchmarkFeed304(b *testing.B) {
	s, err := New(Options{Sources: 1000, Static: true}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/src/7.xml", nil))
	etag := rec.Header().Get("ETag")
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/src/7.xml", nil)
		req.Header.Set("If-None-Match", etag)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkFeedRender renders a full 20-post feed (UTF-8 and GB2312).
func BenchmarkFeedRender(b *testing.B) {
	for _, path := range []string{"/src/0.xml", "/src/4.xml"} {
		b.Run(path, func(b *testing.B) {
			s, err := New(Options{Sources: 5, NewEvery: time.Second}, nil, func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) })
			if err != nil {
				b.Fatal(err)
			}
			s.start = s.start.Add(-time.Minute) // 60+ posts published
			h := s.Handler()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}
