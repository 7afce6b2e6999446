package db

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// Keys of the per-issue value counts (issue_values).
const (
	ValueURL     = "url"
	ValueBrowser = "browser"
	ValueOS      = "os"
	ValueRelease = "release"
	ValueLib     = "lib"
	valueUser    = "user" // distinct_id: only counted, for users affected
)

// maxValueLen caps a counted value (URLs can be long); longer ones are cut.
const maxValueLen = 500

// ValueCount is how often one value occurred in an issue's events.
type ValueCount struct {
	Value     string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

func eventValues(ev NewEvent) [][2]string {
	return [][2]string{{ValueURL, ev.URL}, {ValueBrowser, ev.Browser}, {ValueOS, ev.OS}, {ValueRelease, ev.Release},
		{ValueLib, ev.Lib}, {valueUser, ev.DistinctID}}
}

// countValuesTx counts a stored event's values on its issue, and a distinct
// id not seen on the issue before as one more user affected.
func countValuesTx(ctx context.Context, tx txRunner, projectID, issueID int64, ev NewEvent, ts int64) error {
	for _, kv := range eventValues(ev) {
		value := kv[1]
		if value == "" {
			continue
		}
		if len(value) > maxValueLen {
			value = value[:maxValueLen]
		}
		var count int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
			VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (issue_id, key, value) DO UPDATE SET count = count + 1,
			first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
			RETURNING count`, projectID, issueID, kv[0], value, ts, ts).Scan(&count); err != nil {
			return fmt.Errorf("count %s of issue %d: %w", kv[0], issueID, err)
		}
		if kv[0] == valueUser && count == 1 {
			if _, err := tx.ExecContext(ctx, "UPDATE issues SET users_affected = users_affected + 1 WHERE id = ?", issueID); err != nil {
				return fmt.Errorf("count users of issue %d: %w", issueID, err)
			}
		}
	}
	return nil
}

// recountValuesTx counts an issue's values again from its stored events,
// after a merge brought it another issue's events.
func recountValuesTx(ctx context.Context, tx *sql.Tx, issueID int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM issue_values WHERE issue_id = ?", issueID); err != nil {
		return fmt.Errorf("recount values of issue %d: %w", issueID, err)
	}
	for key, column := range map[string]string{ValueURL: "url", ValueBrowser: "browser", ValueOS: "os",
		ValueRelease: "release", ValueLib: "lib", valueUser: "distinct_id"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
			SELECT project_id, issue_id, ?, substr(`+column+`, 1, ?), count(*), min(timestamp), max(timestamp) FROM events
			WHERE issue_id = ? AND `+column+` != '' GROUP BY substr(`+column+`, 1, ?)`, key, maxValueLen, issueID, maxValueLen); err != nil {
			return fmt.Errorf("recount %s of issue %d: %w", key, issueID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE issues SET users_affected = (SELECT count(*) FROM issue_values
		WHERE issue_id = ? AND key = 'user') WHERE id = ?`, issueID, issueID); err != nil {
		return fmt.Errorf("recount users of issue %d: %w", issueID, err)
	}
	return nil
}

// TopValues lists the most frequent values of key in an issue's events and
// the number of its events that had any value of key.
func (d *DB) TopValues(ctx context.Context, projectID, issueID int64, key string, limit int) ([]ValueCount, int64, error) {
	var total int64
	if err := d.read.QueryRowContext(ctx, "SELECT coalesce(sum(count), 0) FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = ?",
		projectID, issueID, key).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	out, err := d.values(ctx, "SELECT value, count, first_seen, last_seen FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = ? "+
		"ORDER BY count DESC, value LIMIT ?", projectID, issueID, key, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("top %s of issue %d: %w", key, issueID, err)
	}
	return out, total, nil
}

// IssueReleases lists the releases an issue's events came from, newest release first.
func (d *DB) IssueReleases(ctx context.Context, projectID, issueID int64) ([]ValueCount, error) {
	out, err := d.values(ctx, "SELECT value, count, first_seen, last_seen FROM issue_values WHERE project_id = ? AND issue_id = ? AND key = 'release'",
		projectID, issueID)
	if err != nil {
		return nil, fmt.Errorf("releases of issue %d: %w", issueID, err)
	}
	sort.Slice(out, func(i, j int) bool { return CompareReleases(out[i].Value, out[j].Value) > 0 })
	return out, nil
}

// ProjectValues lists the distinct values of key over a project's issues
// (for the release and library filters), newest release first for releases.
func (d *DB) ProjectValues(ctx context.Context, projectID int64, key string) ([]string, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT DISTINCT value FROM issue_values WHERE project_id = ? AND key = ? ORDER BY value LIMIT 500",
		projectID, key)
	if err != nil {
		return nil, fmt.Errorf("values of %s: %w", key, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("values of %s: %w", key, err)
		}
		out = append(out, v)
	}
	if key == ValueRelease {
		sort.Slice(out, func(i, j int) bool { return CompareReleases(out[i], out[j]) > 0 })
	}
	return out, rows.Err()
}

func (d *DB) values(ctx context.Context, query string, args ...any) ([]ValueCount, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ValueCount
	for rows.Next() {
		var v ValueCount
		var first, last int64
		if err := rows.Scan(&v.Value, &v.Count, &first, &last); err != nil {
			return nil, err
		}
		v.FirstSeen, v.LastSeen = fromMillis(first), fromMillis(last)
		out = append(out, v)
	}
	return out, rows.Err()
}
