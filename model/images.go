package model

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// minImageSide is the smallest declared width or height of a picture worth
// sending; smaller ones are icons, bullets and dividers.
const minImageSide = 100

// ImagesOf returns the post's pictures in order, each once: its image
// (ImageURL) first, then every <img> of the body with an absolute http(s)
// source, except those declared smaller than 100 pixels on a side.
func ImagesOf(it Item) []string {
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		u = strings.TrimSpace(u)
		if (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	add(it.ImageURL)
	body := it.ContentHTML
	if !strings.Contains(body, "<img") {
		body = it.ContentHTMLEN
	}
	// Only the <img> tags are read, each on its own: the rest of the body
	// (often long) is not tokenised.
	for {
		i := strings.Index(body, "<img")
		if i < 0 {
			return out
		}
		body = body[i:]
		z := html.NewTokenizer(strings.NewReader(body))
		tt := z.Next()
		body = body[len("<img"):]
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "img" {
			continue
		}
		src, small := "", false
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			switch string(k) {
			case "src":
				src = string(v)
			case "width", "height":
				if n, err := strconv.Atoi(strings.TrimSuffix(string(v), "px")); err == nil && n > 0 && n < minImageSide {
					small = true
				}
			}
		}
		if !small {
			add(src)
		}
	}
}
