// Package store holds all of transfeed's SQL: sources and their poll state,
// items and their translation slot, the translation memory and usage, the
// Telegram delivery outbox, and small key/value state.
//
// One type, *Store, works over SQLite (modernc.org/sqlite, the default) or
// PostgreSQL (jackc/pgx/v5 stdlib). Queries are written once with "?"
// placeholders and rebound to "$n" for PostgreSQL; the DDL lives in embedded,
// append-only migrations per dialect (migrations/<dialect>/NNNN_name.sql).
// Times are stored as integer unix milliseconds UTC on both engines (0 means
// unset) and come back as UTC time.Time values with millisecond precision.
//
// A *Store is safe for concurrent use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Config selects and locates the database.
type Config struct {
	Driver string // "sqlite" (default) | "postgres"
	DSN    string // sqlite: file path (or ":memory:"); postgres: postgres://… or key=value DSN
	// CheckIntegrity reads the whole SQLite file at open (PRAGMA
	// quick_check) and refuses a damaged one. It costs time in proportion
	// to the database (seconds at 100,000 posts), so the daemon asks for it
	// once at start and short commands do not; damage met later is still
	// reported in plain words by every query.
	CheckIntegrity bool
}

// Driver names accepted by Open and reported by (*Store).Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store is transfeed's database. Writes go through w and reads through r; on
// SQLite w is a single connection (writes serialise in SQLite anyway, and one
// connection means our own writers never meet SQLITE_BUSY) while r is a pool
// of read-only connections that WAL lets run beside the writer. On
// PostgreSQL both are the same pool.
type Store struct {
	d         dialect
	w         *sql.DB
	r         *sql.DB
	logger    *slog.Logger
	now       func() time.Time // wall clock for reads without a caller-given time (GetSource)
	path      string           // SQLite: the database file ("" in memory), for messages
	stmts     stmtCache        // statements prepared once on w (the import path's)
	readStmts stmtCache        // statements prepared once on r (the polls' reads)
	fts       ftsStatements    // SQLite: the index step's, in stmts
	writes    writeBatcher     // SQLite: the group commit of the polls' writes (Store.write)
	docs      docCache         // search documents computed before the write transaction
}

// Open opens the database, applies its pragmas (SQLite: WAL, busy_timeout,
// foreign_keys, synchronous=NORMAL), checks it answers, and applies any
// pending migrations. A nil logger discards.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var (
		s   *Store
		err error
	)
	switch cfg.Driver {
	case "", DriverSQLite:
		s, err = openSQLite(cfg.DSN)
	case DriverPostgres, "postgresql", "pgx":
		s, err = openPostgres(cfg.DSN)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want sqlite or postgres)", cfg.Driver)
	}
	if err != nil {
		return nil, err
	}
	s.logger = logger
	s.now = time.Now
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, s.explain(err)
	}
	if s.path != "" && cfg.CheckIntegrity {
		if err := s.quickCheck(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, s.explain(err)
	}
	if err := s.prepareFTS(ctx); err != nil {
		_ = s.Close()
		return nil, s.explain(err)
	}
	if err := s.buildSearchIndex(ctx); err != nil {
		_ = s.Close()
		return nil, s.explain(err)
	}
	return s, nil
}

func openSQLite(dsn string) (*Store, error) {
	path, userQuery, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == "" {
		return nil, errors.New("store: sqlite needs a database file path")
	}
	if path == ":memory:" {
		// Every connection to ":memory:" is its own database: keep exactly one.
		db, err := sql.Open("sqlite", sqliteDSN(path, userQuery, false))
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return &Store{d: sqliteDialect(), w: db, r: db}, nil
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create database directory: %w", err)
		}
	}
	w, err := sql.Open("sqlite", sqliteDSN(path, userQuery, false))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", sqliteDSN(path, userQuery, true))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{d: sqliteDialect(), w: w, r: r, path: path}, nil
}

// sqliteDSN builds the modernc.org/sqlite DSN for path. The writer takes the
// write lock at BEGIN (_txlock=immediate), so a transaction that reads then
// writes never fails half-way on a lock upgrade; readers are query-only.
// Parameters given in the configured DSN come first and are kept.
func sqliteDSN(path, userQuery string, readOnly bool) string {
	q := url.Values{}
	if userQuery != "" {
		if uq, err := url.ParseQuery(userQuery); err == nil {
			q = uq
		}
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Statement journals and temporary b-trees stay in memory: a statement
	// that writes many pages (an import batch, its FTS5 inserts and triggers)
	// otherwise copies each page it changes to a temporary file first, one
	// write system call per page.
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		// Incremental auto-vacuum takes effect on a new database only (set
		// before its first table): retention sweeps then give freed pages
		// back. An older database keeps its mode and reuses freed pages.
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
		q.Add("_pragma", "journal_mode(WAL)")
		if q.Get("_txlock") == "" {
			q.Set("_txlock", "immediate")
		}
	}
	return "file:" + path + "?" + q.Encode()
}

func openPostgres(dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("store: postgres needs a dsn (postgres://…)")
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse error quotes the DSN and redacts passwords only on a
		// best-effort basis: do not pass it on.
		return nil, errors.New("store: postgres dsn cannot be parsed (want postgres://user:password@host:port/db?… or key=value pairs)")
	}
	db := stdlib.OpenDB(*cc)
	// As many idle connections as open ones: with fewer, every reader
	// beyond them closes its connection on release and the next opens a
	// new backend (several ms): p99 of a list page at 1,000,000 posts with
	// 16 callers 100-260 ms with 8 idle, 27-37 ms with 16 (BENCHMARKS.md).
	// Idle ones still close after ConnMaxIdleTime.
	const pgConns = 16
	db.SetMaxOpenConns(pgConns)
	db.SetMaxIdleConns(pgConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{d: postgresDialect(), w: db, r: db}, nil
}

// Driver reports the engine in use: DriverSQLite or DriverPostgres.
func (s *Store) Driver() string { return s.d.name }

// Close closes the database.
func (s *Store) Close() error {
	errs := []error{s.stmts.close(), s.readStmts.close()}
	if s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	return nil
}

// inTx runs fn in one write transaction, committing when fn returns nil.
// Before it commits, the search index rows of the posts the transaction
// queued are rebuilt (see flushSearch), so every write is searchable as
// soon as it is visible.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := s.flushSearch(ctx, tx)
		return err
	})
}

// inTxNoFlush is inTx without the search index step (migrations run before
// the index exists).
func (s *Store) inTxNoFlush(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.explain(fmt.Errorf("store: begin: %w", err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.explain(err)
	}
	if err := tx.Commit(); err != nil {
		return s.explain(fmt.Errorf("store: commit: %w", err))
	}
	return nil
}

// exec runs one write statement in its own transaction (see inTx).
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, s.d.rebind(query), args...)
		return err
	})
	return res, s.explain(err)
}

// execOne runs a write statement that must touch a row; ErrNotFound otherwise.
func (s *Store) execOne(ctx context.Context, what string, query string, args ...any) error {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

// ms converts t to unix milliseconds UTC; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts unix milliseconds back to a UTC time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
