package db

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/event"
)

// TestEventsStoredBeforeAndAfterCompressionReadTheSame: a database with
// events stored as plain JSON (before migration 0018) gets compressed events
// beside them; filters, a merge's recount, crash sites and reading events
// back treat both alike.
func TestEventsStoredBeforeAndAfterCompressionReadTheSame(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	w := openAtVersion(t, path, 13) // migration 0014 counts the old event's environment and tags
	now := time.Now().Truncate(time.Millisecond)
	mustExec(t, w, "INSERT INTO projects(id, name, token, created_at) VALUES (1, 'One', 'phc_one', ?)", now.UnixMilli())
	mustExec(t, w, `INSERT INTO issues(id, project_id, name, description, status, first_seen, last_seen, occurrences, created_at, updated_at)
		VALUES (1, 1, 'E', '', 'active', ?, ?, 1, ?, ?)`, now.UnixMilli(), now.UnixMilli(), now.UnixMilli(), now.UnixMilli())
	mustExec(t, w, "INSERT INTO issue_fingerprints(project_id, fingerprint, issue_id, created_at) VALUES (1, 'old', 1, ?)", now.UnixMilli())
	oldData := `{"uuid":"old-1","exception_list":[{"type":"E","value":"v","frames":[{"raw_id":"old-frame","filename":"old.js","in_app":true},{"raw_id":"vendor","filename":"v.js","in_app":false}]}],` +
		`"environment":"production","tags":{"route":"/cart"},"properties":{"plan":"pro"}}`
	mustExec(t, w, `INSERT INTO events(project_id, issue_id, uuid, fingerprint, timestamp, received_at, data, raw)
		VALUES (1, 1, 'old-1', 'old', ?, ?, ?, '{}')`, now.Add(-time.Hour).UnixMilli(), now.UnixMilli(), []byte(oldData))
	w.Close()
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()

	ev := event.Event{UUID: "new-1", Timestamp: now, Environment: "staging", Tags: map[string]string{"route": "/checkout"},
		Exceptions: []event.Exception{{Type: "E", Value: "v", Frames: []event.Frame{
			{RawID: "new-frame", Filename: "new.js", InApp: true, Function: "checkout"},
			{RawID: "lib", Filename: "lib.js"},
		}}}}
	raw := []byte(`{"uuid":"new-1","properties":{"plan":"team","$exception_list":[]}}`)
	data, err := event.EncodeStored(ev, true)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := d.StoreBatch(ctx, []NewEvent{{ProjectID: 1, UUID: "new-1", Fingerprint: "new", IssueName: "E", Timestamp: now, ReceivedAt: now,
		Environment: ev.Environment, Tags: ev.Tags, Data: data, Raw: raw}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	newIssue := stored[0].IssueID
	var packedData, packedRaw []byte
	if err := d.write.QueryRow("SELECT data, raw FROM events WHERE uuid = 'new-1'").Scan(&packedData, &packedRaw); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(packedData, zstdMagic) || !bytes.HasPrefix(packedRaw, zstdMagic) {
		t.Errorf("the new event's data and raw are not stored compressed: %.20q %.20q", packedData, packedRaw)
	}

	frames, err := d.IssuesCrashFrames(ctx, 1, []int64{1, newIssue})
	if err != nil {
		t.Fatal(err)
	}
	if frames[1].RawID != "old-frame" || frames[newIssue].RawID != "new-frame" || frames[newIssue].Function != "checkout" {
		t.Errorf("crash frames: old issue %+v, new issue %+v", frames[1], frames[newIssue])
	}
	for _, c := range []struct {
		q    IssueQuery
		want []int64
	}{
		{IssueQuery{Environment: "production"}, []int64{1}},
		{IssueQuery{Environment: "staging"}, []int64{newIssue}},
		{IssueQuery{TagKey: "route", TagValue: "/cart"}, []int64{1}},
		{IssueQuery{TagKey: "route", TagValue: "/checkout"}, []int64{newIssue}},
		{IssueQuery{TagKey: "route"}, []int64{newIssue, 1}},
	} {
		if got := listIDs(t, d, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.q, got, c.want)
		}
	}

	// Merged, the issue counts both events' environments and tags again.
	if _, err := d.MergeIssuesBy(ctx, 1, 1, []int64{newIssue}, "dev@test"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{ValueEnvironment, TagKey("route")} {
		top, total, err := d.TopValues(ctx, 1, 1, key, 5)
		if err != nil || total != 2 || len(top) != 2 {
			t.Errorf("%s after the merge: %v, total %d (%v)", key, top, total, err)
		}
	}
	counts, err := d.IssuesEventCounts(ctx, 1, []int64{1}, EventFilter{Environment: "staging", TagKey: "route", TagValue: "/checkout"})
	if err != nil || counts[1].Events != 1 {
		t.Errorf("filtered counts after the merge: %+v (%v)", counts, err)
	}

	// Read back, both decode to the event with its properties.
	events, err := d.IssueEvents(ctx, 1, 1, 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("events: %d (%v)", len(events), err)
	}
	props := map[string]string{}
	for _, se := range events {
		got, err := event.DecodeStored(se.Data, se.Raw)
		if err != nil {
			t.Fatalf("%s: %v", se.UUID, err)
		}
		var p struct{ Plan string }
		if err := json.Unmarshal(got.Properties, &p); err != nil {
			t.Errorf("%s: properties %s: %v", se.UUID, got.Properties, err)
		}
		props[se.UUID] = p.Plan
		if len(got.Exceptions) != 1 || !strings.HasSuffix(got.Exceptions[0].Frames[0].Filename, ".js") {
			t.Errorf("%s: exceptions %+v", se.UUID, got.Exceptions)
		}
	}
	if props["old-1"] != "pro" || props["new-1"] != "team" {
		t.Errorf("properties read back: %v", props)
	}
	if string(events[0].Raw) != string(raw) {
		t.Errorf("raw read back: %s", events[0].Raw)
	}
}
