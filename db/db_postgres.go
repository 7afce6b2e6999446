package db

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/lru"
)

// postgresMaxConns bounds the pool each stacklens process opens: page
// readers, the pipeline, the inbox writer and background work share it.
const postgresMaxConns = 16

// OpenPostgres connects to the PostgreSQL database at url (postgres://...)
// and migrates it. Several stacklens processes may open the same database.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse the database URL: %w", err)
	}
	conns := stdlib.OpenDB(*cfg)
	conns.SetMaxOpenConns(postgresMaxConns)
	conns.SetMaxIdleConns(postgresMaxConns)
	conns.SetConnMaxIdleTime(5 * time.Minute)
	if err := conns.PingContext(ctx); err != nil {
		conns.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	blobs, err := newBlobCodec()
	if err != nil {
		conns.Close()
		return nil, err
	}
	raws, err := newRawCodec()
	if err != nil {
		conns.Close()
		return nil, err
	}
	pg := newDialect(enginePostgres)
	d := &DB{write: &pool{db: conns, dialect: pg, writer: true}, read: &pool{db: conns, dialect: pg}, dialect: pg,
		blobs: blobs, raws: raws, stmts: newStmtCache(conns, true), node: newNodeID(),
		crashFrames: lru.New[int64, event.Frame](crashFrameCacheBytes)}
	if err := d.migrate(ctx); err != nil {
		conns.Close()
		return nil, err
	}
	if err := d.inbox.load(ctx, d.write); err != nil {
		conns.Close()
		return nil, err
	}
	if err := d.releaseDeadClaims(ctx); err != nil {
		conns.Close()
		return nil, err
	}
	return d, nil
}

// migratePostgres applies the PostgreSQL migrations not yet applied, each in
// a write transaction: several processes starting at once take turns, and
// the later ones find the work done.
func (d *DB) migratePostgres(ctx context.Context) error {
	names, err := fs.Glob(migrationFiles, "migrations/postgres/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/postgres/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number: %w", base, err)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if err := d.applyPostgresMigration(ctx, version, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (d *DB) applyPostgresMigration(ctx context.Context, version int, body string) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&applied); err != nil {
		return err
	}
	if applied > 0 {
		return nil
	}
	// No arguments: pgx sends the text as one simple query, so a file may
	// hold many statements.
	if _, err := tx.tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", version, millis(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Engine names the database engine: "sqlite" or "postgres".
func (d *DB) Engine() string { return string(d.dialect.engine) }
