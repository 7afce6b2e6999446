package db

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// txRunner is what statements inside a write transaction need. *txn has
// it, and so does cachedTx, which the ingest path uses.
type txRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// statements is the engine's part of the statements that differ.
	statements() *engineSQL
}

// stmtCache keeps statements prepared on the writer connection. SQLite
// spends more time parsing SQL than running these small statements, and the
// pipeline runs the same dozen statements for every event.
//
// A statement cannot be prepared while a transaction holds the only writer
// connection (database/sql would wait for a free one forever), so a query
// seen inside a transaction runs unprepared and is prepared after commit.
type stmtCache struct {
	db     *sql.DB
	off    bool // PostgreSQL: pgx keeps its own per-connection statement cache
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB, off bool) *stmtCache {
	return &stmtCache{db: db, off: off, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the prepared statement for query, or nil (and remembers to
// prepare it) when it is not prepared yet.
func (c *stmtCache) get(query string) *sql.Stmt {
	if c.off {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[query]; ok {
		return s
	}
	c.wanted[query] = true
	return nil
}

// prepareWanted prepares the statements seen since the last call. Call it
// only while no transaction holds the writer connection.
func (c *stmtCache) prepareWanted(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		c.m[q] = s
		delete(c.wanted, q)
	}
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// cachedTx is a write transaction whose statements come from the cache.
type cachedTx struct {
	*txn
	stmts *stmtCache
}

func (d *DB) beginCached(ctx context.Context) (*cachedTx, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &cachedTx{txn: tx, stmts: d.stmts}, nil
}

func (t *cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmts.get(query); s != nil {
		return t.txn.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return t.txn.ExecContext(ctx, query, args...)
}

func (t *cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmts.get(query); s != nil {
		return t.txn.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return t.txn.QueryContext(ctx, query, args...)
}

func (t *cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmts.get(query); s != nil {
		return t.txn.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return t.txn.QueryRowContext(ctx, query, args...)
}

// Commit commits, then prepares the statements this transaction ran unprepared.
func (t *cachedTx) Commit() error {
	if err := t.txn.Commit(); err != nil {
		return err
	}
	// A failure here only loses the optimisation: the statements keep running unprepared.
	_ = t.stmts.prepareWanted(context.Background())
	return nil
}
