package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// EventSummary is one line of an issue's event list.
type EventSummary struct {
	ID         int64
	UUID       string
	Timestamp  time.Time
	URL        string
	DistinctID string
	Release    string
	Browser    string
	OS         string
}

// EventCursor marks a position in an issue's events, newest first.
type EventCursor struct {
	Timestamp time.Time
	ID        int64
}

// IssueEventSummaries lists an issue's events newest first, limit at a time,
// starting after the cursor when one is given; more tells whether older
// events exist beyond the page. Only events f keeps are listed.
func (d *DB) IssueEventSummaries(ctx context.Context, projectID, issueID int64, after *EventCursor, limit int, f EventFilter) (list []EventSummary, more bool, err error) {
	if limit <= 0 || limit > 200 {
		limit = 25
	}
	cond, condArgs := f.where(d.dialect.sql)
	where, args := "project_id = ? AND issue_id = ?"+cond, append([]any{projectID, issueID}, condArgs...)
	if after != nil {
		ts := millis(after.Timestamp)
		where += " AND (timestamp < ? OR (timestamp = ? AND id < ?))"
		args = append(args, ts, ts, after.ID)
	}
	args = append(args, limit+1)
	rows, err := d.read.QueryContext(ctx, `SELECT id, uuid, timestamp, url, distinct_id, release, browser, os FROM events
		WHERE `+where+` ORDER BY timestamp DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list events of issue %d: %w", issueID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e EventSummary
		var ts int64
		if err := rows.Scan(&e.ID, &e.UUID, &ts, &e.URL, &e.DistinctID, &e.Release, &e.Browser, &e.OS); err != nil {
			return nil, false, fmt.Errorf("list events of issue %d: %w", issueID, err)
		}
		e.Timestamp = fromMillis(ts)
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list events of issue %d: %w", issueID, err)
	}
	if len(list) > limit {
		list, more = list[:limit], true
	}
	return list, more, nil
}

const storedEventColumns = "id, issue_id, uuid, fingerprint, timestamp, received_at, distinct_id, data, raw"

func (d *DB) scanStoredEvent(row interface{ Scan(...any) error }) (StoredEvent, error) {
	var e StoredEvent
	var ts, received int64
	if err := row.Scan(&e.ID, &e.IssueID, &e.UUID, &e.Fingerprint, &ts, &received, &e.DistinctID, &e.Data, &e.Raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return StoredEvent{}, ErrNotFound
		}
		return StoredEvent{}, err
	}
	e.Timestamp, e.ReceivedAt = fromMillis(ts), fromMillis(received)
	if err := d.unpackStored(&e); err != nil {
		return StoredEvent{}, fmt.Errorf("event %s: %w", e.UUID, err)
	}
	return e, nil
}

// IssueEvent loads one event of an issue by its uuid.
func (d *DB) IssueEvent(ctx context.Context, projectID, issueID int64, uuid string) (StoredEvent, error) {
	e, err := d.scanStoredEvent(d.read.QueryRowContext(ctx, "SELECT "+storedEventColumns+
		" FROM events WHERE project_id = ? AND issue_id = ? AND uuid = ?", projectID, issueID, uuid))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return StoredEvent{}, fmt.Errorf("load event %s: %w", uuid, err)
	}
	return e, err
}

// EventNeighbors are the uuids to step through an issue's events from one
// of them; each is empty when it would be the event itself.
type EventNeighbors struct {
	First    string // the oldest
	Previous string // the next older
	Next     string // the next newer
	Latest   string // the newest
}

// IssueEventNeighbors finds the events around e in its issue (by time, then
// id), among those f keeps.
func (d *DB) IssueEventNeighbors(ctx context.Context, projectID, issueID int64, e StoredEvent, f EventFilter) (EventNeighbors, error) {
	var n EventNeighbors
	cond, condArgs := f.where(d.dialect.sql)
	ts := millis(e.Timestamp)
	queries := []struct {
		into  *string
		where string
		order string
	}{
		{&n.First, "", "timestamp ASC, id ASC"},
		{&n.Previous, "(timestamp < ? OR (timestamp = ? AND id < ?))", "timestamp DESC, id DESC"},
		{&n.Next, "(timestamp > ? OR (timestamp = ? AND id > ?))", "timestamp ASC, id ASC"},
		{&n.Latest, "", "timestamp DESC, id DESC"},
	}
	for _, q := range queries {
		args := append([]any{projectID, issueID}, condArgs...)
		where := cond
		if q.where != "" {
			where += " AND " + q.where
			args = append(args, ts, ts, e.ID)
		}
		var uuid string
		err := d.read.QueryRowContext(ctx, "SELECT uuid FROM events WHERE project_id = ? AND issue_id = ?"+where+
			" ORDER BY "+q.order+" LIMIT 1", args...).Scan(&uuid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return EventNeighbors{}, fmt.Errorf("events around %s: %w", e.UUID, err)
		}
		if uuid != e.UUID {
			*q.into = uuid
		}
	}
	return n, nil
}

// LatestIssueEvent is the newest of an issue's stored events that f keeps;
// ErrNotFound when there is none.
func (d *DB) LatestIssueEvent(ctx context.Context, projectID, issueID int64, f EventFilter) (StoredEvent, error) {
	cond, condArgs := f.where(d.dialect.sql)
	e, err := d.scanStoredEvent(d.read.QueryRowContext(ctx, "SELECT "+storedEventColumns+" FROM events WHERE project_id = ? AND issue_id = ?"+cond+
		" ORDER BY timestamp DESC, id DESC LIMIT 1", append([]any{projectID, issueID}, condArgs...)...))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return StoredEvent{}, fmt.Errorf("latest event of issue %d: %w", issueID, err)
	}
	return e, err
}
