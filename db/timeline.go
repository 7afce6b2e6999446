package db

import (
	"context"
	"fmt"
	"time"
)

// ActorStacklens is who made the changes nobody asked for: reopening an
// issue when its error came back, merging issues whose fingerprints met.
const ActorStacklens = "stacklens"

// Kinds of timeline entries.
const (
	ActivityStatus     = "status"     // From → To, Detail = the release it was resolved in, if any
	ActivityRegression = "regression" // a new event reopened a resolved issue; Detail = the event's release
	ActivityAssignee   = "assignee"   // From → To are emails ('' = nobody)
	ActivityRename     = "rename"     // From → To are "name: description"
	ActivityMerge      = "merge"      // Detail names the merged issue
)

// Activity is one entry of an issue's timeline.
type Activity struct {
	At     time.Time
	Actor  string // a user's email, or ActorStacklens
	Kind   string // one of the Activity* constants
	From   string
	To     string
	Detail string
	// MergedIssueID and MergedOccurrences describe the issue a merge absorbed.
	MergedIssueID     int64
	MergedOccurrences int64
}

func recordActivityTx(ctx context.Context, tx txRunner, projectID, issueID int64, a Activity) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO issue_activity(project_id, issue_id, at, actor, kind, from_value, to_value, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, projectID, issueID, millis(a.At), a.Actor, a.Kind, a.From, a.To, a.Detail); err != nil {
		return fmt.Errorf("record %s on the timeline of issue %d: %w", a.Kind, issueID, err)
	}
	return nil
}

// IssueTimeline lists every change of an issue, newest first: status
// changes and automatic reopenings, assignments, renames and merges.
func (d *DB) IssueTimeline(ctx context.Context, projectID, issueID int64) ([]Activity, error) {
	rows, err := d.read.QueryContext(ctx, `
		SELECT at, actor, kind, from_value, to_value, detail, 0, 0, id FROM issue_activity WHERE project_id = ? AND issue_id = ?
		UNION ALL
		SELECT merged_at, merged_by, 'merge', '', '', merged_name, merged_issue_id, merged_occurrences, 0 FROM issue_merges
			WHERE project_id = ? AND issue_id = ?
		ORDER BY 1 DESC, 9 DESC LIMIT 500`, projectID, issueID, projectID, issueID)
	if err != nil {
		return nil, fmt.Errorf("timeline of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	var out []Activity
	for rows.Next() {
		var a Activity
		var at, seq int64
		if err := rows.Scan(&at, &a.Actor, &a.Kind, &a.From, &a.To, &a.Detail, &a.MergedIssueID, &a.MergedOccurrences, &seq); err != nil {
			return nil, fmt.Errorf("timeline of issue %d: %w", issueID, err)
		}
		a.At = fromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
