package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/transfeed/transfeed/model"
)

func TestMissingNumbers(t *testing.T) {
	tests := []struct {
		src, en string
		missing []string
	}{
		{src: "2023年5月12日", en: "On May 12, 2023", missing: nil},
		{src: "2023年5月", en: "In 2023", missing: []string{"5"}},
		{src: "投资1,000万元", en: "an investment of 10 million yuan", missing: nil},
		{src: "投资1000万元", en: "an investment of 1,000 ten-thousand yuan", missing: nil},
		{src: "1.5亿元", en: "150 million yuan", missing: nil},
		{src: "3.5亿元", en: "350 million", missing: nil},
		{src: "增长12.5%", en: "grew by 12.5%", missing: nil},
		{src: "增长12.5%", en: "grew by 12%", missing: []string{"12.5"}},
		{src: "１２３家企业", en: "123 companies", missing: nil},
		{src: "14:30召开", en: "held at 2:30 p.m.", missing: nil},
		{src: "3个项目", en: "three projects", missing: nil},
		{src: "0758-2222222", en: "0758-2222222", missing: nil},
		{src: "126个项目和58家企业", en: "126 projects", missing: []string{"58"}},
		{src: "没有数字", en: "no numbers 42", missing: nil},
	}
	for _, tc := range tests {
		t.Run(tc.src+"→"+tc.en, func(t *testing.T) {
			if diff := cmp.Diff(tc.missing, missingNumbers(tc.src, tc.en), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSegment(t *testing.T) {
	long := "全市各级各部门要认真贯彻落实会议精神，切实抓好各项工作。" // 27 Han
	terms := []termUse{{Source: "大湾区", Target: "Greater Bay Area"}, {Source: "肇庆", Target: "Zhaoqing (肇庆)"}}
	tests := []struct {
		name, src, en string
		terms         []termUse
		want          string
	}{
		{name: "good", src: long, en: "All departments at all levels must earnestly implement the spirit of the meeting.", want: ""},
		{name: "empty", src: long, en: "  ", want: CheckEmpty},
		{name: "Han left", src: long, en: "All departments 认真 implement the spirit of the meeting and do it well.", want: CheckHan},
		{name: "target with Han counts as English", src: "肇庆大湾区", en: "Zhaoqing (肇庆) Greater Bay Area", terms: terms, want: ""},
		{name: "glossary case-insensitive", src: "大湾区", en: "greater bay area", terms: terms[:1], want: ""},
		{name: "glossary missing", src: "大湾区", en: "Dawan District", terms: terms[:1], want: CheckGlossary},
		{name: "too short", src: long, en: "Do it.", want: CheckRatio},
		{name: "too long", src: long, en: strings.Repeat("blah ", 80), want: CheckRatio},
		{name: "short source skips ratio", src: "会议", en: "The meeting of the standing committee of the people's congress", want: ""},
		{name: "number", src: "新增58家", en: "added 85", want: CheckNumbers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := checkSegment(tc.src, tc.en, tc.terms)
			if got != tc.want {
				t.Errorf("check %q (%s), want %q", got, reason, tc.want)
			}
		})
	}
}

func TestRestoreTags(t *testing.T) {
	sent := `请<a href="/a?x=1&amp;y=2" title='t'>点击</a>这里<img src="i.png"><b>重点</b>`
	tests := []struct {
		name, got, want string
		wantErr         bool
	}{
		{name: "same", got: `Please <a href="/a?x=1&amp;y=2" title='t'>click</a> here<img src="i.png"><b>key</b>`,
			want: `Please <a href="/a?x=1&amp;y=2" title='t'>click</a> here<img src="i.png"><b>key</b>`},
		{name: "requoted and reordered", got: `<b>Key</b>: click <a title="t" href="/a?x=1&y=2">here</a><img src=i.png />`,
			want: `<b>Key</b>: click <a href="/a?x=1&amp;y=2" title='t'>here</a><img src="i.png">`},
		{name: "tag dropped", got: `Please click here<img src="i.png"><b>key</b>`, wantErr: true},
		{name: "tag added", got: `Please <a href="/a?x=1&amp;y=2" title='t'>click</a> <i>here</i><img src="i.png"><b>key</b>`, wantErr: true},
		{name: "attribute changed", got: `Please <a href="/evil" title='t'>click</a> here<img src="i.png"><b>key</b>`, wantErr: true},
		{name: "mis-nested", got: `<a href="/a?x=1&amp;y=2" title='t'><b>click</a></b><img src="i.png">`, wantErr: true},
		{name: "text escaped", got: `<a href="/a?x=1&amp;y=2" title='t'>a < b & c</a><img src="i.png"><b>k</b>`,
			want: `<a href="/a?x=1&amp;y=2" title='t'>a &lt; b &amp; c</a><img src="i.png"><b>k</b>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := restoreTags(sent, tc.got)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNeedsTranslation(t *testing.T) {
	tests := []struct {
		name string
		mode string
		it   model.Item
		want bool
	}{
		{name: "chinese auto", mode: "auto", it: model.Item{Title: "市政府召开常务会议", Language: "en"}, want: true},
		{name: "english auto", mode: "auto", it: model.Item{Title: "Zhaoqing (肇庆) hosts trade fair", Summary: "The city of Zhaoqing hosted a fair."}, want: false},
		{name: "zh tag with Han", mode: "", it: model.Item{Title: "GDP增长", Language: "zh-CN"}, want: true},
		{name: "zh tag without Han", mode: "auto", it: model.Item{Title: "Annual report", Language: "zh"}, want: false},
		{name: "body only", mode: "auto", it: model.Item{ContentHTML: "<p>这是正文</p>"}, want: true},
		{name: "chinese with acronyms", mode: "auto", it: model.Item{Title: "APEC会议在肇庆举行，5G网络覆盖全市"}, want: true},
		{name: "chinese title over an english body", mode: "auto", it: model.Item{Title: "肇庆市举办国际投资推介会", Summary: strings.Repeat("The city of Zhaoqing hosted an investment fair for foreign companies. ", 5), Language: "en"}, want: true},
		{name: "english title over a chinese body", mode: "auto", it: model.Item{Title: "Zhaoqing investment fair", Summary: "肇庆市举办国际投资推介会，吸引多家外资企业参加。", Language: "en"}, want: true},
		{name: "never", mode: "never", it: model.Item{Title: "中文标题"}, want: false},
		{name: "always", mode: "always", it: model.Item{Title: "English"}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsTranslation(tc.mode, tc.it); got != tc.want {
				t.Errorf("NeedsTranslation = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSplitLong(t *testing.T) {
	s := strings.Repeat("一二三四五。", 5) + strings.Repeat("长", 23)
	pieces := splitLong(s, 12)
	if strings.Join(pieces, "") != s {
		t.Errorf("pieces %q do not add up", pieces)
	}
	for _, p := range pieces {
		if n := len([]rune(p)); n > 12 {
			t.Errorf("piece %q has %d characters", p, n)
		}
	}
	if got := splitLong("短文本", 0); len(got) != 1 {
		t.Errorf("no limit split: %q", got)
	}
}

func FuzzMissingNumbers(f *testing.F) {
	for _, s := range []string{"2023年5月", "1,000万", "１２．５％", "14:30", "3.5亿", "1,23,456", "9999999999999999999999"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, src, en string) {
		// A text always has its own numbers.
		if m := missingNumbers(src, src); len(m) != 0 && !strings.ContainsAny(src, "万亿千百") {
			t.Errorf("text lacks its own numbers %q", m)
		}
		_ = missingNumbers(src, en)
	})
}
