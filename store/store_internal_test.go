package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRebindDollar(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", "SELECT 1", "SELECT 1"},
		{"simple", "SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"many", "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
		{"string literal", "SELECT '?' , ?", "SELECT '?' , $1"},
		{"escaped quote", "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"quoted identifier", `SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"line comment", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"block comment", "SELECT /* ? */ ?", "SELECT /* ? */ $1"},
		{"unterminated string", "SELECT ?, 'abc?", "SELECT $1, 'abc?"},
		{"unterminated comment", "SELECT ? /* ?", "SELECT $1 /* ?"},
		{"trailing line comment", "SELECT ? -- ?", "SELECT $1 -- ?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rebindDollar(tc.in); got != tc.want {
				t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := sqliteDialect().rebind(tc.in); got != tc.in {
				t.Errorf("sqlite rebind changed the query: %q", got)
			}
		})
	}
}

func FuzzRebindDollar(f *testing.F) {
	for _, seed := range []string{
		"SELECT * FROM t WHERE a = ? AND b = ?",
		"SELECT '?', \"?\", ? -- ?\n/* ? */ ?",
		"'unterminated ?",
		"/* unterminated ?",
		"??",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := rebindDollar(q)
		if err := checkRebind(q, got); err != nil {
			t.Fatalf("rebindDollar(%q) = %q: %v", q, got, err)
		}
	})
}

// checkRebind verifies that got is q with some "?" replaced by "$1", "$2", …
// in order, and nothing else changed.
func checkRebind(q, got string) error {
	i, j, n := 0, 0, 0
	for i < len(q) {
		if q[i] == '?' && j < len(got) && got[j] == '$' {
			n++
			mark := "$" + strconv.Itoa(n)
			if !strings.HasPrefix(got[j:], mark) {
				return fmt.Errorf("at %d: want %s", j, mark)
			}
			i++
			j += len(mark)
			continue
		}
		if j >= len(got) || q[i] != got[j] {
			return fmt.Errorf("byte %d of the query changed", i)
		}
		i++
		j++
	}
	if j != len(got) {
		return fmt.Errorf("trailing output %q", got[j:])
	}
	return nil
}

func TestSQLiteDSN(t *testing.T) {
	tests := []struct {
		name      string
		userQuery string
		readOnly  bool
		want      map[string][]string
	}{
		{"writer", "", false, map[string][]string{
			"_pragma": {"busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)", "temp_store(MEMORY)", "auto_vacuum(INCREMENTAL)", "journal_mode(WAL)"},
			"_txlock": {"immediate"},
		}},
		{"reader", "", true, map[string][]string{
			"_pragma": {"busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)", "temp_store(MEMORY)", "query_only(ON)"},
		}},
		{"user parameters kept", "_pragma=cache_size(-20000)&_txlock=exclusive", false, map[string][]string{
			"_pragma": {"cache_size(-20000)", "busy_timeout(10000)", "foreign_keys(ON)", "synchronous(NORMAL)", "temp_store(MEMORY)", "auto_vacuum(INCREMENTAL)", "journal_mode(WAL)"},
			"_txlock": {"exclusive"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := sqliteDSN("/data/x.db", tc.userQuery, tc.readOnly)
			path, query, _ := strings.Cut(dsn, "?")
			if path != "file:/data/x.db" {
				t.Errorf("path = %q", path)
			}
			q, err := url.ParseQuery(query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, map[string][]string(q)); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSQLitePragmas checks the pragmas took effect on both pools.
func TestSQLitePragmas(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Config{DSN: filepath.Join(t.TempDir(), "new", "dir", "t.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"},
		{"auto_vacuum", "2"}, // incremental
	}
	for _, tc := range tests {
		t.Run(tc.pragma, func(t *testing.T) {
			for name, q := range map[string]queryRower{"writer": s.w, "reader": s.r} {
				var got string
				if err := q.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got != tc.want {
					t.Errorf("%s: PRAGMA %s = %q, want %q", name, tc.pragma, got, tc.want)
				}
			}
		})
	}
	if _, err := s.r.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('a', 'b')"); err == nil {
		t.Error("reader pool accepted a write")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		secrets []string
	}{
		{"unknown driver", Config{Driver: "mysql", DSN: "x"}, nil},
		{"sqlite without path", Config{Driver: "sqlite"}, nil},
		{"postgres without dsn", Config{Driver: "postgres"}, nil},
		{"postgres unreachable", Config{Driver: "postgres",
			DSN: "postgres://bob:hunter2-secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"}, []string{"hunter2-secret"}},
		{"postgres bad dsn", Config{Driver: "postgres", DSN: "postgres://bob:hunter2-secret@[::1/db"}, []string{"hunter2-secret"}},
		{"postgres key value", Config{Driver: "postgres",
			DSN: "host=127.0.0.1 port=1 user=bob password=hunter2-secret connect_timeout=2"}, []string{"hunter2-secret"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, tc.cfg, nil)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "store: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			for _, secret := range tc.secrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the password: %q", err)
				}
			}
		})
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fs      fstest.MapFS
		want    []migration
		wantErr bool
	}{
		{"ordered", fstest.MapFS{
			"m/0002_more.sql": file("B"), "m/0001_init.sql": file("A"), "m/README.md": file("x"),
		}, []migration{{1, "init", "A"}, {2, "more", "B"}}, false},
		{"gap", fstest.MapFS{"m/0001_init.sql": file("A"), "m/0003_x.sql": file("C")}, []migration{{1, "init", "A"}, {3, "x", "C"}}, false},
		{"duplicate", fstest.MapFS{"m/0001_init.sql": file("A"), "m/0001_again.sql": file("C")}, nil, true},
		{"bad name", fstest.MapFS{"m/init.sql": file("A")}, nil, true},
		{"zero", fstest.MapFS{"m/0000_init.sql": file("A")}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadMigrations(tc.fs, "m")
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(migration{})); diff != "" {
				t.Errorf("migrations (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmbeddedMigrations checks both dialects ship the same, valid sequence.
func TestEmbeddedMigrations(t *testing.T) {
	lite, err := loadMigrations(migrationFiles, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(migrationFiles, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 || len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].name != pg[i].name || lite[i].version != pg[i].version {
			t.Errorf("migration %d: sqlite %q, postgres %q", i+1, lite[i].name, pg[i].name)
		}
	}
}

func TestCategories(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		enc  string
		out  []string
	}{
		{"nil", nil, "[]", nil},
		{"empty", []string{}, "[]", nil},
		{"values", []string{"要闻", `a"b`}, `["要闻","a\"b"]`, []string{"要闻", `a"b`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := encodeCategories(tc.in)
			if err != nil || enc != tc.enc {
				t.Fatalf("encode = %q, %v; want %q", enc, err, tc.enc)
			}
			out, err := decodeCategories(enc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.out, out); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := decodeCategories("{not json"); err == nil {
		t.Error("decode of invalid JSON: no error")
	}
}

func TestTimeConversion(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		ms   int64
	}{
		{"zero", time.Time{}, 0},
		{"epoch+1ms", time.UnixMilli(1), 1},
		{"zone", time.Date(2026, 3, 1, 16, 0, 0, 999_999, time.FixedZone("CST", 8*3600)), 1772352000000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ms(tc.in); got != tc.ms {
				t.Errorf("ms = %d, want %d", got, tc.ms)
			}
			back := fromMS(tc.ms)
			if !back.Equal(tc.in.Truncate(time.Millisecond)) || (!back.IsZero() && back.Location() != time.UTC) {
				t.Errorf("fromMS = %v", back)
			}
		})
	}
}

// queryRower is what *sql.DB and *sql.Tx share for one-row queries.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
