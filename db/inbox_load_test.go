package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stacklens/stacklens/internal/testkit"
)

// TestInboxLimitsCountAppendsAndDrains checks the counters against the table
// through append, refusal, drain, reopen and project deletion.
func TestInboxLimitsCountAppendsAndDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnsureDefaultProject(ctx, "phc_test", "phc_generated"); err != nil {
		t.Fatal(err)
	}
	limits := InboxLimits{MaxEvents: 3, MaxBytes: 1000}
	w := d.NewInboxWriter(limits)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	row := func(payload string) InboxRow {
		return InboxRow{ProjectID: 1, Format: "posthog", ReceivedAt: time.Now(), Payload: []byte(payload)}
	}
	if err := w.Append(ctx, []InboxRow{row(`{"n":1}`), row(`{"n":2}`)}); err != nil {
		t.Fatal(err)
	}
	err = w.Append(ctx, []InboxRow{row(`{"n":3}`), row(`{"n":4}`)})
	if r, ok := IsRefused(err); !ok || r.Reason != RefusedInboxFull || r.RetryAfter <= 0 {
		t.Fatalf("append past 3 events: %v, want an inbox_full refusal with a retry time", err)
	}
	if got := d.InboxLoad(); got.Events != 2 || got.Bytes != 14 {
		t.Fatalf("after a refused append the counters say %+v, want 2 events, 14 bytes", got)
	}
	if n, _ := d.CountInbox(ctx); n != 2 {
		t.Fatalf("refused append left %d rows, want 2", n)
	}
	if r := w.Ready(ctx); !r.Ready {
		t.Fatalf("ready with 2 of 3: %+v", r)
	}
	if err := w.Append(ctx, []InboxRow{row(`{"n":3}`)}); err != nil {
		t.Fatal(err)
	}
	if r := w.Ready(ctx); r.Ready || r.Reason != RefusedInboxFull {
		t.Fatalf("ready with a full inbox: %+v, want inbox_full", r)
	}
	// A byte cap applies as well as the event cap (21 bytes wait now).
	byBytes := d.NewInboxWriter(InboxLimits{MaxBytes: 25})
	if r, ok := IsRefused(byBytes.Append(ctx, []InboxRow{row(`{"n":10}`)})); !ok || r.Reason != RefusedInboxFull {
		t.Fatal("append past 25 bytes was not refused")
	}

	// Draining one row (stored) and one (rejected) lowers the counters by exactly those.
	pending, err := d.ClaimInbox(ctx, 10, time.Minute)
	if err != nil || len(pending) != 3 {
		t.Fatalf("pending %d, %v", len(pending), err)
	}
	ev := newEvent(pending[0].ID, "u1", "fp", time.Now())
	if _, err := d.StoreBatch(ctx, []NewEvent{ev}, []RejectedInbox{{Row: pending[1], Err: "bad"}}); err != nil {
		t.Fatal(err)
	}
	// The same rows again (a retried batch) remove nothing more.
	if _, err := d.StoreBatch(ctx, []NewEvent{ev}, nil); err != nil {
		t.Fatal(err)
	}
	if got := d.InboxLoad(); got.Events != 1 || got.Bytes != 7 {
		t.Fatalf("after draining two rows the counters say %+v, want 1 event, 7 bytes", got)
	}
	stop()
	<-done
	d.Close()

	// Reopened, the counters start from the table.
	d, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.InboxLoad(); got.Events != 1 || got.Bytes != 7 {
		t.Fatalf("after reopening the counters say %+v, want 1 event, 7 bytes", got)
	}
	// Deleting the project takes its inbox rows, and the counters follow.
	if _, err := d.write.ExecContext(ctx, "INSERT INTO projects(id, name, token, created_at) VALUES (2, 'other', 'phc_other', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteProject(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := d.InboxLoad(); got.Events != 0 || got.Bytes != 0 {
		t.Fatalf("after deleting the project the counters say %+v, want 0", got)
	}
}

func TestDiskChecks(t *testing.T) {
	testkit.SQLiteOnly(t, "measures the disk under the SQLite file")
	d := openTest(t)
	free, err := d.FreeDiskBytes()
	if err != nil || free == 0 {
		t.Fatalf("free disk: %d, %v", free, err)
	}
	if err := d.CheckDiskWritable(); err != nil {
		t.Fatal(err)
	}
	// A threshold above the real free space refuses appends and readiness.
	w := d.NewInboxWriter(InboxLimits{MinFreeDiskBytes: free * 2})
	err = w.Append(context.Background(), []InboxRow{{ProjectID: 1, Format: "posthog", Payload: []byte("{}")}})
	if r, ok := IsRefused(err); !ok || r.Reason != RefusedDiskLow {
		t.Fatalf("append with too little free disk: %v, want disk_low", err)
	}
	if r := w.Ready(context.Background()); r.Ready || r.Reason != RefusedDiskLow {
		t.Fatalf("readiness with too little free disk: %+v", r)
	}
	// A writer that does not run counts as stuck when the probe gives up
	// (after 5 s; here the caller's context has already ended).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = d.NewInboxWriter(InboxLimits{})
	if r := w.Ready(ctx); r.Ready || r.Reason != "writer_stuck" {
		t.Fatalf("readiness without a running writer: %+v", r)
	}
}
