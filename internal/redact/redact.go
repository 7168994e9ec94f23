// Package redact removes credentials from text that leaves the process:
// logs, errors, pages, feeds, metrics.
package redact

import (
	"net/url"
	"strings"
)

// URL removes credentials from a URL for logs, errors, pages and
// feeds: the userinfo becomes "xxxxx" and every query value "xxxxx" (keys
// are kept). Any value may be a credential (?key= of RSSHub, ?code=,
// ?sign=), so none is shown.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Unparseable: keep only what precedes a query or userinfo.
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i]
		}
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			raw = raw[i+1:]
		}
		return raw
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil && len(q) == 0 {
			u.RawQuery = "xxxxx"
		} else {
			for k := range q {
				q[k] = []string{"xxxxx"}
			}
			u.RawQuery = q.Encode()
		}
	}
	if u.Fragment != "" && strings.Contains(u.Fragment, "=") {
		u.Fragment, u.RawFragment = "xxxxx", ""
	}
	return u.String()
}
