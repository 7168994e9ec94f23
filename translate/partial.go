package translate

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// DefaultMaxCharsPerPost is translation.max_chars_per_post's default.
const DefaultMaxCharsPerPost = 30000

// partialNotice ends the English body of a post whose body was translated
// only in part; left is how many characters of the original were not sent.
func partialNotice(left int) string {
	return fmt.Sprintf(`<p><em>Partially translated: this post is longer than transfeed translates (translation.max_chars_per_post); the rest (%d characters) is only in the original.</em></p>`, left)
}

// leadingBlocks returns the leading top-level blocks of an HTML body whose
// text together holds at most budget characters, and how many characters
// of text were left out. A body that fits is returned as it is.
func leadingBlocks(body string, budget int) (string, int) {
	if utf8.RuneCountInString(body) <= budget {
		return body, 0 // markup counted too: the text is shorter still
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(body), ctx)
	if err != nil {
		return "", utf8.RuneCountInString(body)
	}
	var b strings.Builder
	used, left := 0, 0
	for _, n := range nodes {
		c := textRunes(n)
		if left > 0 || used+c > budget {
			left += c
			continue
		}
		used += c
		_ = html.Render(&b, n)
	}
	return b.String(), left
}

// textRunes counts the characters of n's text.
func textRunes(n *html.Node) int {
	if n.Type == html.TextNode {
		return utf8.RuneCountInString(strings.TrimSpace(n.Data))
	}
	c := 0
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c += textRunes(ch)
	}
	return c
}
