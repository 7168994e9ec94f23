package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
)

// trackingParam reports whether a query parameter only tracks the reader
// and must not take part in a post's identity.
func trackingParam(k string) bool {
	k = strings.ToLower(k)
	if strings.HasPrefix(k, "utm_") || strings.HasPrefix(k, "sharer_") {
		return true
	}
	switch k {
	case "spm", "from", "isappinstalled", "scene", "srcid", "clicktime", "enterid", "chksm",
		"mpshare", "subscene", "sessionid", "ascene", "devicetype", "nettype", "abtest_cookie",
		"exportkey", "pass_ticket", "wx_header", "fasttmpl_type", "fasttmpl_fullversion",
		"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi",
		"share_source", "share_medium", "share_from", "share_token", "shareid", "wxfrom",
		"ivk_sa", "vd_source", "ref_src", "igshid", "poc_token":
		return true
	}
	return false
}

// CanonicalLink returns the form of a post link used for identity and
// publication: scheme and host lower-cased, default port and fragment
// dropped, tracking parameters removed, remaining parameters sorted.
// WeChat article links keep only __biz, mid, idx and sn. A link that does
// not parse is returned trimmed.
func CanonicalLink(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return raw
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if h, p, ok := strings.Cut(u.Host, ":"); ok && ((p == "80" && u.Scheme == "http") || (p == "443" && u.Scheme == "https")) {
		u.Host = h
	}
	u.User = nil
	// Hash-routed pages ("#/detail/12", "#!/12") identify content by fragment.
	if !strings.HasPrefix(u.Fragment, "/") && !strings.HasPrefix(u.Fragment, "!") {
		u.Fragment, u.RawFragment = "", ""
	}
	if u.Path == "" {
		u.Path = "/"
	}
	q := u.Query()
	if u.Host == "mp.weixin.qq.com" {
		u.Scheme = "https"
		kept := url.Values{}
		if u.Path == "/s" {
			for _, k := range []string{"__biz", "mid", "idx", "sn"} {
				if v := q.Get(k); v != "" {
					kept.Set(k, v)
				}
			}
		}
		u.RawQuery = encodeSorted(kept)
		return u.String()
	}
	for k := range q {
		if trackingParam(k) {
			delete(q, k)
		}
	}
	u.RawQuery = encodeSorted(q)
	return u.String()
}

// PublicLink is the form of a post link that is published: the link byte
// for byte as the source wrote it (made absolute by the caller), less its
// tracking parameters and a non-route fragment. The remaining query is
// neither re-ordered nor re-escaped (WeChat's __biz=MzA…== stays as it is).
// WeChat article links keep only __biz, mid, idx and sn. Identity uses
// CanonicalLink, not this.
func PublicLink(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return raw
	}
	rest, frag, hasFrag := strings.Cut(raw, "#")
	if hasFrag && (strings.HasPrefix(frag, "/") || strings.HasPrefix(frag, "!")) {
		frag = "#" + frag
	} else {
		frag = ""
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	if !hasQuery {
		return base + frag
	}
	wechat := strings.EqualFold(u.Hostname(), "mp.weixin.qq.com")
	var kept []string
	for pair := range strings.SplitSeq(query, "&") {
		if pair == "" {
			continue
		}
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if wechat {
			if u.Path == "/s" && (k == "__biz" || k == "mid" || k == "idx" || k == "sn") {
				kept = append(kept, pair)
			}
			continue
		}
		if !trackingParam(k) {
			kept = append(kept, pair)
		}
	}
	if len(kept) == 0 {
		return base + frag
	}
	return base + "?" + strings.Join(kept, "&") + frag
}

// encodeSorted is url.Values.Encode with values of a key sorted too.
func encodeSorted(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	for k := range q {
		sort.Strings(q[k])
	}
	return q.Encode()
}

func hashKey(kind, v string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + v))
	return hex.EncodeToString(sum[:16])
}

// ItemKey derives a post's identity within its source: the GUID (a GUID that
// is a URL is canonicalised first), else the canonical link, else title and
// publication time.
func ItemKey(guid, link, title string, published time.Time) string {
	if g := strings.TrimSpace(guid); g != "" {
		if lg := strings.ToLower(g); strings.HasPrefix(lg, "http://") || strings.HasPrefix(lg, "https://") {
			g = CanonicalLink(g)
		}
		return hashKey("guid", g)
	}
	if l := strings.TrimSpace(link); l != "" {
		return hashKey("link", CanonicalLink(l))
	}
	ts := ""
	if !published.IsZero() {
		ts = published.UTC().Format(time.RFC3339)
	}
	return hashKey("title", strings.Join(strings.Fields(title), " ")+"\x00"+ts)
}

// ContentHash is the change-detection hash of a normalised post.
func ContentHash(title, contentHTML string) string {
	sum := sha256.Sum256([]byte(title + "\x00" + contentHTML))
	return hex.EncodeToString(sum[:])
}

// DetectLanguage guesses the language of a text: "zh" when Han characters
// are a meaningful share of its letters (at least 20 % and at least two),
// "en" when it is mostly Latin letters, "" otherwise.
func DetectLanguage(text string) string {
	var letters, han, latin int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
			if unicode.Is(unicode.Latin, r) {
				latin++
			}
		}
	}
	switch {
	case letters == 0:
		return ""
	case han >= 2 && han*5 >= letters:
		return "zh"
	case latin >= 3 && latin*2 > letters:
		return "en"
	}
	return ""
}
