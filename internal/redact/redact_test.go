package redact

import (
	"net/url"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://www.zhaoqing.gov.cn/rss.xml", "http://www.zhaoqing.gov.cn/rss.xml"},
		{"https://u:p@rsshub.example/wechat?key=k1&limit=5", "https://xxxxx@rsshub.example/wechat?key=xxxxx&limit=xxxxx"},
		{"https://rsshub.example/x?s3cr3t", "https://rsshub.example/x?s3cr3t=xxxxx"},
		{"https://rsshub.example/x?a=%zz;b=s3cr3t", "https://rsshub.example/x?xxxxx"},
		{"https://rsshub.example/x#token=s3cr3t", "https://rsshub.example/x#xxxxx"},
		{"https://rsshub.example/x#section-2", "https://rsshub.example/x#section-2"},
		{"http://u:p@%zz/x?key=s3cr3t", "%zz/x"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := URL(tc.in); got != tc.want {
				t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzURL: whatever the URL looks like, the redacted form does not depend
// on the password or the query values: nothing of them can survive.
func FuzzURL(f *testing.F) {
	f.Add("https://rsshub.example/wechat", "user", "k3y", "v")
	f.Add("http://10.0.0.1:1200/a/b?x=1", "", "abc", "")
	f.Fuzz(func(t *testing.T, base, user, secret, other string) {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" || secret == other {
			return
		}
		build := func(s string) string {
			v := *u
			v.User = url.UserPassword(user, s)
			q := v.Query()
			q.Set("key", s)
			v.RawQuery = q.Encode()
			return v.String()
		}
		if a, b := URL(build(secret)), URL(build(other)); a != b {
			t.Fatalf("the redacted form depends on the secret:\n%q -> %q\n%q -> %q", build(secret), a, build(other), b)
		}
	})
}
