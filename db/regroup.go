package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// EventIDsWithFrame lists, in ascending order, up to limit ids of the stored
// events that hold the frame rawID and come after the event afterID: resolving
// a symbol set again reads its events in pages, so memory stays bounded
// however many there are.
func (d *DB) EventIDsWithFrame(ctx context.Context, projectID int64, rawID string, afterID int64, limit int) ([]int64, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT event_id FROM event_frames WHERE project_id = ? AND raw_id = ? AND event_id > ?
		ORDER BY event_id LIMIT ?`, projectID, rawID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("events with frame %s: %w", rawID, err)
	}
	defer rows.Close()
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("events with frame %s: %w", rawID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events with frame %s: %w", rawID, err)
	}
	return ids, nil
}

// StoredEventsByID loads a project's events by id (at most 500 at once),
// in id order; ids that name no event are left out.
func (d *DB) StoredEventsByID(ctx context.Context, projectID int64, ids []int64) ([]StoredEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > 500 {
		return nil, fmt.Errorf("load %d events by id: at most 500 at once", len(ids))
	}
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		args = append(args, id)
	}
	// By id alone: with the project in the condition too, SQLite scans the
	// project's (project_id, uuid) index instead. The project is checked here.
	rows, err := d.read.QueryContext(ctx, "SELECT project_id, "+storedEventColumns+" FROM events WHERE id IN (?"+
		strings.Repeat(",?", len(ids)-1)+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("load events by id: %w", err)
	}
	defer rows.Close()
	out := make([]StoredEvent, 0, len(ids))
	for rows.Next() {
		var project int64
		e, err := d.scanStoredEvent(scanAfter{rows, &project})
		if err != nil {
			return nil, fmt.Errorf("load events by id: %w", err)
		}
		if project == projectID {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load events by id: %w", err)
	}
	return out, nil
}

// scanAfter scans a row's first column into first, the others as asked.
type scanAfter struct {
	rows  *sql.Rows
	first any
}

func (s scanAfter) Scan(dest ...any) error { return s.rows.Scan(append([]any{s.first}, dest...)...) }

// EventRegroup is what resolving a stored event's frames again changed: its
// fingerprint ("" when it stays), and the searchable terms it holds now.
type EventRegroup struct {
	EventID     int64
	Fingerprint string
	SearchTerms []string
}

// Regrouped is where an event is after RegroupEvents.
type Regrouped struct {
	IssueID int64
	// Merged says the event's issue was merged into the issue that already
	// owned its new fingerprint.
	Merged bool
}

// RegroupEvents, in one transaction and in order, gives each event its new
// fingerprint (when it has one: if another issue already owns it, the
// event's issue is merged into that one, so an issue is never left split
// across fingerprints that now mean the same error; otherwise the issue
// gains the fingerprint) and adds its terms to its issue's search text.
func (d *DB) RegroupEvents(ctx context.Context, projectID int64, events []EventRegroup) ([]Regrouped, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("regroup events: %w", err)
	}
	defer tx.Rollback()
	out := make([]Regrouped, len(events))
	added := map[string]bool{} // issue and terms already added in this transaction
	for i, ev := range events {
		var r Regrouped
		if ev.Fingerprint != "" {
			r.IssueID, r.Merged, err = regroupTx(ctx, tx, projectID, ev.EventID, ev.Fingerprint)
		} else {
			r.IssueID, err = eventIssueTx(ctx, tx, projectID, ev.EventID)
		}
		if err != nil {
			return nil, err
		}
		// Events of one issue mostly hold the same names: adding them again changes nothing.
		key := strconv.FormatInt(r.IssueID, 10) + "\x00" + strings.Join(ev.SearchTerms, "\x00")
		if !added[key] {
			added[key] = true
			if err := addSearchTermsTx(ctx, tx, projectID, r.IssueID, ev.SearchTerms); err != nil {
				return nil, err
			}
		}
		out[i] = r
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("regroup events: %w", err)
	}
	return out, nil
}
