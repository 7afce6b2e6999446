package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Claims: several processes (nodes) drain one inbox and one notification
// outbox. A node claims rows with a lease, claimed_by (its node id) and
// claimed_until (Unix ms); it stores or deletes a row only while claimed_by
// is still its own, checked in the transaction that does it, and renews the
// leases of the rows it is still working on. A lease that ended can be
// claimed by any node, so the rows of a node that died are taken by another
// once their lease is over. Leases compare the claimer's clock with the
// other nodes': clocks must agree to well within a lease.

// newNodeID names this process for its claims: host and pid for people
// reading the table, and random bytes so two opens of one file in one
// process (tests, or a restart that reuses a pid) are two claimants.
func newNodeID() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Node is the id this DB claims rows under.
func (d *DB) Node() string { return d.node }

// claimableTables are the tables with claimed_by and claimed_until columns.
// The names are spliced into SQL, so only these constants are ever used.
const (
	inboxTable  = "inbox"
	outboxTable = "notification_outbox"
)

// renewClaims extends this node's leases of the rows ids of table to lease
// from now and tells how many it still held. A row whose lease ended but
// that no other node claimed since is still this node's, and is renewed.
func (d *DB) renewClaims(ctx context.Context, table string, ids []int64, lease time.Duration) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	args := append([]any{millis(time.Now().Add(lease)), d.node}, int64Args(ids)...)
	return d.execInOwnTx(ctx, "UPDATE "+table+" SET claimed_until = ? WHERE claimed_by = ? AND id IN ("+placeholders(len(ids))+")", args)
}

// releaseClaims gives up this node's leases of the rows ids of table, so any
// node may claim them at once.
func (d *DB) releaseClaims(ctx context.Context, table string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := append([]any{d.node}, int64Args(ids)...)
	_, err := d.execInOwnTx(ctx, "UPDATE "+table+" SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = ? AND id IN ("+placeholders(len(ids))+")", args)
	return err
}

// execInOwnTx runs one statement in a write transaction of its own and
// tells how many rows it changed.
func (d *DB) execInOwnTx(ctx context.Context, query string, args []any) (int, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return int(n), tx.Commit()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// releaseDeadClaims gives up the claims held by processes of this host that
// no longer run (a node killed and started again: its rows would otherwise
// wait out their lease behind newer ones). Run at open. Taking a live
// node's rows would waste its work but lose nothing (StoreBatch checks the
// claim), so a process that only looks gone is no danger.
func (d *DB) releaseDeadClaims(ctx context.Context) error {
	host, pid, ok := nodeProcess(d.node)
	if !ok {
		return nil
	}
	for _, table := range []string{inboxTable, outboxTable} {
		rows, err := d.write.QueryContext(ctx, "SELECT DISTINCT claimed_by FROM "+table+" WHERE claimed_by LIKE ?", host+"/%")
		if err != nil {
			return fmt.Errorf("release claims of stopped processes: %w", err)
		}
		var dead []string
		for rows.Next() {
			var claimant string
			if err := rows.Scan(&claimant); err != nil {
				rows.Close()
				return fmt.Errorf("release claims of stopped processes: %w", err)
			}
			if h, p, ok := nodeProcess(claimant); ok && h == host && p != pid && !processRuns(p) {
				dead = append(dead, claimant)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("release claims of stopped processes: %w", err)
		}
		for _, claimant := range dead {
			if _, err := d.execInOwnTx(ctx, "UPDATE "+table+" SET claimed_by = NULL, claimed_until = 0 WHERE claimed_by = ?", []any{claimant}); err != nil {
				return fmt.Errorf("release claims of %s: %w", claimant, err)
			}
		}
	}
	return nil
}

// nodeProcess reads the host and pid out of a node id (newNodeID).
func nodeProcess(node string) (host string, pid int, ok bool) {
	parts := strings.Split(node, "/")
	if len(parts) < 3 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return strings.Join(parts[:len(parts)-2], "/"), pid, true
}
