// Command devserver runs the transfeed HTTP server on an in-memory store
// seeded with sample Zhaoqing posts, for checking feeds with outside
// parsers, taking screenshots and load testing:
//
//	go run ./server/internal/devserver -listen 127.0.0.1:8089
//
// It is a development tool, not part of the daemon.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/transfeed/transfeed/server"
	"github.com/transfeed/transfeed/server/internal/seed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("devserver", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8089", "listen address")
	base := fs.String("base", "", "base URL (default http://<listen>)")
	quiet := fs.Bool("quiet", false, "log warnings only")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" {
		*base = "http://" + *listen
	}
	level := slog.LevelDebug
	if *quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := seed.ZhaoqingConfig(*base)
	cfg.Translation.Glossary = map[string]string{"大湾区": "Greater Bay Area", "肇庆": "Zhaoqing"}
	cfg.Server.Listen = *listen
	st, err := seed.Open(ctx, time.Now())
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(cfg, st, prometheus.NewRegistry(), logger)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
