package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ProjectRetention is a project's own retention settings; nil fields use
// the server's defaults, 0 keeps forever.
type ProjectRetention struct {
	ProjectID         int64
	EventDays         *int64
	MaxEventsPerIssue *int64
	SymbolSetDays     *int64
}

func nullableInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// ProjectRetention reads one project's retention settings.
func (d *DB) ProjectRetention(ctx context.Context, projectID int64) (ProjectRetention, error) {
	r := ProjectRetention{ProjectID: projectID}
	var days, perIssue, sets sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT retention_event_days, retention_max_events_per_issue, retention_symbol_set_days
		FROM projects WHERE id = ?`, projectID).Scan(&days, &perIssue, &sets)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read retention of project %d: %w", projectID, err)
	}
	r.EventDays, r.MaxEventsPerIssue, r.SymbolSetDays = nullableInt(days), nullableInt(perIssue), nullableInt(sets)
	return r, nil
}

// ProjectsRetention reads every project's retention settings, oldest project first.
func (d *DB) ProjectsRetention(ctx context.Context) ([]ProjectRetention, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT id, retention_event_days, retention_max_events_per_issue, retention_symbol_set_days
		FROM projects ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read retention settings: %w", err)
	}
	defer rows.Close()
	var out []ProjectRetention
	for rows.Next() {
		var r ProjectRetention
		var days, perIssue, sets sql.NullInt64
		if err := rows.Scan(&r.ProjectID, &days, &perIssue, &sets); err != nil {
			return nil, fmt.Errorf("read retention settings: %w", err)
		}
		r.EventDays, r.MaxEventsPerIssue, r.SymbolSetDays = nullableInt(days), nullableInt(perIssue), nullableInt(sets)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetProjectRetention stores a project's own retention settings.
func (d *DB) SetProjectRetention(ctx context.Context, r ProjectRetention) error {
	res, err := d.write.ExecContext(ctx, `UPDATE projects SET retention_event_days = ?, retention_max_events_per_issue = ?,
		retention_symbol_set_days = ? WHERE id = ?`, r.EventDays, r.MaxEventsPerIssue, r.SymbolSetDays, r.ProjectID)
	if err != nil {
		return fmt.Errorf("save retention of project %d: %w", r.ProjectID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// IssuesWithEventsBefore lists a project's issues that may hold events older
// than before (their first event is older), for retention by age.
func (d *DB) IssuesWithEventsBefore(ctx context.Context, projectID int64, before time.Time) ([]int64, error) {
	return d.issueIDs(ctx, "SELECT id FROM issues WHERE project_id = ? AND first_seen < ? ORDER BY id", projectID, millis(before))
}

// IssuesWithMoreOccurrences lists a project's issues that have seen more
// than n events, the only ones that can hold more than n.
func (d *DB) IssuesWithMoreOccurrences(ctx context.Context, projectID, n int64) ([]int64, error) {
	return d.issueIDs(ctx, "SELECT id FROM issues WHERE project_id = ? AND occurrences > ? ORDER BY id", projectID, n)
}

func (d *DB) issueIDs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list issues for retention: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list issues for retention: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// DeleteIssueEventsBefore deletes up to limit of an issue's events whose
// timestamp is before the cutoff, oldest first, in one short transaction,
// and tells how many went. Their event_frames rows go with them (foreign
// key cascade); the issue's counts stay as they are.
func (d *DB) DeleteIssueEventsBefore(ctx context.Context, issueID int64, before time.Time, limit int) (int64, error) {
	res, err := d.write.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events
		WHERE issue_id = ? AND timestamp < ? ORDER BY timestamp, id LIMIT ?)`, issueID, millis(before), limit)
	if err != nil {
		return 0, fmt.Errorf("delete old events of issue %d: %w", issueID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteIssueEventsOverCap deletes up to limit of an issue's oldest events
// beyond its keep newest, in one short transaction, and tells how many went.
func (d *DB) DeleteIssueEventsOverCap(ctx context.Context, issueID, keep int64, limit int) (int64, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("cap events of issue %d: %w", issueID, err)
	}
	defer tx.Rollback()
	// The newest event past the cap: it and everything older goes.
	var ts, id int64
	err = tx.QueryRowContext(ctx, `SELECT timestamp, id FROM events WHERE issue_id = ?
		ORDER BY timestamp DESC, id DESC LIMIT 1 OFFSET ?`, issueID, keep).Scan(&ts, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cap events of issue %d: %w", issueID, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events
		WHERE issue_id = ? AND (timestamp < ? OR (timestamp = ? AND id <= ?)) ORDER BY timestamp, id LIMIT ?)`,
		issueID, ts, ts, id, limit)
	if err != nil {
		return 0, fmt.Errorf("cap events of issue %d: %w", issueID, err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("cap events of issue %d: %w", issueID, err)
	}
	return n, nil
}

// DeleteOrphanFrameResolutions looks at up to limit of a project's frame
// resolutions after raw id `after` (in raw id order) and deletes those
// that tie a frame to a symbol set while no stored event holds that frame
// any more, in one short transaction. It returns how many went and the
// raw id to continue after; "" when the end was reached.
//
// Resolutions without a symbol set (frames that had no reference) are
// kept: events do not record which of those they hold, and a page falls
// back on the resolution stored in the event anyway.
func (d *DB) DeleteOrphanFrameResolutions(ctx context.Context, projectID int64, after string, limit int) (deleted int64, next string, err error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, "", fmt.Errorf("delete unused frame resolutions: %w", err)
	}
	defer tx.Rollback()
	var last sql.NullString
	var seen int
	if err := tx.QueryRowContext(ctx, `SELECT max(raw_id), count(*) FROM (SELECT raw_id FROM frame_resolutions
		WHERE project_id = ? AND raw_id > ? ORDER BY raw_id LIMIT ?) page`, projectID, after, limit).Scan(&last, &seen); err != nil {
		return 0, "", fmt.Errorf("delete unused frame resolutions: %w", err)
	}
	if !last.Valid {
		return 0, "", nil
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM frame_resolutions WHERE project_id = ? AND raw_id > ? AND raw_id <= ?
		AND (symbol_set_id IS NOT NULL OR coalesce(`+tx.statements().jsonField("resolution", true, "symbol_set_ref")+`, '') != '')
		AND NOT EXISTS (SELECT 1 FROM event_frames ef WHERE ef.project_id = frame_resolutions.project_id AND ef.raw_id = frame_resolutions.raw_id)`,
		projectID, after, last.String)
	if err != nil {
		return 0, "", fmt.Errorf("delete unused frame resolutions: %w", err)
	}
	deleted, _ = res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, "", fmt.Errorf("delete unused frame resolutions: %w", err)
	}
	if seen < limit {
		return deleted, "", nil
	}
	return deleted, last.String, nil
}

// DeleteUnusedSymbolSets deletes up to limit of a project's symbol sets
// that nothing used since before (last_used_at, else when it was last
// stored or its failure recorded), that no frame resolution refers to (so
// never one a kept event's frames still need) and that no unfinished
// upload is waiting for, in one short transaction. It returns their ids.
func (d *DB) DeleteUnusedSymbolSets(ctx context.Context, projectID int64, before time.Time, limit int) ([]int64, error) {
	now := millis(time.Now())
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("delete unused symbol sets: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `DELETE FROM symbol_sets WHERE id IN (SELECT s.id FROM symbol_sets s
		WHERE s.project_id = ? AND coalesce(s.last_used_at, s.updated_at) < ?
		AND NOT EXISTS (SELECT 1 FROM frame_resolutions fr WHERE fr.symbol_set_id = s.id)
		AND NOT EXISTS (SELECT 1 FROM symbol_set_uploads u WHERE u.symbol_set_id = s.id AND u.expires_at > ?)
		ORDER BY s.id LIMIT ?) RETURNING id`, projectID, millis(before), now, limit)
	if err != nil {
		return nil, fmt.Errorf("delete unused symbol sets: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("delete unused symbol sets: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete unused symbol sets: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if err := countSymbolSetDeletions(ctx, tx); err != nil {
		return nil, fmt.Errorf("delete unused symbol sets: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("delete unused symbol sets: %w", err)
	}
	return ids, nil
}
