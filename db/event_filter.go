package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// EventFilter keeps the events of an issue that a list filter asks for, so
// that counts, users, sparklines and the events shown follow the filter
// (release 1.0.0: the events of 1.0.0, not all of the issue's). The zero
// filter keeps every event and adds nothing to a query.
type EventFilter struct {
	Release     string
	Lib         string
	Environment string
	// TagKey with TagValue keeps events with that tag value; TagKey alone,
	// events carrying the tag at all.
	TagKey, TagValue string
	Since            time.Time // events at or after this time (zero: any)
}

// Any tells whether the filter drops any event.
func (f EventFilter) Any() bool { return f != EventFilter{} }

// Events is the part of a list query that selects events rather than
// issues: search matches an issue's names, the rest picks its events.
func (q IssueQuery) Events() EventFilter {
	return EventFilter{Release: q.Release, Lib: q.Lib, Environment: q.Environment, TagKey: q.TagKey, TagValue: q.TagValue, Since: q.Since}
}

// where is the filter as " AND …" conditions on the events table (columns
// unqualified), "" for the zero filter.
func (f EventFilter) where(stmts *engineSQL) (string, []any) {
	var conds []string
	var args []any
	if f.Release != "" {
		conds, args = append(conds, "release = ?"), append(args, f.Release)
	}
	if f.Lib != "" {
		conds, args = append(conds, "lib = ?"), append(args, f.Lib)
	}
	if f.Environment != "" {
		// As counted in issue_values (see engineSQL.storedEnvironment); values are cut there.
		conds, args = append(conds, "substr("+stmts.storedEnvironment+", 1, ?) = ?"), append(args, maxValueLen, f.Environment)
	}
	if f.TagKey != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM `+stmts.tagRows+`
			WHERE t.key = ? AND `+stmts.tagIsText+` AND (CAST(? AS TEXT) = '' OR substr(t.value, 1, ?) = ?))`)
		args = append(args, f.TagKey, f.TagValue, maxValueLen, f.TagValue)
	}
	if !f.Since.IsZero() {
		conds, args = append(conds, "timestamp >= ?"), append(args, millis(f.Since))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(conds, " AND "), args
}

// EventCounts are an issue's events and distinct users under a filter.
type EventCounts struct {
	Events, Users int64
}

// IssuesEventCounts counts, per issue, the stored events the filter keeps
// and their distinct non-empty distinct ids. Issues without such events are
// left out. It reads the issues' events (through events_issue_time), so the
// list calls it only when a filter is set; unfiltered, the issues' own
// counters answer.
func (d *DB) IssuesEventCounts(ctx context.Context, projectID int64, ids []int64, f EventFilter) (map[int64]EventCounts, error) {
	out := map[int64]EventCounts{}
	if len(ids) == 0 {
		return out, nil
	}
	query, args := eventCountsQuery(d.dialect.sql, projectID, ids, f)
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("count filtered events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c EventCounts
		if err := rows.Scan(&id, &c.Events, &c.Users); err != nil {
			return nil, fmt.Errorf("count filtered events: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

func eventCountsQuery(stmts *engineSQL, projectID int64, ids []int64, f EventFilter) (string, []any) {
	cond, condArgs := f.where(stmts)
	marks := make([]string, len(ids))
	args := []any{projectID}
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	return `SELECT issue_id, count(*), count(DISTINCT nullif(distinct_id, '')) FROM events
		WHERE +project_id = ? AND issue_id IN (` + strings.Join(marks, ",") + `)` + cond + ` GROUP BY issue_id`, append(args, condArgs...)
}

// FilteredTopValues is TopValues over the events a filter keeps, counted
// from the events' own columns (url, browser, os, release, lib).
func (d *DB) FilteredTopValues(ctx context.Context, projectID, issueID int64, key string, limit int, f EventFilter) ([]ValueCount, int64, error) {
	col, ok := map[string]string{ValueURL: "url", ValueBrowser: "browser", ValueOS: "os", ValueRelease: "release", ValueLib: "lib"}[key]
	if !ok {
		return nil, 0, fmt.Errorf("top %s of issue %d under a filter: not an event column", key, issueID)
	}
	cond, condArgs := f.where(d.dialect.sql)
	args := append([]any{projectID, issueID}, condArgs...)
	var total int64
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE project_id = ? AND issue_id = ? AND "+col+" != ''"+cond,
		args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	out, err := d.values(ctx, "SELECT substr("+col+", 1, ?) AS v, count(*) AS n, min(timestamp), max(timestamp) FROM events WHERE project_id = ? AND issue_id = ? AND "+
		col+" != ''"+cond+" GROUP BY v ORDER BY n DESC, v LIMIT ?", append(append([]any{maxValueLen}, args...), limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	return out, total, nil
}
