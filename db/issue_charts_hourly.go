package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

const hourMillis = int64(time.Hour / time.Millisecond)

// hourOf is the start of the hour holding the unix-ms time ts (issue_hourly's key).
func hourOf(ts int64) int64 {
	h := ts / hourMillis * hourMillis
	if h > ts { // before 1970: round down, not toward zero
		h -= hourMillis
	}
	return h
}

// byHours tells whether b's buckets are made of whole hours of issue_hourly.
func (b Buckets) byHours() bool {
	return b.Step%time.Hour == 0 && millis(b.Start)%hourMillis == 0
}

// issuesOccurrencesHourly adds up issue_hourly's counts into b's buckets.
func (d *DB) issuesOccurrencesHourly(ctx context.Context, projectID int64, ids []int64, b Buckets) (map[int64][]int64, error) {
	start, step := millis(b.Start), b.Step.Milliseconds()
	args := []any{start, step, projectID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	args = append(args, start, millis(b.End()))
	rows, err := d.read.QueryContext(ctx, `SELECT h.issue_id, (h.hour - ?) / ? AS bucket, sum(h.count) FROM issue_hourly h
		WHERE h.issue_id IN (SELECT id FROM issues WHERE project_id = ? AND id IN (`+strings.Join(marks, ",")+`))
		AND h.hour >= ? AND h.hour < ? GROUP BY h.issue_id, bucket`, args...)
	if err != nil {
		return nil, fmt.Errorf("count occurrences: %w", err)
	}
	return scanBuckets(rows, b.N, map[int64][]int64{})
}
