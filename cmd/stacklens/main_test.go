package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
)

func noEnv(string) string { return "" }

func TestHelpAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, &out, &errOut, noEnv); err != nil {
		t.Fatalf("serve --help: %v", err)
	}
	for _, want := range []string{"STACKLENS_ADDR", "STACKLENS_DB", "STACKLENS_PROJECT_TOKEN", "STACKLENS_FETCH_ALLOW_PRIVATE"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("serve --help does not mention %s:\n%s", want, errOut.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, &out, &errOut, noEnv); err != nil || !strings.HasPrefix(out.String(), "stacklens ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"nonsense"}, &out, &errOut, noEnv); err != errUsage {
		t.Fatalf("unknown command gave %v, want a usage error", err)
	}
}

func TestConfigFromEnvAndFlags(t *testing.T) {
	env := map[string]string{"STACKLENS_ADDR": "0.0.0.0:9000", "STACKLENS_FETCH_ALLOW_PRIVATE": "true", "STACKLENS_MAX_BODY_BYTES": "1000",
		"STACKLENS_MAX_INFLATED_BYTES": "5000", "STACKLENS_MAX_EVENT_BYTES": "700"}
	cfg, err := parseServeConfig([]string{"--db", "/tmp/x.db", "--max-events-per-request", "12"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.DBPath != "/tmp/x.db" || !cfg.FetchAllowPriv || cfg.MaxBodyBytes != 1000 {
		t.Fatalf("config %+v", cfg)
	}
	if want := (event.Limits{MaxDecompressed: 5000, MaxEvent: 700, MaxEvents: 12}); cfg.EventLimits != want {
		t.Fatalf("event limits %+v, want %+v", cfg.EventLimits, want)
	}
	if cfg, err := parseServeConfig(nil, func(string) string { return "" }, &bytes.Buffer{}); err != nil || cfg.EventLimits != event.DefaultLimits() {
		t.Fatalf("default event limits %+v (%v), want %+v", cfg.EventLimits, err, event.DefaultLimits())
	}
	if _, err := parseServeConfig(nil, func(k string) string {
		return map[string]string{"STACKLENS_MAX_EVENTS_PER_REQUEST": "0"}[k]
	}, &bytes.Buffer{}); err == nil {
		t.Fatal("STACKLENS_MAX_EVENTS_PER_REQUEST=0 was accepted")
	}
	if _, err := parseServeConfig(nil, func(k string) string {
		return map[string]string{"STACKLENS_ADMIN_EMAIL": "a@b.c"}[k]
	}, &bytes.Buffer{}); err == nil {
		t.Fatal("admin email without password accepted")
	}
	if _, err := parseServeConfig(nil, func(k string) string {
		return map[string]string{"STACKLENS_FETCH_ALLOW_PRIVATE": "maybe"}[k]
	}, &bytes.Buffer{}); err == nil {
		t.Fatal("a non-boolean STACKLENS_FETCH_ALLOW_PRIVATE was accepted")
	}
}

// stacklens backup copies a SQLite file, in either run: PostgreSQL's
// database is backed up with pg_dump (TestBackupOnPostgreSQLPointsAtPgDump).
func TestBackupCopiesTheDatabase(t *testing.T) {
	dir := t.TempDir()
	src, dest := dir+"/s.db", dir+"/copy.db"
	ctx := context.Background()
	store, err := db.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.EnsureDefaultProject(ctx, "phc_backup_test", ""); err != nil {
		t.Fatal(err)
	}
	store.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", "--db", src, dest}, &out, &out, noEnv); err != nil {
		t.Fatalf("backup: %v (%s)", err, out.String())
	}
	copied, err := db.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	p, err := copied.Project(ctx, db.DefaultProjectID)
	if err != nil || p.Token != "phc_backup_test" {
		t.Fatalf("the copy holds %+v (%v)", p, err)
	}
	if err := run(ctx, []string{"backup", "--db", src, dest}, &out, &out, noEnv); err == nil {
		t.Fatal("backup over an existing file succeeded")
	}
	if err := run(ctx, []string{"backup"}, &out, &out, noEnv); err != errUsage {
		t.Fatalf("backup without a file: %v, want a usage error", err)
	}
}

// With STACKLENS_DATABASE_URL set the server's data is in PostgreSQL: backup
// refuses and names pg_dump rather than copy a SQLite file that STACKLENS_DB
// (or its default) still names, which would look like a backup and hold none
// of it.
func TestBackupOnPostgreSQLPointsAtPgDump(t *testing.T) {
	dir := t.TempDir()
	src, dest := dir+"/s.db", dir+"/copy.db"
	ctx := context.Background()
	store, err := db.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	env := map[string]string{"STACKLENS_DATABASE_URL": "postgres://stacklens@db.internal:5432/stacklens", "STACKLENS_DB": src}
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"backup", dest}, &out, &errOut, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup with STACKLENS_DATABASE_URL set: %v, want a refusal naming pg_dump (%s%s)", err, out.String(), errOut.String())
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("the refused backup left %s (%v)", dest, err)
	}
	if err := run(ctx, []string{"backup", "--db", src, dest}, &out, &errOut, func(k string) string { return env[k] }); err == nil {
		t.Error("backup --db with STACKLENS_DATABASE_URL set copied the SQLite file")
	}
}
