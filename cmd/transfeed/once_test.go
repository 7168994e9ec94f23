package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/transfeed/transfeed/model"
)

func itemsJSON(t *testing.T, cfgPath string, extra ...string) []itemJSON {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"items", "-config", cfgPath, "-json", "-limit", "1000"}, extra...)...)
	if code != 0 {
		t.Fatalf("items exit %d: %s", code, errOut)
	}
	var items []itemJSON
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("items -json is not a JSON array: %v\n%s", err, out)
	}
	return items
}

func TestOnceStoresEveryGoodPostOnceAndReportsBrokenSources(t *testing.T) {
	s := newSite(t)
	dir := t.TempDir()
	cfg := s.writeConfig(t, dir, "")

	code, out, errOut := runCmd(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("once exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	wantLines := map[string]*regexp.Regexp{
		"tzzq-wechat":      regexp.MustCompile(`ok .*new=2 `),
		"zq-notices":       regexp.MustCompile(`ok .*new=2 `),
		"zq-news":          regexp.MustCompile(`ok .*new=2 `),
		"gd-digest":        regexp.MustCompile(`ok .*new=1 `),
		"hostile":          regexp.MustCompile(`ok .*new=1 `),
		"broken-500":       regexp.MustCompile(`error .*500`),
		"broken-html":      regexp.MustCompile(`error .*(?i)not a feed`),
		"broken-truncated": regexp.MustCompile(`error .*(?i)pars`),
		"broken-stall":     regexp.MustCompile(`error .*(?i)timed out`),
		"broken-loop":      regexp.MustCompile(`error .*(?i)redirect`),
		"broken-huge":      regexp.MustCompile(`error .*(?i)(larger|too large|limit)`),
		"broken-bomb":      regexp.MustCompile(`error .*(?i)(larger|too large|limit)`),
	}
	for src, re := range wantLines {
		l := lineFor(out, src)
		if l == "" || !re.MatchString(l) {
			t.Errorf("once line for %s = %q, want match %v\nall output:\n%s", src, l, re, out)
		}
	}

	items := itemsJSON(t, cfg)
	if len(items) != 8 {
		t.Fatalf("stored %d items, want 8", len(items))
	}
	byTitle := map[string]itemJSON{}
	for _, it := range items {
		if _, dup := byTitle[it.Title]; dup {
			t.Errorf("post %q stored twice", it.Title)
		}
		byTitle[it.Title] = it
		if !strings.HasPrefix(it.Link, "http") {
			t.Errorf("%s: link %q is not absolute", it.Title, it.Link)
		}
		for _, bad := range []string{"<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<svg", "style="} {
			if strings.Contains(strings.ToLower(it.ContentHTML+it.Title), bad) {
				t.Errorf("%s: stored content contains %q: %s", it.Title, bad, it.ContentHTML)
			}
		}
	}
	cases := []struct {
		title, published, source, lang string
		contains                       []string
	}{
		{"许晓雄率队赴深圳开展招商考察活动", "2023-05-25T15:31:00Z", "tzzq-wechat", "zh",
			[]string{`src="https://mmbiz.qpic.cn/mmbiz_jpg/abc123/640?wx_fmt=jpeg"`, "粤港澳大湾区", "走访了3家企业"}},
		{"肇庆高新区举行重点项目集中签约仪式", "2023-05-24T10:00:00Z", "tzzq-wechat", "zh", []string{"85亿元"}},
		{"关于开展2023年度企业安全生产检查的通知", "2023-05-20T01:15:00Z", "zq-notices", "zh",
			[]string{s.URL + "/gb/"}},
		{"肇庆市2023年第一季度经济运行情况", "2023-04-18T08:00:00Z", "zq-notices", "zh", []string{"4.5%"}},
		{"肇庆市召开市政府常务会议", "", "zq-news", "zh", []string{"全年新签约项目不少于200个"}},
		{"副市长调研农业农村工作", "", "zq-news", "zh", []string{"乡村振兴"}},
		{"Zhaoqing opens new logistics hub", "2023-05-25T00:00:00Z", "gd-digest", "en", []string{"Greater Bay Area"}},
	}
	for _, c := range cases {
		it, ok := byTitle[c.title]
		if !ok {
			t.Errorf("post %q not stored; stored: %v", c.title, keys(byTitle))
			continue
		}
		if c.published != "" && it.Published != c.published {
			t.Errorf("%s: published %s, want %s", c.title, it.Published, c.published)
		}
		if it.Source != c.source || it.Language != c.lang {
			t.Errorf("%s: source %s language %s, want %s %s", c.title, it.Source, it.Language, c.source, c.lang)
		}
		for _, want := range c.contains {
			if !strings.Contains(it.ContentHTML, want) {
				t.Errorf("%s: content lacks %q:\n%s", c.title, want, it.ContentHTML)
			}
		}
	}
	wechat := byTitle["许晓雄率队赴深圳开展招商考察活动"]
	if strings.Contains(wechat.Link, "chksm") || strings.Contains(wechat.Link, "scene") {
		t.Errorf("tracking parameters kept in %s", wechat.Link)
	}
	if strings.Contains(wechat.ContentHTML, "阅读原文") || strings.Contains(wechat.ContentHTML, "发表于") {
		t.Errorf("RSSHub trailer kept: %s", wechat.ContentHTML)
	}
	for _, title := range []string{"肇庆市召开市政府常务会议", "副市长调研农业农村工作"} {
		if p := byTitle[title].Published; !strings.HasPrefix(p, "2023-05-2") {
			t.Errorf("%s: published %q, want the list's or page's date", title, p)
		}
	}

	// An immediate second run sends conditional requests and creates nothing.
	code, out, errOut = runCmd(t, "once", "-config", cfg)
	if code != 0 {
		t.Fatalf("second once exit %d: %s", code, errOut)
	}
	for _, src := range []string{"tzzq-wechat", "zq-notices", "zq-news", "gd-digest", "hostile"} {
		if l := lineFor(out, src); !strings.Contains(l, model.PollNotModified.String()) {
			t.Errorf("second once, %s: %q, want not modified", src, l)
		}
	}
	for _, p := range []string{"/wechat/mp/homepage/MzA3/0", "/gb/rss.xml", "/zqyw/index.html", "/en/atom.xml"} {
		if s.conditional(p) == 0 {
			t.Errorf("second once sent no conditional request for %s", p)
		}
	}
	if n := len(itemsJSON(t, cfg)); n != 8 {
		t.Errorf("after the second once: %d items, want 8", n)
	}
	if items := itemsJSON(t, cfg, "-source", "zq-news"); len(items) != 2 {
		t.Errorf("items -source zq-news: %d, want 2", len(items))
	}
}

func keys(m map[string]itemJSON) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestValidateReportsEveryProblemWithFileLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	bad := `sources:
  - id: one
    url: http://example.org/rss.xml
    schedule: "every fifteen minutes"
  - id: one
    url: http://example.org/other.xml
feeds:
  - id: out
    sources: [nope]
`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "validate", "-config", path)
	if code != 2 {
		t.Fatalf("validate exit %d, want 2\n%s", code, errOut)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path) + `:(\d+): `)
	got := re.FindAllStringSubmatch(errOut, -1)
	if len(got) != 3 {
		t.Fatalf("want three file:line problems, got %d:\n%s", len(got), errOut)
	}
	wantLines := []string{"4", "5", "9"}
	for i, m := range got {
		if m[1] != wantLines[i] {
			t.Errorf("problem %d at line %s, want %s\n%s", i, m[1], wantLines[i], errOut)
		}
	}
	// Nothing was touched: no data directory appeared.
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("validate created the data directory")
	}
}

func TestValidateWarnsAboutReadableSecretFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("123:ABCsecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "token"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	y := "sources:\n  - id: one\n    url: http://example.org/rss.xml\ntelegram:\n  token_file: token\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "validate", "-config", path)
	if code != 0 {
		t.Fatalf("validate exit %d, want 0 (a warning)\n%s", code, errOut)
	}
	if want := path + ":5: telegram.token_file: the secret file token can be read by other users"; !strings.Contains(errOut, want) || !strings.Contains(out, "OK") {
		t.Errorf("stderr %q lacks %q (stdout %q)", errOut, want, out)
	}
	if strings.Contains(errOut+out, "ABCsecret") {
		t.Error("the secret is printed")
	}
}

func TestCommandsRefuseAnInvalidConfigBeforeTouchingTheStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	os.WriteFile(path, []byte("data_dir: "+dir+"/data\nsourcez: []\n"), 0o600)
	for _, cmd := range []string{"once", "items", "run", "preview"} {
		code, _, errOut := runCmd(t, cmd, "-config", path)
		if code != 2 {
			t.Errorf("%s on an invalid config: exit %d, want 2 (%s)", cmd, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("an invalid config touched the data directory")
	}
}

// TestMain lets a test run the command in a child process (this test binary
// with TRANSFEED_TEST_MAIN=1), so its peak memory can be measured alone.
// The child prints its own VmHWM: the rusage of a child started by fork and
// exec also counts the parent's pages from before the exec.
func TestMain(m *testing.M) {
	if os.Getenv("TRANSFEED_TEST_MAIN") == "1" {
		code := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
		if status, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, l := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					fmt.Fprintf(os.Stderr, "peak-rss %s\n", strings.TrimSpace(v))
				}
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestOnceStaysSmallAgainstHugeAndBombBodies(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here to read peak memory from")
	}
	s := newSite(t)
	cfg := s.writeConfig(t, t.TempDir(), "")
	bin := os.Args[0]
	if raceEnabled {
		// The race detector multiplies memory use: measure a normal build.
		bin = filepath.Join(t.TempDir(), "transfeed.test")
		if out, err := exec.Command("go", "test", "-c", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go test -c: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, "once", "-config", cfg)
	cmd.Env = append(os.Environ(), "TRANSFEED_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("once in a child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "broken-bomb") || !strings.Contains(string(out), "broken-huge") {
		t.Fatalf("once did not report the huge and bomb sources:\n%s", out)
	}
	m := regexp.MustCompile(`peak-rss (\d+) kB`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the child did not report its peak memory:\n%s", out)
	}
	kib, _ := strconv.Atoi(m[1])
	// A 60 MB body and a 64 MiB gzip bomb are refused at max_body (5 MB here).
	if mib := kib / 1024; mib > 200 {
		t.Errorf("once peaked at %d MiB RSS, want under 200 MiB", mib)
	} else {
		t.Logf("once peaked at %d MiB RSS", mib)
	}
}
