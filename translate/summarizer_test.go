package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInventedNumbers(t *testing.T) {
	post := "On May 25, the city signed 12 projects worth 1.5 billion yuan, up 8.3% on 2022. The meeting began at 14:30."
	tests := []struct {
		name, summary string
		sources       []string
		want          []string
	}{
		{"all from the post", "The city signed 12 projects worth 1.5 billion yuan on May 25, up 8.3% on 2022.", []string{post}, nil},
		{"invented amount", "The city signed 12 projects worth 2 billion yuan.", []string{post}, []string{"2"}},
		{"invented count", "Thirteen projects: 13 in all.", []string{post}, []string{"13"}},
		{"thousands separator and scale", "Worth 1,500,000,000 yuan.", []string{post}, nil},
		{"clock", "It began at 2:30 p.m.", []string{post}, nil},
		{"from the chinese original", "Investment reached 15,000 yuan.", []string{post, "投资1.5万元"}, nil},
		{"from the date", "Published on 2026-05-25.", []string{post, "2026-05-25"}, nil},
		{"number word in the post", "The city held 3 meetings.", []string{"The city held three meetings."}, nil},
		{"no numbers", "The city signed projects.", []string{post}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, InventedNumbers(tc.summary, tc.sources...)); diff != "" {
				t.Errorf("InventedNumbers(%q) (-want +got):\n%s", tc.summary, diff)
			}
		})
	}
}

func TestEnforceEnglish(t *testing.T) {
	g, err := NewGlossary(map[string]string{"大湾区": "Greater Bay Area", "肇庆": "Zhaoqing", "城市长远": KeepTarget})
	if err != nil {
		t.Fatal(err)
	}
	terms := g.TermsIn("肇庆市融入大湾区，城市长远发展。")
	if diff := cmp.Diff(map[string]string{"大湾区": "Greater Bay Area", "肇庆": "Zhaoqing"}, terms); diff != "" {
		t.Fatalf("TermsIn (-want +got):\n%s", diff)
	}
	tests := []struct{ in, want string }{
		{"Zhaoqing joins the greater bay area.", "Zhaoqing joins the Greater Bay Area."},
		{"肇庆 joins the 大湾区.", "Zhaoqing joins the Greater Bay Area."},
		{"ZHAOQING and the Greater Bay Area", "Zhaoqing and the Greater Bay Area"},
		{"Nothing to change.", "Nothing to change."},
	}
	for _, tc := range tests {
		if got := g.EnforceEnglish(tc.in, terms); got != tc.want {
			t.Errorf("EnforceEnglish(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
