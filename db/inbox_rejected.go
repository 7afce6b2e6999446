package db

import (
	"context"
	"fmt"
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
