package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// MergeIssuesBy merges the issues in from into the issue into, as
// MergeIssues does, and also carries over what triage keeps per issue
// (search text, value counts, users affected) and records who merged on
// into's timeline. It returns how many issues were merged.
func (d *DB) MergeIssuesBy(ctx context.Context, projectID, into int64, from []int64, actor string) (int, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("merge issues: %w", err)
	}
	defer tx.Rollback()
	n, err := mergeForTriageTx(ctx, tx, projectID, into, from)
	if err != nil {
		return 0, err
	}
	if n > 0 && actor != "" {
		args := []any{actor, projectID, into}
		marks := make([]string, len(from))
		for i, id := range from {
			marks[i] = "?"
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE issue_merges SET merged_by = ? WHERE project_id = ? AND issue_id = ? AND merged_issue_id IN ("+
			strings.Join(marks, ",")+")", args...); err != nil {
			return 0, fmt.Errorf("record who merged into issue %d: %w", into, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("merge issues: %w", err)
	}
	return n, nil
}

// mergeForTriageTx is mergeIssuesTx keeping search text and value counts right.
func mergeForTriageTx(ctx context.Context, tx *txn, projectID, into int64, from []int64) (int, error) {
	if err := joinSearchTextTx(ctx, tx, projectID, into, from); err != nil {
		if err == sql.ErrNoRows {
			return 0, ErrNotFound
		}
		return 0, fmt.Errorf("merge search text into issue %d: %w", into, err)
	}
	n, err := mergeIssuesTx(ctx, tx, projectID, into, from)
	if err != nil {
		return 0, err
	}
	if err := recountValuesTx(ctx, tx, into); err != nil {
		return 0, err
	}
	return n, nil
}
