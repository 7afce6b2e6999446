package db

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stacklens/stacklens/internal/testkit"
)

// TestPostgresErrorsOfTheServerAreTransient drives a real PostgreSQL into
// each kind of failure: what the rows cause is permanent (they go to
// inbox_rejected), what the server or the connection causes is transient
// (the batch stays in the inbox and is tried again).
func TestPostgresErrorsOfTheServerAreTransient(t *testing.T) {
	ctx := context.Background()
	url := testkit.PostgresDatabase(t)
	d, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.EnsureDefaultProject(ctx, "phc_test", ""); err != nil {
		t.Fatal(err)
	}

	_, err = d.write.ExecContext(ctx, "INSERT INTO projects(id, name, token, created_at) VALUES (1, 'Again', 'phc_again', 0)")
	if err == nil || Transient(err) {
		t.Errorf("a duplicate key: %v, transient %v; want a permanent error", err, Transient(err))
	}
	_, err = d.write.ExecContext(ctx, "INSERT INTO events(project_id, issue_id, uuid) VALUES (1, 1, NULL)")
	if err == nil || Transient(err) {
		t.Errorf("a NULL where the schema refuses one: %v, transient %v; want a permanent error", err, Transient(err))
	}

	conn, err := d.write.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET statement_timeout = 20"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT pg_sleep(5)")
	if err == nil || !Transient(err) {
		t.Errorf("a statement the server cancelled: %v, transient %v; want transient", err, Transient(err))
	}
	// A lock another connection holds past lock_timeout (an operator's
	// ALTER TABLE, a VACUUM FULL) is in the way, not the row.
	lock, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close(ctx)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE projects IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "SET statement_timeout = 0; SET lock_timeout = 20"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO projects(id, name, token, created_at) VALUES (2, 'Locked', 'phc_locked', 0)")
	if err == nil || !Transient(err) {
		t.Errorf("a write that waited past lock_timeout: %v, transient %v; want transient", err, Transient(err))
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := d.read.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "SELECT 1")
	if err == nil || !Transient(err) {
		t.Errorf("a connection the server ended: %v, transient %v; want transient", err, Transient(err))
	}

	closed, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = OpenPostgres(closed, "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=5")
	if err == nil || !Transient(err) {
		t.Errorf("a server that cannot be reached: %v, transient %v; want transient", err, Transient(err))
	}
}
