package tghtml

import (
	"fmt"
	"strings"
	"testing"
)

func photos(n int, caption string) string {
	var items []string
	for i := range n {
		c := ""
		if i == 0 && caption != "" {
			c = fmt.Sprintf(`,"caption":%q,"parse_mode":"HTML"`, caption)
		}
		items = append(items, fmt.Sprintf(`{"type":"photo","media":"https://www.gov.cn/img/%d.jpg"%s}`, i, c))
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestCheckMediaGroup(t *testing.T) {
	tests := []struct {
		name, raw string
		files     map[string]bool
		wantErr   string
	}{
		{name: "two", raw: photos(2, "<b>t</b>")},
		{name: "ten", raw: photos(10, "<b>t</b>")},
		{name: "one", raw: photos(1, ""), wantErr: "2-10 items, got 1"},
		{name: "eleven", raw: photos(11, ""), wantErr: "2-10 items, got 11"},
		{name: "caption too long", raw: photos(3, strings.Repeat("x", 1025)), wantErr: "too long (1025 > 1024)"},
		{name: "caption bad html", raw: photos(3, "<p>x</p>"), wantErr: "unsupported start tag"},
		{name: "attach without file", raw: `[{"type":"photo","media":"attach://a"},{"type":"photo","media":"attach://b"}]`, files: map[string]bool{"a": true}, wantErr: "attach://b not found"},
		{name: "attach with files", raw: `[{"type":"photo","media":"attach://a"},{"type":"photo","media":"attach://b"}]`, files: map[string]bool{"a": true, "b": true}},
		{name: "audio with photo", raw: `[{"type":"audio","media":"https://x.org/a.mp3"},{"type":"photo","media":"https://x.org/a.jpg"}]`, wantErr: "own kind"},
		{name: "unknown field", raw: `[{"type":"photo","media":"https://x.org/a.jpg","thumb":"x"},{"type":"photo","media":"https://x.org/b.jpg"}]`, wantErr: "unknown field"},
		{name: "not an array", raw: `{"type":"photo"}`, wantErr: "can't parse"},
		{name: "empty media", raw: `[{"type":"photo","media":""},{"type":"photo","media":"https://x.org/b.jpg"}]`, wantErr: "no media"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckMediaGroup(tc.raw, tc.files)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestCheckLinkPreview(t *testing.T) {
	tests := []struct {
		raw     string
		want    LinkPreview
		wantErr bool
	}{
		{"", LinkPreview{}, false},
		{`{"is_disabled":true}`, LinkPreview{IsDisabled: true}, false},
		{`{"url":"https://example.org/posts/1","prefer_large_media":true}`, LinkPreview{URL: "https://example.org/posts/1", PreferLargeMedia: true}, false},
		{`{"url":"javascript:alert(1)"}`, LinkPreview{}, true},
		{`{"disabled":true}`, LinkPreview{}, true},
		{`{"prefer_small_media":true,"prefer_large_media":true}`, LinkPreview{}, true},
	}
	for _, tc := range tests {
		got, err := CheckLinkPreview(tc.raw)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("CheckLinkPreview(%q) = %+v, %v; want %+v, error %v", tc.raw, got, err, tc.want, tc.wantErr)
		}
	}
}
