package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHashPassword(t *testing.T) {
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$`)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"line", "correct horse battery staple\n", nil, exitOK},
		{"CRLF", "correct horse battery staple\r\n", nil, exitOK},
		{"no newline", "pw-without-newline", nil, exitOK},
		{"empty", "", nil, exitInvalid},
		{"empty line", "\nsecond line\n", nil, exitInvalid},
		{"too long", strings.Repeat("x", 5000), nil, exitInvalid},
		{"stray argument", "pw\n", []string{"extra"}, exitInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runWithInput(t.Context(), strings.NewReader(tc.stdin), append([]string{"hash-password"}, tc.args...), &out, &errb, noEnv)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			pw := strings.TrimRight(strings.SplitN(tc.stdin, "\n", 2)[0], "\r")
			if pw != "" && (strings.Contains(out.String(), pw) || strings.Contains(errb.String(), pw)) {
				t.Errorf("the password is printed: %q %q", out.String(), errb.String())
			}
			if code != exitOK {
				return
			}
			if !phc.MatchString(out.String()) {
				t.Errorf("output %q is not an argon2id PHC string", out.String())
			}
			// Two hashes of one password differ (random salt).
			var again bytes.Buffer
			runWithInput(t.Context(), strings.NewReader(tc.stdin), []string{"hash-password"}, &again, &errb, noEnv)
			if again.String() == out.String() {
				t.Error("two hashes of the same password are equal: no salt")
			}
		})
	}
}

// TestHashPasswordFileValidates: the command's output is what
// server.admin.password_file takes.
func TestHashPasswordFileValidates(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := runWithInput(t.Context(), strings.NewReader("s3cret\n"), []string{"hash-password"}, &out, &errb, noEnv); code != exitOK {
		t.Fatalf("hash-password: %d %s", code, errb.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "admin.hash"), out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	yaml := "server:\n  admin:\n    password_file: admin.hash\nsources:\n  - id: news\n    url: http://www.example.gov.cn/rss.xml\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(t.Context(), []string{"validate", "-config", cfg}, &out, &errb, noEnv); code != exitOK {
		t.Errorf("validate = %d: %s%s", code, out.String(), errb.String())
	}
}
