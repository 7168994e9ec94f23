package model

import (
	"testing"
	"time"
)

func TestDateLabel(t *testing.T) {
	seen := time.Date(2023, 5, 25, 15, 31, 0, 0, time.UTC)
	tests := []struct {
		name string
		it   Item
		want string
	}{
		{"dated", Item{Published: time.Date(2019, 10, 31, 15, 0, 0, 0, time.UTC), FirstSeen: seen}, "2019-10-31 23:00 CST"},
		{"unknown shows first seen, never as the date", Item{DateUnknown: true, FirstSeen: seen}, "date unknown (first seen 2023-05-25 23:31 CST)"},
		{"unknown, not stored yet", Item{DateUnknown: true}, "date unknown"},
	}
	for _, tt := range tests {
		if got := DateLabel(tt.it, China()); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := (Item{FirstSeen: seen}).SortTime(); !got.Equal(seen) {
		t.Errorf("SortTime of an undated post = %v, want first seen", got)
	}
}

func TestMetaFields(t *testing.T) {
	got := MetaFields(map[string]string{"发布日期": "2019-04-30", "索引号": "000014349/2019-00064", "自定义": "x", "发文字号": "国办发〔2019〕19号"})
	want := []string{"Index number (索引号): 000014349/2019-00064", "Document number (发文字号): 国办发〔2019〕19号", "Date published (发布日期): 2019-04-30", "自定义: x"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i].String(), want[i])
		}
	}
	if MetaFields(nil) != nil {
		t.Error("no metadata should give nil")
	}
}

func TestPlainTextKeepsSpacesBetweenHan(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>作者：李琴雯 刘会</p>", "作者：李琴雯 刘会"},
		{"<p>大赛 湖南省赛区</p>", "大赛 湖南省赛区"},
		{"<p>第一届大赛\n    湖南省赛区</p>", "第一届大赛湖南省赛区"},
		{"<p>Hello\nworld</p>", "Hello world"},
		{"<p>段一</p><p>段二</p>", "段一 段二"},
		{"<b>加</b><b>粗</b>", "加粗"},
	}
	for _, tt := range tests {
		if got := PlainText(tt.in, 0); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
