package telegram

import (
	"testing"

	"github.com/transfeed/transfeed/store"
)

func TestReviewCallbackData(t *testing.T) {
	tests := []struct {
		data   string
		answer store.ReviewAnswer
		id     int64
		ok     bool
	}{
		{reviewCallback('a', 7), store.AnswerApprove, 7, true},
		{reviewCallback('s', 123456789), store.AnswerSkip, 123456789, true},
		{reviewCallback('r', 1), store.AnswerRetranslate, 1, true},
		{"rv:x:7", 0, 0, false},
		{"rv:a:", 0, 0, false},
		{"rv:a:-3", 0, 0, false},
		{"rv:a7", 0, 0, false},
		{"other:a:7", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.data, func(t *testing.T) {
			a, id, ok := parseReviewCallback(tc.data)
			if a != tc.answer || id != tc.id || ok != tc.ok {
				t.Errorf("parse(%q) = %v %d %t, want %v %d %t", tc.data, a, id, ok, tc.answer, tc.id, tc.ok)
			}
			if len(tc.data) > 64 {
				t.Errorf("callback data %q longer than Telegram's 64 bytes", tc.data)
			}
		})
	}
}

func FuzzReviewCallback(f *testing.F) {
	f.Add("rv:a:7")
	f.Add("rv:r:9223372036854775807")
	f.Fuzz(func(t *testing.T, data string) {
		a, id, ok := parseReviewCallback(data)
		if !ok {
			return
		}
		letter := map[store.ReviewAnswer]byte{store.AnswerApprove: 'a', store.AnswerSkip: 's', store.AnswerRetranslate: 'r'}[a]
		if back := reviewCallback(letter, id); id <= 0 || letter == 0 || len(back) > 64 {
			t.Fatalf("parse(%q) = %v %d: not a valid answer", data, a, id)
		}
	})
}
