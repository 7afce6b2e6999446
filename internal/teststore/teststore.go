// Package teststore opens the database a test stores into, in the engine
// the run tests (testkit.Engine): a SQLite file in the test's folder, or a
// fresh PostgreSQL database of the test's own on STACKLENS_TEST_POSTGRES.
package teststore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for Count and Exec
	_ "modernc.org/sqlite"             // registers the "sqlite" driver for Count and Exec

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/testkit"
)

// Location is where a test's database lives, so that the test can open it
// again (a restart) or open it twice (two nodes).
type Location struct {
	// Path is the SQLite file; URL the PostgreSQL database. One is set.
	Path, URL string
}

// New makes a location for a fresh, empty database in the run's engine.
func New(t testing.TB) Location {
	t.Helper()
	if testkit.Engine() == testkit.Postgres {
		return Location{URL: testkit.PostgresDatabase(t)}
	}
	return Location{Path: filepath.Join(t.TempDir(), "stacklens.db")}
}

// Open opens (and migrates) the database at l; the test's cleanup closes it.
func (l Location) Open(t testing.TB) *db.DB {
	t.Helper()
	var (
		d   *db.DB
		err error
	)
	if l.URL != "" {
		d, err = db.OpenPostgres(context.Background(), l.URL)
	} else {
		d, err = db.Open(context.Background(), l.Path)
	}
	if err != nil {
		t.Fatalf("teststore: open the test database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Open opens a fresh database in the run's engine.
func Open(t testing.TB) *db.DB {
	t.Helper()
	return New(t).Open(t)
}

// Count runs a query returning one integer on the database itself, outside
// the store, with ? placeholders in either engine: for tests that check
// what the store left in its tables.
func (l Location) Count(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	conn, query := l.conn(t, true, query)
	defer conn.Close()
	var n sql.NullInt64
	if err := conn.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n.Int64
}

// Exec runs a statement on the database itself, outside the store, with ?
// placeholders in either engine, and returns the rows it changed: for tests
// that put rows there the way time or another program would.
func (l Location) Exec(t testing.TB, query string, args ...any) int64 {
	t.Helper()
	conn, query := l.conn(t, false, query)
	defer conn.Close()
	res, err := conn.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		t.Fatalf("%s: rows affected: %v", query, err)
	}
	return n
}

// conn opens a connection of its own to the database and rebinds query for
// its engine. A store (or a server) may be writing the SQLite file meanwhile:
// the connection waits for its lock rather than failing at once.
func (l Location) conn(t testing.TB, readOnly bool, query string) (*sql.DB, string) {
	t.Helper()
	driver, source := "sqlite", "file:"+l.Path+"?_pragma=busy_timeout(10000)"
	if readOnly {
		source += "&mode=ro"
	}
	if l.URL != "" {
		driver, source, query = "pgx", l.URL, db.Rebind(query)
	}
	conn, err := sql.Open(driver, source)
	if err != nil {
		t.Fatalf("teststore: open the test database: %v", err)
	}
	return conn, query
}
