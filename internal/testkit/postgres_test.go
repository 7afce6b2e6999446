package testkit

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Each call gives an empty database of its own on the admin URL's server, as
// the same user with the same options, and the test's cleanup drops it even
// while a connection to it is still open.
func TestPostgresDatabaseIsFreshAndDroppedAfterTheTest(t *testing.T) {
	admin := PostgresAdminURL(t)
	adminURL, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var leftOpen *pgx.Conn
	t.Run("inner", func(t *testing.T) {
		first, second := PostgresDatabase(t), PostgresDatabase(t)
		for _, raw := range []string{first, second} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != adminURL.Host || u.User.String() != adminURL.User.String() || u.RawQuery != adminURL.RawQuery {
				t.Errorf("database URL %s is not the admin URL %s with another database", u.Redacted(), adminURL.Redacted())
			}
		}
		a := connect(t, first)
		t.Cleanup(func() { a.Close(context.Background()) })
		var name, user string
		if err := a.QueryRow(t.Context(), "SELECT current_database(), current_user").Scan(&name, &user); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, testDatabasePrefix) || mustParse(t, first).Path != "/"+name {
			t.Errorf("connected to database %q through %s", name, first)
		}
		if user != adminURL.User.Username() {
			t.Errorf("connected as %q, want the admin URL's %q", user, adminURL.User.Username())
		}
		if n := userTables(t, a); n != 0 {
			t.Errorf("a fresh database has %d tables", n)
		}
		if _, err := a.Exec(t.Context(), "CREATE TABLE only_in_first (id integer)"); err != nil {
			t.Fatal(err)
		}
		b := connect(t, second)
		defer b.Close(context.Background())
		if err := b.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, mustParse(t, first).Path[1:], name)
		if names[0] == names[1] {
			t.Fatalf("two calls gave the same database %q", name)
		}
		if n := userTables(t, b); n != 0 {
			t.Errorf("the second database sees %d tables of the first", n)
		}
		// Left open on purpose, as a killed server's connection would be.
		leftOpen = connect(t, second)
	})
	if leftOpen != nil {
		defer leftOpen.Close(context.Background())
	}
	if len(names) != 2 {
		t.Fatalf("the inner test created %d databases", len(names))
	}
	c := connect(t, admin)
	defer c.Close(context.Background())
	for _, name := range names {
		var n int
		if err := c.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("database %s still exists after its test ended", name)
		}
	}
}

func connect(t *testing.T, raw string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), raw)
	if err != nil {
		t.Fatalf("connect to %s: %v", redactPassword(raw), err)
	}
	return c
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func userTables(t *testing.T, c *pgx.Conn) int {
	t.Helper()
	var n int
	if err := c.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEngineFollowsTheEnvironment(t *testing.T) {
	for value, want := range map[string]string{"": SQLite, "sqlite": SQLite, "postgres": Postgres} {
		t.Setenv(EngineEnv, value)
		if got := Engine(); got != want {
			t.Errorf("%s=%q: Engine() = %q, want %q", EngineEnv, value, got, want)
		}
	}
	t.Setenv(EngineEnv, "postgresql")
	defer func() {
		if recover() == nil {
			t.Errorf("%s=postgresql: Engine() did not refuse a name it does not know", EngineEnv)
		}
	}()
	Engine()
}

// helperEnv names the variable that makes TestHelperProcess act: these tests
// run the test binary again to see how a skip or a failure is reported,
// which a test cannot observe about itself.
const helperEnv = "STACKLENS_TESTKIT_HELPER"

func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "admin-url":
		PostgresAdminURL(t)
		t.Log("PostgresAdminURL returned")
	case "sqlite-only":
		SQLiteOnly(t, "reads the SQLite file directly")
		t.Log("SQLiteOnly returned")
	}
}

// runHelper runs TestHelperProcess in a new process with the given
// environment (on top of this one's, less the PostgreSQL and engine settings).
func runHelper(t *testing.T, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != PostgresEnv && name != EngineEnv && name != RequiredEnv && name != helperEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run the test binary again: %v", err)
	}
	return string(out), err == nil
}

func TestPostgresAdminURLSkipsOrFailsWhenUnset(t *testing.T) {
	out, ok := runHelper(t, helperEnv+"=admin-url")
	if !ok || !strings.Contains(out, "--- SKIP: TestHelperProcess") || !strings.Contains(out, "set "+PostgresEnv) {
		t.Errorf("without %s the test should skip saying what to set:\n%s", PostgresEnv, out)
	}
	out, ok = runHelper(t, helperEnv+"=admin-url", RequiredEnv+"=1")
	if ok || !strings.Contains(out, "--- FAIL: TestHelperProcess") || !strings.Contains(out, "set "+PostgresEnv) {
		t.Errorf("without %s and with %s=1 the test should fail:\n%s", PostgresEnv, RequiredEnv, out)
	}
	out, ok = runHelper(t, helperEnv+"=admin-url", PostgresEnv+"=postgres://nobody@127.0.0.1:1/postgres")
	if !ok || !strings.Contains(out, "PostgresAdminURL returned") {
		t.Errorf("with %s set the test should go on:\n%s", PostgresEnv, out)
	}
}

func TestSQLiteOnlySkipsForTheEngineInThePostgresRun(t *testing.T) {
	out, ok := runHelper(t, helperEnv+"=sqlite-only", EngineEnv+"=postgres", RequiredEnv+"=1")
	if !ok || !strings.Contains(out, "--- SKIP: TestHelperProcess") || !strings.Contains(out, ": "+EngineSkipPrefix+"reads the SQLite file directly") {
		t.Errorf("in the PostgreSQL run the test should skip with a reason beginning %q, even under %s=1:\n%s", EngineSkipPrefix, RequiredEnv, out)
	}
	out, ok = runHelper(t, helperEnv+"=sqlite-only")
	if !ok || !strings.Contains(out, "SQLiteOnly returned") {
		t.Errorf("in the SQLite run the test should go on:\n%s", out)
	}
}
