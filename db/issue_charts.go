package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Buckets are n consecutive time spans of one width starting at Start.
type Buckets struct {
	Start time.Time
	Step  time.Duration
	N     int
}

// End is where the last bucket ends.
func (b Buckets) End() time.Time { return b.Start.Add(time.Duration(b.N) * b.Step) }

// BucketsEndingAt is n buckets of width step, the last one holding now;
// bucket edges fall on multiples of step (whole hours, UTC days).
func BucketsEndingAt(now time.Time, step time.Duration, n int) Buckets {
	end := now.UTC().Truncate(step).Add(step)
	return Buckets{Start: end.Add(-time.Duration(n) * step), Step: step, N: n}
}

// IssueOccurrences counts an issue's stored events (those f keeps) per bucket.
func (d *DB) IssueOccurrences(ctx context.Context, projectID, issueID int64, b Buckets, f EventFilter) ([]int64, error) {
	m, err := d.IssuesOccurrences(ctx, projectID, []int64{issueID}, b, f)
	if err != nil {
		return nil, err
	}
	if counts, ok := m[issueID]; ok {
		return counts, nil
	}
	return make([]int64, b.N), nil
}

// IssuesOccurrences counts the stored events of several issues per bucket
// (the sparklines of a page of the issue list). Issues without events in
// the span are left out of the map. Only events f keeps are counted.
// Unfiltered buckets of whole hours (all the pages use) are added up from
// issue_hourly; the rest count the events.
func (d *DB) IssuesOccurrences(ctx context.Context, projectID int64, ids []int64, b Buckets, f EventFilter) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(ids) == 0 || b.N <= 0 || b.Step <= 0 {
		return out, nil
	}
	if b.byHours() && !f.Any() {
		return d.issuesOccurrencesHourly(ctx, projectID, ids, b)
	}
	start, step := millis(b.Start), b.Step.Milliseconds()
	args := []any{start, step, projectID, start, millis(b.End())}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	cond, condArgs := f.where(d.dialect.sql)
	args = append(args, condArgs...)
	rows, err := d.read.QueryContext(ctx, `SELECT issue_id, (timestamp - ?) / ? AS bucket, count(*) FROM events
		WHERE project_id = ? AND timestamp >= ? AND timestamp < ? AND issue_id IN (`+strings.Join(marks, ",")+`)`+cond+`
		GROUP BY issue_id, bucket`, args...)
	if err != nil {
		return nil, fmt.Errorf("count occurrences: %w", err)
	}
	return scanBuckets(rows, b.N, out)
}

// scanBuckets reads (issue id, bucket, count) rows into per-issue counts of
// n buckets, leaving out buckets outside 0..n-1.
func scanBuckets(rows *sql.Rows, n int, out map[int64][]int64) (map[int64][]int64, error) {
	defer rows.Close()
	for rows.Next() {
		var id, bucket, count int64
		if err := rows.Scan(&id, &bucket, &count); err != nil {
			return nil, fmt.Errorf("count occurrences: %w", err)
		}
		if bucket < 0 || bucket >= int64(n) {
			continue
		}
		if out[id] == nil {
			out[id] = make([]int64, n)
		}
		out[id][bucket] = count
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count occurrences: %w", err)
	}
	return out, nil
}
