package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Issue statuses.
const (
	StatusActive     = "active"
	StatusResolved   = "resolved"
	StatusSuppressed = "suppressed"
)

// ValidStatus tells whether s is an issue status.
func ValidStatus(s string) bool {
	return s == StatusActive || s == StatusResolved || s == StatusSuppressed
}

// Issue is a group of events with one fingerprint (or several, after a merge).
type Issue struct {
	ID          int64
	ProjectID   int64
	Name        string
	Description string
	Status      string
	FirstSeen   time.Time
	LastSeen    time.Time
	Occurrences int64
	RegressedAt time.Time // zero when never regressed
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const issueColumns = "id, project_id, name, description, status, first_seen, last_seen, occurrences, regressed_at, created_at, updated_at"

func scanIssue(row interface{ Scan(...any) error }) (Issue, error) {
	var is Issue
	var first, last, created, updated int64
	var regressed sql.NullInt64
	if err := row.Scan(&is.ID, &is.ProjectID, &is.Name, &is.Description, &is.Status, &first, &last,
		&is.Occurrences, &regressed, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Issue{}, ErrNotFound
		}
		return Issue{}, err
	}
	is.FirstSeen, is.LastSeen = fromMillis(first), fromMillis(last)
	is.CreatedAt, is.UpdatedAt = fromMillis(created), fromMillis(updated)
	is.RegressedAt = nullMillis(regressed)
	return is, nil
}

// IssueCursor marks a position in the list ordered by last_seen, id (newest first).
type IssueCursor struct {
	LastSeen time.Time
	ID       int64
}

// IssueQuery selects a page of a project's issues.
type IssueQuery struct {
	ProjectID int64
	Status    string // "" or "all" for every status
	Limit     int
	After     *IssueCursor // the page after this row (older)
	Before    *IssueCursor // the page before this row (newer)
}

// IssuePage is one page of issues with whether more exist on either side.
type IssuePage struct {
	Issues  []Issue
	HasMore bool // more rows beyond the page in the direction of travel
	Total   int
}

// ListIssues returns a page of issues, newest last_seen first, by keyset pagination.
func (d *DB) ListIssues(ctx context.Context, q IssueQuery) (IssuePage, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	var where []string
	var args []any
	where = append(where, "project_id = ?")
	args = append(args, q.ProjectID)
	if q.Status != "" && q.Status != "all" {
		where = append(where, "status = ?")
		args = append(args, q.Status)
	}
	filterWhere, filterArgs := strings.Join(where, " AND "), append([]any(nil), args...)
	order := "last_seen DESC, id DESC"
	switch {
	case q.After != nil:
		where = append(where, "(last_seen < ? OR (last_seen = ? AND id < ?))")
		args = append(args, millis(q.After.LastSeen), millis(q.After.LastSeen), q.After.ID)
	case q.Before != nil:
		where = append(where, "(last_seen > ? OR (last_seen = ? AND id > ?))")
		args = append(args, millis(q.Before.LastSeen), millis(q.Before.LastSeen), q.Before.ID)
		order = "last_seen ASC, id ASC"
	}
	args = append(args, q.Limit+1)
	rows, err := d.read.QueryContext(ctx, "SELECT "+issueColumns+" FROM issues WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+order+" LIMIT ?", args...)
	if err != nil {
		return IssuePage{}, fmt.Errorf("list issues: %w", err)
	}
	defer rows.Close()
	var page IssuePage
	for rows.Next() {
		is, err := scanIssue(rows)
		if err != nil {
			return IssuePage{}, fmt.Errorf("list issues: %w", err)
		}
		page.Issues = append(page.Issues, is)
	}
	if err := rows.Err(); err != nil {
		return IssuePage{}, fmt.Errorf("list issues: %w", err)
	}
	if len(page.Issues) > q.Limit {
		page.Issues, page.HasMore = page.Issues[:q.Limit], true
	}
	if q.Before != nil {
		for i, j := 0, len(page.Issues)-1; i < j; i, j = i+1, j-1 {
			page.Issues[i], page.Issues[j] = page.Issues[j], page.Issues[i]
		}
	}
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM issues WHERE "+filterWhere, filterArgs...).Scan(&page.Total); err != nil {
		return IssuePage{}, fmt.Errorf("count issues: %w", err)
	}
	return page, nil
}

// Issue loads one issue of a project.
func (d *DB) Issue(ctx context.Context, projectID, id int64) (Issue, error) {
	is, err := scanIssue(d.read.QueryRowContext(ctx, "SELECT "+issueColumns+" FROM issues WHERE project_id = ? AND id = ?", projectID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Issue{}, fmt.Errorf("load issue %d: %w", id, err)
	}
	return is, err
}

// SetIssueStatus changes an issue's status.
func (d *DB) SetIssueStatus(ctx context.Context, projectID, id int64, status string) error {
	if !ValidStatus(status) {
		return fmt.Errorf("set issue status: unknown status %q", status)
	}
	res, err := d.write.ExecContext(ctx, "UPDATE issues SET status = ?, updated_at = ? WHERE project_id = ? AND id = ?",
		status, millis(time.Now()), projectID, id)
	if err != nil {
		return fmt.Errorf("set status of issue %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdateIssueText changes an issue's name and description.
func (d *DB) UpdateIssueText(ctx context.Context, projectID, id int64, name, description string) error {
	res, err := d.write.ExecContext(ctx, "UPDATE issues SET name = ?, description = ?, updated_at = ? WHERE project_id = ? AND id = ?",
		name, description, millis(time.Now()), projectID, id)
	if err != nil {
		return fmt.Errorf("update issue %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
