package translatetest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// AssertNoSecretLeak fails the test when err, any error it wraps, or its %+v
// / %#v rendering contains one of the secrets (as is or URL-escaped). The
// failure message shows the error with the secrets masked.
func AssertNoSecretLeak(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	walk(err, func(e error) { texts = append(texts, e.Error()) })
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms := []string{s, url.QueryEscape(s), url.PathEscape(s)}
		// A secret cut short (an excerpt truncated before redaction) still
		// leaks: its first 8 characters count as the secret.
		if p := s[:min(len(s), 8)]; len(s) > 8 {
			forms = append(forms, p)
		}
		for _, text := range texts {
			for _, f := range forms {
				if strings.Contains(text, f) {
					t.Errorf("error leaks a secret: %s", mask(text, forms))
				}
			}
		}
	}
}

// walk calls fn for err and every error in its tree.
func walk(err error, fn func(error)) {
	if err == nil {
		return
	}
	fn(err)
	switch u := err.(type) { //nolint:errorlint // walking the tree by hand on purpose
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, fn)
		}
	default:
		walk(errors.Unwrap(err), fn)
	}
}

func mask(s string, forms []string) string {
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "<SECRET>")
	}
	return s
}
