package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSourceSelection(t *testing.T) {
	c := &Config{Sources: []Source{
		{ID: "a", Tags: []string{"gov"}},
		{ID: "b", Tags: []string{"wechat"}},
		{ID: "c", Tags: []string{"gov", "wechat"}},
		{ID: "d"},
	}}
	tests := []struct {
		name          string
		sources, tags []string
		feed, channel []string
	}{
		{"by id, config order", []string{"d", "a"}, nil, []string{"a", "d"}, []string{"a", "d"}},
		{"by tag", nil, []string{"wechat"}, []string{"b", "c"}, []string{"b", "c"}},
		{"ids and tags deduplicated", []string{"c", "d"}, []string{"gov"}, []string{"a", "c", "d"}, []string{"a", "c", "d"}},
		{"unknown names ignored", []string{"zzz"}, []string{"none"}, nil, nil},
		{"nothing selected", nil, nil, nil, []string{"a", "b", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.feed, c.FeedSourceIDs(Feed{Sources: tt.sources, Tags: tt.tags})); diff != "" {
				t.Errorf("FeedSourceIDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.channel, c.ChannelSourceIDs(Channel{Sources: tt.sources, Tags: tt.tags})); diff != "" {
				t.Errorf("ChannelSourceIDs (-want +got):\n%s", diff)
			}
		})
	}
	if s, ok := c.Source("c"); !ok || s.ID != "c" {
		t.Errorf("Source(c) = %v, %v", s, ok)
	}
	if _, ok := c.Source("x"); ok {
		t.Errorf("Source(x) found")
	}
}

func TestChannelKey(t *testing.T) {
	tests := []struct {
		ch   Channel
		want string
	}{
		{Channel{Chat: "@zhaoqing_en"}, "@zhaoqing_en"},
		{Channel{Chat: "-1001234567890", Thread: 42}, "-1001234567890#42"},
		{Channel{Chat: "@Zhaoqing_EN", Thread: 0}, "@Zhaoqing_EN"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.ch.Key(); got != tt.want {
				t.Errorf("Key() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocation(t *testing.T) {
	when := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		src        Source
		wantOffset int
	}{
		{"zero value falls back to China", Source{}, 8 * 3600},
		{"unknown zone falls back to China", Source{Timezone: "Nowhere/Else"}, 8 * 3600},
		{"named zone", Source{Timezone: "Europe/Berlin"}, 2 * 3600},
		{"utc", Source{Timezone: "UTC"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, off := when.In(tt.src.Location()).Zone(); off != tt.wantOffset {
				t.Errorf("offset = %d, want %d", off, tt.wantOffset)
			}
		})
	}
	c, err := Parse("tz.yaml", []byte("sources:\n  - {id: a, url: 'https://x.org/', timezone: Asia/Tokyo}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sources[0].loc == nil || c.Sources[0].Location().String() != "Asia/Tokyo" {
		t.Errorf("Parse did not cache the location: %v", c.Sources[0].loc)
	}
}

func TestGlossaryFilePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "g.tsv"), []byte("a\tb\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	src := "translation:\n  glossary_file: g.tsv\nsources:\n  - {id: a, url: 'https://x.org/'}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.GlossaryFilePath(), filepath.Join(dir, "g.tsv"); got != want {
		t.Errorf("GlossaryFilePath() = %q, want %q", got, want)
	}
	if got := (&Config{}).GlossaryFilePath(); got != "" {
		t.Errorf("unset GlossaryFilePath() = %q, want empty", got)
	}
}

func TestParseSchedule(t *testing.T) {
	from := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	tests := []struct {
		spec    string
		next    time.Time // zero: only check that it parses
		wantErr string
	}{
		{spec: "*/20 * * * *", next: time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)},
		{spec: "@every 15m", next: from.Add(15 * time.Minute)},
		{spec: "@hourly", next: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)},
		{spec: "CRON_TZ=Asia/Shanghai 0 8 * * *", next: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{spec: "TZ=UTC 30 10 * * 1-5", next: time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)},
		{spec: "0 0 0 * * *", wantErr: "expected exactly 5 fields"},
		{spec: "@every 30s", wantErr: "at least 1m"},
		{spec: "@every -5m", wantErr: "at least 1m"},
		{spec: "@every soon", wantErr: "invalid interval"},
		{spec: "CRON_TZ=Asia/Shanghai", wantErr: "must follow the time zone"},
		{spec: "CRON_TZ=Mars/Base 0 8 * * *", wantErr: "bad location"},
		{spec: "", wantErr: "empty spec"},
		{spec: "0 0 30 2 *", wantErr: "never fires"},
		{spec: "0 0 31 4,6,9,11 *", wantErr: "never fires"},
		{spec: "CRON_TZ=Asia/Shanghai 0 8 31 2 *", wantErr: "never fires"},
		{spec: "0 0 29 2 *", next: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)}, // leap years only: fires
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := ParseSchedule(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "config: ") {
					t.Errorf("ParseSchedule(%q) error = %v, want config: …%s…", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSchedule(%q): %v", tt.spec, err)
			}
			if got := s.Next(from).UTC(); !got.Equal(tt.next) {
				t.Errorf("Next(%v) = %v, want %v", from, got, tt.next)
			}
		})
	}
}

func TestSplitSelector(t *testing.T) {
	tests := []struct{ spec, sel, attr string }{
		{"a@href", "a", "href"},
		{"span", "span", ""},
		{" ul.list > li a @ href", "ul.list > li a @ href", ""},
		{"ul.list > li a@data-url", "ul.list > li a", "data-url"},
		{"@href", "", "href"},
		{`a[href*="@"]`, `a[href*="@"]`, ""},
		{`a[href*="@"]@href`, `a[href*="@"]`, "href"},
		{"img@xlink:href", "img", "xlink:href"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			sel, attr := SplitSelector(tt.spec)
			if sel != tt.sel || attr != tt.attr {
				t.Errorf("SplitSelector(%q) = %q, %q; want %q, %q", tt.spec, sel, attr, tt.sel, tt.attr)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		entry   string
		text    string
		match   bool
		wantErr bool
	}{
		{entry: "Bay Area", text: "Greater bay area plan", match: true},
		{entry: "Bay Area", text: "Guangzhou", match: false},
		{entry: "/^Zhaoqing/", text: "Zhaoqing hosts", match: true},
		{entry: "/^Zhaoqing/", text: "zhaoqing hosts", match: false},
		{entry: "/(?i)^zhaoqing/", text: "ZHAOQING hosts", match: true},
		{entry: "/", text: "a/b", match: true},
		{entry: "/(/", wantErr: true},
		{entry: "//", wantErr: true},
		{entry: " ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.entry+"|"+tt.text, func(t *testing.T) {
			f, err := ParseFilter(tt.entry)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFilter(%q) error = %v, wantErr %v", tt.entry, err, tt.wantErr)
			}
			if err == nil && f.Match(tt.text) != tt.match {
				t.Errorf("Match(%q) = %v, want %v", tt.text, !tt.match, tt.match)
			}
		})
	}
}

// FuzzParse checks that no input makes Parse panic, that it returns either
// a config or a *ValidationError with at least one problem, and that what it
// accepts is usable (schedules parse, locations are set).
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, p := range append(append(seeds, more...), "../config.example.yaml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("sources: [{id: a, url: 'https://x.org/', schedule: 'TZ=x'}]"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("sources:\n  - <<: [*x]\n"))
	f.Add([]byte(""))
	getenv := env(map[string]string{"TELEGRAM_BOT_TOKEN": "1:t", "X": "${X}"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, getenv)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Parse error is not a *ValidationError with problems: %v", err)
			}
			return
		}
		if c == nil || len(c.Sources) == 0 {
			t.Fatalf("accepted config without sources")
		}
		for _, s := range c.Sources {
			if _, err := ParseSchedule(s.Schedule); err != nil {
				t.Errorf("accepted schedule %q does not parse: %v", s.Schedule, err)
			}
			if s.Location() == nil {
				t.Errorf("source %s has no location", s.ID)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"testdata/good.yaml", "../config.example.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		getenv := env(map[string]string{"PG_DSN": "postgres://db/x", "DEEPL_API_KEY": "k", "TELEGRAM_BOT_TOKEN": "1:t"})
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(name, data, getenv); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
