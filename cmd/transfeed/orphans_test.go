package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// deadPID is the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestReclaimOrphans(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "t.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	var items []model.Item
	for i := range 5 {
		items = append(items, model.Item{Key: fmt.Sprintf("k%d", i), GUID: fmt.Sprintf("g%d", i), Title: "t", ContentHash: "h",
			Published: now, Categories: []string{}, BackfillRank: -1})
	}
	if _, err := st.UpsertItems(ctx, "src", items, now); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	self := instanceName()
	dead := fmt.Sprintf("%s-%d", host, deadPID(t))
	alive := fmt.Sprintf("%s-%d", host, os.Getppid()) // the go command: running
	elsewhere := fmt.Sprintf("otherhost-%d", deadPID(t))
	// A previous process under this very name (a container restarting as
	// pid 1) left a claim too.
	for _, o := range []string{dead, alive, elsewhere, self} {
		if got, err := st.ClaimItems(ctx, o, now, 1, time.Hour); err != nil || len(got) != 1 {
			t.Fatalf("claim for %s: %v, %v", o, got, err)
		}
	}
	reclaimOrphans(ctx, st, self, processAlive, slog.New(slog.DiscardHandler))

	holders, err := st.ClaimHolders(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range holders {
		got[h] = true
	}
	for o, want := range map[string]bool{dead: false, self: false, alive: true, elsewhere: true} {
		if got[o] != want {
			t.Errorf("claims of %s held after reclaim: %v, want %v", o, got[o], want)
		}
	}
	// The released posts (and the unclaimed one) can be claimed at once.
	if again, err := st.ClaimItems(ctx, "next", now.Add(time.Second), 10, time.Hour); err != nil || len(again) != 3 {
		t.Errorf("claimable after reclaim: %d, %v; want 3", len(again), err)
	}
}

func TestSplitOwner(t *testing.T) {
	tests := []struct {
		in   string
		host string
		pid  int
		ok   bool
	}{
		{"web-1-1234", "web-1", 1234, true},
		{"host-1", "host", 1, true},
		{"host", "", 0, false},
		{"host-x", "", 0, false},
		{"-12", "", 0, false},
		{"host-0", "", 0, false},
	}
	for _, tt := range tests {
		h, p, ok := splitOwner(tt.in)
		if h != tt.host || p != tt.pid || ok != tt.ok {
			t.Errorf("splitOwner(%q) = %q, %d, %v; want %q, %d, %v", tt.in, h, p, ok, tt.host, tt.pid, tt.ok)
		}
	}
}
