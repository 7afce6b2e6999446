package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stacklens/stacklens/triage"
)

// Issue statuses: triage's, named here for db's callers.
const (
	StatusActive     = triage.StatusActive
	StatusResolved   = triage.StatusResolved
	StatusSuppressed = triage.StatusSuppressed
)

// ValidStatus tells whether s is an issue status (triage.ValidStatus).
func ValidStatus(s string) bool { return triage.ValidStatus(s) }

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
	RegressedAt time.Time // zero when never regressed (or a person changed the status since)
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ResolvedInRelease, on a resolved issue, is the release that fixed it:
	// events of older releases leave it resolved. Empty: any event reopens it.
	ResolvedInRelease string
	AssigneeID        int64 // 0 when nobody is assigned
	AssigneeEmail     string
	UsersAffected     int64 // distinct non-empty distinct_ids of its stored events
	// NameChars and DescriptionChars are the lengths in characters of the
	// whole name and description, which a list with IssueQuery.TextChars cuts.
	NameChars, DescriptionChars int
}

const issueColumns = `i.id, i.project_id, i.name, i.description, i.status, i.first_seen, i.last_seen, i.occurrences,
	i.regressed_at, i.created_at, i.updated_at, i.resolved_in_release, coalesce(i.assignee_id, 0), coalesce(u.email, ''),
	i.users_affected, length(i.name), length(i.description)`

// issueColumnsCut is issueColumns with the name and description cut to
// their first n characters: a page lists 50 issues and shows a line of each,
// and a description can be megabytes.
func issueColumnsCut(n int) string {
	cut := fmt.Sprintf("substr(i.name, 1, %d), substr(i.description, 1, %d)", n, n)
	return strings.Replace(issueColumns, "i.name, i.description", cut, 1)
}

const issueFrom = " FROM issues i LEFT JOIN users u ON u.id = i.assignee_id "

func scanIssue(row interface{ Scan(...any) error }) (Issue, error) {
	var is Issue
	var first, last, created, updated int64
	var regressed sql.NullInt64
	if err := row.Scan(&is.ID, &is.ProjectID, &is.Name, &is.Description, &is.Status, &first, &last,
		&is.Occurrences, &regressed, &created, &updated, &is.ResolvedInRelease, &is.AssigneeID, &is.AssigneeEmail,
		&is.UsersAffected, &is.NameChars, &is.DescriptionChars); err != nil {
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

// Orders of the issue list, for IssueQuery.Sort; each is descending.
const (
	SortLastSeen    = "last_seen"
	SortFirstSeen   = "first_seen"
	SortOccurrences = "occurrences"
	SortUsers       = "users"
)

// ValidSort tells whether s is an order of the issue list ("" = last seen).
func ValidSort(s string) bool {
	switch s {
	case "", SortLastSeen, SortFirstSeen, SortOccurrences, SortUsers:
		return true
	}
	return false
}

// sortColumn is the column an order sorts by (then by id, for ties).
func sortColumn(sort string) string {
	switch sort {
	case SortFirstSeen:
		return "i.first_seen"
	case SortOccurrences:
		return "i.occurrences"
	case SortUsers:
		return "i.users_affected"
	}
	return "i.last_seen"
}

// IssueQuery selects a page of a project's issues.
type IssueQuery struct {
	ProjectID int64
	Status    string // "" or "all" for every status
	// Search keeps issues whose type, message, function or file names hold
	// every term (see ParseSearch): "checkout \"card declined\"".
	Search  string
	Release string // only issues with an event of this release
	Lib     string // only issues with an event sent by this library ($lib, e.g. posthog-js)
	// Environment keeps issues with an event of this environment.
	Environment string
	// Tag keeps issues with an event carrying this tag: TagKey with
	// TagValue, or with any value when TagValue is empty.
	TagKey, TagValue string
	Since            time.Time // only issues seen at or after this time (zero: any)
	Sort             string    // one of the Sort* constants; "" = SortLastSeen
	Limit            int
	After            *IssueCursor // the page after this row (further down the order)
	Before           *IssueCursor // the page before this row
	// TextChars, when not 0, cuts each issue's name and description to
	// their first TextChars characters (see Issue.NameChars).
	TextChars int
}

// IssuePage is one page of issues with whether more exist on either side.
type IssuePage struct {
	Issues  []Issue
	HasMore bool // more rows beyond the page in the direction of travel
	Total   int
}

// filter is the WHERE clause (and its arguments) of everything but the cursor.
func (q IssueQuery) filter(stmts *engineSQL) (string, []any) {
	where := []string{"i.project_id = ?"}
	args := []any{q.ProjectID}
	if q.Status != "" && q.Status != "all" {
		where = append(where, "i.status = ?")
		args = append(args, q.Status)
	}
	if terms := ParseSearch(q.Search); len(terms) > 0 {
		conds, condArgs := stmts.search(terms)
		where, args = append(where, conds...), append(args, condArgs...)
	}
	if q.Release != "" {
		where = append(where, "EXISTS (SELECT 1 FROM issue_values v WHERE v.issue_id = i.id AND v.key = 'release' AND v.value = ?)")
		args = append(args, q.Release)
	}
	if q.Lib != "" {
		where = append(where, "EXISTS (SELECT 1 FROM issue_values v WHERE v.issue_id = i.id AND v.key = 'lib' AND v.value = ?)")
		args = append(args, q.Lib)
	}
	// Environment and tag: the issues holding the value, found through the
	// (project_id, key, value) index rather than probed issue by issue.
	if q.Environment != "" {
		where = append(where, "i.id IN (SELECT v.issue_id FROM issue_values v WHERE v.project_id = ? AND v.key = ? AND v.value = ?)")
		args = append(args, q.ProjectID, ValueEnvironment, q.Environment)
	}
	switch {
	case q.TagKey != "" && q.TagValue != "":
		where = append(where, "i.id IN (SELECT v.issue_id FROM issue_values v WHERE v.project_id = ? AND v.key = ? AND v.value = ?)")
		args = append(args, q.ProjectID, TagKey(q.TagKey), q.TagValue)
	case q.TagKey != "":
		where = append(where, "i.id IN (SELECT v.issue_id FROM issue_values v WHERE v.project_id = ? AND v.key = ?)")
		args = append(args, q.ProjectID, TagKey(q.TagKey))
	}
	if !q.Since.IsZero() {
		where = append(where, "i.last_seen >= ?")
		args = append(args, millis(q.Since))
	}
	return strings.Join(where, " AND "), args
}

// ListIssues returns a page of issues in the query's order, by keyset pagination.
func (d *DB) ListIssues(ctx context.Context, q IssueQuery) (IssuePage, error) {
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 50
	}
	filterWhere, filterArgs := q.filter(d.dialect.sql)
	where, args := filterWhere, append([]any(nil), filterArgs...)
	col := sortColumn(q.Sort)
	order := col + " DESC, i.id DESC"
	switch {
	case q.After != nil:
		key := q.After.key(q.Sort)
		where += " AND (" + col + " < ? OR (" + col + " = ? AND i.id < ?))"
		args = append(args, key, key, q.After.ID)
	case q.Before != nil:
		key := q.Before.key(q.Sort)
		where += " AND (" + col + " > ? OR (" + col + " = ? AND i.id > ?))"
		args = append(args, key, key, q.Before.ID)
		order = col + " ASC, i.id ASC"
	}
	args = append(args, q.Limit+1)
	columns := issueColumns
	if q.TextChars > 0 {
		columns = issueColumnsCut(q.TextChars)
	}
	rows, err := d.read.QueryContext(ctx, "SELECT "+columns+issueFrom+"WHERE "+where+" ORDER BY "+order+" LIMIT ?", args...)
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
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM issues i WHERE "+filterWhere, filterArgs...).Scan(&page.Total); err != nil {
		return IssuePage{}, fmt.Errorf("count issues: %w", err)
	}
	return page, nil
}

// Issue loads one issue of a project.
func (d *DB) Issue(ctx context.Context, projectID, id int64) (Issue, error) {
	is, err := scanIssue(d.read.QueryRowContext(ctx, "SELECT "+issueColumns+issueFrom+"WHERE i.project_id = ? AND i.id = ?", projectID, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Issue{}, fmt.Errorf("load issue %d: %w", id, err)
	}
	return is, err
}

// UpdateIssueText changes an issue's name and description.
func (d *DB) UpdateIssueText(ctx context.Context, projectID, id int64, name, description string) error {
	return d.EditIssue(ctx, projectID, id, name, description, "")
}
