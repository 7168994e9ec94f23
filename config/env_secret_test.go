package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestExpandEnv(t *testing.T) {
	getenv := env(map[string]string{"HOST": "example.org", "EMPTY": "", "PORT": "8080"})
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "plain", want: "plain"},
		{in: "${HOST}", want: "example.org"},
		{in: "http://${HOST}:${PORT}/x", want: "http://example.org:8080/x"},
		{in: "${UNSET}", want: ""},
		{in: "${UNSET:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${HOST:-fallback}", want: "example.org"},
		{in: "${UNSET:-}", want: ""},
		{in: "${UNSET:-a:b}", want: "a:b"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "cost $5 and $HOST", want: "cost $5 and $HOST"},
		{in: "/^\\$\\d+/", want: "/^\\$\\d+/"},
		{in: "${HOST", wantErr: "unterminated ${"},
		{in: "${}", wantErr: `invalid variable name ""`},
		{in: "${A-B}", wantErr: `invalid variable name "A-B"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expandEnv(tt.in, getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("expandEnv(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestEnvInValues checks expansion in every kind of value, that keys are
// not expanded, and that an anchored value is expanded only once.
func TestEnvInValues(t *testing.T) {
	src := `
server:
  base_url: "https://${DOMAIN}/"
  title: &title "$${NOT_EXPANDED} ${SITE:-Zhaoqing}"
fetch:
  per_host: ${PER_HOST}
  concurrency: ${CONCURRENCY}
  timeout: ${TIMEOUT:-10s}
  max_body: ${MAX_BODY:-1MiB}
translation:
  glossary:
    ${KEY}: ${VALUE}
sources:
  - id: news
    name: *title
    url: ${FEED_URL}
    tags: ["${TAG}"]
feeds:
  - id: all
    tags: [gov]
    bilingual: ${BILINGUAL}
`
	c, err := Parse("env.yaml", []byte(src), env(map[string]string{
		"DOMAIN":    "zq.example.org",
		"PER_HOST":  "3",
		"KEY":       "ignored",
		"VALUE":     "Value",
		"FEED_URL":  "https://example.gov.cn/rss.xml",
		"TAG":       "gov",
		"BILINGUAL": "true",
	}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"base_url", c.Server.BaseURL, "https://zq.example.org"},
		{"title", c.Server.Title, "${NOT_EXPANDED} Zhaoqing"},
		{"name via alias", c.Sources[0].Name, "${NOT_EXPANDED} Zhaoqing"},
		{"per_host", c.Fetch.PerHost, 3},
		{"unset concurrency takes the default", c.Fetch.Concurrency, DefaultConcurrency},
		{"timeout default", c.Fetch.Timeout, 10 * time.Second},
		{"max_body default", c.Fetch.MaxBody, ByteSize(1 << 20)},
		{"glossary key not expanded", c.Translation.Glossary["${KEY}"], "Value"},
		{"url", c.Sources[0].URL, "https://example.gov.cn/rss.xml"},
		{"tag", c.Sources[0].Tags[0], "gov"},
		{"bool", c.Feeds[0].Bilingual, true},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}

	// A bad value coming from the environment is reported at its line.
	_, err = Parse("env.yaml", []byte(src), env(map[string]string{"PER_HOST": "many", "FEED_URL": "https://x.org/"}))
	want := Problem{File: "env.yaml", Line: 6, Msg: `fetch.per_host: expected a whole number, got "many"`}
	if ps := problems(t, err); !slices.Contains(ps, want) {
		t.Errorf("problems = %v, want among them %v", ps, want)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("secrets/deepl", "deepl-from-file:fx\n")
	write("secrets/token", "123:from-file\r\n")
	write("secrets/empty", "\n")
	absDSN := write("elsewhere/dsn", "postgres://u:p@db/x")
	base := "sources:\n  - id: a\n    url: https://example.org/rss\n"

	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		check   func(t *testing.T, c *Config)
		wantErr string
	}{
		{
			name: "relative paths, newline trimmed",
			yaml: "translation:\n  provider: deepl\n  deepl:\n    api_key_file: secrets/deepl\ntelegram:\n  token_file: secrets/token\n" + base,
			check: func(t *testing.T, c *Config) {
				if got := c.Translation.DeepL.APIKey.Reveal(); got != "deepl-from-file:fx" {
					t.Errorf("deepl key = %q", got)
				}
				if got := c.Telegram.Token.Reveal(); got != "123:from-file" {
					t.Errorf("token = %q", got)
				}
			},
		},
		{
			name: "absolute path",
			yaml: "storage:\n  driver: postgres\n  dsn_file: " + absDSN + "\n" + base,
			check: func(t *testing.T, c *Config) {
				if got := c.Storage.DSN.Reveal(); got != "postgres://u:p@db/x" {
					t.Errorf("dsn = %q", got)
				}
			},
		},
		{
			name: "file path from the environment",
			yaml: "translation:\n  openai:\n    api_key_file: ${KEY_FILE}\n" + base,
			env:  map[string]string{"KEY_FILE": "secrets/deepl"},
			check: func(t *testing.T, c *Config) {
				if got := c.Translation.OpenAI.APIKey.Reveal(); got != "deepl-from-file:fx" {
					t.Errorf("openai key = %q", got)
				}
			},
		},
		{
			name: "empty value from the environment and a file is fine",
			yaml: "translation:\n  google:\n    api_key: \"${GOOGLE_API_KEY}\"\n    api_key_file: secrets/deepl\n" + base,
			check: func(t *testing.T, c *Config) {
				if c.Translation.Google.APIKey.Reveal() != "deepl-from-file:fx" {
					t.Errorf("google key not read from file")
				}
			},
		},
		{
			name:    "missing file",
			yaml:    "telegram:\n  token_file: secrets/nope\n" + base,
			wantErr: "2: telegram.token_file: cannot read the secret",
		},
		{
			name:    "empty file",
			yaml:    "telegram:\n  token_file: secrets/empty\n" + base,
			wantErr: "2: telegram.token_file: the file secrets/empty is empty",
		},
		{
			name:    "both value and file",
			yaml:    "telegram:\n  token: \"123:inline\"\n  token_file: secrets/token\n" + base,
			wantErr: "3: telegram.token_file: give either token or token_file, not both",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write("config.yaml", tt.yaml)
			c, err := Load(path, env(tt.env))
			if tt.wantErr != "" {
				ps := problems(t, err)
				if len(ps) != 1 || !strings.Contains(ps[0].String(), tt.wantErr) {
					t.Fatalf("problems = %v, want one containing %q", ps, tt.wantErr)
				}
				for _, s := range []string{"123:inline", "123:from-file"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error reveals a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// TestSecretRedaction loads a config carrying every kind of secret and
// prints it every way a program might; no secret may appear.
func TestSecretRedaction(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("SECRET-TOKEN-4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
storage:
  driver: postgres
  dsn: "postgres://u:SECRET-DSN-0@db/x"
translation:
  provider: openai
  openai: {api_key: "${OPENAI_API_KEY}"}
  deepl: {api_key: "SECRET-DEEPL-1"}
  google: {api_key: "SECRET-GOOGLE-2"}
  libretranslate: {api_key: "SECRET-LIBRE-3"}
telegram:
  token_file: token
sources:
  - id: a
    url: https://example.org/rss
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, env(map[string]string{"OPENAI_API_KEY": "SECRET-OPENAI-5"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Telegram.Token.Reveal() != "SECRET-TOKEN-4" || c.Translation.OpenAI.APIKey.Reveal() != "SECRET-OPENAI-5" {
		t.Fatalf("secrets not loaded")
	}

	outputs := map[string]func() string{
		"%v":             func() string { return fmt.Sprintf("%v", c) },
		"%+v":            func() string { return fmt.Sprintf("%+v", *c) },
		"%#v":            func() string { return fmt.Sprintf("%#v", *c) },
		"%v translation": func() string { return fmt.Sprintf("%v", c.Translation) },
		"json":           func() string { b, _ := json.Marshal(c); return string(b) },
		"yaml":           func() string { b, _ := yaml.Marshal(c); return string(b) },
		"slog text": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", slog.Any("config", c), slog.Any("token", c.Telegram.Token))
			return buf.String()
		},
		"slog json": func() string {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", slog.Any("config", c), "token", c.Telegram.Token)
			return buf.String()
		},
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			s := out()
			if !strings.Contains(s, "<secret>") && !strings.Contains(s, `\u003csecret\u003e`) {
				t.Errorf("output shows no redaction marker: %s", s)
			}
			if strings.Contains(s, "SECRET-") {
				t.Errorf("output reveals a secret: %s", s)
			}
		})
	}

	// Problems never quote secrets, even misplaced ones.
	bad := strings.Replace(src, "provider: openai", "provider: deepl\n  deepl_key: SECRET-6", 1)
	bad = strings.Replace(bad, "https://example.org/rss", "ftp://user:SECRET-7@example.org/rss", 1)
	_, err = Parse("bad.yaml", []byte(bad), nil)
	if err == nil || strings.Contains(err.Error(), "SECRET-") {
		t.Errorf("error reveals a secret or is missing: %v", err)
	}
}

func TestSecretFileReadableByOthersWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	tests := []struct {
		name string
		mode os.FileMode
		warn bool
	}{
		{"owner only", 0o600, false},
		{"owner read-only", 0o400, false},
		{"group readable", 0o640, true},
		{"world readable", 0o644, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tok := filepath.Join(dir, "token")
			if err := os.WriteFile(tok, []byte("123:SECRET\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tok, tt.mode); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "config.yaml")
			src := "sources:\n  - id: news\n    url: http://www.example.gov.cn/rss.xml\ntelegram:\n  token_file: token\n"
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, nil)
			if err != nil {
				t.Fatalf("Load: %v (a readable secret file is a warning, not an error)", err)
			}
			if got := len(cfg.Warnings) > 0; got != tt.warn {
				t.Fatalf("warnings %v, want a warning: %v", cfg.Warnings, tt.warn)
			}
			if tt.warn {
				w := cfg.Warnings[0]
				if w.Line != 5 || !strings.Contains(w.Msg, "telegram.token_file") || !strings.Contains(w.Msg, "chmod 600") || strings.Contains(w.String(), "SECRET") {
					t.Errorf("warning %q", w.String())
				}
			}
		})
	}
}
