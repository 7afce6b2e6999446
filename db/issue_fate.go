package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IssueFate says what became of an issue id that names no issue any more.
type IssueFate struct {
	// MergedInto is the issue it lives on in (merges followed to the end), 0 if none.
	MergedInto int64
	// Deleted: the id was handed out and its issue is gone without a merge
	// to follow (issues go only with their project).
	Deleted bool
}

// maxMergeHops bounds how far IssueFate follows merges; merging repoints
// older merges to the surviving issue, so chains are one hop long.
const maxMergeHops = 32

// IssueFate tells what became of issue id in project projectID (0: in any
// project): merged into another issue, deleted, or ErrNotFound when the id
// was never handed out or is an issue that exists (of another project).
func (d *DB) IssueFate(ctx context.Context, projectID, id int64) (IssueFate, error) {
	exists := func(issue int64) (bool, error) {
		var n int
		err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM issues WHERE id = ?", issue).Scan(&n)
		return n > 0, err
	}
	live, err := exists(id)
	if err != nil {
		return IssueFate{}, fmt.Errorf("find issue %d: %w", id, err)
	}
	if live {
		return IssueFate{}, ErrNotFound
	}
	current := id
	for range maxMergeHops {
		var into int64
		err := d.read.QueryRowContext(ctx, `SELECT issue_id FROM issue_merges
			WHERE merged_issue_id = ? AND (? = 0 OR project_id = ?) ORDER BY `+d.dialect.sql.newestMergeFirst+` LIMIT 1`,
			current, projectID, projectID).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return IssueFate{}, fmt.Errorf("find what issue %d was merged into: %w", id, err)
		}
		if live, err := exists(into); err != nil {
			return IssueFate{}, fmt.Errorf("find issue %d: %w", into, err)
		} else if live {
			return IssueFate{MergedInto: into}, nil
		}
		current = into
	}
	var handedOut int64
	err = d.read.QueryRowContext(ctx, d.dialect.sql.issueIDsHandedOut).Scan(&handedOut)
	if err != nil {
		return IssueFate{}, fmt.Errorf("find issue %d: %w", id, err)
	}
	if id >= 1 && id <= handedOut {
		return IssueFate{Deleted: true}, nil
	}
	return IssueFate{}, ErrNotFound
}
