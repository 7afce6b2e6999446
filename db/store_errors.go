package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Transient reports whether err is a condition of the database or the
// process rather than of the data being written: the database busy or
// locked, disk I/O trouble, a full disk, a read-only or unopenable file, no
// memory, an interrupted statement, or a cancelled context. Writing the same
// rows again later may succeed, so the pipeline keeps them in the inbox and
// retries; any other error is blamed on the rows themselves.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientPostgres(pgErr.Code)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	switch sqliteErr.Code() & 0xff { // the primary code; extended codes keep it in the low byte
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOLFS, sqlite3.SQLITE_ABORT:
		return true
	}
	return false
}

// transientPostgres tells which PostgreSQL errors are conditions of the
// server rather than of the rows (by SQLSTATE class): connection trouble
// (08), a transaction rolled back by a serialization failure or deadlock
// (40), too little disk, memory or connections (53), an operator or crash
// shutting the server down or a statement_timeout (57), a system error
// (58), a read-only transaction (25006, a replica or a failover in
// progress), and a lock another connection held past lock_timeout (55P03).
func transientPostgres(code string) bool {
	switch code {
	case "25006", "55P03":
		return true
	}
	for _, class := range []string{"08", "40", "53", "57", "58"} {
		if strings.HasPrefix(code, class) {
			return true
		}
	}
	return false
}
