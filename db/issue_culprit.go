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
	// The latest event comes from events_issue_time; SQLite reads only the
	// one frame out of its JSON.
	rows, err := d.read.QueryContext(ctx, `SELECT i.id, (
			SELECT coalesce(
				(SELECT f.value FROM json_each(e.data, '$.exception_list[0].frames') f
					WHERE json_extract(f.value, '$.in_app') = 1 ORDER BY f.key DESC LIMIT 1),
				json_extract(e.data, '$.exception_list[0].frames[#-1]'))
			FROM events e WHERE e.issue_id = i.id ORDER BY e.timestamp DESC, e.id DESC LIMIT 1)
		FROM issues i WHERE i.project_id = ? AND i.id IN (`+strings.Join(marks, ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load crash frames: %w", err)
	}
	defer rows.Close()
	var rawIDs []string
	for rows.Next() {
		var id int64
		var frame []byte
		if err := rows.Scan(&id, &frame); err != nil {
			return nil, fmt.Errorf("load crash frames: %w", err)
		}
		var f event.Frame
		if len(frame) == 0 || json.Unmarshal(frame, &f) != nil {
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
