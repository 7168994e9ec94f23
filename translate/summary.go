package translate

import (
	"strings"
	"unicode"

	"github.com/transfeed/transfeed/model"
)

// summaryIsBodyStart tells whether summary is the beginning of the body's
// text (whitespace ignored, a trailing "…" of a cut allowed): the
// normaliser derives the summary so whenever a post has a body. Such a
// summary is not translated on its own (its characters would be paid twice);
// its English is cut from the translated body instead (SummaryOf).
func summaryIsBodyStart(summary, bodyHTML string) bool {
	sum := dropSpace(strings.TrimSuffix(strings.TrimSpace(summary), "…"))
	if sum == "" || strings.TrimSpace(bodyHTML) == "" {
		return false
	}
	return strings.HasPrefix(dropSpace(htmlText(bodyHTML)), sum)
}

func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// SummaryOf is the English summary of a translated body: the rule every
// surface uses for a missing summary (model.PlainText, SummaryRunes).
func SummaryOf(bodyHTML string) string { return model.PlainText(bodyHTML, model.SummaryRunes) }
