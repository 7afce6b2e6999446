// Package db owns stacklens's storage: opening SQLite (a writer pool and a
// reader pool) or PostgreSQL (one pgx pool), each engine's embedded
// migrations, and one file of queries per table. Every SQL statement of the
// program lives in this package. The statements are shared by both engines
// and written with ? placeholders; what must differ lives in files ending
// _sqlite.go and _postgres.go.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/internal/lru"
)

//go:embed migrations/sqlite/*.sql migrations/postgres
var migrationFiles embed.FS

// DB is the database. On SQLite: one writer connection (SQLite allows one
// writer at a time; a single connection turns contention into queueing in Go
// instead of SQLITE_BUSY) and a pool of read-only connections that WAL lets
// run beside it. On PostgreSQL: one pool behind both, whose write
// transactions take an advisory lock instead (see writeLockKey).
type DB struct {
	write   *pool
	read    *pool
	dialect dialect
	path    string // the SQLite file; "" on PostgreSQL
	blobs   blobCodec
	raws    blobCodec // raw events (events.raw)
	stmts   *stmtCache
	inbox   inboxLoad
	// node is the claimant of this DB's inbox and outbox claims (claims.go).
	node string
	// checkpoints copies SQLite's WAL into the database file (nil on PostgreSQL).
	checkpoints *checkpointer
	// crashFrames holds the crash site read out of a stored event's
	// compressed data, by event id (ids are never reused and an event's
	// frames never change), for the issue list: decompressing and decoding
	// 50 events was a third of its time at a million events.
	crashFrames *lru.Cache[int64, event.Frame]
}

// crashFrameCacheBytes bounds DB.crashFrames: some 8,000 frames.
const crashFrameCacheBytes = 4 << 20

// CacheStats reports the storage's own caches by name: crash_sites (the
// issue list's crash frames, by event id).
func (d *DB) CacheStats() map[string]lru.Stats {
	return map[string]lru.Stats{"crash_sites": d.crashFrames.Stats()}
}

// Open opens (creating if needed) the SQLite file at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	blobs, err := newBlobCodec()
	if err != nil {
		write.Close()
		return nil, err
	}
	raws, err := newRawCodec()
	if err != nil {
		write.Close()
		return nil, err
	}
	sqlite := newDialect(engineSQLite)
	d := &DB{write: &pool{db: write, dialect: sqlite, writer: true}, dialect: sqlite, path: path,
		blobs: blobs, raws: raws, stmts: newStmtCache(write, false), node: newNodeID(),
		crashFrames: lru.New[int64, event.Frame](crashFrameCacheBytes)}
	if err := d.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}
	if err := d.inbox.load(ctx, d.write); err != nil {
		write.Close()
		return nil, err
	}
	if err := d.releaseDeadClaims(ctx); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	d.read = &pool{db: read, dialect: sqlite}
	if d.checkpoints, err = startCheckpointer(path); err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	return d, nil
}

// dsn sets every pragma explicitly. synchronous=FULL: an event answered 200
// must survive power loss; group commit keeps that affordable.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// A statement that changes several rows inside a transaction keeps a
		// statement journal, which SQLite writes to a temporary file past
		// 64 KiB: a quarter of StoreBatch's CPU time went to those writes.
		// In memory they cost a few pages per statement.
		q.Add("_pragma", "temp_store(MEMORY)")
		// The checkpointer copies the log back; the writer only if it falls behind.
		q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(writerCheckpointPages)+")")
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Close closes both pools.
func (d *DB) Close() error {
	d.stmts.close()
	d.checkpoints.close()
	var first error
	if d.read != nil && d.read.db != d.write.db {
		first = d.read.db.Close()
	}
	if err := d.write.db.Close(); err != nil && first == nil {
		first = err
	}
	return first
}

// Ping checks that the database answers a query that reads the file (not
// just "SELECT 1", which SQLite answers without touching it).
func (d *DB) Ping(ctx context.Context) error {
	var version int
	if err := d.read.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

func (d *DB) migrate(ctx context.Context) error {
	if d.dialect.postgres() {
		return d.migratePostgres(ctx)
	}
	return d.migrateUpTo(ctx, math.MaxInt)
}

// migrateUpTo applies the migrations not yet applied, up to and including
// version last (tests use it to build a database as an older stacklens left it).
func (d *DB) migrateUpTo(ctx context.Context, last int) error {
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/sqlite/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/sqlite/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number: %w", base, err)
		}
		if version > last {
			break
		}
		if err := d.applyMigration(ctx, version, name); err != nil {
			return err
		}
	}
	return nil
}

// foreignKeysOffMarker, as a migration's first line, makes the runner turn
// foreign keys off around it. SQLite's documented way of rebuilding a table
// needs that (with them on, DROP TABLE deletes the rows that reference it),
// and the pragma is ignored inside a transaction, so the migration cannot
// say it itself. PRAGMA foreign_key_check runs before the commit instead.
const foreignKeysOffMarker = "-- stacklens:foreign_keys=off"

func (d *DB) applyMigration(ctx context.Context, version int, name string) error {
	body, err := migrationFiles.ReadFile(name)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	// One connection for the pragma and the transaction: the pragma is per connection.
	conn, err := d.write.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer conn.Close()
	fkOff := strings.HasPrefix(string(body), foreignKeysOffMarker)
	if fkOff {
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migration %s: turn foreign keys off: %w", name, err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	defer tx.Rollback()
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&applied); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if applied > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if fkOff {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", version, millis(time.Now())); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: %w", name, err)
	}
	return nil
}

// foreignKeyCheck fails when any row references a row that does not exist.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	var broken []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		if len(broken) < 5 {
			broken = append(broken, fmt.Sprintf("%s row %d names a missing %s", table, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	if len(broken) > 0 {
		return fmt.Errorf("foreign key check failed: %s", strings.Join(broken, "; "))
	}
	return nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}

// Backup writes a consistent copy of the whole database to a new file.
func (d *DB) Backup(ctx context.Context, dest string) error {
	if d.dialect.postgres() {
		return errors.New("a PostgreSQL database is backed up with pg_dump, not by stacklens")
	}
	if _, err := d.write.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	return nil
}
