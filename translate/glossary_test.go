package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGlossaryApply(t *testing.T) {
	g, err := NewGlossary(map[string]string{
		"大湾区":    "Greater Bay Area",
		"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area",
		"市长":     "Mayor",
		"副市长":    "Vice Mayor",
		"城市长":    KeepTarget,
		"新区":     "New Area",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		terms    map[string]string
	}{
		{in: "粤港澳大湾区和大湾区", want: "Guangdong-Hong Kong-Macao Greater Bay Area 和 Greater Bay Area",
			terms: map[string]string{"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area", "大湾区": "Greater Bay Area"}},
		{in: "副市长和市长", want: "Vice Mayor 和 Mayor", terms: map[string]string{"副市长": "Vice Mayor", "市长": "Mayor"}},
		{in: "推进城市长远发展", want: "推进城市长远发展", terms: map[string]string{}},
		{in: "市长。", want: "Mayor。", terms: map[string]string{"市长": "Mayor"}},
		{in: "没有术语", want: "没有术语", terms: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			uses := map[string]string{}
			if got := g.apply(tc.in, uses); got != tc.want {
				t.Errorf("apply = %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.terms, uses); diff != "" {
				t.Errorf("terms (-want +got):\n%s", diff)
			}
		})
	}
	var none *Glossary
	if got := none.apply("大湾区", map[string]string{}); got != "大湾区" || none.Len() != 0 {
		t.Errorf("nil glossary changed text: %q", got)
	}
}

func TestNewGlossaryErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries map[string]string
		want    []string
	}{
		{name: "empty target", entries: map[string]string{"市长": " "}, want: []string{`term "市长" has an empty target`}},
		{name: "empty source", entries: map[string]string{" ": "Mayor"}, want: []string{"empty source term"}},
		{name: "every problem", entries: map[string]string{"": "x", "a": ""}, want: []string{"empty source", `"a" has an empty target`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGlossary(tc.entries)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadGlossaryFile(t *testing.T) {
	tests := []struct {
		file    string
		want    map[string]string
		wantErr []string
	}{
		{file: "testdata/good.tsv", want: map[string]string{"大湾区": "Greater Bay Area",
			"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area", "市长": "Mayor"}},
		{file: "testdata/bom_crlf.tsv", want: map[string]string{"国务院": "State Council"}},
		{file: "testdata/bad.tsv", wantErr: []string{"testdata/bad.tsv:2: want source<TAB>target", "testdata/bad.tsv:3: empty source",
			"testdata/bad.tsv:4: term \"市长\" has an empty target", "testdata/bad.tsv:5: term \"大湾区\" already given on line 1",
			"testdata/bad.tsv:6: want source<TAB>target, found 3"}},
		{file: "testdata/missing.tsv", wantErr: []string{"translate: glossary: open testdata/missing.tsv"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := LoadGlossaryFile(tc.file)
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if tc.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExampleGlossary(t *testing.T) {
	g, err := BuildGlossary(map[string]string{"大湾区": "GBA"}, "../glossary.example.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() < 60 {
		t.Errorf("%d terms, want about 60", g.Len())
	}
	e := g.Entries()
	for src, want := range map[string]string{
		"国务院": "State Council", "国家发改委": "NDRC", "发改委": "NDRC", "国家发展和改革委员会": "NDRC",
		"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area", "市长": "Mayor", "副市长": "Vice Mayor",
		"常务会议": "executive meeting", "市委书记": "Secretary of the CPC Municipal Committee", "招商引资": "investment promotion",
		"肇庆": "Zhaoqing", "肇庆市人民政府": "Zhaoqing Municipal People's Government", "高新区": "High-tech Zone",
		"一带一路": "Belt and Road Initiative", "十四五": "14th Five-Year Plan", "乡村振兴": "rural revitalization",
		"大湾区": "GBA", // the inline config entry wins over the file
	} {
		if e[src] != want {
			t.Errorf("%s → %q, want %q", src, e[src], want)
		}
	}
	for _, src := range []string{"人大常委会", "政协", "新区"} {
		if e[src] == "" {
			t.Errorf("%s missing", src)
		}
	}
}

func FuzzParseGlossaryTSV(f *testing.F) {
	for _, s := range []string{"a\tb\n", "# c\n\n大湾区\tGreater Bay Area\r\n", "\ufeffx\ty", "a\tb\tc", "\t", "a\t\n", "a\tb\na\tc\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseGlossaryTSV("f.tsv", []byte(s))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "translate: glossary f.tsv:") {
				t.Errorf("error without file:line: %v", err)
			}
			return
		}
		if _, err := NewGlossary(m); err != nil {
			t.Errorf("parsed entries rejected: %v", err)
		}
	})
}

func BenchmarkGlossaryApply(b *testing.B) {
	entries, err := LoadGlossaryFile("../glossary.example.tsv")
	if err != nil {
		b.Fatal(err)
	}
	g, err := NewGlossary(entries)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("5月12日，肇庆市人民政府召开常务会议，研究粤港澳大湾区建设和乡村振兴工作，市长出席。", 10)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		g.apply(text, map[string]string{})
	}
}
