package bot

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
)

func TestRoute(t *testing.T) {
	all := []string{"zhaoqing-news", "gd-wechat"}
	rules := []Rule{
		{Channel: "@all", Sources: all},
		{Channel: "@zq", Sources: []string{"zhaoqing-news"}},
		{Channel: "@wechat", Sources: []string{"gd-wechat"}},
		{Channel: "@econ", Sources: all, Include: []string{"investment", "/GDP \\d/"}, Exclude: []string{"Typhoon"}},
		{Channel: "@forum#9", Sources: all, Backfill: 3},
		{Channel: "@all", Sources: all}, // a second rule for one channel: routed once
	}
	item := func(src, titleEN string, rank int) model.Item {
		return model.Item{SourceID: src, Title: "中文", TitleEN: titleEN, SummaryEN: "", TranslatedBy: "deepl", BackfillRank: rank}
	}
	tests := []struct {
		name string
		it   model.Item
		want []string
	}{
		{"by source id", item("zhaoqing-news", "Weather", -1), []string{"@all", "@zq", "@forum#9"}},
		{"by tag", item("gd-wechat", "Weather", -1), []string{"@all", "@wechat", "@forum#9"}},
		{"include keyword, case-insensitive", item("gd-wechat", "INVESTMENT rose", -1), []string{"@all", "@wechat", "@econ", "@forum#9"}},
		{"include regex", item("gd-wechat", "GDP 5% up", -1), []string{"@all", "@wechat", "@econ", "@forum#9"}},
		{"regex is case-sensitive as written", item("gd-wechat", "gdp 5% up", -1), []string{"@all", "@wechat", "@forum#9"}},
		{"exclude wins", item("gd-wechat", "Typhoon hits investment", -1), []string{"@all", "@wechat", "@forum#9"}},
		{"summary is searched too", model.Item{SourceID: "gd-wechat", TitleEN: "x", SummaryEN: "new investment", TranslatedBy: "deepl", BackfillRank: -1}, []string{"@all", "@wechat", "@econ", "@forum#9"}},
		{"untranslated uses the original", model.Item{SourceID: "gd-wechat", Title: "investment", BackfillRank: -1}, []string{"@all", "@wechat", "@econ", "@forum#9"}},
		{"first poll, newest: backfill 3 only", item("zhaoqing-news", "x", 0), []string{"@forum#9"}},
		{"first poll, third newest", item("zhaoqing-news", "x", 2), []string{"@forum#9"}},
		{"first poll, fourth newest: nowhere", item("zhaoqing-news", "x", 3), nil},
		{"first poll, newest but date unknown: nowhere", model.Item{SourceID: "zhaoqing-news", TitleEN: "x", TranslatedBy: "deepl", BackfillRank: 0, DateUnknown: true}, nil},
		{"metadata is searched too", model.Item{SourceID: "gd-wechat", TitleEN: "x", TranslatedBy: "deepl", BackfillRank: -1, Meta: map[string]string{"发文字号": "GDP 5号"}}, []string{"@all", "@wechat", "@econ", "@forum#9"}},
		{"later poll, date unknown: routed as new", model.Item{SourceID: "zhaoqing-news", TitleEN: "x", TranslatedBy: "deepl", BackfillRank: -1, DateUnknown: true}, []string{"@all", "@zq", "@forum#9"}},
		{"unknown source: nowhere", item("elsewhere", "Weather", -1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Route(rules, tt.it)); diff != "" {
				t.Errorf("Route (-want +got):\n%s", diff)
			}
		})
	}
	if got := Route(nil, item("gd-wechat", "x", -1)); got != nil {
		t.Errorf("Route(nil) = %v", got)
	}
}
