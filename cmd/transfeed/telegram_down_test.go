package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunWithTelegramUnreachable: `run` with a Telegram API that refuses
// connections starts, serves, reports Telegram as down on /status, and
// survives SIGHUP (a reload checks Telegram again, and must not stop).
func TestRunWithTelegramUnreachable(t *testing.T) {
	const token = "123456:AAtestTOKENsecret"
	dead := freePort(t) // nothing listens there: connection refused
	dir := t.TempDir()
	listen := freePort(t)
	cfg := filepath.Join(dir, "config.yaml")
	y := fmt.Sprintf(`data_dir: %[1]s/data
server: { listen: %[2]s, base_url: "http://%[2]s" }
sources:
  - id: news
    url: http://%[3]s/rss.xml
    schedule: "@every 1h"
telegram:
  token: %[4]q
  api_url: http://%[3]s
  admins: [1]
  channels:
    - chat: "@zhaoqing_en"
      sources: [news]
`, dir, listen, dead, token)
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs, out syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-config", cfg}, &out, &logs, noEnv) }()

	type status struct {
		Telegram *struct {
			Conn   string `json:"state"`
			Reason string `json:"reason"`
		} `json:"telegram"`
	}
	waitDown := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			select {
			case code := <-done:
				t.Fatalf("%s: run exited with %d\nlogs:\n%s", what, code, logs.String())
			default:
			}
			var st status
			if resp, err := http.Get("http://" + listen + "/status?format=json"); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if json.Unmarshal(b, &st) == nil && st.Telegram != nil && st.Telegram.Conn == "down" {
					if st.Telegram.Reason == "" || strings.Contains(string(b), token) || strings.Contains(string(b), "AAtestTOKEN") {
						t.Errorf("%s: status reason %q (must say why, without the token)", what, st.Telegram.Reason)
					}
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /status never reported Telegram down; logs:\n%s", what, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitDown("at start")
	if resp, err := http.Get("http://" + listen + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz with Telegram down: %v %v", resp, err)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "restarting with the reloaded config") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP; logs:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitDown("after SIGHUP")
	if strings.Contains(logs.String(), token) {
		t.Error("the log holds the bot token")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run exit %d after a clean stop, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}
