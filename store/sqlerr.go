package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// Conditions of a SQLite database an operator must fix; every *StorageError
// wraps one of them (errors.Is).
var (
	ErrDiskFull = errors.New("store: the disk is full")
	ErrReadOnly = errors.New("store: the database cannot be written")
	ErrCorrupt  = errors.New("store: the database file is damaged")
)

// StorageError is a SQLite failure explained in one sentence: what is
// wrong with the database file and what to do.
type StorageError struct {
	Kind   error  // ErrDiskFull, ErrReadOnly or ErrCorrupt
	Path   string // the database file
	Detail string // what SQLite said
	Err    error
}

func (e *StorageError) Error() string {
	var s string
	switch e.Kind {
	case ErrDiskFull:
		s = fmt.Sprintf("store: the disk holding %s is full: free some space (or move data_dir to a larger disk) and start transfeed again; what was stored is kept", e.Path)
	case ErrReadOnly:
		s = fmt.Sprintf("store: %s cannot be written (a read-only file system, or data_dir not writable by this user): make data_dir writable for the user running transfeed", e.Path)
	default:
		s = fmt.Sprintf("store: the database file %s is damaged: stop transfeed and restore it from a backup, or move it aside to start with an empty database; transfeed does not write into a damaged file", e.Path)
	}
	if e.Detail != "" {
		s += " (sqlite: " + strings.Join(strings.Fields(e.Detail), " ") + ")"
	}
	return s
}

// Unwrap gives the kind and the cause.
func (e *StorageError) Unwrap() []error { return []error{e.Kind, e.Err} }

// SQLite result codes (sqlite3.h).
const (
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
	// Extended SQLITE_IOERR codes of the shared-memory file next to a WAL
	// database: it cannot be created in a read-only directory.
	sqliteIOErrShmOpen = sqliteIOErr | 18<<8
	sqliteIOErrShmSize = sqliteIOErr | 19<<8
	sqliteIOErrShmMap  = sqliteIOErr | 21<<8
)

// explain turns a SQLite error about the file itself (full disk, read-only,
// damaged) into a *StorageError; other errors are returned as they are.
func (s *Store) explain(err error) error {
	if err == nil || s.d.name != DriverSQLite {
		return err
	}
	if _, ok := errors.AsType[*StorageError](err); ok {
		return err
	}
	se, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return err
	}
	var kind error
	switch code := se.Code(); {
	case code&0xff == sqliteFull:
		kind = ErrDiskFull
	case code&0xff == sqliteReadOnly, code&0xff == sqliteCantOpen,
		code == sqliteIOErrShmOpen, code == sqliteIOErrShmSize, code == sqliteIOErrShmMap:
		kind = ErrReadOnly
	case code&0xff == sqliteCorrupt, code&0xff == sqliteNotADB:
		kind = ErrCorrupt
	default:
		return err
	}
	return &StorageError{Kind: kind, Path: s.path, Detail: se.Error(), Err: err}
}

// quickCheck runs PRAGMA quick_check on a SQLite file: a damaged database
// is refused before anything is written into it.
func (s *Store) quickCheck(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return s.explain(fmt.Errorf("store: quick_check: %w", err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.explain(fmt.Errorf("store: quick_check: %w", err))
		}
		if line != "ok" && len(problems) < 3 {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.explain(fmt.Errorf("store: quick_check: %w", err))
	}
	if len(problems) > 0 {
		return &StorageError{Kind: ErrCorrupt, Path: s.path, Detail: "quick_check: " + strings.Join(problems, "; "), Err: ErrCorrupt}
	}
	return nil
}
