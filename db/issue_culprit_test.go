package db

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stacklens/stacklens/event"
)

// crashEvent is a stored event of its own issue whose first exception has
// frames (oldest call first), and a second exception whose frames must not count.
func crashEvent(t testing.TB, uuid string, at time.Time, frames []event.Frame) NewEvent {
	t.Helper()
	ev := event.Event{UUID: uuid, Timestamp: at, Exceptions: []event.Exception{
		{Type: "TypeError", Value: "x is undefined", Frames: frames},
		{Type: "Cause", Value: "ignored", Frames: []event.Frame{{RawID: "cause", Filename: "cause.js", InApp: true}}},
	}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return NewEvent{ProjectID: 1, UUID: uuid, Fingerprint: "fp-" + uuid, IssueName: "TypeError",
		Timestamp: at, ReceivedAt: at, Data: data, Raw: data}
}

func TestIssuesCrashFramesIsTheLastInAppFrameOfTheLatestEvent(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	vendor := event.Frame{RawID: "v", Filename: "vendor.js", Lineno: 1}
	app := event.Frame{RawID: "a", Filename: "app.js", Lineno: 10, InApp: true}
	app2 := event.Frame{RawID: "b", Filename: "app.js", Lineno: 20, InApp: true}
	events := []NewEvent{
		crashEvent(t, "in-app", t0, []event.Frame{app, app2, vendor}), // the last in-app frame, not the last frame
		crashEvent(t, "no-in-app", t0, []event.Frame{vendor, {RawID: "w", Filename: "lib.js", Lineno: 2}}),
		crashEvent(t, "no-frames", t0, nil),
	}
	// A later event of the first issue decides it: the latest event's frame.
	later := crashEvent(t, "in-app-later", t0.Add(time.Minute), []event.Frame{app})
	later.Fingerprint = events[0].Fingerprint
	older := crashEvent(t, "in-app-older", t0.Add(-time.Minute), []event.Frame{app2})
	older.Fingerprint = events[0].Fingerprint
	stored, err := d.StoreBatch(ctx, append(events, later, older), nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{stored[0].IssueID, stored[1].IssueID, stored[2].IssueID}
	got, err := d.IssuesCrashFrames(ctx, 1, ids)
	if err != nil {
		t.Fatal(err)
	}
	if f := got[ids[0]]; f.RawID != "a" || f.Lineno != 10 {
		t.Errorf("issue with in-app frames: crash frame %+v, want app.js:10 of its latest event", f)
	}
	if f := got[ids[1]]; f.RawID != "w" {
		t.Errorf("issue without in-app frames: crash frame %+v, want its last frame lib.js", f)
	}
	if f, ok := got[ids[2]]; ok {
		t.Errorf("issue without frames has crash frame %+v", f)
	}
	// The frame's current resolution is applied.
	res := event.Resolution{Resolved: true, Source: "src/app.ts", Line: 3, Column: 4, SymbolSetRef: "app.js"}
	if err := d.SaveFrameResolutions(ctx, 1, []event.Frame{{RawID: "a", Resolution: &res}}); err != nil {
		t.Fatal(err)
	}
	got, err = d.IssuesCrashFrames(ctx, 1, ids[:1])
	if err != nil {
		t.Fatal(err)
	}
	if f := got[ids[0]]; f.Resolution == nil || f.Resolution.Source != "src/app.ts" {
		t.Errorf("crash frame after resolving: %+v, want src/app.ts", f)
	}
}

// BenchmarkIssuesCrashFrames is one issue-list page: the crash sites of 50
// issues whose latest events have 30 frames with some context each.
func BenchmarkIssuesCrashFrames(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if _, err := d.EnsureDefaultProject(ctx, "phc_bench", "phc_generated"); err != nil {
		b.Fatal(err)
	}
	var events []NewEvent
	for i := range 50 {
		frames := make([]event.Frame, 30)
		for j := range frames {
			frames[j] = event.Frame{RawID: fmt.Sprintf("r%d-%d", i, j), Filename: "https://example.com/static/app.min.js",
				Function: "handler", Lineno: 1, Colno: 1000 + j, InApp: j%3 == 0,
				ContextLine: "function handler(event) { return process(event.detail); }",
				PreContext:  []string{"// one", "// two", "// three"}, PostContext: []string{"// four", "// five"}}
		}
		for k := range 3 {
			events = append(events, crashEvent(b, fmt.Sprintf("e%d-%d", i, k), time.Now().Add(time.Duration(k)*time.Second), frames))
			events[len(events)-1].Fingerprint = fmt.Sprintf("fp%d", i)
		}
	}
	stored, err := d.StoreBatch(ctx, events, nil)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for i := 0; i < len(stored); i += 3 {
		ids = append(ids, stored[i].IssueID)
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := d.IssuesCrashFrames(ctx, 1, ids)
		if err != nil || len(got) != 50 {
			b.Fatalf("%d crash frames, %v", len(got), err)
		}
	}
}
