package db

import (
	"context"
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
	marks := make([]string, len(ids))
	args := []any{projectID}
	for i, id := range ids {
		marks[i] = "?"
		args = append(args, id)
	}
	// The latest event comes from events_issue_time. From plain JSON data
	// SQLite reads only the one frame; compressed data (events stored since
	// migration 0018) comes back whole and is read here.
	rows, err := d.read.QueryContext(ctx, `SELECT i.id, `+d.dialect.sql.crashFrame+`
		FROM issues i JOIN events e ON e.id = (SELECT id FROM events WHERE issue_id = i.id ORDER BY timestamp DESC, id DESC LIMIT 1)
		WHERE i.project_id = ? AND i.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load crash frames: %w", err)
	}
	defer rows.Close()
	var rawIDs []string
	for rows.Next() {
		var id int64
		var frame, packed []byte
		if err := rows.Scan(&id, &frame, &packed); err != nil {
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
		out[id] = f
		if f.RawID != "" {
			rawIDs = append(rawIDs, f.RawID)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load crash frames: %w", err)
	}
	current, err := d.FrameResolutions(ctx, projectID, rawIDs)
	if err != nil {
		return nil, err
	}
	for id, f := range out {
		if r, ok := current[f.RawID]; ok {
			f.Resolution = &r
			out[id] = f
		}
	}
	return out, nil
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
