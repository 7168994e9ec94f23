package store

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migration is one embedded DDL file, migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the dialect's migrations in version order. Versions
// are distinct; gaps are allowed (each applied version is recorded on its
// own in schema_migrations, so a later-numbered file never hides an earlier
// one).
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := parseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", e.Name(), err)
		}
		m.sql = string(b)
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: migrations in %s: version %04d twice (%s, %s)", dir, ms[i].version, ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// parseMigrationName splits "0001_init.sql" into version 1 and name "init".
func parseMigrationName(file string) (migration, error) {
	base := strings.TrimSuffix(file, ".sql")
	num, name, ok := strings.Cut(base, "_")
	if !ok || name == "" || num == "" {
		return migration{}, fmt.Errorf("store: migration %q: want NNNN_name.sql", file)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v <= 0 {
		return migration{}, fmt.Errorf("store: migration %q: want NNNN_name.sql", file)
	}
	return migration{version: v, name: name}, nil
}

// migrate applies pending migrations in order, each in its own transaction
// together with its schema_migrations row.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, "migrations/"+s.d.name)
	if err != nil {
		return err
	}
	err = s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
		if err := s.migrationLock(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at BIGINT  NOT NULL
		)`)
		if err != nil {
			return fmt.Errorf("store: create schema_migrations: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range ms {
		applied := false
		err := s.inTxNoFlush(ctx, func(tx *sql.Tx) error {
			if err := s.migrationLock(ctx, tx); err != nil {
				return err
			}
			var n int
			err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n)
			if err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
			}
			_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, time.Now().UnixMilli())
			if err != nil {
				return fmt.Errorf("store: migration %04d_%s: record: %w", m.version, m.name, err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			s.logger.Info("store: applied migration", "driver", s.d.name, "version", m.version, "name", m.name)
		}
	}
	var top int
	err = s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&top)
	if err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if known := lastVersion(ms); top > known {
		s.logger.Warn("store: database schema is newer than this binary", "driver", s.d.name,
			"schema_version", top, "known_version", known)
	}
	return nil
}

func lastVersion(ms []migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

func (s *Store) migrationLock(ctx context.Context, tx *sql.Tx) error {
	if s.d.migrationLock == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.d.migrationLock); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	return nil
}

// SchemaVersion reports the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}
