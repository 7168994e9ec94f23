package store

import (
	"strconv"
	"strings"
)

// dialect is what differs between the engines at query time. Everything else
// is portable SQL: INSERT … ON CONFLICT, RETURNING, CASE, COALESCE/NULLIF,
// TRUE/FALSE literals (SQLite ≥ 3.23 reads them as 1/0).
type dialect struct {
	name string
	// dollar rebinds "?" placeholders to "$1, $2, …" (PostgreSQL).
	dollar bool
	// skipLocked is appended to the SELECT that picks rows to lease. SQLite
	// needs nothing: the write transaction already holds the database lock.
	skipLocked string
	// migrationLock, when set, runs first in every migration transaction so
	// that two instances starting together apply each migration once.
	migrationLock string
}

func sqliteDialect() dialect {
	return dialect{name: DriverSQLite}
}

func postgresDialect() dialect {
	return dialect{
		name:       DriverPostgres,
		dollar:     true,
		skipLocked: " FOR UPDATE SKIP LOCKED",
		// Arbitrary constant key shared by every transfeed instance.
		migrationLock: "SELECT pg_advisory_xact_lock(7305553204531937)",
	}
}

// rebind rewrites "?" placeholders for the dialect. Marks inside quoted
// strings, quoted identifiers and comments are left alone.
func (d dialect) rebind(query string) string {
	if !d.dollar {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// Copy through the closing quote; a doubled quote is an escaped one
			// and simply reopens the literal on the next iteration.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+4])
			i += j + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
