package translate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

var testNow = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

type testEnv struct {
	fake  *fakeTranslator
	mem   *store.Store
	sleep *sleepRecorder
	eng   *Engine
	met   *Metrics
	reg   *prometheus.Registry
}

func newEnv(t testing.TB, glossary map[string]string, limit int64) *testEnv {
	t.Helper()
	env := &testEnv{fake: newFake(t, "fake/model-1", nil), mem: newMemory(t), sleep: &sleepRecorder{}, reg: prometheus.NewRegistry()}
	env.met = NewMetrics(env.reg)
	env.eng = env.engine(t, glossary, limit)
	return env
}

func (env *testEnv) engine(t testing.TB, glossary map[string]string, limit int64) *Engine {
	t.Helper()
	var g *Glossary
	if glossary != nil {
		var err error
		if g, err = NewGlossary(glossary); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := NewEngine(EngineConfig{SourceLang: "zh", TargetLang: "en", Glossary: g, DailyCharLimit: limit,
		Now: func() time.Time { return testNow }, Sleep: env.sleep.sleep}, env.fake, env.mem, nil, env.met)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func defaultTestGlossary() map[string]string {
	return map[string]string{
		"大湾区":    "Greater Bay Area",
		"粤港澳大湾区": "Guangdong-Hong Kong-Macao Greater Bay Area",
		"市长":     "Mayor",
		"副市长":    "Vice Mayor",
		"常务会议":   "executive meeting",
		"招商引资":   "investment promotion",
		"乡村振兴":   "rural revitalization",
		"高新区":    "High-tech Zone",
		"新区":     "New Area",
	}
}

func readFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

func TestTranslateWeChatPost(t *testing.T) {
	env := newEnv(t, defaultTestGlossary(), 0)
	body := readFixture(t, "wechat.html")
	it := model.Item{ID: 1, Title: "市长主持召开常务会议部署大湾区建设", Summary: "5月12日，市长主持召开市政府常务会议。", ContentHTML: body, Language: "zh"}
	res, err := env.eng.TranslateItem(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Translation
	if tr.TranslatedBy != "fake/model-1" || tr.TitleOnly {
		t.Errorf("translated by %q, title only %v", tr.TranslatedBy, tr.TitleOnly)
	}
	for name, s := range map[string]string{"title": tr.TitleEN, "summary": tr.SummaryEN, "content": tr.ContentHTMLEN} {
		if containsHan(htmlText(s)) {
			t.Errorf("%s has Chinese text left: %q", name, s)
		}
	}
	if !strings.Contains(tr.TitleEN, "Mayor") || !strings.Contains(tr.TitleEN, "Greater Bay Area") || !strings.Contains(tr.TitleEN, "executive meeting") {
		t.Errorf("title %q lacks glossary targets", tr.TitleEN)
	}
	if strings.Contains(tr.ContentHTMLEN, "Dawan") || strings.Contains(tr.TitleEN, "Dawan") {
		t.Errorf("engine's own rendering of 大湾区 leaked: %q", tr.ContentHTMLEN)
	}
	if !strings.Contains(tr.ContentHTMLEN, "Guangdong-Hong Kong-Macao Greater Bay Area") {
		t.Errorf("longest glossary term not applied: %q", tr.ContentHTMLEN)
	}
	// Markup: the same tags with the same attributes, in the same order.
	if diff := cmp.Diff(tagRE.FindAllString(body, -1), tagRE.FindAllString(tr.ContentHTMLEN, -1)); diff != "" {
		t.Errorf("markup changed (-want +got):\n%s", diff)
	}
	for _, keep := range []string{`<img src="https://mmbiz.qpic.cn/a.jpg" alt="肇庆新区全景" width="640">`,
		`<a href="https://www.zhaoqing.gov.cn/a/1.html" rel="nofollow">investment promotion</a>`, "<p>&nbsp;</p>", "<p>Photo: 2023</p>", "<p>　　"} {
		if !strings.Contains(tr.ContentHTMLEN, keep) {
			t.Errorf("content lacks %q:\n%s", keep, tr.ContentHTMLEN)
		}
	}
	var content []SegmentPair
	for _, p := range res.Segments {
		if p.Field == "content" {
			content = append(content, p)
		}
	}
	if len(content) != 7 {
		t.Fatalf("%d content segments, want 7: %+v", len(content), content)
	}
	// In order: each English paragraph appears after the previous one.
	pos := 0
	for i, p := range content {
		j := strings.Index(tr.ContentHTMLEN[pos:], p.English)
		if j < 0 {
			t.Fatalf("segment %d %q not found in order", i, p.English)
		}
		pos += j + len(p.English)
	}
	calls, chars := env.fake.stats()
	if calls != 1 || res.Requests != 1 {
		t.Errorf("%d calls (%d in result), want one request for the whole post", calls, res.Requests)
	}
	if chars != res.CharsSent || chars == 0 {
		t.Errorf("chars sent %d, result says %d", chars, res.CharsSent)
	}
	u, _ := env.mem.GetUsage(context.Background(), "2026-03-10", "fake/model-1")
	if u.Chars != chars || u.Requests != 1 {
		t.Errorf("usage %+v, want %d chars, 1 request", u, chars)
	}
	if got := counterValue(t, env.met.chars.WithLabelValues("fake/model-1")); got != float64(chars) {
		t.Errorf("chars metric %v, want %d", got, chars)
	}

	// The same item again costs nothing.
	res2, err := env.eng.TranslateItem(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	if calls2, _ := env.fake.stats(); calls2 != 1 || res2.CharsSent != 0 || res2.Requests != 0 {
		t.Errorf("second translation sent %d chars in %d requests", res2.CharsSent, res2.Requests)
	}
	if diff := cmp.Diff(res.Translation, res2.Translation); diff != "" {
		t.Errorf("translation from memory differs (-first +second):\n%s", diff)
	}
	if res2.MemoryHits == 0 || counterValue(t, env.met.hits.WithLabelValues("fake/model-1")) != float64(res2.MemoryHits) {
		t.Errorf("memory hits %d not counted", res2.MemoryHits)
	}
}

func TestGlossaryEnforcedAgainstEngine(t *testing.T) {
	it := model.Item{Title: "推进大湾区建设"}
	t.Run("without glossary the engine says Dawan", func(t *testing.T) {
		env := newEnv(t, nil, 0)
		res, err := env.eng.TranslateItem(context.Background(), it)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Translation.TitleEN, "Dawan District") {
			t.Errorf("fake engine is not the careless one: %q", res.Translation.TitleEN)
		}
	})
	t.Run("with glossary", func(t *testing.T) {
		env := newEnv(t, map[string]string{"大湾区": "Greater Bay Area"}, 0)
		res, err := env.eng.TranslateItem(context.Background(), it)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Translation.TitleEN, "Greater Bay Area") || strings.Contains(res.Translation.TitleEN, "Dawan") {
			t.Errorf("title %q", res.Translation.TitleEN)
		}
		if got := env.fake.requests[0].Glossary; !cmp.Equal(got, map[string]string{"大湾区": "Greater Bay Area"}) {
			t.Errorf("request glossary %v", got)
		}
	})
	t.Run("engine that rewrites the target fails the check", func(t *testing.T) {
		env := newEnv(t, map[string]string{"大湾区": "Greater Bay Area"}, 0)
		env.fake.mangle = func(_ int, _, out string) string { return strings.ReplaceAll(out, "Greater Bay Area", "Big Bay") }
		_, err := env.eng.TranslateItem(context.Background(), it)
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Check != CheckGlossary {
			t.Fatalf("err = %v, want glossary CheckError", err)
		}
		if calls, _ := env.fake.stats(); calls != 2 {
			t.Errorf("%d calls, want 2 (one retry)", calls)
		}
	})
}

func paragraphs(ps ...string) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("<p>" + p + "</p>\n")
	}
	return b.String()
}

func TestMemoryAcrossPosts(t *testing.T) {
	shared := []string{"全市经济运行总体平稳，稳中有进。", "各部门要切实履职尽责，抓好落实。", "本网讯（记者 王明）"}
	a := model.Item{Title: "第一篇文章的标题", ContentHTML: paragraphs(append(slices2(shared), "甲乙丙丁戊己庚辛壬癸的新内容。", "第一篇文章独有的第二段。")...)}
	b := model.Item{Title: "第一篇文章的标题", ContentHTML: paragraphs(append(slices2(shared), "第二篇文章新的第一段内容。", "第二篇文章新的第二段内容。")...)}

	env := newEnv(t, nil, 0)
	ctx := context.Background()
	if _, err := env.eng.TranslateItem(ctx, a); err != nil {
		t.Fatal(err)
	}
	before := len(env.fake.sentTexts())
	res, err := env.eng.TranslateItem(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	sent := env.fake.sentTexts()[before:]
	want := []string{"第二篇文章新的第一段内容。", "第二篇文章新的第二段内容。"}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("second post sent (-want +got):\n%s", diff)
	}
	var wantChars int64
	for _, s := range want {
		wantChars += int64(len([]rune(s)))
	}
	if res.CharsSent != wantChars || res.MemoryHits != 4 {
		t.Errorf("chars %d (want %d), memory hits %d (want 4: title + 3 paragraphs)", res.CharsSent, wantChars, res.MemoryHits)
	}

	t.Run("identical segments in one post are sent once", func(t *testing.T) {
		env := newEnv(t, nil, 0)
		it := model.Item{Title: "重复的段落", Summary: "重复的段落", ContentHTML: paragraphs("重复的段落", "重复的段落", "<b>重复的段落</b>")}
		res, err := env.eng.TranslateItem(ctx, it)
		if err != nil {
			t.Fatal(err)
		}
		if got := env.fake.sentTexts(); len(got) != 1 {
			t.Errorf("sent %q, want one text", got)
		}
		// The summary is the body's start: its English is cut from the body's.
		if !strings.HasPrefix(res.Translation.SummaryEN, res.Translation.TitleEN) || strings.Count(res.Translation.ContentHTMLEN, res.Translation.TitleEN) != 3 {
			t.Errorf("translation %+v", res.Translation)
		}
	})

	t.Run("edited post sends only the changed paragraph", func(t *testing.T) {
		env := newEnv(t, nil, 0)
		orig := model.Item{Title: "标题", ContentHTML: paragraphs("第一段保持不变。", "第二段原来的内容。", "第三段保持不变。")}
		edited := orig
		edited.ContentHTML = paragraphs("第一段保持不变。", "第二段修改后的内容。", "第三段保持不变。")
		if _, err := env.eng.TranslateItem(ctx, orig); err != nil {
			t.Fatal(err)
		}
		n := len(env.fake.sentTexts())
		if _, err := env.eng.TranslateItem(ctx, edited); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"第二段修改后的内容。"}, env.fake.sentTexts()[n:]); diff != "" {
			t.Errorf("edited post sent (-want +got):\n%s", diff)
		}
	})
}

func slices2(s []string) []string { return append([]string(nil), s...) }

func TestGlossaryChangeResendsOnlyAffectedSegments(t *testing.T) {
	ctx := context.Background()
	it := model.Item{Title: "关于推进工作的通知", ContentHTML: paragraphs("市长出席了开幕式。", "大湾区建设取得新进展。", "粤港澳大湾区合作不断深化。", "全体人员参加了会议。")}
	env := newEnv(t, defaultTestGlossary(), 0)
	if _, err := env.eng.TranslateItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	n := len(env.fake.sentTexts())
	g := defaultTestGlossary()
	g["大湾区"] = "Bay Area"
	eng2 := env.engine(t, g, 0)
	res, err := eng2.TranslateItem(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	// Only the paragraph whose longest match is 大湾区 changes: 粤港澳大湾区 is its own term.
	if diff := cmp.Diff([]string{"Bay Area 建设取得新进展。"}, env.fake.sentTexts()[n:]); diff != "" {
		t.Errorf("after the glossary change sent (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.Translation.ContentHTMLEN, "Bay Area") || res.MemoryHits != 4 {
		t.Errorf("hits %d, content %q", res.MemoryHits, res.Translation.ContentHTMLEN)
	}
}

func TestProviderFailures(t *testing.T) {
	ctx := context.Background()
	it := model.Item{Title: "测试标题内容"}
	e503 := &Error{Provider: "fake/model-1", Kind: KindRetryable, StatusCode: 503, Err: errors.New("service unavailable")}
	e429 := func(d time.Duration) error {
		return &Error{Provider: "fake/model-1", Kind: KindRetryable, StatusCode: 429, RetryAfter: d, Err: errors.New("too many requests")}
	}
	tests := []struct {
		name      string
		fail      []error
		wantKind  ErrorKind // 0: success
		wantSleep []time.Duration
		wantCalls int
	}{
		{name: "503 then success", fail: []error{e503}, wantSleep: []time.Duration{500 * time.Millisecond}, wantCalls: 2},
		{name: "429 with Retry-After honoured", fail: []error{e429(3 * time.Second), e429(2 * time.Second)},
			wantSleep: []time.Duration{3 * time.Second, 2 * time.Second}, wantCalls: 3},
		{name: "long Retry-After goes back to the caller", fail: []error{e429(90 * time.Second)},
			wantKind: KindRetryable, wantCalls: 1},
		{name: "retries exhausted", fail: []error{e503, e503, e503}, wantKind: KindRetryable,
			wantSleep: []time.Duration{500 * time.Millisecond, time.Second}, wantCalls: 3},
		{name: "permanent not retried", fail: []error{&Error{Provider: "fake/model-1", Kind: KindPermanent, StatusCode: 403, Err: errors.New("bad key")}},
			wantKind: KindPermanent, wantCalls: 1},
		{name: "unusable answer retried", fail: []error{&Error{Provider: "fake/model-1", Kind: KindBadAnswer, Err: errors.New("truncated")}},
			wantSleep: []time.Duration{500 * time.Millisecond}, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			env.fake.failNext(tc.fail...)
			res, err := env.eng.TranslateItem(ctx, it)
			if got := KindOf(err); got != tc.wantKind {
				t.Fatalf("error %v (kind %v), want kind %v", err, got, tc.wantKind)
			}
			if tc.wantKind != 0 && res != nil {
				t.Errorf("a failed translation returned a result: %+v", res)
			}
			if tc.wantKind == 0 && !strings.HasPrefix(res.Translation.TitleEN, "w") {
				t.Errorf("title %q", res.Translation.TitleEN)
			}
			if diff := cmp.Diff(tc.wantSleep, env.sleep.durations()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if calls, _ := env.fake.stats(); calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			u, _ := env.mem.GetUsage(ctx, "2026-03-10", "fake/model-1")
			if u.Requests != int64(tc.wantCalls) {
				t.Errorf("usage records %d requests, want %d", u.Requests, tc.wantCalls)
			}
		})
	}
}

func TestQuotaPausesProvider(t *testing.T) {
	ctx := context.Background()
	quota := &Error{Provider: "fake/model-1", Kind: KindQuota, StatusCode: 456, Err: errors.New("quota exceeded")}
	tests := []struct {
		name      string
		provider  string
		wantUntil time.Time
	}{
		{name: "utc midnight", provider: "deepl", wantUntil: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)},
		// 2026-03-10 15:00 UTC is 08:00 PDT; the next Pacific midnight is 07:00 UTC.
		{name: "google resets at Pacific midnight", provider: "google", wantUntil: time.Date(2026, 3, 11, 7, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			env.fake.name = tc.provider
			eng := env.engine(t, nil, 0)
			env.fake.failNext(quota)
			_, err := eng.TranslateItem(ctx, model.Item{Title: "测试标题内容"})
			if KindOf(err) != KindQuota {
				t.Fatalf("err %v, want quota", err)
			}
			st, _ := env.mem.GetProviderState(ctx, tc.provider)
			if !st.PausedUntil.Equal(tc.wantUntil) || !strings.Contains(st.Reason, "quota") {
				t.Errorf("state %+v, want paused until %v with a reason", st, tc.wantUntil)
			}
			_, err = eng.TranslateItem(ctx, model.Item{Title: "另一个标题内容"})
			if KindOf(err) != KindQuota || !strings.Contains(err.Error(), "paused until") {
				t.Errorf("while paused: err %v", err)
			}
			if calls, _ := env.fake.stats(); calls != 1 {
				t.Errorf("%d calls; the paused provider was called", calls)
			}
			if got := counterValue(t, env.met.failures.WithLabelValues(tc.provider, "paused")); got != 1 {
				t.Errorf("paused failures metric %v", got)
			}
		})
	}
}

func TestDailyBudget(t *testing.T) {
	ctx := context.Background()
	it := model.Item{Title: "预算测试标题", ContentHTML: paragraphs("这是正文的第一段内容，比较长一些。", "这是正文的第二段内容，也比较长。")}
	env := newEnv(t, nil, 20)
	res, err := env.eng.TranslateItem(ctx, it)
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("err %v, want ErrBudget", err)
	}
	if res == nil || !res.Translation.TitleOnly || res.Translation.TitleEN == "" || res.Translation.ContentHTMLEN != "" {
		t.Fatalf("result %+v, want title only", res)
	}
	if got := env.fake.sentTexts(); len(got) != 1 || got[0] != "预算测试标题" {
		t.Errorf("sent %q, want the title only", got)
	}
	// Next day the budget is fresh and the title comes from memory.
	env.eng.cfg.Now = func() time.Time { return testNow.Add(24 * time.Hour) }
	env.eng.cfg.DailyCharLimit = 1000
	res, err = env.eng.TranslateItem(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	if res.Translation.TitleOnly || res.MemoryHits != 1 || res.CharsSent != 33 {
		t.Errorf("next day: %+v", res)
	}
}

func TestQualityChecks(t *testing.T) {
	ctx := context.Background()
	it := model.Item{Title: "2023年5月全市新增企业1,250家", ContentHTML: `<p>会议要求<a href="/x">认真落实</a>各项工作部署安排。</p>`}
	tests := []struct {
		name      string
		mangle    func(call int, in, out string) string
		wantCheck string // "" = success after the retry
	}{
		{name: "leaves Chinese once", mangle: func(call int, in, out string) string {
			if call == 1 {
				return out + " 企业"
			}
			return out
		}},
		{name: "leaves Chinese", mangle: func(_ int, _, out string) string { return out + " 企业" }, wantCheck: CheckHan},
		{name: "drops a number", mangle: func(_ int, _, out string) string { return strings.ReplaceAll(out, "1,250", "many") }, wantCheck: CheckNumbers},
		{name: "empty answer", mangle: func(_ int, _, out string) string { return "" }, wantCheck: CheckEmpty},
		{name: "markup dropped", mangle: func(_ int, _, out string) string { return tagRE.ReplaceAllString(out, "") }, wantCheck: CheckMarkup},
		{name: "attribute changed", mangle: func(_ int, _, out string) string { return strings.ReplaceAll(out, `"/x"`, `"/evil"`) }, wantCheck: CheckMarkup},
		{name: "truncated", mangle: func(_ int, in, out string) string {
			if strings.Contains(in, "<a") {
				return `Meeting <a href="/x">x</a>`
			}
			return out
		}, wantCheck: CheckRatio},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			env.fake.mangle = tc.mangle
			res, err := env.eng.TranslateItem(ctx, it)
			if tc.wantCheck == "" {
				if err != nil {
					t.Fatal(err)
				}
				if containsHan(res.Translation.TitleEN) {
					t.Errorf("title %q", res.Translation.TitleEN)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Check != tc.wantCheck {
				t.Fatalf("err %v, want check %s", err, tc.wantCheck)
			}
			if res != nil {
				t.Errorf("half-translated result returned: %+v", res)
			}
			if calls, _ := env.fake.stats(); calls != 2 {
				t.Errorf("%d calls, want 2 (one retry)", calls)
			}
			if ce.Segment == "" || !strings.Contains(err.Error(), tc.wantCheck) {
				t.Errorf("error %q lacks the check or the segment", err)
			}
		})
	}
}

func TestBatchingWithinLimits(t *testing.T) {
	var ps []string
	for i := range 7 {
		ps = append(ps, fmt.Sprintf("第%d段的内容各不相同。", i))
	}
	tests := []struct {
		name      string
		limits    Limits
		wantCalls int
	}{
		{name: "no limits", wantCalls: 1},
		{name: "3 texts", limits: Limits{MaxTexts: 3}, wantCalls: 3},
		{name: "chars", limits: Limits{MaxChars: 25}, wantCalls: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			env.fake.limits = tc.limits
			eng := env.engine(t, nil, 0)
			if _, err := eng.TranslateItem(context.Background(), model.Item{Title: "标题", ContentHTML: paragraphs(ps...)}); err != nil {
				t.Fatal(err)
			}
			if calls, _ := env.fake.stats(); calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
		})
	}
}

func TestLongSegmentSplit(t *testing.T) {
	env := newEnv(t, nil, 0)
	env.fake.limits = Limits{MaxChars: 60}
	eng := env.engine(t, nil, 0)
	long := strings.Repeat("这是一个比较长的句子用来测试切分。", 10) // 170 characters
	res, err := eng.TranslateItem(context.Background(), model.Item{Title: "标题", ContentHTML: "<p>" + long + "</p>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range env.fake.sentTexts() {
		if n := len([]rune(s)); n > 60 {
			t.Errorf("sent %d characters in one text", n)
		}
	}
	if containsHan(res.Translation.ContentHTMLEN) {
		t.Errorf("content %q", res.Translation.ContentHTMLEN)
	}
}

func TestNewEngineErrors(t *testing.T) {
	f := newFake(t, "x", nil)
	tests := []struct {
		name string
		cfg  EngineConfig
		tr   Translator
		mem  Memory
	}{
		{name: "no translator", mem: newMemory(t)},
		{name: "no memory", tr: f},
		{name: "negative limit", tr: f, mem: newMemory(t), cfg: EngineConfig{DailyCharLimit: -1}},
		{name: "negative reservation lease", tr: f, mem: newMemory(t), cfg: EngineConfig{ReserveLease: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewEngine(tc.cfg, tc.tr, tc.mem, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "translate: ") {
				t.Errorf("err %v", err)
			}
		})
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.sent("x", 1)
	m.request("x")
	m.memoryHits("x", 1)
	m.failure("x", "quota")
	reg := prometheus.NewRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.request("p")
	b.request("p")
	if got := counterValue(t, a.requests.WithLabelValues("p")); got != 2 {
		t.Errorf("shared registry: %v requests, want 2", got)
	}
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestMaxCharsPerPost(t *testing.T) {
	ctx := context.Background()
	// n distinct paragraphs of 85 characters each.
	paras := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("<p>" + strings.Repeat(string(rune(0x4e00+i)), 5) + strings.Repeat("会议", 40) + "</p>")
		}
		return b.String()
	}
	tests := []struct {
		name       string
		max        int
		body       string
		wantSentLE int64 // characters sent at most
		wantBlocks int   // translated paragraphs kept in the English body
		wantNotice bool
	}{
		{name: "no cap", max: 0, body: paras(50), wantSentLE: 50*85 + 6, wantBlocks: 50},
		{name: "under the cap", max: 10000, body: paras(50), wantSentLE: 50*85 + 6, wantBlocks: 50},
		{name: "over the cap", max: 1000, body: paras(50), wantSentLE: 1000, wantBlocks: 11, wantNotice: true},
		{name: "first block over the cap", max: 50, body: paras(3), wantSentLE: 50, wantBlocks: 0, wantNotice: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			env.eng.cfg.MaxCharsPerPost = tt.max
			it := model.Item{ID: 1, Title: "标题测试", Summary: "摘要", ContentHTML: tt.body}
			res, err := env.eng.TranslateItem(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			if _, chars := env.fake.stats(); chars > tt.wantSentLE {
				t.Errorf("sent %d characters, want at most %d", chars, tt.wantSentLE)
			}
			en := res.Translation.ContentHTMLEN
			if got := strings.Count(en, "<p>") - strings.Count(en, "Partially translated"); got != tt.wantBlocks {
				t.Errorf("%d translated paragraphs, want %d: %.200q", got, tt.wantBlocks, en)
			}
			if has := strings.Contains(en, "Partially translated"); has != tt.wantNotice {
				t.Errorf("notice present %v, want %v", has, tt.wantNotice)
			}
			if res.Translation.TitleEN == "" || containsHan(res.Translation.TitleEN) {
				t.Errorf("title not translated: %q", res.Translation.TitleEN)
			}
			if containsHan(en) {
				t.Errorf("English body holds Chinese: %.200q", en)
			}
		})
	}
}

func TestSummaryNotPaidTwice(t *testing.T) {
	p1, p2 := "五月十二日，市长主持召开市政府常务会议。会议研究部署大湾区建设工作。", "会议要求各部门密切配合。"
	body := paragraphs(p1, p2)
	tests := []struct {
		name     string
		summary  string
		wantSent []string // besides the title
		wantEnOf []string // the texts whose English the summary's English is (nil: not checked)
	}{
		{"whole body as summary", p1 + " " + p2, []string{p1, p2}, []string{p1, p2}},
		{"first paragraph", p1, []string{p1, p2}, []string{p1}},
		{"ends after a sentence inside a paragraph: that paragraph goes as two texts",
			"五月十二日，市长主持召开市政府常务会议。", []string{"五月十二日，市长主持召开市政府常务会议。", "会议研究部署大湾区建设工作。", p2},
			[]string{"五月十二日，市长主持召开市政府常务会议。"}},
		{"cut inside a sentence", "五月十二日，市长主持召开市政府常务会议。会议研究…", []string{p1, p2}, nil},
		{"the source's own summary", "市政府常务会议召开。", []string{"市政府常务会议召开。", p1, p2}, []string{"市政府常务会议召开。"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 0)
			it := model.Item{Title: "常务会议", Summary: tc.summary, ContentHTML: body, Language: "zh"}
			res, err := env.eng.TranslateItem(t.Context(), it)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"常务会议"}, tc.wantSent...)
			if diff := cmp.Diff(want, env.fake.sentTexts(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			en := res.Translation.SummaryEN
			if en == "" || containsHan(en) {
				t.Errorf("summary_en = %q, want English", en)
			}
			if tc.wantEnOf != nil {
				var parts []string
				for _, zh := range tc.wantEnOf {
					parts = append(parts, env.fake.translateText(zh))
				}
				if w := strings.Join(parts, " "); en != w {
					t.Errorf("summary_en = %q, want %q", en, w)
				}
			}
			if !strings.Contains(htmlText(res.Translation.ContentHTMLEN), strings.Fields(en)[0]) {
				t.Errorf("summary_en %q does not start like the English body %q", en, res.Translation.ContentHTMLEN)
			}
		})
	}
}

// TestSharedBudget: what a summarizer of its own spent today counts against
// the translation's daily limit.
func TestSharedBudget(t *testing.T) {
	ctx := context.Background()
	it := model.Item{Title: "预算测试标题", ContentHTML: paragraphs("这是正文的第一段内容，比较长一些。")}
	for _, tc := range []struct {
		name      string
		spent     int64
		wantTitle bool
	}{
		{"summarizer spent little", 10, false},
		{"summarizer spent the budget", 990, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil, 1000)
			env.eng.cfg.SharedBudget = []string{"openai/summarizer"}
			if err := env.mem.AddUsage(ctx, testNow.UTC().Format(time.DateOnly), "openai/summarizer", tc.spent, 1); err != nil {
				t.Fatal(err)
			}
			res, err := env.eng.TranslateItem(ctx, it)
			if got := errors.Is(err, ErrBudget); got != tc.wantTitle {
				t.Fatalf("err %v, want ErrBudget %v", err, tc.wantTitle)
			}
			if res.Translation.TitleOnly != tc.wantTitle {
				t.Errorf("title only = %v, want %v", res.Translation.TitleOnly, tc.wantTitle)
			}
		})
	}
}
