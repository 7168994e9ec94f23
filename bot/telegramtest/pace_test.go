package telegramtest

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps the server's complaints instead of
// failing the test, so the checks themselves can be checked.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) complaints() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// TestPaceBucket sends at given client times (the SentAtHeader) and counts
// the pacing complaints: a sender that keeps the pace, with one gap cut
// short in transit, passes; one that sends faster than the pace fails.
func TestPaceBucket(t *testing.T) {
	const gap = 10 * time.Millisecond
	cases := []struct {
		name   string
		offset []time.Duration // client send times, from the first
		want   int             // complaints
	}{
		{"steady at the pace", []time.Duration{0, 10, 20, 30, 40}, 0},
		{"one gap cut short", []time.Duration{0, 20, 21, 40, 60}, 0},
		{"twice as fast as the pace", []time.Duration{0, 5, 10, 15, 20, 25, 30}, 2},
		{"a burst of three", []time.Duration{0, 1, 2}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			s := New(rec, Options{MinInterval: gap})
			base := time.Now()
			for _, off := range tc.offset {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				_ = mw.WriteField("chat_id", "@pace_test")
				_ = mw.WriteField("text", "hello")
				_ = mw.Close()
				req, err := http.NewRequest(http.MethodPost, s.URL()+"/bot"+s.Token()+"/sendMessage", &body)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", mw.FormDataContentType())
				req.Header.Set(SentAtHeader, strconv.FormatInt(base.Add(off*gap/10).UnixNano(), 10))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if got := rec.complaints(); len(got) != tc.want {
				t.Errorf("%d complaints, want %d: %q", len(got), tc.want, got)
			}
		})
	}
}
