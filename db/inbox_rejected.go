package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// RejectedReason is how many inbox rows of a project were set aside for one reason.
type RejectedReason struct {
	Reason string
	Count  int
}

// RejectedInboxReasons counts a project's rows in inbox_rejected by error,
// the commonest first, at most limit reasons.
func (d *DB) RejectedInboxReasons(ctx context.Context, projectID int64, limit int) ([]RejectedReason, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT error, count(*) FROM inbox_rejected WHERE project_id = ?
		GROUP BY error ORDER BY count(*) DESC, error LIMIT ?`, projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("count rejected inbox rows: %w", err)
	}
	defer rows.Close()
	var out []RejectedReason
	for rows.Next() {
		var r RejectedReason
		if err := rows.Scan(&r.Reason, &r.Count); err != nil {
			return nil, fmt.Errorf("count rejected inbox rows: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRejectedInboxRows deletes up to limit of a project's rows in
// inbox_rejected, oldest first, that are not among its keep newest or that
// were set aside before `before` (the zero time: none is too old), in one
// short transaction, and tells how many went.
func (d *DB) DeleteRejectedInboxRows(ctx context.Context, projectID, keep int64, before time.Time, limit int) (int64, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("delete rejected inbox rows of project %d: %w", projectID, err)
	}
	defer tx.Rollback()
	// Everything up to the newest row past the kept ones goes, and
	// everything set aside before the cutoff.
	cutAt, cutID := int64(math.MinInt64), int64(math.MaxInt64)
	if !before.IsZero() {
		cutAt = millis(before) - 1
	}
	var at, id int64
	err = tx.QueryRowContext(ctx, `SELECT failed_at, id FROM inbox_rejected WHERE project_id = ?
		ORDER BY failed_at DESC, id DESC LIMIT 1 OFFSET ?`, projectID, keep).Scan(&at, &id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, fmt.Errorf("delete rejected inbox rows of project %d: %w", projectID, err)
	case at > cutAt: // else the cutoff deletes every row the cap would
		cutAt, cutID = at, id
	}
	if cutAt == math.MinInt64 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM inbox_rejected WHERE id IN (SELECT id FROM inbox_rejected
		WHERE project_id = ? AND (failed_at < ? OR (failed_at = ? AND id <= ?)) ORDER BY failed_at, id LIMIT ?)`,
		projectID, cutAt, cutAt, cutID, limit)
	if err != nil {
		return 0, fmt.Errorf("delete rejected inbox rows of project %d: %w", projectID, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete rejected inbox rows of project %d: %w", projectID, err)
	}
	return n, nil
}
