package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stacklens/stacklens/event"
)

// IssuesCrashFrames returns, per issue, the crash site of its latest stored
// event — the last in-app frame of its first exception, else its last frame
// — with the frame's current resolution applied, so a row of the issue list
// can say where the error happens. Issues without a stored event or frame
// are left out.
func (d *DB) IssuesCrashFrames(ctx context.Context, projectID int64, ids []int64) (map[int64]event.Frame, error) {
	out := map[int64]event.Frame{}
	if len(ids) == 0 {
		return out, nil
	}
	latest, err := d.latestEventOfIssues(ctx, projectID, ids)
	if err != nil {
		return nil, fmt.Errorf("load crash frames: %w", err)
	}
	issueOf := map[int64]int64{} // event id -> issue, for the events not cached
	var missing []any
	for issue, eventID := range latest {
		if f, ok := d.crashFrames.Get(eventID); ok {
			out[issue] = f
			continue
		}
		issueOf[eventID] = issue
		missing = append(missing, eventID)
	}
	if len(missing) > 0 {
		// From plain JSON data SQLite reads only the one frame; compressed
		// data (events stored since migration 0018) comes back whole and is
		// read here.
		rows, err := d.read.QueryContext(ctx, `SELECT e.id, `+d.dialect.sql.crashFrame+` FROM events e
			WHERE e.id IN (?`+strings.Repeat(",?", len(missing)-1)+`)`, missing...)
		if err != nil {
			return nil, fmt.Errorf("load crash frames: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var eventID int64
			var frame, packed []byte
			if err := rows.Scan(&eventID, &frame, &packed); err != nil {
				return nil, fmt.Errorf("load crash frames: %w", err)
			}
			var f event.Frame
			switch {
			case len(frame) > 0:
				if json.Unmarshal(frame, &f) != nil {
					continue
				}
			case len(packed) > 0:
				var ok bool
				if f, ok = d.crashFrame(packed); !ok {
					continue
				}
			default:
				continue
			}
			d.crashFrames.Put(eventID, f, frameBytes(f))
			out[issueOf[eventID]] = f
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load crash frames: %w", err)
		}
	}
	var rawIDs []string
	for _, f := range out {
		if f.RawID != "" {
			rawIDs = append(rawIDs, f.RawID)
		}
	}
	current, err := d.FrameResolutions(ctx, projectID, rawIDs)
	if err != nil {
		return nil, err
	}
	for id, f := range out {
		if r, ok := current[f.RawID]; ok {
			f.Resolution = &r // on the copy: the cached frame keeps the stored one
			out[id] = f
		}
	}
	return out, nil
}

// latestEventOfIssues tells the id of each issue's latest stored event
// (through events_issue_time); issues without one are left out.
func (d *DB) latestEventOfIssues(ctx context.Context, projectID int64, ids []int64) (map[int64]int64, error) {
	args := make([]any, 0, len(ids)+1)
	args = append(args, projectID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := d.read.QueryContext(ctx, `SELECT i.id, (SELECT id FROM events WHERE issue_id = i.id ORDER BY timestamp DESC, id DESC LIMIT 1)
		FROM issues i WHERE i.project_id = ? AND i.id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	latest := make(map[int64]int64, len(ids))
	for rows.Next() {
		var issue int64
		var eventID sql.NullInt64
		if err := rows.Scan(&issue, &eventID); err != nil {
			return nil, err
		}
		if eventID.Valid {
			latest[issue] = eventID.Int64
		}
	}
	return latest, rows.Err()
}

// frameBytes is about what a cached frame holds.
func frameBytes(f event.Frame) int64 {
	n := 256 + len(f.RawID) + len(f.Filename) + len(f.AbsPath) + len(f.Function) + len(f.Module) + len(f.ContextLine)
	for _, l := range f.PreContext {
		n += len(l)
	}
	for _, l := range f.PostContext {
		n += len(l)
	}
	if r := f.Resolution; r != nil {
		n += 128 + len(r.Name) + len(r.Source) + len(r.SymbolSetRef)
	}
	return int64(n)
}

// crashFrame is the crash site of a compressed stored event, as the query
// of IssuesCrashFrames picks it from plain JSON: the last in-app frame of
// its first exception, else its last frame.
func (d *DB) crashFrame(packed []byte) (event.Frame, bool) {
	data, err := d.unpackBlob(packed)
	if err != nil {
		return event.Frame{}, false
	}
	var doc struct {
		Exceptions []struct {
			Frames []event.Frame `json:"frames"`
		} `json:"exception_list"`
	}
	if json.Unmarshal(data, &doc) != nil || len(doc.Exceptions) == 0 || len(doc.Exceptions[0].Frames) == 0 {
		return event.Frame{}, false
	}
	frames := doc.Exceptions[0].Frames
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].InApp {
			return frames[i], true
		}
	}
	return frames[len(frames)-1], true
}
