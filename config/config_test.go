package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/transfeed/transfeed/model"
)

// env returns a getenv function reading from m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func ptr[T any](v T) *T { return &v }

var ignoreUnexported = cmpopts.IgnoreUnexported(Config{}, Source{})

// problems returns the problems of a *ValidationError, failing the test for
// any other outcome.
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %T: %v", err, err)
	}
	return ve.Problems
}

func TestLoadGood(t *testing.T) {
	const path = "testdata/good.yaml"
	c, err := Load(path, env(map[string]string{
		"PG_DSN":             "postgres://transfeed:pw@db/transfeed",
		"DEEPL_API_KEY":      "deepl-key:fx",
		"TELEGRAM_BOT_TOKEN": "123:tok",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		DataDir: "/var/lib/transfeed",
		Storage: StorageConfig{Driver: "postgres", DSN: "postgres://transfeed:pw@db/transfeed"},
		Log:     LogConfig{Level: "debug", Format: "json"},
		Server:  ServerConfig{Listen: ":9090", BaseURL: "https://zq.example.org", Title: "Zhaoqing in English"},
		Fetch: FetchConfig{
			UserAgent: "test-agent/1.0", Timeout: 45 * time.Second, MaxBody: 5 << 20,
			PerHost: 1, Concurrency: 4, MaxRedirects: 0, PollTimeout: 5 * time.Minute, MaxItemsPerPoll: 200,
		},
		Limits:    LimitsConfig{TitleChars: 500, SummaryChars: 800, BodyBytes: 256_000, Tags: 20},
		Retention: RetentionConfig{SweepEvery: 24 * time.Hour},
		Defaults:  DefaultsConfig{Schedule: "@every 30m", Timezone: "Asia/Shanghai", Translate: "always"},
		Translation: TranslationConfig{
			Provider: "deepl", SourceLang: "zh", TargetLang: "en-US",
			OpenAI:          OpenAIConfig{BaseURL: DefaultOpenAIBaseURL, Model: DefaultOpenAIModel},
			DeepL:           DeepLConfig{APIKey: "deepl-key:fx"},
			Google:          GoogleConfig{BaseURL: DefaultGoogleBaseURL},
			LibreTranslate:  LibreTranslateConfig{BaseURL: DefaultLibreBaseURL},
			Glossary:        map[string]string{"大湾区": "Greater Bay Area"},
			GlossaryFile:    "glossary.tsv",
			DailyCharLimit:  1_000_000,
			OnFailure:       model.OnFailureOriginal,
			HoldFor:         2 * time.Hour,
			Timeout:         20 * time.Second,
			Concurrency:     1,
			MaxCharsPerPost: 30000,
		},
		Sources: []Source{
			{
				ID: "zhaoqing-news", Name: "Zhaoqing News", URL: "http://www.zhaoqing.gov.cn/xwzx/zqyw/rss.xml",
				Type: "feed", Schedule: "CRON_TZ=Asia/Shanghai */20 7-22 * * *", Timezone: "Asia/Shanghai",
				Translate: "always", Tags: []string{"zhaoqing", "gov"}, FullText: &FullText{Selector: ".TRS_Editor"},
				Line: 36,
			},
			{
				ID: "notices", Name: "notices", URL: "http://www.zhaoqing.gov.cn/xwzx/tzgg1/rss.xml",
				Type: "feed", Schedule: "@every 30m", Timezone: "UTC", Translate: "never", Tags: []string{"gov"},
				Line: 42,
			},
			{
				ID: "departments", Name: "departments", URL: "http://www.zhaoqing.gov.cn/xwzx/bmdt/",
				Type: "html", Schedule: "@every 30m", Timezone: "Asia/Shanghai", Translate: "always",
				HTML:     &HTMLList{Item: "ul.list > li", Title: "a", Link: "a@href", Date: "span.date"},
				FullText: &FullText{Readability: true},
				Line:     47,
			},
		},
		Feeds: []Feed{
			{ID: "all", Title: "all", Tags: []string{"gov"}, Limit: 20, Line: 57},
			{ID: "news", Title: "News only", Sources: []string{"zhaoqing-news"}, Limit: DefaultFeedLimit, Bilingual: true, Line: 60},
		},
		Telegram: TelegramConfig{
			Token: "123:tok", APIURL: DefaultTelegramAPIURL, Admins: []int64{123456789},
			Channels: []Channel{
				{
					Chat: "@zhaoqing_en", Sources: []string{"zhaoqing-news"},
					Include: []string{"Bay Area", "/(?i)invest(ment)?/"}, Exclude: []string{"weather"},
					SummaryChars: 300, Photo: ptr(false), Backfill: 3, Line: 68,
					Summary: SummaryLead, LinkPreview: LinkPreviewOff,
					Template: "<b>{{.Title}}</b>\n{{.Summary}}\n", TemplateLine: 77,
				},
				{Chat: "-1001234567890", Thread: 42, Tags: []string{"gov"}, SummaryChars: DefaultSummaryChars, Photo: ptr(true), Line: 79,
					Summary: SummaryLead, LinkPreview: LinkPreviewPost},
			},
		},
		Path: path,
	}
	if diff := cmp.Diff(want, c, ignoreUnexported); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
	if got, want := c.Sources[1].Location().String(), "UTC"; got != want {
		t.Errorf("Location() = %s, want %s", got, want)
	}
	abs, _ := filepath.Abs("testdata/glossary.tsv")
	if got := c.GlossaryFilePath(); got != abs {
		t.Errorf("GlossaryFilePath() = %q, want %q", got, abs)
	}
	if _, err := ParseSchedule(c.Sources[0].Schedule); err != nil {
		t.Errorf("ParseSchedule(%q): %v", c.Sources[0].Schedule, err)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("min.yaml", []byte("sources:\n  - id: news\n    url: https://example.gov.cn/rss.xml\n"), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		DataDir: "./data",
		Storage: StorageConfig{Driver: "sqlite", DSN: Secret(filepath.Join("data", "transfeed.db"))},
		Log:     LogConfig{Level: "info", Format: "text"},
		Server:  ServerConfig{Listen: "127.0.0.1:8080", BaseURL: "http://localhost:8080", Title: "transfeed"},
		Fetch: FetchConfig{
			UserAgent: "transfeed/1.0 (+https://github.com/transfeed/transfeed)", Timeout: 30 * time.Second,
			MaxBody: 10_000_000, PerHost: 2, Concurrency: 8, MaxRedirects: 5, PollTimeout: 5 * time.Minute, MaxItemsPerPoll: 200,
		},
		Limits:    LimitsConfig{TitleChars: 1000, SummaryChars: 2000, BodyBytes: 512_000, Tags: 50},
		Retention: RetentionConfig{SweepEvery: 24 * time.Hour},
		Defaults:  DefaultsConfig{Schedule: "@every 15m", Timezone: "Asia/Shanghai", Translate: "auto"},
		Translation: TranslationConfig{
			Provider: "none", SourceLang: "zh", TargetLang: "en",
			OpenAI:         OpenAIConfig{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini"},
			Google:         GoogleConfig{BaseURL: "https://translation.googleapis.com"},
			LibreTranslate: LibreTranslateConfig{BaseURL: "http://localhost:5000"},
			OnFailure:      model.OnFailureHold, HoldFor: 6 * time.Hour, Timeout: 60 * time.Second, Concurrency: 1,
			MaxCharsPerPost: 30000,
		},
		Sources: []Source{{
			ID: "news", Name: "news", URL: "https://example.gov.cn/rss.xml", Type: "feed",
			Schedule: "@every 15m", Timezone: "Asia/Shanghai", Translate: "auto", Line: 2,
		}},
		Telegram: TelegramConfig{APIURL: "https://api.telegram.org"},
	}
	if diff := cmp.Diff(want, c, ignoreUnexported); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
	if got := c.Sources[0].Location(); got == nil || got.String() != "Asia/Shanghai" && got.String() != "CST" {
		t.Errorf("Location() = %v, want Asia/Shanghai", got)
	}
}

func TestInvalid(t *testing.T) {
	type want struct {
		line int
		msg  string // substring of Problem.Msg
	}
	tests := map[string][]want{
		"admins_without_token":   {{6, "telegram.admins: admins need telegram.token"}},
		"bad_base_url":           {{2, `server.base_url: want an absolute http:// or https:// URL, got "localhost:8080"`}},
		"bad_default_schedule":   {{2, "defaults.schedule: schedule \"61 * * * *\": end of range (61) above maximum (59)"}},
		"bad_driver":             {{2, `storage.driver: "mysql" is not one of sqlite, postgres`}},
		"bad_duration":           {{2, `fetch.timeout: invalid duration "30"`}},
		"bad_env_name":           {{2, `server.title: invalid variable name "1TITLE"`}},
		"bad_full_text_selector": {{5, `sources[0].full_text.selector: bad CSS selector "div..x"`}},
		"bad_id":                 {{2, `sources[0].id: "Zhaoqing_News" may contain only a-z, 0-9 and -`}},
		"bad_listen":             {{2, `server.listen: want host:port`}},
		"bad_log":                {{2, `log.level: "verbose" is not one of`}, {3, `log.format: "xml" is not one of text, json`}},
		"bad_number":             {{2, `fetch.per_host: expected a whole number, got "two"`}},
		"limits_and_poll_timeout": {
			{3, `fetch.poll_timeout: must be at least fetch.timeout (30s)`},
			{5, `limits.title_chars: must be at least 10`},
			{6, `limits.body_bytes: must be at least 1000`},
			{7, `limits.tags: must be at least 1`},
		},
		"bad_retention": {{2, `fetch.max_items_per_poll: must be at least 1`}, {4, `retention.max_age: must be at least 1h`},
			{5, `retention.max_posts_per_source: must not be negative`}, {6, `retention.sweep_every: must be at least 1m (got 30s)`}},
		"bad_on_failure":              {{2, `translation.on_failure: "drop" is not one of hold, original`}},
		"bad_provider":                {{2, `translation.provider: "baidu" is not one of none, openai, deepl, google, libretranslate`}},
		"schedule_never_fires":        {{4, `sources[0].schedule: schedule "0 0 30 2 *" never fires`}},
		"bad_schedule":                {{4, `sources[0].schedule: schedule "every 15 minutes": expected exactly 5 fields`}},
		"bad_selector":                {{8, `sources[0].html.link: bad CSS selector "a[href"`}},
		"bad_size":                    {{2, `fetch.max_body: invalid size "10XB"`}},
		"bad_timezone":                {{4, `sources[0].timezone: unknown time zone "China/Beijing"`}},
		"bad_translate_mode":          {{4, `sources[0].translate: "yes" is not one of auto, always, never`}},
		"bad_type":                    {{4, `sources[0].type: "rss" is not one of feed, html`}},
		"bad_url_scheme":              {{3, `sources[0].url: want an absolute http:// or https:// URL, got "ftp://`}},
		"url_secret_redacted":         {{3, `sources[0].url: want an absolute http:// or https:// URL, got "ftp://xxxxx@rsshub.example/x?key=xxxxx"`}},
		"channel_bad_chat":            {{8, `telegram.channels[0].chat: "zhaoqing_en" is neither @username nor a numeric chat id`}},
		"channel_bad_regex":           {{9, `telegram.channels[0].include[0]: bad regular expression /(unclosed/`}},
		"channel_duplicate":           {{9, `telegram.channels[1]: same chat and thread as the channel at line 8`}},
		"channel_negative_numbers":    {{9, "telegram.channels[0].thread: must not be negative"}, {10, "telegram.channels[0].backfill: must not be negative"}},
		"channel_summary_chars":       {{9, "telegram.channels[0].summary_chars: must be between 50 and 3500, got 4000"}},
		"channel_llm_without_engine":  {{9, "telegram.channels[0].summary: llm needs an OpenAI-compatible engine"}},
		"channel_bad_summary":         {{8, `telegram.channels[0].summary: "ai" is not one of lead, llm`}, {9, `telegram.channels[0].link_preview: "large" is not one of off, post`}},
		"channel_template_syntax":     {{11, "telegram.channels[0].template: line 3 of the template: unexpected EOF"}},
		"channel_template_field":      {{11, "telegram.channels[0].template: line 3 of the template: <.Headline>: can't evaluate field Headline"}, {13, `telegram.channels[1].template: the sample post renders as invalid Telegram HTML: unsupported start tag "p"`}},
		"summarizer_without_key":      {{1, "summarizer: api.openai.com needs summarizer.api_key"}},
		"channel_unknown_source":      {{9, `telegram.channels[0].sources[0]: unknown source "weather"`}},
		"channel_unused_tag":          {{9, `telegram.channels[0].tags[0]: no source has the tag "town"`}},
		"channel_without_chat":        {{8, "telegram.channels[0].chat: required"}},
		"channels_without_token":      {{7, "telegram.channels: channels need telegram.token"}},
		"deepl_without_key":           {{2, "translation.provider: deepl needs translation.deepl.api_key"}},
		"duplicate_id":                {{5, `sources[1].id: "news" is already used at line 2`}},
		"duplicate_key":               {{4, "sources[0].url: key given twice (first at line 3)"}},
		"empty_full_text":             {{4, "sources[0].full_text: set selector, or readability: true"}},
		"empty_glossary_entry":        {{3, `translation.glossary.大湾区: the translation of "大湾区" is empty`}},
		"feed_duplicate_id":           {{8, `feeds[1].id: "all" is already used at line 6`}},
		"feed_selects_nothing":        {{6, "feeds[0]: selects nothing"}},
		"feed_unknown_source":         {{7, `feeds[0].sources[1]: unknown source "weather"`}},
		"feed_unused_tag":             {{7, `feeds[0].tags[0]: no source has the tag "town"`}},
		"feed_zero_limit":             {{8, "feeds[0].limit: must be at least 1"}},
		"google_without_key":          {{2, "translation.provider: google needs translation.google.api_key"}},
		"html_missing_selectors":      {{5, "sources[0].html: title selector required"}, {5, "sources[0].html: link selector required"}},
		"html_on_feed":                {{4, "sources[0].html: only used with type: html"}},
		"gkmlpt_without_column":       {{3, "sources[0].url: type gkmlpt needs the catalogue URL of one column"}},
		"gkmlpt_full_text":            {{5, "sources[0].full_text: not used with type gkmlpt"}},
		"list_expected":               {{4, "sources[0].tags: expected a list, got a single value"}},
		"mapping_expected":            {{1, "server: expected keys and values, got a single value"}},
		"missing_glossary_file":       {{2, "translation.glossary_file: " + filepath.Join("testdata", "invalid", "no-such-glossary.tsv") + " does not exist"}},
		"missing_id":                  {{2, "sources[0].id: required"}},
		"missing_url":                 {{2, "sources[0].url: required"}},
		"negative_char_limit":         {{2, "translation.daily_char_limit: must not be negative"}},
		"no_sources":                  {{1, "sources: no sources configured"}},
		"openai_without_key":          {{2, "translation.provider: openai needs translation.openai.api_key"}},
		"postgres_without_dsn":        {{2, "storage.driver: postgres needs storage.dsn"}},
		"relative_url":                {{3, `sources[0].url: want an absolute http:// or https:// URL, got "/rss.xml"`}},
		"schedule_too_often":          {{4, `sources[0].schedule: schedule "@every 10s": interval must be at least 1m`}},
		"secret_and_file":             {{4, "translation.deepl.api_key_file: give either api_key or api_key_file, not both"}},
		"syntax_error":                {{4, "YAML syntax: did not find expected ',' or ']'"}},
		"syntax_tab":                  {{2, "YAML syntax: found a tab character that violates indentation"}},
		"two_documents":               {{5, "only one YAML document is allowed"}},
		"unknown_key":                 {{4, `sources[0].shedule: unknown key (did you mean "schedule"?)`}},
		"unknown_top_key":             {{1, `sever: unknown key (did you mean "server"?)`}},
		"unterminated_env":            {{2, "server.title: unterminated ${"}},
		"zero_concurrency":            {{2, "fetch.concurrency: must be at least 1"}},
		"zero_hold_for":               {{2, "translation.hold_for: must be greater than 0"}},
		"admin_plain_password":        {{3, "server.admin.password_file: the file ../admin/plain.txt does not hold an argon2id or bcrypt hash"}},
		"admin_missing_password_file": {{3, "server.admin.password_file: cannot read the password hash"}},
		"review_without_admins":       {{5, "telegram.channels[0].review: review needs telegram.admins"}},
	}
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := tests[strings.TrimSuffix(filepath.Base(f), ".yaml")]; !ok {
			t.Errorf("%s has no case in TestInvalid", f)
		}
	}
	getenv := env(map[string]string{"TELEGRAM_BOT_TOKEN": "123:tok"})
	for name, wants := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", name+".yaml")
			c, err := Load(path, getenv)
			if c != nil {
				t.Errorf("Load returned a config along with the error")
			}
			got := problems(t, err)
			if len(got) != len(wants) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(wants), err)
			}
			for i, w := range wants {
				p := got[i]
				if p.File != path || p.Line != w.line || !strings.Contains(p.Msg, w.msg) {
					t.Errorf("problem %d = %q\nwant %s:%d: …%s…", i, p.String(), path, w.line, w.msg)
				}
			}
		})
	}
}

func TestThreeMistakes(t *testing.T) {
	const path = "testdata/three_mistakes.yaml"
	_, err := Load(path, nil)
	want := []Problem{
		{path, 3, `server.base_url: want an absolute http:// or https:// URL, got "localhost:8080"`},
		{path, 7, `sources[0].shedule: unknown key (did you mean "schedule"?)`},
		{path, 12, `feeds[0].sources[1]: unknown source "notice"`},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	wantText := path + ":3: server.base_url"
	if !strings.HasPrefix(err.Error(), wantText) || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("Error() = %q, want three lines starting with %q", err.Error(), wantText)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"config.yaml", 12, "sources[0].url: required"}, "config.yaml:12: sources[0].url: required"},
		{Problem{"config.yaml", 0, "YAML syntax: bad"}, "config.yaml: YAML syntax: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	var ve *ValidationError
	if err == nil || errors.As(err, &ve) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a plain not-exist error", err)
	}
}

func TestExampleConfig(t *testing.T) {
	c, err := Load("../config.example.yaml", nil)
	if err != nil {
		t.Fatalf("config.example.yaml does not validate with an empty environment:\n%v", err)
	}
	if c.Translation.Provider != "none" || c.Telegram.Token != "" {
		t.Errorf("example should run with translation and Telegram off, got provider %q", c.Translation.Provider)
	}
	var html *Source
	for i := range c.Sources {
		if c.Sources[i].Type == "html" {
			html = &c.Sources[i]
		}
	}
	if html == nil || html.FullText == nil || html.FullText.Selector != ".TRS_Editor" {
		t.Errorf("example should have a type: html source with full_text selector .TRS_Editor")
	}
	for _, term := range []string{"大湾区", "粤港澳大湾区"} {
		if c.Translation.Glossary[term] == "" {
			t.Errorf("example glossary lacks %s", term)
		}
	}
}

// TestExampleDocumentsEveryKey checks that every key of the schema appears
// in config.example.yaml (set or commented out).
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string, check func(key, path string))
	walk = func(rt reflect.Type, path string, check func(key, path string)) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == reflect.TypeFor[time.Duration]() || seen[rt] {
			return
		}
		seen[rt] = true
		for f := range rt.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			check(key, joinPath(path, key))
			walk(f.Type, joinPath(path, key), check)
		}
	}
	walk(reflect.TypeFor[Config](), "", func(key, path string) {
		if !strings.Contains(text, key+":") && !strings.Contains(text, "{ "+key+":") && !strings.Contains(text, "{"+key+":") {
			t.Errorf("config.example.yaml does not document %s", path)
		}
	})
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"10MB", 10_000_000, false},
		{"10MiB", 10 << 20, false},
		{"512KB", 512_000, false},
		{"64KiB", 64 << 10, false},
		{"1GB", 1_000_000_000, false},
		{"1.5MB", 1_500_000, false},
		{"2048", 2048, false},
		{`"10 MB"`, 10_000_000, false},
		{"10XB", 0, true},
		{"-1MB", 0, true},
		{"MB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			src := "fetch:\n  max_body: " + tt.in + "\nsources:\n  - id: a\n    url: https://example.org/rss\n"
			c, err := Parse("sizes.yaml", []byte(src), nil)
			if tt.wantErr {
				ps := problems(t, err)
				if len(ps) != 1 || ps[0].Line != 2 || !strings.Contains(ps[0].Msg, "fetch.max_body: invalid size") {
					t.Errorf("problems = %v, want one invalid size at line 2", ps)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.Fetch.MaxBody != tt.want {
				t.Errorf("max_body = %d, want %d", c.Fetch.MaxBody, tt.want)
			}
		})
	}
}

// TestYAMLFeatures covers anchors, merge keys, flow style and explicit zeros.
func TestYAMLFeatures(t *testing.T) {
	src := `
fetch:
  max_redirects: 0
x-common: &common
  schedule: "@hourly"
  tags: [gov]
sources:
  - <<: *common
    id: a
    url: https://example.org/a.xml
  - {<<: *common, id: b, url: "https://example.org/b.xml", schedule: "@daily"}
feeds: [{id: all, tags: [gov]}]
`
	_, err := Parse("features.yaml", []byte(src), nil)
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Line != 4 || !strings.Contains(ps[0].Msg, "x-common: unknown key") {
		t.Fatalf("want only the unknown x-common key reported, got %v", err)
	}

	src = strings.Replace(src, "x-common: &common", "defaults: &common", 1)
	src = strings.Replace(src, "  tags: [gov]\n", "", 1)
	src = strings.Replace(src, "    id: a\n", "    id: a\n    tags: [gov]\n", 1)
	src = strings.Replace(src, "id: b,", "id: b, tags: [gov],", 1)
	c, err := Parse("features.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Fetch.MaxRedirects != 0 {
		t.Errorf("explicit max_redirects: 0 became %d", c.Fetch.MaxRedirects)
	}
	if got := []string{c.Sources[0].Schedule, c.Sources[1].Schedule}; !slicesEqual(got, []string{"@hourly", "@daily"}) {
		t.Errorf("schedules = %q, want merged @hourly and overriding @daily", got)
	}
	if got := c.FeedSourceIDs(c.Feeds[0]); !slicesEqual(got, []string{"a", "b"}) {
		t.Errorf("FeedSourceIDs = %q", got)
	}
}

func slicesEqual(a, b []string) bool { return reflect.DeepEqual(a, b) }

func TestAdminPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hash := "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	write("hash.txt", hash+"\n")
	write("plain.txt", "correct horse battery staple\n")
	tests := []struct {
		name, file string
		enabled    bool
		wantErr    bool
	}{
		{"unset: admin off", "", false, false},
		{"argon2id hash", "hash.txt", true, false},
		{"plain password refused", "plain.txt", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "sources:\n  - id: news\n    url: http://www.example.gov.cn/rss.xml\n"
			if tc.file != "" {
				yaml = "server:\n  admin:\n    password_file: " + tc.file + "\n" + yaml
			}
			c, err := Load(write("c.yaml", yaml), env(nil))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load error = %v, wantErr %t", err, tc.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "horse") {
					t.Errorf("the error shows the file's content: %v", err)
				}
				return
			}
			if got := c.Server.Admin.Enabled(); got != tc.enabled {
				t.Errorf("Enabled = %t, want %t", got, tc.enabled)
			}
			if tc.enabled && c.Server.Admin.PasswordHash.Reveal() != hash {
				t.Errorf("hash = %q", c.Server.Admin.PasswordHash.Reveal())
			}
			if s := fmt.Sprintf("%v %+v", c.Server.Admin, c.Server.Admin); strings.Contains(s, "argon2id") {
				t.Errorf("the hash is printed: %s", s)
			}
		})
	}
}
