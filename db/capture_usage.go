package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// AddCaptureUsage adds accepted[p] to project p's count of accepted capture
// events in capture_usage, for every p in one transaction, and returns each
// count after the addition (ratelimit.Usage). Projects that no longer exist
// are left out of the answer.
func (d *DB) AddCaptureUsage(ctx context.Context, accepted map[int64]int64) (map[int64]int64, error) {
	ids := make([]int64, 0, len(accepted))
	for id := range accepted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("count accepted events: %w", err)
	}
	defer tx.Rollback()
	totals := make(map[int64]int64, len(ids))
	for _, id := range ids {
		var total int64
		err := tx.QueryRowContext(ctx, `INSERT INTO capture_usage(project_id, accepted)
			SELECT id, ? FROM projects WHERE id = ?
			ON CONFLICT (project_id) DO UPDATE SET accepted = capture_usage.accepted + excluded.accepted
			RETURNING accepted`, accepted[id], id).Scan(&total)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("count accepted events of project %d: %w", id, err)
		}
		totals[id] = total
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("count accepted events: %w", err)
	}
	return totals, nil
}
