package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/transfeed/transfeed/store"
)

const migrateUsage = `Usage: transfeed migrate-store -from DRIVER:DSN -to DRIVER:DSN

Copies a whole installation into a new, empty database, e.g. from SQLite to
PostgreSQL before running several instances on one database:

  transfeed migrate-store -from sqlite:/var/lib/transfeed/transfeed.db \
      -to 'postgres:postgres://transfeed:PASSWORD@db:5432/transfeed'

Everything is copied: sources and their poll state, posts and translations,
Telegram deliveries (sent, pending, failed), the translation memory and
usage, provider and channel state, the Telegram update offset. Post ids are
kept, so /posts/<id> links stay valid. Stop transfeed first.

The target must be empty (its tables are created if missing): if it holds
any row the command refuses and changes nothing, so it never duplicates or
mixes data. The copy is one transaction: after a failure the target is still
empty and the command can be run again.
`

// cmdMigrateStore copies one store into another, empty one.
func cmdMigrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, _ := newFlagSet("migrate-store", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	from := fs.String("from", "", "source database, DRIVER:DSN (sqlite:PATH or postgres:postgres://…)")
	to := fs.String("to", "", "target database, DRIVER:DSN; must be empty")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "transfeed migrate-store: unexpected argument %q\n\n%s", fs.Arg(0), migrateUsage)
		return exitInvalid
	}
	srcCfg, err := parseStoreArg("-from", *from)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed migrate-store: %v\n\n%s", err, migrateUsage)
		return exitInvalid
	}
	dstCfg, err := parseStoreArg("-to", *to)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed migrate-store: %v\n\n%s", err, migrateUsage)
		return exitInvalid
	}
	if srcCfg == dstCfg {
		fmt.Fprintf(stderr, "transfeed migrate-store: -from and -to name the same database\n")
		return exitInvalid
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := store.Open(ctx, srcCfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed migrate-store: open the source (%s): %v\n", srcCfg.Driver, err)
		return exitFailure
	}
	defer src.Close()
	dst, err := store.Open(ctx, dstCfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed migrate-store: open the target (%s): %v\n", dstCfg.Driver, err)
		return exitFailure
	}
	defer dst.Close()
	counts, err := store.Copy(ctx, dst, src)
	if err != nil {
		fmt.Fprintf(stderr, "transfeed migrate-store: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Copied %s → %s:\n", srcCfg.Driver, dstCfg.Driver)
	for _, c := range counts {
		fmt.Fprintf(stdout, "  %-20s %d rows\n", c.Table, c.Rows)
	}
	fmt.Fprintln(stdout, "Row counts checked equal. Point storage.driver/storage.dsn at the target, then start transfeed.")
	return exitOK
}

// parseStoreArg splits "sqlite:PATH" or "postgres:DSN". The DSN is never
// echoed back: it may hold a password.
func parseStoreArg(flagName, v string) (store.Config, error) {
	if v == "" {
		return store.Config{}, fmt.Errorf("%s is required", flagName)
	}
	driver, dsn, ok := strings.Cut(v, ":")
	if !ok || dsn == "" {
		return store.Config{}, fmt.Errorf("%s: want DRIVER:DSN, e.g. sqlite:/var/lib/transfeed/transfeed.db or postgres:postgres://user:pass@host/db", flagName)
	}
	switch strings.ToLower(driver) {
	case "sqlite", "sqlite3":
		return store.Config{Driver: store.DriverSQLite, DSN: dsn}, nil
	case "postgres", "postgresql", "pgx":
		return store.Config{Driver: store.DriverPostgres, DSN: dsn}, nil
	}
	return store.Config{}, errors.New(flagName + ": unknown driver " + fmt.Sprintf("%q", driver) + " (want sqlite or postgres)")
}
