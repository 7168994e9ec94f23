package translate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

func TestSplitRoundTrip(t *testing.T) {
	tests := []struct {
		name, html string
	}{
		{"paragraphs", "<p>第一段。</p>\n<p>第二段，<strong>重点</strong>。</p>"},
		{"text only", "会议召开"},
		{"leading literal and trailing space", "<div><img src=x.png>  大湾区建设  </div>\n"},
		{"br breaks", "一<br>二<br/>三"},
		{"entities", "<p>甲 &amp; 乙 &lt;丙&gt;</p><p>丁</p>"},
		{"mixed with latin blocks", "<p>2026</p><p>市长讲话</p><p>English only</p><p>结束。</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Segment(tc.html)
			if err != nil {
				t.Fatal(err)
			}
			// The original splits into its own texts.
			got, err := doc.Split(tc.html)
			if err != nil {
				t.Fatalf("split original: %v", err)
			}
			if diff := cmp.Diff(doc.Texts(), got); diff != "" {
				t.Errorf("split original (-want +got):\n%s", diff)
			}
			// An English body splits back into the texts it was made of.
			en := make([]string, len(doc.Blocks()))
			for i, b := range doc.Blocks() {
				en[i] = fmt.Sprintf("Block %d & <x> says %q", i, "hi")
				if b.Format == FormatHTML {
					en[i] = fmt.Sprintf("Block %d <strong>bold</strong>", i)
				}
			}
			body, err := doc.Assemble(en)
			if err != nil {
				t.Fatal(err)
			}
			got, err = doc.Split(body)
			if err != nil {
				t.Fatalf("split english: %v", err)
			}
			if diff := cmp.Diff(en, got); diff != "" {
				t.Errorf("split english (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitRefusesOtherBodies(t *testing.T) {
	doc, err := Segment("<p>第一段。</p><p>第二段。</p>")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"", "<p>One.</p>", "<div>One.</div><div>Two.</div>", "<p>One.</p><p>Two.</p>extra"} {
		if _, err := doc.Split(body); err == nil {
			t.Errorf("Split(%q) = no error", body)
		}
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("<p>第一段。</p>\n<p>第二段，<strong>重点</strong>。</p>", "Hello & <bye>")
	f.Add("一<br>二", "")
	f.Add("<ul><li>甲</li><li>乙</li></ul>", "x</li>")
	f.Fuzz(func(t *testing.T, src, en string) {
		doc, err := Segment(src)
		if err != nil {
			return
		}
		texts := make([]string, len(doc.Blocks()))
		for i, b := range doc.Blocks() {
			texts[i] = en + fmt.Sprint(i)
			if b.Format == FormatHTML {
				texts[i] = b.Text // inner HTML must keep its tags
			}
		}
		body, err := doc.Assemble(texts)
		if err != nil {
			t.Fatal(err)
		}
		// Split either recovers a body that assembles to the same bytes,
		// or refuses; it never returns texts that assemble differently.
		got, err := doc.Split(body)
		if err != nil {
			return
		}
		back, err := doc.Assemble(got)
		if err != nil || back != body {
			t.Fatalf("split/assemble changed the body: %q → %q", body, back)
		}
	})
}

func TestReplaceBlocks(t *testing.T) {
	zh := "<p>大湾区建设。</p><p>会议召开。</p>"
	doc, _ := Segment(zh)
	en, _ := doc.Assemble([]string{"Dawan District construction.", "The meeting opened."})
	got, err := ReplaceBlocks(zh, en, map[int]string{0: "Greater Bay Area development."})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<p>Greater Bay Area development.</p><p>The meeting opened.</p>"; got != want {
		t.Errorf("ReplaceBlocks = %q, want %q", got, want)
	}
	if _, err := ReplaceBlocks(zh, en, map[int]string{5: "x"}); err == nil {
		t.Error("ReplaceBlocks of a missing block: no error")
	}
}

// readyItem stores it as a ready post of source and returns it as stored.
func readyItem(t *testing.T, st *store.Store, source string, it model.Item, tr model.Translation) model.Item {
	t.Helper()
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	it.SourceID = source
	if it.ContentHash == "" {
		it.ContentHash = "h-" + it.Key
	}
	it.Published = now
	if _, err := st.UpsertItems(ctx, source, []model.Item{it}, now); err != nil {
		t.Fatal(err)
	}
	items, err := st.ListItems(ctx, store.ItemQuery{SourceIDs: []string{source}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(items, func(x model.Item) bool { return x.Key == it.Key })
	if i < 0 {
		t.Fatalf("item %s not stored", it.Key)
	}
	if err := st.MarkReady(ctx, items[i].ID, tr, nil, now); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetItem(ctx, items[i].ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestHumanTranslationWins: a block a person corrected is taken from the
// human memory by every provider (its key names none), for the same block
// in another source's post, and survives a retranslation of the post.
func TestHumanTranslationWins(t *testing.T) {
	ctx := t.Context()
	st := newMemory(t)
	mk := func(name string) (*Engine, *fakeTranslator) {
		f := newFake(t, name, nil)
		e, err := NewEngine(EngineConfig{Human: st}, f, st, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e, f
	}
	engA, fakeA := mk("fake-a/model-1")
	post := model.Item{Key: "p1", Title: "大湾区会议", ContentHTML: "<p>大湾区建设。</p><p>会议召开。</p>"}
	res, err := engA.TranslateItem(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	stored := readyItem(t, st, "src-a", post, res.Translation)

	// A person corrects the first block.
	fixed := "Greater Bay Area development."
	body, err := ReplaceBlocks(stored.ContentHTML, stored.ContentHTMLEN, map[int]string{0: fixed})
	if err != nil {
		t.Fatal(err)
	}
	err = st.CorrectItem(ctx, stored.ID, store.ItemCorrection{
		OriginalHash: stored.ContentHash, TitleEN: stored.TitleEN, SummaryEN: stored.SummaryEN, ContentHTMLEN: body,
		Changes: []store.Correction{{Field: "content", Block: 0, Source: "大湾区建设。", OldEN: "x", NewEN: fixed}},
		Human:   []store.HumanEntry{{Key: engA.HumanKey(FormatText, "大湾区建设。"), Source: "大湾区建设。", Target: fixed}},
		Editor:  "editor", At: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		engine    func() (*Engine, *fakeTranslator)
		item      model.Item
		wantChars bool // some other segment still needs the provider
	}{
		{"retranslation by the same provider keeps the correction", func() (*Engine, *fakeTranslator) { return engA, fakeA }, post, false},
		{"another provider's mirror takes it from memory", func() (*Engine, *fakeTranslator) { return mk("fake-b/model-2") },
			model.Item{Key: "m1", Title: "大湾区会议", ContentHTML: "<div>\n  大湾区建设。 </div>"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, f := tc.engine()
			_, before := f.stats()
			sentBefore := len(f.sentTexts())
			r, err := e.TranslateItem(ctx, tc.item)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Translation.ContentHTMLEN, fixed) {
				t.Errorf("body %q lacks the correction %q", r.Translation.ContentHTMLEN, fixed)
			}
			if strings.Contains(r.Translation.ContentHTMLEN, "Dawan") {
				t.Errorf("body %q still has the machine text", r.Translation.ContentHTMLEN)
			}
			if r.HumanHits != 1 {
				t.Errorf("HumanHits = %d, want 1", r.HumanHits)
			}
			for _, txt := range f.sentTexts()[sentBefore:] {
				if strings.Contains(txt, "大湾区建设") {
					t.Errorf("the corrected block was sent: %q", txt)
				}
			}
			_, after := f.stats()
			if tc.wantChars != (after > before) {
				t.Errorf("chars sent %d → %d, want some: %t", before, after, tc.wantChars)
			}
		})
	}
}

// TestStoredGlossary: an entry added to the store is enforced on the next
// translation, and EstimateItem states its cost before anything is sent.
func TestStoredGlossary(t *testing.T) {
	ctx := t.Context()
	st := newMemory(t)
	f := newFake(t, "fake/m", nil)
	cfgGloss, err := NewGlossary(map[string]string{"市长": "Mayor"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(EngineConfig{Glossary: cfgGloss, StoredGlossary: st, Human: st}, f, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	post := model.Item{Key: "p", Title: "市长会议", ContentHTML: "<p>大湾区建设。</p><p>会议召开。</p>"}
	if _, err := e.TranslateItem(ctx, post); err != nil {
		t.Fatal(err)
	}
	est, err := e.EstimateItem(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	if est.Chars != 0 || est.Segments != 0 {
		t.Fatalf("estimate of a remembered post = %+v, want nothing to send", est)
	}
	// A stored entry may not override the configured one.
	for _, g := range []store.GlossaryEntry{{Source: "大湾区", Target: "Greater Bay Area"}, {Source: "市长", Target: "city boss"}} {
		if err := st.PutGlossaryEntry(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	est, err = e.EstimateItem(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	// Only the block with the new term is sent again (its key names the
	// term); the title and the other block are remembered.
	if est.Segments != 1 || est.FromMemory != 2 || est.Chars < int64(len([]rune("Greater Bay Area"))) {
		t.Errorf("estimate = %+v, want one segment of at least 16 characters, two remembered", est)
	}
	_, before := f.stats()
	r, err := e.TranslateItem(ctx, post)
	if err != nil {
		t.Fatal(err)
	}
	_, after := f.stats()
	if after-before != est.Chars {
		t.Errorf("sent %d characters, the estimate said %d", after-before, est.Chars)
	}
	if !strings.Contains(r.Translation.ContentHTMLEN, "Greater Bay Area") || strings.Contains(r.Translation.ContentHTMLEN, "Dawan") {
		t.Errorf("body %q does not use the stored glossary", r.Translation.ContentHTMLEN)
	}
	if !strings.Contains(r.Translation.TitleEN, "Mayor") {
		t.Errorf("title %q: the configured glossary must win over a stored entry", r.Translation.TitleEN)
	}
}
