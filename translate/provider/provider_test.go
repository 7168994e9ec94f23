package provider

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/translate"
	"github.com/transfeed/transfeed/translate/translatetest"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		cfg      config.TranslationConfig
		wantNil  bool
		wantName string
		wantErr  string
	}{
		{name: "empty is none", cfg: config.TranslationConfig{}, wantNil: true},
		{name: "none", cfg: config.TranslationConfig{Provider: "none"}, wantNil: true},
		{name: "openai", cfg: config.TranslationConfig{Provider: "openai", OpenAI: config.OpenAIConfig{APIKey: "sk-x", Model: "gpt-4o-mini"}}, wantName: "openai/gpt-4o-mini"},
		{name: "openai without model", cfg: config.TranslationConfig{Provider: "openai", OpenAI: config.OpenAIConfig{APIKey: "sk-secret-xyz"}}, wantErr: "model is required"},
		{name: "deepl", cfg: config.TranslationConfig{Provider: "deepl", DeepL: config.DeepLConfig{APIKey: "k:fx"}}, wantName: "deepl"},
		{name: "deepl without key", cfg: config.TranslationConfig{Provider: "deepl"}, wantErr: "api key is required"},
		{name: "google", cfg: config.TranslationConfig{Provider: "google", Google: config.GoogleConfig{APIKey: "g"}}, wantName: "google"},
		{name: "libretranslate", cfg: config.TranslationConfig{Provider: "libretranslate", LibreTranslate: config.LibreTranslateConfig{BaseURL: "http://localhost:5000"}}, wantName: "libretranslate"},
		{name: "unknown", cfg: config.TranslationConfig{Provider: "baidu"}, wantErr: "unknown translation provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(tc.cfg, http.DefaultClient, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				translatetest.AssertNoSecretLeak(t, err, "sk-secret-xyz", "file-key-123:fx")
				if tr != nil {
					t.Errorf("translator %v returned with an error", tr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNil {
				if tr != nil {
					t.Fatalf("got %T, want nil", tr)
				}
				return
			}
			if tr == nil || tr.Name() != tc.wantName {
				t.Fatalf("got %v, want %s", tr, tc.wantName)
			}
		})
	}
}

// TestBuiltProvidersTranslate checks that the builder passes base URL and
// key through, against each fake server.
func TestBuiltProvidersTranslate(t *testing.T) {
	const key = "built-key-42"
	texts := []string{"肇庆", "招商"}
	want := translatetest.TranslateAll(texts)
	tests := []struct {
		name string
		cfg  func(base string) config.TranslationConfig
		fake func(t testing.TB, o translatetest.Options) *translatetest.Server
	}{
		{
			name: "openai",
			cfg: func(base string) config.TranslationConfig {
				return config.TranslationConfig{Provider: "openai", OpenAI: config.OpenAIConfig{BaseURL: base + "/v1", APIKey: key, Model: "m"}}
			},
			fake: translatetest.NewOpenAIServer,
		},
		{
			name: "deepl",
			cfg: func(base string) config.TranslationConfig {
				return config.TranslationConfig{Provider: "deepl", DeepL: config.DeepLConfig{BaseURL: base, APIKey: key}}
			},
			fake: translatetest.NewDeepLServer,
		},
		{
			name: "google",
			cfg: func(base string) config.TranslationConfig {
				return config.TranslationConfig{Provider: "google", Google: config.GoogleConfig{BaseURL: base, APIKey: key}}
			},
			fake: translatetest.NewGoogleServer,
		},
		{
			name: "libretranslate",
			cfg: func(base string) config.TranslationConfig {
				return config.TranslationConfig{Provider: "libretranslate", LibreTranslate: config.LibreTranslateConfig{BaseURL: base, APIKey: key}}
			},
			fake: translatetest.NewLibreTranslateServer,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.fake(t, translatetest.Options{Key: key, Format: "text"})
			tr, err := New(tc.cfg(srv.URL), srv.Client(), nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.Translate(context.Background(), translate.Request{Source: "zh", Target: "en", Texts: texts})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
