package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// OutboxNotice is a new issue or a regression waiting to be notified.
type OutboxNotice struct {
	ID         int64
	ProjectID  int64
	IssueID    int64
	Regression bool
	// Event summarises the event that caused it (no bodies, no frames).
	Event NewEvent
}

// addNoticeTx records, inside the event's own transaction, that its issue is
// new or regressed.
func addNoticeTx(ctx context.Context, tx txRunner, ev NewEvent, st Stored, now int64) error {
	summary := ev
	summary.Data, summary.Raw, summary.ResolvedFrames = nil, nil, nil
	b, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("encode notice of event %s: %w", ev.UUID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_outbox(project_id, issue_id, regression, event, created_at)
		VALUES (?, ?, ?, ?, ?)`, ev.ProjectID, st.IssueID, st.Regression, b, now); err != nil {
		return fmt.Errorf("record notice of issue %d: %w", st.IssueID, err)
	}
	return nil
}

// ClaimNotices claims up to limit of the oldest notices no node holds (never
// claimed, or their lease ended) for this node until lease from now, in one
// write transaction, and returns them oldest first.
func (d *DB) ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]OutboxNotice, error) {
	now := time.Now()
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `UPDATE notification_outbox SET claimed_by = ?, claimed_until = ?
		WHERE id IN (SELECT id FROM notification_outbox WHERE claimed_until < ? ORDER BY id LIMIT ?)
		RETURNING id, project_id, issue_id, regression, event`,
		d.node, millis(now.Add(lease)), millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	out, err := scanNotices(rows)
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b OutboxNotice) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// RenewNoticeClaims extends this node's leases of the notices ids to lease
// from now and tells how many of them it still held. A notice another node
// claimed after this node's lease ended is that node's to deliver.
func (d *DB) RenewNoticeClaims(ctx context.Context, ids []int64, lease time.Duration) (int, error) {
	n, err := d.renewClaims(ctx, outboxTable, ids, lease)
	if err != nil {
		return 0, fmt.Errorf("renew claims of %d notices: %w", len(ids), err)
	}
	return n, nil
}

// ReleaseNoticeClaims gives up this node's claims of the notices ids, so any
// node may claim them at once.
func (d *DB) ReleaseNoticeClaims(ctx context.Context, ids []int64) error {
	if err := d.releaseClaims(ctx, outboxTable, ids); err != nil {
		return fmt.Errorf("release claims of %d notices: %w", len(ids), err)
	}
	return nil
}

// DeleteNotice removes a notice once it was handled, if this node still
// holds its claim (else the node that claimed it since handles it).
func (d *DB) DeleteNotice(ctx context.Context, id int64) error {
	if _, err := d.execInOwnTx(ctx, "DELETE FROM notification_outbox WHERE id = ? AND claimed_by = ?", []any{id, d.node}); err != nil {
		return fmt.Errorf("delete notice %d: %w", id, err)
	}
	return nil
}

// PendingNotices returns up to limit of the oldest notices, claimed or not.
// It claims nothing: it is a look at the outbox, not a way to deliver it.
func (d *DB) PendingNotices(ctx context.Context, limit int) ([]OutboxNotice, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, project_id, issue_id, regression, event FROM notification_outbox
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read notification outbox: %w", err)
	}
	out, err := scanNotices(rows)
	if err != nil {
		return nil, fmt.Errorf("read notification outbox: %w", err)
	}
	return out, nil
}

// scanNotices reads rows of (id, project_id, issue_id, regression, event)
// and closes them.
func scanNotices(rows *sql.Rows) ([]OutboxNotice, error) {
	defer rows.Close()
	var out []OutboxNotice
	for rows.Next() {
		var n OutboxNotice
		var b []byte
		if err := rows.Scan(&n.ID, &n.ProjectID, &n.IssueID, &n.Regression, &b); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &n.Event); err != nil {
			return nil, fmt.Errorf("decode notice %d: %w", n.ID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
