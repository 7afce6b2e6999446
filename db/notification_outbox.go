package db

import (
	"context"
	"encoding/json"
	"fmt"
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

// PendingNotices returns up to limit of the oldest notices not yet delivered.
func (d *DB) PendingNotices(ctx context.Context, limit int) ([]OutboxNotice, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, project_id, issue_id, regression, event FROM notification_outbox
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read notification outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxNotice
	for rows.Next() {
		var n OutboxNotice
		var b []byte
		if err := rows.Scan(&n.ID, &n.ProjectID, &n.IssueID, &n.Regression, &b); err != nil {
			return nil, fmt.Errorf("read notification outbox: %w", err)
		}
		if err := json.Unmarshal(b, &n.Event); err != nil {
			return nil, fmt.Errorf("decode notice %d: %w", n.ID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DeleteNotice removes a notice once it was handled.
func (d *DB) DeleteNotice(ctx context.Context, id int64) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM notification_outbox WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete notice %d: %w", id, err)
	}
	return nil
}
