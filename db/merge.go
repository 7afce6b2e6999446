package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MergeIssues moves everything of the issues in from into the issue into:
// fingerprints (so future events land in into), events and counts; the
// emptied issues are deleted. It returns how many issues were merged.
func (d *DB) MergeIssues(ctx context.Context, projectID, into int64, from []int64) (int, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("merge issues: %w", err)
	}
	defer tx.Rollback()
	n, err := mergeIssuesTx(ctx, tx, projectID, into, from)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("merge issues: %w", err)
	}
	return n, nil
}

func mergeIssuesTx(ctx context.Context, tx *txn, projectID, into int64, from []int64) (int, error) {
	var exists int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM issues WHERE project_id = ? AND id = ?", projectID, into).Scan(&exists); err != nil {
		return 0, fmt.Errorf("merge issues: %w", err)
	}
	if exists == 0 {
		return 0, ErrNotFound
	}
	now := millis(time.Now())
	merged := 0
	for _, id := range from {
		if id == into {
			continue
		}
		var first, last, occurrences int64
		var name string
		err := tx.QueryRowContext(ctx, "SELECT name, first_seen, last_seen, occurrences FROM issues WHERE project_id = ? AND id = ?",
			projectID, id).Scan(&name, &first, &last, &occurrences)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, ErrNotFound)
		}
		if err != nil {
			return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, err)
		}
		for _, q := range []string{
			"UPDATE issue_fingerprints SET issue_id = ? WHERE project_id = ? AND issue_id = ?",
			"UPDATE events SET issue_id = ? WHERE project_id = ? AND issue_id = ?",
			// The hourly counts go along before the issue's own are deleted with it.
			`INSERT INTO issue_hourly(issue_id, hour, count) SELECT ?, h.hour, h.count FROM issue_hourly h
				JOIN issues i ON i.id = h.issue_id WHERE i.project_id = ? AND h.issue_id = ?
				ON CONFLICT (issue_id, hour) DO UPDATE SET count = issue_hourly.count + excluded.count`,
		} {
			if _, err := tx.ExecContext(ctx, q, into, projectID, id); err != nil {
				return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE issues SET occurrences = occurrences + ?, first_seen = `+tx.statements().least("first_seen", "?")+`,
			last_seen = `+tx.statements().greatest("last_seen", "?")+`, updated_at = ? WHERE id = ?`, occurrences, first, last, now, into); err != nil {
			return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_merges(project_id, issue_id, merged_issue_id, merged_name, merged_occurrences, merged_at)
			VALUES (?, ?, ?, ?, ?, ?)`, projectID, into, id, name, occurrences, now); err != nil {
			return 0, fmt.Errorf("record merge of issue %d into %d: %w", id, into, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE issue_merges SET issue_id = ? WHERE project_id = ? AND issue_id = ?", into, projectID, id); err != nil {
			return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM issues WHERE id = ?", id); err != nil {
			return 0, fmt.Errorf("merge issue %d into %d: %w", id, into, err)
		}
		merged++
	}
	return merged, nil
}

// IssueMerge is one issue that was merged into another.
type IssueMerge struct {
	MergedIssueID     int64
	MergedName        string
	MergedOccurrences int64
	MergedAt          time.Time
}

// IssueMerges lists what was merged into an issue, newest first.
func (d *DB) IssueMerges(ctx context.Context, projectID, issueID int64) ([]IssueMerge, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT merged_issue_id, merged_name, merged_occurrences, merged_at FROM issue_merges
		WHERE project_id = ? AND issue_id = ? ORDER BY merged_at DESC, merged_issue_id DESC`, projectID, issueID)
	if err != nil {
		return nil, fmt.Errorf("list merges of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	var out []IssueMerge
	for rows.Next() {
		var m IssueMerge
		var at int64
		if err := rows.Scan(&m.MergedIssueID, &m.MergedName, &m.MergedOccurrences, &at); err != nil {
			return nil, fmt.Errorf("list merges of issue %d: %w", issueID, err)
		}
		m.MergedAt = fromMillis(at)
		out = append(out, m)
	}
	return out, rows.Err()
}
