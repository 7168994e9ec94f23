package translate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/transfeed/transfeed/model"
	"golang.org/x/net/html"
)

// Length-ratio bounds: English characters per source character, checked
// for segments with more than ratioMinHan Han characters. Chinese to
// English usually gives 2–4; far less means the engine dropped text, far
// more means it rambled (an LLM explaining itself).
const (
	ratioMin    = 0.8
	ratioMax    = 12.0
	ratioMinHan = 10
)

// Names of the quality checks (CheckError.Check).
const (
	CheckEmpty    = "empty"
	CheckHan      = "chinese_left"
	CheckNumbers  = "numbers"
	CheckRatio    = "length_ratio"
	CheckMarkup   = "markup"
	CheckGlossary = "glossary"
)

// CheckError is a segment whose translation failed a quality check twice
// (the second time sent again without the translation memory).
type CheckError struct {
	Check   string // one of the Check* names
	Segment string // the original segment
	English string // what the provider answered (markup restored when it could be)
	Reason  string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("translate: quality check %q failed: %s; segment %q", e.Check, e.Reason, truncateRunes(e.Segment, 60))
}

func truncateRunes(s string, n int) string {
	head, cut := model.RuneHead(s, n)
	if !cut {
		return s
	}
	return head + "…"
}

// checkSegment checks an English text against its source (both plain
// text). It returns the name of the failed check and the reason, or "" when
// the translation passes.
func checkSegment(src, en string, terms []termUse) (check, reason string) {
	en = strings.TrimSpace(en)
	if en == "" {
		return CheckEmpty, "the translation is empty"
	}
	rest := en
	for _, t := range terms {
		rest = strings.ReplaceAll(rest, t.Target, " ")
	}
	if containsHan(rest) {
		return CheckHan, fmt.Sprintf("Chinese characters left in the English %q", truncateRunes(en, 60))
	}
	lower := strings.ToLower(en)
	for _, t := range terms {
		if !strings.Contains(lower, strings.ToLower(t.Target)) {
			return CheckGlossary, fmt.Sprintf("glossary term %s must be rendered %q", t.Source, t.Target)
		}
	}
	if missing := missingNumbers(src, en); len(missing) > 0 {
		return CheckNumbers, fmt.Sprintf("number %s of the source missing from the English", strings.Join(missing, ", "))
	}
	if h := hanCount(src); h > ratioMinHan {
		r := float64(utf8.RuneCountInString(en)) / float64(utf8.RuneCountInString(strings.TrimSpace(src)))
		if r < ratioMin || r > ratioMax {
			return CheckRatio, fmt.Sprintf("English/source length ratio %.2f outside %.1f–%.0f", r, ratioMin, ratioMax)
		}
	}
	return "", ""
}

// number is one Arabic number found in a text, with the values it may
// stand for (1.5万 is 1.5 or 15000; 14:30 may become 2:30 p.m.).
type number struct {
	text   string
	values []string
	scaled bool // values[1] is values[0] times a scale word (万, million)
}

// missingNumbers returns the source's Arabic numbers that the English does
// not have. Thousands separators are ignored (1,000 = 1000), Chinese scale
// characters are understood on the source side (1.5万 = 15000, 3亿 = 300
// million) and scale words on the English side; English month names and
// small number words count as numbers (2023年5月 → May 2023).
func missingNumbers(src, en string) []string {
	srcNums := scanNumbers(src, true)
	if len(srcNums) == 0 {
		return nil
	}
	have := map[string]bool{}
	for _, n := range scanNumbers(en, false) {
		for _, v := range n.values {
			have[v] = true
		}
	}
	for _, v := range englishWordNumbers(en) {
		have[v] = true
	}
	var missing []string
	seen := map[string]bool{}
	for _, n := range srcNums {
		ok := false
		for _, v := range n.values {
			if have[v] {
				ok = true
				break
			}
		}
		if !ok && !seen[n.text] {
			seen[n.text] = true
			missing = append(missing, n.text)
		}
	}
	return missing
}

func canonNumber(v float64) string {
	v = math.Round(v*1e6) / 1e6
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func fullWidthDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return '0' + (r - '０')
	}
	if r == '．' {
		return '.'
	}
	return r
}

// scanNumbers finds Arabic numbers (ASCII or full-width digits).
func scanNumbers(s string, chinese bool) []number {
	rs := []rune(s)
	for i, r := range rs {
		rs[i] = fullWidthDigit(r)
	}
	isDigit := func(i int) bool { return i >= 0 && i < len(rs) && rs[i] >= '0' && rs[i] <= '9' }
	var out []number
	for i := 0; i < len(rs); {
		if !isDigit(i) {
			i++
			continue
		}
		var digits strings.Builder
		start := i
		for i < len(rs) {
			switch {
			case isDigit(i):
				digits.WriteRune(rs[i])
				i++
				continue
			case rs[i] == ',' && isDigit(i+1) && isDigit(i+2) && isDigit(i+3) && !isDigit(i+4):
				i++ // thousands separator
				continue
			case rs[i] == '.' && isDigit(i+1) && !strings.Contains(digits.String(), "."):
				digits.WriteRune('.')
				i++
				continue
			}
			break
		}
		v, err := strconv.ParseFloat(digits.String(), 64)
		if err != nil {
			continue
		}
		n := number{text: string(rs[start:i]), values: []string{canonNumber(v)}}
		if scale := numberScale(rs[i:], chinese); scale != 0 {
			n.values = append(n.values, canonNumber(v*scale))
			n.scaled = true
		}
		if i < len(rs) && rs[i] == ':' && v >= 13 && v <= 23 && v == math.Trunc(v) {
			n.values = append(n.values, canonNumber(v-12))
		}
		out = append(out, n)
	}
	return out
}

// numberScale reads a scale word or character after a number.
func numberScale(rest []rune, chinese bool) float64 {
	if chinese {
		s := string(rest[:min(len(rest), 2)])
		switch {
		case strings.HasPrefix(s, "万亿"):
			return 1e12
		case strings.HasPrefix(s, "百万"):
			return 1e6
		case strings.HasPrefix(s, "千万"):
			return 1e7
		case strings.HasPrefix(s, "万"):
			return 1e4
		case strings.HasPrefix(s, "亿"):
			return 1e8
		case strings.HasPrefix(s, "千"):
			return 1e3
		}
		return 0
	}
	i := 0
	for i < len(rest) && (rest[i] == ' ' || rest[i] == '\u00a0' || rest[i] == '-') {
		i++
	}
	j := i
	for j < len(rest) && unicode.IsLetter(rest[j]) {
		j++
	}
	switch strings.ToLower(string(rest[i:j])) {
	case "thousand", "k":
		return 1e3
	case "million", "mn", "m":
		return 1e6
	case "billion", "bn":
		return 1e9
	case "trillion":
		return 1e12
	}
	return 0
}

// englishWordNumbers returns the numbers written as words in English text:
// month names (May = 5) and small cardinals and ordinals.
func englishWordNumbers(en string) []string {
	var out []string
	for w := range strings.FieldsFuncSeq(strings.ToLower(en), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if v, ok := wordValue(w); ok {
			out = append(out, strconv.Itoa(v))
		}
	}
	return out
}

func wordValue(w string) (int, bool) {
	switch w {
	case "january", "jan":
		return 1, true
	case "february", "feb":
		return 2, true
	case "march", "mar":
		return 3, true
	case "april", "apr":
		return 4, true
	case "may":
		return 5, true
	case "june", "jun":
		return 6, true
	case "july", "jul":
		return 7, true
	case "august", "aug":
		return 8, true
	case "september", "sep", "sept":
		return 9, true
	case "october", "oct":
		return 10, true
	case "november", "nov":
		return 11, true
	case "december", "dec":
		return 12, true
	}
	cardinals := [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"}
	ordinals := [...]string{"", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
		"eleventh", "twelfth"}
	for i, c := range cardinals {
		if w == c {
			return i, true
		}
	}
	for i, o := range ordinals {
		if i > 0 && w == o {
			return i, true
		}
	}
	switch w {
	case "once", "single":
		return 1, true
	case "twice", "double", "both", "pair":
		return 2, true
	case "dozen":
		return 12, true
	}
	return 0, false
}

// restoreTags checks that an HTML answer has exactly the tags that were
// sent (same elements with the same attributes, in any order, properly
// nested when the input was) and writes each tag back byte for byte as it
// was sent. Text is re-escaped minimally.
func restoreTags(sent, got string) (string, error) {
	pool := map[string][]string{}
	sentTags := 0
	sentBalanced := true
	var stack []string
	for _, t := range htmlTokens(sent) {
		if !isTag(t.Type) {
			continue
		}
		k := tagKey(t.Token)
		pool[k] = append(pool[k], t.Raw)
		sentTags++
		sentBalanced = nest(&stack, t.Token) && sentBalanced
	}
	sentBalanced = sentBalanced && len(stack) == 0
	stack = stack[:0]
	balanced := true
	var b strings.Builder
	for _, t := range htmlTokens(got) {
		switch {
		case t.Type == html.TextToken:
			b.WriteString(escapeText(t.Data))
		case isTag(t.Type):
			k := tagKey(t.Token)
			raws := pool[k]
			if len(raws) == 0 {
				return "", fmt.Errorf("tag %s not in the source", t.Raw)
			}
			b.WriteString(raws[0])
			pool[k] = raws[1:]
			sentTags--
			balanced = nest(&stack, t.Token) && balanced
		default:
			return "", fmt.Errorf("unexpected markup %q", truncateRunes(t.Raw, 40))
		}
	}
	if sentTags != 0 {
		for k, raws := range pool {
			if len(raws) > 0 {
				return "", fmt.Errorf("tag %s missing (%s)", raws[0], k)
			}
		}
	}
	if sentBalanced && (!balanced || len(stack) != 0) {
		return "", fmt.Errorf("tags re-nested wrongly")
	}
	return b.String(), nil
}

type rawToken struct {
	html.Token
	Raw string
}

func htmlTokens(s string) []rawToken {
	z := html.NewTokenizer(strings.NewReader(s))
	var out []rawToken
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		raw := string(z.Raw())
		out = append(out, rawToken{Token: z.Token(), Raw: raw})
	}
}

func isTag(tt html.TokenType) bool {
	return tt == html.StartTagToken || tt == html.EndTagToken || tt == html.SelfClosingTagToken
}

// tagKey identifies a tag by kind, name and attributes (in any order).
func tagKey(t html.Token) string {
	var b strings.Builder
	switch t.Type {
	case html.EndTagToken:
		b.WriteString("/")
	case html.StartTagToken:
		if isVoidTag(t.Data) {
			b.WriteString("~") // <br> and <br/> are the same tag
		}
	case html.SelfClosingTagToken:
		b.WriteString("~")
	}
	b.WriteString(t.Data)
	attrs := make([]string, len(t.Attr))
	for i, a := range t.Attr {
		attrs[i] = a.Namespace + ":" + a.Key + "=" + strconv.Quote(a.Val)
	}
	slices.Sort(attrs)
	for _, a := range attrs {
		b.WriteString(" " + a)
	}
	return b.String()
}

// nest tracks element nesting; it reports false on an end tag that does
// not close the innermost open element.
func nest(stack *[]string, t html.Token) bool {
	switch {
	case t.Type == html.StartTagToken && !isVoidTag(t.Data):
		*stack = append(*stack, t.Data)
	case t.Type == html.EndTagToken:
		n := len(*stack)
		if n == 0 || (*stack)[n-1] != t.Data {
			return false
		}
		*stack = (*stack)[:n-1]
	}
	return true
}

// textAnswer turns the answer for a plain-text segment sent inside an HTML
// batch back into plain text; an answer with tags fails.
func textAnswer(got string) (string, error) {
	var b strings.Builder
	for _, t := range htmlTokens(got) {
		if t.Type != html.TextToken {
			return "", fmt.Errorf("unexpected markup %q in a plain-text segment", truncateRunes(t.Raw, 40))
		}
		b.WriteString(t.Data)
	}
	return b.String(), nil
}
