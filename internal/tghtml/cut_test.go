package tghtml

import "testing"

func TestCut(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits", "<b>Title</b>\nbody", 100, "<b>Title</b>\nbody"},
		{"inside bold", "<b>abcdefghij</b>", 5, "<b>abcd…</b>"},
		{"entity kept whole", "a&amp;b&amp;c&amp;d", 4, "a&amp;b…"},
		{"nested tags closed", `<b><i>one two three</i></b> rest`, 9, "<b><i>one two…</i></b>"},
		{"link closed", `<a href="https://e.org/?a=1&amp;b=2">read more here</a>`, 8, `<a href="https://e.org/?a=1&amp;b=2">read mo…</a>`},
		{"word boundary", "alpha beta gamma delta epsilon", 25, "alpha beta gamma delta…"},
		{"surrogate pair counted twice", "ab😀cd", 4, "ab…"},
		{"zero", "<b>x</b>", 0, ""},
		{"invalid input escaped", "<p>para</p>", 5, "&lt;p&gt;p…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Cut(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			vis, err := Parse(got)
			if err != nil {
				t.Fatalf("cut text does not parse: %v", err)
			}
			if n := VisibleLen(vis); n > tc.max {
				t.Errorf("visible length %d > %d", n, tc.max)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	in := `Rules <2026> & "fees"`
	got := Escape(in)
	vis, err := Parse(got)
	if err != nil || vis != in {
		t.Errorf("Escape(%q) = %q, parses to %q, %v", in, got, vis, err)
	}
}

// FuzzCut: whatever valid Telegram HTML and limit, the cut parses and fits.
func FuzzCut(f *testing.F) {
	f.Add("<b>Title</b>\n<i>Source · 2026-05-25 10:00 CST</i>\n\nBody &amp; more", 20)
	f.Add(`<a href="https://x.org/a?b=1&amp;c=2">link</a> <blockquote expandable>q</blockquote>`, 7)
	f.Add("<pre><code class=\"language-go\">x := 1</code></pre>😀😀", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 5000 {
			return
		}
		if _, err := Parse(s); err != nil {
			return
		}
		got := Cut(s, max)
		vis, err := Parse(got)
		if err != nil {
			t.Fatalf("Cut(%q, %d) = %q does not parse: %v", s, max, got, err)
		}
		if n := VisibleLen(vis); n > max {
			t.Fatalf("Cut(%q, %d) = %q: %d units", s, max, got, n)
		}
	})
}
