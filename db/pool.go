package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// engine names the database behind a DB. The Go code and almost every
// statement are shared; what differs lives in files ending _sqlite.go and
// _postgres.go, chosen by the dialect.
type engine string

const (
	engineSQLite   engine = "sqlite"
	enginePostgres engine = "postgres"
)

// dialect is what one engine needs from the shared code: its placeholders
// and how a write transaction excludes other writers.
type dialect struct {
	engine engine
	sql    *engineSQL
	// rebound caches statements with ? placeholders turned into $n (PostgreSQL).
	rebound *sync.Map
}

func newDialect(e engine) dialect {
	statements := &sqliteSQL
	if e == enginePostgres {
		statements = &postgresSQL
	}
	return dialect{engine: e, sql: statements, rebound: &sync.Map{}}
}

func (d dialect) postgres() bool { return d.engine == enginePostgres }

// writeLockKey is the advisory lock every PostgreSQL write transaction takes
// first. It gives several stacklens processes what SQLite gives one: a single
// writer at a time, so the reads a transaction does before it writes (does
// this fingerprint have an issue yet? is this name free?) stay true until it
// commits, and rows are committed in the order of their ids. Readers never
// wait for it.
const writeLockKey = 0x537461636b4c656e // "StackLen"

// query returns q in the engine's syntax: ? placeholders become $1, $2, ...
// on PostgreSQL. Question marks inside quotes or comments are left alone.
func (d dialect) query(q string) string {
	if !d.postgres() || !strings.Contains(q, "?") {
		return q
	}
	if out, ok := d.rebound.Load(q); ok {
		return out.(string)
	}
	out := rebind(q)
	d.rebound.Store(q, out)
	return out
}

// Rebind turns q's ? placeholders into PostgreSQL's $1, $2, ...: for tests
// that look into a PostgreSQL database directly, with the statements they
// use on SQLite.
func Rebind(q string) string { return rebind(q) }

func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+1])
			i += end
		case c == '?':
			// ?NNN names an argument by number, as $NNN does.
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
				i = j - 1
				continue
			}
			n++
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// args adapts arguments to the engine: SQLite stores Go booleans as 0 and 1,
// and the schema keeps those integer columns on PostgreSQL too.
func (d dialect) args(args []any) []any {
	if !d.postgres() {
		return args
	}
	var out []any // a copy only when something changes: args may be the caller's slice
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if out == nil {
				out = append([]any(nil), args...)
			}
			out[i] = int64(0)
			if v {
				out[i] = int64(1)
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// pool is one of a DB's connection pools (the writer or the readers), in
// the engine's dialect. On PostgreSQL both are the same pgx pool; the writer
// pool's transactions take the write lock.
type pool struct {
	db      *sql.DB
	dialect dialect
	writer  bool
}

func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, p.dialect.query(q), p.dialect.args(args)...)
}

func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, p.dialect.query(q), p.dialect.args(args)...)
}

func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, p.dialect.query(q), p.dialect.args(args)...)
}

func (p *pool) statements() *engineSQL { return p.dialect.sql }

func (p *pool) Query(q string, args ...any) (*sql.Rows, error) {
	return p.QueryContext(context.Background(), q, args...)
}

func (p *pool) QueryRow(q string, args ...any) *sql.Row {
	return p.QueryRowContext(context.Background(), q, args...)
}

func (p *pool) Exec(q string, args ...any) (sql.Result, error) {
	return p.ExecContext(context.Background(), q, args...)
}

// BeginTx starts a transaction; on PostgreSQL's writer pool it first waits
// for the write lock (see writeLockKey).
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*txn, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	t := &txn{tx: tx, dialect: p.dialect}
	if p.writer && p.dialect.postgres() {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writeLockKey)); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("wait for the write lock: %w", err)
		}
	}
	return t, nil
}

// txn is a transaction in the engine's dialect.
type txn struct {
	tx      *sql.Tx
	dialect dialect
}

func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.dialect.query(q), t.dialect.args(args)...)
}

func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.dialect.query(q), t.dialect.args(args)...)
}

func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.dialect.query(q), t.dialect.args(args)...)
}

func (t *txn) StmtContext(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(ctx, s)
}

func (t *txn) statements() *engineSQL { return t.dialect.sql }

func (t *txn) Commit() error   { return t.tx.Commit() }
func (t *txn) Rollback() error { return t.tx.Rollback() }

// engineSQL holds the pieces of statements that each engine spells its own
// way; the shared statements are built around them.
type engineSQL struct {
	// storedEnvironment is the environment of a stored event (columns of
	// events, unqualified), NULL when it has none.
	storedEnvironment string
	// isText is a condition that expr (a storedEnvironment) holds a text value.
	isText func(expr string) string
	// tagRows is a FROM item t(key, value) over a stored event's tags
	// (columns of events, unqualified), and tagIsText the condition keeping
	// the text values.
	tagRows, tagIsText string
	// jsonField reads field (a top-level key) of the JSON in column, as
	// text; blob says the column holds the JSON as bytes.
	jsonField func(column string, blob bool, field string) string
	// crashFrame is two columns of a stored event e: its crash frame as
	// JSON when the database can read it from plain JSON data, else the
	// (compressed) data itself for Go to read.
	crashFrame string
	// newestMergeFirst orders issue_merges rows, the latest first.
	newestMergeFirst string
	// issueIDsHandedOut is a query for the highest issue id ever given out.
	issueIDsHandedOut string
	// newInboxIDs is a query for ? new inbox ids, one per row, never handed
	// out before (inside the write transaction that uses them).
	newInboxIDs string
	// greatest and least are the larger and the smaller of two values.
	greatest, least func(a, b string) string
	// search is the conditions (on issues i) finding the issues that hold
	// every term, lower-cased, as a substring.
	search func(terms []string) (conds []string, args []any)
}
