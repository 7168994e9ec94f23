package discover

import (
	"bytes"
	"regexp"
)

var (
	// Hanweb/JCMS column pages ship their first page of rows inside
	// <script type="text/xml"><datastore>…<record><![CDATA[<li>…</li>]]></record>…
	// where an HTML parser sees only script text.
	datastoreRe = regexp.MustCompile(`(?is)<script[^>]*type\s*=\s*["']?text/xml["']?[^>]*>\s*<datastore>(.*?)</datastore>\s*</script>`)
	recordRe    = regexp.MustCompile(`(?is)<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>`)
)

// ExpandDatastore replaces each Hanweb <datastore> script by its records as
// HTML (inside <div class="datastore">), so that the rows can be detected
// and read with selectors. Pages without one are returned unchanged.
func ExpandDatastore(body []byte) []byte {
	if !bytes.Contains(body, []byte("<datastore>")) {
		return body
	}
	return datastoreRe.ReplaceAllFunc(body, func(m []byte) []byte {
		inner := datastoreRe.FindSubmatch(m)[1]
		var out bytes.Buffer
		out.WriteString(`<div class="datastore">`)
		for _, r := range recordRe.FindAllSubmatch(inner, -1) {
			out.Write(r[1])
		}
		out.WriteString(`</div>`)
		return out.Bytes()
	})
}
