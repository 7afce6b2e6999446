package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The environment that points the tests at PostgreSQL.
const (
	// PostgresEnv holds the URL of a PostgreSQL superuser (or a role that may
	// create databases), e.g. what `.ci/postgres-cluster start` prints. Tests
	// never touch its own database: each gets one of its own.
	PostgresEnv = "STACKLENS_TEST_POSTGRES"
	// EngineEnv chooses the engine behind every store the tests open:
	// "sqlite" (the default) or "postgres". CI runs the suite once with each.
	EngineEnv = "STACKLENS_TEST_ENGINE"
	// EngineSkipPrefix begins the reason of a test that does not apply to
	// the engine of this run. testreport -fail-on-skip lets such skips pass;
	// they are the only ones it lets pass.
	EngineSkipPrefix = "engine: "
)

// The engines Engine names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// testDatabasePrefix begins the name of every database PostgresDatabase
// creates, so that ones a killed test run left behind are easy to find.
const testDatabasePrefix = "stacklens_test_"

// postgresDeadline bounds each conversation with the admin database: a
// server that is down or wedged fails the test instead of hanging it.
const postgresDeadline = 30 * time.Second

// Engine is the storage engine this run tests: Postgres when
// STACKLENS_TEST_ENGINE=postgres, SQLite when it is unset or "sqlite". Any
// other value panics, so that a misspelt setting cannot quietly run the
// SQLite suite a second time.
func Engine() string {
	switch v := os.Getenv(EngineEnv); v {
	case "", SQLite:
		return SQLite
	case Postgres:
		return Postgres
	default:
		panic(fmt.Sprintf("testkit: %s=%q names no engine; use %q or %q", EngineEnv, v, SQLite, Postgres))
	}
}

// SQLiteOnly skips the test in the PostgreSQL run, with a reason that begins
// EngineSkipPrefix: for tests that check what only the SQLite engine has
// (its file on disk, the disk it sits on). why says what that is.
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Engine() != SQLite {
		t.Skip(EngineSkipPrefix + why + " (" + EngineEnv + "=" + Engine() + "; the SQLite run covers it)")
	}
}

// RequirePostgres skips the test (or fails it under STACKLENS_E2E_REQUIRED=1)
// unless STACKLENS_TEST_POSTGRES names a server, for tests that need
// PostgreSQL whatever the run's engine. PostgresDatabase calls it.
func RequirePostgres(t testing.TB) {
	t.Helper()
	PostgresAdminURL(t)
}

// PostgresAdminURL is the URL in STACKLENS_TEST_POSTGRES. When it is unset,
// the test skips, or fails under STACKLENS_E2E_REQUIRED=1.
func PostgresAdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		Missing(t, "PostgreSQL is not available: set "+PostgresEnv+" to an admin URL (see README, \"Test it\"), "+
			"e.g. the one `.ci/postgres-cluster start` prints")
	}
	return u
}

// PostgresDatabase creates an empty database of its own for the test on the
// server of STACKLENS_TEST_POSTGRES and returns its URL: the admin URL with
// the database name replaced. The test's cleanup drops it, together with any
// connection still open to it (a server the test killed, a pool not closed).
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL(t)
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("testkit: %s must be a postgres:// URL, not %q", PostgresEnv, admin)
	}
	if u.Query().Has("dbname") {
		t.Fatalf("testkit: %s names its database with dbname=; put it in the URL's path instead", PostgresEnv)
	}
	name := testDatabasePrefix + randomHex(8)
	ident := pgx.Identifier{name}.Sanitize()
	if err := adminExec(admin, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("testkit: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("testkit: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// adminExec runs one statement on a connection of its own to the admin URL:
// CREATE and DROP DATABASE cannot run in a transaction, and holding no
// connection between them keeps a large suite within max_connections.
func adminExec(adminURL, statement string) error {
	ctx, cancel := context.WithTimeout(context.Background(), postgresDeadline)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to %s (%s): %w", redactPassword(adminURL), PostgresEnv, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("%s: %w", statement, err)
	}
	return nil
}

// redactPassword keeps a password in the URL out of test logs.
func redactPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the URL"
	}
	return u.Redacted()
}

// randomHex is n random bytes in lower-case hex: a database name that needs
// no quoting and that no other test picks.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand's documented contract since Go 1.24)
	return hex.EncodeToString(b)
}
