// Command transfeed polls Chinese-language sources, translates new posts
// into English and republishes them as feeds, a reading site and Telegram
// messages. README.md ("Commands") describes them.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must load even in images without tzdata
)

func main() {
	if p, ok := gcPercent(os.LookupEnv); ok {
		debug.SetGCPercent(p)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runWithInput(ctx, os.Stdin, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// defaultGCPercent is the garbage collector's target when GOGC is not set:
// the heap may grow to 2.5× what is live between collections instead of 2×.
// A first import of 10,000 posts runs 10–16 % faster for about 5 MB more
// peak RSS; at 100,000 posts 133 MB instead of 115 (BENCHMARKS.md, "The
// collector's target").
const defaultGCPercent = 150

// gcPercent is the collector target transfeed sets, and whether it sets
// one: an admin's own GOGC (any value, "off" included) is left alone.
func gcPercent(lookup func(string) (string, bool)) (int, bool) {
	if _, set := lookup("GOGC"); set {
		return 0, false
	}
	return defaultGCPercent, true
}
