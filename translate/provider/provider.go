// Package provider builds the configured translation provider. It is the one
// place that maps config.TranslationConfig to a concrete provider: one
// explicit switch, no registry.
package provider

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/deepl"
	"github.com/transfeed/transfeed/translate/google"
	"github.com/transfeed/transfeed/translate/libretranslate"
	"github.com/transfeed/transfeed/translate/openai"
)

// OpenAITemperature is the sampling temperature used for OpenAI-compatible
// providers: low, for literal and repeatable translations.
const OpenAITemperature = 0.2

// New returns the provider chosen by cfg.Provider, or (nil, nil) for "none"
// (or empty). client is the HTTP client for translation requests (its
// timeout is the per-request limit); logger is narrowed per provider. It does
// no network I/O.
func New(cfg config.TranslationConfig, client *http.Client, logger *slog.Logger) (translate.Translator, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := strings.ToLower(strings.TrimSpace(cfg.Provider))
	switch name {
	case "", "none":
		return nil, nil
	case "openai":
		key := strings.TrimSpace(cfg.OpenAI.APIKey.Reveal()) // *_file is read by the config loader
		t, err := openai.New(openai.Config{
			BaseURL:     cfg.OpenAI.BaseURL,
			APIKey:      key,
			Model:       cfg.OpenAI.Model,
			Temperature: OpenAITemperature,
		}, client, logger)
		return wrap(t, err)
	case "deepl":
		key := strings.TrimSpace(cfg.DeepL.APIKey.Reveal()) // *_file is read by the config loader
		t, err := deepl.New(deepl.Config{BaseURL: cfg.DeepL.BaseURL, APIKey: key}, client, logger)
		return wrap(t, err)
	case "google":
		key := strings.TrimSpace(cfg.Google.APIKey.Reveal()) // *_file is read by the config loader
		t, err := google.New(google.Config{BaseURL: cfg.Google.BaseURL, APIKey: key}, client, logger)
		return wrap(t, err)
	case "libretranslate":
		key := strings.TrimSpace(cfg.LibreTranslate.APIKey.Reveal()) // *_file is read by the config loader
		t, err := libretranslate.New(libretranslate.Config{BaseURL: cfg.LibreTranslate.BaseURL, APIKey: key}, client, logger)
		return wrap(t, err)
	}
	return nil, fmt.Errorf("provider: unknown translation provider %q (want none, openai, deepl, google or libretranslate)", cfg.Provider)
}

// wrap converts a typed constructor result to the interface without turning
// a nil *T into a non-nil interface.
func wrap[T translate.Translator](t T, err error) (translate.Translator, error) {
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	return t, nil
}
