// Command transfeed polls Chinese-language sources, translates new posts
// into English and republishes them as feeds, a reading site and Telegram
// messages. README.md ("Commands") describes them.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must load even in images without tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var tuner sync.WaitGroup
	tctx, stopTuner := context.WithCancel(ctx)
	if p, ok := gcPercent(os.LookupEnv); ok {
		debug.SetGCPercent(p)
		tuner.Go(func() { tuneGC(tctx, p) })
	}
	code := runWithInput(ctx, os.Stdin, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stopTuner()
	tuner.Wait()
	stop()
	os.Exit(code)
}
