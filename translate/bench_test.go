package translate

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/transfeed/transfeed/model"
)

// costCorpus builds ~100 WeChat-style posts: a title, a summary equal to
// the first paragraph, and 10 paragraphs of which 3 are boilerplate shared
// across posts (30%).
func costCorpus() (items []model.Item, uniqueChars int64) {
	const han = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
	pool := []rune(han)
	seed := uint32(12345)
	next := func() rune {
		seed = seed*1664525 + 1013904223
		return pool[int(seed>>8)%len(pool)]
	}
	sentence := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteRune(next())
			if i%9 == 8 && i != n-1 {
				b.WriteString("，")
			}
		}
		b.WriteString("。")
		return b.String()
	}
	boiler := []string{
		"来源：肇庆市人民政府办公室。",
		"本网讯（记者 王明 通讯员 李华）全市各级各部门要认真贯彻落实会议精神，切实抓好各项工作。",
		"欢迎关注“肇庆发布”微信公众号，了解更多权威信息。",
		"责任编辑：张三，审核：李四，电话：0758-2222222。",
		"转载请注明出处，违者必究。",
	}
	seen := map[string]bool{}
	count := func(s string) {
		if !seen[s] {
			seen[s] = true
			uniqueChars += int64(utf8.RuneCountInString(s))
		}
	}
	for p := range 100 {
		var ps []string
		for k := range 10 {
			if k >= 7 { // 3 of 10 paragraphs are boilerplate
				ps = append(ps, boiler[(p+k)%len(boiler)])
				continue
			}
			ps = append(ps, sentence(30+(p*7+k*13)%60)+sentence(20+(p+k)%30))
		}
		title := sentence(12 + p%10)
		it := model.Item{ID: int64(p + 1), Title: title, Summary: ps[0], Language: "zh", ContentHTML: paragraphs(ps...)}
		count(title)
		for _, s := range ps {
			count(s)
		}
		items = append(items, it)
	}
	return items, uniqueChars
}

// BenchmarkCostRatio reports characters sent per character of unique new
// Chinese text over a corpus with 30% boilerplate paragraphs, and requests
// per post.
func BenchmarkCostRatio(b *testing.B) {
	items, unique := costCorpus()
	for _, bc := range []struct {
		name     string
		glossary bool
	}{{name: "no_glossary"}, {name: "example_glossary", glossary: true}} {
		b.Run(bc.name, func(b *testing.B) {
			var g *Glossary
			if bc.glossary {
				entries, err := LoadGlossaryFile("../glossary.example.tsv")
				if err != nil {
					b.Fatal(err)
				}
				if g, err = NewGlossary(entries); err != nil {
					b.Fatal(err)
				}
			}
			var chars int64
			var calls int
			for b.Loop() {
				fake := newFake(b, "fake/model-1", nil)
				fake.limits = Limits{MaxTexts: 50, MaxBytes: 128 << 10}
				eng, err := NewEngine(EngineConfig{Glossary: g, Now: func() time.Time { return testNow }}, fake, newMemory(b), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, it := range items {
					if _, err := eng.TranslateItem(context.Background(), it); err != nil {
						b.Fatal(err)
					}
				}
				calls, chars = fake.stats()
			}
			b.ReportMetric(float64(chars)/float64(unique), "sent/unique_chars")
			b.ReportMetric(float64(calls)/float64(len(items)), "requests/post")
		})
	}
}

func BenchmarkSegment(b *testing.B) {
	body := readFixture(b, "wechat.html")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Segment(body); err != nil {
			b.Fatal(err)
		}
	}
}
