package translatetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/transfeed/transfeed/translate"
)

// SampleTexts returns a fresh batch of three short Chinese headlines that
// the fake servers' dictionary translates in full.
func SampleTexts() []string {
	return []string{"肇庆市召开招商会议", "大湾区投资12.5亿元", "许晓雄出席"}
}

// WantError is the *translate.Error a provider call must fail with.
type WantError struct {
	Provider   string // translate.Error.Provider
	Kind       translate.ErrorKind
	Status     int           // translate.Error.StatusCode
	RetryAfter time.Duration // translate.Error.RetryAfter
	Message    string        // must appear in err.Error()
}

// AssertError fails the test unless err is (or wraps) a *translate.Error
// matching want in every field and leaks none of the secrets (see
// AssertNoSecretLeak).
func AssertError(t testing.TB, err error, want WantError, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	AssertNoSecretLeak(t, err, secrets...)
	if got := translate.KindOf(err); got != want.Kind {
		t.Errorf("kind %v, want %v (%v)", got, want.Kind, err)
	}
	var te *translate.Error
	if !errors.As(err, &te) {
		t.Fatalf("error %T is not *translate.Error", err)
	}
	if te.StatusCode != want.Status {
		t.Errorf("status %d, want %d", te.StatusCode, want.Status)
	}
	if te.RetryAfter != want.RetryAfter {
		t.Errorf("RetryAfter %v, want %v", te.RetryAfter, want.RetryAfter)
	}
	if te.Provider != want.Provider {
		t.Errorf("provider %q, want %q", te.Provider, want.Provider)
	}
	if !strings.Contains(err.Error(), want.Message) {
		t.Errorf("error %q does not contain %q", err, want.Message)
	}
}

// ErrorCase is one row of a provider's error table: the reply its fake
// server sends and the error the provider must turn it into.
type ErrorCase struct {
	Name    string
	Reply   Reply
	Kind    translate.ErrorKind
	Status  int
	After   time.Duration // RetryAfter
	Message string        // must appear in err.Error()
}

// RunErrorCases runs each case as a subtest: call must make one request
// to a fake server answering with reply and return the provider's error,
// which AssertError then checks against the case (with the given provider
// name) and the secrets.
//
// For each secret one more case is run: a 500 answer whose text echoes the
// secret just where error excerpts are cut (200 characters), so a provider
// that cuts before it redacts leaks the secret's first characters.
func RunErrorCases(t *testing.T, provider string, cases []ErrorCase, call func(t *testing.T, reply *Reply) error, secrets ...string) {
	t.Helper()
	cases = slices.Clone(cases)
	for _, s := range secrets {
		if s == "" {
			continue
		}
		cases = append(cases, ErrorCase{Name: "secret echoed at the excerpt cut",
			Reply: Reply{Status: 500, Header: map[string]string{"Content-Type": "text/plain"}, Body: strings.Repeat("x", 188) + s + " and more text after the key"},
			Kind:  translate.KindRetryable, Status: 500, Message: "xxxx"})
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			reply := tc.Reply
			err := call(t, &reply)
			AssertError(t, err, WantError{Provider: provider, Kind: tc.Kind, Status: tc.Status, RetryAfter: tc.After, Message: tc.Message}, secrets...)
		})
	}
}

// AssertRetryable fails the test unless err is a retryable error that
// leaks none of the secrets: what a network failure must give.
func AssertRetryable(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if translate.KindOf(err) != translate.KindRetryable {
		t.Errorf("kind %v, want retryable: %v", translate.KindOf(err), err)
	}
	AssertNoSecretLeak(t, err, secrets...)
}

// WantNewError checks a provider constructor's error against want, a
// substring the error must contain ("" means no error is allowed), and
// that it leaks none of the secrets. It reports whether an error was
// wanted, so the caller's test case can stop there.
func WantNewError(t testing.TB, err error, want string, secrets ...string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	AssertNoSecretLeak(t, err, secrets...)
	return true
}
