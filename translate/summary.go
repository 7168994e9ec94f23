package translate

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// summaryCover is how a summary that is the start of the body maps onto
// the body's blocks.
type summaryCover struct {
	full int // blocks 0..full-1 are covered whole
	// partial: the summary ends inside block full. splitAt > 0 is the byte
	// offset in that block's text where it ends, after a sentence, in a
	// plain-text block whose both parts have Chinese text: the block is
	// sent as two texts and headUnits are the units of the covered part.
	partial   bool
	splitAt   int
	headUnits []int
}

// coverSummary tells whether summary is the beginning of the body's text
// (whitespace ignored, a trailing "…" of a cut allowed): the normaliser
// derives the summary so whenever a post has a body, and such a summary is
// not translated on its own (its characters would be paid twice).
func coverSummary(summary string, blocks []Block) (summaryCover, bool) {
	var c summaryCover
	sum := strings.TrimSpace(summary)
	cut := strings.HasSuffix(sum, "…")
	rest := dropSpace(strings.TrimSuffix(sum, "…"))
	if rest == "" || len(blocks) == 0 {
		return c, false
	}
	for i, b := range blocks {
		text := b.Text
		if b.Format == FormatHTML {
			text = htmlText(text)
		}
		t := dropSpace(text)
		switch {
		case strings.HasPrefix(rest, t):
			rest = rest[len(t):]
			c.full = i + 1
			if rest == "" {
				return c, true
			}
		case strings.HasPrefix(t, rest):
			c.partial = true
			if b.Format == FormatText && !cut {
				if at := offsetAfter(b.Text, utf8.RuneCountInString(rest)); at > 0 && sentenceEnd(b.Text[:at]) &&
					containsHan(b.Text[:at]) && containsHan(b.Text[at:]) {
					c.splitAt = at
				}
			}
			return c, true
		default:
			return summaryCover{}, false
		}
	}
	return summaryCover{}, false
}

// offsetAfter is the byte offset in s just after its n-th non-space rune.
func offsetAfter(s string, n int) int {
	for i, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		if n--; n == 0 {
			return i + utf8.RuneLen(r)
		}
	}
	return -1
}

func sentenceEnd(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(strings.TrimSpace(s))
	return strings.ContainsRune("。！？；!?;", r)
}

func dropSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
