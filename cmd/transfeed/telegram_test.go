package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/bot"
	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

// TestTelegramWiring: the config's channels become the outbox's channels
// and routing rules as the config reference describes them.
func TestTelegramWiring(t *testing.T) {
	no := false
	cfg := &config.Config{
		Sources: []config.Source{{ID: "zq", Tags: []string{"gov"}}, {ID: "wx", Tags: []string{"wechat"}}},
		Telegram: config.TelegramConfig{Channels: []config.Channel{
			{Chat: "@all", SummaryChars: 300},
			{Chat: "-100123", Thread: 42, Tags: []string{"wechat"}, Photo: &no, Include: []string{"port"}},
		}},
	}
	want := []bot.Channel{
		{Key: "@all", Address: "@all", SummaryChars: 300, Photo: true},
		{Key: "-100123#42", Address: "-100123", Thread: 42, Photo: false},
	}
	if diff := cmp.Diff(want, botChannels(cfg)); diff != "" {
		t.Errorf("botChannels (-want +got):\n%s", diff)
	}
	route := router(cfg)
	tests := []struct {
		it   model.Item
		want []string
	}{
		{model.Item{SourceID: "zq", Title: "port news", BackfillRank: -1}, []string{"@all"}},
		{model.Item{SourceID: "wx", Title: "port news", BackfillRank: -1}, []string{"@all", "-100123#42"}},
		{model.Item{SourceID: "wx", Title: "weather", BackfillRank: -1}, []string{"@all"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, route(tt.it)); diff != "" {
			t.Errorf("route(%s %q) (-want +got):\n%s", tt.it.SourceID, tt.it.Title, diff)
		}
	}
}
