package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/openai"
	"github.com/transfeed/transfeed/translate/summarize"
)

// maxSummaryWait bounds one summarizer request: it runs inside a delivery,
// whose lease keeps a margin of 35 s for the request to Telegram.
const maxSummaryWait = 15 * time.Second

// wantsSummaries reports whether any channel has summary: llm.
func wantsSummaries(cfg *config.Config) bool {
	for _, ch := range cfg.Telegram.Channels {
		if ch.Summary == config.SummaryLLM {
			return true
		}
	}
	return false
}

// summarizerName is the provider name the summarizer's usage is recorded
// under ("" when no channel asks for summaries): the translation engine
// counts it against the same daily limit.
func summarizerName(cfg *config.Config) string {
	oc, ok := cfg.SummarizerConfig()
	if !wantsSummaries(cfg) || !ok {
		return ""
	}
	return "openai/" + strings.TrimSpace(oc.Model)
}

// buildSummaries builds the summary service for summary: llm channels (nil
// when none asks for it). translationProvider is the translation engine's
// name ("" for none): both spend one daily_char_limit.
func buildSummaries(cfg *config.Config, st summarize.Store, translationProvider string, client *http.Client, logger *slog.Logger) (*summarize.Service, error) {
	if !wantsSummaries(cfg) {
		return nil, nil
	}
	oc, ok := cfg.SummarizerConfig()
	if !ok {
		return nil, fmt.Errorf("summary: llm needs an OpenAI-compatible engine (translation.provider: openai or a summarizer: block)")
	}
	logger = logger.With(slog.String("component", "summarizer"))
	sum, err := openai.New(openai.Config{BaseURL: oc.BaseURL, APIKey: oc.APIKey.Reveal(), Model: oc.Model}, client, logger)
	if err != nil {
		return nil, fmt.Errorf("summarizer: %w", err)
	}
	g, err := translate.BuildGlossary(cfg.Translation.Glossary, cfg.GlossaryFilePath())
	if err != nil {
		return nil, err
	}
	var shared []string
	if translationProvider != "" && translationProvider != sum.Name() {
		shared = []string{translationProvider}
	}
	return summarize.New(summarize.Config{
		Glossary:       g,
		DailyCharLimit: cfg.Translation.DailyCharLimit,
		SharedBudget:   shared,
		// Asked during a delivery, under its lease: never long.
		Timeout: min(cfg.Translation.Timeout, maxSummaryWait),
	}, sum, st, logger)
}
